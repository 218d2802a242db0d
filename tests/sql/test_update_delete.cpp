#include <retort/core/error.hpp>
#include <retort/sql/compiler.hpp>
#include <retort/sql/delete.hpp>
#include <retort/sql/update.hpp>

#include <catch2/catch.hpp>

#include "fixtures.hpp"

using namespace retort;
using fixtures::addresses;
using fixtures::lite;
using fixtures::pg;
using fixtures::users;

TEST_CASE("update with SET, WHERE and RETURNING", "[update]") {
  auto stmt = update(users())
                  .set("name", "Jane")
                  .set("age", users().c("age") + 1)
                  .where(users().c("id") == 7)
                  .returning(users().c("id"), users().c("age"));
  auto l = compile(stmt, lite());
  CHECK(l.sql == "UPDATE users SET name = ?, age = users.age + ? WHERE users.id = ? RETURNING id, "
                 "age");
  CHECK(l.params == std::vector<Value>{"Jane", 1, 7});
  CHECK(compile(stmt, pg()).sql == "UPDATE users SET name = $1, age = users.age + $2 WHERE "
                                   "users.id = $3 RETURNING id, age");
}

TEST_CASE("update values(), repeated set() replaces, errors", "[update]") {
  auto stmt = update(users()).values({{"name", "a"}, {"age", 1}}).set("name", "b");
  auto c = compile(stmt, pg());
  CHECK(c.sql == "UPDATE users SET name = $1, age = $2");
  CHECK(c.params == std::vector<Value>{"b", 1});
  CHECK_THROWS_AS(compile(update(users()), pg()), ArgumentError);
  CHECK_THROWS_AS(update(users()).set("nope", 1), ArgumentError);
  // Another table in WHERE needs a subquery, not an implicit UPDATE ... FROM.
  CHECK_THROWS_AS(
      compile(update(users()).set("age", 1).where(addresses().c("user_id") == users().c("id")),
              pg()),
      ArgumentError);
}

TEST_CASE("update and delete with a correlated subquery", "[update][delete]") {
  auto has_mail =
      exists(select(addresses().c("id")).where(addresses().c("user_id") == users().c("id")));
  CHECK(compile(update(users()).set("active", true).where(has_mail), pg()).sql ==
        "UPDATE users SET active = $1 WHERE EXISTS (SELECT addresses.id FROM addresses WHERE "
        "addresses.user_id = users.id)");
  CHECK(compile(delete_(users()).where(!has_mail), lite()).sql ==
        "DELETE FROM users WHERE NOT EXISTS (SELECT addresses.id FROM addresses WHERE "
        "addresses.user_id = users.id)");
}

TEST_CASE("delete with WHERE and RETURNING", "[delete]") {
  auto stmt = delete_(users()).where(users().c("age") < 18).where(users().c("active") == false);
  auto c = compile(stmt, lite());
  CHECK(c.sql == "DELETE FROM users WHERE users.age < ? AND users.active = ?");
  CHECK(c.params == std::vector<Value>{18, false});
  CHECK(compile(delete_(users()), pg()).sql == "DELETE FROM users");
  CHECK(compile(delete_(users()).where(users().c("id") == 1).returning(users().c("name")), pg())
            .sql == "DELETE FROM users WHERE users.id = $1 RETURNING name");
}
