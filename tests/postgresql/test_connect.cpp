// Connecting: URL to libpq parameters, scram-sha-256 password authentication, unix sockets, and
// passwords kept out of error messages.
#include "pg_support.hpp"

#include <retort/core/error.hpp>
#include <retort/retort.hpp>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <cstdlib>

using namespace retort;

namespace {

Url server_url() { return Url::parse(*test::pg_url()); }

std::string text_of(DriverConnection& conn, const std::string& sql) {
  return std::string(test::scalar(conn, sql).as_text());
}

} // namespace

TEST_CASE("postgresql connect: TCP with a scram-sha-256 password", "[postgresql][connect]") {
  REQUIRE_PG_SERVER();
  auto conn = test::pg_connect();
  REQUIRE(conn->is_valid());
  CHECK(conn->ping());
  CHECK(text_of(*conn, "SELECT current_user") == server_url().username);
  CHECK(text_of(*conn, "SELECT current_database()") == server_url().database);
  // TCP, not a socket file: the server sees a client address.
  CHECK(text_of(*conn, "SELECT (inet_client_addr() IS NOT NULL)::text") == "true");
  CHECK(text_of(*conn, "SHOW client_encoding") == "UTF8");
  CHECK(text_of(*conn, "SHOW DateStyle") == "ISO, YMD");
  CHECK(conn->non_blocking() != nullptr);
}

TEST_CASE("postgresql connect: a wrong password is refused without echoing it",
          "[postgresql][connect][secrets]") {
  REQUIRE_PG_SERVER();
  Url url = server_url();
  const std::string real_password = url.password.value_or("");
  REQUIRE(!real_password.empty());
  url.password = "Wr0ng-Pa55word-xyzzy";
  try {
    test::pg_plugin().connect(url, {});
    FAIL("connecting with a wrong password succeeded");
  } catch (const OperationalError& e) {
    std::string what = e.what();
    INFO(what);
    CHECK(what.find("password authentication failed") != std::string::npos);
    CHECK(what.find("Wr0ng-Pa55word-xyzzy") == std::string::npos);
    CHECK(what.find(real_password) == std::string::npos);
    CHECK(e.message().find("Wr0ng-Pa55word-xyzzy") == std::string::npos);
    CHECK(e.sqlstate() == "08001");
  }
  url.password.reset();
  CHECK_THROWS_AS(test::pg_plugin().connect(url, {}), OperationalError);
}

TEST_CASE("postgresql connect: the real password never appears in a connection error",
          "[postgresql][connect][secrets]") {
  REQUIRE_PG_SERVER();
  Url url = server_url();
  const std::string password = *url.password;
  url.database = "no_such_database_" + password;
  try {
    test::pg_plugin().connect(url, {});
    FAIL("connecting to a missing database succeeded");
  } catch (const OperationalError& e) {
    std::string what = e.what();
    INFO(what);
    CHECK(what.find("does not exist") != std::string::npos);
    CHECK(what.find(password) == std::string::npos);
    CHECK(what.find("***") != std::string::npos);
  }
}

TEST_CASE("postgresql connect: query keys and options become libpq parameters",
          "[postgresql][connect]") {
  REQUIRE_PG_SERVER();
  Url url = server_url();
  url.query["application_name"] = "retort-test-app";
  url.query["connect_timeout"] = "5";
  url.query["sslmode"] = "disable";
  auto conn = test::pg_plugin().connect(url, {});
  CHECK(text_of(*conn, "SHOW application_name") == "retort-test-app");

  // Options from the configuration win over the URL.
  auto second = test::pg_plugin().connect(url, {{"application_name", "from-options"}});
  CHECK(text_of(*second, "SHOW application_name") == "from-options");

  // Server settings through libpq's "options" keyword, added after the driver's own.
  Url with_options = server_url();
  with_options.query["options"] = "-c search_path=pg_catalog";
  auto third = test::pg_plugin().connect(with_options, {});
  CHECK(text_of(*third, "SHOW search_path") == "pg_catalog");
  CHECK(text_of(*third, "SHOW DateStyle") == "ISO, YMD");
}

TEST_CASE("postgresql connect: unknown parameters and unreachable servers",
          "[postgresql][connect]") {
  REQUIRE_PG_SERVER();
  Url url = server_url();
  url.query["no_such_keyword"] = "1";
  CHECK_THROWS_WITH(test::pg_plugin().connect(url, {}),
                    Catch::Contains("no_such_keyword") && Catch::Contains("URL query"));
  CHECK_THROWS_AS(test::pg_plugin().connect(server_url(), {{"busy_timeout", "5"}}), OptionError);

  // The test server has no TLS: requiring it fails as a connection error.
  Url tls = server_url();
  tls.query["sslmode"] = "require";
  CHECK_THROWS_AS(test::pg_plugin().connect(tls, {}), OperationalError);

  Url closed = server_url();
  closed.port = 1;
  closed.query["connect_timeout"] = "3";
  try {
    test::pg_plugin().connect(closed, {});
    FAIL("connecting to a closed port succeeded");
  } catch (const OperationalError& e) {
    CHECK(std::string(e.what()).find(":1/") != std::string::npos);
    CHECK(std::string(e.what()).find(*server_url().password) == std::string::npos);
  }
}

// What a socket option holds, as an int.
int socket_option(int socket, int level, int name) {
  int value = 0;
  socklen_t size = sizeof value;
  REQUIRE(getsockopt(socket, level, name, &value, &size) == 0);
  return value;
}

TEST_CASE("postgresql connect: keepalive and TCP user timeout options reach the socket",
          "[postgresql][connect][timeouts]") {
  REQUIRE_PG_SERVER();
  // A server whose host vanishes (power, network) sends no reset: without these the kernel
  // would keep an idle connection forever, and a request in flight would wait as long.
  EngineConfig config;
  config.options = {{"keepalives_idle", "7"},
                    {"keepalives_interval", "3"},
                    {"keepalives_count", "2"},
                    {"tcp_user_timeout", "9000"}};
  Engine engine = create_engine(*test::pg_url(), config);
  Connection connection = engine.connect();
  const int socket = connection.driver().non_blocking()->socket();
  REQUIRE(socket >= 0);
  CHECK(socket_option(socket, SOL_SOCKET, SO_KEEPALIVE) == 1);
  CHECK(socket_option(socket, IPPROTO_TCP, TCP_KEEPIDLE) == 7);
  CHECK(socket_option(socket, IPPROTO_TCP, TCP_KEEPINTVL) == 3);
  CHECK(socket_option(socket, IPPROTO_TCP, TCP_KEEPCNT) == 2);
  CHECK(socket_option(socket, IPPROTO_TCP, TCP_USER_TIMEOUT) == 9000);
  CHECK(connection.execute_sql("SELECT 1").scalar<std::int64_t>() == 1);
}

TEST_CASE("postgresql connect: statement_timeout through options ends a long statement with "
          "SQLSTATE 57014, and the connection goes on",
          "[postgresql][connect][timeouts]") {
  REQUIRE_PG_SERVER();
  EngineConfig config;
  config.options = {{"options", "-c statement_timeout=200"}};
  Engine engine = create_engine(*test::pg_url(), config);
  Connection connection = engine.connect();
  try {
    connection.execute_sql("SELECT pg_sleep(5)");
    FAIL("pg_sleep(5) ran past statement_timeout");
  } catch (const OperationalError& e) {
    CHECK(e.sqlstate() == "57014");
    CHECK(std::string(e.what()).find("pg_sleep") != std::string::npos);
  }
  CHECK(connection.execute_sql("SELECT 2").scalar<std::int64_t>() == 2);
}

TEST_CASE("postgresql connect: unix socket directory as ?host=", "[postgresql][connect]") {
  REQUIRE_PG_SERVER();
  const char* base = std::getenv("RETORT_TEST_PG_BASE");
  if (base == nullptr) {
    WARN("RETORT_TEST_PG_BASE unset: unix socket connection not tested");
    return;
  }
  Url url = server_url();
  url.host.clear();
  url.query["host"] = base;
  auto conn = test::pg_plugin().connect(url, {});
  CHECK(text_of(*conn, "SELECT (inet_client_addr() IS NULL)::text") == "true");
  CHECK(text_of(*conn, "SELECT current_user") == url.username);

  // The same as URL text, the way a configuration file writes it; the socket is trusted.
  const char* port = std::getenv("RETORT_TEST_PG_PORT");
  REQUIRE(port != nullptr);
  auto from_text = test::pg_connect_url("postgresql://" + url.username + "@/" + url.database +
                                        "?host=" + base + "&port=" + port);
  CHECK(text_of(*from_text, "SELECT (inet_client_addr() IS NULL)::text") == "true");
}
