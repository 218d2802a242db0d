#include <retort/core/error.hpp>
#include <retort/sql/compiler.hpp>
#include <retort/sql/text.hpp>

#include <catch2/catch.hpp>

#include "fixtures.hpp"

using namespace retort;
using fixtures::lite;
using fixtures::pg;
using fixtures::users;

TEST_CASE("named parameters become the dialect's placeholders", "[text]") {
  auto t =
      text("SELECT * FROM users WHERE id = :id AND name = :name").bind({{"id", 5}, {"name", "J"}});
  auto l = compile(t, lite());
  CHECK(l.sql == "SELECT * FROM users WHERE id = ? AND name = ?");
  CHECK(l.params == std::vector<Value>{5, "J"});
  auto p = compile(t, pg());
  CHECK(p.sql == "SELECT * FROM users WHERE id = $1 AND name = $2");
  CHECK(t.parameter_names() == std::vector<std::string>{"id", "name"});
}

TEST_CASE("a name used twice binds its value twice", "[text]") {
  auto t = text("SELECT :x + :x, :y").bind("x", 2).bind("y", 3);
  auto c = compile(t, pg());
  CHECK(c.sql == "SELECT $1 + $2, $3");
  CHECK(c.params == std::vector<Value>{2, 2, 3});
}

TEST_CASE("casts, quoted strings, identifiers and comments are not parameters", "[text]") {
  auto t = text("SELECT :v::text, ':no', 'it''s :no', \"col:no\", E'\\' :no', $$ :no $$, "
                "$tag$ :no $tag$ -- :no\n, /* :no */ :yes, a\\:b, x ::int")
               .bind("v", 1)
               .bind("yes", 2);
  auto c = compile(t, pg());
  CHECK(c.sql == "SELECT $1::text, ':no', 'it''s :no', \"col:no\", E'\\' :no', $$ :no $$, "
                 "$tag$ :no $tag$ -- :no\n, /* :no */ $2, a:b, x ::int");
  CHECK(c.params == std::vector<Value>{1, 2});
  CHECK(t.parameter_names() == std::vector<std::string>{"v", "yes"});
}

TEST_CASE("missing and unknown bindings are errors", "[text]") {
  CHECK_THROWS_AS(compile(text("SELECT :a"), lite()), ArgumentError);
  CHECK_THROWS_AS(text("SELECT :a").bind("b", 1), ArgumentError);
  CHECK_THROWS_AS(text(""), ArgumentError);
}

TEST_CASE("text as an expression fragment", "[text]") {
  auto c = compile(select(users().c("id"))
                       .where(text("users.age > :min").bind("min", 18))
                       .where(users().c("name") == "x"),
                   pg());
  CHECK(c.sql == "SELECT users.id FROM users WHERE (users.age > $1) AND users.name = $2");
  CHECK(c.params == std::vector<Value>{18, "x"});
  Statement s = text("DELETE FROM users");
  CHECK(compile(s, lite()).sql == "DELETE FROM users");
}
