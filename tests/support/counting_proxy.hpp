// A one-connection TCP proxy on 127.0.0.1 between an engine and a PostgreSQL server, counting
// round trips on the wire: how often the server answers after the client sent something. Tests
// of pipelining assert these counts, since the statements a library logs say nothing about how
// many times it waited for the network.
#pragma once

#include <retort/core/url.hpp>
#include <retort/plugin/create_engine.hpp>

#include "loopback.hpp"

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <thread>

namespace retort::testing {

/// A one-connection TCP proxy on 127.0.0.1 that counts server answers to client requests.
class CountingProxy {
public:
  explicit CountingProxy(const Url& target) : target_(target) {
    const Listener listener = listen_on_loopback(1);
    listener_ = listener.fd;
    port_ = listener.port;
    REQUIRE(::pipe(stop_) == 0);
    thread_ = std::thread([this] { run(); });
  }
  ~CountingProxy() {
    (void)!::write(stop_[1], "x", 1);
    thread_.join();
    for (int fd : {listener_, stop_[0], stop_[1]})
      ::close(fd);
  }
  CountingProxy(const CountingProxy&) = delete;
  CountingProxy& operator=(const CountingProxy&) = delete;

  /// The target URL with the proxy's port.
  std::string url() const {
    Url url = target_;
    url.host = "127.0.0.1";
    url.port = port_;
    return url.render(false);
  }
  /// Server answers since the last reset (a request answered = one round trip).
  int round_trips() const { return answers_.load(); }
  /// While true, the server's answers wait in the proxy (requests still reach the server): a
  /// slow network, on demand.
  void hold_answers(bool hold) { held_ = hold; }
  /// True while answers are held.
  bool holding() const { return held_.load(); }
  /// Starts counting anew, once the wire is quiet.
  void reset() {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    answers_ = 0;
  }

private:
  void run() {
    pollfd accept_fds[2] = {{listener_, POLLIN, 0}, {stop_[0], POLLIN, 0}};
    if (::poll(accept_fds, 2, 10'000) <= 0 || (accept_fds[1].revents & POLLIN)) return;
    int client = ::accept(listener_, nullptr, nullptr);
    int server = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<std::uint16_t>(target_.port.value_or(5432)));
    ::inet_pton(AF_INET, target_.host.c_str(), &address.sin_addr);
    if (::connect(server, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
      ::close(client);
      ::close(server);
      return;
    }
    bool client_spoke = false;
    char buffer[65536];
    for (;;) {
      const bool held = held_.load();
      pollfd fds[3] = {{client, POLLIN, 0},
                       {server, static_cast<short>(held ? 0 : POLLIN), 0},
                       {stop_[0], POLLIN, 0}};
      // Held answers are looked at again every few milliseconds, when the hold may have ended.
      if (::poll(fds, 3, held ? 5 : -1) < 0) break;
      if (fds[2].revents & POLLIN) break;
      if (fds[0].revents & (POLLIN | POLLHUP)) {
        ssize_t n = ::read(client, buffer, sizeof buffer);
        if (n <= 0 || ::write(server, buffer, static_cast<std::size_t>(n)) != n) break;
        client_spoke = true;
      }
      if (fds[1].revents & (POLLIN | POLLHUP)) {
        ssize_t n = ::read(server, buffer, sizeof buffer);
        // Counted before the client can see the answer, so that its checks never race.
        if (n > 0 && client_spoke) ++answers_;
        client_spoke = false;
        if (n <= 0 || ::write(client, buffer, static_cast<std::size_t>(n)) != n) break;
      }
    }
    ::close(client);
    ::close(server);
  }

  Url target_;
  int listener_ = -1;
  int stop_[2] = {-1, -1};
  int port_ = 0;
  std::atomic<int> answers_{0};
  std::atomic<bool> held_{false};
  std::thread thread_;
};

/// An engine of one pooled connection to `url` (a proxy's), so that every session of a test
/// goes through the same counted wire.
inline Engine one_connection_engine(const std::string& url) {
  EngineConfig config;
  config.url = url;
  config.pool.kind = "queue";
  config.pool.size = 1;
  config.pool.max_overflow = 0;
  config.pool.timeout = std::chrono::milliseconds(5000);
  return create_engine(config);
}

} // namespace retort::testing
