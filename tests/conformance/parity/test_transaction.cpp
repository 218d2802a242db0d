// SQLAlchemy's test/orm/test_transaction.py, ported: what commit and rollback do to the
// session's objects (pending, persistent, deleted), recovery after a failed flush, and
// savepoints (session.begin_nested()).
#include "parity_models.hpp"

using namespace retort;
using namespace parity;

namespace {

std::int64_t add_user(const char* name) {
  Session sess(conformance::engine());
  auto u = sess.add(User{.name = name});
  sess.commit();
  return u->id;
}

} // namespace

#define PARITY_CASE(cls, name)                                                                     \
  TEST_CASE("test_transaction.py::" cls "::" name, "[parity][transaction]")

PARITY_CASE("SessionTransactionTest", "test_no_close_transaction_on_flush") {
  // A flush writes inside the session's transaction; only commit makes it visible.
  Fresh fresh;
  Session sess(conformance::engine());
  auto u = sess.add(User{.name = "u1"});
  sess.flush();
  CHECK(sess.execute(select(count()).select_from(ptable("p_users"))).scalar<std::int64_t>() == 1);
  sess.rollback();
  CHECK(count("p_users") == 0);
  CHECK(sess.state_of(u) == ObjectState::transient);
}

PARITY_CASE("SessionTransactionTest", "test_preserve_flush_error") {
  // After a failed flush the session refuses work until rollback(), then recovers.
  Fresh fresh;
  auto id = add_user("taken");
  Session sess(conformance::engine());
  sess.add(User{.id = id, .name = "dup"});
  CHECK_THROWS_AS(sess.flush(), IntegrityError);
  CHECK_THROWS_AS(sess.query<User>().count(), InvalidStateError);
  CHECK_THROWS_AS(sess.commit(), InvalidStateError);
  sess.rollback();
  CHECK(sess.query<User>().count() == 1);
}

PARITY_CASE("SessionTransactionTest", "test_closed_status_check") {
  // Differs on purpose: a closed Retort session refuses further use (SQLAlchemy 2.0's close()
  // resets the session for reuse). Its objects are detached.
  Fresh fresh;
  auto id = add_user("u");
  Session sess(conformance::engine());
  auto u = sess.get<User>(id);
  sess.close();
  CHECK(sess.state_of(u) == ObjectState::detached);
  CHECK_THROWS_AS(sess.query<User>().count(), InvalidStateError);
}

PARITY_CASE("SessionTransactionTest", "test_transactions_isolated") {
  // SQLite: one connection in memory; in a file, the reader's open transaction would block the
  // writer's COMMIT (database-level locks), which SQLAlchemy's test skips there too.
  if (conformance::is_sqlite()) return;
  Fresh fresh;
  Session s1(conformance::engine());
  Session s2(conformance::engine());
  s1.add(User{.name = "u1"});
  s1.flush();
  CHECK(s2.query<User>().count() == 0);
  s1.commit();
  s2.rollback();
  CHECK(s2.query<User>().count() == 1);
}

PARITY_CASE("FixtureDataTest", "test_attrs_on_rollback") {
  Fresh fresh;
  auto id = add_user("ed");
  Session sess(conformance::engine());
  auto u = sess.get<User>(id);
  u->name = "ed2";
  sess.rollback();
  CHECK(u->name == "ed");
  CHECK(sess.state_of(u) == ObjectState::persistent);
}

PARITY_CASE("FixtureDataTest", "test_commit_persistent") {
  Fresh fresh;
  auto id = add_user("ed");
  Session sess(conformance::engine());
  auto u = sess.get<User>(id);
  u->name = "ed2";
  sess.flush();
  sess.commit();
  CHECK(u->name == "ed2");
  CHECK(rows("p_users", {"name"}) == std::vector<std::string>{"ed2"});
}

PARITY_CASE("FixtureDataTest", "test_concurrent_commit_persistent") {
  Fresh fresh;
  auto id = add_user("ed");
  Session s1(conformance::engine());
  auto u1 = s1.get<User>(id);
  u1->name = "ed2";
  s1.commit();
  Session s2(conformance::engine());
  auto u2 = s2.get<User>(id);
  CHECK(u2->name == "ed2");
  u2->name = "ed3";
  s2.commit();
  CHECK(s1.get<User>(id)->name == "ed3"); // expired by s1's commit: reloaded
}

PARITY_CASE("AutoExpireTest", "test_expunge_pending_on_rollback") {
  Fresh fresh;
  Session sess(conformance::engine());
  auto u2 = sess.add(User{.name = "newuser"});
  CHECK(sess.state_of(u2) == ObjectState::pending);
  sess.rollback();
  CHECK(sess.state_of(u2) == ObjectState::transient);
}

PARITY_CASE("AutoExpireTest", "test_trans_pending_cleared_on_commit") {
  Fresh fresh;
  Session sess(conformance::engine());
  auto u2 = sess.add(User{.name = "newuser"});
  sess.flush();
  sess.commit();
  CHECK(sess.state_of(u2) == ObjectState::persistent);
  sess.rollback(); // nothing to undo any more
  CHECK(sess.state_of(u2) == ObjectState::persistent);
  CHECK(u2->id != 0);
  CHECK(count("p_users") == 1);
}

PARITY_CASE("AutoExpireTest", "test_update_deleted_on_rollback") {
  Fresh fresh;
  auto id = add_user("ed");
  Session sess(conformance::engine());
  auto s = sess.get<User>(id);
  sess.remove(s);
  CHECK(sess.state_of(s) == ObjectState::deleted);
  sess.flush();
  sess.rollback();
  CHECK(count("p_users") == 1);
  CHECK(sess.state_of(s) == ObjectState::persistent);
  CHECK(sess.get<User>(id) == s);
}

PARITY_CASE("AutoExpireTest", "test_trans_deleted_cleared_on_rollback") {
  Fresh fresh;
  auto id = add_user("ed");
  Session sess(conformance::engine());
  auto s = sess.get<User>(id);
  sess.remove(s);
  sess.flush();
  sess.commit();
  CHECK(sess.state_of(s) == ObjectState::detached);
  sess.rollback();
  CHECK(sess.state_of(s) == ObjectState::detached);
  CHECK(count("p_users") == 0);
}

PARITY_CASE("AutoExpireTest", "test_update_deleted_on_rollback_cascade") {
  Fresh fresh;
  std::int64_t id = 0;
  {
    Session sess(conformance::engine());
    auto u = make(CoUser{.name = "ed"});
    u->addresses.push_back(make(CoAddress{.email_address = "foo"}));
    sess.add(u);
    sess.commit();
    id = u->id;
  }
  Session sess(conformance::engine());
  auto s = sess.get<CoUser>(id);
  REQUIRE(s->addresses.size() == 1);
  auto a = s->addresses[0];
  sess.remove(s);
  sess.flush();
  CHECK(sess.state_of(a) == ObjectState::deleted);
  sess.rollback();
  CHECK(count("p_co_addresses") == 1);
  CHECK(sess.state_of(s) == ObjectState::persistent);
  CHECK(sess.state_of(a) == ObjectState::persistent);
  CHECK(s->addresses.size() == 1);
}

PARITY_CASE("AutoExpireTest", "test_update_deleted_on_rollback_orphan") {
  Fresh fresh;
  std::int64_t id = 0;
  {
    Session sess(conformance::engine());
    auto u = make(CoUser{.name = "ed"});
    u->addresses.push_back(make(CoAddress{.email_address = "foo"}));
    sess.add(u);
    sess.commit();
    id = u->id;
  }
  Session sess(conformance::engine());
  auto s = sess.get<CoUser>(id);
  REQUIRE(s->addresses.size() == 1);
  auto a = s->addresses[0];
  s->addresses.remove(a);
  sess.flush();
  CHECK(sess.state_of(a) == ObjectState::deleted);
  sess.rollback();
  CHECK(sess.state_of(a) == ObjectState::persistent);
  REQUIRE(s->addresses.size() == 1); // expired and reloaded
  CHECK(s->addresses[0] == a);
}

PARITY_CASE("AutoExpireTest", "test_commit_pending") {
  Fresh fresh;
  Session sess(conformance::engine());
  auto u1 = sess.add(User{.name = "newuser"});
  sess.commit();
  CHECK(sess.state_of(u1) == ObjectState::persistent);
  CHECK(u1->id != 0);
  CHECK(rows("p_users", {"id", "name"}) == std::vector<std::string>{str(u1->id) + "|newuser"});
}

PARITY_CASE("AutoExpireTest", "test_concurrent_commit_pending") {
  Fresh fresh;
  Session s1(conformance::engine());
  auto u1 = s1.add(User{.name = "u1"});
  s1.commit();
  Session s2(conformance::engine());
  auto u2 = s2.add(User{.name = "u2"});
  s2.commit();
  CHECK(u1->id != u2->id);
  CHECK(s1.query<User>().count() == 2);
}

PARITY_CASE("RollbackRecoverTest", "test_pk_violation") {
  Fresh fresh;
  std::int64_t a1_id = 0, u1_id = 0;
  {
    Session sess(conformance::engine());
    auto u1 = sess.add(User{.name = "ed"});
    auto a1 = make(Address{.email_address = "foo"});
    u1->addresses.push_back(a1);
    sess.commit();
    u1_id = u1->id;
    a1_id = a1->id;
  }
  Session sess(conformance::engine());
  auto u1 = sess.get<User>(u1_id);
  auto a1 = sess.get<Address>(a1_id);
  u1->name = "ed2";
  auto u2 = sess.add(User{.id = u1_id, .name = "jack"}); // a duplicate key
  sess.add(Address{.id = a1_id, .email_address = "bar"});
  CHECK_THROWS_AS(sess.commit(), IntegrityError);
  sess.rollback();
  CHECK(sess.state_of(u2) == ObjectState::transient);
  CHECK(u1->name == "ed"); // expired and reloaded: the change was lost with the transaction
  u1->name = "ed3";
  sess.commit();
  CHECK(rows("p_users", {"id", "name"}) == std::vector<std::string>{str(u1_id) + "|ed3"});
  CHECK(rows("p_addresses", {"id", "email_address"}) ==
        std::vector<std::string>{str(a1_id) + "|foo"});
}

PARITY_CASE("AccountingFlagsTest", "test_no_expire_on_commit") {
  Fresh fresh;
  auto id = add_user("ed");
  Session sess(conformance::engine(), SessionOptions{.expire_on_commit = false});
  auto u = sess.get<User>(id);
  u->name = "ed2";
  sess.commit();
  {
    Session other(conformance::engine());
    other.get<User>(id)->name = "ed3";
    other.commit();
  }
  conformance::StatementCounter counter;
  CHECK(sess.get<User>(id) == u); // not expired: from the identity map
  CHECK(u->name == "ed2");
  CHECK(counter.count() == 0);
}

PARITY_CASE("SavepointTest", "test_savepoint_rollback") {
  Fresh fresh;
  Session sess(conformance::engine());
  auto u1 = sess.add(User{.name = "u1"});
  auto u2 = sess.add(User{.name = "u2"});
  sess.commit();
  u1->name = "edward";
  u2->name = "jackward";
  sess.add(User{.name = "u3"});
  auto nested = sess.begin_nested();
  auto u4 = sess.add(User{.name = "u4"});
  u1->name = "not edward";
  u2->name = "not jackward";
  nested.rollback();
  CHECK(sess.state_of(u4) == ObjectState::transient);
  sess.commit();
  CHECK(rows("p_users", {"name"}) == std::vector<std::string>{"edward", "jackward", "u3"});
}

PARITY_CASE("SavepointTest", "test_savepoint_delete") {
  Fresh fresh;
  Session sess(conformance::engine());
  auto u1 = sess.add(User{.name = "ed"});
  sess.commit();
  auto nested = sess.begin_nested();
  sess.remove(u1);
  nested.commit();
  sess.commit();
  CHECK(count("p_users") == 0);
}

PARITY_CASE("SavepointTest", "test_savepoint_commit") {
  Fresh fresh;
  Session sess(conformance::engine());
  auto u1 = sess.add(User{.name = "u1"});
  auto u2 = sess.add(User{.name = "u2"});
  sess.commit();
  u1->name = "edward";
  u2->name = "jackward";
  sess.add(User{.name = "u3"});
  auto nested = sess.begin_nested();
  sess.add(User{.name = "u4"});
  u1->name = "eddie";
  u2->name = "jacko";
  nested.commit();
  sess.commit();
  CHECK(rows("p_users", {"name"}) == std::vector<std::string>{"eddie", "jacko", "u3", "u4"});
}

PARITY_CASE("SavepointTest", "test_savepoint_rollback_collections") {
  Fresh fresh;
  Session sess(conformance::engine());
  auto u1 = sess.add(User{.name = "edward"});
  u1->addresses.push_back(make(Address{.email_address = "foo"}));
  sess.commit();
  u1->name = "ed";
  auto a2 = make(Address{.email_address = "bar"});
  u1->addresses.push_back(a2);
  auto nested = sess.begin_nested();
  auto a3 = make(Address{.email_address = "bat"});
  u1->addresses.push_back(a3);
  nested.rollback();
  CHECK(u1->addresses.size() == 2);
  sess.commit();
  CHECK(rows("p_addresses", {"email_address"}) == std::vector<std::string>{"bar", "foo"});
}

PARITY_CASE("SavepointTest", "test_savepoint_commit_collections") {
  Fresh fresh;
  Session sess(conformance::engine());
  auto u1 = sess.add(User{.name = "edward"});
  u1->addresses.push_back(make(Address{.email_address = "foo"}));
  sess.commit();
  auto nested = sess.begin_nested();
  u1->addresses.push_back(make(Address{.email_address = "bat"}));
  nested.commit();
  sess.commit();
  CHECK(rows("p_addresses", {"email_address"}) == std::vector<std::string>{"bat", "foo"});
}

PARITY_CASE("SavepointTest", "test_expunge_pending_on_rollback") {
  Fresh fresh;
  Session sess(conformance::engine());
  auto nested = sess.begin_nested();
  auto u2 = sess.add(User{.name = "newuser"});
  sess.flush();
  nested.rollback();
  CHECK(sess.state_of(u2) == ObjectState::transient);
}

PARITY_CASE("SavepointTest", "test_update_deleted_on_rollback") {
  Fresh fresh;
  auto id = add_user("ed");
  Session sess(conformance::engine());
  auto u1 = sess.get<User>(id);
  auto nested = sess.begin_nested();
  sess.remove(u1);
  sess.flush();
  nested.rollback();
  CHECK(sess.state_of(u1) == ObjectState::persistent);
  sess.commit();
  CHECK(count("p_users") == 1);
}

PARITY_CASE("RollbackRecoverTest", "test_pk_violation_with_savepoint") {
  Fresh fresh;
  auto id = add_user("ed");
  Session sess(conformance::engine());
  auto u1 = sess.get<User>(id);
  u1->name = "ed2";
  auto nested = sess.begin_nested();
  sess.add(User{.id = id, .name = "jack"});
  CHECK_THROWS_AS(sess.flush(), IntegrityError);
  // Differs on purpose: a flush that fails inside a savepoint rolls back the whole transaction
  // (SQLAlchemy rolls back to the savepoint and keeps ed2): the session says so until
  // rollback(), and nothing of the transaction was written.
  CHECK_THROWS_AS(sess.commit(), InvalidStateError);
  sess.rollback();
  CHECK(rows("p_users", {"name"}) == std::vector<std::string>{"ed"});
}
