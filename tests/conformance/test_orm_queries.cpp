// Query: filter, filter_by, order_by, limit/offset, first/one/one_or_none/all/count/exists,
// joins, tuples of entities, aliased entities, typed columns, group_by/having, yield_per.
#include "models.hpp"

#include <catch2/catch.hpp>

using namespace retort;
using namespace models;

namespace {

void seed() {
  Session session(conformance::engine());
  const char* names[] = {"ann", "bob", "cid", "dee", "eve"};
  for (int i = 0; i < 5; ++i) {
    auto user = session.add(User{.name = names[i], .age = 20 + 10 * i});
    for (int k = 0; k <= i % 3; ++k)
      user->addresses.push_back(std::make_shared<Address>(
          Address{.email = std::string(names[i]) + std::to_string(k) + "@x"}));
  }
  session.add(User{.name = "nobody", .age = std::nullopt});
  session.commit();
}

} // namespace

TEST_CASE("filters, ordering, limits", "[orm][query]") {
  conformance::FreshSchema schema;
  seed();
  Session session(conformance::engine());
  auto q = session.query<User>();
  CHECK(q.count() == 6);
  CHECK(session.query<User>().filter(col(&User::age) >= 30 && col(&User::age) < 50).count() == 2);
  CHECK(session.query<User>().filter(col(&User::age) == std::nullopt).one()->name == "nobody");
  CHECK(session.query<User>().filter(col(&User::name).like("%e%")).count() == 2);
  CHECK(session.query<User>()
            .filter(col(&User::name).in_(std::vector<std::string>{"ann", "eve"}))
            .count() == 2);
  CHECK(session.query<User>().filter(!(col(&User::age) > 25)).count() == 1);

  auto page = session.query<User>()
                  .filter(col(&User::age) != std::nullopt)
                  .order_by(col(&User::age).desc())
                  .limit(2)
                  .offset(1)
                  .all();
  REQUIRE(page.size() == 2);
  CHECK(page[0]->name == "dee");
  CHECK(page[1]->name == "cid");

  CHECK(session.query<User>().filter_by(&User::name, "zed").first() == nullptr);
  CHECK(session.query<User>().filter_by(&User::name, "zed").one_or_none() == nullptr);
  CHECK_THROWS_AS(session.query<User>().filter_by(&User::name, "zed").one(), NoResultFound);
  CHECK_THROWS_AS(session.query<User>().one(), MultipleResultsFound);
  CHECK(session.query<User>().filter_by(&User::name, "bob").exists());
  CHECK_FALSE(session.query<User>().filter_by(&User::name, "zed").exists());
}

TEST_CASE("joins return tuples of objects", "[orm][query][join]") {
  conformance::FreshSchema schema;
  seed();
  Session session(conformance::engine());
  // The cheatsheet's session.query(User, Address).join(Address).filter(...).all()
  auto pairs = session.query<User, Address>()
                   .join(&User::addresses)
                   .filter(col(&User::id) == col(&Address::user_id))
                   .order_by(col(&Address::id))
                   .all();
  REQUIRE(pairs.size() == 1 + 2 + 3 + 1 + 2);
  auto& [user, address] = pairs.front();
  CHECK(user->name == "ann");
  CHECK(address->email == "ann0@x");
  CHECK(address->user_id == user->id);
  CHECK(std::get<0>(pairs[1]) == std::get<0>(pairs[2])); // bob twice: one object

  auto with_c = session.query<User>()
                    .join<Address>(col(&Address::user_id) == col(&User::id))
                    .filter(col(&Address::email).like("cid%"))
                    .distinct()
                    .all();
  REQUIRE(with_c.size() == 1);
  CHECK(with_c[0]->name == "cid");

  auto outer = session.query<User, Address>()
                   .outerjoin(&User::addresses)
                   .filter(col(&User::name) == "nobody")
                   .all();
  REQUIRE(outer.size() == 1);
  CHECK(std::get<0>(outer[0])->name == "nobody");
  CHECK(std::get<1>(outer[0]) == nullptr);
}

TEST_CASE("aliased entities and typed column results", "[orm][query][aliased]") {
  conformance::FreshSchema schema;
  seed();
  Session session(conformance::engine());
  auto older = aliased<User>("older");
  // Pairs (u, o) where o is exactly 10 years older than u.
  auto pairs = session.query<User>()
                   .join(older, older(&User::age) == col(&User::age) + 10)
                   .order_by(col(&User::id))
                   .values(col(&User::name), older(&User::name));
  REQUIRE(pairs.size() == 4);
  CHECK(pairs[0] == std::tuple<std::string, std::string>{"ann", "bob"});

  auto from_alias = session.query(older).filter(older(&User::name) == "eve").one();
  CHECK(from_alias->age == 60);

  auto per_user = session.query<User>()
                      .join(&User::addresses)
                      .group_by(col(&User::name))
                      .having(count_all() > 1)
                      .order_by(col(&User::name))
                      .values(col(&User::name), count_all());
  REQUIRE(per_user.size() == 3);
  CHECK(per_user[0] == std::tuple<std::string, std::int64_t>{"bob", 2});
  CHECK(per_user[1] == std::tuple<std::string, std::int64_t>{"cid", 3});

  auto stats =
      session.query<User>().values(count_all(), max_of(col(&User::age)), avg_of(col(&User::age)));
  REQUIRE(stats.size() == 1);
  CHECK(std::get<0>(stats[0]) == 6);
  CHECK(std::get<1>(stats[0]) == 60);
  CHECK(std::get<2>(stats[0]) == Approx(40.0));
}

TEST_CASE("yield_per streams in chunks through the identity map", "[orm][query][stream]") {
  conformance::FreshSchema schema;
  {
    Session session(conformance::engine());
    for (int i = 0; i < 250; ++i)
      session.add(User{.name = "u" + std::to_string(i), .age = i});
    session.commit();
  }
  Session session(conformance::engine());
  std::vector<std::size_t> sizes;
  std::int64_t sum = 0;
  session.query<User>()
      .order_by(col(&User::id))
      .yield_per(100, [&](std::vector<std::shared_ptr<User>>& chunk) {
        sizes.push_back(chunk.size());
        for (const auto& u : chunk)
          sum += *u->age;
      });
  CHECK(sizes == std::vector<std::size_t>{100, 100, 50});
  CHECK(sum == 249 * 250 / 2);
  CHECK(session.identity_map_size() == 0); // nothing held on to: memory stays bounded

  std::vector<std::shared_ptr<User>> kept;
  session.query<User>().yield_per(100, [&](std::vector<std::shared_ptr<User>>& chunk) {
    kept.push_back(chunk.front()); // the application keeps one object per chunk
  });
  CHECK(session.identity_map_size() == 3);
  CHECK(session.state_of(kept[0]) == ObjectState::persistent);
}

TEST_CASE("autoflush makes pending changes visible to queries", "[orm][query][autoflush]") {
  conformance::FreshSchema schema;
  Session session(conformance::engine());
  session.add(User{.name = "pending", .age = 1});
  CHECK(session.query<User>().filter_by(&User::name, "pending").count() == 1);
  Session no_autoflush(conformance::engine(), SessionOptions{.autoflush = false});
  // (a second session cannot see the first one's uncommitted rows)
  session.rollback();
  CHECK(session.query<User>().count() == 0);
}
