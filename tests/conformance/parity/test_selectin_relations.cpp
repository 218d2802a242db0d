// SQLAlchemy's test/orm/test_selectin_relations.py, ported: selectinload() of collections,
// references and many-to-many — the right objects in order, one extra statement per
// relationship whatever the number of parents, and no lazy load afterwards.
#include "parity_models.hpp"

using namespace retort;
using namespace parity;

#define PARITY_CASE(cls, name)                                                                     \
  TEST_CASE("test_selectin_relations.py::" cls "::" name, "[parity][selectin]")

PARITY_CASE("EagerTest", "test_basic") {
  FixtureData f;
  Session sess(conformance::engine());
  conformance::StatementCounter counter;
  auto users =
      sess.query<User>().options(selectinload(&User::addresses)).order_by(col(&User::id)).all();
  REQUIRE(users.size() == 4);
  CHECK(emails(*users[1]) ==
        std::vector<std::string>{"ed@wood.com", "ed@bettyboop.com", "ed@lala.com"});
  CHECK(users[3]->addresses.empty());
  CHECK(counter.count() == 2);
}

PARITY_CASE("EagerTest", "test_orderby") {
  FixtureData f;
  Session sess(conformance::engine());
  auto users = sess.query<User>()
                   .options(selectinload(&User::addresses))
                   .order_by(col(&User::name).desc())
                   .all();
  REQUIRE(users.size() == 4);
  CHECK(users[0]->name == "jack");
  CHECK(users[2]->name == "ed");
  CHECK(emails(*users[2]) ==
        std::vector<std::string>{"ed@wood.com", "ed@bettyboop.com", "ed@lala.com"});
}

PARITY_CASE("EagerTest", "test_many_to_one") {
  FixtureData f;
  Session sess(conformance::engine());
  conformance::StatementCounter counter;
  auto addresses =
      sess.query<Address>().options(selectinload(&Address::user)).order_by(col(&Address::id)).all();
  REQUIRE(addresses.size() == 5);
  CHECK(addresses[0]->user->name == "jack");
  CHECK(addresses[1]->user.get() == addresses[3]->user.get());
  CHECK(addresses[4]->user->name == "fred");
  CHECK(counter.count() == 2);
}

PARITY_CASE("EagerTest", "test_many_to_one_null") {
  FixtureData f;
  {
    Session sess(conformance::engine());
    sess.add(Address{.email_address = "nobody"});
    sess.commit();
  }
  Session sess(conformance::engine());
  auto addresses = sess.query<Address>().options(selectinload(&Address::user)).all();
  conformance::StatementCounter counter;
  std::size_t without = 0;
  for (const auto& a : addresses)
    without += a->user ? 0 : 1;
  CHECK(without == 1);
  CHECK(counter.count() == 0);
}

PARITY_CASE("EagerTest", "test_many_to_many") {
  FixtureData f;
  Session sess(conformance::engine());
  conformance::StatementCounter counter;
  auto items =
      sess.query<Item>().options(selectinload(&Item::keywords)).order_by(col(&Item::id)).all();
  REQUIRE(items.size() == 3);
  REQUIRE(items[1]->keywords.size() == 2);
  CHECK(items[1]->keywords[0]->name == "red");
  CHECK(items[1]->keywords[1]->name == "round");
  CHECK(items[0]->keywords[1].get() == items[1]->keywords[0].get()); // one "red"
  CHECK(counter.count() == 2);
}

PARITY_CASE("EagerTest", "test_many_to_many_reverse") {
  FixtureData f;
  Session sess(conformance::engine());
  auto keywords = sess.query<Keyword>()
                      .options(selectinload(&Keyword::items))
                      .order_by(col(&Keyword::name))
                      .all();
  REQUIRE(keywords.size() == 3);
  CHECK(keywords[0]->name == "blue");
  CHECK(keywords[0]->items.size() == 1);
  CHECK(keywords[1]->items.size() == 2); // red
  CHECK(keywords[2]->items.size() == 2); // round
}

PARITY_CASE("EagerTest", "test_double_same_mappers") {
  FixtureData f;
  Session sess(conformance::engine());
  conformance::StatementCounter counter;
  auto users = sess.query<User>()
                   .options(selectinload(&User::addresses), selectinload(&User::orders))
                   .order_by(col(&User::id))
                   .all();
  REQUIRE(users.size() == 4);
  CHECK(users[0]->orders.size() == 2);
  CHECK(users[1]->addresses.size() == 3);
  CHECK(users[2]->orders[0]->description == "order 2");
  CHECK(counter.count() == 3);
}

PARITY_CASE("EagerTest", "test_limit") {
  FixtureData f;
  Session sess(conformance::engine());
  conformance::StatementCounter counter;
  auto users = sess.query<User>()
                   .options(selectinload(&User::addresses))
                   .order_by(col(&User::id))
                   .limit(2)
                   .offset(1)
                   .all();
  REQUIRE(users.size() == 2);
  CHECK(users[0]->addresses.size() == 3);
  CHECK(users[1]->addresses.size() == 1);
  CHECK(counter.count() == 2);
}

PARITY_CASE("EagerTest", "test_one_to_many_empty_result") {
  // No parents: the selectin statement is not sent at all.
  FixtureData f;
  Session sess(conformance::engine());
  conformance::StatementCounter counter;
  auto users = sess.query<User>()
                   .options(selectinload(&User::addresses))
                   .filter(col(&User::name) == "nobody")
                   .all();
  CHECK(users.empty());
  CHECK(counter.count() == 1);
}

PARITY_CASE("EagerTest", "test_empty_collection") {
  FixtureData f;
  Session sess(conformance::engine());
  auto chuck = sess.query<User>()
                   .options(selectinload(&User::addresses))
                   .filter_by(&User::id, f.chuck)
                   .one();
  conformance::StatementCounter counter;
  CHECK(chuck->addresses.loaded());
  CHECK(chuck->addresses.empty());
  CHECK(counter.count() == 0);
}

PARITY_CASE("EagerTest", "test_first") {
  FixtureData f;
  Session sess(conformance::engine());
  auto u = sess.query<User>()
               .options(selectinload(&User::addresses))
               .filter(col(&User::id) == f.ed)
               .first();
  REQUIRE(u);
  CHECK(u->addresses.size() == 3);
}

PARITY_CASE("EagerTest", "test_many_to_one_shares_identity") {
  // A reference loaded by selectin is the object the session already holds for that key.
  FixtureData f;
  Session sess(conformance::engine());
  auto jack = sess.get<User>(f.jack);
  auto addresses = sess.query<Address>()
                       .options(selectinload(&Address::user))
                       .filter(col(&Address::user_id) == f.jack)
                       .all();
  REQUIRE(addresses.size() == 1);
  CHECK(addresses[0]->user.get() == jack);
}

PARITY_CASE("EagerTest", "test_self_referential") {
  Fresh fresh;
  {
    Session sess(conformance::engine());
    for (const char* name : {"n1", "n2"}) {
      auto root = sess.add(Node{.data = name});
      root->children.push_back(make(Node{.data = std::string(name) + "1"}));
      root->children.push_back(make(Node{.data = std::string(name) + "2"}));
    }
    sess.commit();
  }
  Session sess(conformance::engine());
  conformance::StatementCounter counter;
  auto roots = sess.query<Node>()
                   .options(selectinload(&Node::children))
                   .filter(col(&Node::parent_id) == std::nullopt)
                   .order_by(col(&Node::id))
                   .all();
  REQUIRE(roots.size() == 2);
  REQUIRE(roots[1]->children.size() == 2);
  CHECK(roots[1]->children[0]->data == "n21");
  CHECK(counter.count() == 2);
}

PARITY_CASE("EagerTest", "test_natural_keys") {
  // selectin over string keys (test_naturalpks.py's models).
  Fresh fresh;
  {
    Session sess(conformance::engine());
    for (const char* name : {"jack", "ed"}) {
      auto u = sess.add(NkUser{.username = name, .fullname = name});
      u->addresses.push_back(make(NkAddress{.email = std::string(name) + "@1"}));
      u->addresses.push_back(make(NkAddress{.email = std::string(name) + "@2"}));
    }
    sess.commit();
  }
  Session sess(conformance::engine());
  conformance::StatementCounter counter;
  auto users = sess.query<NkUser>()
                   .options(selectinload(&NkUser::addresses))
                   .order_by(col(&NkUser::username))
                   .all();
  REQUIRE(users.size() == 2);
  REQUIRE(users[0]->addresses.size() == 2);
  CHECK(users[0]->addresses[1]->email == "ed@2");
  CHECK(counter.count() == 2);
}

PARITY_CASE("EagerTest", "test_yield_per_with_selectin") {
  // Loading in chunks: every chunk's parents get their collections, one SELECT per chunk.
  FixtureData f;
  Session sess(conformance::engine());
  conformance::StatementCounter counter;
  std::size_t users = 0, addresses = 0;
  auto query = sess.query<User>();
  query.options(selectinload(&User::addresses)).order_by(col(&User::id));
  query.yield_per(2, [&](std::vector<std::shared_ptr<User>>& chunk) {
    for (const auto& u : chunk) {
      ++users;
      CHECK(u->addresses.loaded());
      addresses += u->addresses.size();
    }
  });
  CHECK(users == 4);
  CHECK(addresses == 5);
  CHECK(counter.count() == 3); // the users, then the addresses of each chunk of two
}

PARITY_CASE("EagerTest", "test_selectin_on_already_present") {
  FixtureData f;
  Session sess(conformance::engine());
  auto addresses = sess.query<Address>().all();
  sess.commit(); // expired, still in the identity map
  auto again = sess.query<Address>().options(selectinload(&Address::user)).all();
  conformance::StatementCounter counter;
  for (const auto& a : again)
    CHECK(a->user);
  CHECK(counter.count() == 0);
}

PARITY_CASE("EagerTest", "test_chained_orders_items") {
  FixtureData f;
  Session sess(conformance::engine());
  conformance::StatementCounter counter;
  auto users = sess.query<User>()
                   .options(selectinload(&User::orders).selectinload(&Order::items))
                   .order_by(col(&User::id))
                   .all();
  CHECK(users[0]->orders[0]->items.size() == 2);
  CHECK(counter.count() == 3);
}
