// Pool behaviour at unit level: the pool plugins from build/plugins over CountingConnections.
#include "counting_connection.hpp"

#include <retort/core/error.hpp>
#include <retort/plugin/registry.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using retort::PooledConnection;
using retort::PoolOptions;
using retort::testing::ConnectionCounters;
using retort::testing::counting;
using retort::testing::PoolFixture;

namespace {

PoolOptions queue_options(int size, int overflow, std::chrono::milliseconds timeout = 2000ms) {
  PoolOptions options;
  options.size = size;
  options.max_overflow = overflow;
  options.timeout = timeout;
  return options;
}

} // namespace

TEST_CASE_METHOD(PoolFixture, "queue pool: size plus overflow, then PoolTimeout", "[pool][queue]") {
  auto pool = make("queue", queue_options(2, 2, 100ms));
  std::vector<PooledConnection> held;
  for (int i = 0; i < 4; ++i)
    held.push_back(pool->checkout());
  CHECK(pool->status().checked_out == 4);
  CHECK(pool->status().overflow == 2);

  const auto start = std::chrono::steady_clock::now();
  try {
    (void)pool->checkout();
    FAIL("a fifth checkout succeeded");
  } catch (const retort::PoolTimeout& e) {
    const std::string what = e.what();
    CHECK_THAT(what, Catch::Contains("size 2"));
    CHECK_THAT(what, Catch::Contains("overflow 2"));
    CHECK_THAT(what, Catch::Contains("100 ms"));
  }
  const auto waited = std::chrono::steady_clock::now() - start;
  CHECK(waited >= 100ms);
  CHECK(waited < 2s);

  // Overflow connections are closed when returned; `size` of them stay.
  held.clear();
  CHECK(pool->status().idle == 2);
  CHECK(pool->status().checked_out == 0);
  CHECK(counters->opened == 4);
  CHECK(counters->closed == 2);
}

TEST_CASE_METHOD(PoolFixture, "queue pool: a waiter gets a connection returned in time",
                 "[pool][queue]") {
  auto pool = make("queue", queue_options(1, 0, 2000ms));
  auto first = pool->checkout();
  const int id = counting(first).id();
  std::thread releaser([&] {
    std::this_thread::sleep_for(50ms);
    first.release();
  });
  auto second = pool->checkout();
  releaser.join();
  CHECK(counting(second).id() == id);
  CHECK(counters->opened == 1);
}

TEST_CASE_METHOD(PoolFixture, "queue pool: 8 threads never share a connection", "[pool][queue]") {
  auto pool = make("queue", queue_options(2, 2, 10s));
  std::atomic<int> concurrent{0};
  std::atomic<int> max_concurrent{0};
  std::atomic<int> shared_detected{0};
  std::atomic<int> done{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 300; ++i) {
        auto connection = pool->checkout();
        auto& counted = counting(connection);
        if (counted.in_use.exchange(true)) ++shared_detected;
        const int now = ++concurrent;
        int seen = max_concurrent.load();
        while (now > seen && !max_concurrent.compare_exchange_weak(seen, now)) {
        }
        if (i % 7 == 0) std::this_thread::yield();
        --concurrent;
        counted.in_use = false;
        ++done;
      }
    });
  }
  for (auto& thread : threads)
    thread.join();
  CHECK(done == 8 * 300);
  CHECK(shared_detected == 0);
  CHECK(max_concurrent <= 4);
  CHECK(counters->opened <= counters->closed + 2);
  const auto status = pool->status();
  CHECK(status.checked_out == 0);
  CHECK(status.idle <= 2);
  CHECK(status.idle + counters->closed == counters->opened);
}

TEST_CASE_METHOD(PoolFixture, "queue pool: recycle replaces old connections", "[pool][queue]") {
  auto options = queue_options(1, 0);
  options.recycle = 50ms;
  auto pool = make("queue", options);
  int first_id = 0;
  {
    auto c = pool->checkout();
    first_id = counting(c).id();
  }
  {
    auto c = pool->checkout();
    CHECK(counting(c).id() == first_id); // young enough
  }
  std::this_thread::sleep_for(60ms);
  auto c = pool->checkout();
  CHECK(counting(c).id() != first_id);
  CHECK(counters->closed == 1);
  CHECK(pool->status().discarded == 1);
}

TEST_CASE_METHOD(PoolFixture, "queue pool: idle_timeout closes connections idle too long",
                 "[pool][queue]") {
  auto options = queue_options(1, 0);
  options.idle_timeout = 50ms;
  auto pool = make("queue", options);
  int first_id = 0;
  {
    auto c = pool->checkout();
    first_id = counting(c).id();
    std::this_thread::sleep_for(70ms); // busy time does not count as idle
  }
  {
    auto c = pool->checkout();
    CHECK(counting(c).id() == first_id);
  }
  std::this_thread::sleep_for(70ms);
  auto c = pool->checkout();
  CHECK(counting(c).id() != first_id);
  CHECK(counters->closed == 1);
}

TEST_CASE_METHOD(PoolFixture, "queue pool: pre_ping replaces a dead connection", "[pool][queue]") {
  auto options = queue_options(2, 0);
  options.pre_ping = true;
  auto pool = make("queue", options);
  int id = 0;
  {
    auto c = pool->checkout();
    id = counting(c).id();
  }
  counters->kill(id);
  auto c = pool->checkout();
  CHECK(counting(c).id() != id);
  CHECK(counters->pings == 1);
  CHECK(counters->closed == 1);
  CHECK(pool->status().discarded == 1);

  SECTION("without pre_ping the dead connection is handed out") {
    auto plain = make("queue", queue_options(1, 0));
    int plain_id = 0;
    {
      auto d = plain->checkout();
      plain_id = counting(d).id();
    }
    counters->kill(plain_id);
    auto d = plain->checkout();
    CHECK(counting(d).id() == plain_id);
  }
}

TEST_CASE_METHOD(PoolFixture, "invalidated and invalid connections are never handed out again",
                 "[pool][queue]") {
  auto pool = make("queue", queue_options(1, 0));
  int id = 0;
  {
    auto c = pool->checkout();
    id = counting(c).id();
    c.invalidate();
  }
  CHECK(counters->closed == 1);
  CHECK(pool->status().idle == 0);
  int second = 0;
  {
    auto c = pool->checkout();
    second = counting(c).id();
    CHECK(second != id);
    counters->break_connection(second); // the driver noticed it is broken
  }
  CHECK(counters->closed == 2);
  auto c = pool->checkout();
  CHECK(counting(c).id() != second);
  CHECK(pool->status().discarded == 2);
}

TEST_CASE_METHOD(PoolFixture, "the socket is looked at when a connection goes out, not back in",
                 "[pool][queue]") {
  auto pool = make("queue", queue_options(1, 0));
  pool->checkout().release(); // opened: nothing to look at
  CHECK(counters->alive_checks == 0);
  int id = 0;
  {
    auto c = pool->checkout();
    id = counting(c).id();
    CHECK(counters->alive_checks == 1);
    c->begin(); // returned with a transaction open: rolled back, still no look
  }
  CHECK(counters->rollbacks == 1);
  CHECK(counters->alive_checks == 1);
  CHECK(pool->status().idle == 1);

  // The server closed it while idle: is_valid() cannot know, the checkout's look finds out.
  counters->close_by_server(id);
  auto c = pool->checkout();
  CHECK(counting(c).id() != id);
  CHECK(counters->alive_checks == 2);
  CHECK(counters->closed == 1);
  CHECK(pool->status().discarded == 1);
}

TEST_CASE_METHOD(PoolFixture, "FIFO hands out the oldest returned connection, LIFO the newest",
                 "[pool][queue]") {
  auto order = [&](bool lifo) {
    auto options = queue_options(3, 0);
    options.lifo = lifo;
    auto pool = make("queue", options);
    std::vector<PooledConnection> held;
    for (int i = 0; i < 3; ++i)
      held.push_back(pool->checkout());
    std::vector<int> returned;
    for (auto& c : held) {
      returned.push_back(counting(c).id());
      c.release(); // returned in order a, b, c
    }
    auto next = pool->checkout();
    return std::pair{counting(next).id(), returned};
  };
  const auto [fifo_id, fifo_returned] = order(false);
  CHECK(fifo_id == fifo_returned.front());
  const auto [lifo_id, lifo_returned] = order(true);
  CHECK(lifo_id == lifo_returned.back());
}

TEST_CASE_METHOD(PoolFixture, "reset_on_return rolls back an open transaction", "[pool][queue]") {
  SECTION("on") {
    auto pool = make("queue", queue_options(1, 0));
    {
      auto c = pool->checkout();
      c->begin();
    }
    auto c = pool->checkout();
    CHECK_FALSE(c->in_transaction());
    CHECK(counters->rollbacks == 1);
  }
  SECTION("off") {
    auto options = queue_options(1, 0);
    options.reset_on_return = false;
    auto pool = make("queue", options);
    {
      auto c = pool->checkout();
      c->begin();
    }
    auto c = pool->checkout();
    CHECK(c->in_transaction());
    CHECK(counters->rollbacks == 0);
  }
}

TEST_CASE_METHOD(PoolFixture, "dispose closes idle connections and those returned later",
                 "[pool][queue]") {
  auto pool = make("queue", queue_options(3, 0));
  auto out = pool->checkout();
  { auto idle = pool->checkout(); }
  pool->dispose();
  CHECK(counters->closed == 1);
  out.release();
  CHECK(counters->closed == 2);
  CHECK(pool->status().idle == 0);
}

TEST_CASE_METHOD(PoolFixture, "null pool opens per checkout and closes on return", "[pool][null]") {
  auto pool = make("null", queue_options(5, 10));
  std::vector<PooledConnection> held;
  for (int i = 0; i < 20; ++i)
    held.push_back(pool->checkout()); // no limit
  CHECK(counters->opened == 20);
  held.clear();
  CHECK(counters->closed == 20);
  { auto c = pool->checkout(); }
  CHECK(counters->opened == 21);
  CHECK(counters->closed == 21);
  CHECK(pool->status().idle == 0);
}

TEST_CASE_METHOD(PoolFixture, "static pool hands one connection to one holder at a time",
                 "[pool][static]") {
  auto options = queue_options(5, 10, 100ms);
  options.recycle = 1ms; // ignored: recycling would replace the database
  auto pool = make("static", options);
  int id = 0;
  {
    auto c = pool->checkout();
    id = counting(c).id();
    CHECK_THROWS_AS(pool->checkout(), retort::PoolTimeout);
  }
  std::this_thread::sleep_for(5ms);
  for (int i = 0; i < 3; ++i) {
    auto c = pool->checkout();
    CHECK(counting(c).id() == id);
  }
  CHECK(counters->opened == 1);
  CHECK(counters->closed == 0);
}

TEST_CASE_METHOD(PoolFixture, "impossible pool limits are rejected", "[pool]") {
  CHECK_THROWS_AS(make("queue", queue_options(0, 0)), retort::ArgumentError);
  CHECK_THROWS_AS(make("queue", queue_options(-1, 0)), retort::ArgumentError);
}
