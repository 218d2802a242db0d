// The PostgreSQL dialect plugin: rendering rules and a driver over libpq, exported under the URL
// schemes postgresql and postgresql+libpq.
#include "connect.hpp"
#include "connection.hpp"
#include "dialect.hpp"

#include <retort/plugin/spi.hpp>

namespace retort::postgresql {

/// The dialect plugin object the loader gets from retort_create_dialect.
class PgDialectPlugin final : public DialectPlugin {
public:
  const SqlDialect& sql_dialect() const override { return dialect_; }

  void check_options(const Url& url, const Options& options) const override {
    (void)connection_parameters(url, options);
  }

  std::unique_ptr<DriverConnection> connect(const Url& url, const Options& options) const override {
    return std::make_unique<PgConnection>(url, options);
  }

  std::unique_ptr<PendingConnection> start_connect(const Url& url,
                                                   const Options& options) const override {
    return std::make_unique<PgConnecting>(url, options);
  }

  std::string default_pool(const Url&) const override { return "queue"; }

private:
  PgDialect dialect_;
};

} // namespace retort::postgresql

RETORT_DIALECT_PLUGIN(retort::postgresql::PgDialectPlugin, "postgresql", "0.1.0", "postgresql",
                      "postgresql+libpq")
