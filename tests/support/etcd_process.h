#pragma once
// A real etcd (Debian's etcd-server) for tests: a single member on ports picked free, on loopback
// unless the test names another local address (partition_test puts it on a bridge that hosts in
// network namespaces reach), its data in a directory the test owns. kill() and restart() (same
// data, same ports) let tests take it away and bring it back; signal(SIGSTOP) freezes it (the
// kernel still accepts connections, nothing answers). The destructor kills it.
//
// A member of a multi-member cluster (etcd_cluster_process.h) is made with etcd_member: its name,
// its ports and the whole cluster's peer list; it is launched without waiting, since a member is
// healthy only once a quorum of them runs.

#include <chrono>
#include <filesystem>
#include <memory>
#include <mutex>
#include <set>
#include <signal.h>
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

/// Who a member of a multi-member etcd is: `initial_cluster` is "name=peer-url,...".
struct etcd_member {
  std::string name;
  uint16_t client_port = 0;
  uint16_t peer_port = 0;
  std::string initial_cluster;
};

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
        name_("test"),
        client_port_(free_port(host_)),
        peer_port_(free_port(host_)),
        initial_cluster_(name_ + "=" + peer_url()) {
    start();
  }

  /// A member of a cluster on loopback; launched, not yet healthy (see wait_healthy()).
  etcd_process(std::filesystem::path dir, etcd_member m)
      : dir_(std::move(dir)),
        host_("127.0.0.1"),
        name_(std::move(m.name)),
        client_port_(m.client_port),
        peer_port_(m.peer_port),
        initial_cluster_(std::move(m.initial_cluster)) {
    launch();
  }

  std::string endpoint() const { return "http://" + host_ + ":" + std::to_string(client_port_); }
  std::string peer_url() const { return "http://" + host_ + ":" + std::to_string(peer_port_); }
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
  /// SIGSTOP freezes it (connections are still accepted by the kernel), SIGCONT resumes it.
  void signal(int sig) {
    if (proc_) proc_->signal(sig);
  }
  std::string log() const { return proc_ ? proc_->log() : std::string(); }

  /// Waits until /health says this member is part of a working cluster (it has a leader).
  void wait_healthy(std::chrono::seconds within = std::chrono::seconds(30)) {
    const auto deadline = std::chrono::steady_clock::now() + within;
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

  /// Starts it again on the same data and ports without waiting (a restarted cluster member
  /// needs its peers).
  void launch() {
    kill();
    const std::string client = endpoint();
    const std::string peer = peer_url();
    std::filesystem::create_directories(dir_);
    proc_ = std::make_unique<child_process>(
        binary(),
        std::vector<std::string>{"--name", name_, "--data-dir", (dir_ / "data").string(),
                                 "--listen-client-urls", client, "--advertise-client-urls", client,
                                 "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
                                 "--initial-cluster", initial_cluster_, "--log-level", "warn"},
        dir_ / ("etcd-" + std::to_string(++starts_) + ".log"));
  }

 private:
  void start() {
    launch();
    // A fresh single member elects itself within about a second.
    wait_healthy();
  }

  std::filesystem::path dir_;
  std::string host_;
  std::string name_;
  uint16_t client_port_;
  uint16_t peer_port_;
  std::string initial_cluster_;
  int starts_ = 0;
  std::unique_ptr<child_process> proc_;
};

}  // namespace shoal::test
