// SQLAlchemy's test/orm/test_expire.py, ported: expire(), expire_all(), refresh() and
// expire-on-commit. Retort's "expired" keeps the old member values until the next row loads the
// object (README: "Expired means"); the cases check what the database gives back and how many
// statements it takes.
#include "parity_models.hpp"

using namespace retort;
using namespace parity;

namespace {

// jack (one address) and ed, committed; returns their keys.
struct Users {
  Fresh fresh;
  std::int64_t jack = 0, ed = 0, address = 0;
  Users() {
    Session sess(conformance::engine());
    auto u = sess.add(User{.name = "jack"});
    auto a = make(Address{.email_address = "jack@bean.com"});
    u->addresses.push_back(a);
    auto e = sess.add(User{.name = "ed"});
    sess.commit();
    jack = u->id;
    ed = e->id;
    address = a->id;
  }
};

// The row changes behind the identity map's back: a Core UPDATE in the session's transaction,
// as SQLAlchemy's tests do with sess.execute(users.update()...).
void rename_in_db(Session& sess, std::int64_t id, const std::string& name) {
  const Table users = ptable("p_users");
  sess.execute(update(users).set("name", Value(name)).where(users.c("id") == id));
}

// A new address row for user `id`, behind the identity map's back.
void insert_address(Session& sess, std::int64_t id, const char* email) {
  sess.execute(insert(ptable("p_addresses")).values({{"user_id", id}, {"email_address", email}}));
}

} // namespace

#define PARITY_CASE(cls, name) TEST_CASE("test_expire.py::" cls "::" name, "[parity][expire]")

PARITY_CASE("ExpireTest", "test_expire") {
  Users f;
  Session sess(conformance::engine());
  auto u = sess.get<User>(f.jack);
  sess.expire(u);
  rename_in_db(sess, f.jack, "jack2");
  conformance::StatementCounter counter;
  auto again = sess.get<User>(f.jack); // an expired object: get() goes to the database
  CHECK(again == u);
  CHECK(u->name == "jack2");
  CHECK(counter.count() == 1);
  // Changing it afterwards is flushed as usual.
  u->name = "jack3";
  sess.commit();
  CHECK(rows("p_users", {"id", "name"})[0] == str(f.jack) + "|jack3");
}

PARITY_CASE("ExpireTest", "test_persistence_check") {
  Fresh fresh;
  Session sess(conformance::engine());
  auto u = make(User{.name = "transient"});
  CHECK_THROWS_AS(sess.expire(u), InvalidStateError);
  auto pending = sess.add(User{.name = "pending"});
  CHECK_THROWS_AS(sess.expire(pending), InvalidStateError);
}

PARITY_CASE("ExpireTest", "test_get_refreshes") {
  Users f;
  Session sess(conformance::engine());
  auto u = sess.get<User>(f.jack);
  {
    conformance::StatementCounter counter;
    CHECK(sess.get<User>(f.jack) == u);
    CHECK(counter.count() == 0); // identity map
  }
  sess.expire(u);
  conformance::StatementCounter counter;
  CHECK(sess.get<User>(f.jack) == u);
  CHECK(counter.count() == 1);
  CHECK(sess.get<User>(f.jack) == u);
  CHECK(counter.count() == 1); // loaded again: no more SQL
}

// Differs on purpose: the object whose row vanished is marked deleted (SQLAlchemy detaches it
// at once); it leaves the identity map and is detached at commit. The row is deleted through
// the session, so that a SQLite file or :memory: database is not locked by the session's read.
PARITY_CASE("ExpireTest", "test_get_on_deleted_expunges") {
  Users f;
  Session sess(conformance::engine());
  auto u = sess.get<User>(f.ed);
  sess.expire(u);
  sess.execute(delete_(ptable("p_users")).where(ptable("p_users").c("id") == f.ed));
  CHECK(sess.get<User>(f.ed) == nullptr);
  CHECK(sess.state_of(u) == ObjectState::deleted);
  sess.commit();
  CHECK(sess.state_of(u) == ObjectState::detached);
}

PARITY_CASE("ExpireTest", "test_rollback_undoes_expunge_from_deleted") {
  Users f;
  Session sess(conformance::engine());
  auto u = sess.get<User>(f.ed);
  sess.expire(u);
  sess.execute(delete_(ptable("p_users")).where(ptable("p_users").c("id") == f.ed));
  CHECK(sess.get<User>(f.ed) == nullptr);
  sess.rollback();
  CHECK(sess.state_of(u) == ObjectState::persistent);
  CHECK(sess.get<User>(f.ed) == u);
}

PARITY_CASE("ExpireTest", "test_refresh_on_deleted_raises") {
  Users f;
  Session sess(conformance::engine());
  auto u = sess.get<User>(f.ed);
  const Table users = ptable("p_users");
  sess.execute(delete_(users).where(users.c("id") == f.ed));
  CHECK_THROWS_AS(sess.refresh(u), NoResultFound);
}

PARITY_CASE("ExpireTest", "test_refresh_cancels_expire") {
  Users f;
  Session sess(conformance::engine());
  auto u = sess.get<User>(f.jack);
  sess.expire(u);
  sess.refresh(u);
  conformance::StatementCounter counter;
  CHECK(sess.get<User>(f.jack) == u);
  CHECK(counter.count() == 0);
}

PARITY_CASE("ExpireTest", "test_expire_doesntload_on_set") {
  Users f;
  Session sess(conformance::engine());
  auto u = sess.get<User>(f.jack);
  sess.expire(u);
  conformance::StatementCounter counter;
  u->name = "somenewname";
  sess.flush();
  CHECK(counter.count() == 1); // the UPDATE, no SELECT first
  sess.commit();
  CHECK(rows("p_users", {"id", "name"})[0] == str(f.jack) + "|somenewname");
}

PARITY_CASE("ExpireTest", "test_no_session") {
  Users f;
  std::shared_ptr<User> u;
  {
    Session sess(conformance::engine());
    u = sess.get<User>(f.jack);
  }
  Session sess(conformance::engine());
  CHECK_THROWS_AS(sess.expire(u), InvalidStateError); // detached: not in this session
  CHECK_THROWS_AS(sess.refresh(u), InvalidStateError);
}

PARITY_CASE("ExpireTest", "test_pending_raises") {
  Fresh fresh;
  Session sess(conformance::engine());
  auto u = sess.add(User{.name = "pending"});
  CHECK_THROWS_AS(sess.refresh(u), InvalidStateError);
}

PARITY_CASE("ExpireTest", "test_expire_preserves_changes") {
  // Retort: changes made to an expired object win over the reload and are flushed.
  Users f;
  Session sess(conformance::engine());
  auto u = sess.get<User>(f.jack);
  sess.expire(u);
  u->name = "local";
  rename_in_db(sess, f.ed, "ed2");
  auto all = sess.query<User>().order_by(col(&User::id)).all();
  REQUIRE(all.size() == 2);
  CHECK(u->name == "local");
  sess.commit();
  CHECK(rows("p_users", {"id", "name"}) ==
        std::vector<std::string>{str(f.jack) + "|local", str(f.ed) + "|ed2"});
}

PARITY_CASE("ExpireTest", "test_expire_committed") {
  Users f;
  Session sess(conformance::engine());
  auto u = sess.get<User>(f.jack);
  u->name = "jack-mine";
  sess.commit(); // expires
  rename_in_db(sess, f.jack, "jack-theirs");
  CHECK(sess.get<User>(f.jack) == u);
  CHECK(u->name == "jack-theirs");
}

PARITY_CASE("ExpireTest", "test_expired_lazy") {
  Users f;
  Session sess(conformance::engine());
  auto u = sess.get<User>(f.jack);
  REQUIRE(u->addresses.size() == 1);
  sess.expire(u);
  CHECK_FALSE(u->addresses.loaded());
  insert_address(sess, f.jack, "two");
  conformance::StatementCounter counter;
  CHECK(u->addresses.size() == 2); // a lazy load
  CHECK(counter.count() == 1);
}

PARITY_CASE("ExpireTest", "test_expired_eager") {
  Users f;
  Session sess(conformance::engine());
  auto u = sess.query<User>()
               .options(joinedload(&User::addresses))
               .filter_by(&User::id, f.jack)
               .all()[0];
  CHECK(u->addresses.loaded());
  sess.expire(u);
  conformance::StatementCounter counter;
  auto again =
      sess.query<User>().options(joinedload(&User::addresses)).filter_by(&User::id, f.jack).all();
  CHECK(again.at(0) == u);
  CHECK(u->addresses.loaded());
  CHECK(u->addresses.size() == 1);
  CHECK(counter.count() == 1);
}

PARITY_CASE("ExpireTest", "test_lazyload_autoflushes") {
  Users f;
  Session sess(conformance::engine());
  auto u = sess.get<User>(f.jack);
  sess.add(Address{.user_id = f.jack, .email_address = "autoflushed"});
  sess.expire(u);
  REQUIRE(u->addresses.size() == 2); // the lazy load flushed the pending address first
  CHECK(u->addresses[1]->email_address == "autoflushed");
}

PARITY_CASE("ExpireTest", "test_expire_all") {
  Users f;
  Session sess(conformance::engine());
  auto users = sess.query<User>().order_by(col(&User::id)).all();
  rename_in_db(sess, f.jack, "J");
  rename_in_db(sess, f.ed, "E");
  sess.query<User>().order_by(col(&User::id)).all();
  CHECK(users[0]->name == "jack"); // not expired: a load keeps what the session holds
  sess.expire_all();
  sess.query<User>().order_by(col(&User::id)).all();
  CHECK(users[0]->name == "J");
  CHECK(users[1]->name == "E");
}

PARITY_CASE("ExpireTest", "test_relationships_load_on_query") {
  Users f;
  Session sess(conformance::engine());
  auto u = sess.get<User>(f.jack);
  REQUIRE(u->addresses.size() == 1);
  sess.expire(u);
  auto again =
      sess.query<User>().options(selectinload(&User::addresses)).filter_by(&User::id, f.jack).one();
  CHECK(again == u);
  conformance::StatementCounter counter;
  CHECK(u->addresses.size() == 1);
  CHECK(counter.count() == 0);
}

PARITY_CASE("ExpireTest", "test_joinedload_query_refreshes") {
  Users f;
  Session sess(conformance::engine());
  auto u = sess.get<User>(f.jack);
  REQUIRE(u->addresses.size() == 1);
  auto a = u->addresses[0];
  const Table addresses = ptable("p_addresses");
  sess.execute(update(addresses)
                   .set("email_address", Value("changed"))
                   .where(addresses.c("id") == f.address));
  sess.expire_all();
  sess.query<User>().options(joinedload(&User::addresses)).all();
  CHECK(a->email_address == "changed");
}

PARITY_CASE("ExpiredPendingTest", "test_expired_pending") {
  Users f;
  Session sess(conformance::engine());
  auto u = sess.get<User>(f.jack);
  REQUIRE(u->addresses.size() == 1);
  auto a2 = make(Address{.email_address = "a2"});
  u->addresses.push_back(a2);
  sess.expire(u);
  REQUIRE(u->addresses.size() == 2); // the reload autoflushed a2
  CHECK(u->addresses[1] == a2);
  sess.commit();
  CHECK(count("p_addresses") == 2);
}

PARITY_CASE("LifecycleTest", "test_attr_not_inserted") {
  // A key the database generated is there after the INSERT, without a reload.
  Fresh fresh;
  Session sess(conformance::engine());
  auto u = sess.add(User{.name = "x"});
  sess.flush();
  CHECK(u->id != 0);
  conformance::StatementCounter counter;
  CHECK(sess.get<User>(u->id) == u);
  CHECK(counter.count() == 0);
}

PARITY_CASE("RefreshTest", "test_refresh") {
  Users f;
  Session sess(conformance::engine());
  auto u = sess.get<User>(f.jack);
  rename_in_db(sess, f.jack, "bar");
  u->name = "foo";
  sess.refresh(u);
  CHECK(u->name == "bar"); // refresh discards the unflushed change
  sess.commit();
  CHECK(rows("p_users", {"id", "name"})[0] == str(f.jack) + "|bar");
}

PARITY_CASE("RefreshTest", "test_persistence_check") {
  Fresh fresh;
  Session sess(conformance::engine());
  auto u = make(User{.name = "transient"});
  CHECK_THROWS_AS(sess.refresh(u), InvalidStateError);
}

PARITY_CASE("RefreshTest", "test_refresh_expired") {
  Users f;
  Session sess(conformance::engine());
  auto u = sess.get<User>(f.jack);
  sess.expire(u);
  rename_in_db(sess, f.jack, "refreshed");
  conformance::StatementCounter counter;
  sess.refresh(u);
  CHECK(u->name == "refreshed");
  CHECK(counter.count() == 1);
}

PARITY_CASE("RefreshTest", "test_refresh_with_lazy") {
  Users f;
  Session sess(conformance::engine());
  auto u = sess.get<User>(f.jack);
  REQUIRE(u->addresses.size() == 1);
  insert_address(sess, f.jack, "two");
  sess.refresh(u);
  CHECK(u->addresses.size() == 2); // the collection reloads after a refresh
}

PARITY_CASE("RefreshTest", "test_refresh_with_eager") {
  Users f;
  Session sess(conformance::engine());
  auto u =
      sess.query<User>().options(selectinload(&User::addresses)).filter_by(&User::id, f.jack).one();
  REQUIRE(u->addresses.size() == 1);
  sess.add(Address{.user_id = f.jack, .email_address = "two"});
  sess.flush();
  sess.refresh(u);
  CHECK(u->addresses.size() == 2);
}
