#include "async_workloads.hpp"

#include "customer_model.hpp"

#include <retort/async/async_session.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <stdexcept>

namespace bench {

namespace {

using retort::AsyncSession;
using retort::col;

// Runs the coroutine `work` makes to its end on an io_context of its own (one thread).
template <typename Work> void run_async(Work& work) {
  boost::asio::io_context io;
  auto done = boost::asio::co_spawn(io, work(), boost::asio::use_future);
  io.run();
  done.get();
}

} // namespace

void async_short_selects(const retort::Engine& engine, const Args& a,
                         std::vector<std::shared_ptr<Customer>>& got) {
  auto work = [&]() -> boost::asio::awaitable<void> {
    for (std::int32_t k = 0; k < a.small_n; ++k) {
      AsyncSession session(engine);
      auto c = co_await session.get<Customer>(select_key(k, a.n));
      if (!c) throw std::runtime_error("get: no row");
      got.push_back(std::move(c));
    }
  };
  run_async(work);
}

void async_single_inserts(const retort::Engine& engine, std::vector<Customer>& input,
                          std::vector<std::shared_ptr<Customer>>& objects) {
  auto work = [&]() -> boost::asio::awaitable<void> {
    for (auto& c : input) {
      AsyncSession session(engine);
      objects.push_back(session.add(std::move(c)));
      co_await session.commit();
    }
  };
  run_async(work);
}

void async_bulk_update(const retort::Engine& engine) {
  auto work = [&]() -> boost::asio::awaitable<void> {
    AsyncSession session(engine);
    std::int32_t last = 0;
    for (;;) {
      auto query = session.query<Customer>();
      query.filter(col(&Customer::id) > last).order_by(col(&Customer::id)).limit(chunk);
      auto batch = co_await session.all(query);
      if (batch.empty()) break;
      for (auto& c : batch)
        c->q += 1;
      co_await session.flush();
      last = batch.back()->id;
    }
    co_await session.commit();
  };
  run_async(work);
}

} // namespace bench
