#pragma once
// A TCP proxy for tests to put in front of one etcd member (or any HTTP/1.1 server on
// loopback), with faults the test switches at run time:
//   * pass through (the default, and pass() goes back to it);
//   * set_delay(D): every answer byte reaches the client D later than it left the server;
//   * set_blackhole(true): connections are accepted, requests vanish, nothing ever answers
//     (like a member behind a partition that drops packets);
//   * drop_answer_when(pred): a request for which pred(request) is true is forwarded whole,
//     and once the server starts answering it the answer is dropped and both connections are
//     closed: the client sees its connection close after etcd applied the request (a lost
//     answer). nth_request(path, n) makes a predicate for the n-th request to a path.
// Requests are found on each keep-alive connection by parsing the request line, the headers and
// Content-Length; a chunked request body makes the rest of that connection opaque (never
// matched). One thread, non-blocking sockets and poll(); the destructor stops it.
//
//   etcd_proxy proxy("127.0.0.1", etcd.port());
//   proxy.drop_answer_when(etcd_proxy::nth_request("/v3/kv/txn", 2));
//   client_config.endpoints = {proxy.endpoint()};

#include <algorithm>
#include <arpa/inet.h>
#include <atomic>
#include <chrono>
#include <cstring>
#include <deque>
#include <fcntl.h>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdexcept>
#include <string>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

namespace shoal::test {

class etcd_proxy {
 public:
  struct request {
    std::string method;
    std::string path;
    std::string body;
  };
  using predicate = std::function<bool(const request&)>;
  using clock = std::chrono::steady_clock;

  /// Listens on a free loopback port and forwards to host:port (an IPv4 address).
  etcd_proxy(const std::string& host, uint16_t port) {
    std::memset(&target_, 0, sizeof target_);
    target_.sin_family = AF_INET;
    target_.sin_port = htons(port);
    if (::inet_pton(AF_INET, host.c_str(), &target_.sin_addr) != 1)
      throw std::runtime_error("etcd_proxy: not an IPv4 address: " + host);
    listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    sockaddr_in any{};
    any.sin_family = AF_INET;
    any.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof any;
    if (listener_ < 0 || ::bind(listener_, reinterpret_cast<sockaddr*>(&any), len) != 0 ||
        ::listen(listener_, 128) != 0 ||
        ::getsockname(listener_, reinterpret_cast<sockaddr*>(&any), &len) != 0)
      throw std::runtime_error("etcd_proxy: cannot listen");
    port_ = ntohs(any.sin_port);
    wake_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    thread_ = std::thread([this] { run(); });
  }
  ~etcd_proxy() {
    stop_ = true;
    poke();
    thread_.join();
    for (auto& c : conns_) close_conn(c);
    ::close(listener_);
    ::close(wake_);
  }
  etcd_proxy(const etcd_proxy&) = delete;
  etcd_proxy& operator=(const etcd_proxy&) = delete;

  uint16_t port() const { return port_; }
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }

  /// No fault: everything passes (connections blackholed so far stay dead).
  void pass() {
    std::lock_guard l(mu_);
    delay_ = {};
    blackhole_ = false;
    drop_ = {};
  }
  void set_delay(std::chrono::milliseconds d) {
    std::lock_guard l(mu_);
    delay_ = d;
  }
  void set_blackhole(bool on) {
    std::lock_guard l(mu_);
    blackhole_ = on;
    poke();
  }
  /// Called on the proxy's thread (under the proxy's lock: it must not call the proxy) for each
  /// whole request; true: lose that request's answer. With `then_blackhole`, the proxy also goes
  /// silent at that moment (set_blackhole(true)), so the client's next request, however quick,
  /// finds etcd out of reach too.
  void drop_answer_when(predicate p, bool then_blackhole = false) {
    std::lock_guard l(mu_);
    drop_ = std::move(p);
    blackhole_after_drop_ = then_blackhole;
  }
  /// Closes every proxied connection now (clients see a reset or an end of stream).
  void close_all() {
    close_all_ = true;
    poke();
  }

  /// Requests seen whole, and answers dropped so far.
  size_t requests() const { return requests_; }
  size_t answers_dropped() const { return dropped_; }

  /// A predicate true for the n-th request (from 1) to `path` after it is made.
  static predicate nth_request(std::string path, size_t n) {
    auto seen = std::make_shared<size_t>(0);
    return [path = std::move(path), n, seen](const request& r) {
      return r.path == path && ++*seen == n;
    };
  }

 private:
  struct delayed {
    clock::time_point due;
    std::string bytes;
  };
  struct conn {
    int client = -1;
    int server = -1;
    std::string to_server;          // bytes ready to write to the server
    std::string to_client;          // bytes ready to write to the client
    std::deque<delayed> answers;    // server bytes waiting for their delay
    std::string parse;              // client bytes not yet parsed into a whole request
    bool opaque = false;            // cannot be parsed any more (chunked body, junk)
    bool drop_next_answer = false;  // the request in flight matched drop_
    bool dead = false;              // blackholed: read and discard everything
    bool closing = false;
  };

  void poke() {
    uint64_t one = 1;
    (void)!::write(wake_, &one, sizeof one);
  }
  static void set_nonblocking(int fd) { ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK); }
  static void close_conn(conn& c) {
    if (c.client >= 0) ::close(c.client);
    if (c.server >= 0) ::close(c.server);
    c.client = c.server = -1;
  }

  void accept_all() {
    for (;;) {
      int fd = ::accept4(listener_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) return;
      conn c;
      c.client = fd;
      bool blackhole;
      {
        std::lock_guard l(mu_);
        blackhole = blackhole_;
      }
      if (blackhole) {
        c.dead = true;
      } else {
        // A blocking connect on loopback: immediate (refused when the server is down).
        int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (s < 0 || ::connect(s, reinterpret_cast<const sockaddr*>(&target_), sizeof target_)) {
          if (s >= 0) ::close(s);
          ::close(fd);
          continue;
        }
        set_nonblocking(s);
        int one = 1;
        ::setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        c.server = s;
      }
      conns_.push_back(std::move(c));
    }
  }

  /// Finds whole requests in what the client sent and checks each against drop_.
  void parse_requests(conn& c) {
    while (!c.opaque) {
      const size_t head_end = c.parse.find("\r\n\r\n");
      if (head_end == std::string::npos) {
        if (c.parse.size() > (1u << 20)) c.opaque = true;
        return;
      }
      std::string head = c.parse.substr(0, head_end);
      for (auto& ch : head) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      if (head.find("transfer-encoding:") != std::string::npos) {
        c.opaque = true;
        return;
      }
      size_t length = 0;
      if (auto at = head.find("\r\ncontent-length:"); at != std::string::npos)
        length = std::strtoull(head.c_str() + at + 17, nullptr, 10);
      if (c.parse.size() < head_end + 4 + length) return;
      request r;
      const size_t sp1 = c.parse.find(' ');
      const size_t sp2 = c.parse.find(' ', sp1 + 1);
      if (sp1 == std::string::npos || sp2 == std::string::npos || sp2 > head_end) {
        c.opaque = true;
        return;
      }
      r.method = c.parse.substr(0, sp1);
      r.path = c.parse.substr(sp1 + 1, sp2 - sp1 - 1);
      r.body = c.parse.substr(head_end + 4, length);
      c.parse.erase(0, head_end + 4 + length);
      ++requests_;
      std::lock_guard l(mu_);
      if (drop_ && drop_(r)) {
        c.drop_next_answer = true;
        if (blackhole_after_drop_) blackhole_ = true;
      }
    }
  }

  /// Reads what is there; false when the peer closed or failed.
  static bool read_into(int fd, std::string& out) {
    char buf[65536];
    for (;;) {
      ssize_t n = ::read(fd, buf, sizeof buf);
      if (n > 0) {
        out.append(buf, static_cast<size_t>(n));
        if (out.size() > (8u << 20)) return true;  // enough for now; poll again later
        continue;
      }
      if (n == 0) return false;
      return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
    }
  }
  static bool write_from(int fd, std::string& in) {
    while (!in.empty()) {
      ssize_t n = ::send(fd, in.data(), in.size(), MSG_NOSIGNAL);
      if (n > 0) {
        in.erase(0, static_cast<size_t>(n));
        continue;
      }
      return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR);
    }
    return true;
  }

  void step(conn& c, short client_ev, short server_ev, clock::duration delay, bool blackhole) {
    if (blackhole && !c.dead) {
      c.dead = true;
      if (c.server >= 0) ::close(c.server);
      c.server = -1;
      c.answers.clear();
      c.to_client.clear();
    }
    if (client_ev & (POLLIN | POLLHUP | POLLERR)) {
      std::string got;
      bool open = read_into(c.client, got);
      if (!c.dead) {
        if (!c.opaque) {
          c.parse += got;
          parse_requests(c);
        }
        c.to_server += got;
      }
      if (!open) c.closing = true;
    }
    if (c.server >= 0 && (server_ev & (POLLIN | POLLHUP | POLLERR))) {
      std::string got;
      bool open = read_into(c.server, got);
      if (!got.empty() && c.drop_next_answer) {
        ++dropped_;
        c.closing = true;  // the answer is lost with the connection
        return;
      }
      if (!got.empty()) c.answers.push_back({clock::now() + delay, std::move(got)});
      if (!open) {
        ::close(c.server);
        c.server = -1;
      }
    }
    const auto now = clock::now();
    while (!c.answers.empty() && c.answers.front().due <= now) {
      c.to_client += c.answers.front().bytes;
      c.answers.pop_front();
    }
    if (c.server >= 0 && !write_from(c.server, c.to_server)) c.closing = true;
    if (!write_from(c.client, c.to_client)) c.closing = true;
    // The server closed and everything it said was passed on: close the client side too.
    if (c.server < 0 && !c.dead && c.answers.empty() && c.to_client.empty()) c.closing = true;
  }

  void run() {
    std::vector<pollfd> fds;
    while (!stop_) {
      clock::duration delay;
      bool blackhole;
      {
        std::lock_guard l(mu_);
        delay = delay_;
        blackhole = blackhole_;
      }
      if (close_all_.exchange(false)) {
        for (auto& c : conns_) c.closing = true;
      }
      for (auto it = conns_.begin(); it != conns_.end();) {
        if (it->closing) {
          close_conn(*it);
          it = conns_.erase(it);
        } else {
          ++it;
        }
      }
      fds.clear();
      fds.push_back({wake_, POLLIN, 0});
      fds.push_back({listener_, POLLIN, 0});
      auto timeout = std::chrono::milliseconds(1000);
      const auto now = clock::now();
      for (auto& c : conns_) {
        fds.push_back(
            {c.client, static_cast<short>(POLLIN | (c.to_client.empty() ? 0 : POLLOUT)), 0});
        fds.push_back(
            {c.server, static_cast<short>(POLLIN | (c.to_server.empty() ? 0 : POLLOUT)), 0});
        if (!c.answers.empty()) {
          auto wait = std::chrono::ceil<std::chrono::milliseconds>(c.answers.front().due - now);
          timeout = std::clamp(wait, std::chrono::milliseconds(0), timeout);
        }
      }
      ::poll(fds.data(), fds.size(), static_cast<int>(timeout.count()));
      if (fds[0].revents & POLLIN) {
        uint64_t v;
        (void)!::read(wake_, &v, sizeof v);
      }
      if (fds[1].revents & POLLIN) accept_all();
      size_t i = 2;
      for (auto& c : conns_) {
        // Connections accepted in this round are polled from the next one on.
        if (i + 1 >= fds.size() || fds[i].fd != c.client) break;
        step(c, fds[i].revents, fds[i + 1].revents, delay, blackhole);
        i += 2;
      }
    }
  }

  sockaddr_in target_{};
  int listener_ = -1;
  int wake_ = -1;
  uint16_t port_ = 0;
  std::list<conn> conns_;  // the proxy thread's alone
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> close_all_{false};
  std::atomic<size_t> requests_{0};
  std::atomic<size_t> dropped_{0};
  std::mutex mu_;  // guards the settings below
  clock::duration delay_{};
  bool blackhole_ = false;
  bool blackhole_after_drop_ = false;
  predicate drop_;
};

}  // namespace shoal::test
