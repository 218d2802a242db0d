// Session basics: the cheatsheet's steps, object states, identity map, get, flush and commit.
#include "models.hpp"

#include <catch2/catch.hpp>

using namespace retort;
using models::Address;
using models::User;

TEST_CASE("cheatsheet: add, query, filter, filter_by, update, delete", "[orm][session]") {
  conformance::FreshSchema schema;
  Session session(conformance::engine());

  auto john = session.add(User{.name = "John Doe", .age = 25});
  session.add(User{.name = "Ann", .age = 41});
  session.add(User{.name = "Bob", .age = std::nullopt});
  CHECK(john->id == 0);
  session.commit();
  CHECK(john->id > 0);

  auto all = session.query<User>().order_by(col(&User::id)).all();
  REQUIRE(all.size() == 3);
  CHECK(all[0] == john); // the identity map hands out the same object
  CHECK(all[1]->name == "Ann");
  CHECK_FALSE(all[2]->age.has_value());

  auto young = session.query<User>().filter(col(&User::age) < 30).all();
  REQUIRE(young.size() == 1);
  CHECK(young[0]->name == "John Doe");

  auto found = session.query<User>().filter_by(&User::name, "John Doe").first();
  REQUIRE(found == john);
  found->age = 26;
  session.commit();

  Session other(conformance::engine());
  auto reloaded = other.get<User>(john->id);
  REQUIRE(reloaded);
  CHECK(reloaded->age == 26);
  CHECK(reloaded != john); // another session, another object

  other.remove(reloaded);
  other.commit();
  CHECK(other.query<User>().count() == 2);
  CHECK(other.get<User>(john->id) == nullptr);
}

TEST_CASE("object states are observable", "[orm][session]") {
  conformance::FreshSchema schema;
  Session session(conformance::engine());
  auto user = std::make_shared<User>(User{.name = "Eve", .age = 30});
  CHECK(session.state_of(user) == ObjectState::transient);
  session.add(user);
  CHECK(session.state_of(user) == ObjectState::pending);
  session.flush();
  CHECK(session.state_of(user) == ObjectState::persistent);
  session.remove(user);
  CHECK(session.state_of(user) == ObjectState::deleted);
  session.commit();
  CHECK(session.state_of(user) == ObjectState::detached); // as SQLAlchemy after the commit

  auto kept = session.add(User{.name = "Kept"});
  session.commit();
  session.close();
  CHECK(kept->name == "Kept"); // still alive and usable: the application holds it
  Session again(conformance::engine());
  CHECK(again.get<User>(kept->id)->name == "Kept");
}

TEST_CASE("get() of a loaded key emits no SQL", "[orm][identity]") {
  conformance::FreshSchema schema;
  Session session(conformance::engine(), SessionOptions{.expire_on_commit = false});
  auto user = session.add(User{.name = "Ida", .age = 5});
  session.commit();
  conformance::StatementCounter counter;
  auto same = session.get<User>(user->id);
  CHECK(same == user);
  CHECK(counter.count() == 0);
  CHECK(session.get<User>(user->id + 1000) == nullptr);
  CHECK(counter.count() == 1);
}

TEST_CASE("a query does not overwrite unflushed changes of a loaded object", "[orm][identity]") {
  conformance::FreshSchema schema;
  Session session(conformance::engine(), SessionOptions{.autoflush = false});
  auto user = session.add(User{.name = "Jo", .age = 1});
  session.commit();
  auto loaded = session.query<User>().first();
  REQUIRE(loaded == user);
  loaded->name = "changed";
  auto again = session.query<User>().first();
  CHECK(again == user);
  CHECK(again->name == "changed");
}

TEST_CASE("UPDATE sets only the changed columns", "[orm][unit-of-work]") {
  conformance::FreshSchema schema;
  Session session(conformance::engine());
  auto user = session.add(User{.name = "Al", .age = 7});
  session.commit();
  conformance::StatementCounter counter;
  session.get<User>(user->id)->age = 8;
  session.flush();
  REQUIRE(counter.count() >= 1);
  const std::string& update = counter.statements().back();
  CHECK(update.find("UPDATE") == 0);
  CHECK(update.find("age") != std::string::npos);
  CHECK(update.find("name") == std::string::npos);
}

TEST_CASE("a flush batches: multi-row INSERT, and pipelined UPDATEs where the driver can",
          "[orm][unit-of-work][batching]") {
  conformance::FreshSchema schema;
  Session session(conformance::engine());
  for (int i = 0; i < 300; ++i)
    session.add(User{.name = "u" + std::to_string(i), .age = i});
  {
    conformance::StatementCounter counter;
    session.flush();
    // One INSERT ... VALUES (...), ... RETURNING id; on SQLite, which takes the keys from
    // last_insert_rowid(), first a look at the table that shows they are consecutive.
    CHECK(counter.count() == (conformance::is_sqlite() ? 2u : 1u));
  }
  auto users = session.query<User>().order_by(col(&User::id)).all();
  REQUIRE(users.size() == 300);
  for (std::size_t i = 0; i < users.size(); ++i) {
    CHECK(users[i]->age == static_cast<int>(i)); // keys were matched to the right objects
    users[i]->age = static_cast<int>(i) + 1000;
  }
  conformance::StatementCounter counter;
  session.commit();
  CHECK(counter.count() == 300);
  if (conformance::backend() == "postgresql")
    CHECK(counter.pipelines() == 1); // one round trip
  else
    CHECK(counter.pipelines() == 0);
  Session other(conformance::engine());
  CHECK(other.query<User>().filter(col(&User::age) >= 1000).count() == 300);
}
