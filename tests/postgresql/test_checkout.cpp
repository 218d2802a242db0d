// What a checkout looks at on PostgreSQL: the pool asks the driver to look at the socket
// (check_alive(), no round trip) before it hands an idle connection out, so that one whose
// backend the server terminated meanwhile is replaced, not given to the caller to fail on.
#include "pg_support.hpp"

#include <retort/core/error.hpp>
#include <retort/engine/connection.hpp>
#include <retort/plugin/create_engine.hpp>

#include <chrono>
#include <thread>

using namespace retort;

namespace {

Engine one_connection_engine() {
  EngineConfig config;
  config.url = *test::pg_url();
  config.pool.kind = "queue";
  config.pool.size = 1;
  config.pool.max_overflow = 0;
  config.pool.timeout = std::chrono::milliseconds(5000);
  return create_engine(config);
}

std::int64_t backend_pid(Connection& connection) {
  return connection.execute_sql("SELECT pg_backend_pid()").scalar<std::int64_t>();
}

// Terminates backend `pid` and waits until the server has let it go.
void terminate_backend(std::int64_t pid) {
  auto killer = test::pg_connect();
  REQUIRE(test::scalar(*killer, "SELECT pg_terminate_backend($1::int)", {Value(pid)}) ==
          Value(true));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (test::scalar(*killer, "SELECT count(*) FROM pg_stat_activity WHERE pid = $1::int",
                      {Value(pid)})
             .as_int() != 0) {
    REQUIRE(std::chrono::steady_clock::now() < deadline);
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

} // namespace

TEST_CASE("checkout: an idle connection whose backend was terminated is not handed out",
          "[postgresql][pool][checkout]") {
  REQUIRE_PG_SERVER();
  Engine engine = one_connection_engine();
  std::int64_t pid = 0;
  SECTION("returned outside a transaction") {
    Connection c = engine.connect();
    pid = backend_pid(c);
  }
  SECTION("returned with its ROLLBACK unanswered") {
    Connection c = engine.connect();
    Transaction t = c.begin();
    pid = backend_pid(c);
    // The Transaction rolls back when it dies: ROLLBACK goes out, its answer is not awaited.
  }
  REQUIRE(engine.pool().status().idle == 1);
  terminate_backend(pid);

  Connection again = engine.connect(); // no pre_ping: only the look at the socket finds out
  CHECK(engine.pool().status().discarded == 1);
  CHECK(backend_pid(again) != pid);
  Transaction t = again.begin();
  CHECK(again.execute_sql("SELECT 41 + 1").scalar<std::int64_t>() == 42);
  t.commit();
}

TEST_CASE("checkout: a live idle connection is handed out again, its ROLLBACK's answer read",
          "[postgresql][pool][checkout]") {
  REQUIRE_PG_SERVER();
  Engine engine = one_connection_engine();
  std::int64_t pid = 0;
  {
    Connection c = engine.connect();
    Transaction t = c.begin();
    pid = backend_pid(c);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(50)); // the answer has arrived
  for (int i = 0; i < 3; ++i) {
    Connection c = engine.connect();
    CHECK_FALSE(c.in_transaction());
    CHECK(backend_pid(c) == pid);
  }
  CHECK(engine.pool().status().discarded == 0);
  CHECK(engine.pool().status().opened == 1);
}
