// The one implementation of pooling that the pool plugins configure: a bounded set of
// connections with overflow, checkout timeout, recycle, idle timeout, pre-ping, reset on return
// and LIFO/FIFO order. Validation and reset of connections live here and nowhere else.
#pragma once

#include <retort/core/export.hpp>
#include <retort/engine/pool.hpp>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace retort {

/// A thread-safe pool: `size` connections kept, up to `max_overflow` more under load (-1: no
/// limit), closed again when returned. Create it with std::make_shared.
class RETORT_API BasicPool : public Pool {
public:
  /// `kind` names the pool in errors ("queue", "static", ...). Throws ArgumentError for limits
  /// that could never hand out a connection.
  BasicPool(std::string kind, PoolOptions options, ConnectionFactory factory);
  /// Closes the idle connections.
  ~BasicPool() override;

  /// An idle connection that is alive (DriverConnection::check_alive(), no round trip) and
  /// passes the recycle, idle-timeout and pre-ping checks, or a new one
  /// while size + max_overflow allows; otherwise waits up to the timeout, then PoolTimeout.
  PooledConnection checkout() override;
  /// Rolls back an open transaction (reset_on_return), then keeps the connection or closes it
  /// (invalidated, invalid by DriverConnection::is_valid(), which does no I/O, beyond `size`,
  /// or opened before dispose()).
  void checkin(std::unique_ptr<DriverConnection> connection, ConnectionRecord record,
               bool invalidated) noexcept override;
  /// Current counters.
  PoolStatus status() const override;
  /// Closes idle connections now and checked-out ones when they come back.
  void dispose() noexcept override;

  /// The non-blocking checkout (see Pool): the same limits, order and checks as checkout(),
  /// except pre_ping, which is left to the caller (CheckoutAttempt::ping_first) because a
  /// blocking ping here would stall an event loop.
  CheckoutAttempt try_checkout(CheckoutWake wake) override;
  /// PoolOptions::timeout.
  std::chrono::milliseconds checkout_timeout() const override { return options_.timeout; }
  /// Throws PoolTimeout naming the pool's limits and timeout.
  [[noreturn]] void throw_checkout_timeout() const override;

  /// The options in force.
  const PoolOptions& options() const noexcept { return options_; }
  /// A blocking checkout that would wait while the calling thread itself holds every connection
  /// out throws PoolTimeout at once instead (for the static pool: its one connection, held by
  /// another session of the waiting thread, would come back only by a timeout). Off by default:
  /// a connection may be handed to another thread, which can return it.
  void refuse_waits_on_own_thread(bool on) noexcept { refuse_self_waits_ = on; }

protected:
  PooledConnection fill_slot(std::unique_ptr<DriverConnection> connection) override;
  void release_slot() noexcept override { give_back_slot(); }
  void cancel_wait(std::uint64_t id) noexcept override;

private:
  struct Idle {
    std::unique_ptr<DriverConnection> connection;
    ConnectionRecord record;
  };
  bool unlimited() const noexcept { return options_.max_overflow < 0; }
  bool has_room() const noexcept;
  // Whether a connection can be too old at all: most pools set no limit, and then the clock is
  // never read.
  bool has_age_limit() const noexcept { return options_.recycle || options_.idle_timeout; }
  bool is_stale(const ConnectionRecord& record) const;
  // Waits, with mutex_ held through `lock`, until a connection is idle or there is room for a
  // new one; throws PoolTimeout after the pool's timeout.
  void wait_for_room(std::unique_lock<std::mutex>& lock);
  std::unique_ptr<DriverConnection> open(ConnectionRecord& record);
  void note_opened(ConnectionRecord& record);
  // Moves the next idle connection (by the LIFO/FIFO order) into `into`.
  void take_idle_locked(Idle& into);
  std::unique_ptr<DriverConnection> usable_or_null(Idle& idle, bool ping);
  void give_back_slot() noexcept;
  CheckoutWake next_waiter_locked();
  void wake(CheckoutWake& waiter, bool notify_blocked) noexcept;

  // Blocking checkouts by thread (see ConnectionRecord::holder), to find a wait that only a
  // timeout could end; a short list, as few threads hold connections of one pool at once.
  void hold_locked(std::uintptr_t holder, int change);
  [[noreturn]] void throw_self_deadlock() const;

  // A waiting non-blocking checkout.
  struct Waiter {
    std::uint64_t id;
    CheckoutWake wake;
  };

  // Declared first so that it is destroyed last: idle connections may need the dialect plugin
  // the factory keeps loaded.
  ConnectionFactory factory_;
  std::string kind_;
  PoolOptions options_;

  mutable std::mutex mutex_;
  std::condition_variable freed_;
  std::deque<Idle> idle_;
  int checked_out_ = 0;
  int waiters_ = 0;
  // Non-blocking checkouts waiting, woken in the order they came.
  std::deque<Waiter> async_waiters_;
  std::uint64_t last_waiter_id_ = 0;
  std::vector<std::pair<std::uintptr_t, int>> holders_;
  bool refuse_self_waits_ = false;
  std::uint64_t opened_ = 0;
  std::uint64_t discarded_ = 0;
  std::chrono::steady_clock::time_point disposed_at_{};
};

} // namespace retort
