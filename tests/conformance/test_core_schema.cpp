// Core conformance, schema: create_all / drop_all, every column type's round trip, defaults
// and constraint violations, foreign key actions. The same cases run on every backend.
#include "test_core_fixture.hpp"

#include <retort/engine/column_traits.hpp>

#include <chrono>
#include <cstddef>
#include <limits>

using namespace retort;
using conformance::engine;
using core_conf::count_rows;
using core_conf::fetch;
using core_conf::Schema;

namespace {

bool exists(Connection& conn, const Table& table) {
  CompiledSql probe = has_table_sql(table, engine().dialect());
  return conn.execute_sql(probe.sql, probe.params).has_row();
}

// The sqlite plugin enables extended result codes; these are sqlite3.h's values.
constexpr int sqlite_constraint_check = 275;
constexpr int sqlite_constraint_foreignkey = 787;
constexpr int sqlite_constraint_notnull = 1299;
constexpr int sqlite_constraint_unique = 2067;

// Asserts the backend's own code for a constraint violation.
void check_code(const IntegrityError& e, const char* sqlstate, int sqlite_code) {
  if (conformance::is_sqlite()) {
    CHECK(e.sqlstate().empty());
    CHECK(e.native_code() == sqlite_code);
  } else {
    CHECK(e.sqlstate() == sqlstate);
  }
}

} // namespace

TEST_CASE("create_all creates parents first and honours checkfirst; drop_all children first",
          "[core][schema]") {
  Schema s;
  // Registered child first: create_all must still create the parent before it.
  Table child(s.md, "core_ddl_child", Column("id", Integer).primary_key(),
              Column("parent_id", Integer).not_null().references("core_ddl_parent.id"));
  Table parent(s.md, "core_ddl_parent", Column("id", Integer).primary_key(),
               Column("name", String(40)).index());
  drop_all(engine(), s.md, true);

  std::vector<std::string> created;
  for (const Table& t : s.md.tables_in_dependency_order())
    created.push_back(t.name());
  REQUIRE(created == std::vector<std::string>{"core_ddl_parent", "core_ddl_child"});

  create_all(engine(), s.md, false);
  {
    auto conn = engine().connect();
    CHECK(exists(conn, parent));
    CHECK(exists(conn, child));
    conn.execute(insert(parent).values({{"id", 1}, {"name", "p"}}));
    conn.execute(insert(child).values({{"id", 1}, {"parent_id", 1}}));
  }
  // checkfirst skips existing tables; without it CREATE TABLE fails on the existing table.
  CHECK_NOTHROW(create_all(engine(), s.md, true));
  CHECK_THROWS_AS(create_all(engine(), s.md, false), ProgrammingError);
  {
    auto conn = engine().connect();
    CHECK(count_rows(conn, child) == 1); // checkfirst did not recreate (and empty) the table
  }

  // The child still references the parent: dropping the parent first would fail on both
  // backends (PostgreSQL: dependent objects; SQLite: the implicit DELETE breaks the key).
  drop_all(engine(), s.md, false);
  {
    auto conn = engine().connect();
    CHECK_FALSE(exists(conn, parent));
    CHECK_FALSE(exists(conn, child));
  }
  CHECK_NOTHROW(drop_all(engine(), s.md, true));
  CHECK_THROWS_AS(drop_all(engine(), s.md, false), ProgrammingError);
}

TEST_CASE("every column type round-trips", "[core][schema][types]") {
  Schema s;
  Table t(s.md, "core_types", Column("id", Integer).primary_key(), Column("i", Integer),
          Column("bi", BigInteger), Column("si", SmallInteger), Column("s", String(40)),
          Column("tx", Text), Column("f", Float), Column("n", Numeric(10, 2)), Column("b", Boolean),
          Column("d", Date), Column("dt", DateTime), Column("tm", Time),
          Column("bin", LargeBinary));
  s.create();
  auto conn = engine().connect();

  using namespace std::chrono;
  const SqlDate date = sys_days(year(2024) / February / 29);
  const SqlDateTime stamp = sys_days(year(1999) / December / 31) + hours(23) + minutes(59) +
                            seconds(58) + microseconds(123456);
  const SqlTime time = hours(13) + minutes(45) + seconds(6) + microseconds(500000);
  const Blob bytes{std::byte{0x00}, std::byte{0xff}, std::byte{0x27},
                   std::byte{0x00}, std::byte{0x5c}, std::byte{0x80}};
  const std::string unicode = "héllo ✓ 'quoted' \"dq\"";
  const std::string long_text(100000, 'x');

  conn.execute(insert(t).values({{"id", 1},
                                 {"i", std::numeric_limits<std::int32_t>::min()},
                                 {"bi", std::numeric_limits<std::int64_t>::max()},
                                 {"si", std::int16_t{-32768}},
                                 {"s", unicode},
                                 {"tx", long_text},
                                 {"f", 3.25},
                                 {"n", "12345678.91"},
                                 {"b", true},
                                 {"d", to_value(date)},
                                 {"dt", to_value(stamp)},
                                 {"tm", to_value(time)},
                                 {"bin", bytes}}));
  // Row 2: the other boolean, negative numbers, and NULL in every nullable column.
  conn.execute(insert(t).values({{"id", 2}, {"b", false}, {"f", -0.5}, {"n", -0.01}}));
  conn.execute(insert(t).values({{"id", 3}}));

  auto r = conn.execute(select(t).order_by(t.c("id")));
  REQUIRE(r.has_row());
  {
    Row row = r.row();
    CHECK(row.get<int>("i") == std::numeric_limits<std::int32_t>::min());
    CHECK(row.get<std::int64_t>("bi") == std::numeric_limits<std::int64_t>::max());
    CHECK(row.get<std::int16_t>("si") == -32768);
    CHECK(row.get<std::string>("s") == unicode);
    CHECK(row.get<std::string>("tx") == long_text);
    CHECK(row.get<double>("f") == 3.25);
    // NUMERIC: PostgreSQL keeps the exact decimal; SQLite's NUMERIC affinity stores a REAL,
    // exact enough for 10 significant digits.
    CHECK(row.get<std::string>("n") == "12345678.91");
    CHECK(row.get<double>("n") == Approx(12345678.91));
    CHECK(row.get<bool>("b"));
    CHECK(row.get<SqlDate>("d") == date);
    CHECK(row.get<SqlDateTime>("dt") == stamp);
    CHECK(row.get<SqlTime>("tm") == time);
    CHECK(row.get<Blob>("bin") == bytes);
    CHECK(row["bin"] == Value(bytes));
  }
  REQUIRE(r.next());
  {
    Row row = r.row();
    CHECK_FALSE(row.get<bool>("b"));
    CHECK(row.get<double>("f") == -0.5);
    CHECK(row.get<double>("n") == Approx(-0.01));
    CHECK(row.get<std::optional<int>>("i") == std::nullopt);
  }
  REQUIRE(r.next());
  {
    Row row = r.row();
    CHECK(row.get<std::optional<int>>("i") == std::nullopt);
    CHECK(row.get<std::optional<std::int64_t>>("bi") == std::nullopt);
    CHECK(row.get<std::optional<std::string>>("s") == std::nullopt);
    CHECK(row.get<std::optional<double>>("f") == std::nullopt);
    CHECK(row.get<std::optional<bool>>("b") == std::nullopt);
    CHECK(row.get<std::optional<SqlDate>>("d") == std::nullopt);
    CHECK(row.get<std::optional<SqlDateTime>>("dt") == std::nullopt);
    CHECK(row.get<std::optional<SqlTime>>("tm") == std::nullopt);
    CHECK(row.get<std::optional<Blob>>("bin") == std::nullopt);
    CHECK(row.is_null(row.index_of("n")));
    CHECK(row["tx"].is_null());
    // NULL into a non-optional is an error, not a silent zero.
    // Every type whose NULL check comes after the read (0, 0.0, false, empty text) too.
    CHECK_THROWS_AS(row.get<int>("i"), Error);
    CHECK_THROWS_AS(row.get<std::int64_t>("bi"), Error);
    CHECK_THROWS_AS(row.get<std::string>("s"), Error);
    CHECK_THROWS_AS(row.get<double>("f"), Error);
    CHECK_THROWS_AS(row.get<bool>("b"), Error);
  }
  CHECK_FALSE(r.next());

  // Values bound through std::optional: engaged binds the value, empty binds NULL.
  std::optional<std::int64_t> some = 7;
  std::optional<std::int64_t> none;
  conn.execute(update(t).set("bi", some).where(t.c("id") == 3));
  conn.execute(update(t).set("i", none).where(t.c("id") == 1));
  CHECK(fetch<std::optional<std::int64_t>>(conn, select(t.c("bi")).where(t.c("id") == 3)) ==
        std::vector<std::optional<std::int64_t>>{7});
  CHECK(fetch<std::optional<int>>(conn, select(t.c("i")).where(t.c("id") == 1)) ==
        std::vector<std::optional<int>>{std::nullopt});

  // Typed values are usable in WHERE: dates compare as dates (ISO text sorts the same).
  CHECK(fetch<int>(conn, select(t.c("id")).where(t.c("d") == to_value(date))) ==
        std::vector<int>{1});
  CHECK(fetch<int>(conn, select(t.c("id")).where(t.c("bin") == bytes)) == std::vector<int>{1});
}

TEST_CASE("server defaults and DDL defaults fill omitted columns", "[core][schema]") {
  Schema s;
  Table t(s.md, "core_defaults", Column("id", Integer).primary_key(),
          Column("status", String(20)).not_null().server_default("'pending'"),
          Column("score", Integer).not_null().server_default("42"),
          Column("ratio", Float).default_value(0.5),
          Column("label", String(20)).default_value("it's"),
          Column("created", DateTime).server_default("CURRENT_TIMESTAMP"));
  s.create();
  auto conn = engine().connect();
  // DEFAULT VALUES first: the key numbers itself (explicit keys would not advance a
  // PostgreSQL sequence, so they come after).
  conn.execute(insert(t));
  conn.execute(insert(t).values({{"id", 2}}));
  conn.execute(insert(t).values({{"id", 3}, {"status", "done"}, {"score", 1}}));

  auto r = conn.execute(select(t).order_by(t.c("id")));
  REQUIRE(r.has_row());
  CHECK(r.row().get<int>("id") == 1);
  CHECK(r.row().get<std::string>("status") == "pending");
  REQUIRE(r.next());
  CHECK(r.row().get<std::string>("status") == "pending");
  CHECK(r.row().get<int>("score") == 42);
  CHECK(r.row().get<double>("ratio") == 0.5);
  CHECK(r.row().get<std::string>("label") == "it's");
  const auto created = r.row().get<SqlDateTime>("created");
  const auto now =
      std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now());
  // The server's clock (UTC on SQLite, session time zone on PostgreSQL) is near ours.
  CHECK(std::chrono::abs(now - created) < std::chrono::hours(15));
  REQUIRE(r.next());
  CHECK(r.row().get<std::string>("status") == "done");
  CHECK(r.row().get<int>("score") == 1);
  CHECK_FALSE(r.next());
}

TEST_CASE("unique, not-null and check violations raise IntegrityError with code and SQL",
          "[core][schema][errors]") {
  Schema s;
  Table t(s.md, "core_constrained", Column("id", Integer).primary_key(),
          Column("email", String(80)).not_null().unique(), Column("age", Integer),
          CheckConstraint{"age >= 0", "ck_core_constrained_age"});
  s.create();
  auto conn = engine().connect();
  conn.execute(insert(t).values({{"id", 1}, {"email", "a@x"}, {"age", 3}}));

  SECTION("unique") {
    try {
      conn.execute(insert(t).values({{"id", 2}, {"email", "a@x"}, {"age", 4}}));
      FAIL("duplicate email accepted");
    } catch (const IntegrityError& e) {
      check_code(e, "23505", sqlite_constraint_unique);
      CHECK(e.sql().find("INSERT INTO") != std::string::npos);
      CHECK(e.sql().find("core_constrained") != std::string::npos);
    }
  }
  SECTION("primary key") {
    try {
      conn.execute(insert(t).values({{"id", 1}, {"email", "b@x"}, {"age", 4}}));
      FAIL("duplicate primary key accepted");
    } catch (const IntegrityError& e) {
      // SQLite reports a duplicate key as SQLITE_CONSTRAINT_PRIMARYKEY (1555).
      check_code(e, "23505", 1555);
      CHECK(e.sql().find("INSERT INTO") != std::string::npos);
    }
  }
  SECTION("not null") {
    try {
      conn.execute(insert(t).values({{"id", 2}, {"email", Value()}, {"age", 4}}));
      FAIL("NULL email accepted");
    } catch (const IntegrityError& e) {
      check_code(e, "23502", sqlite_constraint_notnull);
      CHECK(e.sql().find("INSERT INTO") != std::string::npos);
    }
  }
  SECTION("check") {
    try {
      conn.execute(update(t).set("age", -1).where(t.c("id") == 1));
      FAIL("negative age accepted");
    } catch (const IntegrityError& e) {
      check_code(e, "23514", sqlite_constraint_check);
      CHECK(e.sql().find("UPDATE") != std::string::npos);
      CHECK(std::string(e.what()).find("ck_core_constrained_age") != std::string::npos);
    }
  }
  // The failed statement changed nothing and the connection is still usable.
  CHECK(fetch<int>(conn, select(t.c("age"))) == std::vector<int>{3});
}

TEST_CASE("foreign keys: violation, ON DELETE CASCADE and SET NULL", "[core][schema][fk]") {
  Schema s;
  Table parent(s.md, "core_fk_parent", Column("id", Integer).primary_key(),
               Column("name", String(20)));
  Table owned(s.md, "core_fk_owned", Column("id", Integer).primary_key(),
              Column("parent_id", Integer)
                  .not_null()
                  .references("core_fk_parent.id", ReferentialAction::cascade));
  Table loose(
      s.md, "core_fk_loose", Column("id", Integer).primary_key(),
      Column("parent_id", Integer)
          .references(ForeignKey("core_fk_parent.id").on_delete(ReferentialAction::set_null)));
  Table strict(s.md, "core_fk_strict", Column("id", Integer).primary_key(),
               Column("parent_id", Integer).references("core_fk_parent.id"));
  s.create();
  auto conn = engine().connect();
  conn.execute(
      insert(parent).values({{"id", 1}, {"name", "one"}}).values({{"id", 2}, {"name", "two"}}));
  conn.execute(insert(owned).columns({"id", "parent_id"}).rows({1, 1, 2, 1, 3, 2}));
  conn.execute(insert(loose).columns({"id", "parent_id"}).rows({1, 1, 2, 2}));

  try {
    conn.execute(insert(owned).values({{"id", 9}, {"parent_id", 99}}));
    FAIL("dangling foreign key accepted");
  } catch (const IntegrityError& e) {
    check_code(e, "23503", sqlite_constraint_foreignkey);
    CHECK(e.sql().find("core_fk_owned") != std::string::npos);
  }

  conn.execute(delete_(parent).where(parent.c("id") == 1));
  CHECK(fetch<int>(conn, select(owned.c("id")).order_by(owned.c("id"))) ==
        std::vector<int>{3}); // cascaded
  auto loose_rows =
      conn.execute(select(loose.c("id"), loose.c("parent_id")).order_by(loose.c("id")));
  REQUIRE(loose_rows.has_row());
  CHECK(loose_rows.row().get<std::optional<int>>(1) == std::nullopt); // set null
  REQUIRE(loose_rows.next());
  CHECK(loose_rows.row().get<std::optional<int>>(1) == 2);
  loose_rows.close();

  // NO ACTION: deleting a referenced parent is refused.
  conn.execute(insert(strict).values({{"id", 1}, {"parent_id", 2}}));
  CHECK_THROWS_AS(conn.execute(delete_(parent).where(parent.c("id") == 2)), IntegrityError);
  CHECK(count_rows(conn, parent) == 1);
}
