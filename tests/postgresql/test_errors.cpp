// SQLSTATE to Retort's error classes; every error carries its SQLSTATE, message and SQL.
#include "pg_support.hpp"

#include <retort/core/error.hpp>

using namespace retort;

namespace {

// Runs `sql` and checks that it raises `Expected` with `sqlstate`, its SQL and a message.
template <typename Expected>
void expect_error(DriverConnection& conn, const std::string& sql, const std::vector<Value>& params,
                  const std::string& sqlstate, const std::string& message_part) {
  INFO(sql);
  try {
    test::query(conn, sql, params);
    FAIL("no error raised");
  } catch (const Expected& e) {
    CHECK(e.sqlstate() == sqlstate);
    CHECK(e.sql() == sql);
    CHECK(e.message().find(message_part) != std::string::npos);
    CHECK(std::string(e.what()).find("[SQLSTATE " + sqlstate + "]") != std::string::npos);
    CHECK(std::string(e.what()).find(sql) != std::string::npos);
  }
  CHECK(conn.is_valid());
}

} // namespace

TEST_CASE("postgresql errors: SQLSTATE classes", "[postgresql][errors]") {
  REQUIRE_PG_SERVER();
  auto conn = test::pg_connect();
  conn->execute("DROP TABLE IF EXISTS pgt_child; DROP TABLE IF EXISTS pgt_parent");
  conn->execute("CREATE TABLE pgt_parent (id INTEGER PRIMARY KEY, name TEXT UNIQUE)");
  conn->execute("CREATE TABLE pgt_child (id INTEGER PRIMARY KEY, "
                "parent_id INTEGER NOT NULL REFERENCES pgt_parent (id))");
  test::query(*conn, "INSERT INTO pgt_parent (id, name) VALUES ($1, $2)", {Value(1), Value("a")});

  expect_error<IntegrityError>(*conn, "INSERT INTO pgt_parent (id, name) VALUES ($1, $2)",
                               {Value(1), Value("b")}, "23505", "duplicate key value");
  expect_error<IntegrityError>(*conn, "INSERT INTO pgt_child (id, parent_id) VALUES ($1, $2)",
                               {Value(1), Value(99)}, "23503", "foreign key constraint");
  expect_error<IntegrityError>(*conn, "INSERT INTO pgt_child (id, parent_id) VALUES ($1, $2)",
                               {Value(2), Value{}}, "23502", "null value");
  // Errors found while preparing carry the SQL too.
  expect_error<ProgrammingError>(*conn, "SELECT * FROM pgt_no_such_table", {}, "42P01",
                                 "does not exist");
  expect_error<ProgrammingError>(*conn, "SELEKT 1", {}, "42601", "syntax error");
  expect_error<ProgrammingError>(*conn, "SELECT no_such_column FROM pgt_parent", {}, "42703",
                                 "does not exist");
  expect_error<DataError>(*conn, "SELECT 1 / $1::int", {Value(0)}, "22012", "division by zero");
  expect_error<DataError>(*conn, "SELECT $1::int", {Value("abc")}, "22P02", "invalid input");
  expect_error<DataError>(*conn, "SELECT $1::smallint", {Value(100000)}, "22003", "out of range");
  expect_error<InternalError>(*conn,
                              "DO $$ BEGIN RAISE EXCEPTION 'boom' USING ERRCODE = 'XX000'; END $$",
                              {}, "XX000", "boom");
  expect_error<NotSupportedError>(
      *conn, "DO $$ BEGIN RAISE EXCEPTION 'nope' USING ERRCODE = '0A000'; END $$", {}, "0A000",
      "nope");
  expect_error<OperationalError>(
      *conn, "DO $$ BEGIN RAISE EXCEPTION 'dl' USING ERRCODE = '40P01'; END $$", {}, "40P01", "dl");
  expect_error<OperationalError>(
      *conn, "DO $$ BEGIN RAISE EXCEPTION 'ser' USING ERRCODE = '40001'; END $$", {}, "40001",
      "ser");
  // Classes without a DB-API counterpart stay plain DatabaseErrors.
  try {
    test::query(*conn, "DO $$ BEGIN RAISE EXCEPTION 'custom' USING ERRCODE = 'P0001'; END $$");
    FAIL("no error raised");
  } catch (const DatabaseError& e) {
    CHECK(e.sqlstate() == "P0001");
    CHECK(dynamic_cast<const IntegrityError*>(&e) == nullptr);
    CHECK(dynamic_cast<const OperationalError*>(&e) == nullptr);
  }
  CHECK(conn->ping());

  // execute() translates the same way.
  CHECK_THROWS_AS(conn->execute("DROP TABLE pgt_no_such_table"), ProgrammingError);
  conn->execute("DROP TABLE pgt_child; DROP TABLE pgt_parent");
}

TEST_CASE("postgresql errors: a cancelled statement is operational and keeps the connection",
          "[postgresql][errors]") {
  REQUIRE_PG_SERVER();
  auto conn = test::pg_connect();
  conn->execute("SET statement_timeout = '50ms'");
  try {
    test::query(*conn, "SELECT pg_sleep(5)");
    FAIL("no error raised");
  } catch (const OperationalError& e) {
    CHECK(e.sqlstate() == "57014");
  }
  conn->execute("SET statement_timeout = 0");
  CHECK(conn->is_valid());
  CHECK(conn->ping());
}
