// Listening sockets on 127.0.0.1 for the tests' TCP proxies.
#pragma once

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

namespace retort::testing {

/// A listening socket and the port the kernel gave it.
struct Listener {
  int fd = -1;
  int port = 0;
};

/// Listens on a free port of 127.0.0.1. Close-on-exec: a server the test starts with
/// std::system() must not inherit the proxy's sockets (it would keep them open after the proxy
/// closed them).
inline Listener listen_on_loopback(int backlog) {
  Listener listener;
  listener.fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(listener.fd >= 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(listener.fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
  REQUIRE(::listen(listener.fd, backlog) == 0);
  socklen_t length = sizeof address;
  REQUIRE(::getsockname(listener.fd, reinterpret_cast<sockaddr*>(&address), &length) == 0);
  listener.port = ntohs(address.sin_port);
  return listener;
}

} // namespace retort::testing
