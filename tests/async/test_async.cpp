// The async session: the same unit of work and loaders, run from Asio coroutines — on the
// io_context itself for PostgreSQL, on a worker thread for SQLite.
#include <utility>

#include "models.hpp"
#include "run_task.hpp"
#include "temp_database.hpp"

#include <retort/async/async_session.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <optional>
#include <thread>

using namespace retort;
using namespace models;
using namespace std::chrono_literals;
namespace asio = boost::asio;
using async_test::run;

TEST_CASE("async: add, commit, query with eager loading, get", "[async]") {
  conformance::FreshSchema schema;
  auto task = []() -> asio::awaitable<std::size_t> {
    AsyncSession session(conformance::engine());
    auto ann = session.add(User{.name = "ann", .age = 30});
    auto address = std::make_shared<Address>(Address{.email = "ann@x"});
    ann->addresses.push_back(address);
    session.add(User{.name = "bob", .age = 20});
    co_await session.commit();
    CHECK(ann->id > 0);
    CHECK(address->user_id == ann->id);

    auto query = session.query<User>();
    query.filter(col(&User::age) >= 25).options(selectinload(&User::addresses));
    auto users = co_await session.all(query);
    REQUIRE(users.size() == 1);
    CHECK(users[0] == ann);
    CHECK(users[0]->addresses.size() == 1);

    auto bob = co_await session.get<User>(ann->id + 1);
    REQUIRE(bob);
    CHECK(bob->name == "bob");
    bob->age = 21; // changes are found at flush, as in the blocking session
    co_await session.commit();
    co_return users.size();
  };
  CHECK(run(task) == 1);
  Session check(conformance::engine());
  CHECK(check.query<User>().filter_by(&User::name, "bob").one()->age == 21);
}

TEST_CASE("async: LIMIT counts the query's objects when a joined collection follows a joined "
          "many-to-one",
          "[async]") {
  conformance::FreshSchema schema;
  {
    Session setup(conformance::engine());
    for (const char* name : {"ann", "bob"}) {
      auto user = setup.add(User{.name = name});
      for (int i = 0; i < 3; ++i)
        user->addresses.push_back(std::make_shared<Address>(
            Address{.email = std::string(name) + std::to_string(i) + "@x"}));
    }
    setup.commit();
  }
  auto task = []() -> asio::awaitable<std::size_t> {
    AsyncSession session(conformance::engine());
    auto query = session.query<Address>();
    query.options(joinedload(&Address::user).joinedload(&User::addresses))
        .order_by(col(&Address::id))
        .limit(4);
    auto addresses = co_await session.all(query);
    REQUIRE(addresses.size() == 4);
    // Lazy loading is an error here: everything below was loaded by the query.
    CHECK(addresses[0]->user->name == "ann");
    CHECK(addresses[3]->user->name == "bob");
    for (const auto& address : addresses) {
      REQUIRE(address->user->addresses.size() == 3);
      CHECK(address->user->addresses[0]->user.get() == address->user.get());
    }
    co_return addresses.size();
  };
  CHECK(run(task) == 4);
}

TEST_CASE("async: objects the application made are added, one or several", "[async]") {
  conformance::FreshSchema schema;
  auto carl = std::make_shared<User>(User{.name = "carl", .age = 40});
  std::vector<std::shared_ptr<User>> more = {std::make_shared<User>(User{.name = "dora"}),
                                             std::make_shared<User>(User{.name = "emil"})};
  auto task = [&]() -> asio::awaitable<std::size_t> {
    AsyncSession session(conformance::engine());
    CHECK(session.add(carl) == carl);
    session.add_all(more);
    co_await session.commit();
    auto users = co_await session.all(session.query<User>());
    co_return users.size();
  };
  CHECK(run(task) == 3);
  CHECK(carl->id > 0);
  CHECK(more[1]->id > 0);
  Session check(conformance::engine());
  CHECK(check.get<User>(carl->id)->name == "carl");
}

TEST_CASE("async: lazy loading is an error, a failed flush rolls back", "[async]") {
  conformance::FreshSchema schema;
  {
    Session setup(conformance::engine());
    auto user = setup.add(User{.name = "lazy"});
    user->addresses.push_back(std::make_shared<Address>(Address{.email = "l@x"}));
    setup.commit();
  }
  auto task = []() -> asio::awaitable<bool> {
    AsyncSession session(conformance::engine());
    auto query = session.query<User>();
    auto users = co_await session.all(query);
    REQUIRE(users.size() == 1);
    CHECK_THROWS_AS(users[0]->addresses.size(), InvalidStateError);

    session.add(OrderLine{.order_id = 1, .line_no = 1, .product = "a", .price = 1});
    session.add(OrderLine{.order_id = 1, .line_no = 1, .product = "dup", .price = 1});
    bool failed = false;
    try {
      co_await session.flush();
    } catch (const IntegrityError&) {
      failed = true;
    }
    session.rollback();
    auto lines = session.query<OrderLine>();
    CHECK((co_await session.all(lines)).empty());
    co_return failed;
  };
  CHECK(run(task));
}

TEST_CASE("async: PostgreSQL sessions interleave on one io_context thread", "[async][postgresql]") {
  if (conformance::backend() != "postgresql") return;
  conformance::FreshSchema schema;
  {
    Connection connection = conformance::engine().connect();
    connection.execute_ddl("CREATE OR REPLACE FUNCTION retort_slow_id(x integer) RETURNS integer "
                           "AS 'SELECT x FROM pg_sleep(0.3)' LANGUAGE sql");
    Session setup(conformance::engine());
    for (int i = 0; i < 3; ++i)
      setup.add(User{.name = "u" + std::to_string(i)});
    setup.commit();
  }
  asio::io_context io; // one thread runs all three sessions
  int done = 0;
  auto one = [&done](std::int64_t id) -> asio::awaitable<void> {
    AsyncSession session(conformance::engine());
    auto query = session.query<User>();
    // An uncorrelated scalar subquery runs once per query (a bare call would run per row).
    query.filter(col(&User::id).expr() == select(func("retort_slow_id", id)).scalar_subquery());
    auto users = co_await session.all(query);
    CHECK(users.size() == 1);
    ++done;
  };
  const auto start = std::chrono::steady_clock::now();
  for (std::int64_t id = 1; id <= 3; ++id)
    asio::co_spawn(io, one(id), asio::detached);
  io.run();
  const auto elapsed = std::chrono::steady_clock::now() - start;
  CHECK(done == 3);
  // Three 0.3 s queries one after another would take 0.9 s; interleaved they take ~0.3 s.
  CHECK(elapsed < std::chrono::milliseconds(800));
}

namespace {

// A trigger that runs at COMMIT (deferred) and does `body` there, on every inserted user.
void at_commit_of_users(const std::string& body) {
  Connection connection = conformance::engine().connect();
  connection.execute_ddl("CREATE OR REPLACE FUNCTION retort_at_commit() RETURNS trigger AS $$ "
                         "BEGIN " +
                         body + "; RETURN NULL; END $$ LANGUAGE plpgsql");
  connection.execute_ddl("CREATE CONSTRAINT TRIGGER retort_at_commit AFTER INSERT ON users "
                         "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW "
                         "EXECUTE FUNCTION retort_at_commit()");
}

} // namespace

TEST_CASE("async: PostgreSQL COMMIT does not block the io_context thread", "[async][postgresql]") {
  if (conformance::backend() != "postgresql") return;
  conformance::FreshSchema schema;
  at_commit_of_users("PERFORM pg_sleep(0.3)");
  asio::io_context io;
  int done = 0;
  auto one = [&done](int i) -> asio::awaitable<void> {
    AsyncSession session(conformance::engine());
    session.add(User{.name = "c" + std::to_string(i)});
    co_await session.flush();  // the INSERT: the trigger waits for COMMIT
    co_await session.commit(); // 0.3 s in the server
    ++done;
  };
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 3; ++i)
    asio::co_spawn(io, one(i), asio::detached);
  io.run();
  const auto elapsed = std::chrono::steady_clock::now() - start;
  CHECK(done == 3);
  // Three 0.3 s commits one after another would take 0.9 s; interleaved they take ~0.3 s.
  CHECK(elapsed < std::chrono::milliseconds(800));
  Session reader(conformance::engine());
  CHECK(reader.query<User>().count() == 3);
}

TEST_CASE("async: a COMMIT that fails reports the database's error, and nothing is kept",
          "[async][postgresql][errors]") {
  if (conformance::backend() != "postgresql") return;
  conformance::FreshSchema schema;
  at_commit_of_users("IF NEW.name = 'refused' THEN "
                     "RAISE EXCEPTION 'no users today' USING ERRCODE = '23514'; END IF");
  auto task = []() -> asio::awaitable<std::string> {
    AsyncSession session(conformance::engine());
    session.add(User{.name = "refused"});
    std::string sqlstate;
    try {
      co_await session.commit();
    } catch (const DatabaseError& e) {
      sqlstate = e.sqlstate();
      CHECK(std::string(e.what()).find("no users today") != std::string::npos);
    }
    // As after a failed flush, the session insists on rollback() first.
    CHECK_THROWS_AS(session.add(User{.name = "too early"}), InvalidStateError);
    session.rollback();
    // The session and its pooled connection are usable again.
    auto users = co_await session.all(session.query<User>());
    CHECK(users.empty());
    co_return sqlstate;
  };
  CHECK(run(task()) == "23514");
  Session reader(conformance::engine());
  CHECK(reader.query<User>().count() == 0);
}

TEST_CASE("async: commit of a session that ran nothing, and of one that only read", "[async]") {
  conformance::FreshSchema schema;
  auto task = []() -> asio::awaitable<std::size_t> {
    AsyncSession session(conformance::engine());
    co_await session.commit(); // nothing at all
    auto users = co_await session.all(session.query<User>());
    co_await session.commit(); // a read-only transaction
    session.add(User{.name = "late"});
    co_await session.commit();
    auto after = co_await session.all(session.query<User>());
    co_return users.size() * 10 + after.size();
  };
  CHECK(run(task()) == 1);
}

TEST_CASE("async: a flushed change is inside the transaction until commit", "[async]") {
  conformance::FreshSchema schema;
  auto task = []() -> asio::awaitable<std::size_t> {
    AsyncSession session(conformance::engine());
    session.add(User{.name = "undone"});
    co_await session.flush(); // BEGIN goes first: the INSERT must not commit on its own
    // (SQLite's shared :memory: database has one connection: no one else can look.)
    if (conformance::backend() != "sqlite_memory") {
      Session other(conformance::engine());
      CHECK(other.query<User>().count() == 0); // not visible outside the transaction
    }
    session.rollback();
    auto users = co_await session.all(session.query<User>());
    co_return users.size();
  };
  CHECK(run(task()) == 0);
}

TEST_CASE("a failed COMMIT ends the transaction: nothing after it runs until rollback()",
          "[postgresql][errors]") {
  if (conformance::backend() != "postgresql") return;
  conformance::FreshSchema schema;
  at_commit_of_users("IF NEW.name = 'refused' THEN "
                     "RAISE EXCEPTION 'no users today' USING ERRCODE = '23514'; END IF");
  Session session(conformance::engine());
  session.add(User{.name = "refused"});
  CHECK_THROWS_AS(session.commit(), DatabaseError);
  // Not silently in autocommit on a transaction that is over: the session says what to do.
  try {
    session.add(User{.name = "too early"});
    FAIL("a session whose COMMIT failed went on without rollback()");
  } catch (const InvalidStateError& e) {
    CHECK(std::string(e.what()).find("call rollback()") != std::string::npos);
  }
  session.rollback();
  session.add(User{.name = "accepted"});
  session.commit();
  Session reader(conformance::engine());
  auto users = reader.query<User>().all();
  REQUIRE(users.size() == 1);
  CHECK(users[0]->name == "accepted");
}

TEST_CASE("async: sessions without change detection write flagged objects", "[async]") {
  conformance::FreshSchema schema;
  auto task = []() -> asio::awaitable<std::int64_t> {
    AsyncSession session(conformance::engine(), SessionOptions{.autodetect_changes = false});
    auto user = session.add(User{.name = "flag", .age = 1});
    co_await session.commit();
    auto loaded = co_await session.get<User>(user->id);
    loaded->age = 2;
    session.modified(loaded);
    co_await session.commit();
    co_return user->id;
  };
  const std::int64_t id = run(task());
  Session reader(conformance::engine());
  CHECK(reader.get<User>(id)->age == 2);
}

// g++ 12 inlines Boost.Asio's coroutine-frame allocator into this test's lambda and then takes
// the frame's class-specific delete for a mismatch with the global new inside that allocator
// (-Wmismatched-new-delete, a false positive: Boost pairs them itself).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
TEST_CASE("async: get() answers from the identity map as Session::get() does; statements counted",
          "[async]") {
  conformance::FreshSchema schema;
  auto task = []() -> asio::awaitable<std::uint64_t> {
    AsyncSession session(conformance::engine());
    auto ann = session.add(User{.name = "ann", .age = 30});
    co_await session.flush();
    const std::uint64_t flushed = session.statements_executed();
    CHECK(flushed >= 1); // the INSERT (its BEGIN is the driver's, not a statement of the plan)

    auto again = co_await session.get<User>(ann->id); // in the identity map: no SQL
    CHECK(again == ann);
    CHECK(session.statements_executed() == flushed);

    auto missing = co_await session.get<User>(ann->id + 100); // not loaded: one SELECT
    CHECK(missing == nullptr);
    CHECK(session.statements_executed() == flushed + 1);

    const std::int64_t id = ann->id;
    session.remove(ann);
    co_await session.flush();
    const std::uint64_t deleted = session.statements_executed();
    CHECK(deleted == flushed + 2);
    auto gone = co_await session.get<User>(id); // out of the identity map: the SELECT finds none
    CHECK(gone == nullptr);
    CHECK(session.statements_executed() == deleted + 1);
    session.rollback();
    CHECK(session.state_of(ann) == ObjectState::transient); // its INSERT was rolled back too

    auto back = co_await session.get<User>(id);
    CHECK(back == nullptr);
    co_return session.statements_executed() - deleted;
  };
  CHECK(run(task()) == 2); // the two SELECTs after the DELETE's flush
}

namespace {

// Commits `session` (one coroutine of two sharing it).
asio::awaitable<void> commit_it(AsyncSession* session) { co_await session->commit(); }

struct Refusals {
  bool add = false;
  bool commit = false;
  bool query = false;
  bool get = false;
};

// Runs while commit_it() waits for its commit: every use of the session must be refused.
asio::awaitable<void> interfere(AsyncSession* session, Refusals* refused) {
  try {
    session->add(User{.name = "second"});
  } catch (const InvalidStateError&) {
    refused->add = true;
  }
  try {
    co_await session->commit();
  } catch (const InvalidStateError&) {
    refused->commit = true;
  }
  try {
    auto query = session->query<User>();
    (void)co_await session->all(query);
  } catch (const InvalidStateError&) {
    refused->query = true;
  }
  try {
    (void)co_await session->get<User>(std::int64_t{1});
  } catch (const InvalidStateError&) {
    refused->get = true;
  }
}

asio::awaitable<void> add_and_commit(AsyncSession* session) {
  session->add(User{.name = "third"});
  co_await session->commit();
}

} // namespace

TEST_CASE("async: a session is refused to a second coroutine while an operation is under way",
          "[async][threads]") {
  conformance::FreshSchema schema;
  Engine engine = conformance::engine();
  // The commit must wait for something, so that the second coroutine runs meanwhile: for the
  // server on PostgreSQL. On SQLite a commit that waits for nothing runs to its end on the
  // io_context's thread; there another session holds the write lock of a WAL file, and lets
  // it go once the second coroutine has run.
  std::optional<retort::test::TempDatabase> file;
  std::optional<Session> blocker;
  if (conformance::is_sqlite()) {
    file.emplace();
    EngineConfig config;
    config.options = {{"journal_mode", "wal"}, {"synchronous", "normal"}};
    engine = create_engine(file->url(), config);
    retort::metadata().create_all(engine);
    blocker.emplace(engine);
    blocker->add(User{.name = "blocker"});
    blocker->flush();
  }
  AsyncSession session(engine);
  session.add(User{.name = "first"});
  Refusals refused;
  {
    asio::io_context io;
    // Started in this order: commit_it() runs until its commit waits (for the worker thread or
    // the server), then interfere() runs.
    auto first = asio::co_spawn(io, commit_it(&session), asio::use_future);
    auto second = asio::co_spawn(io, interfere(&session, &refused), asio::use_future);
    if (blocker) {
      auto release = [&]() -> asio::awaitable<void> {
        asio::steady_timer timer(co_await asio::this_coro::executor, 100ms);
        co_await timer.async_wait(asio::use_awaitable);
        blocker->rollback();
      };
      asio::co_spawn(io, release(), asio::detached);
    }
    io.run();
    first.get();
    second.get();
  }
  CHECK(refused.add);
  CHECK(refused.commit);
  CHECK(refused.query);
  CHECK(refused.get);
  // Once the commit is over the session serves the next operation, from any thread.
  std::thread other([&] {
    asio::io_context io;
    auto done = asio::co_spawn(io, add_and_commit(&session), asio::use_future);
    io.run();
    done.get();
  });
  other.join();
  Session check(engine);
  CHECK(check.query<User>().count() == 2);
}
#pragma GCC diagnostic pop

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
TEST_CASE("async: count(), exists() and values() are awaited; a blocking Query call refuses",
          "[async]") {
  conformance::FreshSchema schema;
  auto task = []() -> asio::awaitable<std::int64_t> {
    AsyncSession session(conformance::engine());
    session.add(User{.name = "ann", .age = 30});
    session.add(User{.name = "bob", .age = 20});
    // Autoflushed first, as Query::count() is: the pending objects are counted.
    auto adults = session.query<User>();
    adults.filter(col(&User::age) >= 18);
    const std::int64_t n = co_await session.count(adults);
    CHECK(n == 2);
    auto young = session.query<User>();
    young.filter(col(&User::age) < 25);
    const bool any_young = co_await session.exists(young);
    CHECK(any_young);
    auto old = session.query<User>();
    old.filter(col(&User::age) > 90);
    const bool any_old = co_await session.exists(old);
    CHECK_FALSE(any_old);
    auto ordered = session.query<User>();
    ordered.order_by(col(&User::age));
    auto rows = co_await session.values(ordered, col(&User::name), col(&User::age));
    REQUIRE(rows.size() == 2);
    CHECK(std::get<0>(rows[0]) == "bob");
    CHECK(std::get<1>(rows[1]) == 30);

    // The blocking calls would run on the io thread: refused, and nothing is sent.
    const std::uint64_t sent = session.statements_executed();
    CHECK_THROWS_WITH(adults.count(), Catch::Contains("would block"));
    CHECK_THROWS_AS(adults.exists(), InvalidStateError);
    CHECK_THROWS_AS(adults.all(), InvalidStateError);
    CHECK_THROWS_AS(adults.first(), InvalidStateError);
    CHECK_THROWS_WITH(adults.values(col(&User::name)), Catch::Contains("co_await"));
    CHECK(session.statements_executed() == sent);
    co_await session.commit();
    co_return n;
  };
  CHECK(run(task()) == 2);
  // The blocking session gives the same answers through the same plans.
  Session check(conformance::engine());
  CHECK(check.query<User>().count() == 2);
  CHECK(check.query<User>().filter(col(&User::age) < 25).exists());
  auto names = check.query<User>().order_by(col(&User::age)).values(col(&User::name));
  REQUIRE(names.size() == 2);
  CHECK(std::get<0>(names[1]) == "ann");
}
#pragma GCC diagnostic pop

TEST_CASE("async: a remove() that cannot load the children changes nothing", "[async][failure]") {
  conformance::FreshSchema schema;
  {
    Session setup(conformance::engine());
    auto user = setup.add(User{.name = "kept"});
    user->addresses.push_back(std::make_shared<Address>(Address{.email = "k@x"}));
    setup.commit();
  }
  auto task = []() -> asio::awaitable<bool> {
    AsyncSession session(conformance::engine());
    auto query = session.query<User>();
    auto users = co_await session.all(query);
    REQUIRE(users.size() == 1);
    // The addresses are not loaded, and an async session does not lazy-load: remove() throws,
    // and the user is as it was (not deleted at the next flush).
    CHECK_THROWS_AS(session.remove(users[0]), InvalidStateError);
    const bool persistent = session.state_of(users[0]) == ObjectState::persistent;
    co_await session.commit();
    co_return persistent;
  };
  CHECK(run(task));
  Session check(conformance::engine());
  CHECK(check.query<User>().count() == 1);
  CHECK(check.query<Address>().count() == 1);
}

TEST_CASE("async: savepoints roll back and commit like the blocking session's",
          "[async][savepoint]") {
  conformance::FreshSchema schema;
  auto task = []() -> asio::awaitable<bool> {
    AsyncSession session(conformance::engine());
    auto kept = session.add(User{.name = "kept"});
    auto nested = co_await session.begin_nested();
    auto dropped = session.add(User{.name = "dropped"});
    kept->name = "changed";
    co_await session.flush();
    co_await nested.rollback();
    const bool restored = kept->name == "kept" &&
                          session.state_of(dropped) == ObjectState::transient &&
                          session.state_of(kept) == ObjectState::persistent;
    auto second = co_await session.begin_nested();
    session.add(User{.name = "second"});
    co_await second.commit();
    co_await session.commit();
    co_return restored;
  };
  CHECK(run(task));
  Session check(conformance::engine());
  auto users = check.query<User>().order_by(col(&User::id)).all();
  REQUIRE(users.size() == 2);
  CHECK(users[0]->name == "kept");
  CHECK(users[1]->name == "second");
}
