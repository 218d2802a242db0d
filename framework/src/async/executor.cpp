#include <utility>

#include <retort/async/executor.hpp>
#include <retort/core/error.hpp>
#include <retort/engine/connection.hpp>
#include <retort/engine/nonblocking.hpp>
#include <retort/engine/transaction.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <exception>

namespace retort {

namespace asio = boost::asio;

namespace {

// Waits for libpq's socket with a descriptor made for this one wait: libpq may change its
// socket (reconnects), and Asio must never close it (release() before destruction).
asio::awaitable<void> wait_socket(NonBlockingConnection& nb,
                                  asio::posix::stream_descriptor::wait_type type) {
  auto executor = co_await asio::this_coro::executor;
  asio::posix::stream_descriptor descriptor(executor, nb.socket());
  struct Release {
    asio::posix::stream_descriptor& d;
    ~Release() { d.release(); }
  } release{descriptor};
  co_await descriptor.async_wait(type, asio::use_awaitable);
}

asio::awaitable<void> send_all(NonBlockingConnection& nb) {
  while (!nb.flush()) {
    co_await wait_socket(nb, asio::posix::stream_descriptor::wait_write);
    nb.consume_input();
  }
}

asio::awaitable<std::unique_ptr<NonBlockingResult>> next_result(NonBlockingConnection& nb) {
  while (nb.is_busy()) {
    co_await wait_socket(nb, asio::posix::stream_descriptor::wait_read);
    nb.consume_input();
  }
  co_return nb.next_result();
}

// Hands one result's rows (and generated key) to the step's sink.
void deliver(PlanStep& step, NonBlockingResult& result, DriverConnection& driver) {
  while (result.step())
    step.sink->row(result);
  if (step.want_last_insert_id)
    if (auto id = driver.last_insert_id()) step.sink->last_insert_id(*id);
  step.sink->done(result.rows_affected());
}

// Sends what is queued, then reads its results to the end marker, so that the connection is
// clean even when the statement failed; rows go to `step`'s sink, when there is one. Throws
// the first error. Interrupted half-way (the wait was cancelled, or the connection failed),
// results are left unread: the connection is not trusted again.
asio::awaitable<void> finish_request(NonBlockingConnection& nb, Connection& connection,
                                     PlanStep* step) {
  std::exception_ptr error;
  try {
    co_await send_all(nb);
    while (auto result = co_await next_result(nb)) {
      try {
        result->throw_if_error();
        if (step != nullptr && step->sink != nullptr) deliver(*step, *result, connection.driver());
      } catch (...) {
        if (!error) error = std::current_exception();
      }
    }
  } catch (...) {
    connection.invalidate();
    // A statement's own error says more than the interruption that followed it.
    if (error) std::rethrow_exception(error);
    throw;
  }
  if (error) std::rethrow_exception(error);
}

asio::awaitable<void> run_non_blocking(Plan& plan, Connection& connection,
                                       NonBlockingConnection& nb) {
  PlanStep step;
  // A plan with no statement sends nothing, not even its transaction's BEGIN.
  if (!plan.next(step)) co_return;
  try {
    // A deferred BEGIN would otherwise go out as a blocking round trip before the first step.
    if (nb.send_begin()) co_await finish_request(nb, connection, nullptr);
    do {
      nb.send_query(step.text(), step.params);
      co_await finish_request(nb, connection, &step);
      step.reset();
    } while (plan.next(step));
  } catch (...) {
    // A statement that failed because the connection did is not tried on it again.
    if (!connection.driver().is_valid()) connection.invalidate();
    throw;
  }
}

} // namespace

asio::any_io_executor blocking_workers() {
  // Two threads: enough to overlap SQLite work with the io_context, few enough not to compete
  // with it on a small machine; each session's plans run one at a time anyway.
  static asio::thread_pool pool(2);
  return pool.get_executor();
}

namespace {

// Runs `work` (blocking driver calls) on a worker thread; the caller resumes on its own
// executor. `work` is a named local of the caller: g++ 12 destroys a lambda temporary in a
// co_await expression twice (TOOLCHAIN.md §9).
template <typename Work> asio::awaitable<void> on_worker(Work& work) {
  auto task = [&work]() -> asio::awaitable<void> {
    work();
    co_return;
  };
  co_await asio::co_spawn(blocking_workers(), task, asio::use_awaitable);
}

} // namespace

asio::awaitable<void> run_plan_async(Plan& plan, Connection& connection) {
  if (NonBlockingConnection* nb = connection.driver().non_blocking()) {
    co_await run_non_blocking(plan, connection, *nb);
    co_return;
  }
  // A whole plan goes to a worker at once.
  auto work = [&plan, &connection] { run_plan(plan, connection); };
  co_await on_worker(work);
}

asio::awaitable<void> commit_async(Connection& connection, Transaction& transaction) {
  NonBlockingConnection* nb = connection.driver().non_blocking();
  if (nb == nullptr) {
    auto work = [&transaction] { transaction.commit(); };
    co_await on_worker(work);
    co_return;
  }
  if (!connection.send_commit(transaction)) co_return;
  try {
    co_await finish_request(*nb, connection, nullptr);
  } catch (...) {
    connection.commit_failed();
    throw;
  }
}

} // namespace retort
