// Waiting turned off (DriverConnection::set_waiting(false)), what the async layer runs SQLite
// plans on its own thread with: a call that would wait for another connection's lock throws
// WouldWaitError at once, leaves the connection as it was, and succeeds when made again; where
// a refused call could not be made again (a rollback journal), waiting cannot be turned off;
// and a COMMIT that cannot wait never syncs, its checkpoint left for a COMMIT made with waiting
// on.
#include "sqlite_plugin.hpp"

#include <retort/core/error.hpp>
#include <retort/orm/plan.hpp>
#include <retort/retort.hpp>

#include <catch2/catch.hpp>

#include <sqlite3.h>

#include <filesystem>
#include <string>
#include <vector>

using namespace retort;
using retort::test::connect;
using retort::test::TempDir;

namespace {

void run(DriverConnection& c, const std::string& sql, std::vector<Value> params = {}) {
  auto& stmt = c.cached_statement(sql);
  stmt.bind(params);
  while (stmt.step()) {
  }
}

std::int64_t count(DriverConnection& c) {
  auto& stmt = c.cached_statement("SELECT count(*) FROM t");
  REQUIRE(stmt.step());
  std::int64_t n = stmt.get_int64(0);
  stmt.reset();
  return n;
}

// A WAL database with table t, and a second connection that holds its write lock. A busy
// timeout of a minute: a call that waited instead of being refused would hang the test.
struct LockedWal {
  TempDir dir;
  std::string url = dir.url("wal.db") + "?journal_mode=wal&synchronous=normal&busy_timeout=60000";
  std::unique_ptr<DriverConnection> holder = connect(url);
  LockedWal() {
    holder->execute("CREATE TABLE t (v INTEGER)");
    holder->begin();
    holder->will_write(); // BEGIN IMMEDIATE: the write lock
  }
};

} // namespace

TEST_CASE("waiting off: a write that would wait is refused at once and runs when made again",
          "[sqlite][driver][waiting]") {
  LockedWal db;
  auto c = connect(db.url);
  REQUIRE(c->set_waiting(false));
  c->begin();
  CHECK_THROWS_AS(run(*c, "INSERT INTO t VALUES (?)", {1}), WouldWaitError);
  CHECK(count(*c) == 0); // the refused INSERT left nothing, the transaction is usable
  db.holder->commit();
  run(*c, "INSERT INTO t VALUES (?)", {1}); // the same call again
  c->commit();
  CHECK(c->set_waiting(true));
  CHECK(count(*db.holder) == 1);
}

TEST_CASE("waiting off: a BEGIN IMMEDIATE that would wait stays to be sent again",
          "[sqlite][driver][waiting]") {
  LockedWal db;
  SECTION("a deferred BEGIN taken IMMEDIATE by will_write()") {
    auto c = connect(db.url);
    REQUIRE(c->set_waiting(false));
    c->begin();
    CHECK_THROWS_AS(c->will_write(), WouldWaitError);
    CHECK(c->in_transaction()); // the BEGIN is pending again
    db.holder->commit();
    c->will_write();
    run(*c, "INSERT INTO t VALUES (?)", {2});
    c->commit();
  }
  SECTION("transaction_mode immediate") {
    auto c = connect(db.url + "&transaction_mode=immediate");
    REQUIRE(c->set_waiting(false));
    CHECK_THROWS_AS(c->begin(), WouldWaitError);
    CHECK_FALSE(c->in_transaction());
    db.holder->commit();
    c->begin();
    run(*c, "INSERT INTO t VALUES (?)", {2});
    c->commit();
  }
  CHECK(count(*db.holder) == 1);
}

TEST_CASE("waiting off: a lock that cannot be waited out is the statement's own error",
          "[sqlite][driver][waiting]") {
  // A transaction that read, in WAL mode, cannot take the write lock another connection holds
  // (waiting would not help: SQLite does not call the busy handler): the same OperationalError
  // with waiting on or off, never a WouldWaitError that would be retried.
  LockedWal db;
  auto c = connect(db.url);
  REQUIRE(c->set_waiting(false));
  c->begin();
  CHECK(count(*c) == 0);
  try {
    run(*c, "INSERT INTO t VALUES (?)", {3});
    FAIL("the INSERT ran");
  } catch (const WouldWaitError&) {
    FAIL("refused as a wait");
  } catch (const OperationalError& e) {
    CHECK((e.native_code() & 0xff) == SQLITE_BUSY);
  }
  c->rollback();
}

TEST_CASE("waiting can be turned off only where a refused call can be made again",
          "[sqlite][driver][waiting]") {
  TempDir dir;
  CHECK(connect(dir.url("wal.db") + "?journal_mode=wal")->set_waiting(false));
  CHECK(connect("sqlite://")->set_waiting(false)); // private memory: no other connection
  // A rollback journal may need the exclusive lock half-way through a write.
  CHECK_FALSE(connect(dir.url("delete.db"))->set_waiting(false));
  CHECK_FALSE(connect(dir.url("delete.db") + "?journal_mode=truncate")->set_waiting(false));

  // The journal mode changed by a PRAGMA is seen.
  auto c = connect(dir.url("wal.db"));
  CHECK(c->set_waiting(false));
  CHECK(c->set_waiting(true));
  c->execute("PRAGMA journal_mode = delete");
  CHECK_FALSE(c->set_waiting(false));
  run(*c, "PRAGMA journal_mode = wal");
  CHECK(c->set_waiting(false));
  c->set_waiting(true);

  // An attached database may be in another mode.
  c->execute("ATTACH DATABASE '" + (dir.path() / "other.db").string() + "' AS other");
  CHECK_FALSE(c->set_waiting(false));
}

TEST_CASE("commit_cannot_wait: a write transaction in WAL mode without syncs",
          "[sqlite][driver][waiting]") {
  TempDir dir;
  auto check_write = [&](const std::string& query, bool cannot_wait) {
    auto c = connect(dir.url("w.db") + query);
    c->execute("CREATE TABLE IF NOT EXISTS t (v INTEGER)");
    c->begin();
    run(*c, "INSERT INTO t VALUES (?)", {1});
    CHECK(c->commit_cannot_wait() == cannot_wait);
    c->commit();
  };
  check_write("?journal_mode=wal&synchronous=normal", true);
  check_write("?journal_mode=wal&synchronous=off", true);
  check_write("?journal_mode=wal&synchronous=full", false); // syncs the WAL at every COMMIT
  check_write("?journal_mode=delete&synchronous=normal", false);

  auto memory = connect("sqlite://");
  memory->execute("CREATE TABLE t (v INTEGER)");
  memory->begin();
  run(*memory, "INSERT INTO t VALUES (?)", {1});
  CHECK(memory->commit_cannot_wait());
  memory->commit();
}

TEST_CASE("a COMMIT made with waiting off leaves the checkpoint to one made with waiting on",
          "[sqlite][driver][waiting]") {
  TempDir dir;
  const auto file = dir.path() / "cp.db";
  auto c = connect(dir.url("cp.db") + "?journal_mode=wal&synchronous=normal");
  c->execute("PRAGMA wal_autocheckpoint = 100");
  c->execute("CREATE TABLE t (v BLOB)");
  const auto size_before = std::filesystem::file_size(file);
  // 200 pages in the WAL: past the checkpoint size.
  auto write_pages = [&c] {
    c->begin();
    run(*c, "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 200) "
            "INSERT INTO t SELECT zeroblob(4000) FROM n");
  };
  REQUIRE(c->set_waiting(false));
  write_pages();
  REQUIRE(c->commit_cannot_wait());
  c->commit();
  // No checkpoint ran: the database file did not take the pages.
  CHECK(std::filesystem::file_size(file) == size_before);
  // The checkpoint is owed: the next write transaction's COMMIT may wait for it. (With waiting
  // on: the INSERT is now known to be long, and would be refused.)
  REQUIRE(c->set_waiting(true));
  write_pages();
  CHECK_FALSE(c->commit_cannot_wait());
  c->commit();
  CHECK(std::filesystem::file_size(file) > size_before + 200 * 4000);
  CHECK(count(*c) == 400);
}

TEST_CASE("waiting off: a statement whose last run was long goes where it may take its time",
          "[sqlite][driver][waiting]") {
  auto c = connect("sqlite://");
  c->execute("CREATE TABLE t (v INTEGER)");
  run(*c, "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5000) "
          "INSERT INTO t SELECT i FROM n");
  // A scan of 5,000 rows, a text no other test runs (the lengths are kept per text).
  const std::string scan = "SELECT sum(v) FROM t WHERE v % 7 = 3 /* long-run test */";
  REQUIRE(c->set_waiting(false));
  CHECK_FALSE(c->would_wait(scan));
  run(*c, scan); // not yet known to be long
  // Asked beforehand (no exception), then refused all the same when run.
  CHECK(c->would_wait(scan));
  CHECK_THROWS_AS(run(*c, scan), WouldWaitError);
  // The length is the text's on every connection of the process.
  auto other = connect("sqlite://");
  other->execute("CREATE TABLE t (v INTEGER)");
  REQUIRE(other->set_waiting(false));
  CHECK(other->would_wait(scan)); // not prepared there yet
  CHECK_THROWS_AS(run(*other, scan), WouldWaitError);
  CHECK_FALSE(other->would_wait("SELECT 1"));
  // With waiting on it runs; a short one runs with waiting off.
  CHECK(c->set_waiting(true));
  CHECK_FALSE(c->would_wait(scan));
  run(*c, scan);
  REQUIRE(c->set_waiting(false));
  CHECK(count(*c) == 5000);
  c->set_waiting(true);
}

namespace {

// Counts the rows of its one step.
struct CountingSink final : RowSink {
  int rows = 0;
  void row(const DriverStatement&) override { ++rows; }
};

// A plan of one query.
struct OneQuery final : Plan {
  explicit OneQuery(std::string text) : sql(std::move(text)) {}
  bool next(PlanStep& step) override {
    if (given) return false;
    given = true;
    step.sql = sql;
    step.sink = &sink;
    return true;
  }
  std::string sql;
  CountingSink sink;
  bool given = false;
};

} // namespace

TEST_CASE("a plan run stops before a round the driver would refuse, having run none of it",
          "[sqlite][driver][waiting]") {
  Engine engine = create_engine("sqlite://");
  Connection connection = engine.connect();
  connection.execute_ddl("CREATE TABLE t (v INTEGER)");
  connection.execute_ddl("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE "
                         "i < 5000) INSERT INTO t SELECT i FROM n");
  const std::string scan = "SELECT sum(v) FROM t WHERE v % 5 = 2 /* plan-run test */";
  OneQuery first(scan);
  run_plan(first, connection); // now known to be long
  CHECK(first.sink.rows == 1);

  REQUIRE(connection.driver().set_waiting(false));
  OneQuery second(scan);
  BlockingPlanRun run(second, false, false);
  CHECK(run.run_until_final(connection, true) == PlanRunStop::would_wait);
  CHECK(second.sink.rows == 0);
  // Made again with waiting on (the async layer: on a worker), the round held runs.
  connection.driver().set_waiting(true);
  CHECK(run.run_until_final(connection) == PlanRunStop::ended);
  CHECK(second.sink.rows == 1);

  // Not asked beforehand, the refusal is the statement's WouldWaitError, as before.
  REQUIRE(connection.driver().set_waiting(false));
  OneQuery third(scan);
  BlockingPlanRun unasked(third, false, false);
  CHECK_THROWS_AS(unasked.run_until_final(connection), WouldWaitError);
  CHECK(third.sink.rows == 0);
  connection.driver().set_waiting(true);
}
