#include <utility>

#include "blocking_call.hpp"
#include "blocking_driver.hpp"

#include <retort/async/checkout.hpp>
#include <retort/async/executor.hpp>
#include <retort/core/error.hpp>
#include <retort/engine/connection.hpp>
#include <retort/engine/nonblocking.hpp>
#include <retort/engine/pipeline.hpp>
#include <retort/engine/transaction.hpp>

#include <boost/asio/async_result.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <exception>
#include <memory>
#include <vector>

namespace retort {

namespace asio = boost::asio;

namespace {

// Waits until the socket is readable or writable, whichever comes first: a pipeline still
// sending must also read, or a server answering faster than we send fills both sockets'
// buffers (a deadlock). Boost 1.74 has no awaitable operators to race two waits, so this is a
// small composed operation: both waits start, the first to finish cancels the other, and the
// caller resumes once both are done (the descriptor is then free to go).
template <typename Token>
auto async_wait_readable_or_writable(asio::posix::stream_descriptor& descriptor, Token&& token) {
  using Signature = void(boost::system::error_code);
  return asio::async_initiate<Token, Signature>(
      [&descriptor](auto handler) {
        using Handler = decltype(handler);
        struct Race {
          explicit Race(Handler h) : handler(std::move(h)) {}
          Handler handler;
          boost::system::error_code first;
          int pending = 2;
        };
        auto race = std::make_shared<Race>(std::move(handler));
        auto done = [race, &descriptor](boost::system::error_code error) {
          if (race->pending == 2) {
            race->first = error;
            boost::system::error_code ignored; // nothing to cancel is not an error here
            descriptor.cancel(ignored);
          }
          if (--race->pending == 0) std::move(race->handler)(race->first);
        };
        descriptor.async_wait(asio::posix::stream_descriptor::wait_read, done);
        descriptor.async_wait(asio::posix::stream_descriptor::wait_write, done);
      },
      token);
}

// Waits for libpq's socket as `wait` asks, with a descriptor made for this one wait: libpq may
// change its socket (reconnects), and Asio must never close it (release() before destruction).
asio::awaitable<void> wait_socket(int socket, SocketWait wait) {
  auto executor = co_await asio::this_coro::executor;
  asio::posix::stream_descriptor descriptor(executor, socket);
  struct Release {
    asio::posix::stream_descriptor& d;
    ~Release() { d.release(); }
  } release{descriptor};
  if (wait == SocketWait::read)
    co_await descriptor.async_wait(asio::posix::stream_descriptor::wait_read, asio::use_awaitable);
  else
    co_await async_wait_readable_or_writable(descriptor, asio::use_awaitable);
}

// Waits, on the io_context, until the connection can take a request without blocking on its
// own unfinished business: the answer to the previous session's ROLLBACK, which the driver
// sent without waiting, would otherwise be read with a blocking call by the next request.
asio::awaitable<void> settle(Connection& connection) {
  NonBlockingConnection* nb = connection.driver().non_blocking();
  while (!nb->settle())
    co_await wait_socket(nb->socket(), SocketWait::read);
}

// Drives `run` to its end on the io_context. Abandoned half-way (the wait failed or the
// coroutine was destroyed), the run marks the connection for the pool to discard.
asio::awaitable<std::vector<Result>> drive(PipelineRun& run) {
  for (SocketWait wait = run.pump(); wait != SocketWait::none; wait = run.pump())
    co_await wait_socket(run.socket(), wait);
  co_return run.finish();
}

// Sends `statements` as one pipeline segment on the settled `connection` and returns their
// results. The first request since checkout (`first`, taken before settle(), which reaches the
// driver directly and so counts as use) that finds the connection lost goes once more on a fresh
// one (Connection::lost_before_use()), checked out without blocking.
asio::awaitable<std::vector<Result>> request(Connection& connection,
                                             std::span<const PipelinedStatement> statements,
                                             Connection::FirstRequest first) {
  std::exception_ptr error;
  try {
    PipelineRun run = connection.start_pipeline(statements);
    co_return co_await drive(run);
  } catch (...) {
    error = std::current_exception();
  }
  if (!connection.lost_before_use(first, error)) std::rethrow_exception(error);
  Connection fresh = co_await connect_async(connection.engine());
  connection.replace_lost(std::move(fresh));
  co_await settle(connection);
  PipelineRun run = connection.start_pipeline(statements);
  co_return co_await drive(run);
}

// Runs the plan's rounds, each one pipeline segment (one round trip, a deferred BEGIN riding
// in the first), until the plan ends (false) or its final step is next (true) when `rounds`
// keeps it for the COMMIT.
asio::awaitable<bool> run_rounds(PlanRounds& rounds, Connection& connection) {
  Connection::FirstRequest first = connection.first_request();
  co_await settle(connection);
  while (rounds.next()) {
    if (rounds.writes_follow()) connection.will_write();
    if (rounds.is_final()) co_return true;
    const Connection::FirstRequest this_round = std::exchange(first, Connection::FirstRequest());
    std::vector<Result> results = co_await request(connection, rounds.statements(), this_round);
    rounds.deliver(results, connection);
  }
  co_return false;
}

// Sends what is queued (a COMMIT), then reads its results to the end marker. Interrupted
// half-way (the wait was cancelled, or the connection failed), the connection is not trusted
// again.
asio::awaitable<void> finish_request(NonBlockingConnection& nb, Connection& connection) {
  std::exception_ptr error;
  try {
    while (!nb.flush()) {
      co_await wait_socket(nb.socket(), SocketWait::read_or_write);
      nb.consume_input();
    }
    for (;;) {
      while (nb.is_busy()) {
        co_await wait_socket(nb.socket(), SocketWait::read);
        nb.consume_input();
      }
      auto result = nb.next_result();
      if (!result) break;
      try {
        result->throw_if_error();
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

// Commits on this thread when the COMMIT cannot wait (a transaction that only read, or SQLite
// in WAL mode without syncs): a thread hop would cost more. Made with waiting off, so that a
// checkpoint the COMMIT would make is left for a worker (DriverConnection::set_waiting()).
bool commit_here(DriverConnection& driver, Transaction& transaction) {
  detail::NoWaiting no_waiting(driver);
  if (!driver.commit_cannot_wait()) return false;
  transaction.commit();
  return true;
}

} // namespace

asio::awaitable<void> run_plan_async(Plan& plan, Connection& connection) {
  if (connection.can_pipeline()) {
    PlanRounds rounds(plan, true, false);
    co_await run_rounds(rounds, connection);
    co_return;
  }
  detail::BlockingTarget target{connection.driver(),
                                [&connection]() -> Connection& { return connection; },
                                []() -> Transaction* { return nullptr; }};
  co_await detail::run_on_blocking_driver(plan, std::move(target));
}

asio::awaitable<std::vector<Result>>
execute_pipeline_async(Connection& connection, std::span<const PipelinedStatement> statements) {
  std::vector<Result> results;
  if (!connection.can_pipeline()) {
    auto work = [&] { results = connection.execute_pipeline(statements); };
    co_await detail::call_on_worker(work);
    co_return results;
  }
  const Connection::FirstRequest first = connection.first_request();
  co_await settle(connection);
  results = co_await request(connection, statements, first);
  co_return results;
}

asio::awaitable<std::exception_ptr> run_plan_and_commit_async(Plan& plan, Connection& connection,
                                                              Transaction& transaction) {
  if (!connection.can_pipeline()) {
    detail::BlockingTarget target{connection.driver(),
                                  [&connection]() -> Connection& { return connection; },
                                  [&transaction]() -> Transaction* { return &transaction; }};
    co_return co_await detail::run_on_blocking_driver(plan, std::move(target));
  }
  PlanRounds rounds(plan, true, true);
  const bool final_is_next = co_await run_rounds(rounds, connection);
  if (!final_is_next) {
    std::exception_ptr commit_error;
    try {
      co_await commit_async(connection, transaction);
    } catch (...) {
      commit_error = std::current_exception();
    }
    co_return commit_error;
  }
  // The final step and COMMIT in one segment: one round trip. As in the blocking executor, a
  // failure here (the statement's, or the COMMIT's) is the flush's: nothing was committed.
  PipelineRun run = connection.start_pipeline_and_commit(rounds.statements(), transaction);
  std::vector<Result> results = co_await drive(run);
  rounds.deliver(results, connection);
  if (rounds.next())
    throw InternalError("a plan produced a step after its final one", "", 0,
                        rounds.steps().front().text());
  co_return nullptr;
}

asio::awaitable<void> commit_async(Connection& connection, Transaction& transaction) {
  DriverConnection& driver = connection.driver();
  NonBlockingConnection* nb = driver.non_blocking();
  if (nb == nullptr && commit_here(driver, transaction)) co_return;
  if (nb == nullptr) {
    auto work = [&transaction] { transaction.commit(); };
    co_await detail::call_on_worker(work);
    co_return;
  }
  co_await settle(connection);
  if (!connection.send_commit(transaction)) co_return;
  try {
    co_await finish_request(*nb, connection);
  } catch (...) {
    connection.commit_failed();
    throw;
  }
}

} // namespace retort
