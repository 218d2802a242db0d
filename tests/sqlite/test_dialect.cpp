// The SQLite dialect's rendering rules, and proof against a real database that each claimed
// feature works there.
#include "sqlite_plugin.hpp"

#include <retort/core/error.hpp>
#include <retort/core/types.hpp>
#include <retort/plugin/loader.hpp>
#include <type_names.hpp>

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace retort;
using retort::test::connect;
using retort::test::sqlite_plugin;

namespace {

std::string quote_id(std::string_view id) {
  std::string out;
  sqlite_plugin().sql_dialect().quote_identifier(out, id);
  return out;
}

// All rows of a one-column integer query.
std::vector<std::int64_t> ints(DriverConnection& c, const std::string& sql) {
  auto stmt = c.prepare(sql);
  std::vector<std::int64_t> out;
  while (stmt->step())
    out.push_back(stmt->is_null(0) ? -999 : stmt->get_int64(0));
  return out;
}

} // namespace

TEST_CASE("the module carries a manifest for the sqlite schemes", "[sqlite][plugin]") {
  const auto manifest = retort::read_plugin_manifest(retort::test::sqlite_plugin_path());
  CHECK(manifest.abi_version == plugin_abi_version);
  CHECK(manifest.abi_tag == RETORT_ABI_TAG);
  CHECK(manifest.kind == PluginKind::dialect);
  CHECK(manifest.name == "sqlite");
  CHECK(manifest.version == "0.1.0");
  CHECK(manifest.schemes == std::vector<std::string>{"sqlite", "sqlite+sqlite3"});
}

TEST_CASE("default pool is static for memory databases and queue for files", "[sqlite][plugin]") {
  const auto& plugin = sqlite_plugin();
  CHECK(plugin.default_pool(Url::parse("sqlite://")) == "static");
  CHECK(plugin.default_pool(Url::parse("sqlite:///:memory:")) == "static");
  CHECK(plugin.default_pool(Url::parse("sqlite:///file::memory:?cache=shared&uri=true")) ==
        "static");
  CHECK(plugin.default_pool(Url::parse("sqlite:///app.db")) == "queue");
  CHECK(plugin.default_pool(Url::parse("sqlite:////var/lib/app.db")) == "queue");
}

TEST_CASE("sqlite dialect rendering rules", "[sqlite][dialect]") {
  const SqlDialect& d = sqlite_plugin().sql_dialect();
  CHECK(d.name() == "sqlite");
  std::string out;
  d.render_placeholder(out, 1);
  d.render_placeholder(out, 7);
  CHECK(out == "??");
  CHECK(d.supports_returning());
  CHECK(d.supports_multi_values_insert());
  CHECK_FALSE(d.supports_ilike());
  CHECK(d.supports_nulls_ordering());
  CHECK(d.supports_full_outer_join());
  CHECK(d.requires_limit_with_offset());
  CHECK(d.max_bound_parameters() == 32766);
}

TEST_CASE("identifiers are quoted when SQLite needs it", "[sqlite][dialect]") {
  CHECK(quote_id("users") == "users");
  CHECK(quote_id("user_id2") == "user_id2");
  CHECK(quote_id("User") == "\"User\"");
  CHECK(quote_id("first name") == "\"first name\"");
  CHECK(quote_id("2fa") == "\"2fa\"");
  CHECK(quote_id("a\"b") == "\"a\"\"b\"");
  CHECK(quote_id("") == "\"\"");
  // Keywords of SQLite beyond the common list, and of the common list.
  CHECK(quote_id("values") == "\"values\"");
  CHECK(quote_id("where") == "\"where\"");
  CHECK(quote_id("order") == "\"order\"");
  CHECK(quote_id("user") == "\"user\"");

  // Every quoted form is accepted by SQLite and names the same table.
  auto c = connect("sqlite://");
  for (std::string name : {"values", "a\"b", "first name", "User", "where", "group"}) {
    std::string q = quote_id(name);
    c->execute("CREATE TABLE " + q + " (" + q + " INTEGER)");
    c->execute("INSERT INTO " + q + " (" + q + ") VALUES (1)");
    CHECK(ints(*c, "SELECT " + q + " FROM " + q) == std::vector<std::int64_t>{1});
    auto stmt = c->prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = ?");
    std::vector<Value> params{Value(name)};
    stmt->bind(params);
    CHECK(stmt->step());
  }
}

TEST_CASE("type names for every SqlType", "[sqlite][dialect]") {
  const SqlDialect& d = sqlite_plugin().sql_dialect();
  CHECK(test::type_names(d) ==
        std::vector<std::string>{"INTEGER", "BIGINT", "SMALLINT", "VARCHAR(50)", "VARCHAR", "TEXT",
                                 "FLOAT", "NUMERIC(10, 2)", "NUMERIC", "BOOLEAN", "DATE",
                                 "DATETIME", "DATETIME", "TIME", "BLOB"});
  for (auto t : {Integer, BigInteger, SmallInteger})
    CHECK(d.autoincrement_type(t) == "INTEGER");
}

TEST_CASE("type names give the intended storage affinity", "[sqlite][dialect]") {
  const SqlDialect& d = sqlite_plugin().sql_dialect();
  auto c = connect("sqlite://");
  c->execute("CREATE TABLE t (i " + d.type_name(BigInteger) + ", f " + d.type_name(Float) + ", s " +
             d.type_name(String(5)) + ", n " + d.type_name(Numeric(10, 2)) + ")");
  // Affinity converts the text literals: integer, real, text kept, numeric.
  c->execute("INSERT INTO t VALUES ('42', '1.5', 123, '7')");
  auto stmt = c->prepare("SELECT typeof(i), typeof(f), typeof(s), typeof(n) FROM t");
  REQUIRE(stmt->step());
  CHECK(stmt->get_text(0) == "integer");
  CHECK(stmt->get_text(1) == "real");
  CHECK(stmt->get_text(2) == "text");
  CHECK(stmt->get_text(3) == "integer");
}

TEST_CASE("autoincrement_type makes a rowid alias, inline or as table PRIMARY KEY",
          "[sqlite][dialect]") {
  const SqlDialect& d = sqlite_plugin().sql_dialect();
  auto c = connect("sqlite://");
  std::string id = d.autoincrement_type(BigInteger);
  c->execute("CREATE TABLE a (id " + id + " PRIMARY KEY, v TEXT)");
  c->execute("CREATE TABLE b (id " + id + " NOT NULL, v TEXT, PRIMARY KEY (id))");
  for (std::string table : {"a", "b"}) {
    c->execute("INSERT INTO " + table + " (v) VALUES ('x'), ('y')");
    CHECK(ints(*c, "SELECT id FROM " + table + " ORDER BY id") == std::vector<std::int64_t>{1, 2});
    CHECK(ints(*c, "SELECT count(*) FROM " + table + " WHERE id = rowid") ==
          std::vector<std::int64_t>{2});
  }
  // Why the dialect never says BIGINT here: that is no rowid alias and stays NULL.
  c->execute("CREATE TABLE big (id BIGINT PRIMARY KEY, v TEXT)");
  c->execute("INSERT INTO big (v) VALUES ('x')");
  CHECK(ints(*c, "SELECT id FROM big") == std::vector<std::int64_t>{-999});
}

TEST_CASE("the features the dialect claims work in the linked SQLite", "[sqlite][dialect]") {
  auto c = connect("sqlite://");
  c->execute("CREATE TABLE l (k INTEGER, v INTEGER); CREATE TABLE r (k INTEGER, w INTEGER);"
             "INSERT INTO l VALUES (1, 10), (2, 20), (NULL, 30);"
             "INSERT INTO r VALUES (2, 200), (3, 300)");
  SECTION("NULLS FIRST / LAST") {
    CHECK(ints(*c, "SELECT k FROM l ORDER BY k NULLS LAST") ==
          std::vector<std::int64_t>{1, 2, -999});
    CHECK(ints(*c, "SELECT k FROM l ORDER BY k DESC NULLS FIRST") ==
          std::vector<std::int64_t>{-999, 2, 1});
  }
  SECTION("FULL OUTER JOIN") {
    CHECK(ints(*c, "SELECT coalesce(l.k, r.k) AS k FROM l FULL OUTER JOIN r ON l.k = r.k "
                   "WHERE coalesce(l.k, r.k) IS NOT NULL ORDER BY 1") ==
          std::vector<std::int64_t>{1, 2, 3});
  }
  SECTION("OFFSET needs LIMIT -1") {
    CHECK(ints(*c, "SELECT v FROM l ORDER BY v LIMIT -1 OFFSET 1") ==
          std::vector<std::int64_t>{20, 30});
    CHECK_THROWS_AS(c->prepare("SELECT v FROM l OFFSET 1"), ProgrammingError);
  }
  SECTION("ILIKE does not exist") {
    CHECK_THROWS_AS(c->prepare("SELECT v FROM l WHERE 'a' ILIKE 'A'"), ProgrammingError);
  }
  SECTION("multi-row VALUES with RETURNING") {
    CHECK(ints(*c, "INSERT INTO r VALUES (4, 400), (5, 500) RETURNING w") ==
          std::vector<std::int64_t>{400, 500});
  }
  SECTION("max_bound_parameters parameters in one statement") {
    std::size_t n = sqlite_plugin().sql_dialect().max_bound_parameters();
    std::string sql = "SELECT 7 IN (?";
    for (std::size_t i = 1; i < n; ++i)
      sql += ", ?";
    sql += ")";
    auto stmt = c->prepare(sql);
    std::vector<Value> params(n, Value(1));
    params.back() = Value(7);
    stmt->bind(params);
    REQUIRE(stmt->step());
    CHECK(stmt->get_int64(0) == 1);
  }
}

TEST_CASE("has_table_sql finds tables and only tables", "[sqlite][dialect]") {
  const SqlDialect& d = sqlite_plugin().sql_dialect();
  auto c = connect("sqlite://");
  c->execute("CREATE TABLE present (x INTEGER); CREATE VIEW a_view AS SELECT 1;"
             "CREATE INDEX an_index ON present (x)");
  auto& stmt = c->cached_statement(d.has_table_sql());
  auto exists = [&stmt](std::string name) {
    std::vector<Value> params{Value(std::move(name))};
    stmt.bind(params);
    bool found = stmt.step();
    stmt.reset();
    return found;
  };
  CHECK(exists("present"));
  CHECK_FALSE(exists("absent"));
  CHECK_FALSE(exists("a_view"));
  CHECK_FALSE(exists("an_index"));
  CHECK_FALSE(exists("PRESENT ' OR 1=1 --"));
}

TEST_CASE("literals rendered for DDL defaults read back as the same values", "[sqlite][dialect]") {
  const SqlDialect& d = sqlite_plugin().sql_dialect();
  auto c = connect("sqlite://");
  Blob blob{std::byte{0}, std::byte{0xab}, std::byte{0x7f}};
  std::vector<Value> values{Value(),       Value(-42), Value(2.5),  Value(3.0),
                            Value("it's"), Value(""),  Value(blob), Value(true)};
  std::string ddl = "CREATE TABLE defaults (id INTEGER PRIMARY KEY";
  for (std::size_t i = 0; i < values.size(); ++i) {
    ddl += ", c" + std::to_string(i) + (i == values.size() - 1 ? " BOOLEAN" : "") + " DEFAULT ";
    d.render_literal(ddl, values[i]);
  }
  ddl += ")";
  c->execute(ddl);
  c->execute("INSERT INTO defaults (id) VALUES (1)");
  auto stmt = c->prepare("SELECT * FROM defaults");
  REQUIRE(stmt->step());
  for (std::size_t i = 0; i < values.size(); ++i) {
    INFO("literal " << values[i].to_display() << " in " << ddl);
    CHECK(stmt->get_value(static_cast<int>(i) + 1) == values[i]);
  }
}

TEST_CASE("ON CONFLICT exists, ALTER TABLE ADD CONSTRAINT does not", "[sqlite][dialect]") {
  const SqlDialect& d = sqlite_plugin().sql_dialect();
  auto c = connect("sqlite://");
  c->execute("CREATE TABLE kv (k TEXT PRIMARY KEY, v INTEGER); CREATE TABLE other (id INTEGER)");
  CHECK(d.supports_on_conflict());
  c->execute("INSERT INTO kv VALUES ('a', 1) ON CONFLICT (k) DO NOTHING;"
             "INSERT INTO kv VALUES ('a', 2) ON CONFLICT (k) DO NOTHING;"
             "INSERT INTO kv VALUES ('b', 1) ON CONFLICT (k) DO UPDATE SET v = excluded.v;"
             "INSERT INTO kv VALUES ('b', 5) ON CONFLICT (k) DO UPDATE SET v = excluded.v");
  CHECK(ints(*c, "SELECT v FROM kv ORDER BY k") == std::vector<std::int64_t>{1, 5});
  CHECK_FALSE(d.supports_alter_add_constraint());
  CHECK_THROWS_AS(c->execute("ALTER TABLE other ADD CONSTRAINT fk FOREIGN KEY (id) "
                             "REFERENCES kv (k)"),
                  ProgrammingError);
}
