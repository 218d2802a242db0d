// Relationship changes that used to lose data silently: moving children between collections,
// re-parenting, orphans of delete-orphan collections, cascades along back_populates, many-to-many
// links recorded from both sides, and a deleted row's key taken over by a new object (row
// switch). Each case ports a scenario of SQLAlchemy's test suite and is named after it.
#include "models.hpp"

#include <catch2/catch.hpp>

#include <algorithm>

using namespace retort;
using namespace models;

namespace {

bool holds(const Collection<Address>& addresses, const std::shared_ptr<Address>& address) {
  const auto& items = addresses.items();
  return std::find(items.begin(), items.end(), address) != items.end();
}

// The user_id of address `id` as a fresh session reads it (nullopt when NULL or no row).
std::optional<std::int64_t> stored_user_id(std::int64_t id) {
  Session session(conformance::engine());
  auto address = session.get<Address>(id);
  return address ? address->user_id : std::nullopt;
}

struct TwoUsers {
  std::int64_t u1 = 0;
  std::int64_t u2 = 0;
  std::int64_t a1 = 0;
};

// u1 "jack" with address a1, and u2 "ed" without addresses, committed.
TwoUsers two_users() {
  Session session(conformance::engine());
  auto u1 = session.add(User{.name = "jack"});
  auto u2 = session.add(User{.name = "ed"});
  u1->addresses.push_back(std::make_shared<Address>(Address{.email = "address1"}));
  session.commit();
  return {u1->id, u2->id, u1->addresses[0]->id};
}

} // namespace

TEST_CASE("test_backref_mutations.py::O2MCollectionTest::test_collection_move_preloaded, issue 14 "
          "regression",
          "[orm][relationships][backref]") {
  conformance::FreshSchema schema;
  const TwoUsers ids = two_users();
  Session session(conformance::engine());
  auto u1 = session.get<User>(ids.u1);
  auto u2 = session.get<User>(ids.u2);
  REQUIRE(u1->addresses.size() == 1); // loaded
  auto a1 = u1->addresses[0];
  u2->addresses.push_back(a1);
  CHECK(a1->user.get() == u2);           // back_populates fires
  CHECK_FALSE(holds(u1->addresses, a1)); // and the old collection gives it up
  CHECK(holds(u2->addresses, a1));
  session.commit();
  CHECK(stored_user_id(ids.a1) == ids.u2);
}

TEST_CASE("test_backref_mutations.py::O2MCollectionTest::test_collection_move_notloaded, issue 14 "
          "regression",
          "[orm][relationships][backref]") {
  conformance::FreshSchema schema;
  const TwoUsers ids = two_users();
  Session session(conformance::engine());
  auto u1 = session.get<User>(ids.u1);
  auto u2 = session.get<User>(ids.u2);
  auto a1 = session.get<Address>(ids.a1); // u1->addresses and a1->user not loaded
  u2->addresses.push_back(a1);
  CHECK(a1->user.get() == u2);
  CHECK_FALSE(holds(u1->addresses, a1)); // loads after the move is flushed
  CHECK(holds(u2->addresses, a1));
  session.commit();
  CHECK(stored_user_id(ids.a1) == ids.u2);
}

TEST_CASE("test_backref_mutations.py::O2MCollectionTest::test_collection_move_commitfirst, issue "
          "14 regression",
          "[orm][relationships][backref]") {
  conformance::FreshSchema schema;
  const TwoUsers ids = two_users();
  Session session(conformance::engine());
  auto u1 = session.get<User>(ids.u1);
  auto u2 = session.get<User>(ids.u2);
  auto a1 = u1->addresses[0];
  u2->addresses.push_back(a1);
  CHECK(a1->user.get() == u2);
  session.commit(); // everything expires; the collections load what was written
  CHECK(stored_user_id(ids.a1) == ids.u2);
  CHECK_FALSE(holds(u1->addresses, a1));
  CHECK(holds(u2->addresses, a1));
}

TEST_CASE("test_backref_mutations.py::O2MCollectionTest::test_collection_move_hitslazy, issue 14 "
          "regression",
          "[orm][relationships][backref][statements]") {
  conformance::FreshSchema schema;
  Session session(conformance::engine());
  auto u1 = session.add(User{.name = "jack"});
  for (const char* email : {"address1", "address2", "address3"})
    u1->addresses.push_back(std::make_shared<Address>(Address{.email = email}));
  session.commit(); // everything expired: no collection or reference is loaded
  std::vector<std::shared_ptr<Address>> moved{u1->addresses.items()};
  session.expire_all();
  auto u2 = session.add(User{.name = "ed"}); // pending: its collection needs no load
  {
    conformance::StatementCounter counter;
    for (const auto& a : moved)
      u2->addresses.push_back(a);
    CHECK(counter.count() == 0); // the old owner is found without SQL
  }
  for (const auto& a : moved)
    CHECK(a->user.get() == u2);
  session.commit();
  Session other(conformance::engine());
  CHECK(other.get<User>(u1->id)->addresses.empty());
  CHECK(other.get<User>(u2->id)->addresses.size() == 3);
}

TEST_CASE(
    "test_backref_mutations.py::O2MCollectionTest::test_scalar_move_preloaded, issue 14 regression",
    "[orm][relationships][backref]") {
  conformance::FreshSchema schema;
  const TwoUsers ids = two_users();
  Session session(conformance::engine());
  auto u1 = session.get<User>(ids.u1);
  auto u2 = session.get<User>(ids.u2);
  auto a1 = u1->addresses[0];
  a1->user = u2;
  CHECK_FALSE(holds(u1->addresses, a1));
  CHECK(holds(u2->addresses, a1));
  session.commit();
  CHECK(stored_user_id(ids.a1) == ids.u2);
}

TEST_CASE("test_cascade.py::O2MConflictTest::test_o2m_delete_old, issue 14 regression",
          "[orm][relationships][cascade]") {
  // The old parent is deleted (no delete cascade); the child moves to a new parent and keeps
  // its row with the new foreign key.
  conformance::FreshSchema schema;
  const TwoUsers ids = two_users();
  Session session(conformance::engine());
  auto u1 = session.get<User>(ids.u1);
  auto a1 = u1->addresses[0];
  session.remove(u1);
  auto u3 = session.add(User{.name = "new"});
  u3->addresses.push_back(a1);
  session.commit();
  CHECK(stored_user_id(ids.a1) == u3->id);
}

TEST_CASE("test_cascade.py::O2MConflictTest::test_o2o_delorphan_delete_old (one-to-many), issue 14 "
          "regression",
          "[orm][relationships][cascade]") {
  // Delete and delete-orphan cascades: the parent's delete reached the child, then the child
  // was given a new parent in the same flush. SQLAlchemy's save-update cascade takes it back
  // from the deletion: it survives with its new parent.
  conformance::FreshSchema schema;
  std::int64_t child_id = 0;
  std::int64_t p1_id = 0;
  {
    Session session(conformance::engine());
    auto p1 = session.add(Parent{.name = "p1"});
    p1->children.push_back(std::make_shared<Child>(Child{.name = "c1"}));
    session.commit();
    child_id = p1->children[0]->id;
    p1_id = p1->id;
  }
  Session session(conformance::engine());
  auto p1 = session.get<Parent>(p1_id);
  auto c1 = p1->children[0];
  session.remove(p1); // cascades to c1
  CHECK(session.state_of(c1) == ObjectState::deleted);
  auto p2 = session.add(Parent{.name = "p2"});
  p2->children.push_back(c1);
  CHECK(session.state_of(c1) == ObjectState::persistent);
  session.commit();
  Session other(conformance::engine());
  auto stored = other.get<Child>(child_id);
  REQUIRE(stored);
  CHECK(stored->parent_id == p2->id);
  CHECK(other.query<Parent>().count() == 1);
}

TEST_CASE("re-parenting: a child removed from a parent that is then deleted survives with its "
          "new parent (issue 14, item 13)",
          "[orm][relationships][cascade]") {
  conformance::FreshSchema schema;
  std::int64_t p1_id = 0;
  std::int64_t p2_id = 0;
  {
    Session session(conformance::engine());
    auto p1 = session.add(Parent{.name = "p1"});
    auto p2 = session.add(Parent{.name = "p2"});
    p1->children.push_back(std::make_shared<Child>(Child{.name = "moved"}));
    p1->children.push_back(std::make_shared<Child>(Child{.name = "dropped"}));
    session.commit();
    p1_id = p1->id;
    p2_id = p2->id;
  }
  Session session(conformance::engine());
  auto parents = session.query<Parent>().order_by(col(&Parent::id)).all(); // children selectin
  REQUIRE(parents.size() == 2);
  auto p1 = parents[0];
  auto p2 = parents[1];
  auto moved = p1->children[0];
  p1->children.remove(moved);
  session.remove(p1);
  p2->children.push_back(moved);
  session.commit();
  Session other(conformance::engine());
  auto children = other.query<Child>().all();
  REQUIRE(children.size() == 1); // "dropped" went with p1
  CHECK(children[0]->name == "moved");
  CHECK(children[0]->parent_id == p2_id);
  CHECK_FALSE(other.get<Parent>(p1_id));
}

TEST_CASE("test_cascade.py::O2MCascadeDeleteOrphanTest::test_list_assignment_replace, issue 14 "
          "regression",
          "[orm][relationships][cascade][orphans]") {
  conformance::FreshSchema schema;
  Session session(conformance::engine());
  auto p = session.add(Parent{.name = "jack"});
  p->children.push_back(std::make_shared<Child>(Child{.name = "someorder"}));
  p->children.push_back(std::make_shared<Child>(Child{.name = "someotherorder"}));
  p->children = Collection<Child>{std::make_shared<Child>(Child{.name = "order 3"}),
                                  std::make_shared<Child>(Child{.name = "order 4"})};
  session.commit(); // the dropped pending children are not inserted (their key would be 0)
  auto children = session.query<Child>().order_by(col(&Child::id)).all();
  REQUIRE(children.size() == 2);
  CHECK(children[0]->name == "order 3");
  CHECK(children[1]->name == "order 4");

  // And once persistent, replacing the collection deletes the dropped children.
  p->children = Collection<Child>{std::make_shared<Child>(Child{.name = "order 5"})};
  session.commit();
  children = session.query<Child>().all();
  REQUIRE(children.size() == 1);
  CHECK(children[0]->name == "order 5");
}

TEST_CASE("test_cascade.py::O2MCascadeDeleteOrphanTest::test_remove_pending_from_collection, issue "
          "14 regression",
          "[orm][relationships][cascade][orphans]") {
  conformance::FreshSchema schema;
  Session session(conformance::engine());
  auto u = session.add(Parent{.name = "jack"});
  session.commit();
  auto o1 = std::make_shared<Child>(Child{.name = "o1"});
  u->children.push_back(o1);
  CHECK(session.state_of(o1) == ObjectState::pending);
  u->children.remove(o1);
  CHECK(session.state_of(o1) == ObjectState::transient);
  session.commit();
  CHECK(session.query<Child>().count() == 0);
}

TEST_CASE("test_cascade.py::PendingOrphanTestSingleLevel::test_pending_collection_expunge, issue "
          "14 regression",
          "[orm][relationships][cascade][orphans]") {
  conformance::FreshSchema schema;
  Session session(conformance::engine());
  auto u = session.add(Parent{.name = "u"});
  session.flush();
  auto a = std::make_shared<Child>(Child{.name = "a"});
  u->children.push_back(a);
  CHECK(session.state_of(a) == ObjectState::pending);
  u->children.remove(a);
  CHECK(session.state_of(a) == ObjectState::transient);
  session.remove(u);
  session.flush();
  CHECK(a->id == 0); // never persisted
  session.commit();
  CHECK(session.query<Child>().count() == 0);
}

TEST_CASE("test_cascade.py::PendingOrphanTestSingleLevel::test_nonorphans_ok, issue 14 regression",
          "[orm][relationships][cascade][orphans]") {
  // Without delete-orphan, a pending child removed from its collection stays in the session
  // and is inserted without a parent.
  conformance::FreshSchema schema;
  Session session(conformance::engine());
  auto u = session.add(User{.name = "u1"});
  auto a1 = std::make_shared<Address>(Address{.email = "ad1"});
  u->addresses.push_back(a1);
  u->addresses.remove(a1);
  CHECK(session.state_of(a1) == ObjectState::pending);
  session.commit();
  CHECK(a1->id != 0);
  CHECK(stored_user_id(a1->id) == std::nullopt);
}

TEST_CASE("back_populates cascades save-update: child->parent = p saves the child (issue 14, "
          "item 7)",
          "[orm][relationships][cascade]") {
  conformance::FreshSchema schema;
  Session session(conformance::engine());
  auto p = session.add(User{.name = "p"});
  session.commit();
  // A child outside the session that has a hook: one whose session rolled back its insert.
  auto child = session.add(Address{.email = "child"});
  session.rollback();
  REQUIRE(session.state_of(child) == ObjectState::transient);
  child->user = p;
  CHECK(session.state_of(child) == ObjectState::pending);
  CHECK(holds(p->addresses, child));
  session.commit();
  CHECK(stored_user_id(child->id) == p->id);

  // The symmetric append.
  auto other = std::make_shared<Address>(Address{.email = "other"});
  p->addresses.push_back(other);
  CHECK(session.state_of(other) == ObjectState::pending);
  session.commit();
  CHECK(stored_user_id(other->id) == p->id);
}

TEST_CASE("test_backref_mutations.py::M2MCollectionMoveTest::test_duplicate_adds (one link row), "
          "issue 14 regression",
          "[orm][relationships][m2m]") {
  // The link is recorded by the append and again by the cascade that adds the other side:
  // one row, not two (a UNIQUE violation on the association table).
  conformance::FreshSchema schema;
  Session session(conformance::engine());
  session.add(Course{.title = "art"}); // the two sides' keys differ: (ann 1, math 2)
  auto ann = session.add(Student{.name = "ann"});
  auto math = std::make_shared<Course>(Course{.title = "math"});
  ann->courses.push_back(math);
  session.add(Student{.name = "bob"}); // another pending object in play
  session.commit();
  CHECK(session.query<Enrollment>().count() == 1);
  session.commit();
  Session other(conformance::engine());
  auto loaded = other.query<Student>().filter_by(&Student::name, "ann").one();
  REQUIRE(loaded->courses.size() == 1);
  CHECK(loaded->courses[0]->title == "math");
}

TEST_CASE("test_unitofworkv2.py::SingleCycleTest::test_cycle_rowswitch, issue 14 regression",
          "[orm][uow][rowswitch]") {
  conformance::FreshSchema schema;
  Session session(conformance::engine());
  auto n1 = session.add(Node{.label = "n1"});
  auto n2 = std::make_shared<Node>(Node{.label = "n2"});
  n1->children.push_back(n2);
  session.flush();
  session.remove(n2);
  auto n3 = std::make_shared<Node>(Node{.id = n2->id, .label = "n3"});
  n1->children.push_back(n3);
  session.flush(); // an UPDATE of n2's row, not an INSERT of a duplicate key
  session.commit();
  CHECK(session.state_of(n3) == ObjectState::persistent);
  CHECK(session.state_of(n2) == ObjectState::detached);
  Session other(conformance::engine());
  auto row = other.get<Node>(n2->id);
  REQUIRE(row);
  CHECK(row->label == "n3");
  CHECK(row->parent_id == n1->id);
  CHECK(other.query<Node>().count() == 2);
}

TEST_CASE("test_unitofworkv2.py::RowswitchAccountingTest::test_switch_on_update (composite key), "
          "issue 14 regression",
          "[orm][uow][rowswitch]") {
  conformance::FreshSchema schema;
  Session session(conformance::engine());
  auto old = session.add(OrderLine{.order_id = 1, .line_no = 1, .product = "old", .price = 1});
  session.commit();
  session.remove(old);
  auto replacement =
      session.add(OrderLine{.order_id = 1, .line_no = 1, .product = "new", .price = 2});
  {
    conformance::StatementCounter counter;
    session.commit();
    CHECK(counter.count() == 1); // one UPDATE
  }
  {
    Session other(conformance::engine());
    auto rows = other.query<OrderLine>().all();
    REQUIRE(rows.size() == 1);
    CHECK(rows[0]->product == "new");
    CHECK(rows[0]->price == 2);
  }
  // The session's object for the key is the new one.
  CHECK(session.get<OrderLine>(1, 1) == replacement);
}

TEST_CASE("row switch undone by rollback: the deleted object is back, the new one transient",
          "[orm][uow][rowswitch]") {
  conformance::FreshSchema schema;
  Session session(conformance::engine());
  auto old = session.add(OrderLine{.order_id = 2, .line_no = 1, .product = "old", .price = 1});
  session.commit();
  session.remove(old);
  auto replacement =
      session.add(OrderLine{.order_id = 2, .line_no = 1, .product = "new", .price = 2});
  session.flush();
  session.rollback();
  CHECK(session.state_of(old) == ObjectState::persistent);
  CHECK(session.state_of(replacement) == ObjectState::transient);
  CHECK(session.get<OrderLine>(2, 1) == old);
  CHECK(old->product == "old");
}
