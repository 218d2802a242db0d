// The blocking driver against the test server: DDL, values of every kind, RETURNING,
// transactions, savepoints, the statement cache and large multi-row inserts.
#include "pg_support.hpp"

#include <retort/core/error.hpp>
#include <retort/sql/dialect.hpp>

#include <cmath>
#include <limits>

using namespace retort;

namespace {

Blob bytes(std::initializer_list<int> values) {
  Blob out;
  for (int v : values)
    out.push_back(static_cast<std::byte>(v));
  return out;
}

std::int64_t count_rows(DriverConnection& conn, const std::string& table) {
  return test::scalar(conn, "SELECT count(*) FROM " + table).as_int();
}

} // namespace

TEST_CASE("postgresql driver: every value kind round-trips", "[postgresql][driver]") {
  REQUIRE_PG_SERVER();
  auto conn = test::pg_connect();
  const SqlDialect& d = test::pg_plugin().sql_dialect();
  conn->execute("DROP TABLE IF EXISTS pgt_values");
  conn->execute("CREATE TABLE pgt_values (id " + d.autoincrement_type(Integer) +
                " PRIMARY KEY, i " + d.type_name(BigInteger) + ", s " + d.type_name(SmallInteger) +
                ", f " + d.type_name(Float) + ", t " + d.type_name(Text) + ", v " +
                d.type_name(String(20)) + ", b " + d.type_name(Boolean) + ", bin " +
                d.type_name(LargeBinary) + ", n " + d.type_name(Numeric(12, 4)) + ", day " +
                d.type_name(Date) + ", ts " + d.type_name(DateTime) + ", tstz " +
                d.type_name(DateTimeTz) + ", tod " + d.type_name(Time) + ")");
  conn->execute("SET TIME ZONE 'UTC'");

  const Blob blob = bytes({0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff, 0x5c, 0x78});
  const std::string insert =
      "INSERT INTO pgt_values (i, s, f, t, v, b, bin, n, day, ts, tstz, tod) "
      "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id";
  std::vector<Value> row = {Value(std::numeric_limits<std::int64_t>::min()),
                            Value(-32768),
                            Value(0.1 + 0.2),
                            Value("héllo \"wörld\" \\ ' ✓"),
                            Value("twenty chars exactly"),
                            Value(true),
                            Value(blob),
                            Value("12345678.1234"),
                            Value("2024-02-29"),
                            Value("2024-02-29 13:45:10.123456"),
                            Value("2024-02-29 13:45:10+02"),
                            Value("23:59:58.5")};
  std::int64_t id = test::scalar(*conn, insert, row).as_int();
  CHECK(id == 1);
  std::vector<Value> nulls(12, Value{});
  std::int64_t null_id = test::scalar(*conn, insert, nulls).as_int();
  CHECK(null_id == 2);

  DriverStatement& st = conn->cached_statement(
      "SELECT i, s, f, t, v, b, bin, n, day, ts, tstz, tod FROM pgt_values WHERE id = $1");
  std::vector<Value> key = {Value(id)};
  st.bind(key);
  REQUIRE(st.step());
  CHECK(st.column_count() == 12);
  CHECK(st.column_name(0) == "i");
  CHECK(st.column_name(11) == "tod");
  CHECK(st.get_int64(0) == std::numeric_limits<std::int64_t>::min());
  CHECK(st.get_int64(1) == -32768);
  CHECK(st.get_double(2) == 0.1 + 0.2); // shortest round-trip text loses nothing
  CHECK(st.get_text(3) == "héllo \"wörld\" \\ ' ✓");
  CHECK(st.get_text(4) == "twenty chars exactly");
  CHECK(st.get_bool(5));
  CHECK(st.get_int64(5) == 1);
  auto got = st.get_blob(6);
  CHECK(Blob(got.begin(), got.end()) == blob);
  CHECK(st.get_text(7) == "12345678.1234");
  CHECK(st.get_double(7) == Approx(12345678.1234));
  CHECK(st.get_text(8) == "2024-02-29");
  CHECK(st.get_text(9) == "2024-02-29 13:45:10.123456");
  CHECK(st.get_text(10) == "2024-02-29 11:45:10+00");
  CHECK(st.get_text(11) == "23:59:58.5");
  for (int i = 0; i < 12; ++i)
    CHECK_FALSE(st.is_null(i));

  // The slow path boxes by the column's type.
  CHECK(st.get_value(0) == Value(std::numeric_limits<std::int64_t>::min()));
  CHECK(st.get_value(1).kind() == ValueKind::integer);
  CHECK(st.get_value(2).kind() == ValueKind::real);
  CHECK(st.get_value(3) == Value("héllo \"wörld\" \\ ' ✓"));
  CHECK(st.get_value(5) == Value(true));
  CHECK(st.get_value(6) == Value(blob));
  CHECK(st.get_value(7) == Value("12345678.1234"));
  CHECK(st.get_value(8) == Value("2024-02-29"));
  CHECK_FALSE(st.step());

  st.reset();
  key = {Value(null_id)};
  st.bind(key);
  REQUIRE(st.step());
  for (int i = 0; i < 12; ++i) {
    CHECK(st.is_null(i));
    CHECK(st.get_value(i).is_null());
  }
  CHECK(st.get_int64(0) == 0);
  CHECK(st.get_text(3).empty());
  CHECK_FALSE(st.step());

  // A false boolean and an empty blob are values, not NULL.
  std::vector<Value> edge = {Value(std::numeric_limits<std::int64_t>::max()),
                             Value(0),
                             Value(-1.5e300),
                             Value(""),
                             Value(""),
                             Value(false),
                             Value(Blob{}),
                             Value(0),
                             Value{},
                             Value{},
                             Value{},
                             Value{}};
  std::int64_t edge_id = test::scalar(*conn, insert, edge).as_int();
  auto rows =
      test::query(*conn, "SELECT i, f, t, b, bin FROM pgt_values WHERE id = $1", {Value(edge_id)});
  REQUIRE(rows.size() == 1);
  CHECK(rows[0][0] == Value(std::numeric_limits<std::int64_t>::max()));
  CHECK(rows[0][1] == Value(-1.5e300));
  CHECK(rows[0][2] == Value(""));
  CHECK(rows[0][3] == Value(false));
  CHECK(rows[0][4] == Value(Blob{}));

  // Parameters are typed by the server: a bytea parameter in a SELECT list stays bytes.
  CHECK(test::scalar(*conn, "SELECT $1::bytea", {Value(blob)}) == Value(blob));
  CHECK(test::scalar(*conn, "SELECT $1::boolean", {Value(false)}) == Value(false));
  CHECK(test::scalar(*conn, "SELECT $1::float8 * 2", {Value(1.25)}) == Value(2.5));
  CHECK(std::isinf(test::scalar(*conn, "SELECT $1::float8", {Value(INFINITY)}).as_double()));
  conn->execute("DROP TABLE pgt_values");
}

TEST_CASE("postgresql driver: integer text at every length and both limits",
          "[postgresql][driver]") {
  // Integer cells are parsed by hand up to 18 digits and by from_chars beyond: both sides of
  // that boundary, the int64 limits, NULL, and text that only looks like a number.
  REQUIRE_PG_SERVER();
  auto conn = test::pg_connect();
  DriverStatement& st = conn->cached_statement(
      "SELECT 0::int8, -7::int8, 999999999999999999::int8, -999999999999999999::int8, "
      "1000000000000000000::int8, 9223372036854775807::int8, (-9223372036854775807 - 1)::int8, "
      "NULL::int8, '99999999999999999999'::numeric, '1.5'::numeric, '-'::text, ''::text, "
      "'12a'::text");
  REQUIRE(st.step());
  CHECK(st.get_int64(0) == 0);
  CHECK(st.get_int64(1) == -7);
  CHECK(st.get_int64(2) == 999999999999999999);
  CHECK(st.get_int64(3) == -999999999999999999);
  CHECK(st.get_int64(4) == 1000000000000000000);
  CHECK(st.get_int64(5) == std::numeric_limits<std::int64_t>::max());
  CHECK(st.get_int64(6) == std::numeric_limits<std::int64_t>::min());
  CHECK(st.get_int64(7) == 0);
  CHECK(st.is_null(7));
  CHECK_FALSE(st.is_null(11)); // empty text is not NULL
  for (int i : {8, 9, 10, 11, 12})
    CHECK_THROWS_AS(st.get_int64(i), DataError); // overflow, fraction, sign only, empty, junk
}

TEST_CASE("postgresql driver: typed access rejects what it cannot read", "[postgresql][driver]") {
  REQUIRE_PG_SERVER();
  auto conn = test::pg_connect();
  DriverStatement& st = conn->cached_statement("SELECT 'abc'::text, 42");
  REQUIRE(st.step());
  CHECK_THROWS_AS(st.get_int64(0), DataError);
  CHECK_THROWS_AS(st.get_double(0), DataError);
  CHECK_THROWS_AS(st.get_int64(2), ArgumentError);
  CHECK(st.get_int64(1) == 42);
  CHECK_FALSE(st.step());
  CHECK_THROWS_AS(st.get_int64(1), InvalidStateError);

  // Binding the wrong number of parameters is caught before the server sees it.
  DriverStatement& two = conn->cached_statement("SELECT $1::int + $2::int");
  std::vector<Value> one = {Value(1)};
  CHECK_THROWS_AS(two.bind(one), ArgumentError);
  CHECK_THROWS_AS(two.step(), ArgumentError);
  std::vector<Value> pair = {Value(1), Value(2)};
  two.bind(pair);
  REQUIRE(two.step());
  CHECK(two.get_int64(0) == 3);
  CHECK(conn->is_valid());
}

TEST_CASE("postgresql driver: RETURNING and rows affected", "[postgresql][driver]") {
  REQUIRE_PG_SERVER();
  auto conn = test::pg_connect();
  conn->execute("DROP TABLE IF EXISTS pgt_returning");
  conn->execute("CREATE TABLE pgt_returning (id BIGINT GENERATED BY DEFAULT AS IDENTITY "
                "PRIMARY KEY, name VARCHAR(20) NOT NULL)");
  auto ids = test::query(*conn,
                         "INSERT INTO pgt_returning (name) VALUES ($1), ($2), ($3) "
                         "RETURNING id, name",
                         {Value("a"), Value("b"), Value("c")});
  REQUIRE(ids.size() == 3);
  CHECK(ids[0] == std::vector<Value>{Value(1), Value("a")});
  CHECK(ids[2] == std::vector<Value>{Value(3), Value("c")});

  DriverStatement& update =
      conn->cached_statement("UPDATE pgt_returning SET name = $1 WHERE id >= $2");
  std::vector<Value> params = {Value("z"), Value(2)};
  update.bind(params);
  CHECK_FALSE(update.step());
  CHECK(update.rows_affected() == 2);
  CHECK(update.column_count() == 0);

  DriverStatement& del =
      conn->cached_statement("DELETE FROM pgt_returning WHERE name = $1 RETURNING id");
  std::vector<Value> z = {Value("z")};
  del.bind(z);
  std::vector<std::int64_t> deleted;
  while (del.step())
    deleted.push_back(del.get_int64(0));
  CHECK(deleted.size() == 2);
  CHECK(del.rows_affected() == 2);
  CHECK(count_rows(*conn, "pgt_returning") == 1);
  conn->execute("DROP TABLE pgt_returning");
}

TEST_CASE("postgresql driver: a 1000-row multi-VALUES insert with RETURNING",
          "[postgresql][driver][batch]") {
  REQUIRE_PG_SERVER();
  auto conn = test::pg_connect();
  const SqlDialect& d = test::pg_plugin().sql_dialect();
  conn->execute("DROP TABLE IF EXISTS pgt_bulk");
  conn->execute("CREATE TABLE pgt_bulk (id " + d.autoincrement_type(Integer) +
                " PRIMARY KEY, name TEXT NOT NULL, score DOUBLE PRECISION)");
  constexpr int rows = 1000;
  std::string sql = "INSERT INTO pgt_bulk (name, score) VALUES ";
  std::vector<Value> params;
  for (int r = 0; r < rows; ++r) {
    sql += r ? ", (" : "(";
    d.render_placeholder(sql, params.size() + 1);
    sql += ", ";
    d.render_placeholder(sql, params.size() + 2);
    sql += ")";
    params.emplace_back("row " + std::to_string(r));
    params.emplace_back(r * 0.5);
  }
  sql += " RETURNING id, name";
  REQUIRE(params.size() * 1 <= d.max_bound_parameters());

  DriverStatement& insert = conn->cached_statement(sql);
  insert.bind(params);
  std::vector<std::int64_t> ids;
  while (insert.step()) {
    CHECK(insert.get_text(1) == "row " + std::to_string(ids.size()));
    ids.push_back(insert.get_int64(0));
  }
  REQUIRE(ids.size() == rows);
  CHECK(insert.rows_affected() == rows);
  for (std::size_t k = 1; k < ids.size(); ++k)
    CHECK(ids[k] == ids[k - 1] + 1);
  CHECK(count_rows(*conn, "pgt_bulk") == rows);
  CHECK(test::scalar(*conn, "SELECT sum(score) FROM pgt_bulk").as_double() ==
        0.5 * rows * (rows - 1) / 2);

  // The same shape again reuses the prepared statement.
  auto before = conn->statements_prepared();
  DriverStatement& again = conn->cached_statement(sql);
  again.bind(params);
  int returned = 0;
  while (again.step())
    ++returned;
  CHECK(returned == rows);
  CHECK(conn->statements_prepared() == before);
  conn->execute("DROP TABLE pgt_bulk");
}

TEST_CASE("postgresql driver: transactions", "[postgresql][driver][transaction]") {
  REQUIRE_PG_SERVER();
  auto conn = test::pg_connect();
  conn->execute("DROP TABLE IF EXISTS pgt_tx");
  conn->execute("CREATE TABLE pgt_tx (id INTEGER PRIMARY KEY)");
  const std::string insert = "INSERT INTO pgt_tx (id) VALUES ($1)";
  CHECK_FALSE(conn->in_transaction());

  conn->begin();
  CHECK(conn->in_transaction());
  test::query(*conn, insert, {Value(1)});
  conn->rollback();
  CHECK_FALSE(conn->in_transaction());
  CHECK(count_rows(*conn, "pgt_tx") == 0);

  conn->begin();
  test::query(*conn, insert, {Value(2)});
  // Another connection does not see uncommitted rows.
  auto other = test::pg_connect();
  CHECK(count_rows(*other, "pgt_tx") == 0);
  conn->commit();
  CHECK_FALSE(conn->in_transaction());
  CHECK(count_rows(*other, "pgt_tx") == 1);

  // After an error the transaction is aborted: still "in" it, and COMMIT does not pretend.
  conn->begin();
  test::query(*conn, insert, {Value(3)});
  CHECK_THROWS_AS(test::query(*conn, insert, {Value(2)}), IntegrityError);
  CHECK(conn->in_transaction());
  CHECK(conn->ping()); // alive, even though every statement now fails
  CHECK_THROWS_AS(test::query(*conn, "SELECT 1", {}), DatabaseError);
  try {
    conn->commit();
    FAIL("commit of a failed transaction succeeded");
  } catch (const DatabaseError& e) {
    CHECK(e.sqlstate() == "25P02");
  }
  CHECK_FALSE(conn->in_transaction());
  CHECK(count_rows(*conn, "pgt_tx") == 1);
  conn->execute("DROP TABLE pgt_tx");
}

TEST_CASE("postgresql driver: savepoints", "[postgresql][driver][transaction]") {
  REQUIRE_PG_SERVER();
  auto conn = test::pg_connect();
  const SqlDialect& d = test::pg_plugin().sql_dialect();
  conn->execute("DROP TABLE IF EXISTS pgt_sp");
  conn->execute("CREATE TABLE pgt_sp (id INTEGER PRIMARY KEY)");
  const std::string insert = "INSERT INTO pgt_sp (id) VALUES ($1)";

  conn->begin();
  test::query(*conn, insert, {Value(1)});
  conn->execute(d.savepoint_sql("sp_1"));
  test::query(*conn, insert, {Value(2)});
  conn->execute(d.rollback_to_savepoint_sql("sp_1"));
  conn->execute(d.release_savepoint_sql("sp_1"));

  // An error inside a savepoint is undone by rolling back to it; the transaction goes on.
  conn->execute(d.savepoint_sql("sp_2"));
  CHECK_THROWS_AS(test::query(*conn, insert, {Value(1)}), IntegrityError);
  conn->execute(d.rollback_to_savepoint_sql("sp_2"));
  test::query(*conn, insert, {Value(3)});

  // Nested savepoints.
  conn->execute(d.savepoint_sql("outer"));
  test::query(*conn, insert, {Value(4)});
  conn->execute(d.savepoint_sql("inner"));
  test::query(*conn, insert, {Value(5)});
  conn->execute(d.release_savepoint_sql("inner"));
  conn->execute(d.rollback_to_savepoint_sql("outer"));
  conn->commit();

  auto rows = test::query(*conn, "SELECT id FROM pgt_sp ORDER BY id");
  REQUIRE(rows.size() == 2);
  CHECK(rows[0][0] == Value(1));
  CHECK(rows[1][0] == Value(3));
  conn->execute("DROP TABLE pgt_sp");
}

TEST_CASE("postgresql driver: the statement cache prepares each shape once",
          "[postgresql][driver][cache]") {
  REQUIRE_PG_SERVER();
  auto conn = test::pg_connect();
  const std::string sql = "SELECT $1::int * 2";
  CHECK(conn->statements_prepared() == 0);
  for (int k = 0; k < 50; ++k)
    CHECK(test::scalar(*conn, sql, {Value(k)}) == Value(2 * k));
  CHECK(conn->statements_prepared() == 1);
  DriverStatement* first = &conn->cached_statement(sql);
  CHECK(first == &conn->cached_statement(sql));

  auto server_statements = [&] {
    return test::scalar(*conn, "SELECT count(*) FROM pg_prepared_statements "
                               "WHERE name LIKE 'retort\\_%'")
        .as_int();
  };
  test::scalar(*conn, "SELECT $1::text || 'x'", {Value("a")});
  CHECK(server_statements() == 3);

  // Dropped statements are deallocated on the server at the next safe moment.
  conn->clear_statement_cache();
  test::scalar(*conn, "SELECT 1");
  CHECK(server_statements() == 2); // "SELECT 1" and the count query itself
  CHECK(conn->statements_prepared() == 5);

  // Outside the cache, a prepared statement can be kept and reused directly.
  auto own = conn->prepare("SELECT $1::text");
  for (const char* word : {"one", "two"}) {
    std::vector<Value> p = {Value(word)};
    own->bind(p);
    REQUIRE(own->step());
    CHECK(own->get_text(0) == word);
    CHECK_FALSE(own->step());
  }
  // It is not usable after its connection is gone, but destroying it is safe.
  conn.reset();
  std::vector<Value> p = {Value("late")};
  own->bind(p);
  CHECK_THROWS_AS(own->step(), OperationalError);
}

TEST_CASE("postgresql dialect against the server: has_table_sql and DDL literals",
          "[postgresql][driver][dialect]") {
  REQUIRE_PG_SERVER();
  auto conn = test::pg_connect();
  const SqlDialect& d = test::pg_plugin().sql_dialect();
  conn->execute("DROP TABLE IF EXISTS pgt_literals");
  CHECK(test::query(*conn, d.has_table_sql(), {Value("pgt_literals")}).empty());

  const Blob blob = bytes({0x00, 0x27, 0x5c, 0xff});
  const std::vector<Value> defaults = {
      Value(-42),  Value(2.5), Value("it's \\ \"x\""),      Value(true),
      Value(blob), Value{},    Value(std::int64_t{1} << 40)};
  const char* types[] = {"INTEGER", "DOUBLE PRECISION", "TEXT", "BOOLEAN", "BYTEA", "TEXT",
                         "BIGINT"};
  std::string ddl = "CREATE TABLE pgt_literals (id INTEGER PRIMARY KEY";
  for (std::size_t k = 0; k < defaults.size(); ++k) {
    ddl += ", c" + std::to_string(k) + " " + types[k] + " DEFAULT ";
    d.render_literal(ddl, defaults[k]);
  }
  conn->execute(ddl + ")");
  CHECK(test::query(*conn, d.has_table_sql(), {Value("pgt_literals")}).size() == 1);
  CHECK(test::query(*conn, d.has_table_sql(), {Value("PGT_LITERALS")}).empty());

  test::query(*conn, "INSERT INTO pgt_literals (id) VALUES ($1)", {Value(1)});
  auto rows = test::query(*conn, "SELECT c0, c1, c2, c3, c4, c5, c6 FROM pgt_literals");
  REQUIRE(rows.size() == 1);
  CHECK(rows[0] == defaults);
  conn->execute("DROP TABLE pgt_literals");

  // Only the current schema counts.
  conn->execute("DROP SCHEMA IF EXISTS pgt_other CASCADE");
  conn->execute("CREATE SCHEMA pgt_other");
  conn->execute("CREATE TABLE pgt_other.pgt_elsewhere (id INTEGER)");
  CHECK(test::query(*conn, d.has_table_sql(), {Value("pgt_elsewhere")}).empty());
  conn->execute("DROP SCHEMA pgt_other CASCADE");
}
