// Async sessions on SQLite run a plan on the io_context's own thread while no call has to wait
// (a thread hop costs more than a SQLite statement), and hand it to a worker thread from the
// call that would wait for another connection's lock: that call is made again there, once, and
// the io_context's thread never waits. In WAL mode (where a refused call can be made again) and
// on a private in-memory database.
#include <utility>

#include <retort/async/async_session.hpp>
#include <retort/retort.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <catch2/catch.hpp>

#include "temp_database.hpp"

#include <chrono>
#include <memory>
#include <optional>
#include <string>

using namespace retort;
using retort::test::TempDatabase;
using namespace std::chrono_literals;
namespace asio = boost::asio;

namespace sw {
struct Note {
  std::int64_t id{};
  std::string text;
};
} // namespace sw

template <> struct retort::Model<sw::Note> {
  static constexpr auto table = "sw_notes";
  static constexpr auto fields =
      fields_of(column("id", &sw::Note::id, primary_key), column("text", &sw::Note::text));
};

namespace {

const char* const create_table =
    "CREATE TABLE IF NOT EXISTS sw_notes (id INTEGER PRIMARY KEY, text TEXT NOT NULL)";

Engine wal_engine(const TempDatabase& db, const std::string& mode = "deferred") {
  EngineConfig config;
  config.options = {{"journal_mode", "wal"},
                    {"synchronous", "normal"},
                    {"transaction_mode", mode},
                    {"busy_timeout", "20000"}};
  auto engine = create_engine(db.url(), config);
  engine.connect().execute_ddl(create_table);
  return engine;
}

std::int64_t rows_in(Engine& engine) {
  auto connection = engine.connect();
  auto result = connection.execute_sql("SELECT count(*) FROM sw_notes");
  return result.row().get<std::int64_t>(0);
}

// A flag set by a handler posted to the io_context: still false after an awaited call when
// the call never gave the thread up. Shared with the handler, which runs after the coroutine
// that posted it has ended when nothing yielded.
struct OtherWork {
  std::shared_ptr<bool> ran = std::make_shared<bool>(false);
  explicit OtherWork(asio::io_context& io) {
    asio::post(io, [ran = ran] { *ran = true; });
  }
};

// Loads, flushes and commits in one session on `engine`; after the first load, which checks
// a connection out, no awaited call gives the thread up.
asio::awaitable<void> work_without_waits(Engine engine, asio::io_context& io) {
  AsyncSession session(engine);
  auto notes = co_await session.all(session.query<sw::Note>());
  CHECK(notes.empty());
  {
    OtherWork other(io);
    auto note = session.add(sw::Note{.text = "here"});
    co_await session.flush();
    CHECK(note->id != 0);
    auto again = co_await session.all(session.query<sw::Note>());
    CHECK(again.size() == 1);
    co_await session.commit();
    CHECK_FALSE(*other.ran);
  }
}

asio::awaitable<void> pause(std::chrono::milliseconds duration) {
  asio::steady_timer timer(co_await asio::this_coro::executor, duration);
  co_await timer.async_wait(asio::use_awaitable);
}

} // namespace

TEST_CASE("an async session on SQLite that waits for nothing keeps to its thread",
          "[async][sqlite][waits]") {
  asio::io_context io;
  TempDatabase db;
  SECTION("WAL file") {
    asio::co_spawn(io, work_without_waits(wal_engine(db), io), asio::detached);
  }
  SECTION("private memory database") {
    auto engine = create_engine("sqlite://");
    engine.connect().execute_ddl(create_table);
    asio::co_spawn(io, work_without_waits(engine, io), asio::detached);
  }
  io.run();
}

TEST_CASE("an async commit that would wait for a lock waits on a worker and writes once",
          "[async][sqlite][waits]") {
  const std::string mode = GENERATE(as<std::string>{}, "deferred", "immediate");
  INFO("transaction_mode " << mode);
  TempDatabase db;
  Engine engine = wal_engine(db, mode);
  // Another connection of the process holds the write lock.
  auto holder = engine.connect();
  auto holding = holder.begin();
  holder.execute_sql("INSERT INTO sw_notes (text) VALUES ('holder')");

  asio::io_context io;
  std::shared_ptr<sw::Note> note;
  bool committed = false;
  std::optional<std::string> failure;
  auto writer = [&]() -> asio::awaitable<void> {
    try {
      AsyncSession session(engine);
      // In immediate mode the load's BEGIN IMMEDIATE is what waits. (A deferred transaction
      // that read first could not wait for the lock at all: SQLite refuses that at once.)
      if (mode == "immediate") co_await session.all(session.query<sw::Note>());
      note = session.add(sw::Note{.text = "waited"});
      co_await session.commit();
      committed = true;
    } catch (const std::exception& e) {
      failure = e.what();
    }
  };
  // The io_context's thread stays free while the writer waits: this coroutine runs, and ends
  // the holder's transaction, which lets the writer go on.
  auto releaser = [&]() -> asio::awaitable<void> {
    co_await pause(200ms);
    CHECK_FALSE(committed);
    holding.commit();
  };
  asio::co_spawn(io, writer(), asio::detached);
  asio::co_spawn(io, releaser(), asio::detached);
  io.run();

  CHECK(failure.value_or("") == "");
  CHECK(committed);
  CHECK(rows_in(engine) == 2); // the holder's row and the note, once
  REQUIRE(note != nullptr);
  Session check(engine);
  auto stored = check.get<sw::Note>(note->id);
  REQUIRE(stored != nullptr);
  CHECK(stored->text == "waited");
}
