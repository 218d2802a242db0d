// Pooled connections that look alive but are not: the server crashed (kill -9: it tells its
// clients nothing) and restarted behind a middlebox (a proxy, a NAT, a firewall) that keeps the
// client's side of each connection open until the client sends again. The pool cannot tell them
// dead at checkout (nothing arrived on their sockets) and pre_ping is off, so the first request of
// a session finds out: one that went out first on a connection just checked out, inside the
// transaction it began, is sent once more on a fresh connection, and no session sees the loss. A
// failure of anything else, or of a request that might have committed, is never retried.
#include <utility> // before Asio (TOOLCHAIN.md: awaitable.hpp needs std::exchange)

#include "loopback.hpp"
#include "pg_support.hpp"

#include <retort/async/async_session.hpp>
#include <retort/core/error.hpp>
#include <retort/engine/connection.hpp>
#include <retort/orm.hpp>
#include <retort/plugin/create_engine.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace lost_test {
struct Item {
  std::int64_t id{};
  std::string name;
};
} // namespace lost_test

template <> struct retort::Model<lost_test::Item> {
  static constexpr auto table = "lost_items";
  static constexpr auto fields = fields_of(column("id", &lost_test::Item::id, primary_key),
                                           column("name", &lost_test::Item::name));
};

using namespace retort;
using lost_test::Item;

namespace {

constexpr int pool_size = 5;

// A TCP proxy on a loopback port in front of the test server. When the server closes its side
// of a connection, the proxy keeps the client's side open, silent, until the client sends
// again: then it closes it, and the client reads the end of the stream (08006).
class HidingProxy {
public:
  explicit HidingProxy(int target_port) : target_port_(target_port) {
    // Close-on-exec throughout: the restarted server (started with std::system()) would otherwise
    // inherit the proxy's sockets and keep them open after the proxy closed them, and a client
    // the proxy cut off would wait for an end of stream that never comes.
    const retort::testing::Listener listener = retort::testing::listen_on_loopback(64);
    listener_ = listener.fd;
    port_ = listener.port;
    thread_ = std::thread([this] { serve(); });
  }
  ~HidingProxy() {
    stop_ = true;
    thread_.join();
    for (auto& pair : pairs_) {
      if (pair.client >= 0) ::close(pair.client);
      if (pair.server >= 0) ::close(pair.server);
    }
    ::close(listener_);
  }
  HidingProxy(const HidingProxy&) = delete;
  HidingProxy& operator=(const HidingProxy&) = delete;

  int port() const { return port_; }
  // Client connections the proxy closed because the client sent on after the server was gone.
  int hidden_losses() const { return losses_; }

private:
  struct Pair {
    int client = -1;
    int server = -1;
  };

  int connect_target() const {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(target_port_));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      ::close(fd);
      return -1;
    }
    return fd;
  }

  static bool forward(int from, int to) {
    char buffer[16384];
    const ssize_t n = ::read(from, buffer, sizeof buffer);
    if (n <= 0) return false;
    for (ssize_t done = 0; done < n;) {
      const ssize_t w = ::write(to, buffer + done, static_cast<std::size_t>(n - done));
      if (w <= 0) return false;
      done += w;
    }
    return true;
  }

  void serve() {
    while (!stop_) {
      std::vector<pollfd> fds{{listener_, POLLIN, 0}};
      for (const auto& pair : pairs_) {
        fds.push_back({pair.client, POLLIN, 0});
        fds.push_back({pair.server, POLLIN, 0}); // -1 once gone: poll() skips it
      }
      if (::poll(fds.data(), fds.size(), 50) <= 0) continue;
      if (fds[0].revents & POLLIN) accept_one();
      for (std::size_t i = 0; i < pairs_.size() && 2 * i + 2 < fds.size(); ++i) {
        Pair& pair = pairs_[i];
        if (pair.server >= 0 && fds[2 * i + 2].revents != 0 && !forward(pair.server, pair.client)) {
          // The server's side ended: hidden from the client.
          ::close(pair.server);
          pair.server = -1;
        }
        if (pair.client >= 0 && fds[2 * i + 1].revents != 0) {
          if (pair.server >= 0 && forward(pair.client, pair.server)) continue;
          if (pair.server < 0) ++losses_;
          ::close(pair.client);
          pair.client = -1;
          if (pair.server >= 0) ::close(pair.server);
          pair.server = -1;
        }
      }
      std::erase_if(pairs_, [](const Pair& p) { return p.client < 0 && p.server < 0; });
    }
  }

  void accept_one() {
    const int client = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) return;
    const int server = connect_target();
    if (server < 0) {
      ::close(client);
      return;
    }
    pairs_.push_back({client, server});
  }

  int target_port_;
  int listener_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> losses_{0};
  std::vector<Pair> pairs_;
  std::thread thread_;
};

Engine engine_through(const HidingProxy& proxy) {
  Url url = Url::parse(*test::pg_url());
  url.host = "127.0.0.1";
  url.port = proxy.port();
  EngineConfig config;
  config.url = url.render(false);
  config.pool.kind = "queue";
  config.pool.size = pool_size;
  config.pool.max_overflow = 0;
  config.pool.pre_ping = false;
  config.pool.timeout = std::chrono::milliseconds(10000);
  return create_engine(config);
}

void create_table(Engine& engine) {
  Connection connection = engine.connect();
  // The server runs with synchronous_commit=off: a crash soon after would lose the table.
  connection.execute_ddl("SET synchronous_commit = on");
  connection.execute_ddl("DROP TABLE IF EXISTS lost_items");
  connection.execute_ddl("CREATE TABLE lost_items (id BIGINT GENERATED BY DEFAULT AS IDENTITY "
                         "PRIMARY KEY, name TEXT NOT NULL)");
  connection.execute_ddl("INSERT INTO lost_items (name) VALUES ('a'), ('b')");
}

// `pool_size` sessions at once, each reading, so that the pool holds as many idle connections.
void fill_pool(Engine& engine) {
  std::vector<std::unique_ptr<Session>> sessions;
  for (int i = 0; i < pool_size; ++i) {
    sessions.push_back(std::make_unique<Session>(engine));
    CHECK(sessions.back()->query<Item>().count() == 2);
  }
}

// The async sessions end by committing, which waits for the server's answer: a session that
// ended without it would leave its ROLLBACK unanswered when the server is killed, and the pool
// would then drop that connection at checkout (it reads the ROLLBACK's answer first) before a
// session could find it lost.
boost::asio::awaitable<void> fill_pool_async(Engine engine) {
  std::vector<std::unique_ptr<AsyncSession>> sessions;
  for (int i = 0; i < pool_size; ++i) {
    sessions.push_back(std::make_unique<AsyncSession>(engine));
    auto query = sessions.back()->query<Item>();
    CHECK(co_await sessions.back()->count(query) == 2);
  }
  for (auto& session : sessions)
    co_await session->commit();
}

// Sessions one after the other, twice as many as the pool holds: each reads, then writes and
// commits a row. Returns how many failed.
int failing_sessions(Engine& engine) {
  int failures = 0;
  for (int i = 0; i < 2 * pool_size; ++i) {
    try {
      Session session(engine);
      CHECK(session.query<Item>().count() >= 2);
      session.add(Item{.name = "after"});
      session.commit();
    } catch (const OperationalError& e) {
      WARN("session " << i << ": " << e.what());
      ++failures;
    }
  }
  return failures;
}

boost::asio::awaitable<int> failing_sessions_async(Engine engine) {
  int failures = 0;
  for (int i = 0; i < 2 * pool_size; ++i) {
    try {
      AsyncSession session(engine);
      auto items = co_await session.all(session.query<Item>());
      CHECK(items.size() >= 2);
      session.add(Item{.name = "after"});
      co_await session.commit();
    } catch (const OperationalError& e) {
      WARN("async session " << i << ": " << e.what());
      ++failures;
    }
  }
  co_return failures;
}

template <typename Task> auto run(Task task) {
  boost::asio::io_context io;
  auto future = boost::asio::co_spawn(io, std::move(task), boost::asio::use_future);
  io.run();
  return future.get();
}

std::int64_t rows_named(Engine& engine, const char* name) {
  Session session(engine);
  return session.query<Item>().filter(col(&Item::name) == std::string(name)).count();
}

// After the crash: no session failed; a session's first request found its connection lost
// and went again on a new one (the pool dropped the other idle ones, dead too); every session's
// row is there once, so nothing was sent twice.
void check_recovered(int failures, const HidingProxy& proxy, Engine& engine) {
  CHECK(failures == 0);
  CHECK(proxy.hidden_losses() >= 1);
  CHECK(rows_named(engine, "after") == 2 * pool_size);
}

struct Server {
  const char* base = std::getenv("RETORT_TEST_PG_BASE");
  const char* port = std::getenv("RETORT_TEST_PG_PORT");
  bool usable() const {
    if (base != nullptr && port != nullptr) return true;
    WARN("RETORT_TEST_PG_BASE/PORT unset: the test needs tests/pg-server.sh's server");
    return false;
  }
};

// What every case here starts from: a server of its own, the proxy in front of it, an engine
// through the proxy and the test's table.
struct Scene {
  Server server;
  std::unique_ptr<HidingProxy> proxy;
  std::optional<Engine> engine;
  Scene() {
    if (!server.usable()) return;
    proxy = std::make_unique<HidingProxy>(std::atoi(server.port));
    engine.emplace(engine_through(*proxy));
    create_table(*engine);
  }
};

} // namespace

TEST_CASE("lost connections: a session's first request goes once more on a fresh connection",
          "[postgresql][restart][pool]") {
  REQUIRE_PG_SERVER();
  Scene scene;
  if (!scene.engine) return;
  Server& server = scene.server;
  HidingProxy& proxy = *scene.proxy;
  Engine& engine = *scene.engine;
  fill_pool(engine);
  REQUIRE(engine.pool().status().idle == pool_size);

  test::crash_and_restart_server(server.base);
  check_recovered(failing_sessions(engine), proxy, engine);
}

TEST_CASE("lost connections: an async session's first request goes once more on a fresh one",
          "[postgresql][restart][pool][async]") {
  REQUIRE_PG_SERVER();
  Scene scene;
  if (!scene.engine) return;
  Server& server = scene.server;
  HidingProxy& proxy = *scene.proxy;
  Engine& engine = *scene.engine;
  run(fill_pool_async(engine));
  REQUIRE(engine.pool().status().idle == pool_size);

  test::crash_and_restart_server(server.base);
  check_recovered(run(failing_sessions_async(engine)), proxy, engine);
}

TEST_CASE("lost connections: a request after the first one is not sent again",
          "[postgresql][restart][pool]") {
  REQUIRE_PG_SERVER();
  Scene scene;
  if (!scene.engine) return;
  Server& server = scene.server;
  Engine& engine = *scene.engine;
  Session session(engine);
  CHECK(session.query<Item>().count() == 2); // the transaction has run a statement
  test::crash_and_restart_server(server.base);
  session.add(Item{.name = "lost"});
  CHECK_THROWS_AS(session.commit(), OperationalError);
  session.rollback();
  CHECK(rows_named(engine, "lost") == 0);
}
