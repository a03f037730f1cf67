#pragma once
// A real etcd (Debian's etcd-server) for tests: a single member on ports picked free, on loopback
// unless the test names another local address (partition_test puts it on a bridge that hosts in
// network namespaces reach), its data in a directory the test owns. kill() and restart() (same
// data, same ports) let tests take it away and bring it back. The destructor kills it.

#include <chrono>
#include <filesystem>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "tests/support/child_process.h"
#include "tests/support/http_client.h"

namespace shoal::test {

/// A TCP port that was free a moment ago (bound to port 0 on `host`, then released), and never
/// one this process was given before: a test that asks for several ports before anything binds
/// them must not get the same one twice (the kernel may hand a released port out again).
inline uint16_t free_port(const std::string& host = "127.0.0.1") {
  static std::mutex mu;
  static std::set<uint16_t> given;
  std::lock_guard l(mu);
  for (;;) {
    boost::asio::io_context ioc;
    boost::asio::ip::tcp::acceptor a(
        ioc, boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address(host), 0));
    auto port = a.local_endpoint().port();
    if (given.insert(port).second) return port;
  }
}

class etcd_process {
 public:
  static std::filesystem::path binary() {
    for (const char* p : {"/usr/bin/etcd", "/usr/local/bin/etcd"}) {
      if (std::filesystem::exists(p)) return p;
    }
    return {};
  }

  /// `host`: the local address it listens on (clients and peers).
  explicit etcd_process(std::filesystem::path dir, std::string host = "127.0.0.1")
      : dir_(std::move(dir)),
        host_(std::move(host)),
        client_port_(free_port(host_)),
        peer_port_(free_port(host_)) {
    start();
  }

  std::string endpoint() const { return "http://" + host_ + ":" + std::to_string(client_port_); }
  const std::string& host() const { return host_; }
  uint16_t port() const { return client_port_; }
  bool running() const { return proc_ && proc_->running(); }

  void kill() {
    if (proc_) {
      proc_->signal(SIGKILL);
      proc_->wait_exit(std::chrono::seconds(10));
    }
  }
  void restart() {
    kill();
    start();
  }
  std::string log() const { return proc_ ? proc_->log() : std::string(); }

 private:
  void start() {
    const std::string client = endpoint();
    const std::string peer = "http://" + host_ + ":" + std::to_string(peer_port_);
    std::filesystem::create_directories(dir_);
    proc_ = std::make_unique<child_process>(
        binary(),
        std::vector<std::string>{"--name", "test", "--data-dir", (dir_ / "data").string(),
                                 "--listen-client-urls", client, "--advertise-client-urls", client,
                                 "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
                                 "--initial-cluster", "test=" + peer, "--log-level", "warn"},
        dir_ / ("etcd-" + std::to_string(++starts_) + ".log"));
    // Ready when /health says so (a fresh member elects itself within about a second).
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
      if (!proc_->running()) throw std::runtime_error("etcd exited:\n" + proc_->log());
      try {
        http_client c(client_port_, std::chrono::seconds(2), host_);
        auto r = c.get("/health");
        if (r.status == 200 && r.body.find("\"true\"") != std::string::npos) return;
      } catch (const std::exception&) {
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    throw std::runtime_error("etcd did not become healthy:\n" + proc_->log());
  }

  std::filesystem::path dir_;
  std::string host_;
  uint16_t client_port_;
  uint16_t peer_port_;
  int starts_ = 0;
  std::unique_ptr<child_process> proc_;
};

}  // namespace shoal::test
