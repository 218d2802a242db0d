// Sessions without change detection (SessionOptions::autodetect_changes = false): a flush
// writes new and deleted objects, relationship changes and the objects passed to modified(),
// and nothing else; objects only the session holds are still let go.
#include "models.hpp"

#include <catch2/catch.hpp>

using namespace retort;
using models::Address;
using models::Course;
using models::Student;
using models::User;

namespace {

constexpr SessionOptions explicit_changes{.autodetect_changes = false};

// The age of user `id` as another session reads it from the database.
std::optional<int> age_in_database(std::int64_t id) {
  Session reader(conformance::engine());
  auto user = reader.get<User>(id);
  REQUIRE(user);
  return user->age;
}

} // namespace

TEST_CASE("without change detection, only objects passed to modified() are updated",
          "[orm][change-tracking]") {
  conformance::FreshSchema schema;
  Session session(conformance::engine(), explicit_changes);
  auto flagged = session.add(User{.name = "flagged", .age = 1});
  auto unflagged = session.add(User{.name = "unflagged", .age = 1});
  session.flush(); // new objects need no flag

  flagged->age = 2;
  unflagged->age = 2;
  session.modified(flagged);
  session.modified(flagged); // twice is once
  {
    conformance::StatementCounter counter;
    session.flush();
    REQUIRE(counter.count() == 1);
    const std::string& update = counter.statements().back();
    CHECK(update.find("UPDATE") == 0);
    CHECK(update.find("age") != std::string::npos);
    CHECK(update.find("name") == std::string::npos); // still only the changed columns
  }
  session.commit();
  CHECK(age_in_database(flagged->id) == 2);
  CHECK(age_in_database(unflagged->id) == 1); // the unflagged change was not looked for

  // The flag is spent by the flush that wrote it.
  Session again(conformance::engine(), explicit_changes);
  auto user = again.get<User>(flagged->id);
  user->age = 3;
  again.modified(user);
  again.flush();
  user->age = 4;
  again.commit();
  CHECK(age_in_database(flagged->id) == 3);
}

TEST_CASE("without change detection, a flagged object that did not change writes nothing",
          "[orm][change-tracking]") {
  conformance::FreshSchema schema;
  Session session(conformance::engine(), explicit_changes);
  auto user = session.add(User{.name = "same", .age = 5});
  session.flush();
  session.modified(user);
  conformance::StatementCounter counter;
  session.flush();
  CHECK(counter.count() == 0);
}

TEST_CASE("without change detection, deletes and relationship changes need no flag",
          "[orm][change-tracking]") {
  conformance::FreshSchema schema;
  std::int64_t ann_id = 0;
  std::int64_t bob_id = 0;
  std::int64_t address_id = 0;
  {
    Session session(conformance::engine(), explicit_changes);
    auto ann = session.add(User{.name = "Ann"});
    auto bob = session.add(User{.name = "Bob"});
    auto gone = session.add(User{.name = "Gone"});
    auto address = std::make_shared<Address>(Address{.email = "a@example.com"});
    ann->addresses.push_back(address);
    session.commit();
    ann_id = ann->id;
    bob_id = bob->id;
    address_id = address->id;

    // Moving the address through its reference: the session sees the member change.
    address->user = bob;
    session.remove(gone);
    session.commit();
  }
  Session reader(conformance::engine());
  CHECK(reader.query<User>().count() == 2);
  auto address = reader.get<Address>(address_id);
  REQUIRE(address);
  CHECK(address->user_id == bob_id);
  CHECK(reader.get<User>(ann_id)->addresses.empty());
}

TEST_CASE("modified() is a no-op for pending objects and an error for objects of no session",
          "[orm][change-tracking][errors]") {
  conformance::FreshSchema schema;
  Session session(conformance::engine(), explicit_changes);
  auto pending = session.add(User{.name = "new", .age = 1});
  session.modified(pending);
  auto outsider = std::make_shared<User>(User{.name = "outside"});
  try {
    session.modified(outsider);
    FAIL("modified() of a transient object did not throw");
  } catch (const InvalidStateError& e) {
    CHECK(std::string(e.what()).find("not in this session") != std::string::npos);
    CHECK(std::string(e.what()).find("transient") != std::string::npos);
  }
  session.commit();
  CHECK(age_in_database(pending->id) == 1);
}

TEST_CASE("modified() with change detection on is harmless", "[orm][change-tracking]") {
  conformance::FreshSchema schema;
  Session session(conformance::engine());
  auto user = session.add(User{.name = "auto", .age = 1});
  session.flush();
  user->age = 2;
  session.modified(user);
  {
    conformance::StatementCounter counter;
    session.flush();
    CHECK(counter.count() == 1); // the one UPDATE detection finds, not a second for the flag
  }
  session.commit();
  CHECK(age_in_database(user->id) == 2);
}

TEST_CASE("without change detection, rollback restores a flagged object and spends its flag",
          "[orm][change-tracking]") {
  conformance::FreshSchema schema;
  Session session(conformance::engine(),
                  SessionOptions{.expire_on_commit = false, .autodetect_changes = false});
  auto user = session.add(User{.name = "kept", .age = 1});
  session.commit();
  user->age = 9;
  session.modified(user);
  session.rollback();
  CHECK(user->age == 1); // back to the last flushed values, as with change detection
  // The flag went with the transaction: the session can flag the object again.
  user->age = 10;
  session.modified(user);
  session.commit();
  CHECK(age_in_database(user->id) == 10);
}

TEST_CASE("without change detection, removing a parent sets its children's keys to NULL",
          "[orm][change-tracking][relationships]") {
  conformance::FreshSchema schema;
  std::int64_t address_id = 0;
  {
    Session session(conformance::engine(), explicit_changes);
    auto ann = session.add(User{.name = "Ann"});
    auto address = std::make_shared<Address>(Address{.email = "ann@example.com"});
    ann->addresses.push_back(address);
    session.commit();
    address_id = address->id;
  }
  Session session(conformance::engine(), explicit_changes);
  auto address = session.get<Address>(address_id);
  REQUIRE(address);
  session.remove(session.get<User>(*address->user_id));
  session.commit(); // the address's key goes first: no foreign key violation
  Session reader(conformance::engine());
  auto kept = reader.get<Address>(address_id);
  REQUIRE(kept);
  CHECK_FALSE(kept->user_id.has_value());
  CHECK(reader.query<User>().count() == 0);
}

TEST_CASE("without change detection, collection changes move and add children",
          "[orm][change-tracking][relationships]") {
  conformance::FreshSchema schema;
  std::int64_t ann_id = 0;
  std::int64_t moved_id = 0;
  {
    Session session(conformance::engine(), explicit_changes);
    auto ann = session.add(User{.name = "Ann"});
    auto moved = std::make_shared<Address>(Address{.email = "moved@example.com"});
    ann->addresses.push_back(moved);
    session.commit();
    ann_id = ann->id;
    moved_id = moved->id;
  }
  Session session(conformance::engine(), explicit_changes);
  auto moved = session.get<Address>(moved_id);
  // A new parent whose collection already holds a persistent child: the child moves to it.
  auto bob = std::make_shared<User>(User{.name = "Bob"});
  bob->addresses.push_back(moved);
  session.add(bob);
  // A new child appended to a persistent parent's collection.
  auto ann = session.get<User>(ann_id);
  ann->addresses.push_back(std::make_shared<Address>(Address{.email = "new@example.com"}));
  // Many-to-many rows.
  auto student = session.add(Student{.name = "Sam"});
  auto course = session.add(Course{.title = "SQL"});
  session.commit();
  student->courses.push_back(course);
  session.commit();

  Session reader(conformance::engine());
  CHECK(reader.get<Address>(moved_id)->user_id == bob->id);
  auto reloaded = reader.get<User>(ann_id);
  REQUIRE(reloaded->addresses.size() == 1);
  CHECK(reloaded->addresses[0]->email == "new@example.com");
  CHECK(reader.get<Student>(student->id)->courses.size() == 1);
}

TEST_CASE("without change detection, merge(), autoflush and expunge follow the flags",
          "[orm][change-tracking]") {
  conformance::FreshSchema schema;
  Session session(conformance::engine(), explicit_changes);
  auto user = session.add(User{.name = "Mia", .age = 1});
  session.commit();

  // merge() changes the session's object: it is flagged and written.
  session.merge(User{.id = user->id, .name = "Mia", .age = 2});
  session.commit();
  CHECK(age_in_database(user->id) == 2);
  // Autoflush before a query writes flagged changes, so the query sees them.
  user->name = "Mia M";
  session.modified(user);
  CHECK(session.query<User>().filter(col(&User::name) == "Mia M").count() == 1);
  session.commit();
  CHECK(age_in_database(user->id) == 2);

  // Expunging a flagged object forgets its flag: nothing is written, nothing dangles.
  user = session.get<User>(user->id);
  user->age = 3;
  session.modified(user);
  session.expunge(user);
  session.commit();
  CHECK(age_in_database(user->id) == 2);
}

TEST_CASE("without change detection, an unflagged change does not survive a reload",
          "[orm][change-tracking]") {
  conformance::FreshSchema schema;
  // No autoflush: the reloads below meet the changes in memory, not already written.
  Session session(conformance::engine(),
                  SessionOptions{.autoflush = false, .autodetect_changes = false});
  auto user = session.add(User{.name = "Ned", .age = 1});
  session.commit(); // expires the object
  user->age = 9;    // not flagged: not written...
  auto reloaded = session.query<User>().first();
  REQUIRE(reloaded == user);
  CHECK(user->age == 1); // ...so the reload shows what the database has, not a phantom change
  user->age = 10;
  session.modified(user);
  session.expire(user);
  session.query<User>().first();
  CHECK(user->age == 10); // a flagged change wins over the reload, as with detection
  session.commit();
  CHECK(age_in_database(user->id) == 10);
}

TEST_CASE("without change detection, a detached object changed meanwhile is written when re-added",
          "[orm][change-tracking]") {
  conformance::FreshSchema schema;
  std::shared_ptr<User> user;
  {
    Session first(conformance::engine(), explicit_changes);
    user = first.add(User{.name = "Dee", .age = 1});
    first.commit();
  } // closed: the object is detached
  user->age = 5;
  Session second(conformance::engine(), explicit_changes);
  second.add(user);
  second.commit();
  CHECK(age_in_database(user->id) == 5);
}

TEST_CASE("a state the session recorded for an application-made object is only that object's",
          "[orm][change-tracking][identity]") {
  conformance::FreshSchema schema;
  auto user = std::make_shared<User>(User{.name = "gone", .age = 1});
  Session session(conformance::engine()); // closes before `user` is freed
  session.add(user);
  session.commit();
  session.remove(user);
  session.commit();
  CHECK(session.state_of(user) == ObjectState::detached);
  // Another object at the same address (here: another owner of the same memory, as a new
  // object would be once the first is freed) does not inherit the deleted row's identity.
  std::shared_ptr<User> other(user.get(), [](User*) {});
  CHECK(session.state_of(other) == ObjectState::transient);
  other->id = 0;
  session.add(other);
  CHECK(session.state_of(other) == ObjectState::pending);
  session.commit(); // an INSERT, not an UPDATE of the deleted row
  Session reader(conformance::engine());
  CHECK(reader.query<User>().count() == 1);
}

TEST_CASE("without change detection, objects only the session holds are still let go",
          "[orm][change-tracking][memory]") {
  using models::Tag; // no many-to-one points at tags, so nothing else can keep one reachable
  conformance::FreshSchema schema;
  Session session(conformance::engine(), explicit_changes);
  std::vector<std::shared_ptr<Tag>> kept;
  // Several transactions past the first release threshold (1024 objects): the maps stay
  // bounded by what the application holds, not by what the session ever saw. (Objects
  // inserted in the open transaction are held until it ends, so that rollback can undo them.)
  // Half are made by the application (their states are the session's), half by add().
  for (int chunk = 0; chunk < 6; ++chunk) {
    for (int i = 0; i < 500; ++i) {
      Tag tag{.label = "t" + std::to_string(chunk * 500 + i), .weight = 1};
      auto added = i % 2 == 0 ? session.add(std::move(tag))
                              : session.add(std::make_shared<Tag>(std::move(tag)));
      if (i < 2) kept.push_back(added);
    }
    session.commit();
  }
  CHECK(session.identity_map_size() < 1600);
  CHECK(session.identity_map_size() >= kept.size());
  // Objects the application holds stay in the identity map, and flags on them still work.
  for (const auto& tag : kept) {
    CHECK(session.state_of(tag) == ObjectState::persistent);
    tag->weight = 7;
    session.modified(tag);
  }
  // New objects, possibly at the addresses of released ones, are new rows.
  for (int i = 0; i < 100; ++i)
    session.add(std::make_shared<Tag>(Tag{.label = "late" + std::to_string(i), .weight = 2}));
  session.commit();
  Session reader(conformance::engine());
  CHECK(reader.query<Tag>().count() == 3100);
  CHECK(reader.query<Tag>().filter(col(&Tag::weight) == 7).count() == std::int64_t(kept.size()));
  CHECK(reader.query<Tag>().filter(col(&Tag::weight) == 2).count() == 100);
}
