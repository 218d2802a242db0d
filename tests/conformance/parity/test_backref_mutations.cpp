// SQLAlchemy's test/orm/test_backref_mutations.py, ported: back_populates keeps both sides of a
// relationship in step in memory, and the database follows, for collection and scalar moves,
// removals, bulk replacement and many-to-many collections.
#include "parity_models.hpp"

using namespace retort;
using namespace parity;

namespace {

struct UsersFixture {
  Fresh fresh;
  std::int64_t u1_id = 0;
  std::int64_t a1_id = 0;
  // jack with one address, committed.
  UsersFixture() {
    Session sess(conformance::engine());
    auto u1 = sess.add(User{.name = "jack"});
    auto a1 = make(Address{.email_address = "a1"});
    u1->addresses.push_back(a1);
    sess.commit();
    u1_id = u1->id;
    a1_id = a1->id;
  }
};

std::vector<std::string> address_owner() { return rows("p_addresses", {"id", "user_id"}); }

} // namespace

#define PARITY_CASE(cls, name)                                                                     \
  TEST_CASE("test_backref_mutations.py::" cls "::" name, "[parity][backref]")

PARITY_CASE("O2MCollectionTest", "test_collection_move_hitslazy") {
  Fresh fresh;
  Session sess(conformance::engine());
  auto u1 = sess.add(User{.name = "jack"});
  auto a1 = make(Address{.email_address = "address1"});
  auto a2 = make(Address{.email_address = "address2"});
  auto a3 = make(Address{.email_address = "address3"});
  for (auto& a : {a1, a2, a3})
    u1->addresses.push_back(a);
  sess.commit();
  auto u2 = sess.add(User{.name = "ed"});
  for (auto& a : {a1, a2, a3})
    u2->addresses.push_back(a); // the addresses' users load lazily, then move
  CHECK(a1->user.get() == u2);
  CHECK(a3->user.get() == u2);
  sess.commit();
  CHECK(rows("p_addresses", {"email_address", "user_id"}) ==
        std::vector<std::string>{"address1|" + str(u2->id), "address2|" + str(u2->id),
                                 "address3|" + str(u2->id)});
  CHECK(u1->addresses.empty());
}

PARITY_CASE("O2MCollectionTest", "test_collection_move_preloaded") {
  UsersFixture f;
  Session sess(conformance::engine());
  auto u1 = sess.get<User>(f.u1_id);
  auto u2 = sess.add(User{.name = "ed"});
  sess.flush();
  REQUIRE(u1->addresses.size() == 1); // preloaded
  auto a1 = u1->addresses[0];
  CHECK(a1->user.get() == u1);
  u2->addresses.push_back(a1);
  CHECK(a1->user.get() == u2);
  CHECK(u1->addresses.empty()); // in memory, before any flush
  sess.commit();
  CHECK(u1->addresses.empty());
  sess.close(); // rows() reads on a connection of its own (:memory: has one)
  CHECK(rows("p_addresses", {"id", "user_id"}) ==
        std::vector<std::string>{str(a1->id) + "|" + str(u2->id)});
}

PARITY_CASE("O2MCollectionTest", "test_collection_move_notloaded") {
  UsersFixture f;
  Session sess(conformance::engine());
  auto u1 = sess.get<User>(f.u1_id);
  auto a1 = sess.get<Address>(f.a1_id);
  auto u2 = sess.add(User{.name = "ed"});
  CHECK_FALSE(u1->addresses.loaded());
  u2->addresses.push_back(a1);
  CHECK(a1->user.get() == u2);
  sess.commit();
  CHECK(rows("p_addresses", {"id", "user_id"}) ==
        std::vector<std::string>{str(a1->id) + "|" + str(u2->id)});
  CHECK(u1->addresses.empty());
  CHECK(u2->addresses.size() == 1);
}

PARITY_CASE("O2MCollectionTest", "test_collection_move_commitfirst") {
  UsersFixture f;
  Session sess(conformance::engine());
  auto u1 = sess.get<User>(f.u1_id);
  auto u2 = sess.add(User{.name = "ed"});
  REQUIRE(u1->addresses.size() == 1);
  auto a1 = u1->addresses[0];
  sess.commit(); // everything expired
  u2->addresses.push_back(a1);
  sess.commit();
  CHECK(rows("p_addresses", {"id", "user_id"}) ==
        std::vector<std::string>{str(a1->id) + "|" + str(u2->id)});
  CHECK(u1->addresses.empty());
  CHECK(a1->user.get() == u2);
}

PARITY_CASE("O2MCollectionTest", "test_scalar_move_preloaded") {
  UsersFixture f;
  Session sess(conformance::engine());
  auto u1 = sess.get<User>(f.u1_id);
  auto u2 = sess.add(User{.name = "ed"});
  sess.flush();
  REQUIRE(u1->addresses.size() == 1);
  auto a1 = u1->addresses[0];
  CHECK(u2->addresses.empty()); // preload u2's too
  a1->user = u2;
  CHECK(u1->addresses.empty());
  REQUIRE(u2->addresses.size() == 1);
  CHECK(u2->addresses[0] == a1);
  sess.commit();
  CHECK(rows("p_addresses", {"id", "user_id"}) ==
        std::vector<std::string>{str(a1->id) + "|" + str(u2->id)});
}

PARITY_CASE("O2MCollectionTest", "test_scalar_move_notloaded") {
  UsersFixture f;
  Session sess(conformance::engine());
  auto u1 = sess.get<User>(f.u1_id);
  auto a1 = sess.get<Address>(f.a1_id);
  auto u2 = sess.add(User{.name = "ed"});
  a1->user = u2;
  sess.commit();
  CHECK(u1->addresses.empty());
  REQUIRE(u2->addresses.size() == 1);
  CHECK(u2->addresses[0] == a1);
}

PARITY_CASE("O2MCollectionTest", "test_scalar_move_commitfirst") {
  UsersFixture f;
  Session sess(conformance::engine());
  auto u1 = sess.get<User>(f.u1_id);
  auto u2 = sess.add(User{.name = "ed"});
  REQUIRE(u1->addresses.size() == 1);
  auto a1 = u1->addresses[0];
  sess.commit();
  a1->user = u2;
  sess.commit();
  CHECK(rows("p_addresses", {"id", "user_id"}) ==
        std::vector<std::string>{str(a1->id) + "|" + str(u2->id)});
  CHECK(u1->addresses.empty());
  CHECK(u2->addresses.size() == 1);
}

PARITY_CASE("O2MCollectionTest", "test_set_none") {
  UsersFixture f;
  Session sess(conformance::engine());
  auto u1 = sess.get<User>(f.u1_id);
  auto a1 = sess.get<Address>(f.a1_id);
  REQUIRE(u1->addresses.size() == 1);
  a1->user = nullptr;
  CHECK(u1->addresses.empty());
  sess.commit();
  CHECK(address_owner() == std::vector<std::string>{str(f.a1_id) + "|NULL"});
}

PARITY_CASE("O2MCollectionTest", "test_collection_assignment_mutates_previous_one") {
  Fresh fresh;
  Session sess(conformance::engine());
  auto u1 = sess.add(User{.name = "jack"});
  auto u2 = sess.add(User{.name = "ed"});
  auto a1 = make(Address{.email_address = "a1"});
  u1->addresses = Collection<Address>{a1};
  CHECK(a1->user.get() == u1);
  u2->addresses = Collection<Address>{a1};
  CHECK(a1->user.get() == u2);
  CHECK(u1->addresses.empty());
  sess.commit();
  CHECK(rows("p_addresses", {"email_address", "user_id"}) ==
        std::vector<std::string>{"a1|" + str(u2->id)});
}

PARITY_CASE("O2MCollectionTest", "test_collection_assignment_mutates_previous_two") {
  Fresh fresh;
  Session sess(conformance::engine());
  auto u1 = sess.add(User{.name = "jack"});
  auto u2 = sess.add(User{.name = "ed"});
  auto a1 = make(Address{.email_address = "a1"});
  auto a2 = make(Address{.email_address = "a2"});
  u1->addresses = Collection<Address>{a1, a2};
  sess.commit();
  u2->addresses = Collection<Address>{a1};
  CHECK(a1->user.get() == u2);
  CHECK(u1->addresses.size() == 1);
  CHECK(u1->addresses[0] == a2);
  sess.commit();
  CHECK(rows("p_addresses", {"email_address", "user_id"}) ==
        std::vector<std::string>{"a1|" + str(u2->id), "a2|" + str(u1->id)});
}

PARITY_CASE("O2MCollectionTest", "test_del_from_collection") {
  UsersFixture f;
  Session sess(conformance::engine());
  auto u1 = sess.get<User>(f.u1_id);
  REQUIRE(u1->addresses.size() == 1);
  auto a1 = u1->addresses[0];
  u1->addresses.remove(a1);
  CHECK(a1->user.get() == nullptr);
  sess.commit();
  CHECK(address_owner() == std::vector<std::string>{str(f.a1_id) + "|NULL"});
}

PARITY_CASE("O2MCollectionTest", "test_del_from_scalar") {
  UsersFixture f;
  Session sess(conformance::engine());
  auto u1 = sess.get<User>(f.u1_id);
  REQUIRE(u1->addresses.size() == 1);
  auto a1 = u1->addresses[0];
  a1->user = nullptr;
  CHECK(u1->addresses.empty());
  sess.commit();
  CHECK(address_owner() == std::vector<std::string>{str(f.a1_id) + "|NULL"});
}

PARITY_CASE("O2MCollectionTest", "test_straight_remove") {
  Fresh fresh;
  Session sess(conformance::engine());
  auto u1 = sess.add(User{.name = "jack"});
  auto a1 = make(Address{.email_address = "a1"});
  u1->addresses.push_back(a1);
  CHECK(a1->user.get() == u1);
  u1->addresses.remove(a1);
  CHECK(a1->user.get() == nullptr);
  sess.commit();
  // a1 was cascaded into the session by the append: saved, with no user.
  CHECK(rows("p_addresses", {"email_address", "user_id"}) == std::vector<std::string>{"a1|NULL"});
}

PARITY_CASE("O2MCollectionTest", "test_append_del") {
  UsersFixture f;
  Session sess(conformance::engine());
  auto u1 = sess.get<User>(f.u1_id);
  auto a2 = make(Address{.email_address = "a2"});
  u1->addresses.push_back(a2);
  u1->addresses.remove(a2);
  CHECK(u1->addresses.size() == 1);
  CHECK(a2->user.get() == nullptr);
  sess.commit();
  CHECK(rows("p_addresses", {"email_address", "user_id"}) ==
        std::vector<std::string>{"a1|" + str(f.u1_id), "a2|NULL"});
}

PARITY_CASE("O2MCollectionTest", "test_bulk_replace") {
  Fresh fresh;
  Session sess(conformance::engine());
  auto u1 = sess.add(User{.name = "jack"});
  auto a1 = make(Address{.email_address = "a1"});
  auto a2 = make(Address{.email_address = "a2"});
  auto a3 = make(Address{.email_address = "a3"});
  u1->addresses = Collection<Address>{a1, a2};
  sess.commit();
  u1->addresses = Collection<Address>{a2, a3};
  CHECK(a1->user.get() == nullptr);
  CHECK(a2->user.get() == u1);
  CHECK(a3->user.get() == u1);
  sess.commit();
  CHECK(rows("p_addresses", {"email_address", "user_id"}) ==
        std::vector<std::string>{"a1|NULL", "a2|" + str(u1->id), "a3|" + str(u1->id)});
}

PARITY_CASE("O2MCollectionTest", "test_tuple_assignment_w_reverse") {
  // u1.addresses[0], u1.addresses[1] = a2, a1 as a replacement with both reordered.
  Fresh fresh;
  Session sess(conformance::engine());
  auto u1 = sess.add(User{.name = "jack"});
  auto a1 = make(Address{.email_address = "a1"});
  auto a2 = make(Address{.email_address = "a2"});
  u1->addresses = Collection<Address>{a1, a2};
  sess.flush();
  u1->addresses = Collection<Address>{a2, a1};
  CHECK(a1->user.get() == u1);
  CHECK(a2->user.get() == u1);
  sess.commit();
  CHECK(rows("p_addresses", {"email_address", "user_id"}) ==
        std::vector<std::string>{"a1|" + str(u1->id), "a2|" + str(u1->id)});
}

PARITY_CASE("O2MStaleBackrefTest", "test_backref_pop_m2o") {
  // Moving a1 from u1 to u2 and then to nothing: neither collection keeps it.
  UsersFixture f;
  Session sess(conformance::engine());
  auto u1 = sess.get<User>(f.u1_id);
  auto u2 = sess.add(User{.name = "ed"});
  REQUIRE(u1->addresses.size() == 1);
  auto a1 = u1->addresses[0];
  a1->user = u2;
  a1->user = nullptr;
  CHECK(u1->addresses.empty());
  CHECK(u2->addresses.empty());
  sess.commit();
  CHECK(address_owner() == std::vector<std::string>{str(f.a1_id) + "|NULL"});
}

// ---- many-to-many: Item.keywords <-> Keyword.items

#undef PARITY_CASE
#define PARITY_CASE(cls, name)                                                                     \
  TEST_CASE("test_backref_mutations.py::" cls "::" name, "[parity][backref][m2m]")

PARITY_CASE("M2MCollectionMoveTest", "test_add_remove_pending_backref") {
  Fresh fresh;
  Session sess(conformance::engine());
  auto i1 = sess.add(Item{.description = "i1"});
  sess.commit();
  auto k1 = make(Keyword{.name = "k1"});
  i1->keywords.push_back(k1);
  CHECK(k1->items.size() == 1);
  i1->keywords.remove(k1);
  CHECK(k1->items.empty());
  sess.commit();
  CHECK(count("p_item_keywords") == 0);
  CHECK(rows("p_keywords", {"name"}) == std::vector<std::string>{"k1"}); // cascaded in, kept
  CHECK(i1->keywords.empty());
}

PARITY_CASE("M2MCollectionMoveTest", "test_remove_add_pending_backref") {
  Fresh fresh;
  Session sess(conformance::engine());
  auto i1 = sess.add(Item{.description = "i1"});
  auto k1 = make(Keyword{.name = "k1"});
  i1->keywords.push_back(k1);
  sess.commit();
  i1->keywords.remove(k1);
  i1->keywords.push_back(k1);
  sess.commit();
  CHECK(rows("p_item_keywords", {"item_id", "keyword_id"}) ==
        std::vector<std::string>{str(i1->id) + "|" + str(k1->id)});
  REQUIRE(i1->keywords.size() == 1);
  CHECK(i1->keywords[0] == k1);
}

PARITY_CASE("M2MCollectionMoveTest", "test_pending_combines_with_flushed") {
  Fresh fresh;
  Session sess(conformance::engine());
  auto i1 = sess.add(Item{.description = "i1"});
  auto k1 = make(Keyword{.name = "k1"});
  auto k2 = make(Keyword{.name = "k2"});
  i1->keywords.push_back(k1);
  sess.commit();
  i1->keywords.push_back(k2);
  CHECK(k2->items.size() == 1);
  sess.commit();
  REQUIRE(i1->keywords.size() == 2);
  CHECK(i1->keywords[0] == k1);
  CHECK(i1->keywords[1] == k2);
  sess.close(); // count() reads on a connection of its own (:memory: has one)
  CHECK(count("p_item_keywords") == 2);
}

PARITY_CASE("M2MCollectionMoveTest", "test_bulk_replace") {
  Fresh fresh;
  Session sess(conformance::engine());
  auto i1 = sess.add(Item{.description = "i1"});
  auto k1 = make(Keyword{.name = "k1"});
  auto k2 = make(Keyword{.name = "k2"});
  auto k3 = make(Keyword{.name = "k3"});
  i1->keywords = Collection<Keyword>{k1, k2};
  sess.commit();
  i1->keywords = Collection<Keyword>{k2, k3};
  CHECK(k1->items.empty());
  CHECK(k3->items.size() == 1);
  sess.commit();
  CHECK(rows("p_item_keywords", {"keyword_id", "item_id"}) ==
        std::vector<std::string>{str(k2->id) + "|" + str(i1->id), str(k3->id) + "|" + str(i1->id)});
}

PARITY_CASE("M2MScalarMoveTest", "test_collection_move_preloaded") {
  // An item moved from one keyword's collection to another's.
  Fresh fresh;
  Session sess(conformance::engine());
  auto i1 = sess.add(Item{.description = "i1"});
  auto k1 = sess.add(Keyword{.name = "k1"});
  auto k2 = sess.add(Keyword{.name = "k2"});
  k1->items.push_back(i1);
  sess.commit();
  REQUIRE(i1->keywords.size() == 1);
  k1->items.remove(i1);
  k2->items.push_back(i1);
  REQUIRE(i1->keywords.size() == 1);
  CHECK(i1->keywords[0] == k2);
  sess.commit();
  CHECK(rows("p_item_keywords", {"keyword_id", "item_id"}) ==
        std::vector<std::string>{str(k2->id) + "|" + str(i1->id)});
}

PARITY_CASE("M2MScalarMoveTest", "test_collection_move_notloaded") {
  Fresh fresh;
  std::int64_t i1_id = 0, k1_id = 0, k2_id = 0;
  {
    Session sess(conformance::engine());
    auto i1 = sess.add(Item{.description = "i1"});
    auto k1 = sess.add(Keyword{.name = "k1"});
    sess.add(Keyword{.name = "k2"});
    k1->items.push_back(i1);
    sess.commit();
    i1_id = i1->id;
    k1_id = k1->id;
  }
  Session sess(conformance::engine());
  auto i1 = sess.get<Item>(i1_id);
  auto k1 = sess.get<Keyword>(k1_id);
  auto k2 = sess.query<Keyword>().filter_by(&Keyword::name, "k2").one();
  k2_id = k2->id;
  k1->items.remove(i1);
  k2->items.push_back(i1);
  sess.commit();
  CHECK(rows("p_item_keywords", {"keyword_id", "item_id"}) ==
        std::vector<std::string>{str(k2_id) + "|" + str(i1_id)});
}

PARITY_CASE("M2MStaleBackrefTest", "test_backref_pop_m2m") {
  Fresh fresh;
  Session sess(conformance::engine());
  auto i1 = sess.add(Item{.description = "i1"});
  auto k1 = sess.add(Keyword{.name = "k1"});
  auto k2 = sess.add(Keyword{.name = "k2"});
  k1->items.push_back(i1);
  k2->items.push_back(i1);
  sess.commit();
  k1->items.remove(i1);
  CHECK(i1->keywords.size() == 1);
  CHECK(i1->keywords[0] == k2);
  sess.commit();
  CHECK(count("p_item_keywords") == 1);
}
