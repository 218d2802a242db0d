// Connection loss at the engine level: the server restarts under a pooled engine. The
// transaction in flight gets one OperationalError, the pool discards the dead connections,
// checkout replaces stale ones before use (with or without pre_ping), and the next transaction
// succeeds.
#include "pg_support.hpp"

#include <retort/core/error.hpp>
#include <retort/engine/connection.hpp>
#include <retort/plugin/create_engine.hpp>

#include <cstdlib>

using namespace retort;

namespace {

Engine pooled_engine(bool pre_ping) {
  EngineConfig config;
  config.url = *test::pg_url();
  config.pool.kind = "queue";
  config.pool.size = 3;
  config.pool.max_overflow = 0;
  config.pool.pre_ping = pre_ping;
  config.pool.timeout = std::chrono::milliseconds(5000);
  return create_engine(config);
}

// Opens `n` connections at once so that the pool holds `n` idle ones afterwards.
void warm_up(const Engine& engine, int n) {
  std::vector<Connection> held;
  for (int i = 0; i < n; ++i) {
    held.push_back(engine.connect());
    held.back().execute_sql("SELECT 1").close();
  }
}

std::int64_t select_one(const Engine& engine) {
  Connection connection = engine.connect();
  Transaction transaction = connection.begin();
  auto value = connection.execute_sql("SELECT 41 + 1").scalar<std::int64_t>();
  transaction.commit();
  return value;
}

} // namespace

TEST_CASE("pool: a restart costs the transaction in flight one error, then pre_ping recovers",
          "[postgresql][restart][pool]") {
  REQUIRE_PG_SERVER();
  const char* base = std::getenv("RETORT_TEST_PG_BASE");
  if (base == nullptr) {
    WARN("RETORT_TEST_PG_BASE unset: the restart test needs tests/pg-server.sh's server");
    return;
  }
  Engine with_ping = pooled_engine(true);
  Engine without_ping = pooled_engine(false);
  warm_up(with_ping, 3);
  warm_up(without_ping, 3);
  CHECK(with_ping.pool().status().idle == 3);

  {
    Connection in_flight = with_ping.connect();
    Transaction transaction = in_flight.begin();
    in_flight.execute_sql("SELECT 1").close();
    test::restart_server(base);
    CHECK_THROWS_AS(in_flight.execute_sql("SELECT 2"), OperationalError);
    // The failed connection is marked; rollback of the dead transaction must not throw.
  }
  const auto after_failure = with_ping.pool().status();
  CHECK(after_failure.checked_out == 0);
  CHECK(after_failure.discarded >= 1); // the connection in flight was not put back

  // pre_ping: the two idle connections are dead; checkout finds out and replaces them.
  CHECK(select_one(with_ping) == 42);
  CHECK(select_one(with_ping) == 42);
  CHECK(with_ping.pool().status().discarded >= 2);

  // Without pre_ping the checkout still looks at the socket (no round trip): the server said
  // FATAL and closed each connection when it shut down, so the stale ones are replaced before
  // use and no transaction fails.
  for (int i = 0; i < 4; ++i)
    CHECK(select_one(without_ping) == 42);
  CHECK(without_ping.pool().status().discarded >= 3);
}
