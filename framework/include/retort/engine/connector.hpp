// The engine layer's view of a database backend: its SQL dialect and how to open connections to
// it, blocking and non-blocking. A dialect plugin implements it (plugin/spi.hpp); the engine and
// the async checkout know only this interface, not how the backend was found or loaded.
#pragma once

#include <retort/core/export.hpp>
#include <retort/core/options.hpp>
#include <retort/core/url.hpp>
#include <retort/engine/driver.hpp>

#include <memory>

namespace retort {

class SqlDialect;

/// What a driver must offer an Engine: rendering rules and connections.
class RETORT_API Connector {
public:
  virtual ~Connector();
  /// Rendering rules.
  virtual const SqlDialect& sql_dialect() const = 0;
  /// Opens a connection to `url`; throws OperationalError (password masked) on failure.
  virtual std::unique_ptr<DriverConnection> connect(const Url& url,
                                                    const Options& options) const = 0;
  /// Starts opening a connection without blocking, or nullptr when the driver cannot (then
  /// connect() runs where blocking harms no one, e.g. a worker thread).
  virtual std::unique_ptr<PendingConnection> start_connect(const Url& url,
                                                           const Options& options) const {
    (void)url;
    (void)options;
    return nullptr;
  }
};

} // namespace retort
