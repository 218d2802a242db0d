#include <retort/core/error.hpp>
#include <retort/sql/compiler.hpp>
#include <retort/sql/statement_cache.hpp>

#include <catch2/catch.hpp>

#include <thread>

#include "fixtures.hpp"

using namespace retort;
using fixtures::addresses;
using fixtures::lite;
using fixtures::pg;
using fixtures::users;

namespace {

Select young_named(int age, const char* pattern) {
  return select(users().c("id"), users().c("name"))
      .where(users().c("age") < age && users().c("name").like(pattern))
      .order_by(desc(users().c("id")))
      .limit(10);
}

// A dialect that counts how often SQL text is rendered (identifiers quoted).
struct CountingDialect : test::PostgresLikeDialect {
  mutable int quotes = 0;
  void quote_identifier(std::string& out, std::string_view id) const override {
    ++quotes;
    SqlDialect::quote_identifier(out, id);
  }
};

} // namespace

TEST_CASE("statements differing only in values hit the cache and share SQL", "[cache]") {
  StatementCache cache;
  auto a = compile(young_named(30, "J%"), pg(), &cache);
  auto b = compile(young_named(40, "K%"), pg(), &cache);
  CHECK(a.sql == b.sql);
  CHECK(a.sql == compile(young_named(1, "x"), pg()).sql);
  CHECK(a.params == std::vector<Value>{30, "J%", 10});
  CHECK(b.params == std::vector<Value>{40, "K%", 10});
  auto s = cache.stats();
  CHECK(s.hits == 1);
  CHECK(s.misses == 1);
  CHECK(s.size == 1);
}

TEST_CASE("a cache hit renders no SQL", "[cache]") {
  CountingDialect d;
  StatementCache cache;
  compile(young_named(30, "J%"), d, &cache);
  int after_miss = d.quotes;
  CHECK(after_miss > 0);
  auto hit = compile(young_named(31, "Q%"), d, &cache);
  CHECK(d.quotes == after_miss);
  CHECK(hit.params == std::vector<Value>{31, "Q%", 10});
}

TEST_CASE("different shapes get different entries", "[cache]") {
  StatementCache cache;
  auto base = select(users().c("id"));
  compile(base.where(users().c("age") < 1), lite(), &cache);
  compile(base.where(users().c("age") > 1), lite(), &cache);         // operator
  compile(base.where(users().c("name") < 1), lite(), &cache);        // identifier
  compile(base.where(users().c("age").in_({1, 2})), lite(), &cache); // list length
  compile(base.where(users().c("age").in_({1, 2, 3})), lite(), &cache);
  compile(base.where(users().c("age") == Null{}), lite(), &cache); // NULL is not a value
  compile(base.where(users().c("age") < 1), pg(), &cache);         // dialect
  auto s = cache.stats();
  CHECK(s.misses == 7);
  CHECK(s.hits == 0);
  // The same shapes again are all hits with the right SQL.
  CHECK(compile(base.where(users().c("age") > 9), lite(), &cache).sql ==
        "SELECT users.id FROM users WHERE users.age > ?");
  CHECK(compile(base.where(users().c("age") < 9), pg(), &cache).sql ==
        "SELECT users.id FROM users WHERE users.age < $1");
  CHECK(cache.stats().hits == 2);
}

TEST_CASE("identifiers cannot collide with keywords in keys", "[cache]") {
  StatementCache cache;
  auto t1 = table("a", {"b c"});
  auto t2 = table("a", {"b"});
  auto x = compile(select(t1.c("b c")), lite(), &cache);
  auto y = compile(select(t2.c("b")), lite(), &cache);
  CHECK(x.sql != y.sql);
  CHECK(cache.stats().misses == 2);
}

TEST_CASE("every statement kind goes through the cache", "[cache]") {
  StatementCache cache;
  for (int i = 0; i < 2; ++i) {
    compile(insert(users()).values({{"name", "n" + std::to_string(i)}}).returning(users().c("id")),
            pg(), &cache);
    compile(update(users()).set("age", i).where(users().c("id") == i), pg(), &cache);
    compile(delete_(users()).where(users().c("id") == i), pg(), &cache);
    compile(text("SELECT :a").bind("a", i), pg(), &cache);
    compile(union_all(select(users().c("id")).where(users().c("age") == i),
                      select(addresses().c("id"))),
            pg(), &cache);
  }
  CHECK(cache.stats().misses == 5);
  CHECK(cache.stats().hits == 5);
  auto again = compile(update(users()).set("age", 9).where(users().c("id") == 8), pg(), &cache);
  CHECK(again.sql == "UPDATE users SET age = $1 WHERE users.id = $2");
  CHECK(again.params == std::vector<Value>{9, 8});
}

TEST_CASE("the cache is bounded and evicts the least recently used", "[cache]") {
  StatementCache cache(2);
  auto q = [&](const char* col) { compile(select(users().c(col)), lite(), &cache); };
  q("id");
  q("name");
  q("id");   // hit: id becomes most recent
  q("age");  // evicts name
  q("id");   // still cached
  q("name"); // miss again
  auto s = cache.stats();
  CHECK(s.size == 2);
  CHECK(s.capacity == 2);
  CHECK(s.hits == 2);
  CHECK(s.misses == 4);
  StatementCache off(0);
  compile(select(users().c("id")), lite(), &off);
  CHECK(off.stats().size == 0);
}

TEST_CASE("the cache is safe to share between threads", "[cache]") {
  StatementCache cache(8);
  std::vector<std::thread> threads;
  std::atomic<int> wrong{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 500; ++i) {
        auto c = compile(young_named(i, "p"),
                         (i + t) % 2 ? lite() : static_cast<const SqlDialect&>(pg()), &cache);
        bool lite_sql = c.sql.find('?') != std::string::npos;
        if (lite_sql != ((i + t) % 2 == 1) || c.params[0] != Value(i)) ++wrong;
      }
    });
  }
  for (auto& th : threads)
    th.join();
  CHECK(wrong == 0);
  CHECK(cache.stats().size == 2);
}
