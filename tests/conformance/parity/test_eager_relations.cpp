// SQLAlchemy's test/orm/test_eager_relations.py, ported: joinedload() of collections and
// references — the right objects, in the relationship's order, in one statement, and no lazy
// load afterwards. Differs on purpose (README "Loader strategies"): a joined load through a
// many-to-many table, or of a collection under LIMIT, runs as selectin.
#include "parity_models.hpp"

using namespace retort;
using namespace parity;

#define PARITY_CASE(cls, name)                                                                     \
  TEST_CASE("test_eager_relations.py::" cls "::" name, "[parity][eager]")

PARITY_CASE("EagerTest", "test_basic") {
  FixtureData f;
  Session sess(conformance::engine());
  conformance::StatementCounter counter;
  auto users =
      sess.query<User>().options(joinedload(&User::addresses)).order_by(col(&User::id)).all();
  REQUIRE(users.size() == 4);
  CHECK(emails(*users[0]) == std::vector<std::string>{"jack@bean.com"});
  CHECK(emails(*users[1]) ==
        std::vector<std::string>{"ed@wood.com", "ed@bettyboop.com", "ed@lala.com"});
  CHECK(emails(*users[2]) == std::vector<std::string>{"fred@fred.com"});
  CHECK(users[3]->addresses.empty());
  CHECK(counter.count() == 1);
}

PARITY_CASE("EagerTest", "test_no_orphan") {
  // An eagerly loaded child is not an orphan: a flush after the load writes nothing.
  FixtureData f;
  Session sess(conformance::engine());
  auto u =
      sess.query<User>().options(joinedload(&User::addresses)).filter_by(&User::id, f.jack).one();
  REQUIRE(u->addresses.size() == 1);
  conformance::StatementCounter counter;
  sess.flush();
  CHECK(counter.count() == 0);
  CHECK(sess.state_of(u->addresses[0]) == ObjectState::persistent);
}

PARITY_CASE("EagerTest", "test_orderby") {
  // The relationship's order_by holds for a joined load, whatever order the query has.
  FixtureData f;
  Session sess(conformance::engine());
  auto users =
      sess.query<User>().options(joinedload(&User::addresses)).order_by(col(&User::name)).all();
  REQUIRE(users.size() == 4);
  CHECK(users[0]->name == "chuck");
  CHECK(users[1]->name == "ed");
  CHECK(emails(*users[1]) ==
        std::vector<std::string>{"ed@wood.com", "ed@bettyboop.com", "ed@lala.com"});
}

PARITY_CASE("EagerTest", "test_many_to_one") {
  FixtureData f;
  Session sess(conformance::engine());
  conformance::StatementCounter counter;
  auto a = sess.query<Address>()
               .options(joinedload(&Address::user))
               .filter_by(&Address::email_address, "ed@bettyboop.com")
               .one();
  CHECK(a->user->name == "ed");
  CHECK(counter.count() == 1);
}

PARITY_CASE("EagerTest", "test_many_to_one_shared") {
  // Several children of one parent share the one parent object.
  FixtureData f;
  Session sess(conformance::engine());
  conformance::StatementCounter counter;
  auto addresses = sess.query<Address>()
                       .options(joinedload(&Address::user))
                       .filter(col(&Address::user_id) == f.ed)
                       .all();
  REQUIRE(addresses.size() == 3);
  CHECK(addresses[0]->user.get() == addresses[2]->user.get());
  CHECK(addresses[0]->user->addresses.loaded() == false);
  CHECK(counter.count() == 1);
}

PARITY_CASE("EagerTest", "test_many_to_one_null") {
  FixtureData f;
  {
    Session sess(conformance::engine());
    sess.add(Address{.email_address = "nobody"});
    sess.commit();
  }
  Session sess(conformance::engine());
  conformance::StatementCounter counter;
  auto a = sess.query<Address>()
               .options(joinedload(&Address::user))
               .filter_by(&Address::email_address, "nobody")
               .one();
  CHECK(a->user.get() == nullptr);
  CHECK(counter.count() == 1);
}

PARITY_CASE("EagerTest", "test_double_same_mappers") {
  // Two joined collections of one class in one query.
  FixtureData f;
  Session sess(conformance::engine());
  conformance::StatementCounter counter;
  auto users = sess.query<User>()
                   .options(joinedload(&User::addresses), joinedload(&User::orders))
                   .order_by(col(&User::id))
                   .all();
  REQUIRE(users.size() == 4);
  CHECK(users[0]->addresses.size() == 1);
  REQUIRE(users[0]->orders.size() == 2);
  CHECK(users[0]->orders[0]->description == "order 1");
  CHECK(users[1]->addresses.size() == 3);
  CHECK(users[1]->orders.empty());
  CHECK(users[2]->orders.size() == 1);
  CHECK(counter.count() <= 2);
}

PARITY_CASE("EagerTest", "test_many_to_many") {
  // Differs on purpose: joined through an association table runs as selectin (2 statements).
  FixtureData f;
  Session sess(conformance::engine());
  conformance::StatementCounter counter;
  auto items =
      sess.query<Item>().options(joinedload(&Item::keywords)).order_by(col(&Item::id)).all();
  REQUIRE(items.size() == 3);
  REQUIRE(items[0]->keywords.size() == 2);
  CHECK(items[0]->keywords[0]->name == "blue");
  CHECK(items[1]->keywords.size() == 2);
  CHECK(items[2]->keywords.size() == 1);
  CHECK(counter.count() == 2);
}

PARITY_CASE("EagerTest", "test_limit") {
  // Differs on purpose: a joined collection under LIMIT is loaded by selectin (SQLAlchemy
  // wraps the limited query in a subquery); the limit applies to users, not to joined rows.
  FixtureData f;
  Session sess(conformance::engine());
  conformance::StatementCounter counter;
  auto users = sess.query<User>()
                   .options(joinedload(&User::addresses))
                   .order_by(col(&User::id))
                   .limit(2)
                   .offset(1)
                   .all();
  REQUIRE(users.size() == 2);
  CHECK(users[0]->name == "ed");
  CHECK(users[0]->addresses.size() == 3);
  CHECK(users[1]->addresses.size() == 1);
  CHECK(counter.count() == 2);
}

PARITY_CASE("EagerTest", "test_many_to_one_limit") {
  // A joined reference under LIMIT stays one statement.
  FixtureData f;
  Session sess(conformance::engine());
  conformance::StatementCounter counter;
  auto addresses = sess.query<Address>()
                       .options(joinedload(&Address::user))
                       .order_by(col(&Address::id))
                       .limit(2)
                       .all();
  REQUIRE(addresses.size() == 2);
  CHECK(addresses[0]->user->name == "jack");
  CHECK(addresses[1]->user->name == "ed");
  CHECK(counter.count() == 1);
}

PARITY_CASE("EagerTest", "test_empty_collection") {
  FixtureData f;
  Session sess(conformance::engine());
  auto chuck =
      sess.query<User>().options(joinedload(&User::addresses)).filter_by(&User::id, f.chuck).one();
  conformance::StatementCounter counter;
  CHECK(chuck->addresses.loaded());
  CHECK(chuck->addresses.empty());
  CHECK(counter.count() == 0);
}

PARITY_CASE("EagerTest", "test_filter_on_parent") {
  // WHERE on the parent does not cut the joined collection.
  FixtureData f;
  Session sess(conformance::engine());
  auto users = sess.query<User>()
                   .options(joinedload(&User::addresses))
                   .filter(col(&User::name) == "ed")
                   .all();
  REQUIRE(users.size() == 1);
  CHECK(users[0]->addresses.size() == 3);
}

PARITY_CASE("EagerTest", "test_join_plus_joinedload") {
  // An explicit join to the same relationship, filtered, beside a joined eager load: the
  // filter picks parents, the eager load still brings every child.
  FixtureData f;
  Session sess(conformance::engine());
  auto users = sess.query<User>()
                   .join(&User::addresses)
                   .filter(col(&Address::email_address) == "ed@lala.com")
                   .options(joinedload(&User::addresses))
                   .all();
  REQUIRE(users.size() == 1);
  CHECK(users[0]->name == "ed");
  CHECK(users[0]->addresses.size() == 3);
}

PARITY_CASE("EagerTest", "test_count_with_joinedload") {
  // count() is about parents, not about joined rows.
  FixtureData f;
  Session sess(conformance::engine());
  CHECK(sess.query<User>().options(joinedload(&User::addresses)).count() == 4);
}

PARITY_CASE("EagerTest", "test_first_with_joinedload") {
  // first() with a joined collection: the whole collection, not the first row's child only.
  FixtureData f;
  Session sess(conformance::engine());
  auto ed = sess.query<User>()
                .options(joinedload(&User::addresses))
                .filter(col(&User::id) == f.ed)
                .first();
  REQUIRE(ed);
  CHECK(ed->addresses.size() == 3);
}

PARITY_CASE("EagerTest", "test_raiseload_beside_joinedload") {
  FixtureData f;
  Session sess(conformance::engine());
  auto u = sess.query<User>()
               .options(joinedload(&User::addresses), raiseload(&User::orders))
               .filter_by(&User::id, f.jack)
               .one();
  CHECK(u->addresses.size() == 1);
  CHECK_THROWS_AS(u->orders.size(), InvalidStateError);
}

PARITY_CASE("EagerTest", "test_self_referential_joined") {
  Fresh fresh;
  std::int64_t root_id = 0;
  {
    Session sess(conformance::engine());
    auto root = sess.add(Node{.data = "n1"});
    root->children.push_back(make(Node{.data = "n11"}));
    root->children.push_back(make(Node{.data = "n12"}));
    sess.commit();
    root_id = root->id;
  }
  Session sess(conformance::engine());
  conformance::StatementCounter counter;
  auto root = sess.query<Node>()
                  .options(joinedload(&Node::children))
                  .filter_by(&Node::id, root_id)
                  .all()[0];
  REQUIRE(root->children.size() == 2);
  CHECK(root->children[1]->data == "n12");
  CHECK(root->children[0]->parent.get() == root);
  CHECK(counter.count() == 1);
}

PARITY_CASE("EagerTest", "test_joinedload_on_already_present") {
  FixtureData f;
  Session sess(conformance::engine());
  auto addresses = sess.query<Address>().all();
  sess.commit(); // expired, still in the identity map
  auto again = sess.query<Address>().options(joinedload(&Address::user)).all();
  conformance::StatementCounter counter;
  for (const auto& a : again)
    CHECK(a->user);
  CHECK(counter.count() == 0);
}

PARITY_CASE("EagerTest", "test_wide") {
  FixtureData f;
  Session sess(conformance::engine());
  conformance::StatementCounter counter;
  auto users = sess.query<User>()
                   .options(joinedload(&User::orders).joinedload(&Order::items))
                   .order_by(col(&User::id))
                   .all();
  CHECK(users[0]->orders[0]->items.size() == 2);
  CHECK(counter.count() <= 2);
}
