// The compiled SQL must not only look right: this runs it on a real SQLite database (through
// the C API directly, with the SQLite-like test dialect) and checks the rows that come back.
#include <retort/core/error.hpp>
#include <retort/schema/ddl.hpp>
#include <retort/schema/metadata.hpp>
#include <retort/sql/compiler.hpp>
#include <retort/sql/statement_cache.hpp>

#include <catch2/catch.hpp>
#include <sqlite3.h>

#include <memory>
#include <string>
#include <vector>

#include "test_dialects.hpp"

using namespace retort;

namespace {

using Rows = std::vector<std::vector<Value>>;

class Db {
public:
  Db() {
    REQUIRE(sqlite3_open(":memory:", &db_) == SQLITE_OK);
    run({"PRAGMA foreign_keys = ON", {}});
  }
  ~Db() { sqlite3_close(db_); }
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  Rows run(const CompiledSql& c) {
    sqlite3_stmt* raw = nullptr;
    int rc = sqlite3_prepare_v2(db_, c.sql.c_str(), -1, &raw, nullptr);
    INFO(c.sql);
    INFO(sqlite3_errmsg(db_));
    REQUIRE(rc == SQLITE_OK);
    std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)> stmt(raw, sqlite3_finalize);
    REQUIRE(sqlite3_bind_parameter_count(raw) == static_cast<int>(c.params.size()));
    for (std::size_t i = 0; i < c.params.size(); ++i)
      bind(raw, static_cast<int>(i + 1), c.params[i]);
    Rows rows;
    while ((rc = sqlite3_step(raw)) == SQLITE_ROW) {
      std::vector<Value> row;
      for (int k = 0; k < sqlite3_column_count(raw); ++k)
        row.push_back(column(raw, k));
      rows.push_back(std::move(row));
    }
    INFO(sqlite3_errmsg(db_));
    REQUIRE(rc == SQLITE_DONE);
    return rows;
  }

  void run_all(const std::vector<CompiledSql>& list) {
    for (const auto& c : list)
      run(c);
  }

private:
  static void bind(sqlite3_stmt* s, int i, const Value& v) {
    switch (v.kind()) {
    case ValueKind::null: sqlite3_bind_null(s, i); break;
    case ValueKind::integer: sqlite3_bind_int64(s, i, v.as_int()); break;
    case ValueKind::boolean: sqlite3_bind_int(s, i, v.as_bool() ? 1 : 0); break;
    case ValueKind::real: sqlite3_bind_double(s, i, v.as_double()); break;
    case ValueKind::text:
      sqlite3_bind_text(s, i, v.as_text().data(), static_cast<int>(v.as_text().size()),
                        SQLITE_TRANSIENT);
      break;
    case ValueKind::blob:
      sqlite3_bind_blob(s, i, v.as_blob().data(), static_cast<int>(v.as_blob().size()),
                        SQLITE_TRANSIENT);
      break;
    }
  }

  static Value column(sqlite3_stmt* s, int k) {
    switch (sqlite3_column_type(s, k)) {
    case SQLITE_INTEGER: return Value(static_cast<std::int64_t>(sqlite3_column_int64(s, k)));
    case SQLITE_FLOAT: return Value(sqlite3_column_double(s, k));
    case SQLITE_TEXT: return Value(reinterpret_cast<const char*>(sqlite3_column_text(s, k)));
    case SQLITE_NULL: return Value();
    default: return Value("<blob>");
    }
  }

  sqlite3* db_ = nullptr;
};

struct Schema {
  MetaData md;
  Table users;
  Table addresses;
  Schema() {
    // Children first: create_all must order them.
    addresses =
        md.add(Table("addresses", Column("id", Integer).primary_key(),
                     Column("email", String(100)).not_null().unique(),
                     Column("user_id", Integer)
                         .references(ForeignKey("users.id").on_delete(ReferentialAction::cascade)),
                     Column("kind", String(10)).default_value("home")));
    users = md.add(Table("users", Column("id", Integer).primary_key(),
                         Column("name", String(50)).not_null().index(), Column("age", Integer),
                         CheckConstraint{"age >= 0", "ck_age"}));
  }
};

} // namespace

TEST_CASE("compiled statements run on SQLite and return the expected rows", "[roundtrip]") {
  test::SqliteLikeDialect d;
  StatementCache cache;
  Db db;
  Schema s;
  const Table& u = s.users;
  const Table& a = s.addresses;
  db.run_all(create_all_sql(s.md, d));

  // Insert with RETURNING of the generated key.
  auto john = db.run(compile(
      insert(u).values({{"name", "John Doe"}, {"age", 25}}).returning(u.c("id")), d, &cache));
  REQUIRE(john == Rows{{1}});
  // Bulk insert split into batches.
  std::vector<Value> flat;
  for (int i = 0; i < 20; ++i) {
    flat.emplace_back("user" + std::to_string(i));
    // Odd rows get an age, even rows NULL. (Spelled without ?: on two Values: g++ 12 at -O2 then
    // warns maybe-uninitialized inside std::variant's move.)
    if (i % 2)
      flat.emplace_back(i);
    else
      flat.emplace_back(Null{});
  }
  test::SqliteLikeDialect small(9);
  auto batches = compile_batches(insert(u).columns({"name", "age"}).rows(flat), small, &cache);
  CHECK(batches.size() == 5);
  db.run_all(batches);
  db.run(compile(insert(a).values({{"email", "john@x.org"}, {"user_id", 1}}), d));
  db.run(
      compile(insert(a).values({{"email", "JOHN@work.org"}, {"user_id", 1}, {"kind", "work"}}), d));
  db.run(compile(insert(a).values({{"email", "u3@x.org"}, {"user_id", 4}}), d));

  SECTION("filters, ILIKE emulation, IN, BETWEEN, ordering with NULLS LAST, LIMIT/OFFSET") {
    CHECK(db.run(compile(select(u.c("name")).where(u.c("name").ilike("JOHN%")), d)) ==
          Rows{{"John Doe"}});
    CHECK(db.run(compile(select(count()).where(u.c("age").in_({1, 3, 25})), d)) == Rows{{3}});
    CHECK(db.run(compile(select(count()).where(u.c("age").between(10, 19)), d)) == Rows{{5}});
    CHECK(db.run(compile(select(count()).where(u.c("age") == Null{}), d)) == Rows{{10}});
    auto page = select(u.c("age")).order_by(u.c("age").desc().nulls_last()).limit(2).offset(1);
    CHECK(db.run(compile(page, d)) == Rows{{19}, {17}});
    CHECK(db.run(compile(select(u.c("id")).order_by(u.c("id")).offset(20), d)) == Rows{{21}});
  }

  SECTION("joins, aggregates, group by / having, subqueries, EXISTS, CTE, UNION") {
    auto n_addresses = count(a.c("id")).label("n");
    auto per_user = select(u.c("name"), n_addresses)
                        .select_from(u.outerjoin(a, join_condition(u, a)))
                        .group_by(u.c("name"))
                        .having(count(a.c("id")) > 0)
                        .order_by(desc(n_addresses));
    CHECK(db.run(compile(per_user, d)) == Rows{{"John Doe", 2}, {"user2", 1}});
    auto with_mail = select(u.c("name"))
                         .where(exists(select(a.c("id")).where(a.c("user_id") == u.c("id"))))
                         .order_by(u.c("id"));
    CHECK(db.run(compile(with_mail, d)) == Rows{{"John Doe"}, {"user2"}});
    auto n = select(count()).where(a.c("user_id") == u.c("id")).label("n");
    CHECK(db.run(compile(select(u.c("name"), n).where(u.c("id") == 1), d)) ==
          Rows{{"John Doe", 2}});
    auto adults = select(u.c("id"), u.c("name")).where(u.c("age") >= 18).cte("adults");
    CHECK(db.run(compile(select(count(adults.c("id"))), d)) == Rows{{2}});
    auto base = select(literal(1).label("n")).cte("t", true);
    auto t = recursive_union_all(base, select(base.c("n") + 1).where(base.c("n") < 5));
    CHECK(db.run(compile(select(sum(t.c("n"))), d)) == Rows{{15}});
    auto both = union_all(select(u.c("name")).where(u.c("id") == 1),
                          select(a.c("email")).where(a.c("kind") == "work"));
    CHECK(db.run(compile(both.order_by(u.c("name")), d)) == Rows{{"JOHN@work.org"}, {"John Doe"}});
    auto sub = select(a.c("user_id"), count().label("c")).group_by(a.c("user_id")).subquery("s");
    CHECK(db.run(compile(select(u.c("name"), sub.c("c"))
                             .join(sub, sub.c("user_id") == u.c("id"))
                             .where(sub.c("c") > 1),
                         d)) == Rows{{"John Doe", 2}});
    auto in_same = select(u.c("name"))
                       .where(u.c("id").in_(select(u.c("id")).where(u.c("age") > 18)))
                       .order_by(u.c("id"));
    CHECK(db.run(compile(in_same, d)) == Rows{{"John Doe"}, {"user19"}});
  }

  SECTION("update, delete, upsert, insert from select, text") {
    CHECK(db.run(compile(
              update(u).set("age", u.c("age") + 1).where(u.c("id") == 1).returning(u.c("age")),
              d)) == Rows{{26}});
    db.run(compile(insert(a)
                       .values({{"email", "john@x.org"}, {"user_id", 2}})
                       .on_conflict_do_nothing({"email"}),
                   d));
    db.run(compile(insert(a)
                       .values({{"email", "john@x.org"}, {"user_id", 3}, {"kind", "new"}})
                       .on_conflict_do_update({"email"}, {{"kind", excluded("kind")}}),
                   d));
    CHECK(db.run(compile(select(a.c("user_id"), a.c("kind")).where(a.c("email") == "john@x.org"),
                         d)) == Rows{{1, "new"}});
    db.run(compile(
        insert(a)
            .from_select({"email", "user_id"},
                         select(u.c("name").concat("@copy"), u.c("id")).where(u.c("id") < 3))
            .on_conflict_do_nothing(),
        d));
    CHECK(db.run(compile(select(count()).where(a.c("email").like("%@copy")), d)) == Rows{{2}});
    CHECK(db.run(compile(delete_(u).where(u.c("id") == 1).returning(u.c("name")), d)) ==
          Rows{{"John Doe"}});
    // ON DELETE CASCADE removed John's addresses.
    CHECK(db.run(compile(select(count()).where(a.c("user_id") == 1), d)) == Rows{{0}});
    CHECK(db.run(compile(
              text("SELECT name FROM users WHERE id = :id AND name != ':id'").bind("id", 2), d)) ==
          Rows{{"user0"}});
    // The default literal and the CHECK constraint were created.
    CHECK(db.run(compile(select(a.c("kind")).where(a.c("email") == "u3@x.org"), d)) ==
          Rows{{"home"}});
  }
}
