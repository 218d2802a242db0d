// Running a blocking call on the async layer's worker threads from a coroutine.
#pragma once

#include <retort/async/executor.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <type_traits>
#include <utility>

namespace retort::detail {

/// Runs `work` (blocking driver calls) on a worker thread and returns its result; the caller
/// resumes on its own executor. `work` travels with the task: a caller that is destroyed
/// meanwhile leaves nothing behind that the worker still uses. Pass a named local: g++ 12
/// destroys a lambda temporary in a co_await expression twice (TOOLCHAIN.md §9).
template <typename Work>
boost::asio::awaitable<std::invoke_result_t<Work&>> call_on_worker(Work& work) {
  using Result = std::invoke_result_t<Work&>;
  auto task = [work = std::move(work)]() mutable -> boost::asio::awaitable<Result> {
    co_return work();
  };
  co_return co_await boost::asio::co_spawn(blocking_workers(), std::move(task),
                                           boost::asio::use_awaitable);
}

} // namespace retort::detail
