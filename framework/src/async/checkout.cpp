#include "blocking_call.hpp"

#include <retort/async/checkout.hpp>
#include <retort/core/error.hpp>
#include <retort/engine/connector.hpp>
#include <retort/engine/pool.hpp>

#include <boost/asio/async_result.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <memory>
#include <mutex>

namespace retort {

namespace asio = boost::asio;

namespace {

using Clock = std::chrono::steady_clock;
using ErrorCode = boost::system::error_code;

// The pool's wake-up for one waiting checkout. The pool raises it on whatever thread gave a
// connection back, so the timer the coroutine waits on is touched only under the mutex: the
// coroutine arms it there, a raise cancels it there, and disarming before the timer goes away
// means a late raise finds nothing to touch.
class WakeSignal {
public:
  void raise() {
    std::lock_guard lock(mutex_);
    raised_ = true;
    if (timer_ != nullptr) timer_->cancel();
  }
  // Starts the wait on `timer` for `handler`; a raise already in makes it complete at once.
  template <typename Handler> void arm(asio::steady_timer& timer, Handler handler) {
    std::lock_guard lock(mutex_);
    timer_ = &timer;
    if (raised_) timer.expires_at(Clock::time_point{});
    auto executor = asio::get_associated_executor(handler, timer.get_executor());
    timer.async_wait(asio::bind_executor(
        executor, [handler = std::move(handler)](const ErrorCode&) mutable { handler(); }));
  }
  // Ends a wait; true when it ended because of a raise (which is consumed).
  bool disarm() noexcept {
    std::lock_guard lock(mutex_);
    timer_ = nullptr;
    return std::exchange(raised_, false);
  }

private:
  std::mutex mutex_;
  bool raised_ = false;
  asio::steady_timer* timer_ = nullptr;
};

// Waits until `signal` is raised or `timer` expires; true when raised.
asio::awaitable<bool> woken_before_deadline(WakeSignal& signal, asio::steady_timer& timer) {
  auto start = [&signal, &timer](auto handler) { signal.arm(timer, std::move(handler)); };
  co_await asio::async_initiate<decltype(asio::use_awaitable), void()>(start, asio::use_awaitable);
  co_return signal.disarm();
}

// Pings an idle connection the pool hands out with pre_ping. The ping is a blocking round
// trip, so it runs on a worker thread, never on the caller's event loop; the connection goes
// with it, so that a caller destroyed meanwhile does not leave the worker a dangling one. A
// dead connection goes back to the pool invalidated (closed, its slot freed): the result is
// then empty.
asio::awaitable<PooledConnection> pinged(PooledConnection pooled) {
  auto work = [pooled = std::move(pooled)]() mutable {
    if (!pooled->ping()) {
      pooled.invalidate();
      pooled.release();
    }
    return std::move(pooled);
  };
  co_return co_await detail::call_on_worker(work);
}

// What a non-blocking connect waits for: the socket of the current step, and whether the
// driver's connect timeout expired. Shared with the timer's handler, which may run after the
// step (or the whole connect) is over.
struct ConnectWatch {
  asio::posix::stream_descriptor* descriptor = nullptr;
  bool expired = false;
};

// Waits until the connect's socket is ready for `need`. The descriptor is made for this step
// (libpq may move to another socket between polls) and released, never closed: libpq owns it.
asio::awaitable<void> socket_ready(PendingConnection& pending, PendingConnection::Need need,
                                   ConnectWatch& watch) {
  const int socket = pending.socket();
  if (socket < 0)
    throw OperationalError("connect: the driver has no socket to wait on", "08001", 0, "");
  auto executor = co_await asio::this_coro::executor;
  asio::posix::stream_descriptor descriptor(executor, socket);
  struct Release {
    asio::posix::stream_descriptor& descriptor;
    ConnectWatch& watch;
    ~Release() {
      watch.descriptor = nullptr;
      descriptor.release();
    }
  } release{descriptor, watch};
  watch.descriptor = &descriptor;
  const auto type = need == PendingConnection::Need::read
                        ? asio::posix::stream_descriptor::wait_read
                        : asio::posix::stream_descriptor::wait_write;
  ErrorCode error;
  co_await descriptor.async_wait(type, asio::redirect_error(asio::use_awaitable, error));
  // A failed wait needs no handling of its own: the next poll() reports what went wrong.
}

// Opens a connection without blocking the thread: every poll step's socket is watched by the
// caller's event loop, within the driver's connect timeout. Given up (an exception, or the
// coroutine destroyed), `pending` closes the half-open connection.
asio::awaitable<std::unique_ptr<DriverConnection>> connect_polling(PendingConnection& pending) {
  auto executor = co_await asio::this_coro::executor;
  auto watch = std::make_shared<ConnectWatch>();
  asio::steady_timer timer(executor);
  if (auto deadline = pending.deadline()) {
    timer.expires_at(*deadline);
    timer.async_wait([watch](const ErrorCode& error) {
      if (error) return;
      watch->expired = true;
      if (watch->descriptor != nullptr) watch->descriptor->cancel();
    });
  }
  for (;;) {
    const auto need = pending.poll();
    if (need == PendingConnection::Need::nothing) co_return pending.finish();
    if (watch->expired) pending.throw_timed_out();
    co_await socket_ready(pending, need, *watch);
    if (watch->expired) pending.throw_timed_out();
  }
}

// A new driver connection for a slot of the pool.
asio::awaitable<std::unique_ptr<DriverConnection>> open_connection(const Engine& engine) {
  auto pending = engine.connector().start_connect(engine.url(), engine.dialect_options());
  if (pending) co_return co_await connect_polling(*pending);
  // No non-blocking connect (SQLite): opening may touch the disk and wait for locks (the
  // plugin reads the schema), so it runs on a worker thread as the driver's statements do.
  auto work = [engine] {
    return engine.connector().connect(engine.url(), engine.dialect_options());
  };
  co_return co_await detail::call_on_worker(work);
}

} // namespace

asio::awaitable<Connection> connect_async(Engine engine) {
  Pool& pool = engine.pool();
  const auto deadline = Clock::now() + pool.checkout_timeout();
  auto signal = std::make_shared<WakeSignal>();
  auto executor = co_await asio::this_coro::executor;
  asio::steady_timer timer(executor);
  // Declared after the timer, so it runs first when the coroutine is destroyed mid-wait.
  struct Disarm {
    WakeSignal& signal;
    ~Disarm() { signal.disarm(); }
  } disarm{*signal};
  // The registered wait, if any; deregistered when replaced or destroyed.
  PoolWait wait;
  for (;;) {
    CheckoutWake wake = [signal] { signal->raise(); };
    CheckoutAttempt attempt = pool.try_checkout(std::move(wake));
    // A wait that was woken is dropped only now, after this attempt took what woke it.
    wait = std::move(attempt.wait);
    if (attempt.connection) {
      if (attempt.ping_first) attempt.connection = co_await pinged(std::move(attempt.connection));
      // A connection that failed its ping is closed and its slot free: try again.
      if (attempt.connection) co_return Connection(engine, std::move(attempt.connection));
      continue;
    }
    if (attempt.slot) {
      // If the connect fails or the coroutine is destroyed, the slot goes back unfilled.
      auto opened = co_await open_connection(engine);
      co_return Connection(engine, attempt.slot.fill(std::move(opened)));
    }
    timer.expires_at(deadline);
    const bool woken = co_await woken_before_deadline(*signal, timer);
    if (!woken) pool.throw_checkout_timeout();
  }
}

} // namespace retort
