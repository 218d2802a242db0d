// Awaitable pool checkout and non-blocking connect: async sessions sharing a pool of one
// connection on one io_context thread wait for it without blocking the thread, time out with
// the blocking checkout's PoolTimeout, and leak nothing when abandoned; PostgreSQL connects
// without blocking the thread, within connect_timeout, with typed errors.
#include <utility>

#include "models.hpp"

#include <retort/async/async_session.hpp>
#include <retort/async/checkout.hpp>
#include <retort/core/error.hpp>
#include <retort/engine/connection.hpp>
#include <retort/plugin/create_engine.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <future>
#include <optional>
#include <string>
#include <thread>
#include <vector>

using namespace retort;
using namespace models;
using namespace std::chrono_literals;
namespace asio = boost::asio;

namespace {

// Each connection to :memory: is a database of its own: these tests need one shared database.
bool shared_database() { return conformance::backend() != "sqlite_memory"; }

// An engine on the test database whose pool holds one connection and no overflow.
Engine single_connection_engine(std::chrono::milliseconds timeout, bool pre_ping = false) {
  EngineConfig config;
  config.pool.kind = "queue";
  config.pool.size = 1;
  config.pool.max_overflow = 0;
  config.pool.timeout = timeout;
  config.pool.pre_ping = pre_ping;
  // The URL of the suite's engine: backend_url() makes a new SQLite file at every call.
  return create_engine(conformance::engine().url().render(false), config);
}

asio::awaitable<void> pause(std::chrono::milliseconds duration) {
  auto executor = co_await asio::this_coro::executor;
  asio::steady_timer timer(executor, duration);
  co_await timer.async_wait(asio::use_awaitable);
}

// Counts 2 ms ticks of a timer on the same io_context until `stop`: it only advances while the
// thread is free to run other coroutines.
asio::awaitable<void> tick(int& ticks, const bool& stop) {
  while (!stop) {
    co_await pause(2ms);
    ++ticks;
  }
}

int count_users(const std::string& name) {
  Session reader(conformance::engine());
  return static_cast<int>(reader.query<User>().filter_by(&User::name, name).all().size());
}

// A PostgreSQL URL for 127.0.0.1:`port` with the test server's user and database.
std::string url_on_port(unsigned short port, const std::string& query = "") {
  Url url = conformance::engine().url();
  url.host = "127.0.0.1";
  url.port = port;
  url.query.clear();
  std::string text = url.render(false);
  return query.empty() ? text : text + "?" + query;
}

// A TCP port that takes connections (the kernel completes them from the backlog) and never
// says a word: a server that hangs during the connect.
struct SilentServer {
  asio::io_context io;
  asio::ip::tcp::acceptor acceptor{io, {asio::ip::make_address("127.0.0.1"), 0}};
  unsigned short port() const { return acceptor.local_endpoint().port(); }
};

} // namespace

TEST_CASE("async checkout: the second session waits without blocking the thread, then gets the "
          "connection the first gives back",
          "[async][checkout]") {
  if (!shared_database()) return;
  conformance::FreshSchema schema;
  Engine engine = single_connection_engine(5s);
  asio::io_context io;
  int ticks = 0;
  bool stop = false;
  std::vector<std::string> events;

  // Whatever fails ends the others too, so that a failure cannot hang the test.
  auto give_up = [&] {
    events.push_back("failed");
    stop = true;
  };
  auto first = [&]() -> asio::awaitable<void> {
    struct GiveUp {
      decltype(give_up)& on_failure;
      bool done = false;
      ~GiveUp() {
        if (!done) on_failure();
      }
    } guard{give_up};
    AsyncSession session(engine);
    session.add(User{.name = "first", .age = 1});
    co_await session.flush(); // holds the pool's only connection from here to its commit
    events.push_back("first holds");
    while (engine.pool().status().waiting == 0 && !stop)
      co_await pause(1ms);
    // The second session is waiting: the thread still runs the ticker and this coroutine.
    const int before = ticks;
    while (ticks < before + 3 && !stop)
      co_await pause(1ms);
    events.push_back("first commits");
    co_await session.commit();
    guard.done = true;
  };
  auto second = [&]() -> asio::awaitable<void> {
    while (events.empty())
      co_await pause(1ms);
    if (events.front() == "failed") co_return;
    AsyncSession session(engine);
    session.add(User{.name = "second", .age = 2});
    try {
      co_await session.commit();
    } catch (...) {
      give_up();
      throw;
    }
    events.push_back("second committed");
    stop = true;
  };
  auto first_done = asio::co_spawn(io, first, asio::use_future);
  auto second_done = asio::co_spawn(io, second, asio::use_future);
  auto ticker_done = asio::co_spawn(io, tick(ticks, stop), asio::use_future);
  io.run();
  first_done.get();
  second_done.get();
  ticker_done.get();

  CHECK(events == std::vector<std::string>{"first holds", "first commits", "second committed"});
  CHECK(count_users("first") == 1);
  CHECK(count_users("second") == 1);
  auto status = engine.pool().status();
  CHECK(status.opened == 1);
  CHECK(status.checked_out == 0);
  CHECK(status.waiting == 0);
}

TEST_CASE("async checkout: the wait times out with the blocking checkout's PoolTimeout while "
          "the thread keeps running",
          "[async][checkout]") {
  if (!shared_database()) return;
  conformance::FreshSchema schema;
  Engine engine = single_connection_engine(300ms);
  Connection held = engine.connect(); // never given back during the wait
  std::string blocking_message;
  try {
    (void)engine.connect();
  } catch (const PoolTimeout& e) {
    blocking_message = e.what();
  }
  REQUIRE_FALSE(blocking_message.empty());

  asio::io_context io;
  int ticks = 0;
  bool stop = false;
  std::string message;
  int ticks_while_waiting = 0;
  auto waiter = [&]() -> asio::awaitable<void> {
    AsyncSession session(engine);
    session.add(User{.name = "never", .age = 1});
    const int before = ticks;
    try {
      co_await session.commit();
    } catch (const PoolTimeout& e) {
      message = e.what();
    }
    ticks_while_waiting = ticks - before;
    session.rollback();
    stop = true;
  };
  auto done = asio::co_spawn(io, waiter, asio::use_future);
  auto ticker_done = asio::co_spawn(io, tick(ticks, stop), asio::use_future);
  io.run();
  done.get();
  ticker_done.get();

  CHECK(message == blocking_message);
  CHECK_THAT(message, Catch::Contains("size 1") && Catch::Contains("300 ms"));
  CHECK(ticks_while_waiting > 0);
  auto status = engine.pool().status();
  CHECK(status.checked_out == 1); // the one held above, nothing else
  CHECK(status.waiting == 0);
  CHECK(count_users("never") == 0);
}

TEST_CASE("async checkout: a wait abandoned with its io_context leaks no slot and no waiter",
          "[async][checkout]") {
  if (!shared_database()) return;
  conformance::FreshSchema schema;
  Engine engine = single_connection_engine(10s);
  std::optional<Connection> held(engine.connect());
  bool woken_first = GENERATE(false, true);
  {
    asio::io_context io;
    auto waiter = [&]() -> asio::awaitable<void> {
      AsyncSession session(engine);
      session.add(User{.name = "abandoned", .age = 1});
      co_await session.commit();
    };
    asio::co_spawn(io, waiter, asio::detached);
    while (engine.pool().status().waiting == 0)
      io.run_one();
    // Given back while the waiter cannot run: it is woken but never tries again.
    if (woken_first) held.reset();
  } // the io_context and the suspended coroutine go
  auto status = engine.pool().status();
  CHECK(status.waiting == 0);
  CHECK(status.checked_out == (woken_first ? 0 : 1));
  held.reset();
  CHECK(engine.pool().status().checked_out == 0);

  // The connection is free for the next checkout, sync or async.
  asio::io_context io;
  auto next = [&]() -> asio::awaitable<void> {
    AsyncSession session(engine);
    session.add(User{.name = "next", .age = 1});
    co_await session.commit();
  };
  auto done = asio::co_spawn(io, next, asio::use_future);
  io.run();
  done.get();
  CHECK(count_users("next") == 1);
  CHECK(count_users("abandoned") == 0);
  CHECK(engine.pool().status().opened == 1);
}

TEST_CASE("async checkout: pre_ping pings off the event loop and the connection is reused",
          "[async][checkout]") {
  if (!shared_database()) return;
  conformance::FreshSchema schema;
  Engine engine = single_connection_engine(5s, true);
  asio::io_context io;
  auto work = [&]() -> asio::awaitable<void> {
    for (int i = 0; i < 3; ++i) {
      AsyncSession session(engine);
      session.add(User{.name = "pinged", .age = i});
      co_await session.commit();
    }
  };
  auto done = asio::co_spawn(io, work, asio::use_future);
  io.run();
  done.get();
  CHECK(count_users("pinged") == 3);
  CHECK(engine.pool().status().opened == 1);
}

TEST_CASE("async checkout: pre_ping replaces a connection the server closed",
          "[async][checkout][postgresql]") {
  if (conformance::backend() != "postgresql") return;
  conformance::FreshSchema schema;
  Engine engine = single_connection_engine(5s, true);
  std::int64_t pid = 0;
  {
    Connection connection = engine.connect();
    pid = connection.execute_sql("SELECT pg_backend_pid()").scalar<std::int64_t>();
  }
  {
    Connection killer = conformance::engine().connect();
    Value target(pid);
    CHECK(killer.execute_sql("SELECT pg_terminate_backend($1::int)", {&target, 1}).scalar<bool>());
    // The backend exits a moment later: wait until it is gone, so that the ping must fail.
    for (int i = 0; i < 500; ++i) {
      auto left = killer.execute_sql("SELECT count(*) FROM pg_stat_activity WHERE pid = $1::int",
                                     {&target, 1});
      if (left.scalar<std::int64_t>() == 0) break;
      std::this_thread::sleep_for(10ms);
    }
  }
  asio::io_context io;
  auto work = [&]() -> asio::awaitable<void> {
    AsyncSession session(engine);
    session.add(User{.name = "after kill", .age = 1});
    co_await session.commit();
  };
  auto done = asio::co_spawn(io, work, asio::use_future);
  io.run();
  done.get();
  CHECK(count_users("after kill") == 1);
  auto status = engine.pool().status();
  CHECK(status.opened == 2);
  CHECK(status.discarded == 1);
  CHECK(status.checked_out == 0);
}

TEST_CASE("async connect: PostgreSQL connects without blocking the thread, within "
          "connect_timeout, and leaves nothing behind",
          "[async][checkout][postgresql]") {
  if (conformance::backend() != "postgresql") return;
  SilentServer server;
  EngineConfig config;
  config.pool.kind = "queue";
  config.pool.size = 1;
  config.pool.max_overflow = 0;
  Engine engine = create_engine(url_on_port(server.port(), "connect_timeout=2"), config);

  asio::io_context io;
  int ticks = 0;
  bool stop = false;
  std::string message;
  std::string sqlstate;
  auto connect = [&]() -> asio::awaitable<void> {
    try {
      auto connection = co_await connect_async(engine);
    } catch (const OperationalError& e) {
      message = e.what();
      sqlstate = e.sqlstate();
    }
    stop = true;
  };
  auto done = asio::co_spawn(io, connect, asio::use_future);
  auto ticker_done = asio::co_spawn(io, tick(ticks, stop), asio::use_future);
  io.run();
  done.get();
  ticker_done.get();

  CHECK_THAT(message, Catch::Contains("timeout expired") && Catch::Contains("127.0.0.1"));
  CHECK(sqlstate == "08001");
  CHECK(ticks > 10); // the thread ran the ticker during the two seconds the connect waited
  auto status = engine.pool().status();
  CHECK(status.checked_out == 0);
  CHECK(status.opened == 0);
  // The half-open connection was closed: the server reads the client's end of it.
  asio::ip::tcp::socket accepted = server.acceptor.accept();
  std::vector<char> buffer(4096);
  boost::system::error_code error;
  while (!error)
    asio::read(accepted, asio::buffer(buffer), error);
  CHECK(error == asio::error::eof);
}

TEST_CASE("async connect: a connect abandoned with its io_context closes the socket and frees "
          "the slot",
          "[async][checkout][postgresql]") {
  if (conformance::backend() != "postgresql") return;
  SilentServer server;
  EngineConfig config;
  config.pool.kind = "queue";
  config.pool.size = 1;
  config.pool.max_overflow = 0;
  Engine engine = create_engine(url_on_port(server.port()), config);
  {
    asio::io_context io;
    auto connect = [&]() -> asio::awaitable<void> { auto c = co_await connect_async(engine); };
    asio::co_spawn(io, connect, asio::detached);
    while (engine.pool().status().checked_out == 0)
      io.run_one();
    io.run_for(100ms); // connecting: the server never answers
    CHECK(engine.pool().status().checked_out == 1);
  }
  auto status = engine.pool().status();
  CHECK(status.checked_out == 0);
  CHECK(status.opened == 0);
  asio::ip::tcp::socket accepted = server.acceptor.accept();
  std::vector<char> buffer(4096);
  boost::system::error_code error;
  while (!error)
    asio::read(accepted, asio::buffer(buffer), error);
  CHECK(error == asio::error::eof);
}

TEST_CASE("async connect: a refused PostgreSQL connect is a typed OperationalError",
          "[async][checkout][postgresql][errors]") {
  if (conformance::backend() != "postgresql") return;
  unsigned short port = 0;
  {
    SilentServer closed; // bound, then closed again: nobody listens on its port
    port = closed.port();
  }
  Engine engine = create_engine(url_on_port(port));
  asio::io_context io;
  auto connect = [&]() -> asio::awaitable<void> { auto c = co_await connect_async(engine); };
  auto done = asio::co_spawn(io, connect, asio::use_future);
  io.run();
  try {
    done.get();
    FAIL("connected to a closed port");
  } catch (const OperationalError& e) {
    CHECK(e.sqlstate() == "08001");
    CHECK_THAT(std::string(e.what()), Catch::Contains("could not connect to postgresql://") &&
                                          Catch::Contains(std::to_string(port)) &&
                                          Catch::Contains("refused"));
  }
  CHECK(engine.pool().status().checked_out == 0);
}
