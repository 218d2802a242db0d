// Pools over real SQLite connections, through create_engine() and the plugins in build/plugins.
#include <retort/core/error.hpp>
#include <retort/engine/connection.hpp>
#include <retort/plugin/create_engine.hpp>

#include <catch2/catch.hpp>

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

/// A fresh database file, removed with its WAL files at the end.
struct TempDatabase {
  fs::path dir;
  TempDatabase() {
    std::string pattern = (fs::temp_directory_path() / "retort-pools-XXXXXX").string();
    dir = ::mkdtemp(pattern.data());
  }
  ~TempDatabase() {
    std::error_code ignored;
    fs::remove_all(dir, ignored);
  }
  std::string url() const { return "sqlite:///" + (dir / "pool.db").string(); }
};

retort::EngineConfig queue_config(int size, int overflow, std::chrono::milliseconds timeout) {
  retort::EngineConfig config;
  config.pool.kind = "queue";
  config.pool.size = size;
  config.pool.max_overflow = overflow;
  config.pool.timeout = timeout;
  config.options = {{"journal_mode", "wal"}, {"synchronous", "off"}, {"busy_timeout", "20000"}};
  return config;
}

} // namespace

TEST_CASE("8 threads share a queue pool of 2 + 2 SQLite file connections", "[pool][sqlite]") {
  TempDatabase db;
  auto engine = retort::create_engine(db.url(), queue_config(2, 2, 30s));
  engine.connect().execute_ddl("CREATE TABLE hits (thread INTEGER NOT NULL, n INTEGER NOT NULL)");

  constexpr int threads = 8;
  constexpr int per_thread = 40;
  std::atomic<int> failures{0};
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      try {
        for (int i = 0; i < per_thread; ++i) {
          auto connection = engine.connect();
          auto transaction = connection.begin();
          const std::vector<retort::Value> params{t, i};
          connection.execute_sql("INSERT INTO hits (thread, n) VALUES (?, ?)", params);
          transaction.commit();
        }
      } catch (const std::exception& e) {
        UNSCOPED_INFO("worker failed: " << e.what());
        ++failures;
      }
    });
  }
  for (auto& worker : workers)
    worker.join();
  CHECK(failures == 0);

  auto connection = engine.connect();
  CHECK(connection.execute_sql("SELECT count(*) FROM hits").scalar<std::int64_t>() ==
        threads * per_thread);
  CHECK(connection.execute_sql("SELECT count(DISTINCT thread) FROM hits").scalar<std::int64_t>() ==
        threads);
  const auto status = engine.pool().status();
  CHECK(status.checked_out == 1);
  CHECK(status.idle + status.checked_out <= 2);
  CHECK(status.discarded == 0);
}

TEST_CASE("a full SQLite queue pool times out with PoolTimeout", "[pool][sqlite]") {
  TempDatabase db;
  auto engine = retort::create_engine(db.url(), queue_config(1, 1, 50ms));
  auto a = engine.connect();
  auto b = engine.connect();
  CHECK_THROWS_WITH(engine.connect(),
                    Catch::Contains("size 1 overflow 1") && Catch::Contains("50 ms"));
  b.close();
  CHECK_NOTHROW(engine.connect());
}

TEST_CASE("the static pool makes every checkout see the same :memory: database",
          "[pool][sqlite][static]") {
  auto engine = retort::create_engine("sqlite:///:memory:");
  {
    auto connection = engine.connect();
    connection.execute_ddl("CREATE TABLE t (x INTEGER)");
    const std::vector<retort::Value> params{7};
    connection.execute_sql("INSERT INTO t (x) VALUES (?)", params);
  }
  for (int i = 0; i < 3; ++i) {
    auto connection = engine.connect();
    CHECK(connection.execute_sql("SELECT x FROM t").scalar<std::int64_t>() == 7);
  }
  CHECK(engine.pool().status().opened == 1);

  auto held = engine.connect();
  std::atomic<bool> got{false};
  std::thread other([&] {
    auto connection = engine.connect(); // waits for the one holder
    got = connection.execute_sql("SELECT count(*) FROM t").scalar<std::int64_t>() == 1;
  });
  std::this_thread::sleep_for(50ms);
  CHECK_FALSE(got);
  held.close();
  other.join();
  CHECK(got);
}

TEST_CASE("an invalidated SQLite connection is replaced", "[pool][sqlite]") {
  TempDatabase db;
  auto engine = retort::create_engine(db.url(), queue_config(1, 0, 1s));
  {
    auto connection = engine.connect();
    connection.invalidate();
  }
  CHECK(engine.pool().status().discarded == 1);
  auto connection = engine.connect();
  CHECK(connection.execute_sql("SELECT 1").scalar<std::int64_t>() == 1);
  CHECK(engine.pool().status().opened == 2);
}

TEST_CASE("a transaction that failed or ran nothing goes back to the pool clean",
          "[pool][sqlite]") {
  TempDatabase db;
  auto engine = retort::create_engine(db.url(), queue_config(1, 0, 1s));
  {
    auto connection = engine.connect();
    connection.execute_ddl("CREATE TABLE t (x INTEGER PRIMARY KEY)");
  }
  const std::string insert = "INSERT INTO t (x) VALUES (?)";
  const std::vector<retort::Value> one{1};
  const retort::Connection::Pipelined lone{&insert, one};
  auto commit_alone = [&](retort::Connection& connection) {
    auto transaction = connection.begin();
    connection.execute_and_commit(std::span(&lone, 1), transaction,
                                  [](std::size_t, retort::Result&) {});
  };
  {
    auto connection = engine.connect();
    commit_alone(connection); // prepares the statement
  }
  // The same lone INSERT fails now (duplicate key), dropping its transaction with the
  // connection; another transaction begins and is dropped before any statement.
  for (int i = 0; i < 2; ++i) {
    auto connection = engine.connect();
    CHECK_THROWS_AS(commit_alone(connection), retort::IntegrityError);
  }
  {
    auto connection = engine.connect();
    auto unused = connection.begin();
    CHECK(connection.in_transaction());
  }
  // One connection throughout, returned each time with nothing open, reading and writing as
  // new.
  CHECK(engine.pool().status().opened == 1);
  CHECK(engine.pool().status().discarded == 0);
  CHECK(engine.pool().status().idle == 1);
  auto connection = engine.connect();
  CHECK_FALSE(connection.in_transaction());
  const std::vector<retort::Value> two{2};
  connection.execute_sql(insert, two);
  CHECK(connection.execute_sql("SELECT count(*) FROM t").scalar<std::int64_t>() == 2);
}
