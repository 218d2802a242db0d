#include "pg_support.hpp"
#include "direct_plugin.hpp"

#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <vector>

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

namespace {

std::string as_postgres(const std::string& command) {
  return ::geteuid() == 0 ? "cd / && runuser -u postgres -- " + command : "cd / && " + command;
}

} // namespace

void crash_and_restart_server(const std::string& base, const std::string& extra_options) {
  const char* port = std::getenv("RETORT_TEST_PG_PORT");
  REQUIRE(port != nullptr);
  std::ifstream pid_file(base + "/data/postmaster.pid");
  long postmaster = 0;
  pid_file >> postmaster;
  REQUIRE(postmaster > 0);
  // Every process of the server dies at once, as in a crash of the machine or the OOM killer:
  // no backend gets to tell its client anything, the connections just end.
  std::vector<pid_t> children;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    std::ifstream stat(entry.path() / "stat");
    std::string line;
    if (!std::getline(stat, line)) continue;
    // pid (comm) state ppid ...: comm may hold spaces, so read after its closing parenthesis.
    std::istringstream rest(line.substr(line.rfind(')') + 1));
    char state = 0;
    long parent = 0;
    rest >> state >> parent;
    if (parent == postmaster) children.push_back(static_cast<pid_t>(std::stol(line)));
  }
  REQUIRE(::kill(static_cast<pid_t>(postmaster), SIGKILL) == 0);
  for (pid_t child : children)
    ::kill(child, SIGKILL);
  // The server cannot start while a process of the old one still holds the shared memory, so
  // the start is tried until it succeeds.
  const std::string start = "/usr/lib/postgresql/15/bin/pg_ctl -D " + base + "/data -l " + base +
                            "/server.log -w -t 60 -o \"-p " + port + " -k " + base +
                            " -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off"
                            " -c full_page_writes=off " +
                            extra_options + "\" start >/dev/null 2>&1";
  for (int attempt = 0;; ++attempt) {
    if (std::system(as_postgres(start).c_str()) == 0) return;
    REQUIRE(attempt < 50);
    ::usleep(200'000);
  }
}

} // namespace retort::test
