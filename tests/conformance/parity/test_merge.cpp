// SQLAlchemy's test/orm/test_merge.py, ported: merge() of transient and detached objects onto
// the session's (new pending, or existing persistent), the SELECTs it costs, and what it
// cascades. Retort's merge() takes the object by value (a copy of its members).
#include "parity_models.hpp"

using namespace retort;
using namespace parity;

namespace {

// An explicit key far above what the sequences reach in one run.
constexpr std::int64_t explicit_id = 900007;

} // namespace

#define PARITY_CASE(cls, name) TEST_CASE("test_merge.py::" cls "::" name, "[parity][merge]")

PARITY_CASE("MergeTest", "test_transient_to_pending") {
  Fresh fresh;
  Session sess(conformance::engine());
  conformance::StatementCounter counter;
  auto u2 = sess.merge(User{.id = explicit_id, .name = "fred"});
  CHECK(counter.count() == 1); // looked for the key in the database
  CHECK(sess.state_of(u2) == ObjectState::pending);
  CHECK(u2->name == "fred");
  sess.commit();
  CHECK(rows("p_users", {"id", "name"}) == std::vector<std::string>{str(explicit_id) + "|fred"});
}

PARITY_CASE("MergeTest", "test_transient_to_pending_no_pk") {
  Fresh fresh;
  Session sess(conformance::engine());
  User u{.name = "fred"};
  conformance::StatementCounter counter;
  auto merged = sess.merge(u);
  CHECK(counter.count() == 0); // no key: nothing to look up
  CHECK(sess.state_of(merged) == ObjectState::pending);
  sess.commit();
  CHECK(rows("p_users", {"name"}) == std::vector<std::string>{"fred"});
}

PARITY_CASE("MergeTest", "test_warn_transient_already_pending_pk") {
  // Merging a pending object's value again finds the pending one, not a second copy... in
  // SQLAlchemy (with a warning). Retort looks keys up in the identity map and the database:
  // a pending object has no identity yet, so the merge makes a second pending object and the
  // flush reports the duplicate key.
  Fresh fresh;
  Session sess(conformance::engine(), SessionOptions{.autoflush = false});
  auto u = sess.add(User{.id = explicit_id, .name = "fred"});
  auto merged = sess.merge(*u);
  CHECK(merged != u);
  CHECK_THROWS_AS(sess.flush(), IntegrityError);
}

PARITY_CASE("MergeTest", "test_transient_to_persistent") {
  Fresh fresh;
  std::int64_t id = 0;
  {
    Session sess(conformance::engine());
    id = sess.add(User{.name = "fred"})->id;
    sess.commit();
    id = sess.query<User>().one()->id;
  }
  Session sess(conformance::engine());
  auto u2 = sess.merge(User{.id = id, .name = "fred jones"});
  CHECK(sess.state_of(u2) == ObjectState::persistent);
  CHECK(sess.get<User>(id) == u2);
  sess.commit();
  CHECK(rows("p_users", {"id", "name"}) == std::vector<std::string>{str(id) + "|fred jones"});
}

PARITY_CASE("MergeTest", "test_detached_to_persistent") {
  Fresh fresh;
  std::shared_ptr<User> u;
  {
    Session sess(conformance::engine());
    u = sess.add(User{.name = "fred"});
    sess.commit();
    CHECK(u->name == "fred"); // loaded before the session closes
  }
  u->name = "fred jones";
  Session sess(conformance::engine());
  conformance::StatementCounter counter;
  auto u2 = sess.merge(*u);
  CHECK(counter.count() == 1);
  CHECK(u2 != u); // the session's own object
  CHECK(u2->name == "fred jones");
  sess.commit();
  CHECK(rows("p_users", {"id", "name"}) == std::vector<std::string>{str(u->id) + "|fred jones"});
}

PARITY_CASE("MergeTest", "test_resolve_conflicts_persistent") {
  // The session's object takes the merged values, even over its own unflushed changes.
  Fresh fresh;
  Session sess(conformance::engine());
  auto u = sess.add(User{.name = "fred"});
  sess.commit();
  u->name = "local";
  conformance::StatementCounter counter;
  auto merged = sess.merge(User{.id = u->id, .name = "merged"});
  CHECK(merged == u);
  CHECK(u->name == "merged");
  sess.commit();
  CHECK(rows("p_users", {"name"}) == std::vector<std::string>{"merged"});
}

PARITY_CASE("MergeTest", "test_merge_all") {
  Fresh fresh;
  Session sess(conformance::engine());
  auto a = sess.add(User{.name = "a"});
  sess.commit();
  std::vector<std::shared_ptr<User>> merged;
  for (const User& u : {User{.id = a->id, .name = "a2"}, User{.name = "b"}, User{.name = "c"}})
    merged.push_back(sess.merge(u));
  CHECK(merged[0] == a);
  CHECK(sess.state_of(merged[1]) == ObjectState::pending);
  sess.commit();
  CHECK(rows("p_users", {"name"}) == std::vector<std::string>{"a2", "b", "c"});
}

PARITY_CASE("MergeTest", "test_value_to_none") {
  // Merging an object whose nullable column is empty writes NULL.
  Fresh fresh;
  Session sess(conformance::engine());
  auto u = sess.add(User{.name = "u"});
  auto a = make(Address{.email_address = "a"});
  u->addresses.push_back(a);
  sess.commit();
  sess.merge(Address{.id = a->id, .user_id = std::nullopt, .email_address = "a"});
  sess.commit();
  CHECK(rows("p_addresses", {"email_address", "user_id"}) == std::vector<std::string>{"a|NULL"});
}

PARITY_CASE("MergeTest", "test_dont_send_neverset_to_get") {
  // A transient object whose generated key was never set is not looked up (no SELECT).
  Fresh fresh;
  Session sess(conformance::engine());
  conformance::StatementCounter counter;
  auto merged = sess.merge(Address{.email_address = "x"});
  CHECK(counter.count() == 0);
  CHECK(sess.state_of(merged) == ObjectState::pending);
}

PARITY_CASE("MergeTest", "test_merge_identity_map_no_sql") {
  // test_merge.py's load trackers: merging onto an object already in the identity map
  // needs no SELECT.
  Fresh fresh;
  Session sess(conformance::engine(), SessionOptions{.expire_on_commit = false});
  auto u = sess.add(User{.name = "fred"});
  sess.commit();
  conformance::StatementCounter counter;
  CHECK(sess.merge(User{.id = u->id, .name = "fred2"}) == u);
  CHECK(counter.count() == 0);
}

PARITY_CASE("MergeTest", "test_merge_natural_pk") {
  // Merging by a natural (string) key: found in the database, then updated.
  Fresh fresh;
  {
    Session sess(conformance::engine());
    sess.add(NkUser{.username = "jack", .fullname = "jack"});
    sess.commit();
  }
  Session sess(conformance::engine());
  auto merged = sess.merge(NkUser{.username = "jack", .fullname = "jack jones"});
  CHECK(sess.state_of(merged) == ObjectState::persistent);
  auto created = sess.merge(NkUser{.username = "ed", .fullname = "ed"});
  CHECK(sess.state_of(created) == ObjectState::pending);
  sess.commit();
  CHECK(rows("p_nk_users", {"username", "fullname"}) ==
        std::vector<std::string>{"ed|ed", "jack|jack jones"});
}

PARITY_CASE("MergeTest", "test_transient_to_pending_collection") {
  Fresh fresh;
  Session sess(conformance::engine());
  User u{.id = explicit_id, .name = "fred"};
  u.addresses.push_back(make(Address{.id = explicit_id + 1, .email_address = "fred1"}));
  u.addresses.push_back(make(Address{.id = explicit_id + 2, .email_address = "fred2"}));
  auto merged = sess.merge(u);
  sess.commit();
  CHECK(rows("p_addresses", {"email_address", "user_id"}) ==
        std::vector<std::string>{"fred1|" + str(explicit_id), "fred2|" + str(explicit_id)});
}

PARITY_CASE("MergeTest", "test_transient_to_persistent_collection") {
  Fresh fresh;
  std::int64_t id = 0, a1 = 0;
  {
    Session sess(conformance::engine());
    auto u = sess.add(User{.name = "fred"});
    u->addresses.push_back(make(Address{.email_address = "fred1"}));
    u->addresses.push_back(make(Address{.email_address = "fred2"}));
    sess.commit();
    id = u->id;
    a1 = u->addresses[0]->id;
  }
  Session sess(conformance::engine());
  User u{.id = id, .name = "fred"};
  u.addresses.push_back(make(Address{.id = a1, .email_address = "fred1"}));
  u.addresses.push_back(make(Address{.email_address = "fred3"}));
  sess.merge(u);
  sess.commit();
  CHECK(rows("p_addresses", {"email_address", "user_id"}) ==
        std::vector<std::string>{"fred1|" + str(id), "fred2|NULL", "fred3|" + str(id)});
}

PARITY_CASE("MergeTest", "test_detached_to_persistent_collection") {
  Fresh fresh;
  std::shared_ptr<User> u;
  {
    Session sess(conformance::engine(), SessionOptions{.expire_on_commit = false});
    u = sess.add(User{.name = "fred"});
    u->addresses.push_back(make(Address{.email_address = "fred1"}));
    sess.commit();
  }
  u->addresses.push_back(make(Address{.email_address = "fred2"}));
  Session sess(conformance::engine());
  auto merged = sess.merge(*u);
  CHECK(merged->addresses.size() == 2);
  sess.commit();
  CHECK(count("p_addresses") == 2);
}

PARITY_CASE("MergeTest", "test_unsaved_cascade") {
  Fresh fresh;
  Session sess(conformance::engine());
  User u{.name = "fred"};
  u.addresses.push_back(make(Address{.email_address = "foo@bar.com"}));
  u.addresses.push_back(make(Address{.email_address = "hoho@bar.com"}));
  auto merged = sess.merge(u);
  sess.commit();
  CHECK(rows("p_addresses", {"email_address", "user_id"}) ==
        std::vector<std::string>{"foo@bar.com|" + str(merged->id),
                                 "hoho@bar.com|" + str(merged->id)});
}

PARITY_CASE("MergeTest", "test_one_to_many_cascade") {
  // A changed column of a child reaches the database through the parent's merge.
  Fresh fresh;
  std::shared_ptr<User> u;
  {
    Session sess(conformance::engine(), SessionOptions{.expire_on_commit = false});
    u = sess.add(User{.name = "fred"});
    u->addresses.push_back(make(Address{.email_address = "a1"}));
    sess.commit();
  }
  u->addresses[0]->email_address = "a1 changed";
  Session sess(conformance::engine());
  sess.merge(*u);
  sess.commit();
  CHECK(rows("p_addresses", {"email_address"}) == std::vector<std::string>{"a1 changed"});
}
