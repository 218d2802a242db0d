#include <retort/core/error.hpp>
#include <retort/sql/bindparam.hpp>
#include <retort/sql/compiler.hpp>
#include <retort/sql/delete.hpp>
#include <retort/sql/insert.hpp>
#include <retort/sql/select.hpp>
#include <retort/sql/statement_cache.hpp>
#include <retort/sql/text.hpp>
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

TEST_CASE("bindparam: named slots in placeholder order, typed by the column they meet",
          "[bindparam]") {
  const auto stmt = update(users())
                        .set("age", bindparam("a"))
                        .where(users().c("name") == bindparam("n") && users().c("id") > 5 &&
                               users().c("active") == bindparam("on", Boolean));
  StatementCache cache(8);
  for (StatementCache* c : {static_cast<StatementCache*>(nullptr), &cache, &cache}) {
    const CompiledTemplate t = compile_template(stmt, pg(), c, {});
    CHECK(t.sql == "UPDATE users SET age = $1 WHERE users.name = $2 AND users.id > $3 AND "
                   "users.active = $4");
    REQUIRE(t.slots.size() == 3);
    CHECK(t.slots[0].position == 0);
    CHECK(t.slots[0].name == "a");
    CHECK(t.slots[0].type == std::optional<SqlType>(Integer));
    CHECK(t.slots[1].position == 1);
    CHECK(t.slots[1].type == std::optional<SqlType>(String(50)));
    CHECK(t.slots[2].position == 3);
    CHECK(t.slots[2].type == std::optional<SqlType>(Boolean));
    REQUIRE(t.params.size() == 4);
    CHECK(t.params[2] == Value(5));
  }
  // A placeholder in an expression not next to a column stays untyped.
  const auto untyped = compile_template(update(users()).set("age", call("abs", {bindparam("d")})),
                                        pg(), nullptr, {});
  REQUIRE(untyped.slots.size() == 1);
  CHECK_FALSE(untyped.slots[0].type.has_value());
  // Compiled for a single execution, a placeholder has no value.
  CHECK_THROWS_WITH(compile(stmt, pg()), Catch::Contains("bindparam 'a' has no value"));
  CHECK_THROWS_AS(bindparam(""), ArgumentError);
}

TEST_CASE("bindparam: an INSERT without rows takes its columns from the sets' names",
          "[bindparam]") {
  const std::vector<std::string> names{"name", "age"};
  const auto t = compile_template(insert(users()), lite(), nullptr, names);
  CHECK(t.sql == "INSERT INTO users (name, age) VALUES (?, ?)");
  REQUIRE(t.slots.size() == 2);
  CHECK(t.slots[1].type == std::optional<SqlType>(Integer));
  const std::vector<std::string> bad{"nmae"};
  CHECK_THROWS_WITH(compile_template(insert(users()), lite(), nullptr, bad),
                    Catch::Contains("no column 'nmae'"));
  CHECK_THROWS_AS(compile_template(select(users().c("id")), lite(), nullptr, names), ArgumentError);
  // text(): names left unbound become slots.
  const auto txt = compile_template(text("UPDATE users SET age = :a WHERE id = :id").bind("id", 3),
                                    pg(), nullptr, {});
  CHECK(txt.sql == "UPDATE users SET age = $1 WHERE id = $2");
  REQUIRE(txt.slots.size() == 1);
  CHECK(txt.slots[0].name == "a");
  CHECK(txt.params[1] == Value(3));
}
