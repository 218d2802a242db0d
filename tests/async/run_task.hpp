// Runs one coroutine to completion for a test, on an io_context of its own.
#pragma once

#include <utility>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

namespace async_test {

/// Runs `task` to completion on a fresh io_context (one thread) and returns its result, or
/// rethrows what it threw.
template <typename Task> auto run(Task task) {
  boost::asio::io_context io;
  auto future = boost::asio::co_spawn(io, std::move(task), boost::asio::use_future);
  io.run();
  return future.get();
}

} // namespace async_test
