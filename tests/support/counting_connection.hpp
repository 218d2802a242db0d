// A driver connection without a database, for pool tests at unit level: it counts opens,
// closes, pings and rollbacks, and can be told to fail its ping or become invalid by id.
#pragma once

#include <retort/core/error.hpp>
#include <retort/engine/driver.hpp>
#include <retort/engine/pool.hpp>
#include <retort/plugin/registry.hpp>

#include <atomic>
#include <memory>
#include <mutex>
#include <set>
#include <string>

namespace retort::testing {

/// Shared by every CountingConnection a factory makes.
struct ConnectionCounters {
  std::atomic<int> opened{0};
  std::atomic<int> closed{0};
  std::atomic<int> pings{0};
  std::atomic<int> rollbacks{0};
  /// Calls of check_alive(), the look at the socket (none of is_valid(), which does no I/O).
  std::atomic<int> alive_checks{0};

  /// Ids whose ping() fails from now on.
  void kill(int id) {
    std::lock_guard lock(mutex);
    dead.insert(id);
  }
  /// Ids whose is_valid() is false from now on.
  void break_connection(int id) {
    std::lock_guard lock(mutex);
    broken.insert(id);
  }
  bool is_dead(int id) const {
    std::lock_guard lock(mutex);
    return dead.count(id) != 0;
  }
  bool is_broken(int id) const {
    std::lock_guard lock(mutex);
    return broken.count(id) != 0;
  }
  /// Ids whose server closed them: check_alive() finds out, is_valid() cannot.
  void close_by_server(int id) {
    std::lock_guard lock(mutex);
    closed_by_server.insert(id);
  }
  bool is_closed_by_server(int id) const {
    std::lock_guard lock(mutex);
    return closed_by_server.count(id) != 0;
  }

private:
  mutable std::mutex mutex;
  std::set<int> dead;
  std::set<int> broken;
  std::set<int> closed_by_server;
};

/// A connection that talks to nothing; ids count from 1 in opening order.
class CountingConnection final : public DriverConnection {
public:
  explicit CountingConnection(std::shared_ptr<ConnectionCounters> counters)
      : counters_(std::move(counters)), id_(++counters_->opened) {}
  ~CountingConnection() override {
    clear_statement_cache();
    ++counters_->closed;
  }

  int id() const { return id_; }
  /// Set while a holder has it, to catch a pool handing one connection to two holders.
  std::atomic<bool> in_use{false};

  std::unique_ptr<DriverStatement> prepare(const std::string& sql) override {
    throw NotSupportedError("CountingConnection cannot prepare", "", 0, sql);
  }
  void execute(const std::string&) override {}
  void begin() override { in_transaction_ = true; }
  void commit() override { in_transaction_ = false; }
  void rollback() override {
    ++counters_->rollbacks;
    in_transaction_ = false;
  }
  bool in_transaction() const override { return in_transaction_; }
  bool ping() override {
    ++counters_->pings;
    return !counters_->is_dead(id_);
  }
  bool is_valid() const override { return !counters_->is_broken(id_); }
  bool check_alive() override {
    ++counters_->alive_checks;
    return is_valid() && !counters_->is_closed_by_server(id_);
  }

private:
  std::shared_ptr<ConnectionCounters> counters_;
  int id_;
  bool in_transaction_ = false;
};

/// A factory making CountingConnections that report to `counters`.
inline ConnectionFactory counting_factory(std::shared_ptr<ConnectionCounters> counters) {
  return [counters] { return std::make_unique<CountingConnection>(counters); };
}

/// The CountingConnection behind a pooled connection.
inline CountingConnection& counting(const PooledConnection& pooled) {
  return dynamic_cast<CountingConnection&>(*pooled);
}

/// Pools of counted connections, made by the pool plugin named `kind`, for TEST_CASE_METHOD.
struct PoolFixture {
  std::shared_ptr<ConnectionCounters> counters = std::make_shared<ConnectionCounters>();

  /// A pool of the plugin `kind` with `options`, opening counted connections.
  std::shared_ptr<Pool> make(const std::string& kind, PoolOptions options) {
    options.kind = kind;
    return PluginRegistry::instance().pool(kind)->create_pool(options, counting_factory(counters));
  }
  /// A counted connection opened by the test itself (to fill a reserved slot).
  std::unique_ptr<DriverConnection> new_connection() {
    return std::make_unique<CountingConnection>(counters);
  }
};

} // namespace retort::testing
