// Core conformance, engine: text() with named parameters, streaming results, transactions and
// savepoints, typed errors, the compiled-statement and prepared-statement caches, echo.
#include "test_core_fixture.hpp"

#include <retort/core/log.hpp>
#include <retort/core/url.hpp>

using namespace retort;
using conformance::engine;
using core_conf::count_rows;
using core_conf::fetch;
using core_conf::Schema;

namespace {

Table items_table(MetaData& md) {
  return Table(md, "core_items", Column("id", Integer).primary_key(),
               Column("name", String(30)).not_null().unique(), Column("qty", Integer),
               Column("short", String(5)), Column("small", SmallInteger));
}

std::vector<std::string> names(Connection& conn, const Table& t) {
  return fetch<std::string>(conn, select(t.c("name")).order_by(t.c("id")));
}

/// Captures echo output while alive.
struct EchoCapture {
  std::vector<std::string> lines;
  EchoCapture() {
    engine().set_echo(true);
    set_log_sink([this](std::string_view line) { lines.emplace_back(line); });
  }
  ~EchoCapture() {
    engine().set_echo(false);
    set_log_sink({});
  }
  bool contains(std::string_view what) const {
    for (const auto& line : lines)
      if (line.find(what) != std::string::npos) return true;
    return false;
  }
};

} // namespace

TEST_CASE("text() with named parameters", "[core][text]") {
  Schema s;
  Table items = items_table(s.md);
  s.create();
  auto conn = engine().connect();
  conn.execute(text("INSERT INTO core_items (name, qty) VALUES (:name, :qty)")
                   .bind({{"name", "apple"}, {"qty", 3}}));
  conn.execute(text("INSERT INTO core_items (name, qty) VALUES (:name, :qty)")
                   .bind("name", "pear")
                   .bind("qty", Value()));
  // One name used twice binds the same value in both places; quoted ':x' is not a parameter.
  auto r = conn.execute(text("SELECT name, ':literal' AS lit FROM core_items "
                             "WHERE qty = :q OR (qty IS NULL AND :q > 100) ORDER BY id")
                            .bind("q", 3));
  REQUIRE(r.has_row());
  CHECK(r.row().get<std::string>("name") == "apple");
  CHECK(r.row().get<std::string>("lit") == ":literal");
  CHECK_FALSE(r.next());
  CHECK_THROWS_AS(text("SELECT :a").bind("b", 1), ArgumentError);

  // A text fragment inside a Core statement.
  CHECK(
      fetch<std::string>(conn, select(items.c("name")).where(text("qty > :min").bind("min", 1))) ==
      std::vector<std::string>{"apple"});
  // Raw SQL with positional placeholders in the dialect's own style.
  const std::string raw = conformance::is_sqlite() ? "SELECT qty FROM core_items WHERE name = ?"
                                                   : "SELECT qty FROM core_items WHERE name = $1";
  std::vector<Value> params{Value("apple")};
  CHECK(conn.execute_sql(raw, params).scalar<int>() == 3);

  if (conformance::backend() == "postgresql") {
    // '::' is PostgreSQL's cast, never a parameter.
    CHECK(conn.execute(text("SELECT :n::integer + 1 AS v").bind("n", "41")).scalar<int>() == 42);
    CHECK(conn.execute(text("SELECT qty::text || :suffix FROM core_items WHERE name = :name")
                           .bind({{"suffix", "kg"}, {"name", "apple"}}))
              .scalar<std::string>() == "3kg");
    CHECK(conn.execute(text("SELECT $$a :dollar-quoted$$::text")).scalar<std::string>() ==
          "a :dollar-quoted");
  } else {
    // SQLite has no '::'; CAST is the portable spelling.
    CHECK(conn.execute(text("SELECT CAST(:n AS INTEGER) + 1 AS v").bind("n", "41")).scalar<int>() ==
          42);
    CHECK_THROWS_AS(conn.execute(text("SELECT :n::integer").bind("n", "41")), ProgrammingError);
  }
}

TEST_CASE("large results stream row by row", "[core][streaming]") {
  Schema s;
  Table items = items_table(s.md);
  s.create();
  auto conn = engine().connect();
  constexpr std::int64_t n = 30000;
  std::vector<Value> flat;
  flat.reserve(2 * n);
  for (std::int64_t i = 1; i <= n; ++i) {
    flat.emplace_back("item-" + std::to_string(i));
    flat.emplace_back(i);
  }
  // 60000 parameters: more than one statement may carry on any backend, so compile_batches
  // splits them into full batches of one shape and a last, shorter one.
  const Insert bulk = insert(items).columns({"name", "qty"}).rows(std::move(flat));
  const std::size_t per_statement = max_rows_per_statement(bulk, engine().dialect());
  auto batches = compile_batches(bulk, engine().dialect(), &engine().statement_cache());
  CHECK(batches.size() == (n + per_statement - 1) / per_statement);
  for (const auto& batch : batches)
    CHECK(batch.params.size() <= engine().dialect().max_bound_parameters());
  REQUIRE(batches.size() > 1);
  CHECK(batches.front().params.size() == 2 * per_statement);
  {
    auto tx = conn.begin();
    for (const auto& batch : batches)
      conn.execute_sql(batch.sql, batch.params).close();
    tx.commit();
  }

  std::int64_t rows = 0;
  std::int64_t total = 0;
  std::int64_t last = 0;
  bool ordered = true;
  auto result = conn.execute(select(items.c("id"), items.c("qty")).order_by(items.c("id")));
  for (const Row& row : result) {
    ++rows;
    const auto qty = row.get<std::int64_t>(1);
    ordered = ordered && qty == last + 1;
    last = qty;
    total += qty;
  }
  CHECK(rows == n);
  CHECK(ordered);
  CHECK(total == n * (n + 1) / 2);

  // Stopping early and running another statement while a result is still open.
  auto partial = conn.execute(select(items.c("qty")).order_by(items.c("id")));
  for (int i = 0; i < 10; ++i)
    REQUIRE(partial.next());
  CHECK(partial.row().get<int>(0) == 11);
  CHECK(count_rows(conn, items) == n);
  REQUIRE(partial.next());
  CHECK(partial.row().get<int>(0) == 12);
  partial.close();
  CHECK(conn.execute(select(max(items.c("qty")))).scalar<std::int64_t>() == n);
}

TEST_CASE("live results past the inline busy list each read their own rows", "[core][streaming]") {
  // The connection tracks up to four stepped statements inline, more in an overflow list: a
  // statement found there is busy too, so running it again gets a private statement instead of
  // resetting the one a live Result reads.
  Schema s;
  Table items = items_table(s.md);
  s.create();
  auto conn = engine().connect();
  conn.execute(insert(items)
                   .columns({"name", "qty"})
                   .rows({"a", 1, "b", 2, "c", 3, "d", 4, "e", 5, "f", 6, "g", 7}));
  auto sql = [](int k) {
    return "SELECT qty AS q" + std::to_string(k) + " FROM core_items ORDER BY id";
  };
  std::vector<Result> live;
  // Five different statements (the fifth overflows), then the fifth twice more.
  for (int k : {0, 1, 2, 3, 4, 4, 4}) {
    live.push_back(conn.execute_sql(sql(k)));
    const int steps = live.size() <= 5 ? k : static_cast<int>(live.size()) - 6;
    for (int step = 0; step < steps; ++step) // a Result starts on its first row
      REQUIRE(live.back().next());
  }
  const std::vector<int> expected{1, 2, 3, 4, 5, 1, 2};
  for (std::size_t i = 0; i < live.size(); ++i)
    CHECK(live[i].row().get<int>(0) == expected[i]);
  for (std::size_t i : {1U, 6U, 0U})
    live[i].close();
  for (std::size_t i : {2U, 3U, 4U, 5U}) {
    REQUIRE(live[i].next());
    CHECK(live[i].row().get<int>(0) == expected[i] + 1);
  }
  auto again = conn.execute_sql(sql(4));
  CHECK(again.row().get<int>(0) == 1);
  again.close();
  live.clear();
  auto all = conn.execute_sql(sql(4));
  std::vector<int> values{all.row().get<int>(0)};
  while (all.next())
    values.push_back(all.row().get<int>(0));
  CHECK(values == std::vector<int>{1, 2, 3, 4, 5, 6, 7});
}

TEST_CASE("transactions: rollback unless committed, commit, nested savepoints",
          "[core][transaction]") {
  Schema s;
  Table items = items_table(s.md);
  s.create();
  auto add = [&](Connection& conn, const char* name) {
    conn.execute(insert(items).values({{"name", name}}));
  };

  {
    auto conn = engine().connect();
    {
      auto tx = conn.begin();
      CHECK(conn.in_transaction());
      add(conn, "dropped");
      CHECK(count_rows(conn, items) == 1); // visible inside the transaction
    }                                      // not committed: rolled back
    CHECK_FALSE(conn.in_transaction());
    CHECK(count_rows(conn, items) == 0);

    try {
      auto tx = conn.begin();
      add(conn, "also dropped");
      throw std::runtime_error("unit of work failed");
    } catch (const std::runtime_error&) {
    }
    CHECK(count_rows(conn, items) == 0);

    auto tx = conn.begin();
    add(conn, "kept");
    tx.commit();
    CHECK_FALSE(tx.is_active());
    CHECK_FALSE(conn.in_transaction());

    auto explicit_rollback = conn.begin();
    add(conn, "rolled back");
    explicit_rollback.rollback();
  }
  {
    // Committed data survives the connection.
    auto conn = engine().connect();
    CHECK(names(conn, items) == std::vector<std::string>{"kept"});
  }

  auto conn = engine().connect();
  {
    auto outer = conn.begin();
    add(conn, "outer-1");
    {
      auto sp = conn.begin_nested();
      CHECK(sp.is_nested());
      add(conn, "sp-rolled-back");
      sp.rollback();
    }
    {
      auto sp = conn.begin_nested();
      add(conn, "sp-released");
      {
        auto inner = conn.begin_nested();
        add(conn, "inner-dropped");
      } // RAII: back to the inner savepoint only
      sp.commit();
    }
    {
      // A failed statement inside a savepoint: rolling back to the savepoint lets the outer
      // transaction go on (PostgreSQL would otherwise refuse every further statement).
      auto sp = conn.begin_nested();
      CHECK_THROWS_AS(add(conn, "kept"), IntegrityError);
      sp.rollback();
    }
    add(conn, "outer-2");
    CHECK(conn.in_transaction());
    outer.commit();
  }
  CHECK(names(conn, items) ==
        std::vector<std::string>{"kept", "outer-1", "sp-released", "outer-2"});

  // A savepoint committed inside a transaction that rolls back is gone too.
  {
    auto outer = conn.begin();
    auto sp = conn.begin_nested();
    add(conn, "gone");
    sp.commit();
    outer.rollback();
  }
  CHECK(count_rows(conn, items) == 4);
}

TEST_CASE("a savepoint that could not be made is not rolled back to", "[core][transaction]") {
  // PostgreSQL refuses SAVEPOINT in a transaction that had an error; SQLite has no such state.
  if (conformance::is_sqlite()) return;
  Schema s;
  Table items = items_table(s.md);
  s.create();
  const auto discarded = engine().pool().status().discarded;
  {
    auto conn = engine().connect();
    auto outer = conn.begin();
    CHECK_THROWS_AS(conn.execute_sql("SELEC 1"), ProgrammingError);
    CHECK_THROWS_AS(conn.begin_nested(), DatabaseError);
    CHECK(outer.is_active());
    outer.rollback();
    CHECK(count_rows(conn, items) == 0);
  }
  // No ROLLBACK TO a savepoint that does not exist failed on the way out, which would have
  // had the connection dropped.
  CHECK(engine().pool().status().discarded == discarded);
}

TEST_CASE("errors are typed and carry the statement", "[core][errors]") {
  Schema s;
  Table items = items_table(s.md);
  s.create();
  auto conn = engine().connect();

  SECTION("syntax error") {
    const std::string bad = "SELEC name FROM core_items";
    try {
      conn.execute_sql(bad);
      FAIL("syntax error accepted");
    } catch (const ProgrammingError& e) {
      CHECK(e.sql() == bad);
      CHECK(std::string(e.what()).find(bad) != std::string::npos);
      CHECK(std::string(e.what()).find("SELEC") != std::string::npos);
      if (conformance::is_sqlite())
        CHECK(e.native_code() == 1); // SQLITE_ERROR
      else
        CHECK(e.sqlstate() == "42601");
    }
  }
  SECTION("missing table") {
    try {
      conn.execute(select(table("core_no_such_table", {"id"}).c("id")));
      FAIL("missing table accepted");
    } catch (const ProgrammingError& e) {
      CHECK(e.sql().find("core_no_such_table") != std::string::npos);
      CHECK(std::string(e.what()).find("core_no_such_table") != std::string::npos);
      if (!conformance::is_sqlite()) CHECK(e.sqlstate() == "42P01");
    }
  }
  SECTION("missing column") {
    CHECK_THROWS_AS(conn.execute_sql("SELECT no_such_column FROM core_items"), ProgrammingError);
  }
  SECTION("division by zero") {
    conn.execute(insert(items).values({{"name", "zero"}, {"qty", 0}}));
    auto divide =
        select((literal(10) / items.c("qty")).label("q")).where(items.c("name") == "zero");
    if (conformance::is_sqlite()) {
      // SQLite's documented behaviour: division by zero yields NULL.
      CHECK(conn.execute(divide).scalar<std::optional<int>>() == std::nullopt);
    } else {
      try {
        conn.execute(divide).close();
        FAIL("division by zero accepted");
      } catch (const DataError& e) {
        CHECK(e.sqlstate() == "22012");
        CHECK(e.sql().find("core_items") != std::string::npos);
      }
    }
  }
  SECTION("values that do not fit the column") {
    auto too_long = insert(items).values({{"name", "long"}, {"short", "abcdefgh"}});
    auto too_big = insert(items).values({{"name", "big"}, {"small", 100000}});
    if (conformance::is_sqlite()) {
      // SQLite does not enforce VARCHAR lengths or integer widths: the values are kept whole.
      conn.execute(too_long);
      conn.execute(too_big);
      CHECK(fetch<std::string>(conn, select(items.c("short")).where(items.c("name") == "long")) ==
            std::vector<std::string>{"abcdefgh"});
      CHECK(fetch<int>(conn, select(items.c("small")).where(items.c("name") == "big")) ==
            std::vector<int>{100000});
    } else {
      try {
        conn.execute(too_long);
        FAIL("over-long value accepted");
      } catch (const DataError& e) {
        CHECK(e.sqlstate() == "22001");
      }
      try {
        conn.execute(too_big);
        FAIL("out-of-range value accepted");
      } catch (const DataError& e) {
        CHECK(e.sqlstate() == "22003");
      }
      CHECK(count_rows(conn, items) == 0);
    }
  }
  // Every failure above left the connection usable.
  CHECK(conn.execute(select(count()).select_from(items)).scalar<std::int64_t>() >= 0);
}

TEST_CASE("repeated statement shapes hit the compiled and prepared statement caches",
          "[core][cache]") {
  Schema s;
  Table items = items_table(s.md);
  s.create();
  auto conn = engine().connect();
  conn.execute(insert(items).columns({"name", "qty"}).rows({"a", 1, "b", 2, "c", 3}));

  auto by_name = [&](const char* name) {
    return conn.execute(select(items.c("qty")).where(items.c("name") == name)).scalar<int>();
  };
  CHECK(by_name("a") == 1); // compiles and prepares the shape
  const auto stats = engine().statement_cache().stats();
  const auto prepared = conn.driver().statements_prepared();
  CHECK(by_name("b") == 2);
  CHECK(by_name("c") == 3);
  CHECK(by_name("a") == 1);
  const auto after = engine().statement_cache().stats();
  CHECK(after.hits >= stats.hits + 3);
  CHECK(after.misses == stats.misses);
  // Different values, same SQL: the driver re-executes its prepared statement.
  CHECK(conn.driver().statements_prepared() == prepared);

  // A new shape is compiled and prepared once, then reused.
  CHECK(conn.execute(select(items.c("name")).where(items.c("qty") > 2)).scalar<std::string>() ==
        "c");
  CHECK(engine().statement_cache().stats().misses == after.misses + 1);
  CHECK(conn.driver().statements_prepared() == prepared + 1);
  CHECK(conn.execute(select(items.c("name")).where(items.c("qty") > 1).order_by(items.c("qty")))
            .scalar<std::string>() == "b");
  CHECK(conn.execute(select(items.c("name")).where(items.c("qty") > 0)).has_row());
  CHECK(conn.driver().statements_prepared() == prepared + 2); // the order_by one only
}

TEST_CASE("echo logs statements and parameters, never the password", "[core][echo]") {
  Schema s;
  Table items = items_table(s.md);
  s.create();
  const Url& url = engine().url();
  {
    EchoCapture echo;
    auto conn = engine().connect();
    auto tx = conn.begin();
    conn.execute(insert(items).values({{"name", "logged-value"}, {"qty", 12345}}));
    tx.commit();
    CHECK(echo.contains("INSERT INTO"));
    CHECK(echo.contains("core_items"));
    CHECK(echo.contains("logged-value"));
    CHECK(echo.contains("12345"));
    CHECK(echo.contains("BEGIN"));
    CHECK(echo.contains("COMMIT"));
    if (url.password && !url.password->empty()) CHECK_FALSE(echo.contains(*url.password));
  }
  {
    // Echo off: nothing is logged.
    std::vector<std::string> lines;
    set_log_sink([&](std::string_view line) { lines.emplace_back(line); });
    auto conn = engine().connect();
    CHECK(count_rows(conn, items) == 1);
    set_log_sink({});
    CHECK(lines.empty());
  }
  if (url.password && !url.password->empty()) {
    // Printing the engine's URL masks the password.
    const std::string shown = url.render();
    CHECK(shown.find(*url.password) == std::string::npos);
    CHECK(shown.find("***") != std::string::npos);
    // So do connection errors: a wrong password is not echoed back.
    Url wrong = url;
    wrong.password = "wrong-s3cret-pw";
    try {
      auto bad = create_engine(wrong.render(false));
      bad.set_echo(true);
      bad.connect();
      FAIL("connected with a wrong password");
    } catch (const Error& e) {
      CHECK(std::string(e.what()).find("wrong-s3cret-pw") == std::string::npos);
    }
  }
  // Parsing a URL never shows its password in errors either.
  try {
    Url::parse("postgresql://user:hunter2@host:notaport/db");
    FAIL("bad port accepted");
  } catch (const ArgumentError& e) {
    CHECK(std::string(e.what()).find("hunter2") == std::string::npos);
    CHECK(std::string(e.what()).find("***") != std::string::npos);
  }
  CHECK(mask_password("connecting to postgresql://u:topsecret@h/db") ==
        "connecting to postgresql://u:***@h/db");
}

TEST_CASE("execute_and_commit: a lone statement in a fresh transaction is that transaction",
          "[core][transaction]") {
  Schema s;
  Table items = items_table(s.md);
  s.create();
  const SqlDialect& dialect = engine().dialect();
  auto conn = engine().connect();
  auto lone = [&](const CompiledSql& statement) {
    auto tx = conn.begin();
    std::vector<Connection::Pipelined> one{{&statement.sql, statement.params}};
    std::size_t handled = 0;
    conn.execute_and_commit(one, tx, [&](std::size_t, Result& result) {
      ++handled;
      CHECK(result.rows_affected() == 1);
    });
    CHECK(handled == 1);
    CHECK_FALSE(tx.is_active());
    CHECK_FALSE(conn.in_transaction());
  };
  // Twice each: the first run prepares the statement, the second finds it cached (where a
  // driver without pipelining runs it on its own, in autocommit).
  auto a = compile(insert(items).values({{"name", "a"}, {"qty", 1}}), dialect);
  auto b = compile(insert(items).values({{"name", "b"}, {"qty", 1}}), dialect);
  lone(a);
  lone(b);
  CHECK(names(conn, items) == std::vector<std::string>{"a", "b"});

  // A failing lone statement: its own error, nothing committed, the transaction left active
  // for the caller to roll back, the connection sound.
  auto duplicate = compile(insert(items).values({{"name", "a"}, {"qty", 2}}), dialect);
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto tx = conn.begin();
    std::vector<Connection::Pipelined> one{{&duplicate.sql, duplicate.params}};
    try {
      conn.execute_and_commit(one, tx, [](std::size_t, Result&) {});
      FAIL("duplicate name accepted");
    } catch (const IntegrityError& e) {
      CHECK(e.sql() == duplicate.sql);
    }
    CHECK(tx.is_active());
    tx.rollback();
    CHECK_FALSE(conn.in_transaction());
  }
  CHECK(names(conn, items) == std::vector<std::string>{"a", "b"});

  // After another statement in the same transaction, the lone one commits together with it,
  // and fails together with it.
  auto c = compile(insert(items).values({{"name", "c"}, {"qty", 3}}), dialect);
  {
    auto tx = conn.begin();
    conn.execute(insert(items).values({{"name", "before"}, {"qty", 3}}));
    std::vector<Connection::Pipelined> one{{&duplicate.sql, duplicate.params}};
    CHECK_THROWS_AS(conn.execute_and_commit(one, tx, [](std::size_t, Result&) {}), IntegrityError);
    tx.rollback();
  }
  CHECK(names(conn, items) == std::vector<std::string>{"a", "b"});
  {
    auto tx = conn.begin();
    conn.execute(update(items).values({{"qty", 30}}).where(items.c("name") == "a"));
    std::vector<Connection::Pipelined> one{{&c.sql, c.params}};
    conn.execute_and_commit(one, tx, [](std::size_t, Result&) {});
  }
  CHECK(names(conn, items) == std::vector<std::string>{"a", "b", "c"});
  CHECK(fetch<std::int64_t>(conn, select(items.c("qty")).where(items.c("name") == "a")) ==
        std::vector<std::int64_t>{30});
}

TEST_CASE("a statement may carry the dialect's max_bound_parameters()", "[core][limits]") {
  Schema s;
  Table items = items_table(s.md);
  s.create();
  auto conn = engine().connect();
  conn.execute(insert(items).columns({"name", "qty"}).rows({"a", 1, "b", 2}));
  const std::size_t max = engine().dialect().max_bound_parameters();
  std::vector<std::int64_t> wanted;
  for (std::size_t i = 0; i < max; ++i)
    wanted.push_back(static_cast<std::int64_t>(i) * 2 + 1); // 1, 3, 5...: matches qty 1 only
  auto query = select(items.c("name")).where(items.c("qty").in_(wanted));
  REQUIRE(compile(query, engine().dialect()).params.size() == max);
  CHECK(fetch<std::string>(conn, query) == std::vector<std::string>{"a"});
  // One more is refused before it reaches the database.
  wanted.push_back(0);
  CHECK_THROWS_AS(conn.execute(select(items.c("name")).where(items.c("qty").in_(wanted))),
                  ArgumentError);
  CHECK(count_rows(conn, items) == 2); // the connection survived
}

TEST_CASE("execute_and_commit: the statements, then their commit", "[core][transaction]") {
  Schema s;
  Table items = items_table(s.md);
  s.create();
  const SqlDialect& dialect = engine().dialect();
  auto a = compile(insert(items).values({{"name", "a"}, {"qty", 1}}), dialect);
  auto b = compile(insert(items).values({{"name", "b"}, {"qty", 2}}), dialect);
  auto c = compile(insert(items).values({{"name", "c"}}), dialect);
  auto duplicate = compile(insert(items).values({{"name", "a"}}), dialect);
  auto conn = engine().connect();

  auto tx = conn.begin();
  std::vector<Connection::Pipelined> both{{&a.sql, a.params}, {&b.sql, b.params}};
  std::vector<std::size_t> handled;
  conn.execute_and_commit(both, tx, [&](std::size_t index, Result& result) {
    handled.push_back(index);
    CHECK(result.rows_affected() == 1);
  });
  CHECK(handled == std::vector<std::size_t>{0, 1});
  CHECK_FALSE(tx.is_active());
  CHECK_FALSE(conn.in_transaction());
  CHECK(names(conn, items) == std::vector<std::string>{"a", "b"});

  // A failing statement: its own error, nothing committed, the transaction left to roll back.
  auto failing_tx = conn.begin();
  std::vector<Connection::Pipelined> failing{{&c.sql, c.params},
                                             {&duplicate.sql, duplicate.params}};
  try {
    conn.execute_and_commit(failing, failing_tx, [](std::size_t, Result&) {});
    FAIL("duplicate name accepted");
  } catch (const IntegrityError& e) {
    CHECK(e.sql() == duplicate.sql);
  }
  CHECK(failing_tx.is_active());
  failing_tx.rollback();
  CHECK(names(conn, items) == std::vector<std::string>{"a", "b"});

  // Only the active top-level transaction of the same connection can be committed this way.
  CHECK_THROWS_AS(conn.execute_and_commit(both, failing_tx, [](std::size_t, Result&) {}),
                  InvalidStateError);
}
