#include <retort/core/error.hpp>
#include <retort/sql/compiler.hpp>
#include <retort/sql/select.hpp>

#include <catch2/catch.hpp>

#include "fixtures.hpp"

using namespace retort;
using fixtures::addresses;
using fixtures::lite;
using fixtures::pg;
using fixtures::users;

TEST_CASE("select with where, order by and limit (the brief's example)", "[select]") {
  auto stmt = select(users().c("id"), users().c("name"))
                  .where(users().c("age") < 30 && users().c("name").like("J%"))
                  .order_by(desc(users().c("id")))
                  .limit(10);
  auto l = compile(stmt, lite());
  CHECK(l.sql == "SELECT users.id, users.name FROM users WHERE users.age < ? AND users.name "
                 "LIKE ? ORDER BY users.id DESC LIMIT ?");
  CHECK(l.params == std::vector<Value>{30, "J%", 10});
  auto p = compile(stmt, pg());
  CHECK(p.sql == "SELECT users.id, users.name FROM users WHERE users.age < $1 AND users.name "
                 "LIKE $2 ORDER BY users.id DESC LIMIT $3");
  CHECK(p.params == l.params);
}

TEST_CASE("select(table) selects every column", "[select]") {
  auto c = compile(select(users()), lite());
  CHECK(c.sql == "SELECT users.id, users.name, users.age, users.active FROM users");
  CHECK(c.params.empty());
}

TEST_CASE("offset alone: SQLite needs LIMIT -1, PostgreSQL does not", "[select]") {
  auto stmt = select(users().c("id")).offset(5);
  CHECK(compile(stmt, lite()).sql == "SELECT users.id FROM users LIMIT -1 OFFSET ?");
  CHECK(compile(stmt, pg()).sql == "SELECT users.id FROM users OFFSET $1");
  auto both = compile(select(users().c("id")).limit(3).offset(6), pg());
  CHECK(both.sql == "SELECT users.id FROM users LIMIT $1 OFFSET $2");
  CHECK(both.params == std::vector<Value>{3, 6});
}

TEST_CASE("distinct, group by, having, labels", "[select]") {
  auto n = count().label("n");
  auto stmt =
      select(users().c("age"), n).group_by(users().c("age")).having(count() > 1).order_by(desc(n));
  CHECK(compile(stmt, pg()).sql == "SELECT users.age, count(*) AS n FROM users GROUP BY "
                                   "users.age HAVING count(*) > $1 ORDER BY n DESC");
  CHECK(compile(select(users().c("name")).distinct(), lite()).sql ==
        "SELECT DISTINCT users.name FROM users");
}

TEST_CASE("joins: inner, left outer, full, explicit and inferred left side", "[select]") {
  const auto& u = users();
  const auto& a = addresses();
  auto on = u.c("id") == a.c("user_id");
  CHECK(compile(select(u.c("name"), a.c("email")).join(a, on), lite()).sql ==
        "SELECT users.name, addresses.email FROM users JOIN addresses ON users.id = "
        "addresses.user_id");
  CHECK(compile(select(u.c("name")).select_from(u.outerjoin(a, on)), pg()).sql ==
        "SELECT users.name FROM users LEFT OUTER JOIN addresses ON users.id = addresses.user_id");
  CHECK(compile(select(u.c("name")).full_join(a, on), pg()).sql ==
        "SELECT users.name FROM users FULL OUTER JOIN addresses ON users.id = addresses.user_id");
  // The join covers the addresses table named in the columns: no second FROM item.
  CHECK(compile(select(a.c("email")).select_from(u).join(a, join_condition(u, a)), lite()).sql ==
        "SELECT addresses.email FROM users JOIN addresses ON users.id = addresses.user_id");
}

TEST_CASE("table aliases and self-joins", "[select]") {
  auto u1 = users().alias("u1");
  auto u2 = users().alias("u2");
  auto stmt = select(u1.c("name"), u2.c("name")).join(u2, u1.c("age") == u2.c("age"));
  CHECK(compile(stmt, pg()).sql ==
        "SELECT u1.name, u2.name FROM users AS u1 JOIN users AS u2 ON u1.age = u2.age");
  CHECK_THROWS_AS(u1.c("nope"), ArgumentError);
}

TEST_CASE("subquery in FROM and scalar subquery", "[select]") {
  auto sub = select(addresses().c("user_id"), count().label("n"))
                 .group_by(addresses().c("user_id"))
                 .subquery("counts");
  auto stmt = select(users().c("name"), sub.c("n"))
                  .join(sub, users().c("id") == sub.c("user_id"))
                  .where(sub.c("n") > 2);
  auto c = compile(stmt, pg());
  CHECK(c.sql == "SELECT users.name, counts.n FROM users JOIN (SELECT addresses.user_id, count(*) "
                 "AS n FROM addresses GROUP BY addresses.user_id) AS counts ON users.id = "
                 "counts.user_id WHERE counts.n > $1");
  CHECK(c.params == std::vector<Value>{2});

  // A scalar subquery correlates with the enclosing query's users.
  auto n =
      select(count()).where(addresses().c("user_id") == users().c("id")).label("address_count");
  CHECK(compile(select(users().c("name"), n), lite()).sql ==
        "SELECT users.name, (SELECT count(*) FROM addresses WHERE addresses.user_id = users.id) "
        "AS address_count FROM users");
}

TEST_CASE("EXISTS and IN subqueries correlate", "[select]") {
  auto has_address =
      exists(select(addresses().c("id")).where(addresses().c("user_id") == users().c("id")));
  CHECK(compile(select(users().c("id")).where(has_address), pg()).sql ==
        "SELECT users.id FROM users WHERE EXISTS (SELECT addresses.id FROM addresses WHERE "
        "addresses.user_id = users.id)");
  CHECK(compile(select(users().c("id")).where(!has_address), pg()).sql ==
        "SELECT users.id FROM users WHERE NOT EXISTS (SELECT addresses.id FROM addresses WHERE "
        "addresses.user_id = users.id)");
  auto in = users().c("id").in_(
      select(addresses().c("user_id")).where(addresses().c("email").like("%@x.org")));
  auto c = compile(select(users().c("name")).where(in), lite());
  CHECK(c.sql == "SELECT users.name FROM users WHERE users.id IN (SELECT addresses.user_id FROM "
                 "addresses WHERE addresses.email LIKE ?)");
  CHECK(c.params == std::vector<Value>{"%@x.org"});
}

TEST_CASE("a subquery over the same table does not correlate itself away", "[select]") {
  auto inner = select(users().c("id")).where(users().c("age") > 3);
  auto c = compile(select(users().c("name")).where(users().c("id").in_(inner)), pg());
  CHECK(c.sql == "SELECT users.name FROM users WHERE users.id IN (SELECT users.id FROM users "
                 "WHERE users.age > $1)");
}

TEST_CASE("common table expressions", "[select]") {
  auto adults =
      select(users().c("id"), users().c("name")).where(users().c("age") >= 18).cte("adults");
  auto c = compile(select(adults.c("name")).where(adults.c("id") > 5), pg());
  CHECK(c.sql == "WITH adults AS (SELECT users.id, users.name FROM users WHERE users.age >= $1) "
                 "SELECT adults.name FROM adults WHERE adults.id > $2");
  CHECK(c.params == std::vector<Value>{18, 5});

  // A CTE used only inside a subquery is still declared at the top.
  auto inner = select(adults.c("id"));
  auto outer = select(users().c("name")).where(users().c("id").in_(inner));
  CHECK(compile(outer, lite()).sql ==
        "WITH adults AS (SELECT users.id, users.name FROM users WHERE users.age >= ?) SELECT "
        "users.name FROM users WHERE users.id IN (SELECT adults.id FROM adults)");
}

TEST_CASE("recursive CTE", "[select]") {
  auto base = select(literal(1).label("n")).cte("t", true);
  auto t = recursive_union_all(base, select(base.c("n") + 1).where(base.c("n") < 5));
  auto c = compile(select(sum(t.c("n"))), pg());
  CHECK(c.sql == "WITH RECURSIVE t(n) AS (SELECT $1 AS n UNION ALL SELECT t.n + $2 FROM t WHERE "
                 "t.n < $3) SELECT sum(t.n) FROM t");
  CHECK(c.params == std::vector<Value>{1, 1, 5});
}

TEST_CASE("UNION and UNION ALL", "[select]") {
  auto a = select(users().c("name")).where(users().c("age") < 20);
  auto b = select(addresses().c("email"));
  CHECK(compile(union_(a, b), lite()).sql ==
        "SELECT users.name FROM users WHERE users.age < ? UNION SELECT addresses.email FROM "
        "addresses");
  auto c = compile(union_all(a, b).order_by(users().c("name")).limit(3), pg());
  CHECK(c.sql == "SELECT users.name FROM users WHERE users.age < $1 UNION ALL SELECT "
                 "addresses.email FROM addresses ORDER BY name LIMIT $2");
  CHECK_THROWS_AS(union_(a, select(users().c("id"), users().c("name"))), ArgumentError);
  CHECK_THROWS_AS(compile(union_(a.limit(1), b), pg()), ArgumentError);
}

TEST_CASE("order by: asc, desc, nulls first/last and their emulation", "[select]") {
  auto stmt = select(users().c("id"))
                  .order_by(users().c("age").desc().nulls_last(), users().c("name").asc());
  CHECK(compile(stmt, pg()).sql ==
        "SELECT users.id FROM users ORDER BY users.age DESC NULLS LAST, users.name ASC");
  struct NoNulls : test::SqliteLikeDialect {
    bool supports_nulls_ordering() const override { return false; }
  } old;
  CHECK(compile(stmt, old).sql == "SELECT users.id FROM users ORDER BY CASE WHEN users.age IS "
                                  "NULL THEN 1 ELSE 0 END, users.age DESC, users.name ASC");
}

TEST_CASE("select is generative: the original is unchanged", "[select]") {
  auto base = select(users().c("id"));
  auto narrowed = base.where(users().c("age") > 1);
  CHECK(compile(base, lite()).sql == "SELECT users.id FROM users");
  CHECK(compile(narrowed, lite()).sql == "SELECT users.id FROM users WHERE users.age > ?");
}

TEST_CASE("select without FROM and errors", "[select]") {
  CHECK(compile(select(literal(1)), pg()).sql == "SELECT $1");
  CHECK_THROWS_AS(compile(Select(), pg()), ArgumentError);
  CHECK_THROWS_AS(select(literal(1)).join(users(), literal(true)), ArgumentError);
  CHECK_THROWS_AS(select(users().c("id")).limit(-1), ArgumentError);
  struct NoFull : test::SqliteLikeDialect {
    bool supports_full_outer_join() const override { return false; }
  } d;
  CHECK_THROWS_AS(compile(select(users().c("id")).full_join(addresses(), literal(true)), d),
                  ArgumentError);
}

TEST_CASE("quoting of reserved and mixed-case identifiers", "[select]") {
  auto t = table("user", {"order", "Name", "plain"});
  CHECK(compile(select(t.c("order"), t.c("Name"), t.c("plain")), pg()).sql ==
        R"(SELECT "user"."order", "user"."Name", "user".plain FROM "user")");
  auto s = table("t", {"x"}, "reporting");
  CHECK(compile(select(s.c("x")), lite()).sql == "SELECT reporting.t.x FROM reporting.t");
}
