// Test helpers: the PostgreSQL plugin loaded straight from the build tree (no plugin loader),
// the test server from RETORT_TEST_POSTGRES_URL (tests/pg-server.sh), and a poll() loop for the
// non-blocking side.
#pragma once

#include <retort/core/options.hpp>
#include <retort/core/url.hpp>
#include <retort/engine/nonblocking.hpp>
#include <retort/plugin/spi.hpp>

#include <catch2/catch.hpp>

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace retort::test {

/// The plugin object, loaded once per process and kept until exit.
const DialectPlugin& pg_plugin();

/// The test server's URL, or nothing when RETORT_TEST_POSTGRES_URL is unset.
std::optional<std::string> pg_url();

/// True when the tests must run: the URL is set. When it is unset, prints a WARNING (and lets
/// the test pass) outside CI, and fails the test when CI=true.
bool pg_available();

/// A connection to the test server (RETORT_TEST_POSTGRES_URL).
std::unique_ptr<DriverConnection> pg_connect(const Options& options = {});

/// A connection to `url`.
std::unique_ptr<DriverConnection> pg_connect_url(const std::string& url,
                                                 const Options& options = {});

/// Runs `sql` with `params` through the statement cache and returns every row as Values.
std::vector<std::vector<Value>> query(DriverConnection& conn, const std::string& sql,
                                      const std::vector<Value>& params = {});

/// The first column of the first row of `sql`.
Value scalar(DriverConnection& conn, const std::string& sql, const std::vector<Value>& params = {});

/// Waits until everything queued on `nb` is sent (the libpq flush protocol).
void flush_all(NonBlockingConnection& nb);
/// Restarts the tests/pg-server.sh server whose directory is `base` (pg_ctl restart -m fast).
void restart_server(const std::string& base);
/// Kills the server's postmaster and its backends with SIGKILL (a crash: no shutdown, no
/// checkpoint, no word to any client), and starts it again on the same port with
/// tests/pg-server.sh's settings plus `extra_options` (e.g. "-c synchronous_commit=on -c
/// fsync=on").
void crash_and_restart_server(const std::string& base, const std::string& extra_options = "");

/// Waits until the next result is available without blocking, then returns it (or nullptr).
std::unique_ptr<NonBlockingResult> await_result(NonBlockingConnection& nb);

} // namespace retort::test

/// Returns from the test case when no PostgreSQL server is configured (see pg_available()).
#define REQUIRE_PG_SERVER()                                                                        \
  do {                                                                                             \
    if (!::retort::test::pg_available()) return;                                                   \
  } while (false)
