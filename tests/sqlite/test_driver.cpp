// The SQLite driver against real in-memory and file databases: binding every Value kind,
// typed column access, rows affected, RETURNING, transactions, savepoints, the statement cache.
#include "sqlite_plugin.hpp"

#include <retort/core/error.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <vector>

using namespace retort;
using retort::test::connect;
using retort::test::TempDir;

namespace {

Blob bytes(std::string_view text) {
  Blob out;
  for (char c : text)
    out.push_back(static_cast<std::byte>(c));
  return out;
}

std::int64_t scalar(DriverConnection& c, const std::string& sql, std::vector<Value> params = {}) {
  auto& stmt = c.cached_statement(sql);
  stmt.bind(params);
  REQUIRE(stmt.step());
  std::int64_t value = stmt.get_int64(0);
  // An unfinished query would keep its read lock on a file database.
  stmt.reset();
  return value;
}

void run(DriverConnection& c, const std::string& sql, std::vector<Value> params) {
  auto& stmt = c.cached_statement(sql);
  stmt.bind(params);
  while (stmt.step()) {
  }
}

} // namespace

TEST_CASE("every Value kind binds and reads back typed and boxed", "[sqlite][driver]") {
  auto c = connect("sqlite://");
  c->execute("CREATE TABLE v (id INTEGER PRIMARY KEY, i INTEGER, r REAL, t TEXT, b BLOB, "
             "f BOOLEAN, n TEXT)");
  constexpr auto big = std::numeric_limits<std::int64_t>::max();
  constexpr auto small = std::numeric_limits<std::int64_t>::min();
  const std::string unicode = "h\xc3\xa9llo \xe2\x82\xac";
  const std::string with_nul("a\0b", 3);
  const Blob blob = bytes(std::string("\x00\x01\xff\x7f", 4));
  auto insert = c->prepare("INSERT INTO v (id, i, r, t, b, f, n) VALUES (?, ?, ?, ?, ?, ?, ?)");
  std::vector<std::vector<Value>> rows = {
      {1, 42, 1.5, "text", blob, true, Null{}},
      {2, big, -0.0, unicode, Blob{}, false, Value()},
      {3, small, 1e300, "", bytes("x"), true, "not null"},
      {4, -1, std::numeric_limits<double>::infinity(), with_nul, blob, false, Null{}},
  };
  for (const auto& row : rows) {
    insert->bind(row);
    CHECK_FALSE(insert->step());
    CHECK(insert->rows_affected() == 1);
  }

  auto select = c->prepare("SELECT id, i, r, t, b, f, n FROM v ORDER BY id");
  REQUIRE(select->column_count() == 7);
  CHECK(select->column_name(0) == "id");
  CHECK(select->column_name(6) == "n");
  for (const auto& row : rows) {
    REQUIRE(select->step());
    CHECK(select->get_int64(1) == row[1].as_int());
    CHECK(select->get_double(2) == row[2].as_double());
    CHECK(select->get_text(3) == row[3].as_text());
    auto b = select->get_blob(4);
    CHECK(Blob(b.begin(), b.end()) == row[4].as_blob());
    CHECK(select->get_bool(5) == row[5].as_bool());
    CHECK(select->is_null(6) == row[6].is_null());
    CHECK_FALSE(select->is_null(4));
    // Boxed access returns the same Values, booleans included (declared BOOLEAN).
    for (int i = 0; i < 7; ++i) {
      INFO("column " << i << " of row " << row[0].as_int());
      CHECK(select->get_value(i) == row[static_cast<std::size_t>(i)]);
    }
  }
  CHECK_FALSE(select->step());
  CHECK_FALSE(select->step()); // stays finished; does not run again
}

TEST_CASE("text and bytes are copied at bind, so temporaries may die before step",
          "[sqlite][driver]") {
  auto c = connect("sqlite://");
  c->execute("CREATE TABLE t (s TEXT, b BLOB)");
  auto stmt = c->prepare("INSERT INTO t VALUES (?, ?)");
  {
    std::vector<Value> params{std::string(1000, 'q'), Blob(5000, std::byte{0x5a})};
    stmt->bind(params);
    // Overwrite the memory the Values used before the statement runs.
    params[0] = std::string(1000, 'z');
    params[1] = Blob(5000, std::byte{0});
  }
  std::vector<std::string> noise(100, std::string(1000, '#'));
  CHECK_FALSE(stmt->step());
  auto check = c->prepare("SELECT s, b FROM t");
  REQUIRE(check->step());
  CHECK(check->get_text(0) == std::string(1000, 'q'));
  auto b = check->get_blob(1);
  CHECK(Blob(b.begin(), b.end()) == Blob(5000, std::byte{0x5a}));
}

TEST_CASE("bind_borrowed: no copy for a statement without rows, which must be bound again",
          "[sqlite][driver]") {
  auto c = connect("sqlite://");
  c->execute("CREATE TABLE t (s TEXT, b BLOB)");
  auto insert = c->prepare("INSERT INTO t VALUES (?, ?)");
  std::vector<Value> params{std::string(1000, 'q'), Blob(3, std::byte{0x5a})};
  insert->bind_borrowed(params);
  CHECK_FALSE(insert->step());
  CHECK(insert->rows_affected() == 1);
  // The borrowed values may be gone now: running again without a new bind() is refused, not
  // fed with freed memory.
  params.clear();
  insert->reset();
  CHECK_THROWS_AS(insert->step(), InvalidStateError);
  std::vector<Value> again{"r", Blob{}};
  insert->bind_borrowed(again);
  CHECK_FALSE(insert->step());
  // Failing statements too: the constraint error, then a refusal until bound again.
  c->execute("CREATE TABLE u (s TEXT UNIQUE)");
  auto unique = c->prepare("INSERT INTO u VALUES (?)");
  std::vector<Value> dup{"d"};
  unique->bind_borrowed(dup);
  CHECK_FALSE(unique->step());
  unique->bind_borrowed(dup);
  CHECK_THROWS_AS(unique->step(), IntegrityError);
  CHECK_THROWS_AS(unique->step(), InvalidStateError);
  // Integers alone are always copied by SQLite: no new bind() needed.
  auto ints = c->prepare("INSERT INTO u VALUES (?)");
  std::vector<Value> seven{7};
  ints->bind_borrowed(seven);
  CHECK_FALSE(ints->step());
  ints->reset();
  CHECK_THROWS_AS(ints->step(), IntegrityError);
  CHECK(scalar(*c, "SELECT count(*) FROM t WHERE s = ?", {std::string(1000, 'q')}) == 1);
  CHECK(scalar(*c, "SELECT count(*) FROM t WHERE s = 'r' AND b = x''") == 1);
}

TEST_CASE("bind_borrowed copies what a statement with rows reads on later steps",
          "[sqlite][driver]") {
  auto c = connect("sqlite://");
  c->execute("CREATE TABLE t (s TEXT)");
  run(*c, "INSERT INTO t VALUES ('a'), ('b'), ('a'), ('c'), ('a')", {});
  auto select = c->prepare("SELECT rowid FROM t WHERE s = ? ORDER BY rowid");
  {
    std::vector<Value> params{std::string("a")};
    select->bind_borrowed(params);
    REQUIRE(select->step());
    CHECK(select->get_int64(0) == 1);
    params[0] = std::string("zzzz");
  }
  std::vector<std::string> noise(100, std::string(16, '#'));
  REQUIRE(select->step());
  CHECK(select->get_int64(0) == 3);
  REQUIRE(select->step());
  CHECK(select->get_int64(0) == 5);
  CHECK_FALSE(select->step());
}

TEST_CASE("bind_borrowed: DML with RETURNING reads its parameters in the first step only",
          "[sqlite][driver]") {
  // SQLite makes all of an INSERT ... RETURNING's changes in the first step and keeps the
  // returned rows in memory, so its text needs no copy even though it yields rows.
  auto c = connect("sqlite://");
  c->execute("CREATE TABLE t (id INTEGER PRIMARY KEY, s TEXT)");
  auto returning = c->prepare("INSERT INTO t (s) VALUES (?), (?), (?) RETURNING id, s");
  {
    std::vector<std::string> source{std::string(40, 'a'), std::string(40, 'b'), ""};
    std::vector<Value> params;
    for (const auto& text : source)
      params.push_back(Value::borrowed(text));
    returning->bind_borrowed(params);
    REQUIRE(returning->step());
    // Freed and overwritten before the other rows are read (ASan would see a late read).
    for (auto& text : source)
      text.assign(100, '#');
  }
  std::vector<std::string> noise(100, std::string(40, '#'));
  CHECK(returning->get_text(1) == std::string(40, 'a'));
  REQUIRE(returning->step());
  CHECK(returning->get_text(1) == std::string(40, 'b'));
  REQUIRE(returning->step());
  CHECK(returning->get_text(1).empty());
  CHECK_FALSE(returning->is_null(1)); // an empty borrowed text is '', not NULL
  CHECK_FALSE(returning->step());
  // Like any statement bound without a copy, it must be bound again to run again.
  returning->reset();
  CHECK_THROWS_AS(returning->step(), InvalidStateError);
  CHECK(scalar(*c, "SELECT count(*) FROM t WHERE s = ''") == 1);
  // bind() copies, whatever the Values hold: the source may die before the step.
  auto insert = c->prepare("INSERT INTO t (s) VALUES (?)");
  {
    std::string gone(30, 'g');
    std::vector<Value> params{Value::borrowed(gone)};
    insert->bind(params);
    gone.assign(30, 'x');
  }
  CHECK_FALSE(insert->step());
  CHECK(scalar(*c, "SELECT count(*) FROM t WHERE s = ?", {std::string(30, 'g')}) == 1);
}

TEST_CASE("NULLs and conversions in typed access", "[sqlite][driver]") {
  auto c = connect("sqlite://");
  auto stmt = c->prepare("SELECT NULL, 42, '17', 2.75, x'', ''");
  REQUIRE(stmt->step());
  CHECK(stmt->is_null(0));
  CHECK(stmt->get_int64(0) == 0);
  CHECK(stmt->get_text(0).empty());
  CHECK(stmt->get_blob(0).empty());
  CHECK(stmt->get_value(0).is_null());
  CHECK(stmt->get_text(1) == "42");
  CHECK(stmt->get_int64(2) == 17);
  CHECK(stmt->get_double(3) == 2.75);
  CHECK(stmt->get_int64(3) == 2);
  // An empty blob and empty text are values, not NULL.
  CHECK_FALSE(stmt->is_null(4));
  CHECK(stmt->get_value(4) == Value(Blob{}));
  CHECK_FALSE(stmt->is_null(5));
  CHECK(stmt->get_value(5) == Value(""));
  CHECK(stmt->get_value(1) == Value(42));
  CHECK(stmt->get_value(3) == Value(2.75));
}

TEST_CASE("a one-megabyte blob round-trips", "[sqlite][driver]") {
  auto c = connect("sqlite://");
  c->execute("CREATE TABLE files (data BLOB)");
  Blob big(1 << 20);
  for (std::size_t i = 0; i < big.size(); ++i)
    big[i] = static_cast<std::byte>(i * 7 % 251);
  run(*c, "INSERT INTO files VALUES (?)", {big});
  auto stmt = c->prepare("SELECT data, length(data) FROM files");
  REQUIRE(stmt->step());
  auto b = stmt->get_blob(0);
  CHECK(b.size() == big.size());
  CHECK(Blob(b.begin(), b.end()) == big);
  CHECK(stmt->get_int64(1) == 1 << 20);
}

TEST_CASE("rows_affected counts only the statement's own changes", "[sqlite][driver]") {
  auto c = connect("sqlite://");
  c->execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER)");
  auto insert = c->prepare("INSERT INTO t (v) VALUES (1), (2), (3)");
  CHECK(insert->rows_affected() == 0);
  CHECK_FALSE(insert->step());
  CHECK(insert->rows_affected() == 3);

  auto update = c->prepare("UPDATE t SET v = v + 10 WHERE v >= ?");
  std::vector<Value> two{2};
  update->bind(two);
  CHECK_FALSE(update->step());
  CHECK(update->rows_affected() == 2);

  std::vector<Value> none{100};
  update->bind(none);
  CHECK_FALSE(update->step());
  CHECK(update->rows_affected() == 0);

  // Neither a query nor DDL reports the last DML's count as its own.
  auto select = c->prepare("SELECT v FROM t");
  while (select->step()) {
  }
  CHECK(select->rows_affected() == 0);
  auto ddl = c->prepare("CREATE TABLE other (x INTEGER)");
  CHECK_FALSE(ddl->step());
  CHECK(ddl->rows_affected() == 0);

  auto remove = c->prepare("DELETE FROM t");
  CHECK_FALSE(remove->step());
  CHECK(remove->rows_affected() == 3);
}

TEST_CASE("INSERT ... RETURNING gives generated keys", "[sqlite][driver]") {
  auto c = connect("sqlite://");
  c->execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL)");
  auto& stmt = c->cached_statement("INSERT INTO users (name) VALUES (?), (?) RETURNING id, name");
  std::vector<Value> names{"ann", "bob"};
  stmt.bind(names);
  REQUIRE(stmt.step());
  CHECK(stmt.get_int64(0) == 1);
  CHECK(stmt.get_text(1) == "ann");
  REQUIRE(stmt.step());
  CHECK(stmt.get_int64(0) == 2);
  CHECK(stmt.get_text(1) == "bob");
  CHECK_FALSE(stmt.step());
  CHECK(stmt.rows_affected() == 2);

  auto& again = c->cached_statement("INSERT INTO users (name) VALUES (?), (?) RETURNING id, name");
  std::vector<Value> more{"cy", "di"};
  again.bind(more);
  REQUIRE(again.step());
  CHECK(again.get_int64(0) == 3);
  CHECK(c->statements_prepared() == 1);
  CHECK(scalar(*c, "SELECT count(*) FROM users") == 4);
}

TEST_CASE("a statement is reset and rebound for each execution", "[sqlite][driver]") {
  auto c = connect("sqlite://");
  c->execute("CREATE TABLE t (v INTEGER)");
  auto stmt = c->prepare("INSERT INTO t VALUES (?)");
  for (int i = 0; i < 1000; ++i) {
    std::vector<Value> p{i};
    stmt->bind(p);
    CHECK_FALSE(stmt->step());
    // A second step after completion must not insert the row again.
    CHECK_FALSE(stmt->step());
  }
  CHECK(scalar(*c, "SELECT count(*) FROM t") == 1000);
  CHECK(scalar(*c, "SELECT sum(v) FROM t") == 999 * 1000 / 2);

  // Rebinding in the middle of a result starts over.
  auto query = c->prepare("SELECT v FROM t WHERE v < ? ORDER BY v");
  std::vector<Value> three{3};
  query->bind(three);
  REQUIRE(query->step());
  REQUIRE(query->step());
  CHECK(query->get_int64(0) == 1);
  query->bind(three);
  REQUIRE(query->step());
  CHECK(query->get_int64(0) == 0);
  query->reset();
  REQUIRE(query->step());
  CHECK(query->get_int64(0) == 0);
}

TEST_CASE("the statement cache prepares each SQL text once", "[sqlite][driver]") {
  auto c = connect("sqlite://");
  CHECK(c->statements_prepared() == 0);
  auto& first = c->cached_statement("SELECT ?");
  auto& second = c->cached_statement("SELECT ?");
  CHECK(&first == &second);
  CHECK(c->statements_prepared() == 1);
  c->cached_statement("SELECT ? + 1");
  CHECK(c->statements_prepared() == 2);
  // Returned reset, even when the last user left it mid-result.
  auto& s = c->cached_statement("SELECT value FROM json_each('[1,2,3]')");
  std::vector<Value> none;
  s.bind(none);
  REQUIRE(s.step());
  auto& again = c->cached_statement("SELECT value FROM json_each('[1,2,3]')");
  REQUIRE(again.step());
  CHECK(again.get_int64(0) == 1);
  c->clear_statement_cache();
  c->cached_statement("SELECT ?");
  CHECK(c->statements_prepared() == 4);
}

TEST_CASE("transactions commit and roll back", "[sqlite][driver]") {
  auto c = connect("sqlite://");
  c->execute("CREATE TABLE t (v INTEGER)");
  CHECK_FALSE(c->in_transaction());

  c->begin();
  CHECK(c->in_transaction());
  run(*c, "INSERT INTO t VALUES (?)", {1});
  c->rollback();
  CHECK_FALSE(c->in_transaction());
  CHECK(scalar(*c, "SELECT count(*) FROM t") == 0);

  c->begin();
  run(*c, "INSERT INTO t VALUES (?)", {2});
  c->commit();
  CHECK_FALSE(c->in_transaction());
  CHECK(scalar(*c, "SELECT sum(v) FROM t") == 2);

  // Without a transaction both are no-ops (a pool rolls back every returned connection).
  c->commit();
  c->rollback();
  // BEGIN inside a transaction is a mistake in the calling code.
  c->begin();
  CHECK_THROWS_AS(c->begin(), ProgrammingError);
  CHECK(c->in_transaction());
  c->rollback();
}

TEST_CASE("a deferred BEGIN goes out with the first statement of the transaction",
          "[sqlite][driver]") {
  TempDir dir;
  const std::string url = dir.url("deferred.db") + "?journal_mode=wal";
  auto a = connect(url);
  auto b = connect(url, {{"busy_timeout", "0"}});
  a->execute("CREATE TABLE t (v INTEGER)");

  // Nothing is locked or read before the first statement, as with SQLite's own deferred BEGIN.
  a->begin();
  CHECK(a->in_transaction());
  run(*b, "INSERT INTO t VALUES (?)", {1});
  CHECK(scalar(*a, "SELECT count(*) FROM t") == 1);
  // From the first statement on it is one transaction: one snapshot.
  run(*b, "INSERT INTO t VALUES (?)", {2});
  CHECK(scalar(*a, "SELECT count(*) FROM t") == 1);
  a->commit();
  CHECK_FALSE(a->in_transaction());
  CHECK(scalar(*a, "SELECT count(*) FROM t") == 2);

  // Writes through execute() and prepared statements are inside the transaction too.
  a->begin();
  a->execute("INSERT INTO t VALUES (3)");
  run(*a, "INSERT INTO t VALUES (?)", {4});
  a->rollback();
  CHECK(scalar(*a, "SELECT count(*) FROM t") == 2);

  // Empty transactions end without a statement, either way, and leave nothing open.
  a->begin();
  a->commit();
  CHECK_FALSE(a->in_transaction());
  a->begin();
  a->rollback();
  CHECK_FALSE(a->in_transaction());
  run(*b, "INSERT INTO t VALUES (?)", {5}); // a holds no lock
  // A second BEGIN fails as SQLite's own would, pending or not.
  a->begin();
  CHECK_THROWS_AS(a->begin(), ProgrammingError);
  CHECK(a->in_transaction());
  a->rollback();
  CHECK_FALSE(a->in_transaction());
  CHECK(scalar(*a, "SELECT count(*) FROM t") == 3);
}

TEST_CASE("rolling back a transaction that only read releases its lock", "[sqlite][driver]") {
  TempDir dir;
  auto a = connect(dir.url("reader.db"));
  auto b = connect(dir.url("reader.db"), {{"busy_timeout", "0"}});
  a->execute("CREATE TABLE t (v INTEGER)");
  run(*a, "INSERT INTO t VALUES (?)", {1});

  // A read holds the shared lock (rollback journal): a writer cannot commit meanwhile.
  a->begin();
  CHECK(scalar(*a, "SELECT count(*) FROM t") == 1);
  CHECK_THROWS_AS(b->execute("INSERT INTO t VALUES (2)"), OperationalError);
  a->rollback();
  CHECK_FALSE(a->in_transaction());
  b->execute("INSERT INTO t VALUES (2)");

  // With a write in it, rollback still undoes it.
  a->begin();
  CHECK(scalar(*a, "SELECT count(*) FROM t") == 2);
  run(*a, "INSERT INTO t VALUES (?)", {3});
  a->rollback();
  CHECK(scalar(*b, "SELECT count(*) FROM t") == 2);
}

TEST_CASE("a private memory database: reads before the first write, one transaction still",
          "[sqlite][driver]") {
  auto c = connect("sqlite://");
  c->execute("CREATE TABLE t (v INTEGER)");
  run(*c, "INSERT INTO t VALUES (?)", {1});

  // Reads, then a write, then rollback: the write is undone, nothing else changed.
  c->begin();
  CHECK(scalar(*c, "SELECT count(*) FROM t") == 1);
  run(*c, "INSERT INTO t VALUES (?)", {2});
  CHECK(scalar(*c, "SELECT count(*) FROM t") == 2); // its own write is visible
  c->rollback();
  CHECK_FALSE(c->in_transaction());
  CHECK(scalar(*c, "SELECT count(*) FROM t") == 1);

  // A transaction that only read ends cleanly either way.
  c->begin();
  CHECK(scalar(*c, "WITH x AS (SELECT v FROM t) SELECT count(*) FROM x") == 1);
  c->commit();
  CHECK_FALSE(c->in_transaction());
  c->begin();
  CHECK(scalar(*c, "SELECT count(*) FROM t") == 1);
  c->rollback();
  CHECK_FALSE(c->in_transaction());

  // A write through a WITH clause is a write: it is inside the transaction.
  c->begin();
  run(*c, "WITH x(v) AS (VALUES (?)) INSERT INTO t SELECT v FROM x", {3});
  c->rollback();
  CHECK(scalar(*c, "SELECT count(*) FROM t") == 1);
}

TEST_CASE("with a shared database attached, reads are inside the transaction again",
          "[sqlite][driver]") {
  TempDir dir;
  const std::string file = (dir.path() / "attached.db").string();
  auto writer = connect(dir.url("attached.db") + "?journal_mode=wal", {{"busy_timeout", "0"}});
  writer->execute("CREATE TABLE t (v INTEGER)");
  auto c = connect("sqlite://");
  c->execute("ATTACH DATABASE '" + file + "' AS shared");
  c->begin();
  CHECK(scalar(*c, "SELECT count(*) FROM shared.t") == 0);
  // The first read took the snapshot: another connection's commit is not seen until the end.
  run(*writer, "INSERT INTO t VALUES (?)", {1});
  CHECK(scalar(*c, "SELECT count(*) FROM shared.t") == 0);
  c->commit();
  CHECK(scalar(*c, "SELECT count(*) FROM shared.t") == 1);
}

TEST_CASE("savepoints through execute", "[sqlite][driver]") {
  auto c = connect("sqlite://");
  c->execute("CREATE TABLE t (v INTEGER)");
  c->begin();
  run(*c, "INSERT INTO t VALUES (?)", {1});
  c->execute("SAVEPOINT a");
  run(*c, "INSERT INTO t VALUES (?)", {2});
  c->execute("SAVEPOINT b");
  run(*c, "INSERT INTO t VALUES (?)", {3});
  c->execute("ROLLBACK TO SAVEPOINT b");
  c->execute("RELEASE SAVEPOINT b");
  CHECK(scalar(*c, "SELECT sum(v) FROM t") == 3);
  c->execute("ROLLBACK TO SAVEPOINT a");
  c->execute("RELEASE SAVEPOINT a");
  CHECK(c->in_transaction());
  c->commit();
  CHECK(scalar(*c, "SELECT sum(v) FROM t") == 1);
  CHECK_THROWS_AS(c->execute("RELEASE SAVEPOINT nope"), ProgrammingError);

  // The dialect's savepoint SQL runs as is.
  const SqlDialect& d = test::sqlite_plugin().sql_dialect();
  c->begin();
  c->execute(d.savepoint_sql("sp_1"));
  run(*c, "INSERT INTO t VALUES (?)", {5});
  c->execute(d.rollback_to_savepoint_sql("sp_1"));
  c->execute(d.release_savepoint_sql("sp_1"));
  c->commit();
  CHECK(scalar(*c, "SELECT sum(v) FROM t") == 1);
}

TEST_CASE("execute runs several statements and refuses parameters", "[sqlite][driver]") {
  auto c = connect("sqlite://");
  c->execute("CREATE TABLE a (x INTEGER); -- comment\nCREATE TABLE b (y INTEGER);\n"
             "INSERT INTO a VALUES (1); INSERT INTO b VALUES (2);  ");
  CHECK(scalar(*c, "SELECT (SELECT x FROM a) + (SELECT y FROM b)") == 3);
  CHECK_THROWS_AS(c->execute("INSERT INTO a VALUES (?)"), ArgumentError);
  CHECK(scalar(*c, "SELECT count(*) FROM a") == 1);
  c->execute("");
  c->execute("  -- nothing\n");
}

TEST_CASE("prepare takes exactly one statement and the right parameter count", "[sqlite][driver]") {
  auto c = connect("sqlite://");
  c->execute("CREATE TABLE t (v INTEGER)");
  CHECK_THROWS_AS(c->prepare("DELETE FROM t; DROP TABLE t"), ProgrammingError);
  CHECK_THROWS_AS(c->prepare(""), ProgrammingError);
  CHECK_THROWS_AS(c->prepare("   -- just a comment"), ProgrammingError);
  CHECK_NOTHROW(c->prepare("SELECT 1; "));
  CHECK_NOTHROW(c->prepare("SELECT 1; -- trailing comment"));
  auto stmt = c->prepare("INSERT INTO t VALUES (?)");
  std::vector<Value> two{1, 2};
  CHECK_THROWS_AS(stmt->bind(two), ArgumentError);
  std::vector<Value> none;
  CHECK_THROWS_AS(stmt->bind(none), ArgumentError);
  CHECK(scalar(*c, "SELECT count(*) FROM t") == 0);
}

TEST_CASE("a prepared statement may outlive its connection", "[sqlite][driver]") {
  std::unique_ptr<DriverStatement> stmt;
  {
    auto c = connect("sqlite://");
    c->cached_statement("SELECT 1");
    stmt = c->prepare("SELECT 40 + 2");
  }
  REQUIRE(stmt->step());
  CHECK(stmt->get_int64(0) == 42);
}

TEST_CASE("ping and validity", "[sqlite][driver]") {
  auto c = connect("sqlite://");
  CHECK(c->is_valid());
  CHECK(c->ping());
  CHECK(c->ping());
  c->begin();
  CHECK(c->ping());
  CHECK(c->in_transaction());
  c->rollback();
  CHECK(c->non_blocking() == nullptr);
}

TEST_CASE("memory databases are private to their connection", "[sqlite][driver]") {
  auto a = connect("sqlite://");
  auto b = connect("sqlite:///:memory:");
  a->execute("CREATE TABLE only_in_a (x INTEGER)");
  CHECK_NOTHROW(a->prepare("SELECT x FROM only_in_a"));
  CHECK_THROWS_AS(b->prepare("SELECT x FROM only_in_a"), ProgrammingError);
}

TEST_CASE("file databases persist and are shared between connections", "[sqlite][driver]") {
  TempDir dir;
  std::string url = dir.url("app.db");
  {
    auto c = connect(url);
    c->execute("CREATE TABLE t (v TEXT)");
    run(*c, "INSERT INTO t VALUES (?)", {"kept"});
  }
  REQUIRE(std::filesystem::exists(dir.path() / "app.db"));
  auto reader = connect(url);
  auto& stmt = reader->cached_statement("SELECT v FROM t");
  REQUIRE(stmt.step());
  CHECK(stmt.get_text(0) == "kept");
  stmt.reset();

  // A second open connection sees committed changes of the first.
  auto writer = connect(url);
  writer->begin();
  run(*writer, "INSERT INTO t VALUES (?)", {"second"});
  CHECK(scalar(*reader, "SELECT count(*) FROM t") == 1);
  writer->commit();
  CHECK(scalar(*reader, "SELECT count(*) FROM t") == 2);
}

// The async layer commits on the io_context's thread what the driver says cannot wait: that must
// never be a transaction that wrote (its COMMIT may wait for readers, a checkpoint, the disk).
TEST_CASE("commit_cannot_wait: only for a transaction that wrote nothing", "[sqlite][driver]") {
  TempDir dir;
  auto c = connect(dir.url("wait.db"));
  c->execute("CREATE TABLE t (v INTEGER)");
  CHECK(c->commit_cannot_wait()); // no transaction
  c->begin();
  CHECK(c->commit_cannot_wait()); // BEGIN still pending
  CHECK(scalar(*c, "SELECT count(*) FROM t") == 0);
  CHECK(c->commit_cannot_wait()); // read only
  run(*c, "INSERT INTO t VALUES (?)", {1});
  CHECK_FALSE(c->commit_cannot_wait());
  c->commit();
  CHECK(c->commit_cannot_wait());

  // BEGIN IMMEDIATE takes the write lock at once: its COMMIT is a write transaction's.
  auto immediate = connect(dir.url("wait.db") + "?transaction_mode=immediate");
  immediate->begin();
  CHECK_FALSE(immediate->commit_cannot_wait());
  immediate->commit();
}
