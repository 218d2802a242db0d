#include <retort/core/error.hpp>
#include <retort/sql/compiler.hpp>
#include <retort/sql/insert.hpp>

#include <catch2/catch.hpp>

#include "fixtures.hpp"

using namespace retort;
using fixtures::addresses;
using fixtures::lite;
using fixtures::pg;
using fixtures::users;

TEST_CASE("insert one row with RETURNING", "[insert]") {
  auto stmt = insert(users()).values({{"name", "John"}, {"age", 25}}).returning(users().c("id"));
  auto l = compile(stmt, lite());
  CHECK(l.sql == "INSERT INTO users (name, age) VALUES (?, ?) RETURNING id");
  CHECK(l.params == std::vector<Value>{"John", 25});
  CHECK(compile(stmt, pg()).sql == "INSERT INTO users (name, age) VALUES ($1, $2) RETURNING id");
}

TEST_CASE("insert DEFAULT VALUES and expressions as values", "[insert]") {
  CHECK(compile(insert(users()), pg()).sql == "INSERT INTO users DEFAULT VALUES");
  auto stmt = insert(users()).values({{"name", upper("x")}, {"age", null()}});
  CHECK(compile(stmt, pg()).sql == "INSERT INTO users (name, age) VALUES (upper($1), NULL)");
}

TEST_CASE("insert many rows as multi-row VALUES", "[insert]") {
  auto stmt = insert(users())
                  .values({{"name", "a"}, {"age", 1}})
                  .values({{"name", "b"}, {"age", 2}})
                  .returning(users().c("id"));
  auto c = compile(stmt, pg());
  CHECK(c.sql == "INSERT INTO users (name, age) VALUES ($1, $2), ($3, $4) RETURNING id");
  CHECK(c.params == std::vector<Value>{"a", 1, "b", 2});
  CHECK_THROWS_AS(insert(users()).values({{"name", "a"}}).values({{"age", 1}}), ArgumentError);
}

TEST_CASE("bulk rows of plain values are split to respect the parameter limit", "[insert]") {
  test::SqliteLikeDialect small(7); // at most 7 parameters per statement
  std::vector<Value> flat;
  for (int i = 0; i < 5; ++i) {
    flat.emplace_back("n" + std::to_string(i));
    flat.emplace_back(i);
  }
  auto stmt = insert(users()).columns({"name", "age"}).rows(flat);
  CHECK(stmt.row_count() == 5);
  CHECK(max_rows_per_statement(stmt, small) == 3);
  auto batches = compile_batches(stmt, small);
  REQUIRE(batches.size() == 2);
  CHECK(batches[0].sql == "INSERT INTO users (name, age) VALUES (?, ?), (?, ?), (?, ?)");
  CHECK(batches[0].params == std::vector<Value>{"n0", 0, "n1", 1, "n2", 2});
  CHECK(batches[1].sql == "INSERT INTO users (name, age) VALUES (?, ?), (?, ?)");
  CHECK(batches[1].params == std::vector<Value>{"n3", 3, "n4", 4});
  CHECK_THROWS_AS(compile(stmt, small), ArgumentError);

  // RETURNING parameters count against the limit too (here none); one statement when it fits.
  CHECK(compile_batches(stmt, lite()).size() == 1);
}

TEST_CASE("without multi-row VALUES every row is its own statement", "[insert]") {
  test::PostgresLikeDialect single(false);
  auto stmt = insert(users()).columns({"name"}).row({"a"}).row({"b"});
  auto batches = compile_batches(stmt, single);
  REQUIRE(batches.size() == 2);
  CHECK(batches[0].sql == "INSERT INTO users (name) VALUES ($1)");
  CHECK(batches[1].sql == "INSERT INTO users (name) VALUES ($1)");
  CHECK(batches[1].params == std::vector<Value>{"b"});
  CHECK_THROWS_AS(compile(stmt, single), ArgumentError);
}

TEST_CASE("full batches share one cached shape", "[insert][cache]") {
  test::SqliteLikeDialect small(4);
  StatementCache cache;
  std::vector<Value> flat{"a", 1, "b", 2, "c", 3, "d", 4, "e", 5};
  auto batches =
      compile_batches(insert(users()).columns({"name", "age"}).rows(flat), small, &cache);
  REQUIRE(batches.size() == 3);
  CHECK(cache.stats().hits == 1); // the second full batch
  CHECK(cache.stats().misses == 2);
  CHECK(batches[2].params == std::vector<Value>{"e", 5});
}

TEST_CASE("compile_for_execute borrows bulk rows and caches their shape by row count",
          "[insert][cache]") {
  StatementCache cache;
  auto stmt = insert(users()).columns({"name", "age"}).rows({"a", 1, "b", 2, "c", 3});
  auto e = compile_for_execute(stmt, pg(), &cache);
  CHECK(e.sql == "INSERT INTO users (name, age) VALUES ($1, $2), ($3, $4), ($5, $6)");
  CHECK(std::vector<Value>(e.params.begin(), e.params.end()) ==
        std::vector<Value>{"a", 1, "b", 2, "c", 3});
  // Borrowed: the parameters are the statement's own values, not a copy.
  CHECK(e.owned.empty());
  const Insert same = stmt;
  CHECK(compile_for_execute(same, pg(), &cache).params.data() == e.params.data());
  auto moved = std::move(e);
  CHECK(moved.params.size() == 6);
  // compile() still hands out owned copies, and hits the same cached shape.
  auto c = compile(stmt, pg(), &cache);
  CHECK(c.sql == moved.sql);
  CHECK(c.params == std::vector<Value>{"a", 1, "b", 2, "c", 3});
  CHECK(cache.stats().misses == 1);
  CHECK(cache.stats().hits == 2);
  // Other values, same row count: the same shape. Another row count: a new one.
  // (The statements are kept in variables: the compiled parameters point into them.)
  const Insert three =
      insert(users()).columns({"name", "age"}).rows({"x", 9, "y", 8, "z", Value()});
  auto other = compile_for_execute(three, pg(), &cache);
  CHECK(other.sql == moved.sql);
  CHECK(other.params[5].is_null());
  CHECK(cache.stats().misses == 1);
  const Insert pair = insert(users()).columns({"name", "age"}).rows({"x", 9, "y", 8});
  auto two = compile_for_execute(pair, lite(), &cache);
  CHECK(two.sql == "INSERT INTO users (name, age) VALUES (?, ?), (?, ?)");
  CHECK(cache.stats().misses == 2);
  // Without a cache: the same SQL, still borrowed.
  auto uncached = compile_for_execute(stmt, lite());
  CHECK(uncached.sql == "INSERT INTO users (name, age) VALUES (?, ?), (?, ?), (?, ?)");
  CHECK(uncached.owned.empty());
  CHECK(uncached.params.size() == 6);
}

TEST_CASE("compile_for_execute copies when other parameters follow the bulk rows", "[insert]") {
  StatementCache cache;
  auto up = insert(users())
                .columns({"id", "name"})
                .rows({1, "x", 2, "y"})
                .on_conflict_do_update({"id"}, {{"age", 3}}, users().c("age") < 100);
  for (int pass = 0; pass < 2; ++pass) { // a miss, then a hit
    auto e = compile_for_execute(up, pg(), &cache);
    CHECK(e.sql == "INSERT INTO users (id, name) VALUES ($1, $2), ($3, $4) ON CONFLICT (id) DO "
                   "UPDATE SET age = $5 WHERE users.age < $6");
    CHECK(e.owned == std::vector<Value>{1, "x", 2, "y", 3, 100});
    CHECK(e.params.data() == e.owned.data());
    auto c = compile(up, pg(), &cache);
    CHECK(c.sql == e.sql);
    CHECK(c.params == e.owned);
  }
  CHECK(cache.stats().misses == 1);
  // Statements without bulk rows own their parameters.
  const Insert single = insert(users()).values({{"name", "n"}});
  auto one = compile_for_execute(single, lite(), &cache);
  CHECK(one.owned == std::vector<Value>{"n"});
  CHECK(one.params.size() == 1);
  // The parameter limit counts the borrowed rows.
  test::SqliteLikeDialect small(3);
  const Insert too_many = insert(users()).columns({"name", "age"}).rows({"a", 1, "b", 2});
  CHECK_THROWS_AS(compile_for_execute(too_many, small, &cache), ArgumentError);
}

TEST_CASE("INSERT ... SELECT", "[insert]") {
  auto src = select(addresses().c("email"), literal(0)).where(addresses().c("id") > 10);
  auto c = compile(insert(users()).from_select({"name", "age"}, src), pg());
  CHECK(c.sql == "INSERT INTO users (name, age) SELECT addresses.email, $1 FROM addresses WHERE "
                 "addresses.id > $2");
  CHECK(c.params == std::vector<Value>{0, 10});
  CHECK_THROWS_AS(insert(users()).from_select({"name"}, src), ArgumentError);
}

TEST_CASE("upsert: ON CONFLICT DO NOTHING / DO UPDATE", "[insert]") {
  auto base = insert(users()).values({{"id", 1}, {"name", "x"}});
  CHECK(compile(base.on_conflict_do_nothing(), lite()).sql ==
        "INSERT INTO users (id, name) VALUES (?, ?) ON CONFLICT DO NOTHING");
  CHECK(compile(base.on_conflict_do_nothing({"id"}), pg()).sql ==
        "INSERT INTO users (id, name) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING");
  auto up = base.on_conflict_do_update({"id"}, {{"name", excluded("name")}, {"age", 3}},
                                       users().c("age") < 100);
  auto c = compile(up, pg());
  CHECK(c.sql == "INSERT INTO users (id, name) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET "
                 "name = excluded.name, age = $3 WHERE users.age < $4");
  CHECK(c.params == std::vector<Value>{1, "x", 3, 100});
  CHECK_THROWS_AS(base.on_conflict_do_update({}, {{"name", "y"}}), ArgumentError);

  // SQLite needs a WHERE in INSERT ... SELECT ... ON CONFLICT.
  auto from_sel = insert(users())
                      .from_select({"name"}, select(addresses().c("email")))
                      .on_conflict_do_nothing();
  CHECK(compile(from_sel, lite()).sql == "INSERT INTO users (name) SELECT addresses.email FROM "
                                         "addresses WHERE 1 = 1 ON CONFLICT DO NOTHING");
  // A dialect that does not ask for it gets no WHERE.
  CHECK(compile(from_sel, pg()).sql ==
        "INSERT INTO users (name) SELECT addresses.email FROM addresses ON CONFLICT DO NOTHING");
}

TEST_CASE("insert validates columns and dialect features", "[insert]") {
  CHECK_THROWS_AS(insert(users()).values({{"nmae", "x"}}), ArgumentError);
  CHECK_THROWS_AS(insert(users()).columns({"name", "name"}), ArgumentError);
  CHECK_THROWS_AS(insert(users()).columns({"name"}).rows({"a", "b", "c"}).row({"d", "e"}),
                  ArgumentError);
  CHECK_THROWS_AS(insert(users().alias("u")), ArgumentError);
  struct NoReturning : test::SqliteLikeDialect {
    bool supports_returning() const override { return false; }
  } old;
  CHECK_THROWS_AS(compile(insert(users()).values({{"name", "x"}}).returning(users().c("id")), old),
                  ArgumentError);
}
