// Relationships: one-to-many / many-to-one with back_populates and order_by, cascades, trees,
// many-to-many, loader strategies and the statements they cost.
#include "models.hpp"

#include <catch2/catch.hpp>

using namespace retort;
using namespace models;

namespace {

std::int64_t make_user_with_addresses(const char* name, std::vector<std::string> emails) {
  Session session(conformance::engine());
  auto user = session.add(User{.name = name, .age = 30});
  for (auto& email : emails)
    user->addresses.push_back(std::make_shared<Address>(Address{.email = email}));
  session.commit();
  return user->id;
}

} // namespace

TEST_CASE("one-to-many: children saved with their parent, back_populates in memory",
          "[orm][relationships]") {
  conformance::FreshSchema schema;
  Session session(conformance::engine());
  auto user = session.add(User{.name = "John", .age = 25});
  auto home = std::make_shared<Address>(Address{.email = "john@home"});
  user->addresses.push_back(home);
  CHECK(home->user.get() == user); // back_populates, before any flush
  auto work = session.add(Address{.email = "john@work"});
  work->user = user;
  CHECK(user->addresses.size() == 2); // the other direction
  session.commit();
  CHECK(home->user_id == user->id);
  CHECK(work->user_id == user->id);

  Session other(conformance::engine());
  auto loaded = other.get<User>(user->id);
  REQUIRE(loaded->addresses.size() == 2);
  CHECK(loaded->addresses[0]->email == "john@home"); // order_by(&Address::id)
  CHECK(loaded->addresses[1]->email == "john@work");
  CHECK(loaded->addresses[0]->user.get() == loaded);
}

TEST_CASE("many-to-one: assigning a reference sets the foreign key", "[orm][relationships]") {
  conformance::FreshSchema schema;
  Session session(conformance::engine());
  auto ann = session.add(User{.name = "Ann"});
  auto bob = session.add(User{.name = "Bob"});
  auto address = session.add(Address{.email = "shared@x"});
  address->user = ann;
  session.commit();
  CHECK(address->user_id == ann->id);
  address->user = bob; // moves between collections in memory too
  CHECK(bob->addresses.size() == 1);
  CHECK(ann->addresses.empty());
  session.commit();
  {
    Session other(conformance::engine());
    CHECK(other.get<Address>(address->id)->user->name == "Bob");
  }
  address->user = nullptr;
  session.commit();
  Session third(conformance::engine());
  CHECK_FALSE(third.get<Address>(address->id)->user_id.has_value());
}

TEST_CASE("lazy loading emits one SELECT per relationship; selectin two for N parents",
          "[orm][relationships][statements]") {
  conformance::FreshSchema schema;
  for (int i = 0; i < 5; ++i)
    make_user_with_addresses(("u" + std::to_string(i)).c_str(),
                             {"a@" + std::to_string(i), "b@" + std::to_string(i)});

  {
    Session session(conformance::engine());
    conformance::StatementCounter counter;
    auto users = session.query<User>().options(selectinload(&User::addresses)).all();
    REQUIRE(users.size() == 5);
    std::size_t addresses = 0;
    for (const auto& u : users)
      addresses += u->addresses.size();
    CHECK(addresses == 10);
    CHECK(counter.count() == 2); // no N+1
  }
  {
    Session session(conformance::engine());
    conformance::StatementCounter counter;
    auto users = session.query<User>().all();
    for (const auto& u : users)
      CHECK(u->addresses.size() == 2);
    CHECK(counter.count() == 1 + 5); // lazy: one per parent
  }
  {
    Session session(conformance::engine());
    conformance::StatementCounter counter;
    auto users =
        session.query<User>().options(joinedload(&User::addresses)).order_by(col(&User::id)).all();
    REQUIRE(users.size() == 5); // parents uniquified
    for (const auto& u : users)
      CHECK(u->addresses.size() == 2);
    CHECK(counter.count() == 1);
  }
  {
    Session session(conformance::engine());
    auto addresses = session.query<Address>().options(selectinload(&Address::user)).all();
    REQUIRE(addresses.size() == 10);
    conformance::StatementCounter counter;
    for (const auto& a : addresses)
      CHECK(a->user->name.size() == 2);
    CHECK(counter.count() == 0); // the users came with the query's second statement
  }
}

TEST_CASE("raise loader and detached objects give typed errors", "[orm][relationships][errors]") {
  conformance::FreshSchema schema;
  auto id = make_user_with_addresses("r", {"r@1"});
  {
    Session session(conformance::engine());
    auto user =
        session.query<User>().options(raiseload(&User::addresses)).filter_by(&User::id, id).one();
    CHECK_THROWS_AS(user->addresses.size(), InvalidStateError);
  }
  Session session(conformance::engine());
  auto user = session.query<User>().filter_by(&User::id, id).one();
  session.close();
  CHECK(session.state_of(user) == ObjectState::detached);
  CHECK_THROWS_AS(user->addresses.size(), InvalidStateError);
  CHECK(user->name == "r"); // plain members stay readable
}

TEST_CASE("cascade delete and delete-orphan", "[orm][relationships][cascade]") {
  conformance::FreshSchema schema;
  Session session(conformance::engine());
  auto parent = session.add(Parent{.name = "p"});
  for (const char* name : {"c1", "c2", "c3"})
    parent->children.push_back(std::make_shared<Child>(Child{.name = name}));
  session.commit();
  CHECK(session.query<Child>().count() == 3);

  auto orphan = parent->children[0];
  parent->children.remove(orphan);
  session.commit();
  CHECK(session.query<Child>().count() == 2); // delete-orphan

  session.remove(parent);
  session.commit();
  CHECK(session.query<Parent>().count() == 0);
  CHECK(session.query<Child>().count() == 0); // cascade delete
}

TEST_CASE("without cascade delete, children of a deleted parent lose their foreign key",
          "[orm][relationships][cascade]") {
  conformance::FreshSchema schema;
  auto id = make_user_with_addresses("gone", {"x@1", "x@2"});
  Session session(conformance::engine());
  session.remove(session.get<User>(id));
  session.commit();
  auto addresses = session.query<Address>().all();
  REQUIRE(addresses.size() == 2);
  for (const auto& a : addresses)
    CHECK_FALSE(a->user_id.has_value());
}

TEST_CASE("self-referential trees insert parents first and load both ways",
          "[orm][relationships][tree]") {
  conformance::FreshSchema schema;
  {
    Session session(conformance::engine());
    auto root = std::make_shared<Node>(Node{.label = "root"});
    auto a = std::make_shared<Node>(Node{.label = "a"});
    auto b = std::make_shared<Node>(Node{.label = "b"});
    auto a1 = std::make_shared<Node>(Node{.label = "a1"});
    // Added leaf first: the unit of work must still insert root, a, then a1.
    session.add(a1);
    a1->parent = a;
    a->parent = root;
    root->children.push_back(b);
    session.add(root);
    session.commit();
    CHECK(a1->parent_id == a->id);
    CHECK(a->parent_id == root->id);
    CHECK(b->parent_id == root->id);
  }
  Session session(conformance::engine());
  auto root = session.query<Node>().filter(col(&Node::parent_id) == std::nullopt).one();
  REQUIRE(root->children.size() == 2);
  CHECK(root->children[0]->label == "a");
  CHECK(root->children[0]->children[0]->label == "a1");
  CHECK(root->children[0]->children[0]->parent->parent.get() == root);
}

TEST_CASE("many-to-many through a secondary table", "[orm][relationships][m2m]") {
  conformance::FreshSchema schema;
  {
    Session session(conformance::engine());
    auto math = session.add(Course{.title = "math"});
    auto art = session.add(Course{.title = "art"});
    auto ann = session.add(Student{.name = "ann"});
    auto bob = session.add(Student{.name = "bob"});
    ann->courses.push_back(math);
    ann->courses.push_back(art);
    bob->courses.push_back(math);
    CHECK(math->students.size() == 2); // back_populates
    session.commit();
  }
  {
    Session session(conformance::engine());
    auto ann = session.query<Student>().filter_by(&Student::name, "ann").one();
    REQUIRE(ann->courses.size() == 2);
    CHECK(ann->courses[0]->title == "math");
    auto math = ann->courses[0];
    CHECK(math->students.size() == 2);
    ann->courses.remove(math);
    session.commit();
  }
  Session session(conformance::engine());
  auto students = session.query<Student>()
                      .options(selectinload(&Student::courses))
                      .order_by(col(&Student::id))
                      .all();
  REQUIRE(students.size() == 2);
  CHECK(students[0]->courses.size() == 1);
  CHECK(students[0]->courses[0]->title == "art");
  CHECK(students[1]->courses.size() == 1);
  CHECK(session.query<Enrollment>().count() == 2);
  auto joined =
      session.query<Student>().join(&Student::courses).filter(col(&Course::title) == "math").all();
  REQUIRE(joined.size() == 1);
  CHECK(joined[0]->name == "bob");
}

TEST_CASE("joined eager loading of references and of many-to-many collections",
          "[orm][relationships][statements]") {
  conformance::FreshSchema schema;
  make_user_with_addresses("j", {"j1@x", "j2@x"});
  {
    Session session(conformance::engine());
    conformance::StatementCounter counter;
    auto addresses = session.query<Address>().options(joinedload(&Address::user)).all();
    REQUIRE(addresses.size() == 2);
    CHECK(addresses[0]->user->name == "j");
    CHECK(addresses[0]->user.get() == addresses[1]->user.get());
    CHECK(counter.count() == 1);
  }
  {
    Session session(conformance::engine());
    auto math = session.add(Course{.title = "math"});
    session.add(Student{.name = "s"})->courses.push_back(math);
    session.commit();
  }
  Session session(conformance::engine());
  conformance::StatementCounter counter;
  auto students = session.query<Student>().options(joinedload(&Student::courses)).all();
  REQUIRE(students.size() == 1);
  CHECK(students[0]->courses.size() == 1);
  CHECK(counter.count() == 2); // through the association table: selectin
}
