// Async sessions on a SQLite file under concurrency: 50 AsyncSessions on one io_context over a
// pool of 2 + 10 connections all finish, with no "database is locked" and no PoolTimeout, in the
// default (deferred) and the immediate transaction mode; the same work on 50 blocking threads
// for comparison. A session's call blocked in SQLite's busy wait must not keep another
// session's call (the COMMIT that would end that wait) from running. Throughputs are printed;
// nothing about time is asserted. RETORT_STRESS_SCALE multiplies the work (tests/stress/run.sh).
#include <utility>

#include <retort/async/async_session.hpp>
#include <retort/retort.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include <catch2/catch.hpp>

#include "temp_database.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <sys/resource.h>
#include <time.h>

using namespace retort;
using retort::test::TempDatabase;
using namespace std::chrono_literals;
namespace asio = boost::asio;

namespace sc {
struct Hit {
  std::int64_t id{};
  int session{};
  int n{};
};
} // namespace sc

template <> struct retort::Model<sc::Hit> {
  static constexpr auto table = "sc_hits";
  static constexpr auto fields =
      fields_of(column("id", &sc::Hit::id, primary_key), column("session", &sc::Hit::session),
                column("n", &sc::Hit::n));
};

namespace {

constexpr int sessions = 50;

// CPU seconds used so far by the process (every thread).
double process_cpu() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& t) { return double(t.tv_sec) + double(t.tv_usec) / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

// CPU seconds used so far by the calling thread.
double thread_cpu() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return double(t.tv_sec) + double(t.tv_nsec) / 1e9;
}

// What a run took: wall-clock seconds, CPU seconds of the process and of the thread that ran
// the io_context (both cores busy, or one thread the bottleneck?).
struct Timing {
  double seconds = 0;
  double cpu = 0;
  double io_thread_cpu = 0;
};

int transactions_per_session() {
  const char* scale = std::getenv("RETORT_STRESS_SCALE");
  const int factor = scale != nullptr ? std::max(1, std::atoi(scale)) : 1;
  return 10 * std::min(factor, 10); // 100 per session at most
}

Engine engine_on(const TempDatabase& db, const std::string& mode) {
  EngineConfig config;
  config.pool.kind = "queue";
  config.pool.size = 2;
  config.pool.max_overflow = 10;
  config.pool.timeout = 30s;
  config.options = {{"journal_mode", "wal"}, {"synchronous", "normal"}, {"transaction_mode", mode}};
  auto engine = create_engine(db.url("sc.db"), config);
  engine.connect().execute_ddl(
      "CREATE TABLE IF NOT EXISTS sc_hits (id INTEGER PRIMARY KEY, session INTEGER NOT NULL, "
      "n INTEGER NOT NULL)");
  return engine;
}

struct Outcome {
  std::atomic<int> failures{0};
  std::atomic<int> done{0};
  std::string first_error;
  std::mutex mutex;
  void fail(const std::exception& e) {
    std::lock_guard lock(mutex);
    if (failures++ == 0) first_error = e.what();
  }
};

// One session's work, transaction after transaction. With transaction_mode immediate each one
// reads what the session wrote so far, then adds a row numbered by what it read (BEGIN
// IMMEDIATE takes the write lock first). A deferred transaction that reads and then writes may
// find, in WAL mode, that another connection wrote meanwhile (SQLITE_BUSY_SNAPSHOT, which no
// waiting cures): there each transaction only writes, and the reading is a transaction of its
// own.
asio::awaitable<void> async_worker(Engine* engine, int id, bool immediate, Outcome* outcome) {
  try {
    for (int n = 0; n < transactions_per_session(); ++n) {
      AsyncSession session(*engine);
      auto query = session.query<sc::Hit>();
      query.filter(col(&sc::Hit::session) == id);
      int number = n;
      if (immediate) {
        auto mine = co_await session.all(query);
        number = static_cast<int>(mine.size());
      }
      session.add(sc::Hit{.session = id, .n = number});
      co_await session.commit();
      if (!immediate) {
        auto mine = co_await session.all(query);
        if (mine.size() != static_cast<std::size_t>(n + 1))
          throw std::runtime_error("a session does not see its own rows");
        co_await session.commit();
      }
    }
    ++outcome->done;
  } catch (const std::exception& e) {
    outcome->fail(e);
  }
}

void blocking_worker(Engine& engine, int id, bool immediate, Outcome& outcome) {
  try {
    for (int n = 0; n < transactions_per_session(); ++n) {
      Session session(engine);
      int number = n;
      if (immediate)
        number = static_cast<int>(
            session.query<sc::Hit>().filter(col(&sc::Hit::session) == id).all().size());
      session.add(sc::Hit{.session = id, .n = number});
      session.commit();
      if (!immediate) {
        auto mine = session.query<sc::Hit>().filter(col(&sc::Hit::session) == id).all();
        if (mine.size() != static_cast<std::size_t>(n + 1))
          throw std::runtime_error("a session does not see its own rows");
        session.commit();
      }
    }
    ++outcome.done;
  } catch (const std::exception& e) {
    outcome.fail(e);
  }
}

// Every session's rows are numbered 0, 1, 2, ... (each transaction saw the ones before it).
void check_table(Engine& engine) {
  Session session(engine);
  auto rows = session.query<sc::Hit>().all();
  CHECK(rows.size() == static_cast<std::size_t>(sessions * transactions_per_session()));
  std::vector<std::vector<int>> seen(sessions);
  for (const auto& row : rows)
    seen.at(static_cast<std::size_t>(row->session)).push_back(row->n);
  for (auto& numbers : seen) {
    std::sort(numbers.begin(), numbers.end());
    for (std::size_t i = 0; i < numbers.size(); ++i)
      CHECK(numbers[i] == static_cast<int>(i));
  }
}

Timing run_async(const std::string& mode, Outcome& outcome) {
  TempDatabase db;
  Engine engine = engine_on(db, mode);
  asio::io_context io;
  for (int id = 0; id < sessions; ++id)
    asio::co_spawn(io, async_worker(&engine, id, mode == "immediate", &outcome), asio::detached);
  const auto start = std::chrono::steady_clock::now();
  const double cpu = process_cpu(), io_cpu = thread_cpu();
  io.run();
  Timing timing{std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(),
                process_cpu() - cpu, thread_cpu() - io_cpu};
  if (outcome.failures == 0) check_table(engine);
  return timing;
}

Timing run_blocking(const std::string& mode, Outcome& outcome) {
  TempDatabase db;
  Engine engine = engine_on(db, mode);
  std::vector<std::thread> threads;
  const auto start = std::chrono::steady_clock::now();
  const double cpu = process_cpu();
  for (int id = 0; id < sessions; ++id)
    threads.emplace_back([&engine, id, &mode, &outcome] {
      blocking_worker(engine, id, mode == "immediate", outcome);
    });
  for (auto& thread : threads)
    thread.join();
  Timing timing{std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(),
                process_cpu() - cpu, 0};
  if (outcome.failures == 0) check_table(engine);
  return timing;
}

void compare(const std::string& mode) {
  Outcome async_outcome, blocking_outcome;
  const Timing async_run = run_async(mode, async_outcome);
  const Timing blocking_run = run_blocking(mode, blocking_outcome);
  const double total = sessions * transactions_per_session();
  std::printf("sqlite file, %s: %d sessions x %d transactions: async %.2f s (%.0f tx/s; CPU "
              "%.2f s, io thread %.2f s), blocking threads %.2f s (%.0f tx/s; CPU %.2f s)\n",
              mode.c_str(), sessions, transactions_per_session(), async_run.seconds,
              total / async_run.seconds, async_run.cpu, async_run.io_thread_cpu,
              blocking_run.seconds, total / blocking_run.seconds, blocking_run.cpu);
  INFO("first async failure: " << async_outcome.first_error);
  CHECK(async_outcome.failures == 0);
  CHECK(async_outcome.done == sessions);
  INFO("first blocking failure: " << blocking_outcome.first_error);
  CHECK(blocking_outcome.failures == 0);
  CHECK(blocking_outcome.done == sessions);
}

} // namespace

TEST_CASE("50 async sessions on one io_context share a SQLite file without failures",
          "[async][sqlite][concurrency]") {
  compare("deferred");
}

TEST_CASE("50 async sessions on a SQLite file with transaction_mode immediate",
          "[async][sqlite][concurrency]") {
  compare("immediate");
}
