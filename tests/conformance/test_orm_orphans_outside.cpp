// A child taken out of a collection while the collection's owner is in no session, then given
// back to a session: SQLAlchemy's "orphaned outside of session" mark (set by the removal,
// cleared by Session.add() and by the child's next parent) decides whether the flush inserts
// it or drops it as an orphan (test_cascade.py's pending-orphan scenarios, session.py's
// _save_or_update_state()).
#include "parity/parity_models.hpp"

using namespace retort;
using namespace parity;

namespace {

// A pending address, and the parent it was put into and taken out of; the parent was never in
// a session.
struct TakenOut {
  std::shared_ptr<CoAddress> address;
  std::shared_ptr<CoUser> parent;
};

TakenOut taken_out_of_unseen_parent(Session& sess, const char* email, const char* parent_name) {
  auto a = make(CoAddress{.email_address = email});
  sess.add(a);
  auto u = make(CoUser{.name = parent_name});
  u->addresses.push_back(a);
  u->addresses.remove(a);
  return {a, u};
}

} // namespace

TEST_CASE("a pending child taken out of a parent no session has seen, then added again, is "
          "inserted (delete-orphan)",
          "[orm][cascade][orphans]") {
  Fresh fresh;
  Session sess(conformance::engine());
  auto a = make(CoAddress{.email_address = "a1"});
  sess.add(a);
  auto made = sess.add(CoAddress{.email_address = "a2"});
  auto u = make(CoUser{.name = "jack"}); // never in a session
  u->addresses.push_back(a);
  u->addresses.push_back(made);
  u->addresses.remove(a);
  u->addresses.remove(made);
  // SQLAlchemy's add() clears the mark: the object is no orphan of a collection any more, and
  // is inserted without a parent (the database judges its foreign key).
  sess.add(a);
  sess.add(made);
  sess.flush();
  CHECK(sess.state_of(a) == ObjectState::persistent);
  CHECK(sess.state_of(made) == ObjectState::persistent);
  sess.commit();
  CHECK(rows("p_co_addresses", {"email_address", "user_id"}) ==
        std::vector<std::string>{"a1|NULL", "a2|NULL"});
  CHECK(count("p_co_users") == 0);
}

TEST_CASE("a pending child taken out of a parent no session has seen, expunged and added again, "
          "is inserted",
          "[orm][cascade][orphans]") {
  Fresh fresh;
  Session sess(conformance::engine());
  auto [a, u] = taken_out_of_unseen_parent(sess, "a1", "jack"); // u: alive, as a user holds it
  sess.expunge(a);
  sess.add(a);
  sess.commit();
  CHECK(rows("p_co_addresses", {"email_address", "user_id"}) ==
        std::vector<std::string>{"a1|NULL"});
}

TEST_CASE("a pending child taken out of a parent no session has seen, then not added again, "
          "leaves the session at the flush (delete-orphan)",
          "[orm][cascade][orphans]") {
  // The control for the case above: the mark alone makes it an orphan.
  Fresh fresh;
  Session sess(conformance::engine());
  auto [a, u] = taken_out_of_unseen_parent(sess, "a1", "jack"); // u: alive, as a user holds it
  sess.flush();
  CHECK(sess.state_of(a) == ObjectState::transient);
  sess.commit();
  CHECK(count("p_co_addresses") == 0);
}

TEST_CASE("a pending child taken out of a parent no session has seen, then added again, is "
          "inserted (no delete-orphan)",
          "[orm][cascade][orphans]") {
  Fresh fresh;
  Session sess(conformance::engine());
  auto o = make(CdOrder{.description = "o1"});
  sess.add(o);
  auto u = make(CdUser{.name = "jack"});
  u->orders.push_back(o);
  u->orders.remove(o);
  sess.add(o);
  sess.commit();
  CHECK(rows("p_cd_orders", {"description", "user_id"}) == std::vector<std::string>{"o1|NULL"});
}

TEST_CASE("a pending child taken out of a parent no session has seen, then given to a "
          "persistent parent, is inserted with it",
          "[orm][cascade][orphans]") {
  Fresh fresh;
  Session sess(conformance::engine());
  auto u2 = sess.add(CoUser{.name = "ed"});
  sess.flush();
  auto [a, u] = taken_out_of_unseen_parent(sess, "a1", "jack"); // u: alive, as a user holds it
  u2->addresses.push_back(a);
  sess.commit();
  CHECK(rows("p_co_addresses", {"email_address", "user_id"}) ==
        std::vector<std::string>{"a1|" + str(u2->id)});
  CHECK(rows("p_co_users", {"name"}) == std::vector<std::string>{"ed"});
}

TEST_CASE("a pending child taken out of a parent no session has seen, then put back, is "
          "inserted",
          "[orm][cascade][orphans]") {
  Fresh fresh;
  {
    // Put back, and the parent added: inserted with the parent.
    Session sess(conformance::engine());
    auto [a, u] = taken_out_of_unseen_parent(sess, "a1", "jack");
    u->addresses.push_back(a);
    sess.add(u);
    sess.commit();
    CHECK(rows("p_co_addresses", {"email_address", "user_id"}) ==
          std::vector<std::string>{"a1|" + str(u->id)});
  }
  // Put back into a parent that stays out of the session: it has a parent again, so it is no
  // orphan (SQLAlchemy's has-parent flag); the parent is not saved, so its key stays empty.
  Session sess(conformance::engine());
  auto [a, u] = taken_out_of_unseen_parent(sess, "a2", "ed");
  u->addresses.push_back(a);
  sess.commit();
  CHECK(sess.state_of(a) == ObjectState::persistent);
  CHECK(rows("p_co_addresses", {"email_address"}) == std::vector<std::string>{"a1", "a2"});
}

TEST_CASE("a persistent child taken out of a detached parent, then put back or given to another "
          "parent, stays",
          "[orm][cascade][orphans]") {
  Fresh fresh;
  std::shared_ptr<CoUser> u;
  std::shared_ptr<CoAddress> a1, a2;
  std::int64_t other = 0;
  {
    Session sess(conformance::engine(), SessionOptions{.expire_on_commit = false});
    u = sess.add(CoUser{.name = "jack"});
    a1 = make(CoAddress{.email_address = "a1"});
    a2 = make(CoAddress{.email_address = "a2"});
    u->addresses.push_back(a1);
    u->addresses.push_back(a2);
    auto ed = sess.add(CoUser{.name = "ed"});
    sess.commit();
    other = ed->id;
  }
  // Detached now: both removals are remembered with the parent.
  u->addresses.remove(a1);
  u->addresses.remove(a2);
  u->addresses.push_back(a1);
  Session sess(conformance::engine());
  auto ed = sess.get<CoUser>(other);
  REQUIRE(ed);
  sess.add(a2);
  ed->addresses.push_back(a2);
  sess.add(u);
  sess.commit();
  CHECK(rows("p_co_addresses", {"email_address", "user_id"}) ==
        std::vector<std::string>{"a1|" + str(u->id), "a2|" + str(other)});
}

TEST_CASE("test_cascade.py::O2MCascadeDeleteOrphanTest::test_save_update_sends_pending, with a "
          "back reference: the removed child is deleted when the parent joins again",
          "[orm][cascade][orphans]") {
  Fresh fresh;
  std::shared_ptr<CoUser> u;
  std::shared_ptr<CoAddress> a1, a2;
  std::shared_ptr<CdUser> cu;
  std::shared_ptr<CdOrder> o1, o2;
  {
    Session sess(conformance::engine(), SessionOptions{.expire_on_commit = false});
    u = sess.add(CoUser{.name = "jack"});
    a1 = make(CoAddress{.email_address = "a1"});
    a2 = make(CoAddress{.email_address = "a2"});
    u->addresses.push_back(a1);
    u->addresses.push_back(a2);
    cu = sess.add(CdUser{.name = "ed"});
    o1 = make(CdOrder{.description = "o1"});
    o2 = make(CdOrder{.description = "o2"});
    cu->orders.push_back(o1);
    cu->orders.push_back(o2);
    sess.commit();
  }
  // Detached: the back references follow at once, as SQLAlchemy's backrefs do.
  u->addresses.remove(a1);
  cu->orders.remove(o1);
  CHECK(a1->user.get() == nullptr);
  CHECK(o1->user.get() == nullptr);
  CHECK(a2->user.get() == u);
  Session sess(conformance::engine());
  sess.add(u);
  sess.add(cu);
  // The removed children joined too, and did not go back into the collections.
  CHECK(sess.state_of(a1) == ObjectState::persistent);
  CHECK(u->addresses.items() == std::vector<std::shared_ptr<CoAddress>>{a2});
  CHECK(cu->orders.items() == std::vector<std::shared_ptr<CdOrder>>{o2});
  sess.commit();
  // delete-orphan deletes it; without, its foreign key is cleared.
  CHECK(rows("p_co_addresses", {"email_address", "user_id"}) ==
        std::vector<std::string>{"a2|" + str(u->id)});
  CHECK(rows("p_cd_orders", {"description", "user_id"}) ==
        std::vector<std::string>{"o1|NULL", "o2|" + str(cu->id)});
}

TEST_CASE("a persistent child taken out of a detached parent's collection and put back keeps "
          "its parent in memory and in the database",
          "[orm][cascade][orphans]") {
  Fresh fresh;
  std::shared_ptr<CoUser> u;
  std::shared_ptr<CoAddress> a1;
  {
    Session sess(conformance::engine(), SessionOptions{.expire_on_commit = false});
    u = sess.add(CoUser{.name = "jack"});
    a1 = make(CoAddress{.email_address = "a1"});
    u->addresses.push_back(a1);
    sess.commit();
  }
  u->addresses.remove(a1);
  u->addresses.push_back(a1);
  CHECK(a1->user.get() == u);
  Session sess(conformance::engine(), SessionOptions{.expire_on_commit = false});
  sess.add(u);
  sess.commit();
  CHECK(a1->user.get() == u);
  CHECK(a1->user_id == u->id);
  CHECK(rows("p_co_addresses", {"email_address", "user_id"}) ==
        std::vector<std::string>{"a1|" + str(u->id)});
}

TEST_CASE("a persistent child taken out of a detached parent's collection, then added alone, "
          "loses its parent",
          "[orm][cascade][orphans]") {
  // SQLAlchemy's backref sets the child's reference to None: the session the child joins
  // writes its foreign key as NULL (and leaves the parent out).
  Fresh fresh;
  std::shared_ptr<CdUser> u;
  std::shared_ptr<CdOrder> o;
  {
    Session sess(conformance::engine(), SessionOptions{.expire_on_commit = false});
    u = sess.add(CdUser{.name = "jack"});
    o = make(CdOrder{.description = "o1"});
    u->orders.push_back(o);
    sess.commit();
  }
  u->orders.remove(o);
  CHECK(o->user.get() == nullptr);
  Session sess(conformance::engine());
  sess.add(o);
  CHECK(sess.state_of(u) == ObjectState::detached);
  sess.commit();
  CHECK(rows("p_cd_orders", {"description", "user_id"}) == std::vector<std::string>{"o1|NULL"});
}
