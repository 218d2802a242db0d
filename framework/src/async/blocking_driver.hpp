// Running plans from a coroutine on a driver whose calls block (SQLite).
#pragma once

// Boost 1.74's awaitable.hpp uses std::exchange without including <utility>.
#include <utility>

#include <retort/engine/connection.hpp>
#include <retort/engine/driver.hpp>
#include <retort/engine/transaction.hpp>
#include <retort/orm/plan.hpp>

#include <boost/asio/awaitable.hpp>

#include <exception>
#include <functional>

namespace retort::detail {

/// Turns a driver's waiting for locks off for the object's lifetime, where the driver offers it
/// (DriverConnection::set_waiting()).
class NoWaiting {
public:
  /// Turns `driver`'s waiting off, if it can be.
  explicit NoWaiting(DriverConnection& driver) : driver_(driver), off_(driver.set_waiting(false)) {}
  /// Turns it back on.
  ~NoWaiting() {
    if (off_) driver_.set_waiting(true);
  }
  NoWaiting(const NoWaiting&) = delete;
  NoWaiting& operator=(const NoWaiting&) = delete;
  /// True when waiting is off.
  bool off() const noexcept { return off_; }

private:
  DriverConnection& driver_;
  bool off_;
};

/// What run_on_blocking_driver() asks of its caller.
struct BlockingTarget {
  /// The driver of the connection the plan runs on.
  DriverConnection& driver;
  /// The connection, its transaction begun (an AsyncSession begins lazily, so that BEGIN runs
  /// with the plan). Called again after a call that would have waited.
  std::function<Connection&()> begun;
  /// The transaction to commit after the plan, or nullptr to leave it open.
  std::function<Transaction*()> to_commit;
};

/// Runs `plan` where it costs least: on the calling thread while no call would wait for a lock
/// or for the disk (waiting off: DriverConnection::set_waiting(); a COMMIT only when
/// DriverConnection::commit_cannot_wait()), and from the call that would have waited on a
/// worker thread (a thread hop costs more than a SQLite statement, a wait on the io_context's
/// thread would hold up every other session). Throws what a step throws; the COMMIT's own
/// error is returned, as run_plan_and_commit() does.
boost::asio::awaitable<std::exception_ptr> run_on_blocking_driver(Plan& plan,
                                                                  BlockingTarget target);

} // namespace retort::detail
