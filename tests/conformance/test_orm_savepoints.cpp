// Session savepoints: Session::begin_nested(), SQLAlchemy's SAVEPOINT semantics. Scenarios of
// SQLAlchemy's test/orm/test_transaction.py, named after them.
#include "models.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace retort;
using models::Address;
using models::User;

namespace {

std::vector<std::string> names(Session& session) {
  std::vector<std::string> out;
  for (const auto& user : session.query<User>().order_by(col(&User::id)).all())
    out.push_back(user->name);
  return out;
}

} // namespace

TEST_CASE("test_transaction.py::SavepointTest::test_savepoint_rollback, issue 14 regression",
          "[orm][savepoint]") {
  conformance::FreshSchema schema;
  Session s(conformance::engine());
  auto u1 = s.add(User{.name = "ed"});
  auto u2 = s.add(User{.name = "jack"});
  auto nt1 = s.begin_nested(); // flushes u1 and u2 first
  CHECK(s.state_of(u1) == ObjectState::persistent);
  auto u3 = s.add(User{.name = "wendy"});
  auto u4 = std::make_shared<User>(User{.name = "foo"});
  s.add(u4);
  u1->name = "edward";
  u2->name = "jackward";
  CHECK(names(s) == std::vector<std::string>{"edward", "jackward", "wendy", "foo"});
  nt1.rollback();
  CHECK_FALSE(nt1.is_active());
  // The objects are as they were at the savepoint, the rows too.
  CHECK(u1->name == "ed");
  CHECK(u2->name == "jack");
  CHECK(s.state_of(u3) == ObjectState::transient);
  CHECK(s.state_of(u4) == ObjectState::transient);
  CHECK(u3->id == 0);
  CHECK(names(s) == std::vector<std::string>{"ed", "jack"});
  s.commit(); // the enclosing transaction went on
  CHECK(u1->name == "ed");
  CHECK(names(s) == std::vector<std::string>{"ed", "jack"});
}

TEST_CASE("test_transaction.py::SavepointTest::test_savepoint_commit, issue 14 regression",
          "[orm][savepoint]") {
  conformance::FreshSchema schema;
  Session s(conformance::engine());
  auto u1 = s.add(User{.name = "ed"});
  auto u2 = s.add(User{.name = "jack"});
  auto nt1 = s.begin_nested();
  s.add(User{.name = "wendy"});
  s.add(User{.name = "foo"});
  u1->name = "edward";
  u2->name = "jackward";
  nt1.commit();
  CHECK_FALSE(nt1.is_active());
  CHECK(u1->name == "edward");
  CHECK(names(s) == std::vector<std::string>{"edward", "jackward", "wendy", "foo"});
  s.commit();
  Session check(conformance::engine());
  CHECK(names(check) == std::vector<std::string>{"edward", "jackward", "wendy", "foo"});
}

TEST_CASE("test_transaction.py::SavepointTest::test_savepoint_delete, issue 14 regression",
          "[orm][savepoint]") {
  conformance::FreshSchema schema;
  Session s(conformance::engine());
  auto u1 = s.add(User{.name = "ed"});
  s.commit();
  CHECK(s.query<User>().filter_by(&User::name, "ed").count() == 1);
  auto nested = s.begin_nested();
  s.remove(u1);
  nested.commit();
  CHECK(s.query<User>().filter_by(&User::name, "ed").count() == 0);
  s.commit();
  CHECK(s.query<User>().count() == 0);
}

TEST_CASE("test_transaction.py::SessionTransactionTest::test_nested_accounting_new_items_removed, "
          "issue 14 regression",
          "[orm][savepoint]") {
  conformance::FreshSchema schema;
  Session session(conformance::engine());
  auto n1 = session.begin_nested();
  auto u1 = session.add(User{.name = "u1"});
  n1.commit();
  CHECK(session.state_of(u1) == ObjectState::persistent);
  session.rollback(); // the whole transaction
  CHECK(session.state_of(u1) == ObjectState::transient);
  CHECK(session.query<User>().count() == 0);
}

TEST_CASE(
    "test_transaction.py::SessionTransactionTest::test_nested_accounting_deleted_items_restored",
    "[orm][savepoint]") {
  conformance::FreshSchema schema;
  Session session(conformance::engine());
  session.add(User{.name = "u1"});
  session.commit();
  auto u1 = session.query<User>().first();
  auto n1 = session.begin_nested();
  session.remove(u1);
  n1.commit();
  CHECK(session.state_of(u1) == ObjectState::deleted);
  CHECK(session.identity_map_size() == 0);
  session.rollback();
  CHECK(session.state_of(u1) == ObjectState::persistent);
  CHECK(session.query<User>().count() == 1);
}

TEST_CASE(
    "test_transaction.py::SessionTransactionTest::test_nested_transaction, issue 14 regression",
    "[orm][savepoint]") {
  conformance::FreshSchema schema;
  Session sess(conformance::engine());
  sess.add(User{.name = "u1"});
  sess.flush();
  auto n1 = sess.begin_nested();
  auto u2 = sess.add(User{.name = "u2"});
  sess.flush();
  CHECK(u2->id > 0);
  n1.rollback();
  CHECK(sess.state_of(u2) == ObjectState::transient);
  sess.commit();
  CHECK(sess.query<User>().all().size() == 1);
}

TEST_CASE("test_transaction.py::SessionTransactionTest::test_nested_autotrans, issue 14 regression",
          "[orm][savepoint]") {
  conformance::FreshSchema schema;
  Session sess(conformance::engine());
  sess.add(User{.name = "u1"});
  sess.flush();
  auto nested = sess.begin_nested();
  sess.add(User{.name = "u2"});
  sess.flush();
  sess.rollback(); // rolls back the whole transaction, and ends the savepoint
  CHECK_FALSE(nested.is_active());
  CHECK_THROWS_AS(nested.commit(), InvalidStateError);
  sess.commit();
  CHECK(sess.query<User>().all().empty());
}

TEST_CASE(
    "test_transaction.py::SavepointTest::test_expunge_pending_on_rollback, issue 14 regression",
    "[orm][savepoint]") {
  conformance::FreshSchema schema;
  Session sess(conformance::engine());
  auto nested = sess.begin_nested();
  auto u2 = sess.add(User{.name = "newuser"});
  CHECK(sess.state_of(u2) == ObjectState::pending);
  nested.rollback();
  CHECK(sess.state_of(u2) == ObjectState::transient);
  sess.commit();
  CHECK(sess.query<User>().count() == 0);
}

TEST_CASE(
    "test_transaction.py::SavepointTest::test_update_deleted_on_rollback, issue 14 regression",
    "[orm][savepoint]") {
  conformance::FreshSchema schema;
  Session s(conformance::engine());
  auto u1 = s.add(User{.name = "ed"});
  s.commit();
  auto nested = s.begin_nested();
  s.remove(u1);
  CHECK(s.state_of(u1) == ObjectState::deleted);
  s.flush();
  nested.rollback();
  CHECK(s.state_of(u1) == ObjectState::persistent);
  s.commit();
  CHECK(s.query<User>().count() == 1);
}

TEST_CASE(
    "test_transaction.py::SavepointTest::test_savepoint_rollback_collections, issue 14 regression",
    "[orm][savepoint]") {
  conformance::FreshSchema schema;
  Session s(conformance::engine());
  auto u1 = s.add(User{.name = "ed"});
  u1->addresses.push_back(std::make_shared<Address>(Address{.email = "foo"}));
  s.commit();
  u1->name = "edward";
  u1->addresses.push_back(std::make_shared<Address>(Address{.email = "bar"}));
  auto nt1 = s.begin_nested();
  auto u2 = s.add(User{.name = "jack"});
  auto bat = std::make_shared<Address>(Address{.email = "bat"});
  u2->addresses.push_back(bat);
  CHECK(names(s) == std::vector<std::string>{"edward", "jack"});
  nt1.rollback();
  CHECK(s.state_of(bat) == ObjectState::transient);
  auto check = [&] {
    auto users = s.query<User>().order_by(col(&User::id)).all();
    REQUIRE(users.size() == 1);
    CHECK(users[0]->name == "edward");
    REQUIRE(users[0]->addresses.size() == 2);
    CHECK(users[0]->addresses[0]->email == "foo");
    CHECK(users[0]->addresses[1]->email == "bar");
  };
  check();
  s.commit();
  check();
}

TEST_CASE(
    "test_transaction.py::SavepointTest::test_savepoint_commit_collections, issue 14 regression",
    "[orm][savepoint]") {
  conformance::FreshSchema schema;
  Session s(conformance::engine());
  auto u1 = s.add(User{.name = "ed"});
  u1->addresses.push_back(std::make_shared<Address>(Address{.email = "foo"}));
  s.commit();
  u1->name = "edward";
  u1->addresses.push_back(std::make_shared<Address>(Address{.email = "bar"}));
  auto nested = s.begin_nested();
  auto u2 = s.add(User{.name = "jack"});
  u2->addresses.push_back(std::make_shared<Address>(Address{.email = "bat"}));
  nested.commit();
  s.commit();
  Session other(conformance::engine());
  auto users = other.query<User>().order_by(col(&User::id)).all();
  REQUIRE(users.size() == 2);
  CHECK(users[0]->name == "edward");
  CHECK(users[0]->addresses.size() == 2);
  CHECK(users[1]->addresses.size() == 1);
}

TEST_CASE("savepoints nest: an inner rollback leaves the outer savepoint's work",
          "[orm][savepoint]") {
  conformance::FreshSchema schema;
  Session s(conformance::engine());
  auto outer = s.begin_nested();
  auto kept = s.add(User{.name = "kept"});
  auto inner = s.begin_nested();
  auto dropped = s.add(User{.name = "dropped"});
  kept->name = "changed";
  s.flush();
  inner.rollback();
  CHECK(kept->name == "kept");
  CHECK(s.state_of(kept) == ObjectState::persistent);
  CHECK(s.state_of(dropped) == ObjectState::transient);
  outer.commit();
  s.commit();
  CHECK(names(s) == std::vector<std::string>{"kept"});

  // Rolling the outer one back ends the inner one too.
  auto a = s.begin_nested();
  auto b = s.begin_nested();
  s.add(User{.name = "gone"});
  a.rollback();
  CHECK_FALSE(b.is_active());
  s.commit();
  CHECK(names(s) == std::vector<std::string>{"kept"});
}

TEST_CASE("a savepoint dropped uncommitted is rolled back", "[orm][savepoint]") {
  conformance::FreshSchema schema;
  Session s(conformance::engine());
  std::shared_ptr<User> user;
  {
    auto nested = s.begin_nested();
    user = s.add(User{.name = "dropped"});
    s.flush();
  }
  CHECK(s.state_of(user) == ObjectState::transient);
  s.commit();
  CHECK(s.query<User>().count() == 0);
}

TEST_CASE("Connection::begin_nested() on a session's connection is refused", "[orm][savepoint]") {
  conformance::FreshSchema schema;
  Session s(conformance::engine());
  auto user = s.add(User{.name = "u"});
  s.flush();
  CHECK_THROWS_AS(s.connection().begin_nested(), InvalidStateError);
  CHECK(s.state_of(user) == ObjectState::persistent);
  s.commit();
  CHECK(s.query<User>().count() == 1);
}
