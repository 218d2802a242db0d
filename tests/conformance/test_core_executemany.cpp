// Core conformance, executemany: one INSERT / UPDATE / DELETE / text() run with many parameter
// sets (bindparam()), errors at a given set (the whole batch refused, the set named), and a
// many-row INSERT split automatically at the dialect's parameter limit.
#include "test_core_fixture.hpp"

#include <retort/sql/bindparam.hpp>

#include <functional>
#include <string>

using namespace retort;
using conformance::engine;
using core_conf::count_rows;
using core_conf::fetch;
using core_conf::Schema;

namespace {

Table people_table(MetaData& md) {
  return Table(md, "core_people", Column("id", Integer).primary_key(),
               Column("name", String(60)).not_null().unique(), Column("age", Integer));
}

// Sets {name, age} for names p0 ... p<n-1>, ages 0 ... n-1.
ParameterSets people(std::size_t n, std::size_t first = 0) {
  ParameterSets sets({"name", "age"});
  sets.reserve(n);
  for (std::size_t i = first; i < first + n; ++i)
    sets.add({"p" + std::to_string(i), static_cast<std::int64_t>(i)});
  return sets;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

} // namespace

TEST_CASE("executemany: INSERT, UPDATE, DELETE and text() with parameter sets",
          "[core][executemany]") {
  Schema s;
  Table t = people_table(s.md);
  s.create();
  auto conn = engine().connect();

  // An INSERT without rows: one row per set into the columns the sets name.
  CHECK(conn.execute(insert(t), people(5)) == 5);
  CHECK(fetch<std::string>(conn, select(t.c("name")).order_by(t.c("id"))) ==
        std::vector<std::string>{"p0", "p1", "p2", "p3", "p4"});

  // An INSERT whose values are expressions over placeholders.
  ParameterSets more({"n", "a"});
  more.add({"q", 10}).add({"r", 20});
  CHECK(conn.execute(insert(t).values({{"name", upper(bindparam("n"))}, {"age", bindparam("a")}}),
                     more) == 2);

  // One UPDATE, a set per row; a placeholder may appear in SET and WHERE.
  ParameterSets ages({"who", "age"});
  ages.add({"p1", 41}).add({"p3", 43}).add({"nobody", 99});
  auto update_stmt = update(t).set("age", bindparam("age")).where(t.c("name") == bindparam("who"));
  CHECK(conn.execute(update_stmt, ages) == 2);
  CHECK(fetch<int>(conn, select(t.c("age"))
                             .where(t.c("name").in_(std::vector<std::string>{"p1", "p3"}))
                             .order_by(t.c("name"))) == std::vector<int>{41, 43});

  // Fixed values and placeholders mix: the fixed one is bound in every set.
  ParameterSets bump({"who"});
  bump.add({"p0"}).add({"p2"});
  CHECK(conn.execute(update(t)
                         .set("age", t.c("age") + 100)
                         .where(t.c("name") == bindparam("who") && t.c("age") < 1000),
                     bump) == 2);
  CHECK(fetch<int>(conn, select(t.c("age")).where(t.c("name") == "p2")) == std::vector<int>{102});

  // text() names left unbound are filled from the sets.
  ParameterSets renames({"old", "new"});
  renames.add({"Q", "q2"}).add({"R", "r2"});
  CHECK(conn.execute(text("UPDATE core_people SET name = :new WHERE name = :old"), renames) == 2);

  ParameterSets gone({"who"});
  gone.add({"q2"}).add({"r2"}).add({"p4"});
  CHECK(conn.execute(delete_(t).where(t.c("name") == bindparam("who")), gone) == 3);
  CHECK(count_rows(conn, t) == 4);

  // No sets: nothing runs.
  CHECK(conn.execute(update_stmt, ParameterSets({"who", "age"})) == 0);
}

TEST_CASE("executemany: a failing set refuses the whole batch and is named",
          "[core][executemany][errors]") {
  Schema s;
  Table t = people_table(s.md);
  s.create();
  auto conn = engine().connect();
  conn.execute(insert(t).values({{"name", "taken"}, {"age", 1}})).close();

  // Set 3 collides with an existing row: nothing of the batch remains.
  ParameterSets sets = people(6);
  ParameterSets colliding({"name", "age"});
  for (std::size_t k = 0; k < sets.size(); ++k) {
    auto set = sets.set(k);
    colliding.add({k == 3 ? Value("taken") : set[0], set[1]});
  }
  std::string message;
  try {
    conn.execute(insert(t), colliding);
    FAIL("the duplicate was accepted");
  } catch (const IntegrityError& e) {
    message = e.what();
  }
  CHECK(message.find("parameter set 3 (of 6)") != std::string::npos);
  CHECK_FALSE(conn.in_transaction());
  CHECK(count_rows(conn, t) == 1);

  // Inside the caller's transaction the batch is refused alone: what ran before it stays, and
  // the transaction goes on.
  {
    auto tx = conn.begin();
    conn.execute(insert(t).values({{"name", "before"}, {"age", 2}})).close();
    CHECK_THROWS_AS(conn.execute(insert(t), colliding), IntegrityError);
    CHECK(conn.in_transaction());
    conn.execute(insert(t).values({{"name", "after"}, {"age", 3}})).close();
    tx.commit();
  }
  CHECK(fetch<std::string>(conn, select(t.c("name")).order_by(t.c("id"))) ==
        std::vector<std::string>{"taken", "before", "after"});

  // The connection is sound afterwards: the same batch without the collision runs.
  CHECK(conn.execute(insert(t), people(6)) == 6);
  CHECK(count_rows(conn, t) == 9);
}

TEST_CASE("executemany: sets that do not fit the statement are ArgumentErrors",
          "[core][executemany][errors]") {
  Schema s;
  Table t = people_table(s.md);
  s.create();
  auto conn = engine().connect();
  auto stmt = update(t).set("age", bindparam("age")).where(t.c("name") == bindparam("who"));

  ParameterSets missing({"who"});
  missing.add({"x"});
  CHECK_THROWS_WITH(conn.execute(stmt, missing),
                    Catch::Contains("bindparam 'age' has no value in the parameter sets"));
  ParameterSets extra({"who", "age", "agee"});
  extra.add({"x", 1, 2});
  CHECK_THROWS_WITH(conn.execute(stmt, extra), Catch::Contains("'agee'"));
  // The placeholder assigned to an Integer column is typed: text in set 1 is refused before
  // anything of the batch is kept.
  ParameterSets wrong({"who", "age"});
  wrong.add({"p0", 1}).add({"p1", "old"});
  conn.execute(insert(t), people(2));
  CHECK_THROWS_WITH(conn.execute(stmt, wrong), Catch::Contains("parameter set 1") &&
                                                   Catch::Contains("'age'") &&
                                                   Catch::Contains("text"));
  CHECK(fetch<int>(conn, select(t.c("age")).order_by(t.c("id"))) == std::vector<int>{0, 1});
  CHECK_THROWS_AS(conn.execute(insert(t), ParameterSets({"nope"}, {Value(1)})), ArgumentError);
  CHECK_THROWS_AS(conn.execute(update(t).set("age", 1), missing), ArgumentError);
  CHECK_THROWS_AS(conn.execute(insert(t).returning(t.c("id")), people(1)), ArgumentError);
  // Executed without sets, a placeholder has no value.
  CHECK_THROWS_WITH(conn.execute(stmt), Catch::Contains("bindparam 'age' has no value"));
}

TEST_CASE("executemany: many sets run in segments at the dialect's limit, all or nothing",
          "[core][executemany][limits]") {
  Schema s;
  Table t = people_table(s.md);
  s.create();
  auto conn = engine().connect();
  // More values than one pipeline segment carries (two per set).
  const std::size_t n = engine().dialect().max_bound_parameters() / 2 * 2 + 100;
  CHECK(conn.execute(insert(t), people(n)) == static_cast<std::int64_t>(n));
  CHECK(count_rows(conn, t) == static_cast<std::int64_t>(n));

  // A failure in the last segment undoes the segments before it.
  ParameterSets last_fails = people(n, n);
  last_fails.add({"p0", 0}); // taken by the first batch
  const std::string message = error_of([&] { conn.execute(insert(t), last_fails); });
  CHECK(message.find("parameter set " + std::to_string(n) + " ") != std::string::npos);
  CHECK(count_rows(conn, t) == static_cast<std::int64_t>(n));

  // An UPDATE over every row, in as many segments.
  ParameterSets ages({"who", "age"});
  ages.reserve(n);
  for (std::size_t i = 0; i < n; ++i)
    ages.add({"p" + std::to_string(i), static_cast<std::int64_t>(2 * i)});
  CHECK(conn.execute(update(t).set("age", bindparam("age")).where(t.c("name") == bindparam("who")),
                     ages) == static_cast<std::int64_t>(n));
  CHECK(conn.execute(select(sum(t.c("age")))).scalar<std::int64_t>() ==
        static_cast<std::int64_t>(n * (n - 1)));
}

TEST_CASE("a many-row INSERT over the parameter limit is split, all or nothing",
          "[core][dml][limits]") {
  Schema s;
  Table t = people_table(s.md);
  s.create();
  auto conn = engine().connect();
  // More parameters than any backend takes in one statement.
  const std::size_t n = engine().dialect().max_bound_parameters() + 10;
  std::vector<Value> flat;
  flat.reserve(2 * n);
  for (std::size_t i = 0; i < n; ++i) {
    flat.emplace_back("p" + std::to_string(i));
    flat.emplace_back(static_cast<std::int64_t>(i));
  }
  const Insert bulk = insert(t).columns({"name", "age"}).rows(flat);
  REQUIRE_FALSE(fits_one_statement(bulk, engine().dialect()));
  auto result = conn.execute(bulk);
  CHECK(result.rows_affected() == static_cast<std::int64_t>(n));
  result.close();
  CHECK(count_rows(conn, t) == static_cast<std::int64_t>(n));
  CHECK(conn.execute(select(sum(t.c("age")))).scalar<std::int64_t>() ==
        static_cast<std::int64_t>(n * (n - 1) / 2));

  // A duplicate in the last statement leaves none of the earlier statements' rows.
  for (std::size_t i = 1; i < flat.size(); i += 2)
    flat[i - 1] = Value("q" + std::to_string(i / 2));
  flat[flat.size() - 2] = Value("p0");
  CHECK_THROWS_AS(conn.execute(insert(t).columns({"name", "age"}).rows(flat)), IntegrityError);
  CHECK_FALSE(conn.in_transaction());
  CHECK(count_rows(conn, t) == static_cast<std::int64_t>(n));

  // With RETURNING the rows would come from several statements: refused, saying why.
  CHECK_THROWS_WITH(
      conn.execute(insert(t).columns({"name", "age"}).rows(flat).returning(t.c("id"))),
      Catch::Contains("RETURNING"));
}
