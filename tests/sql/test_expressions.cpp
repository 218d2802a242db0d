#include <retort/core/error.hpp>
#include <retort/sql/compiler.hpp>
#include <retort/sql/select.hpp>

#include <catch2/catch.hpp>

#include <cstdint>
#include <optional>

#include "fixtures.hpp"

using namespace retort;
using fixtures::lite;
using fixtures::pg;
using fixtures::users;

namespace {

// The WHERE clause of SELECT users.id FROM users WHERE <e>.
std::string where_sql(const Expr& e, const SqlDialect& d) {
  std::string sql = compile(select(users().c("id")).where(e), d).sql;
  return sql.substr(std::string("SELECT users.id FROM users WHERE ").size());
}

std::vector<Value> where_params(const Expr& e, const SqlDialect& d) {
  return compile(select(users().c("id")).where(e), d).params;
}

const Expr& age() { return users().c("age"); }
const Expr& name() { return users().c("name"); }

} // namespace

TEST_CASE("comparison operators bind values", "[expr]") {
  CHECK(where_sql(age() == 1, pg()) == "users.age = $1");
  CHECK(where_sql(age() != 1, pg()) == "users.age != $1");
  CHECK(where_sql(age() < 1, pg()) == "users.age < $1");
  CHECK(where_sql(age() <= 1, pg()) == "users.age <= $1");
  CHECK(where_sql(age() > 1, pg()) == "users.age > $1");
  CHECK(where_sql(age() >= 1, pg()) == "users.age >= $1");
  CHECK(where_sql(30 > age(), lite()) == "? > users.age");
  CHECK(where_params(name() == std::string("x'); DROP TABLE users; --"), lite()) ==
        std::vector<Value>{"x'); DROP TABLE users; --"});
}

TEST_CASE("comparing with NULL renders IS [NOT] NULL", "[expr]") {
  CHECK(where_sql(age() == Null{}, pg()) == "users.age IS NULL");
  CHECK(where_sql(age() != Value(), pg()) == "users.age IS NOT NULL");
  CHECK(where_sql(age() == std::optional<int>{}, pg()) == "users.age IS NULL");
  CHECK(where_sql(age() == std::optional<int>{3}, pg()) == "users.age = $1");
  CHECK(where_sql(age().is_null(), lite()) == "users.age IS NULL");
  CHECK(where_sql(age().is_not_null(), lite()) == "users.age IS NOT NULL");
}

TEST_CASE("AND / OR / NOT with precedence", "[expr]") {
  CHECK(where_sql((age() > 1 && age() < 5) || name() == "x", pg()) ==
        "users.age > $1 AND users.age < $2 OR users.name = $3");
  CHECK(where_sql(age() > 1 && (age() < 5 || name() == "x"), pg()) ==
        "users.age > $1 AND (users.age < $2 OR users.name = $3)");
  CHECK(where_sql(and_(age() > 1, age() < 5, name() == "x"), lite()) ==
        "users.age > ? AND users.age < ? AND users.name = ?");
  CHECK(where_sql(or_(age() > 1, age() < 5), lite()) == "users.age > ? OR users.age < ?");
  CHECK(where_sql(!(age() > 1 || age() < 0), lite()) == "NOT (users.age > ? OR users.age < ?)");
  CHECK(where_sql(!(age() == 1), lite()) == "users.age != ?");
  CHECK(where_sql(!users().c("active"), lite()) == "NOT users.active");
  // Two where() calls are ANDed; an OR among them is parenthesised.
  auto two = select(users().c("id")).where(age() > 1 || age() < 0).where(name() == "x");
  CHECK(compile(two, pg()).sql == "SELECT users.id FROM users WHERE (users.age > $1 OR users.age "
                                  "< $2) AND users.name = $3");
}

TEST_CASE("arithmetic and concatenation with precedence", "[expr]") {
  CHECK(where_sql(age() + 1 > 2, pg()) == "users.age + $1 > $2");
  CHECK(where_sql((age() + 1) * 2 > 2, pg()) == "(users.age + $1) * $2 > $3");
  CHECK(where_sql(age() - (age() - 1) > 0, pg()) == "users.age - (users.age - $1) > $2");
  CHECK(where_sql(age() - age() - 1 > 0, pg()) == "users.age - users.age - $1 > $2");
  CHECK(where_sql(age() / 2 % 3 == 1, pg()) == "users.age / $1 % $2 = $3");
  CHECK(where_sql(-age() < 0, pg()) == "-users.age < $1");
  CHECK(where_sql(-(-age()) < 0, pg()) == "-(-users.age) < $1");
  CHECK(where_sql(name().concat("!") == "a!", lite()) == "users.name || ? = ?");
  CHECK(where_sql(name().concat(age() + 1) == "a1", lite()) == "users.name || (users.age + ?) = ?");
  // Where || binds as the standard has it (looser than arithmetic), a sum inside needs none;
  // a concatenation inside a sum always does.
  CHECK(where_sql(name().concat(age() + 1) == "a1", pg()) == "users.name || users.age + $1 = $2");
  CHECK(where_sql(age() + name().concat("1") == 2, pg()) == "users.age + (users.name || $1) = $2");
  CHECK(where_sql(age() + name().concat("1") == 2, lite()) == "users.age + (users.name || ?) = ?");
  CHECK(where_sql((age() == 1) == (name() == "x"), lite()) == "(users.age = ?) = (users.name = ?)");
}

TEST_CASE("IN lists, NOT IN, empty lists, ranges", "[expr]") {
  CHECK(where_sql(age().in_({1, 2, 3}), pg()) == "users.age IN ($1, $2, $3)");
  CHECK(where_sql(age().not_in({1, 2}), lite()) == "users.age NOT IN (?, ?)");
  std::vector<std::int64_t> ids{7, 8};
  CHECK(where_params(age().in_(ids), lite()) == std::vector<Value>{7, 8});
  CHECK(where_sql(age().in_(std::vector<std::int64_t>{}), lite()) == "1 != 1");
  CHECK(where_sql(age().not_in(std::vector<std::int64_t>{}), lite()) == "1 = 1");
  CHECK(where_sql(!age().in_({1}), lite()) == "users.age NOT IN (?)");
}

TEST_CASE("BETWEEN, LIKE, ILIKE and its emulation", "[expr]") {
  CHECK(where_sql(age().between(1, 9), pg()) == "users.age BETWEEN $1 AND $2");
  CHECK(where_sql(age().not_between(1, 9), pg()) == "users.age NOT BETWEEN $1 AND $2");
  CHECK(where_sql(name().like("a%"), lite()) == "users.name LIKE ?");
  CHECK(where_sql(name().not_like("a%"), lite()) == "users.name NOT LIKE ?");
  CHECK(where_sql(name().ilike("a%"), pg()) == "users.name ILIKE $1");
  CHECK(where_sql(name().ilike("a%"), lite()) == "lower(users.name) LIKE lower(?)");
  CHECK(where_sql(name().not_ilike("a%"), lite()) == "lower(users.name) NOT LIKE lower(?)");
  CHECK(where_sql(!name().ilike("a%"), pg()) == "users.name NOT ILIKE $1");
}

TEST_CASE("functions, CASE, CAST, DISTINCT", "[expr]") {
  auto c = compile(select(count(), count(age().distinct()), sum(age()), min(age()), max(age()),
                          avg(age()), coalesce(name(), "?"), lower(name()), upper(name()),
                          length(name()), func("date", "now")),
                   pg());
  CHECK(c.sql == "SELECT count(*), count(DISTINCT users.age), sum(users.age), min(users.age), "
                 "max(users.age), avg(users.age), coalesce(users.name, $1), lower(users.name), "
                 "upper(users.name), length(users.name), date($2) FROM users");
  CHECK(c.params == std::vector<Value>{"?", "now"});
  auto k = case_({{age() < 18, "minor"}, {age() < 65, "adult"}}, "senior").label("band");
  CHECK(compile(select(k), lite()).sql == "SELECT CASE WHEN users.age < ? THEN ? WHEN users.age "
                                          "< ? THEN ? ELSE ? END AS band FROM users");
  CHECK(compile(select(age().cast(String(10))), pg()).sql ==
        "SELECT CAST(users.age AS VARCHAR(10)) FROM users");
  CHECK(compile(select(cast(age(), Float)), pg()).sql ==
        "SELECT CAST(users.age AS DOUBLE PRECISION) FROM users");
  CHECK_THROWS_AS(func("evil(); --"), ArgumentError);
  CHECK(compile(select(func("pg_catalog.now")), pg()).sql == "SELECT pg_catalog.now()");
}

TEST_CASE("empty expressions and misplaced orderings are rejected", "[expr]") {
  CHECK_THROWS_AS(Expr() == 1, ArgumentError);
  CHECK_THROWS_AS(select(users().c("id")).where(Expr()), ArgumentError);
  CHECK_THROWS_AS(compile(select(users().c("id")).where(age().desc() == 1), pg()), ArgumentError);
  CHECK_THROWS_AS(users().c("nope"), ArgumentError);
}

TEST_CASE("expression introspection", "[expr]") {
  CHECK(age().kind() == ExprKind::column);
  CHECK(age().name() == "age");
  CHECK(age().label("a").name() == "a");
  CHECK((age() + 1).kind() == ExprKind::binary);
  CHECK(Expr(5).kind() == ExprKind::bind);
}
