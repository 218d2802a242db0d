// SQLAlchemy's test/orm/test_naturalpks.py, ported: primary keys the application chooses
// (strings, composite integers), foreign keys to them through one-to-many, many-to-one,
// many-to-many and self-referential relationships. Differs on purpose: Retort does not update
// primary keys (SQLAlchemy's "passive/nonpassive updates" cascade a changed key to the
// children); changing one is an ArgumentError at flush, and the cases check that too.
#include "parity_models.hpp"

using namespace retort;
using namespace parity;

#define PARITY_CASE(cls, name) TEST_CASE("test_naturalpks.py::" cls "::" name, "[parity][natural]")

PARITY_CASE("NaturalPKTest", "test_entity") {
  Fresh fresh;
  Session sess(conformance::engine());
  auto u1 = sess.add(NkUser{.username = "jack", .fullname = "jack"});
  sess.flush();
  CHECK(sess.get<NkUser>("jack") == u1);
  sess.commit();
  {
    Session other(conformance::engine());
    auto loaded = other.get<NkUser>("jack");
    REQUIRE(loaded);
    CHECK(loaded->fullname == "jack");
    CHECK(other.get<NkUser>("ed") == nullptr);
  }
  u1->fullname = "jack jones";
  sess.commit();
  CHECK(rows("p_nk_users", {"username", "fullname"}) ==
        std::vector<std::string>{"jack|jack jones"});
}

PARITY_CASE("NaturalPKTest", "test_load_after_expire") {
  Fresh fresh;
  Session sess(conformance::engine());
  auto u1 = sess.add(NkUser{.username = "jack", .fullname = "jack"});
  sess.commit();
  {
    auto conn = conformance::engine().connect();
    const Table users = ptable("p_nk_users");
    conn.execute(update(users).set("fullname", "jack2").where(users.c("username") == "jack"));
  }
  sess.expire(u1);
  CHECK(sess.get<NkUser>("jack") == u1);
  CHECK(u1->fullname == "jack2");
}

PARITY_CASE("NaturalPKTest", "test_flush_new_pk_after_expire") {
  // Differs on purpose: changing a persistent object's primary key is refused.
  Fresh fresh;
  Session sess(conformance::engine());
  auto u1 = sess.add(NkUser{.username = "jack", .fullname = "jack"});
  sess.commit();
  REQUIRE(sess.get<NkUser>("jack") == u1);
  u1->username = "ed";
  CHECK_THROWS_AS(sess.flush(), ArgumentError);
  sess.rollback();
  CHECK(rows("p_nk_users", {"username"}) == std::vector<std::string>{"jack"});
}

PARITY_CASE("NaturalPKTest", "test_onetomany_passive") {
  Fresh fresh;
  Session sess(conformance::engine());
  auto u1 = sess.add(NkUser{.username = "jack", .fullname = "jack"});
  u1->addresses.push_back(make(NkAddress{.email = "jack1"}));
  u1->addresses.push_back(make(NkAddress{.email = "jack2"}));
  sess.commit();
  CHECK(rows("p_nk_addresses", {"email", "username"}) ==
        std::vector<std::string>{"jack1|jack", "jack2|jack"});
  Session other(conformance::engine());
  auto loaded = other.get<NkUser>("jack");
  REQUIRE(loaded->addresses.size() == 2);
  CHECK(loaded->addresses[0]->user.get() == loaded);
  loaded->username = "ed"; // differs on purpose: no ON UPDATE cascade of keys
  CHECK_THROWS_AS(other.flush(), ArgumentError);
}

PARITY_CASE("NaturalPKTest", "test_manytoone_passive") {
  Fresh fresh;
  Session sess(conformance::engine());
  auto u1 = make(NkUser{.username = "jack", .fullname = "jack"});
  auto a1 = make(NkAddress{.email = "jack1"});
  auto a2 = make(NkAddress{.email = "jack2"});
  a1->user = u1;
  a2->user = u1;
  sess.add(a1);
  sess.add(a2);
  sess.commit();
  CHECK(rows("p_nk_addresses", {"email", "username"}) ==
        std::vector<std::string>{"jack1|jack", "jack2|jack"});
  Session other(conformance::engine());
  auto a = other.get<NkAddress>("jack1");
  CHECK(a->user->username == "jack");
}

PARITY_CASE("NaturalPKTest", "test_manytoone_nonpassive") {
  // Moving a child between natural-key parents writes the new key. Differs on purpose: a plain
  // struct the ORM has never seen has no hook in its Ref, so `a1->user = jack` cannot reach the
  // session; the object is added (or appended to jack->addresses) first.
  Fresh fresh;
  Session sess(conformance::engine());
  auto jack = sess.add(NkUser{.username = "jack", .fullname = "jack"});
  auto ed = sess.add(NkUser{.username = "ed", .fullname = "ed"});
  auto a1 = make(NkAddress{.email = "a1"});
  a1->user = jack;
  sess.commit();
  CHECK(sess.state_of(a1) == ObjectState::transient);
  sess.add(a1);
  sess.commit();
  a1->user = ed;
  CHECK(jack->addresses.empty());
  sess.commit();
  CHECK(rows("p_nk_addresses", {"email", "username"}) == std::vector<std::string>{"a1|ed"});
}

PARITY_CASE("NaturalPKTest", "test_manytoone_set_null") {
  Fresh fresh;
  Session sess(conformance::engine());
  auto jack = sess.add(NkUser{.username = "jack", .fullname = "jack"});
  auto a1 = make(NkAddress{.email = "a1"});
  jack->addresses.push_back(a1);
  sess.commit();
  a1->user = nullptr;
  sess.commit();
  CHECK(rows("p_nk_addresses", {"email", "username"}) == std::vector<std::string>{"a1|NULL"});
}

PARITY_CASE("NaturalPKTest", "test_bidirectional_passive") {
  // Differs on purpose as test_manytoone_nonpassive: a1 is added before `a1->user = u1`, which
  // then reaches u1's collection through the hook the session gave a1.
  Fresh fresh;
  Session sess(conformance::engine());
  auto u1 = sess.add(NkUser{.username = "jack", .fullname = "jack"});
  auto a1 = make(NkAddress{.email = "jack1"});
  sess.add(a1);
  a1->user = u1;
  CHECK(u1->addresses.size() == 1);
  auto a2 = make(NkAddress{.email = "jack2"});
  u1->addresses.push_back(a2);
  CHECK(a2->user.get() == u1);
  sess.commit();
  Session other(conformance::engine());
  auto loaded = other.get<NkUser>("jack");
  REQUIRE(loaded->addresses.size() == 2);
  CHECK(loaded->addresses[1]->email == "jack2");
}

PARITY_CASE("NaturalPKTest", "test_manytomany_passive") {
  Fresh fresh;
  Session sess(conformance::engine());
  auto u1 = sess.add(NkUser{.username = "jack", .fullname = "jack"});
  auto u2 = sess.add(NkUser{.username = "fred", .fullname = "fred"});
  auto i1 = make(NkItem{.itemname = "item1", .description = "i1"});
  auto i2 = make(NkItem{.itemname = "item2", .description = "i2"});
  u1->items.push_back(i1);
  u1->items.push_back(i2);
  i2->users.push_back(u2);
  sess.commit();
  CHECK(rows("p_nk_users_items", {"username", "itemname"}) ==
        std::vector<std::string>{"fred|item2", "jack|item1", "jack|item2"});
  Session other(conformance::engine());
  auto item2 = other.get<NkItem>("item2");
  REQUIRE(item2->users.size() == 2);
  CHECK(item2->users[0]->username == "fred");
  CHECK(item2->users[1]->username == "jack");
}

PARITY_CASE("NaturalPKTest", "test_manytomany_nonpassive") {
  // Removing a link between natural-key rows deletes only that association row.
  Fresh fresh;
  Session sess(conformance::engine());
  auto u1 = sess.add(NkUser{.username = "jack", .fullname = "jack"});
  auto i1 = make(NkItem{.itemname = "item1", .description = "i1"});
  auto i2 = make(NkItem{.itemname = "item2", .description = "i2"});
  u1->items.push_back(i1);
  u1->items.push_back(i2);
  sess.commit();
  u1->items.remove(i1);
  CHECK(i1->users.empty());
  sess.commit();
  CHECK(rows("p_nk_users_items", {"username", "itemname"}) ==
        std::vector<std::string>{"jack|item2"});
  CHECK(count("p_nk_items") == 2);
}

PARITY_CASE("NaturalPKTest", "test_delete_parent_nulls_natural_fk") {
  // test_onetomany_nonpassive's delete step: children keep their rows, their key goes NULL.
  Fresh fresh;
  Session sess(conformance::engine());
  auto u1 = sess.add(NkUser{.username = "jack", .fullname = "jack"});
  u1->addresses.push_back(make(NkAddress{.email = "jack1"}));
  sess.commit();
  sess.remove(u1);
  sess.commit();
  CHECK(count("p_nk_users") == 0);
  CHECK(rows("p_nk_addresses", {"email", "username"}) == std::vector<std::string>{"jack1|NULL"});
}

PARITY_CASE("TransientExceptionTesst", "test_transient_exception") {
  // A duplicate natural key in one flush is a database IntegrityError, and nothing is kept.
  Fresh fresh;
  Session sess(conformance::engine());
  sess.add(NkUser{.username = "jack", .fullname = "one"});
  sess.add(NkUser{.username = "jack", .fullname = "two"});
  CHECK_THROWS_AS(sess.flush(), IntegrityError);
  sess.rollback();
  CHECK(count("p_nk_users") == 0);
}

PARITY_CASE("ReversePKsTest", "test_reverse") {
  // Composite natural keys (code, status): each row found by its whole key. Swapping the keys
  // of two rows (the SQLAlchemy test) is a key update: differs on purpose (ArgumentError).
  Fresh fresh;
  Session sess(conformance::engine());
  auto a = sess.add(NkAccount{.code = 1, .status = 1, .username = "active"});
  auto b = sess.add(NkAccount{.code = 1, .status = 2, .username = "pending"});
  sess.commit();
  CHECK(sess.get<NkAccount>(1, 1) == a);
  CHECK(sess.get<NkAccount>(1, 2) == b);
  CHECK(sess.get<NkAccount>(2, 1) == nullptr);
  a->status = 3;
  CHECK_THROWS_AS(sess.flush(), ArgumentError);
  sess.rollback();
  CHECK(rows("p_nk_accounts", {"status", "username"}) ==
        std::vector<std::string>{"1|active", "2|pending"});
}

PARITY_CASE("SelfReferentialTest", "test_one_to_many_on_m2o") {
  Fresh fresh;
  Session sess(conformance::engine());
  auto n1 = make(NkNode{.name = "n1"});
  auto n11 = make(NkNode{.name = "n11"});
  auto n12 = make(NkNode{.name = "n12"});
  n1->children.push_back(n11);
  n1->children.push_back(n12);
  sess.add(n1);
  sess.commit();
  CHECK(rows("p_nk_nodes", {"name", "parent"}) ==
        std::vector<std::string>{"n1|NULL", "n11|n1", "n12|n1"});
  Session other(conformance::engine());
  auto loaded = other.get<NkNode>("n12");
  CHECK(loaded->parent_node->name == "n1");
  CHECK(loaded->parent_node->children.size() == 2);
}

PARITY_CASE("SelfReferentialTest", "test_many_to_one_passive") {
  // Rows added child first: the parent row goes in first all the same.
  Fresh fresh;
  Session sess(conformance::engine());
  auto n1 = make(NkNode{.name = "n1"});
  auto n11 = make(NkNode{.name = "n11"});
  auto n111 = make(NkNode{.name = "n111"});
  n111->parent_node = n11;
  n11->parent_node = n1;
  sess.add(n111);
  sess.commit();
  CHECK(rows("p_nk_nodes", {"name", "parent"}) ==
        std::vector<std::string>{"n1|NULL", "n11|n1", "n111|n11"});
}

PARITY_CASE("SelfReferentialTest", "test_many_to_one_nonpassive") {
  // Re-parenting within a natural-key tree.
  Fresh fresh;
  Session sess(conformance::engine());
  auto n1 = make(NkNode{.name = "n1"});
  auto n2 = make(NkNode{.name = "n2"});
  auto n11 = make(NkNode{.name = "n11"});
  n1->children.push_back(n11);
  sess.add(n1);
  sess.add(n2);
  sess.commit();
  n11->parent_node = n2;
  CHECK(n1->children.empty());
  sess.commit();
  CHECK(rows("p_nk_nodes", {"name", "parent"}) ==
        std::vector<std::string>{"n1|NULL", "n11|n2", "n2|NULL"});
}
