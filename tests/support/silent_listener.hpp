// A TCP listener on 127.0.0.1 (a free port) that never says a word: the
// kernel completes connections into the backlog, so a client connects and
// then waits for an answer that never comes. For connect/read timeouts.
#pragma once

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace ilana_test {

// A listening socket on 127.0.0.1 at a port the kernel picks.
inline int listen_loopback(int *port) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd >= 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr *>(&a), sizeof a) == 0);
    REQUIRE(::listen(fd, 16) == 0);
    socklen_t len = sizeof a;
    REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr *>(&a), &len) == 0);
    *port = ntohs(a.sin_port);
    return fd;
}

class SilentListener {
public:
    SilentListener() { fd_ = listen_loopback(&port_); }
    ~SilentListener() { ::close(fd_); } // accepted-but-silent peers stay in the backlog
    SilentListener(const SilentListener &) = delete;
    SilentListener &operator=(const SilentListener &) = delete;
    int fd() const { return fd_; }
    int port() const { return port_; }

private:
    int fd_ = -1;
    int port_ = 0;
};

} // namespace ilana_test
