// Connection loss: the throwaway server (tests/pg-server.sh) is restarted under live
// connections. Runs only when RETORT_TEST_PG_BASE names that server's directory.
#include "pg_support.hpp"

#include <retort/core/error.hpp>

#include <unistd.h>

#include <cstdlib>

using namespace retort;

TEST_CASE("postgresql connection loss: a server restart under live connections",
          "[postgresql][restart]") {
  REQUIRE_PG_SERVER();
  const char* base = std::getenv("RETORT_TEST_PG_BASE");
  if (base == nullptr) {
    WARN("RETORT_TEST_PG_BASE unset: the server restart test needs tests/pg-server.sh's server");
    return;
  }
  auto idle = test::pg_connect();
  CHECK(test::scalar(*idle, "SELECT $1::int", {Value(1)}) == Value(1));
  auto busy = test::pg_connect();
  NonBlockingConnection& nb = *busy->non_blocking();
  nb.send_query("SELECT pg_sleep(60)", {});
  test::flush_all(nb);

  test::restart_server(base);

  // The statement in flight fails with exactly one OperationalError...
  int operational_errors = 0;
  try {
    while (auto result = test::await_result(nb))
      result->throw_if_error();
  } catch (const OperationalError& e) {
    ++operational_errors;
    CHECK(e.sql() == "SELECT pg_sleep(60)");
  }
  CHECK(operational_errors == 1);
  CHECK_FALSE(busy->is_valid());
  CHECK_FALSE(busy->ping());

  // ...and so does the next statement on the idle connection, cached or not.
  CHECK_THROWS_AS(test::scalar(*idle, "SELECT $1::int", {Value(2)}), OperationalError);
  CHECK_FALSE(idle->is_valid());
  CHECK_FALSE(idle->ping());
  CHECK_THROWS_AS(idle->execute("SELECT 1"), OperationalError);
  CHECK_THROWS_AS(idle->begin(), OperationalError);
  CHECK_FALSE(idle->in_transaction());

  // A new connection works.
  auto fresh = test::pg_connect();
  CHECK(fresh->is_valid());
  CHECK(fresh->ping());
  CHECK(test::scalar(*fresh, "SELECT $1::int", {Value(3)}) == Value(3));
}

TEST_CASE("postgresql connection loss: terminated by the server", "[postgresql][restart]") {
  REQUIRE_PG_SERVER();
  auto victim = test::pg_connect();
  auto pid = test::scalar(*victim, "SELECT pg_backend_pid()").as_int();
  auto killer = test::pg_connect();
  CHECK(test::scalar(*killer, "SELECT pg_terminate_backend($1::int)", {Value(pid)}) == Value(true));
  try {
    test::scalar(*victim, "SELECT 1");
    FAIL("statement on a terminated connection succeeded");
  } catch (const OperationalError& e) {
    INFO(e.what());
    CHECK((e.sqlstate() == "57P01" || e.sqlstate().starts_with("08")));
  }
  CHECK_FALSE(victim->is_valid());
  CHECK_FALSE(victim->ping());
  CHECK(killer->ping());
}
