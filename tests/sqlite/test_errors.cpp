// Error translation: SQLite result codes to Retort's typed errors, each with the extended
// code, the SQL and SQLite's message.
#include "sqlite_plugin.hpp"

#include <retort/core/error.hpp>

#include <catch2/catch.hpp>

#include <sqlite3.h>

#include <chrono>
#include <fstream>
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

// Runs `sql` and returns the error it must throw, typed as E.
template <typename E>
E error_of(DriverConnection& c, const std::string& sql, std::vector<Value> params = {}) {
  try {
    run(c, sql, std::move(params));
  } catch (const E& e) {
    return e;
  }
  FAIL("no " << typeid(E).name() << " from: " << sql);
  throw;
}

std::unique_ptr<DriverConnection> shop() {
  auto c = connect("sqlite://");
  c->execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, "
             "age INTEGER CHECK (age >= 0));"
             "CREATE TABLE orders (id INTEGER PRIMARY KEY, "
             "user_id INTEGER NOT NULL REFERENCES users(id));"
             "INSERT INTO users (id, name) VALUES (1, 'ann')");
  return c;
}

} // namespace

TEST_CASE("constraint violations are IntegrityErrors with the extended code", "[sqlite][errors]") {
  auto c = shop();
  SECTION("foreign key") {
    const std::string sql = "INSERT INTO orders (user_id) VALUES (?)";
    auto e = error_of<IntegrityError>(*c, sql, {99});
    CHECK(e.native_code() == SQLITE_CONSTRAINT_FOREIGNKEY);
    CHECK(e.sql() == sql);
    CHECK(e.message() == "FOREIGN KEY constraint failed");
    CHECK(e.sqlstate().empty());
    CHECK_THAT(e.what(), Catch::Contains(sql) && Catch::Contains("FOREIGN KEY"));
    // Deleting a referenced parent is refused too.
    run(*c, "INSERT INTO orders (user_id) VALUES (?)", {1});
    CHECK(error_of<IntegrityError>(*c, "DELETE FROM users").native_code() ==
          SQLITE_CONSTRAINT_FOREIGNKEY);
  }
  SECTION("unique") {
    auto e = error_of<IntegrityError>(*c, "INSERT INTO users (name) VALUES (?)", {"ann"});
    CHECK(e.native_code() == SQLITE_CONSTRAINT_UNIQUE);
    CHECK_THAT(e.message(), Catch::Contains("users.name"));
  }
  SECTION("primary key") {
    auto e = error_of<IntegrityError>(*c, "INSERT INTO users (id, name) VALUES (?, ?)", {1, "x"});
    CHECK(e.native_code() == SQLITE_CONSTRAINT_PRIMARYKEY);
  }
  SECTION("not null") {
    auto e = error_of<IntegrityError>(*c, "INSERT INTO users (name) VALUES (?)", {Null{}});
    CHECK(e.native_code() == SQLITE_CONSTRAINT_NOTNULL);
  }
  SECTION("check") {
    auto e = error_of<IntegrityError>(*c, "INSERT INTO users (name, age) VALUES (?, ?)", {"b", -1});
    CHECK(e.native_code() == SQLITE_CONSTRAINT_CHECK);
  }
  SECTION("caught as the DatabaseError base class") {
    CHECK_THROWS_AS(run(*c, "INSERT INTO users (name) VALUES ('ann')"), DatabaseError);
    CHECK_THROWS_AS(run(*c, "INSERT INTO users (name) VALUES ('ann')"), Error);
  }
  // A failed statement leaves the connection and the statement usable.
  run(*c, "INSERT INTO users (name) VALUES (?)", {"bob"});
  auto& count = c->cached_statement("SELECT count(*) FROM users WHERE name = ?");
  std::vector<Value> bob{"bob"};
  count.bind(bob);
  REQUIRE(count.step());
  CHECK(count.get_int64(0) == 1);
  CHECK(c->is_valid());
}

TEST_CASE("a failed statement inside a transaction keeps the transaction", "[sqlite][errors]") {
  auto c = shop();
  c->begin();
  run(*c, "INSERT INTO users (name) VALUES (?)", {"bob"});
  CHECK_THROWS_AS(run(*c, "INSERT INTO users (name) VALUES (?)", {"bob"}), IntegrityError);
  CHECK(c->in_transaction());
  c->rollback();
  auto stmt = c->prepare("SELECT count(*) FROM users");
  REQUIRE(stmt->step());
  CHECK(stmt->get_int64(0) == 1);
}

TEST_CASE("bad SQL is a ProgrammingError naming the statement", "[sqlite][errors]") {
  auto c = shop();
  SECTION("syntax error at prepare") {
    const std::string sql = "SELEC name FROM users";
    try {
      c->prepare(sql);
      FAIL("no error");
    } catch (const ProgrammingError& e) {
      CHECK(e.sql() == sql);
      CHECK(e.native_code() == SQLITE_ERROR);
      CHECK_THAT(e.message(), Catch::Contains("syntax error"));
      CHECK_THAT(e.what(), Catch::Contains(sql) && Catch::Contains("syntax error"));
    }
  }
  SECTION("unknown table and column") {
    auto table = error_of<ProgrammingError>(*c, "SELECT * FROM nope");
    CHECK_THAT(table.message(), Catch::Contains("no such table: nope"));
    auto column = error_of<ProgrammingError>(*c, "SELECT nope FROM users");
    CHECK_THAT(column.message(), Catch::Contains("no such column: nope"));
  }
  SECTION("from execute, with the whole script as SQL") {
    const std::string script = "CREATE TABLE ok (x INTEGER); CREATE TABLE (";
    try {
      c->execute(script);
      FAIL("no error");
    } catch (const ProgrammingError& e) {
      CHECK(e.sql() == script);
    }
  }
}

TEST_CASE("values that do not fit are DataErrors", "[sqlite][errors]") {
  auto c = shop();
  SECTION("datatype mismatch on a rowid alias") {
    auto e = error_of<DataError>(*c, "INSERT INTO users (id, name) VALUES (?, ?)", {"abc", "x"});
    CHECK((e.native_code() & 0xff) == SQLITE_MISMATCH);
  }
  SECTION("integer overflow at step") {
    auto e = error_of<DataError>(*c, "SELECT sum(v) FROM (SELECT ? AS v UNION ALL SELECT ?)",
                                 {std::numeric_limits<std::int64_t>::max(), 1});
    CHECK_THAT(e.message(), Catch::Contains("integer overflow"));
  }
  SECTION("a value longer than SQLite's length limit") {
    auto e = error_of<DataError>(*c, "SELECT zeroblob(?)", {std::int64_t{3'000'000'000}});
    CHECK(e.native_code() == SQLITE_TOOBIG);
  }
}

TEST_CASE("a locked database is an OperationalError after busy_timeout", "[sqlite][errors]") {
  TempDir dir;
  std::string url = dir.url("locked.db");
  auto holder = connect(url);
  holder->execute("CREATE TABLE t (v INTEGER)");
  auto waiter = connect(url + "?busy_timeout=100");
  holder->execute("BEGIN IMMEDIATE");
  run(*holder, "INSERT INTO t VALUES (1)");

  auto start = std::chrono::steady_clock::now();
  auto e = error_of<OperationalError>(*waiter, "INSERT INTO t VALUES (2)");
  auto waited = std::chrono::steady_clock::now() - start;
  CHECK((e.native_code() & 0xff) == SQLITE_BUSY);
  CHECK_THAT(e.message(), Catch::Contains("locked"));
  CHECK(waited >= std::chrono::milliseconds(90));
  CHECK(waited < std::chrono::seconds(3));
  CHECK(waiter->is_valid()); // busy is transient: the pool keeps the connection

  // Once the holder commits the waiter succeeds with the same cached statement.
  holder->commit();
  run(*waiter, "INSERT INTO t VALUES (2)");
  auto stmt = waiter->prepare("SELECT count(*) FROM t");
  REQUIRE(stmt->step());
  CHECK(stmt->get_int64(0) == 2);
}

TEST_CASE("opening and file errors are OperationalErrors", "[sqlite][errors]") {
  TempDir dir;
  SECTION("directory does not exist") {
    try {
      connect(dir.url("missing/dir/x.db"));
      FAIL("no error");
    } catch (const OperationalError& e) {
      CHECK((e.native_code() & 0xff) == SQLITE_CANTOPEN);
      CHECK_THAT(e.what(), Catch::Contains("missing/dir/x.db"));
    }
  }
  SECTION("read-only mode on a missing file") {
    CHECK_THROWS_AS(connect(dir.url("none.db") + "?mode=ro"), OperationalError);
    CHECK_FALSE(std::filesystem::exists(dir.path() / "none.db"));
  }
  SECTION("a file that is not a database") {
    std::ofstream(dir.path() / "text.db") << "this is not an SQLite database, just some text "
                                             "that is long enough to fill a header page.......";
    try {
      connect(dir.url("text.db"));
      FAIL("no error");
    } catch (const OperationalError& e) {
      CHECK(e.native_code() == SQLITE_NOTADB);
      CHECK_THAT(e.what(), Catch::Contains("text.db"));
    }
  }
  SECTION("writing through a read-only connection") {
    connect(dir.url("ro.db"))->execute("CREATE TABLE t (v INTEGER)");
    auto c = connect(dir.url("ro.db") + "?mode=ro");
    auto e = error_of<OperationalError>(*c, "INSERT INTO t VALUES (1)");
    CHECK((e.native_code() & 0xff) == SQLITE_READONLY);
    CHECK(c->is_valid());
  }
}

TEST_CASE("numbered parameters count once per number", "[sqlite][errors]") {
  auto c = shop();
  auto stmt = c->prepare("SELECT ?1, ?1");
  std::vector<Value> one{1};
  stmt->bind(one);
  REQUIRE(stmt->step());
  CHECK(stmt->get_int64(1) == 1);
  std::vector<Value> two{1, 2};
  CHECK_THROWS_AS(stmt->bind(two), ArgumentError);
}
