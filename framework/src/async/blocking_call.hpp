// Running a blocking call on the async layer's worker threads from a coroutine.
#pragma once

// Boost 1.74's awaitable.hpp uses std::exchange without including <utility>.
#include <utility>

#include "worker_threads.hpp"

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <exception>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>

namespace retort::detail {

/// A blocking call and what came of it, shared by the waiting coroutine and the worker.
template <typename Work> struct BlockingCall {
  using Result = std::invoke_result_t<Work&>;
  using Outcome = std::conditional_t<std::is_void_v<Result>, bool, std::optional<Result>>;

  explicit BlockingCall(Work w) : work(std::move(w)) {}
  /// Runs the call, keeping its result or its exception.
  void run() noexcept {
    try {
      if constexpr (std::is_void_v<Result>) {
        work();
        outcome = true;
      } else {
        outcome.emplace(work());
      }
    } catch (...) {
      error = std::current_exception();
    }
  }

  Work work;
  Outcome outcome{};
  std::exception_ptr error;
};

/// The worker's side of a call: runs it, then posts the waiting coroutine's completion to the
/// coroutine's executor. The executor is held tracked, so the io_context counts the call as work
/// under way: its run() does not return, and it is not destroyed, while the worker still has to
/// post back.
template <typename Call, typename Handler, typename Executor>
class WorkerCall final : public WorkerTask {
public:
  WorkerCall(std::shared_ptr<Call> call, Handler handler, Executor executor)
      : call_(std::move(call)), handler_(std::move(handler)), executor_(std::move(executor)) {}
  void run() noexcept override {
    call_->run();
    boost::asio::post(executor_, std::move(handler_));
  }

private:
  std::shared_ptr<Call> call_;
  Handler handler_;
  Executor executor_;
};

/// Runs `work` (blocking driver calls) on a worker thread (see WorkerThreads: it never waits for
/// one) and returns its result; the caller resumes on its own executor. `work` travels with the
/// task: a caller that is destroyed meanwhile leaves nothing behind that the worker still uses.
/// Pass a named local: g++ 12 destroys a lambda temporary in a co_await expression twice
/// (TOOLCHAIN.md §9).
template <typename Work>
boost::asio::awaitable<std::invoke_result_t<Work&>> call_on_worker(Work& work) {
  using Call = BlockingCall<Work>;
  auto call = std::make_shared<Call>(std::move(work));
  auto initiate = [call](auto handler) {
    auto executor = boost::asio::prefer(boost::asio::get_associated_executor(handler),
                                        boost::asio::execution::outstanding_work.tracked);
    using Task = WorkerCall<Call, decltype(handler), decltype(executor)>;
    worker_threads().submit(std::make_unique<Task>(call, std::move(handler), std::move(executor)));
  };
  co_await boost::asio::async_initiate<const boost::asio::use_awaitable_t<>&, void()>(
      initiate, boost::asio::use_awaitable);
  if (call->error) std::rethrow_exception(call->error);
  if constexpr (!std::is_void_v<typename Call::Result>) co_return std::move(*call->outcome);
}

} // namespace retort::detail
