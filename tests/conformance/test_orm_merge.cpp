// merge() of transient and detached graphs: collections and references are merged along the
// merge cascade, as in SQLAlchemy. Scenarios of SQLAlchemy's test/orm/test_merge.py, named
// after them.
#include "models.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace retort;
using models::Address;
using models::Child;
using models::Course;
using models::Parent;
using models::Student;
using models::User;

namespace {

std::vector<std::string> emails(Session& session, std::int64_t user_id) {
  std::vector<std::string> out;
  auto user = session.get<User>(user_id);
  REQUIRE(user);
  for (const auto& address : user->addresses)
    out.push_back(address->email);
  return out;
}

std::shared_ptr<Address> address(std::int64_t id, std::string email) {
  return std::make_shared<Address>(Address{.id = id, .email = std::move(email)});
}

} // namespace

TEST_CASE("test_merge.py::MergeTest::test_transient_to_pending_collection, issue 14 regression",
          "[orm][merge]") {
  conformance::FreshSchema schema;
  User u{.id = 7, .name = "fred"};
  u.addresses.push_back(address(1, "fred1"));
  u.addresses.push_back(address(2, "fred2"));
  {
    Session sess(conformance::engine());
    auto merged = sess.merge(u);
    CHECK(merged.get() != &u);
    CHECK(sess.state_of(merged) == ObjectState::pending);
    REQUIRE(merged->addresses.size() == 2);
    CHECK(merged->addresses[0] != u.addresses[0]); // merged copies, not the source's objects
    CHECK(merged->addresses[0]->user.get() == merged);
    sess.commit();
  }
  Session check(conformance::engine());
  CHECK(emails(check, 7) == std::vector<std::string>{"fred1", "fred2"});
}

TEST_CASE("test_merge.py::MergeTest::test_transient_to_persistent_collection, issue 14 regression",
          "[orm][merge]") {
  conformance::FreshSchema schema;
  {
    Session sess(conformance::engine());
    auto p = sess.add(Parent{.id = 7, .name = "fred"});
    p->children.push_back(std::make_shared<Child>(Child{.id = 1, .name = "fred1"}));
    p->children.push_back(std::make_shared<Child>(Child{.id = 2, .name = "fred2"}));
    sess.commit();
  }
  Session sess(conformance::engine());
  Parent p{.id = 7, .name = "fred"};
  p.children.push_back(std::make_shared<Child>(Child{.id = 3, .name = "fred3"}));
  p.children.push_back(std::make_shared<Child>(Child{.id = 4, .name = "fred4"}));
  auto merged = sess.merge(p);
  REQUIRE(merged->children.size() == 2);
  CHECK(merged->children[0]->name == "fred3");
  sess.commit();
  // Children 1 and 2 left the collection: delete-orphan deleted them.
  auto children = sess.query<Child>().order_by(col(&Child::id)).all();
  REQUIRE(children.size() == 2);
  CHECK(children[0]->id == 3);
  CHECK(children[1]->id == 4);
  CHECK(children[0]->parent_id == 7);
}

TEST_CASE("test_merge.py::MergeTest::test_detached_to_persistent_collection, issue 14 regression",
          "[orm][merge]") {
  conformance::FreshSchema schema;
  std::shared_ptr<User> u;
  std::shared_ptr<Address> a;
  {
    Session sess(conformance::engine());
    u = std::make_shared<User>(User{.id = 7, .name = "fred"});
    a = address(1, "fred1");
    u->addresses.push_back(a);
    u->addresses.push_back(address(2, "fred2"));
    sess.add(u);
    sess.flush();
    sess.commit();
    CHECK(u->addresses.size() == 2); // loaded before the session goes
  }
  // Detached: changed without a session.
  u->name = "fred jones";
  u->addresses.push_back(address(3, "fred3"));
  u->addresses.remove(a);

  Session sess(conformance::engine());
  auto merged = sess.merge(*u);
  CHECK(merged != u);
  sess.commit();
  Session check(conformance::engine());
  CHECK(check.get<User>(7)->name == "fred jones");
  CHECK(emails(check, 7) == std::vector<std::string>{"fred2", "fred3"});
  // Not delete-orphan: the removed address stays, without its user.
  auto removed = check.get<Address>(1);
  REQUIRE(removed);
  CHECK_FALSE(removed->user_id.has_value());
}

TEST_CASE("test_merge.py::MergeTest::test_unsaved_cascade, issue 14 regression", "[orm][merge]") {
  conformance::FreshSchema schema;
  auto u = std::make_shared<User>(User{.name = "fred"});
  u->addresses.push_back(std::make_shared<Address>(Address{.email = "foo@bar.com"}));
  u->addresses.push_back(std::make_shared<Address>(Address{.email = "hoho@bar.com"}));
  Session sess(conformance::engine());
  auto u2 = sess.merge(*u);
  CHECK(u2 != u);
  sess.commit();
  CHECK(sess.query<User>().count() == 1);
  CHECK(sess.query<Address>().count() == 2);
  REQUIRE(u2->addresses.size() == 2);
  CHECK(u2->addresses[0] != u->addresses[0]);
  CHECK(u2->addresses[0]->user_id == u2->id);
  CHECK(sess.state_of(u) == ObjectState::transient); // the source is left alone
}

TEST_CASE("test_merge.py::MergeTest::test_one_to_many_cascade, issue 14 regression",
          "[orm][merge]") {
  conformance::FreshSchema schema;
  {
    Session sess(conformance::engine());
    auto u = sess.add(User{.id = 7, .name = "fred"});
    u->addresses.push_back(address(1, "fred1"));
    sess.commit();
  }
  // A transient graph with the same keys and a child's column changed: the change cascades.
  User u{.id = 7, .name = "fred"};
  u.addresses.push_back(address(1, "fred1 modified"));
  Session sess(conformance::engine());
  auto merged = sess.merge(u);
  sess.commit();
  Session check(conformance::engine());
  CHECK(emails(check, 7) == std::vector<std::string>{"fred1 modified"});
  CHECK(check.get<Address>(1)->user_id == 7); // the key stays with the relationship
}

TEST_CASE("test_merge.py::MergeTest::test_many_to_many_cascade, issue 14 regression",
          "[orm][merge]") {
  conformance::FreshSchema schema;
  Student s{.id = 1, .name = "ann"};
  s.courses.push_back(std::make_shared<Course>(Course{.id = 1, .title = "math"}));
  s.courses.push_back(std::make_shared<Course>(Course{.id = 2, .title = "art"}));
  {
    Session sess(conformance::engine());
    sess.merge(s);
    sess.commit();
  }
  Session sess(conformance::engine());
  auto student = sess.get<Student>(1);
  REQUIRE(student);
  REQUIRE(student->courses.size() == 2);
  CHECK(student->courses[1]->title == "art");
  // Merging a graph without one course takes the link away, not the course.
  Student again{.id = 1, .name = "ann"};
  again.courses.push_back(std::make_shared<Course>(Course{.id = 2, .title = "art"}));
  sess.merge(again);
  sess.commit();
  Session check(conformance::engine());
  REQUIRE(check.get<Student>(1)->courses.size() == 1);
  CHECK(check.query<Course>().count() == 2);
}

TEST_CASE("test_merge.py::MergeTest::test_transient_non_mutated_collection, issue 14 regression",
          "[orm][merge]") {
  conformance::FreshSchema schema;
  {
    Session s(conformance::engine());
    auto u = s.add(User{.id = 7, .name = "fred"});
    u->addresses.push_back(address(1, "jack@bean.com"));
    s.commit();
  }
  Session s(conformance::engine());
  auto u2 = s.merge(User{.id = 7, .name = "fred"}); // the collection was never set
  s.commit();
  CHECK(emails(s, 7) == std::vector<std::string>{"jack@bean.com"});
}
