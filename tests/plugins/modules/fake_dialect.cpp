// A working dialect plugin without a database: connections are CountingConnections. Built twice
// (FAKE_VERSION 1 and 2) so that the tests can tell which copy discovery picked.
#include "counting_connection.hpp"

#include <retort/plugin/spi.hpp>

namespace {

class FakeSqlDialect final : public retort::SqlDialect {
public:
  std::string_view name() const override { return "fake-" FAKE_VERSION; }
  void render_placeholder(std::string& out, std::size_t) const override { out += '?'; }
  std::string type_name(const retort::SqlType&) const override { return "BLOB"; }
  std::string autoincrement_type(const retort::SqlType&) const override { return "INTEGER"; }
  std::size_t max_bound_parameters() const override { return 999; }
};

class FakeDialectPlugin final : public retort::DialectPlugin {
public:
  const retort::SqlDialect& sql_dialect() const override { return dialect_; }
  std::unique_ptr<retort::DriverConnection> connect(const retort::Url&,
                                                    const retort::Options&) const override {
    return std::make_unique<retort::testing::CountingConnection>(counters_);
  }
  std::string default_pool(const retort::Url& url) const override {
    return url.is_memory_database() ? "static" : "queue";
  }

private:
  FakeSqlDialect dialect_;
  std::shared_ptr<retort::testing::ConnectionCounters> counters_ =
      std::make_shared<retort::testing::ConnectionCounters>();
};

} // namespace

RETORT_DIALECT_PLUGIN(FakeDialectPlugin, "fake", FAKE_VERSION, "fake", "fake+one")
