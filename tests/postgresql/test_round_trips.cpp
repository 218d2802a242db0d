// Round trips of transactions on PostgreSQL, counted on the wire: a loopback proxy between the
// engine and the server counts how often the server answers after the client sent something.
// BEGIN waits for the first statement and travels with it, a transaction that ran nothing sends
// nothing, ROLLBACK is not awaited, and execute_and_commit() sends BEGIN, the statements and
// COMMIT as one pipeline.
#include "pg_support.hpp"

#include <counting_proxy.hpp>

#include <retort/core/error.hpp>
#include <retort/engine/connection.hpp>
#include <retort/orm.hpp>
#include <retort/plugin/create_engine.hpp>

#include <chrono>

namespace rt {
/// A row of rt_items, mapped for the ORM round-trip test.
struct Item {
  int id{};
  std::string v;
};
} // namespace rt

template <> struct retort::Model<rt::Item> {
  static constexpr auto table = "rt_items";
  static constexpr auto fields =
      fields_of(column("id", &rt::Item::id, primary_key), column("v", &rt::Item::v));
};

using namespace retort;
using retort::testing::CountingProxy;
using retort::testing::one_connection_engine;

namespace {

void setup_table(const std::string& name) {
  auto admin = test::pg_connect();
  admin->execute("DROP TABLE IF EXISTS " + name);
  admin->execute("CREATE TABLE " + name + " (id INTEGER PRIMARY KEY, v TEXT)");
}

std::int64_t count_rows(const std::string& table) {
  auto other = test::pg_connect();
  return test::scalar(*other, "SELECT count(*) FROM " + table).as_int();
}

} // namespace

TEST_CASE("postgresql transactions: round trips on the wire", "[postgresql][round_trips]") {
  REQUIRE_PG_SERVER();
  setup_table("rt_items");
  CountingProxy proxy(Url::parse(*test::pg_url()));
  Engine engine = one_connection_engine(proxy.url());
  const std::string insert = "INSERT INTO rt_items (id, v) VALUES ($1, $2) RETURNING id";
  const std::string select = "SELECT v FROM rt_items WHERE id = $1";
  {
    // Warm up: connect and prepare both statements outside any transaction.
    Connection c = engine.connect();
    std::vector<Value> first{Value(1), Value("one")};
    c.execute_sql(insert, first).close();
    std::vector<Value> key{Value(1)};
    c.execute_sql(select, key).close();
  }

  SECTION("a transaction that runs nothing sends nothing") {
    proxy.reset();
    Connection c = engine.connect();
    c.begin().commit();
    Transaction t = c.begin();
    CHECK(c.in_transaction());
    t.rollback();
    CHECK_FALSE(c.in_transaction());
    CHECK(proxy.round_trips() == 0);
  }

  SECTION("BEGIN travels with the first statement; ROLLBACK is sent, not awaited") {
    proxy.reset();
    {
      Connection c = engine.connect();
      Transaction t = c.begin();
      std::vector<Value> key{Value(1)};
      CHECK(c.execute_sql(select, key).scalar<std::string>() == "one");
      CHECK(proxy.round_trips() == 1);
      t.rollback(); // its answer arrives while the caller goes on
    }
    Connection again = engine.connect(); // the answer is read here or before the next request
    CHECK_FALSE(again.in_transaction());
    std::vector<Value> key{Value(1)};
    CHECK(again.execute_sql(select, key).scalar<std::string>() == "one");
    CHECK(proxy.round_trips() == 3);
  }

  SECTION("execute_and_commit: BEGIN, INSERT ... RETURNING and COMMIT in one round trip") {
    proxy.reset();
    Connection c = engine.connect();
    Transaction t = c.begin();
    std::vector<Value> params{Value(2), Value("two")};
    std::vector<Connection::Pipelined> statements{{&insert, params}};
    std::int64_t returned = 0;
    c.execute_and_commit(statements, t, [&](std::size_t index, Result& result) {
      CHECK(index == 0);
      returned = result.scalar<std::int64_t>();
    });
    CHECK(proxy.round_trips() == 1);
    CHECK(returned == 2);
    CHECK_FALSE(t.is_active());
    CHECK_FALSE(c.in_transaction());
    CHECK(count_rows("rt_items") == 2); // committed: another connection sees it
  }

  SECTION("a savepoint's BEGIN and SAVEPOINT share a round trip") {
    proxy.reset();
    Connection c = engine.connect();
    Transaction outer = c.begin();
    Transaction inner = c.begin_nested();
    CHECK(proxy.round_trips() == 1);
    std::vector<Value> params{Value(3), Value("three")};
    c.execute_sql(insert, params).close();
    inner.rollback();
    outer.commit();
    CHECK(count_rows("rt_items") == 1);
  }
  test::pg_connect()->execute("DROP TABLE rt_items");
}

TEST_CASE("postgresql transactions: errors of a pipelined first statement are its own",
          "[postgresql][round_trips][errors]") {
  REQUIRE_PG_SERVER();
  setup_table("rt_errors");
  Engine engine = one_connection_engine(*test::pg_url());
  const std::string insert = "INSERT INTO rt_errors (id, v) VALUES ($1, $2)";
  {
    Connection c = engine.connect();
    std::vector<Value> params{Value(1), Value("one")};
    c.execute_sql(insert, params).close(); // prepared and cached: later runs pipeline BEGIN
  }

  SECTION("cached statement: the INSERT's SQLSTATE and SQL, the transaction failed and open") {
    Connection c = engine.connect();
    Transaction t = c.begin();
    std::vector<Value> duplicate{Value(1), Value("again")};
    try {
      c.execute_sql(insert, duplicate);
      FAIL("duplicate key accepted");
    } catch (const IntegrityError& e) {
      CHECK(e.sqlstate() == "23505");
      CHECK(e.sql() == insert);
    }
    CHECK(c.in_transaction());
    CHECK_THROWS_AS(c.execute_sql("SELECT 1"), DatabaseError); // 25P02: aborted transaction
    t.rollback();
    CHECK(c.execute_sql("SELECT 2").scalar<std::int64_t>() == 2);
  }

  SECTION("new statement: a preparation error aborts the transaction as after an eager BEGIN") {
    Connection c = engine.connect();
    Transaction t = c.begin();
    const std::string bad = "SELECT * FROM rt_no_such_table";
    try {
      c.execute_sql(bad);
      FAIL("missing table accepted");
    } catch (const ProgrammingError& e) {
      CHECK(e.sqlstate() == "42P01");
      CHECK(e.sql() == bad);
    }
    CHECK(c.in_transaction());
    try {
      t.commit();
      FAIL("commit of a failed transaction succeeded");
    } catch (const DatabaseError& e) {
      CHECK(e.sqlstate() == "25P02");
    }
  }

  SECTION("DDL text: the statement's SQLSTATE and SQL") {
    Connection c = engine.connect();
    Transaction t = c.begin();
    const std::string bad = "ALTER TABLE rt_no_such_table ADD COLUMN x INTEGER";
    try {
      c.execute_ddl(bad);
      FAIL("missing table accepted");
    } catch (const ProgrammingError& e) {
      CHECK(e.sqlstate() == "42P01");
      CHECK(e.sql() == bad);
    }
    t.rollback();
  }

  SECTION("execute_and_commit: a failing statement keeps COMMIT from taking effect") {
    Connection c = engine.connect();
    Transaction t = c.begin();
    std::vector<Value> fresh{Value(5), Value("five")};
    std::vector<Value> duplicate{Value(1), Value("again")};
    std::vector<Connection::Pipelined> statements{{&insert, fresh}, {&insert, duplicate}};
    bool handled = false;
    try {
      c.execute_and_commit(statements, t, [&](std::size_t, Result&) { handled = true; });
      FAIL("duplicate key accepted");
    } catch (const IntegrityError& e) {
      CHECK(e.sqlstate() == "23505");
      CHECK(e.sql() == insert);
    }
    CHECK_FALSE(handled);
    CHECK(t.is_active()); // the caller rolls back
    CHECK(count_rows("rt_errors") == 1);
    t.rollback();
    CHECK(count_rows("rt_errors") == 1);
    CHECK(c.execute_sql("SELECT 3").scalar<std::int64_t>() == 3);
  }

  SECTION("execute_and_commit after earlier statements: they fail and commit together") {
    Connection c = engine.connect();
    Transaction t = c.begin();
    std::vector<Value> earlier{Value(7), Value("seven")};
    c.execute_sql(insert, earlier).close();
    std::vector<Value> duplicate{Value(1), Value("again")};
    std::vector<Connection::Pipelined> failing{{&insert, duplicate}};
    CHECK_THROWS_AS(c.execute_and_commit(failing, t, [](std::size_t, Result&) {}), IntegrityError);
    CHECK(t.is_active());
    t.rollback();
    CHECK(count_rows("rt_errors") == 1); // the earlier row went with the failed commit

    Transaction again = c.begin();
    c.execute_sql(insert, earlier).close();
    std::vector<Value> last{Value(8), Value("eight")};
    std::vector<Connection::Pipelined> statements{{&insert, last}};
    c.execute_and_commit(statements, again, [](std::size_t, Result&) {});
    CHECK_FALSE(again.is_active());
    CHECK(count_rows("rt_errors") == 3);
  }

  SECTION("execute_and_commit as the whole transaction: LOCK needs a transaction block") {
    Connection c = engine.connect();
    Transaction t = c.begin();
    const std::string lock = "LOCK TABLE rt_errors IN SHARE MODE";
    std::vector<Connection::Pipelined> statements{{&lock, {}}};
    CHECK_THROWS_AS(c.execute_and_commit(statements, t, [](std::size_t, Result&) {}),
                    DatabaseError);
    t.rollback();
    CHECK(c.execute_sql("SELECT 5").scalar<std::int64_t>() == 5);
  }

  for (bool earlier_statement : {false, true}) {
    DYNAMIC_SECTION("execute_and_commit: a failing COMMIT ends the transaction with its error"
                    << (earlier_statement ? " (after an earlier statement)" : "")) {
      test::pg_connect()->execute("ALTER TABLE rt_errors ADD CONSTRAINT rt_errors_v UNIQUE (v) "
                                  "DEFERRABLE INITIALLY DEFERRED");
      Connection c = engine.connect();
      Transaction t = c.begin();
      if (earlier_statement) c.execute_sql("SELECT 1").close();
      std::vector<Value> clash{Value(6), Value("one")};
      std::vector<Connection::Pipelined> statements{{&insert, clash}};
      try {
        c.execute_and_commit(statements, t, [](std::size_t, Result&) {});
        FAIL("deferred unique violation committed");
      } catch (const IntegrityError& e) {
        CHECK(e.sqlstate() == "23505");
        CHECK(e.sql() != insert); // the commit's error, not the statement's
      }
      CHECK_FALSE(t.is_active());
      CHECK_FALSE(c.in_transaction());
      CHECK(count_rows("rt_errors") == 1);
      CHECK(c.execute_sql("SELECT 4").scalar<std::int64_t>() == 4);
    }
  }
  test::pg_connect()->execute("DROP TABLE rt_errors");
}

TEST_CASE("postgresql transactions: an unawaited ROLLBACK leaves locks and the pool sound",
          "[postgresql][round_trips][pool]") {
  REQUIRE_PG_SERVER();
  setup_table("rt_locks");
  Engine engine = one_connection_engine(*test::pg_url());
  auto other = test::pg_connect();
  // Would wait forever for a lock the rolled-back transaction kept; fails fast instead.
  other->execute("SET lock_timeout = '5s'");
  for (int round = 0; round < 3; ++round) {
    {
      Connection c = engine.connect();
      Transaction t = c.begin();
      c.execute_ddl("LOCK TABLE rt_locks IN ACCESS EXCLUSIVE MODE");
      t.rollback();
      // Right away, while the ROLLBACK's answer is still unread on `c`.
      other->execute("ALTER TABLE rt_locks ADD COLUMN c" + std::to_string(round) + " INTEGER");
    }
    Connection next = engine.connect();
    CHECK(next.execute_sql("SELECT count(*) FROM rt_locks").scalar<std::int64_t>() == 0);
  }
  {
    // Transactions back to back: each one's BEGIN and first statement are queued behind the
    // previous ROLLBACK, whose answer is read first; nothing of the rolled-back work remains.
    const std::string insert = "INSERT INTO rt_locks (id, v) VALUES ($1, 'x') RETURNING id";
    for (int i = 0; i < 20; ++i) {
      Connection c = engine.connect();
      Transaction t = c.begin();
      std::vector<Value> key{Value(i)};
      CHECK(c.execute_sql(insert, key).scalar<std::int64_t>() == i);
      t.rollback();
      CHECK_FALSE(c.in_transaction());
    }
    Connection c = engine.connect();
    CHECK(c.execute_sql("SELECT count(*) FROM rt_locks").scalar<std::int64_t>() == 0);
  }
  {
    // A transaction dropped while open (the pool's reset) behaves the same.
    Connection c = engine.connect();
    Transaction t = c.begin();
    c.execute_ddl("LOCK TABLE rt_locks IN ACCESS EXCLUSIVE MODE");
  }
  other->execute("DROP TABLE rt_locks");
  CHECK(engine.pool().status().discarded == 0);
  CHECK(engine.pool().status().opened == 1);
  Connection last = engine.connect();
  CHECK(last.execute_sql("SELECT 5").scalar<std::int64_t>() == 5);
}

TEST_CASE("postgresql transactions: a connection lost under an unawaited ROLLBACK is discarded",
          "[postgresql][round_trips][pool]") {
  REQUIRE_PG_SERVER();
  Engine engine = one_connection_engine(*test::pg_url());
  std::int64_t pid = 0;
  {
    Connection c = engine.connect();
    pid = c.execute_sql("SELECT pg_backend_pid()").scalar<std::int64_t>();
    Transaction t = c.begin();
    c.execute_sql("SELECT 1").close();
    // The server ends the backend; the ROLLBACK that follows is answered by a closed socket.
    auto admin = test::pg_connect();
    std::vector<Value> key{Value(pid)};
    test::query(*admin, "SELECT pg_terminate_backend($1::int)", key);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    t.rollback();
  }
  Connection next = engine.connect();
  CHECK(next.execute_sql("SELECT pg_backend_pid()").scalar<std::int64_t>() != pid);
  CHECK(engine.pool().status().discarded == 1);
}

TEST_CASE("postgresql sessions: add + commit and get are one awaited round trip each",
          "[postgresql][round_trips][orm]") {
  REQUIRE_PG_SERVER();
  setup_table("rt_items");
  CountingProxy proxy(Url::parse(*test::pg_url()));
  Engine engine = one_connection_engine(proxy.url());
  {
    // Warm up: the connection and its prepared INSERT and SELECT-by-key.
    Session session(engine);
    session.add(rt::Item{.id = 1, .v = "one"});
    session.commit();
    Session reader(engine);
    REQUIRE(reader.get<rt::Item>(1) != nullptr);
  }

  proxy.reset();
  {
    Session session(engine);
    session.add(rt::Item{.id = 2, .v = "two"});
    session.commit(); // BEGIN-less INSERT with its COMMIT: one pipeline segment
  }
  CHECK(proxy.round_trips() == 1);
  CHECK(count_rows("rt_items") == 2);

  proxy.reset();
  {
    Session session(engine);
    auto item = session.get<rt::Item>(2); // BEGIN travels with the SELECT
    REQUIRE(item != nullptr);
    CHECK(item->v == "two");
    CHECK(proxy.round_trips() == 1);
  } // the closing ROLLBACK is sent, not awaited
  // The connection is sound for the next session (the ROLLBACK's answer may reach the proxy
  // with the next answer, so the count after this point is not exact).
  Session after(engine);
  CHECK(after.get<rt::Item>(1)->v == "one");
  CHECK(proxy.round_trips() <= 3);
}
