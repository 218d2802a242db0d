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
  /// Checkouts waiting for a connection, blocking or not.
  int waiting = 0;
};

/// Bookkeeping a pool keeps next to each connection.
struct ConnectionRecord {
  std::chrono::steady_clock::time_point created{};
  std::chrono::steady_clock::time_point returned{};
  bool overflow = false;
  /// The thread that checked the connection out with a blocking checkout (a number the pool
  /// chose), 0 for other checkouts: a blocking wait for a connection that only the waiting
  /// thread holds could only end in a timeout.
  std::uintptr_t holder = 0;
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

/// A slot a pool reserved for a connection the caller opens itself (Pool::try_checkout()); the
/// slot goes back to the pool when this is destroyed unfilled (the open failed or was abandoned).
class RETORT_API PoolSlot {
public:
  PoolSlot() = default;
  /// Made by pools only.
  explicit PoolSlot(std::shared_ptr<Pool> pool) noexcept : pool_(std::move(pool)) {}
  PoolSlot(PoolSlot&&) noexcept = default;
  PoolSlot& operator=(PoolSlot&& other) noexcept;
  ~PoolSlot() { release(); }

  /// True while a slot is held.
  explicit operator bool() const noexcept { return pool_ != nullptr; }
  /// Puts a connection opened for this slot in it and hands it out.
  PooledConnection fill(std::unique_ptr<DriverConnection> connection);
  /// Gives the slot back unfilled now.
  void release() noexcept;

private:
  std::shared_ptr<Pool> pool_;
};

/// A waiter a pool registered (Pool::try_checkout()); deregistered when cancelled or destroyed.
class RETORT_API PoolWait {
public:
  PoolWait() = default;
  /// Made by pools only.
  PoolWait(std::shared_ptr<Pool> pool, std::uint64_t id) noexcept
      : pool_(std::move(pool)), id_(id) {}
  PoolWait(PoolWait&&) noexcept = default;
  PoolWait& operator=(PoolWait&& other) noexcept;
  ~PoolWait() { cancel(); }

  /// True while a wait is registered (or its wake-up may be on its way).
  explicit operator bool() const noexcept { return pool_ != nullptr; }
  /// Deregisters the wait. A wake-up already under way is passed on to another waiter.
  void cancel() noexcept;

private:
  std::shared_ptr<Pool> pool_;
  std::uint64_t id_ = 0;
};

/// A one-shot wake-up for a waiting non-blocking checkout: called once, on whatever thread gave
/// a connection or a slot back (or disposed the pool), outside the pool's lock. The waiter then
/// calls try_checkout() again. It must not block.
using CheckoutWake = std::function<void()>;

/// What Pool::try_checkout() did: exactly one of `connection`, `slot` and `wait` is set.
struct RETORT_API CheckoutAttempt {
  CheckoutAttempt() = default;
  /// An idle connection that passed the pool's checks (validity, recycle, idle timeout).
  PooledConnection connection;
  /// Set with `connection` when the pool pings at checkout (pre_ping): the caller pings it
  /// before use, where the round trip cannot stall it, and invalidates it when dead.
  bool ping_first = false;
  /// A slot for a new connection: the caller opens one and fills the slot.
  PoolSlot slot;
  /// Neither was free: `wake` is registered until this wait is cancelled or destroyed.
  PoolWait wait;
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

  /// The non-blocking checkout: never waits and never opens a connection. Atomically hands out
  /// an idle connection, or reserves a slot for one the caller opens, or registers `wake`.
  virtual CheckoutAttempt try_checkout(CheckoutWake wake) = 0;
  /// How long a checkout may wait for a free connection.
  virtual std::chrono::milliseconds checkout_timeout() const = 0;
  /// Throws the PoolTimeout that checkout() throws when no connection became free in time.
  [[noreturn]] virtual void throw_checkout_timeout() const = 0;

protected:
  friend class PoolSlot;
  friend class PoolWait;
  /// Hands out `connection`, opened by the caller for a slot of try_checkout().
  virtual PooledConnection fill_slot(std::unique_ptr<DriverConnection> connection) = 0;
  /// Takes back a slot of try_checkout() that was not filled.
  virtual void release_slot() noexcept = 0;
  /// Deregisters the waiter `id` of try_checkout(); if its wake-up was already sent, passes it
  /// on to another waiter, so that what woke it is not left unclaimed.
  virtual void cancel_wait(std::uint64_t id) noexcept = 0;
};

} // namespace retort
