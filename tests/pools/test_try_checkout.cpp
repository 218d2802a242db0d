// The non-blocking checkout of the pool SPI (Pool::try_checkout), at unit level over
// CountingConnections: connection, slot or registered wait, and never a lost wake-up or slot.
#include "counting_connection.hpp"

#include <retort/core/error.hpp>
#include <retort/plugin/registry.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using retort::CheckoutAttempt;
using retort::PooledConnection;
using retort::PoolOptions;
using retort::testing::ConnectionCounters;
using retort::testing::counting;
using retort::testing::PoolFixture;

namespace {

PoolOptions limits(int size, int overflow) {
  PoolOptions options;
  options.size = size;
  options.max_overflow = overflow;
  options.timeout = 150ms;
  return options;
}

// A wake-up that counts its calls.
struct Wakes {
  std::shared_ptr<std::atomic<int>> count = std::make_shared<std::atomic<int>>(0);
  retort::CheckoutWake callback() {
    return [count = count] { ++*count; };
  }
  int operator()() const { return count->load(); }
};

} // namespace

TEST_CASE_METHOD(PoolFixture, "try_checkout: a slot, then a wait woken once by the give-back",
                 "[pool][try_checkout]") {
  auto pool = make("queue", limits(1, 0));
  Wakes first_wakes;
  CheckoutAttempt first = pool->try_checkout(first_wakes.callback());
  REQUIRE(first.slot);
  CHECK_FALSE(first.connection);
  CHECK_FALSE(first.wait);
  CHECK(pool->status().checked_out == 1);
  CHECK(counters->opened == 0); // the caller opens

  PooledConnection held = first.slot.fill(new_connection());
  CHECK_FALSE(first.slot);
  CHECK(pool->status().opened == 1);
  CHECK(pool->status().checked_out == 1);

  Wakes wakes;
  CheckoutAttempt second = pool->try_checkout(wakes.callback());
  REQUIRE(second.wait);
  CHECK_FALSE(second.slot);
  CHECK_FALSE(second.connection);
  CHECK(pool->status().waiting == 1);
  CHECK(wakes() == 0);

  const int id = counting(held).id();
  held.release();
  CHECK(wakes() == 1);
  CHECK(first_wakes() == 0);
  CHECK(pool->status().waiting == 0);

  CheckoutAttempt retry = pool->try_checkout(wakes.callback());
  REQUIRE(retry.connection);
  CHECK(counting(retry.connection).id() == id);
  CHECK_FALSE(retry.ping_first);
  second.wait.cancel(); // already woken, and nothing else is free: nobody else to wake
  CHECK(wakes() == 1);
}

TEST_CASE_METHOD(PoolFixture, "try_checkout: an unfilled slot goes back and wakes a waiter",
                 "[pool][try_checkout]") {
  auto pool = make("queue", limits(1, 0));
  Wakes wakes;
  CheckoutAttempt first = pool->try_checkout(wakes.callback());
  REQUIRE(first.slot);
  CheckoutAttempt second = pool->try_checkout(wakes.callback());
  REQUIRE(second.wait);
  { auto abandoned = std::move(first.slot); } // e.g. the connect failed
  CHECK(wakes() == 1);
  CHECK(pool->status().checked_out == 0);
  CheckoutAttempt retry = pool->try_checkout(wakes.callback());
  CHECK(retry.slot);
}

TEST_CASE_METHOD(PoolFixture, "try_checkout: a cancelled wait is never woken and leaks nothing",
                 "[pool][try_checkout]") {
  auto pool = make("queue", limits(1, 0));
  PooledConnection held = pool->checkout();
  Wakes cancelled;
  Wakes waiting;
  {
    CheckoutAttempt gone = pool->try_checkout(cancelled.callback());
    REQUIRE(gone.wait);
    CheckoutAttempt staying = pool->try_checkout(waiting.callback());
    REQUIRE(staying.wait);
    CHECK(pool->status().waiting == 2);
    gone.wait.cancel();
    CHECK(pool->status().waiting == 1);
    held.release();
    CHECK(cancelled() == 0);
    CHECK(waiting() == 1);
  }
  auto status = pool->status();
  CHECK(status.waiting == 0);
  CHECK(status.checked_out == 0);
  CHECK(status.idle == 1);
}

TEST_CASE_METHOD(PoolFixture, "try_checkout: a woken waiter that gives up passes the wake-up on",
                 "[pool][try_checkout]") {
  auto pool = make("queue", limits(1, 0));
  PooledConnection held = pool->checkout();
  Wakes first;
  Wakes second;
  CheckoutAttempt a = pool->try_checkout(first.callback());
  CheckoutAttempt b = pool->try_checkout(second.callback());
  held.release();
  REQUIRE(first() == 1);
  REQUIRE(second() == 0);
  a.wait.cancel(); // woken, but timed out before it tried again
  CHECK(second() == 1);
  CHECK(pool->try_checkout(second.callback()).connection);
}

TEST_CASE_METHOD(PoolFixture, "try_checkout: a stale idle connection is closed and becomes a slot",
                 "[pool][try_checkout]") {
  auto options = limits(2, 0);
  options.recycle = 0ms;
  auto pool = make("queue", options);
  pool->checkout().release();
  CHECK(pool->status().idle == 1);
  CheckoutAttempt attempt = pool->try_checkout([] {});
  CHECK_FALSE(attempt.connection);
  CHECK(attempt.slot);
  CHECK(counters->closed == 1);
  CHECK(pool->status().discarded == 1);
}

TEST_CASE_METHOD(PoolFixture, "try_checkout: a connection its server closed becomes a slot",
                 "[pool][try_checkout]") {
  auto pool = make("queue", limits(1, 0));
  int id = 0;
  {
    auto c = pool->checkout();
    id = counting(c).id();
  }
  counters->close_by_server(id);
  CheckoutAttempt attempt = pool->try_checkout([] {});
  CHECK_FALSE(attempt.connection);
  CHECK(attempt.slot);
  CHECK(counters->alive_checks == 1);
  CHECK(counters->closed == 1);
  CHECK(pool->status().discarded == 1);
}

TEST_CASE_METHOD(PoolFixture,
                 "try_checkout: with pre_ping the caller is told to ping, not the pool",
                 "[pool][try_checkout]") {
  auto options = limits(1, 0);
  options.pre_ping = true;
  auto pool = make("queue", options);
  pool->checkout().release();
  const int pings = counters->pings;
  CheckoutAttempt attempt = pool->try_checkout([] {});
  REQUIRE(attempt.connection);
  CHECK(attempt.ping_first);
  CHECK(counters->pings == pings); // a ping is a round trip: never inside try_checkout
}

TEST_CASE_METHOD(PoolFixture, "try_checkout: dispose wakes every waiter", "[pool][try_checkout]") {
  auto pool = make("queue", limits(1, 0));
  PooledConnection held = pool->checkout();
  Wakes wakes;
  CheckoutAttempt a = pool->try_checkout(wakes.callback());
  CheckoutAttempt b = pool->try_checkout(wakes.callback());
  pool->dispose();
  CHECK(wakes() == 2);
  CHECK(pool->status().waiting == 0);
}

TEST_CASE_METHOD(PoolFixture, "try_checkout: the timeout error is the blocking checkout's",
                 "[pool][try_checkout]") {
  auto pool = make("queue", limits(1, 0));
  PooledConnection held = pool->checkout();
  std::string blocking;
  try {
    (void)pool->checkout();
  } catch (const retort::PoolTimeout& e) {
    blocking = e.what();
  }
  REQUIRE_FALSE(blocking.empty());
  CHECK(pool->checkout_timeout() == 150ms);
  try {
    pool->throw_checkout_timeout();
  } catch (const retort::PoolTimeout& e) {
    CHECK(std::string(e.what()) == blocking);
  }
}

TEST_CASE_METHOD(PoolFixture, "try_checkout: blocking and non-blocking checkouts share one limit",
                 "[pool][try_checkout]") {
  // Four threads each take the pool's two connections in turn, half of them through
  // try_checkout with a spin on their wake-up; no connection is ever held twice, no slot lost.
  auto options = limits(1, 1);
  options.timeout = 30s;
  auto pool = make("queue", options);
  std::atomic<int> errors{0};
  auto use = [&](PooledConnection& pooled) {
    auto& connection = counting(pooled);
    if (connection.in_use.exchange(true)) ++errors;
    std::this_thread::yield();
    connection.in_use = false;
  };
  auto blocking = [&] {
    for (int i = 0; i < 200; ++i) {
      auto pooled = pool->checkout();
      use(pooled);
    }
  };
  auto non_blocking = [&] {
    for (int i = 0; i < 200; ++i) {
      for (;;) {
        auto woken = std::make_shared<std::atomic<bool>>(false);
        CheckoutAttempt attempt = pool->try_checkout([woken] { *woken = true; });
        if (attempt.slot) attempt.connection = attempt.slot.fill(new_connection());
        if (attempt.connection) {
          use(attempt.connection);
          break;
        }
        while (!*woken)
          std::this_thread::yield();
      }
    }
  };
  std::vector<std::thread> threads;
  threads.emplace_back(blocking);
  threads.emplace_back(non_blocking);
  threads.emplace_back(blocking);
  threads.emplace_back(non_blocking);
  for (auto& t : threads)
    t.join();
  CHECK(errors == 0);
  auto status = pool->status();
  CHECK(status.checked_out == 0);
  CHECK(status.waiting == 0);
  CHECK(status.idle <= 2);
}

TEST_CASE_METHOD(PoolFixture, "try_checkout: FIFO and LIFO order as the blocking checkout",
                 "[pool][try_checkout]") {
  const bool lifo = GENERATE(false, true);
  auto options = limits(2, 0);
  options.lifo = lifo;
  auto pool = make("queue", options);
  PooledConnection a = pool->checkout();
  PooledConnection b = pool->checkout();
  const int first_returned = counting(a).id();
  const int last_returned = counting(b).id();
  a.release();
  b.release();
  CheckoutAttempt attempt = pool->try_checkout([] {});
  REQUIRE(attempt.connection);
  CHECK(counting(attempt.connection).id() == (lifo ? last_returned : first_returned));
}
