// Pipelining in the async executor: a flush's independent statements share one round trip, the
// last statement of a commit goes out with COMMIT, and a pipeline larger than the sockets'
// buffers neither deadlocks nor loses a result. Statement and pipeline counts come from the
// engine's echo (StatementCounter); on SQLite nothing is pipelined and the same work runs on a
// worker thread.
#include <string>
#include <utility>

#include "models.hpp"
#include "run_task.hpp"

#include <counting_proxy.hpp>

#include <retort/async/async_session.hpp>
#include <retort/async/executor.hpp>
#include <retort/engine/connection.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

using namespace retort;
using namespace models;
namespace asio = boost::asio;
using async_test::run;

namespace {

bool pipelines() { return conformance::backend() == "postgresql"; }

std::int64_t count_tags() {
  Session reader(conformance::engine());
  return reader.query<Tag>().count();
}

} // namespace

TEST_CASE("async: a flush's independent UPDATEs go out in one pipeline segment",
          "[async][pipeline]") {
  conformance::FreshSchema schema;
  {
    Session session(conformance::engine());
    for (int i = 0; i < 50; ++i)
      session.add(User{.name = "u" + std::to_string(i), .age = i});
    session.commit();
  }
  conformance::StatementCounter counter;
  auto task = []() -> asio::awaitable<void> {
    AsyncSession session(conformance::engine());
    auto users = co_await session.all(session.query<User>());
    for (const auto& user : users)
      user->name += "!"; // a different value per row: one UPDATE each
    co_await session.flush();
    co_await session.commit();
  };
  run(task());
  CHECK(counter.count() == 51); // the SELECT, then 50 UPDATEs
  // On PostgreSQL: the SELECT (with the deferred BEGIN) is one segment, the UPDATEs another.
  CHECK(counter.pipelines() == (pipelines() ? 2u : 0u));
  Session reader(conformance::engine());
  auto users = reader.query<User>().all();
  REQUIRE(users.size() == 50);
  for (const auto& user : users)
    CHECK(user->name == "u" + std::to_string(*user->age) + "!");
}

TEST_CASE("async: commit() sends the flush's last INSERT with the COMMIT", "[async][pipeline]") {
  conformance::FreshSchema schema;
  auto task = [](std::string label) -> asio::awaitable<std::int64_t> {
    AsyncSession session(conformance::engine());
    auto tag = session.add(Tag{.label = std::move(label), .weight = 1});
    co_await session.commit();
    co_return tag->id;
  };
  // SQLite looks at the table the first time a thread inserts into it (the generated-key probe).
  CHECK(run(task("blue")) > 0);
  conformance::StatementCounter counter;
  const auto id = run(task("red"));
  CHECK(id > 0);
  // One statement: the INSERT, its key from RETURNING or, on SQLite, proven by the driver.
  CHECK(counter.count() == 1u);
  // One segment holds the INSERT and (outside BEGIN) commits at its sync: one round trip.
  CHECK(counter.pipelines() == (pipelines() ? 1u : 0u));
  CHECK(count_tags() == 2);
}

TEST_CASE("async: a last INSERT that fails with the COMMIT commits nothing", "[async][pipeline]") {
  // `touched`: a statement ran in the transaction before, so the segment ends with an explicit
  // COMMIT; otherwise the segment alone is the transaction.
  auto task = [](bool touched) -> asio::awaitable<void> {
    AsyncSession session(conformance::engine());
    session.add(Tag{.label = "red", .weight = 1});
    co_await session.commit();
    if (touched) {
      session.add(Tag{.label = "green", .weight = 1});
      co_await session.flush();
    }
    session.add(Tag{.label = "red", .weight = 2}); // UNIQUE(label)
    std::string sqlstate = "none";
    try {
      co_await session.commit();
    } catch (const IntegrityError& e) {
      sqlstate = e.sqlstate();
    }
    CHECK(sqlstate != "none");
    if (!conformance::is_sqlite()) CHECK(sqlstate == "23505");
    CHECK_THROWS_AS(session.add(Tag{.label = "too early", .weight = 1}), InvalidStateError);
    session.rollback();
    CHECK(count_tags() == 1); // neither "green" nor the second "red"
    // The session and its pooled connection are sound.
    session.add(Tag{.label = "blue", .weight = 1});
    co_await session.commit();
    CHECK(count_tags() == 2);
  };
  for (bool touched : {false, true}) {
    conformance::FreshSchema schema;
    run(task(touched));
  }
}

TEST_CASE("async: a pipeline larger than the socket buffers", "[async][pipeline]") {
  // 300 statements of 100 kB each way: 30 MB sent while 30 MB come back, so the executor must
  // wait for the socket many times while sending, reading the answers that arrive meanwhile
  // (libpq's own read on a blocked write keeps this from deadlocking even with write-only
  // waits, so this checks that every answer arrives intact, not the wait itself).
  const std::string big(100'000, 'x');
  std::vector<Value> params;
  params.emplace_back(big);
  const std::string sql = conformance::is_sqlite() ? "SELECT ?" : "SELECT $1::text";
  std::vector<PipelinedStatement> statements(300, PipelinedStatement{&sql, params});
  auto task = [&]() -> asio::awaitable<std::size_t> {
    Connection connection = conformance::engine().connect();
    auto results = co_await execute_pipeline_async(connection, statements);
    std::size_t intact = 0;
    for (auto& result : results)
      if (result.has_row() && result.row().get<std::string>(0) == big) ++intact;
    co_return intact;
  };
  CHECK(run(task()) == statements.size());
}

TEST_CASE("async: round trips on the wire", "[async][pipeline][postgresql]") {
  if (conformance::backend() != "postgresql") return;
  conformance::FreshSchema schema;
  testing::CountingProxy proxy(Url::parse(conformance::backend_url()));
  Engine engine = testing::one_connection_engine(proxy.url());
  // Each task is one session; the counts are of its own requests (the connection is open and
  // its statements prepared by the warm-up).
  auto commit_one = [&engine](std::string label) -> asio::awaitable<void> {
    AsyncSession session(engine);
    session.add(Tag{.label = std::move(label), .weight = 1});
    co_await session.commit();
  };
  auto flush_then_commit = [&engine](std::string suffix) -> asio::awaitable<void> {
    AsyncSession session(engine);
    session.add(Tag{.label = "green" + suffix, .weight = 1});
    co_await session.flush();
    session.add(Tag{.label = "blue" + suffix, .weight = 1});
    co_await session.commit();
  };
  auto update_all = [&engine]() -> asio::awaitable<void> {
    AsyncSession session(engine);
    auto tags = co_await session.all(session.query<Tag>());
    for (const auto& tag : tags)
      tag->weight += static_cast<int>(tag->id); // a different value per row: one UPDATE each
    co_await session.commit();
  };
  run(commit_one("warm"));
  run(flush_then_commit("1"));
  run(update_all());

  proxy.reset();
  run(commit_one("red"));
  // The INSERT alone is the transaction (a segment outside BEGIN commits at its sync).
  CHECK(proxy.round_trips() == 1);

  proxy.reset();
  run(flush_then_commit("2"));
  // The flush's INSERT with its BEGIN, then the last INSERT with COMMIT.
  CHECK(proxy.round_trips() == 2);

  proxy.reset();
  run(update_all());
  // The SELECT with its BEGIN, the 6 UPDATEs in one segment, then COMMIT on its own: an UPDATE's
  // row count is checked before anything commits, so it cannot ride with the COMMIT.
  CHECK(proxy.round_trips() == 3);
  CHECK(count_tags() == 6); // warm, green1, blue1, red, green2, blue2
}

TEST_CASE("async: the next pipeline is queued behind the previous session's ROLLBACK, whose "
          "answer is neither waited for nor blocked on",
          "[async][pipeline][postgresql]") {
  if (conformance::backend() != "postgresql") return;
  conformance::FreshSchema schema;
  testing::CountingProxy proxy(Url::parse(conformance::backend_url()));
  // Named, so that the server's view of this one connection can be looked up from outside.
  Url through_proxy = Url::parse(proxy.url());
  through_proxy.query["application_name"] = "retort_behind_rollback";
  Engine engine = testing::one_connection_engine(through_proxy.render(false));
  std::string server_saw; // the connection's last statement, while the answers were held
  asio::io_context io;
  std::optional<std::jthread> release; // joined before the proxy goes
  bool done = false;
  int ticks_while_held = 0;
  std::size_t loaded = 99;
  auto reader = [&]() -> asio::awaitable<void> {
    {
      AsyncSession first(engine);
      auto none = co_await first.all(first.query<Tag>());
      CHECK(none.empty());
      // `first` closes now: its ROLLBACK goes out without waiting, and its answer is held.
      proxy.hold_answers(true);
    }
    release.emplace([&proxy, &server_saw] {
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
      Connection observer = conformance::engine().connect();
      server_saw = observer
                       .execute_sql("SELECT query FROM pg_stat_activity WHERE application_name = "
                                    "'retort_behind_rollback'")
                       .scalar<std::string>();
      proxy.hold_answers(false);
    });
    AsyncSession second(engine);
    auto tags = co_await second.all(second.query<Tag>());
    loaded = tags.size();
    done = true;
  };
  auto ticker = [&]() -> asio::awaitable<void> {
    asio::steady_timer timer(co_await asio::this_coro::executor);
    while (!done) {
      timer.expires_after(std::chrono::milliseconds(10));
      co_await timer.async_wait(asio::use_awaitable);
      if (!done && proxy.holding()) ++ticks_while_held;
    }
  };
  auto read = asio::co_spawn(io, reader(), asio::use_future);
  auto tick = asio::co_spawn(io, ticker(), asio::use_future);
  io.run();
  read.get();
  tick.get();
  CHECK(loaded == 0);
  // Blocking on the ROLLBACK's answer would have stopped the timer for the whole hold.
  CHECK(ticks_while_held >= 5);
  // The second session's SELECT reached the server while the ROLLBACK's answer was still held:
  // it did not wait a round trip for that answer (the server would still show the ROLLBACK).
  CHECK(server_saw.rfind("SELECT", 0) == 0);
  CHECK(server_saw.find("tags") != std::string::npos);
}
