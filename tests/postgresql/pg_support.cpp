#include "pg_support.hpp"
#include "direct_plugin.hpp"

#include <poll.h>
#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <stdexcept>

namespace retort::test {

namespace {

void wait_for(int fd, short events) {
  pollfd p{fd, events, 0};
  int ready = ::poll(&p, 1, 30'000);
  REQUIRE(ready == 1);
}

} // namespace

const DialectPlugin& pg_plugin() { return load_dialect_directly("postgresql"); }

std::optional<std::string> pg_url() {
  const char* url = std::getenv("RETORT_TEST_POSTGRES_URL");
  if (url == nullptr || *url == '\0') return std::nullopt;
  return std::string(url);
}

bool pg_available() {
  if (pg_url()) return true;
  const char* ci = std::getenv("CI");
  if (ci != nullptr && std::string(ci) == "true")
    FAIL("RETORT_TEST_POSTGRES_URL is not set on CI; start a server with "
         "eval \"$(tests/pg-server.sh start)\"");
  static bool warned = [] {
    std::cerr << "WARNING: RETORT_TEST_POSTGRES_URL is not set: PostgreSQL tests SKIPPED "
                 "(eval \"$(tests/pg-server.sh start)\" to run them)\n";
    return true;
  }();
  (void)warned;
  WARN("SKIPPED: RETORT_TEST_POSTGRES_URL is not set");
  return false;
}

std::unique_ptr<DriverConnection> pg_connect(const Options& options) {
  return pg_connect_url(*pg_url(), options);
}

std::unique_ptr<DriverConnection> pg_connect_url(const std::string& url, const Options& options) {
  return pg_plugin().connect(Url::parse(url), options);
}

std::vector<std::vector<Value>> query(DriverConnection& conn, const std::string& sql,
                                      const std::vector<Value>& params) {
  DriverStatement& st = conn.cached_statement(sql);
  st.bind(params);
  std::vector<std::vector<Value>> rows;
  while (st.step()) {
    auto& row = rows.emplace_back();
    for (int i = 0; i < st.column_count(); ++i)
      row.push_back(st.get_value(i));
  }
  return rows;
}

Value scalar(DriverConnection& conn, const std::string& sql, const std::vector<Value>& params) {
  auto rows = query(conn, sql, params);
  REQUIRE(!rows.empty());
  REQUIRE(!rows.front().empty());
  return rows.front().front();
}

void flush_all(NonBlockingConnection& nb) {
  while (!nb.flush()) {
    // libpq: while output is pending, input must be read too, or the server may stall on us.
    pollfd p{nb.socket(), POLLIN | POLLOUT, 0};
    REQUIRE(::poll(&p, 1, 30'000) == 1);
    if (p.revents & POLLIN) nb.consume_input();
  }
}

std::unique_ptr<NonBlockingResult> await_result(NonBlockingConnection& nb) {
  while (nb.is_busy()) {
    wait_for(nb.socket(), POLLIN);
    nb.consume_input();
  }
  return nb.next_result();
}

// pg_ctl refuses to run as root; as in tests/pg-server.sh it runs as postgres from /.
void restart_server(const std::string& base) {
  const std::string pg_ctl = "/usr/lib/postgresql/15/bin/pg_ctl -D " + base + "/data -l " + base +
                             "/server.log -m fast -w -t 60 restart >/dev/null 2>&1";
  const std::string command =
      ::geteuid() == 0 ? "cd / && runuser -u postgres -- " + pg_ctl : "cd / && " + pg_ctl;
  REQUIRE(std::system(command.c_str()) == 0);
}

} // namespace retort::test
