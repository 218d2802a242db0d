// The pool SPI: how connections are held. A pool plugin implements Pool; the engine asks it for
// a connection and gives it back through PooledConnection's destructor.
#pragma once

#include <retort/core/export.hpp>
#include <retort/engine/driver.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace retort {

/// Opens a new driver connection; handed to a pool by the engine.
using ConnectionFactory = std::function<std::unique_ptr<DriverConnection>()>;

/// Pool settings, the union of what SQLAlchemy and others offer.
struct PoolOptions {
  /// Pool plugin name: "queue", "null", "static", ...; empty picks the dialect's default.
  std::string kind;
  /// Connections kept open.
  int size = 5;
  /// Connections opened beyond `size` under load, closed when returned.
  int max_overflow = 10;
  /// How long checkout waits for a free connection before PoolTimeout.
  std::chrono::milliseconds timeout{30'000};
  /// Connections older than this are replaced at checkout.
  std::optional<std::chrono::milliseconds> recycle;
  /// Connections idle longer than this are closed at checkout.
  std::optional<std::chrono::milliseconds> idle_timeout;
  /// Ping each connection at checkout and replace it when dead.
  bool pre_ping = false;
  /// Roll back any open transaction when a connection is returned.
  bool reset_on_return = true;
  /// Hand out the most recently returned connection first (LIFO) instead of the oldest (FIFO).
  bool lifo = false;
};

/// Counters describing a pool, for tests and monitoring.
struct PoolStatus {
  int checked_out = 0;
  int idle = 0;
  int overflow = 0;
  std::uint64_t opened = 0;
  std::uint64_t discarded = 0;
};

/// Bookkeeping a pool keeps next to each connection.
struct ConnectionRecord {
  std::chrono::steady_clock::time_point created{};
  std::chrono::steady_clock::time_point returned{};
  bool overflow = false;
};

class Pool;

/// A checked-out connection; returns it to its pool when destroyed.
class RETORT_API PooledConnection {
public:
  PooledConnection() = default;
  /// Made by pools only.
  PooledConnection(std::shared_ptr<Pool> pool, std::unique_ptr<DriverConnection> connection,
                   ConnectionRecord record);
  PooledConnection(PooledConnection&&) noexcept = default;
  PooledConnection& operator=(PooledConnection&& other) noexcept;
  ~PooledConnection();

  /// The driver connection.
  DriverConnection& operator*() const { return *connection_; }
  /// The driver connection.
  DriverConnection* operator->() const { return connection_.get(); }
  /// True while a connection is held.
  explicit operator bool() const noexcept { return connection_ != nullptr; }
  /// Marks the connection broken: it is closed instead of returned.
  void invalidate() noexcept { invalidated_ = true; }
  /// Returns the connection to the pool now.
  void release() noexcept;

private:
  std::shared_ptr<Pool> pool_;
  std::unique_ptr<DriverConnection> connection_;
  ConnectionRecord record_{};
  bool invalidated_ = false;
};

/// A pool of driver connections. Thread-safe.
class RETORT_API Pool : public std::enable_shared_from_this<Pool> {
public:
  virtual ~Pool();
  /// Hands out a usable connection, waiting at most the pool's timeout; throws PoolTimeout.
  virtual PooledConnection checkout() = 0;
  /// Takes a connection back; `invalidated` or an invalid connection is closed, not kept.
  virtual void checkin(std::unique_ptr<DriverConnection> connection, ConnectionRecord record,
                       bool invalidated) noexcept = 0;
  /// Current counters.
  virtual PoolStatus status() const = 0;
  /// Closes every idle connection; checked-out ones are closed when returned.
  virtual void dispose() noexcept = 0;
};

} // namespace retort
