// The connect side of the driver: libpq keywords, the blocking connect and the non-blocking one.
#include "connect.hpp"
#include "connection.hpp"
#include "errors.hpp"

#include <retort/core/error.hpp>

#include <algorithm>
#include <cstdlib>
#include <set>
#include <string_view>
#include <vector>

namespace retort::postgresql {

namespace {

const std::set<std::string>& libpq_keywords() {
  static const std::set<std::string> keywords = [] {
    std::set<std::string> out;
    PQconninfoOption* defaults = PQconndefaults();
    for (auto* o = defaults; o && o->keyword; ++o)
      out.insert(o->keyword);
    PQconninfoFree(defaults);
    return out;
  }();
  return keywords;
}

void put_parameter(std::map<std::string, std::string>& out, const std::string& key,
                   const std::string& value, const char* origin) {
  if (!libpq_keywords().contains(key))
    throw OptionError(key, std::string("unknown PostgreSQL connection parameter '") + key +
                               "' in the " + origin + " (libpq connection keywords are accepted)");
  // Ours only fixes the date style; a user's server options are added after it and win.
  if (key == "options") {
    out[key] += " " + value;
    return;
  }
  out[key] = value;
}

// The target as text for error messages: never includes the password.
std::string describe_target(const std::map<std::string, std::string>& p) {
  auto get = [&](const char* key) {
    auto found = p.find(key);
    return found == p.end() ? std::string() : found->second;
  };
  std::string out = "postgresql://";
  if (!get("user").empty()) out += get("user") + "@";
  out += get("host").empty() ? std::string("(default host)") : get("host");
  if (!get("port").empty()) out += ":" + get("port");
  out += "/" + get("dbname");
  return out;
}

// libpq's keyword and value arrays for connection_parameters(); they point into `parameters`.
struct ConnectArguments {
  std::map<std::string, std::string> parameters;
  std::vector<const char*> keys;
  std::vector<const char*> values;

  ConnectArguments(const Url& url, const Options& options)
      : parameters(connection_parameters(url, options)) {
    for (const auto& [key, value] : parameters) {
      keys.push_back(key.c_str());
      values.push_back(value.c_str());
    }
    keys.push_back(nullptr);
    values.push_back(nullptr);
  }
  std::string password() const {
    auto found = parameters.find("password");
    return found == parameters.end() ? "" : found->second;
  }
};

[[noreturn]] void throw_connect_failed(const PgHandle& handle, const std::string& target,
                                       const std::string& reason) {
  throw OperationalError(handle.scrub("could not connect to " + target + ": " + reason), "08001", 0,
                         "");
}

// The connect_timeout in force (URL, options or PGCONNECT_TIMEOUT), in seconds; 0 for none.
// libpq reads 1 as 2, and so do we.
int connect_timeout_seconds(PGconn* conn) {
  int seconds = 0;
  PQconninfoOption* info = PQconninfo(conn);
  for (auto* o = info; o && o->keyword; ++o)
    if (std::string_view(o->keyword) == "connect_timeout" && o->val) seconds = std::atoi(o->val);
  PQconninfoFree(info);
  return seconds == 1 ? 2 : std::max(seconds, 0);
}

} // namespace

std::map<std::string, std::string> connection_parameters(const Url& url, const Options& options) {
  std::map<std::string, std::string> p;
  // Dates and times travel as ISO-8601 text whatever the server's default DateStyle is.
  p["options"] = "-c DateStyle=ISO,YMD";
  p["client_encoding"] = "UTF8";
  if (!url.host.empty()) p["host"] = url.host;
  if (url.port) p["port"] = std::to_string(*url.port);
  if (!url.username.empty()) p["user"] = url.username;
  if (url.password) p["password"] = *url.password;
  if (!url.database.empty()) p["dbname"] = url.database;
  for (const auto& [key, value] : url.query)
    put_parameter(p, key, value, "URL query");
  for (const auto& [key, value] : options)
    put_parameter(p, key, value, "dialect options");
  return p;
}

PgConnection::PgConnection(const Url& url, const Options& options) {
  ConnectArguments arguments(url, options);
  handle_ = std::make_shared<PgHandle>(
      PQconnectdbParams(arguments.keys.data(), arguments.values.data(), 0), arguments.password());
  PGconn* conn = handle_->conn();
  if (!conn) throw OperationalError("libpq could not allocate a connection", "08001", 0, "");
  if (PQstatus(conn) != CONNECTION_OK)
    throw_connect_failed(*handle_, describe_target(arguments.parameters),
                         trimmed(PQerrorMessage(conn)));
  // Notices (e.g. "table does not exist, skipping") would go to stderr by default.
  handle_->watch_notices();
}

// The per-connection setup after connecting has no round trip (the date style and encoding
// travel as connection parameters), so it is the same for both ways of connecting.
PgConnection::PgConnection(std::shared_ptr<PgHandle> handle) : handle_(std::move(handle)) {
  handle_->watch_notices();
}

// ---- PgConnecting ------------------------------------------------------------------------------

PgConnecting::PgConnecting(const Url& url, const Options& options) {
  ConnectArguments arguments(url, options);
  target_ = describe_target(arguments.parameters);
  handle_ = std::make_shared<PgHandle>(
      PQconnectStartParams(arguments.keys.data(), arguments.values.data(), 0),
      arguments.password());
  PGconn* conn = handle_->conn();
  if (!conn) throw OperationalError("libpq could not allocate a connection", "08001", 0, "");
  if (PQstatus(conn) == CONNECTION_BAD) fail(trimmed(PQerrorMessage(conn)));
  // PQconnectPoll leaves connect_timeout to its caller: it bounds the whole attempt here.
  timeout_seconds_ = connect_timeout_seconds(conn);
  if (timeout_seconds_ > 0)
    deadline_ = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_seconds_);
}

void PgConnecting::fail(const std::string& reason) const {
  throw_connect_failed(*handle_, target_, reason);
}

PendingConnection::Need PgConnecting::poll() {
  if (open_) return Need::nothing;
  // libpq: before the first PQconnectPoll, behave as if it had returned PGRES_POLLING_WRITING.
  if (!started_) {
    started_ = true;
    return Need::write;
  }
  PGconn* conn = handle_->conn();
  switch (PQconnectPoll(conn)) {
  case PGRES_POLLING_READING: return Need::read;
  case PGRES_POLLING_WRITING: return Need::write;
  case PGRES_POLLING_OK: open_ = true; return Need::nothing;
  default: fail(trimmed(PQerrorMessage(conn)));
  }
}

int PgConnecting::socket() const { return PQsocket(handle_->conn()); }

void PgConnecting::throw_timed_out() const {
  fail("timeout expired (connect_timeout " + std::to_string(timeout_seconds_) + " s)");
}

std::unique_ptr<DriverConnection> PgConnecting::finish() {
  if (!open_) throw InvalidStateError("PostgreSQL: finish() before the connect completed");
  open_ = false;
  return std::make_unique<PgConnection>(std::move(handle_));
}

} // namespace retort::postgresql
