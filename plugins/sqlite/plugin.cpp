// The SQLite dialect plugin: rendering rules and a driver over libsqlite3, exported under the
// URL schemes sqlite and sqlite+sqlite3.
#include "connection.hpp"
#include "dialect.hpp"

#include <retort/plugin/spi.hpp>

namespace retort::sqlite {

/// The dialect plugin object the loader gets from retort_create_dialect.
class SqliteDialectPlugin final : public DialectPlugin {
public:
  const SqlDialect& sql_dialect() const override { return dialect_; }

  std::unique_ptr<DriverConnection> connect(const Url& url, const Options& options) const override {
    return std::make_unique<SqliteConnection>(url, options);
  }

  void check_options(const Url& url, const Options& options) const override {
    check_settings(url, options);
  }

  // Every connection to :memory: is a separate empty database, so memory engines must keep
  // exactly one connection.
  std::string default_pool(const Url& url) const override {
    return is_memory(url) ? "static" : "queue";
  }

private:
  SqliteDialect dialect_;
};

} // namespace retort::sqlite

RETORT_DIALECT_PLUGIN(retort::sqlite::SqliteDialectPlugin, "sqlite", "0.1.0", "sqlite",
                      "sqlite+sqlite3")
