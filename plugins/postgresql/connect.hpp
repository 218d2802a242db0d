// PgConnecting: URL and options to libpq keywords, and a connect that does not block.
#pragma once

#include "handle.hpp"

#include <retort/core/options.hpp>
#include <retort/core/url.hpp>
#include <retort/engine/driver.hpp>

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>

namespace retort::postgresql {

/// libpq connection keywords for `url` and `options` (options and query keys override).
std::map<std::string, std::string> connection_parameters(const Url& url, const Options& options);

/// A connect in progress without blocking (PQconnectStartParams, then PQconnectPoll). libpq
/// still resolves a host *name* with a blocking getaddrinfo(); an IP address (or hostaddr)
/// keeps the whole connect off the caller's thread.
class PgConnecting final : public PendingConnection {
public:
  /// Starts connecting; throws OperationalError when libpq refuses at once.
  PgConnecting(const Url& url, const Options& options);

  Need poll() override;
  int socket() const override;
  std::optional<std::chrono::steady_clock::time_point> deadline() const override {
    return deadline_;
  }
  [[noreturn]] void throw_timed_out() const override;
  std::unique_ptr<DriverConnection> finish() override;

private:
  [[noreturn]] void fail(const std::string& reason) const;

  std::shared_ptr<PgHandle> handle_;
  std::string target_;
  int timeout_seconds_ = 0;
  std::optional<std::chrono::steady_clock::time_point> deadline_;
  bool started_ = false;
  bool open_ = false;
};

} // namespace retort::postgresql
