// One kind of tracked object: made by session.add(T{...}), by std::make_shared<T>() + add(ptr),
// by add_all(), appended to a collection, or loaded, an object's state, its identity after
// expunge() or close(), back-population and cascades are the same.
#include "models.hpp"

#include <catch2/catch.hpp>

#include <functional>
#include <string>
#include <utility>
#include <vector>

using namespace retort;
using models::Child;
using models::Parent;
using models::User;

namespace {

// The ways an application hands a new User to a session.
std::vector<std::pair<std::string, std::function<std::shared_ptr<User>(Session&)>>> makers() {
  return {
      {"add(T{...})", [](Session& s) { return s.add(User{.name = "Ann", .age = 30}); }},
      {"make_shared + add(ptr)",
       [](Session& s) {
         auto u = std::make_shared<User>(User{.name = "Ann", .age = 30});
         s.add(u);
         return u;
       }},
      {"make_shared + add_all",
       [](Session& s) {
         auto u = std::make_shared<User>(User{.name = "Ann", .age = 30});
         s.add_all(std::vector<std::shared_ptr<User>>{u});
         return u;
       }},
  };
}

} // namespace

TEST_CASE("an object expunged after commit is detached, whoever made it", "[orm][identity]") {
  for (const auto& [how, make] : makers()) {
    INFO(how);
    conformance::FreshSchema schema;
    Session session(conformance::engine());
    auto user = make(session);
    session.commit();
    const auto id = user->id;
    session.expunge(user);
    CHECK(session.state_of(user) == ObjectState::detached);

    // Re-added, it is the same row: an UPDATE, not a second INSERT (duplicate key).
    Session other(conformance::engine());
    other.add(user);
    CHECK(other.state_of(user) == ObjectState::persistent);
    user->age = 31;
    other.commit();
    CHECK(other.query<User>().count() == 1);
    CHECK(other.get<User>(id)->age == 31);
  }
}

TEST_CASE("an object of a closed session is detached, whoever made it", "[orm][identity]") {
  for (const auto& [how, make] : makers()) {
    INFO(how);
    conformance::FreshSchema schema;
    std::shared_ptr<User> user;
    {
      Session session(conformance::engine());
      user = make(session);
      session.commit();
      session.close();
      CHECK(session.state_of(user) == ObjectState::detached);
    }
    Session other(conformance::engine());
    CHECK(other.state_of(user) == ObjectState::detached);
    other.add(user);
    user->name = "Bea";
    other.commit();
    REQUIRE(other.query<User>().count() == 1);
    CHECK(other.query<User>().first()->name == "Bea");
  }
}

TEST_CASE("a pending object expunged or left by a rollback is transient, whoever made it",
          "[orm][identity]") {
  for (const auto& [how, make] : makers()) {
    INFO(how);
    conformance::FreshSchema schema;
    Session session(conformance::engine());
    auto user = make(session);
    session.expunge(user);
    CHECK(session.state_of(user) == ObjectState::transient);
    session.add(user);
    session.flush();
    session.rollback();
    CHECK(session.state_of(user) == ObjectState::transient);
    CHECK(user->id == 0);
    session.add(user); // inserted anew
    session.commit();
    CHECK(session.query<User>().count() == 1);
  }
}

TEST_CASE("detached children the application made come back persistent with their parent",
          "[orm][identity][cascade]") {
  conformance::FreshSchema schema;
  auto parent = std::make_shared<Parent>(Parent{.name = "p"});
  auto first = std::make_shared<Child>(Child{.name = "a"});
  auto second = std::make_shared<Child>(Child{.name = "b"});
  {
    Session session(conformance::engine(), SessionOptions{.expire_on_commit = false});
    parent->children.push_back(first);
    parent->children.push_back(second);
    session.add(parent);
    session.commit();
  } // closed: all three detached
  Session session(conformance::engine());
  CHECK(session.state_of(first) == ObjectState::detached);
  session.add(parent); // save-update cascades to the children: persistent again, not new
  CHECK(session.state_of(first) == ObjectState::persistent);
  CHECK(session.state_of(second) == ObjectState::persistent);
  first->name = "a2";
  session.commit();
  CHECK(session.query<Child>().count() == 2);
  CHECK(session.query<Child>().filter_by(&Child::name, "a2").count() == 1);
}

TEST_CASE("a selectin load sets the back reference of children the application made",
          "[orm][identity][relationships]") {
  conformance::FreshSchema schema;
  Session session(conformance::engine());
  auto parent = std::make_shared<Parent>(Parent{.name = "p"});
  auto child = std::make_shared<Child>(Child{.name = "c"});
  parent->children.push_back(child);
  session.add(parent);
  session.commit();                             // everything expired
  auto parents = session.query<Parent>().all(); // children by selectin
  REQUIRE(parents.size() == 1);
  CHECK(parents[0] == parent);
  conformance::StatementCounter counter;
  CHECK(child->parent.get() == parent); // set by the load, as for a loaded child: no SQL
  CHECK(counter.count() == 0);
}

TEST_CASE("get() of an object whose row another transaction deleted: deleted, and back after "
          "a rollback",
          "[orm][identity]") {
  conformance::FreshSchema schema;
  Session session(conformance::engine());
  auto user = session.add(User{.name = "gone"});
  session.commit(); // expired: get() goes to the database
  const auto id = user->id;
  auto drop_row = [id] {
    Session other(conformance::engine());
    other.remove(other.get<User>(id));
    other.commit();
  };
  drop_row();
  CHECK(session.get<User>(id) == nullptr);
  CHECK(session.state_of(user) == ObjectState::deleted);
  CHECK(session.identity_map_size() == 0);
  session.rollback(); // SQLAlchemy: the transaction's view of the object comes back
  CHECK(session.state_of(user) == ObjectState::persistent);
  CHECK(session.identity_map_size() == 1);

  CHECK(session.get<User>(id) == nullptr);
  session.commit();
  CHECK(session.state_of(user) == ObjectState::detached);
  CHECK(session.identity_map_size() == 0);
}

TEST_CASE("an add() refused for an object its cascade reaches changes nothing",
          "[orm][identity][failure]") {
  conformance::FreshSchema schema;
  Session owner(conformance::engine());
  auto address = owner.add(models::Address{.email = "a@x"}); // pending in another session
  auto user = std::make_shared<User>(User{.name = "u"});
  user->addresses.push_back(address);
  Session session(conformance::engine());
  CHECK_THROWS_AS(session.add(user), InvalidStateError);
  CHECK(session.state_of(user) == ObjectState::transient);
  session.commit();
  CHECK(session.query<User>().count() == 0);
}
