#pragma once
// Starting, killing and restarting shoald processes for black-box tests.

#include <memory>
#include <regex>
#include <signal.h>
#include <string>
#include <vector>

#include "tests/support/child_process.h"
#include "tests/support/http_client.h"
#include "tests/support/tmpdir.h"

namespace shoal::test {

inline std::filesystem::path shoald_binary() {
  return binary_dir() / "shoald";
}

/// One shoald over a data directory; restartable on the same port.
class shoald_instance {
 public:
  shoald_instance(std::filesystem::path data_dir, std::filesystem::path log_dir,
                  std::vector<std::string> extra = {})
      : data_dir_(std::move(data_dir)), log_dir_(std::move(log_dir)), extra_(std::move(extra)) {}

  /// Starts and waits until it is ready (collections loaded). Returns false with the log if not.
  bool start(std::chrono::milliseconds timeout = std::chrono::seconds(60)) {
    // With a launcher, the launcher is the program and shoald its first argument.
    std::filesystem::path exe = shoald_binary();
    std::vector<std::string> args;
    if (!launcher_.empty()) {
      exe = launcher_.front();
      args.assign(launcher_.begin() + 1, launcher_.end());
      args.push_back(shoald_binary().string());
    }
    args.insert(args.end(), {"--data-dir", data_dir_.string(), "--http-addr",
                             listen_host_ + ":" + std::to_string(port_), "--rpc-addr",
                             listen_host_ + ":" + std::to_string(rpc_port_), "--cores", "2",
                             "--log-level", "info"});
    args.insert(args.end(), extra_.begin(), extra_.end());
    auto log = log_dir_ / ("shoald-" + std::to_string(starts_++) + ".log");
    process_ = std::make_unique<child_process>(exe, args, log);
    auto port = process_->wait_for_log(
        "HTTP listening on " + std::regex_replace(listen_host_, std::regex(R"(\.)"), R"(\.)") +
            R"(:(\d+))",
        timeout);
    if (!port) return false;
    port_ = static_cast<uint16_t>(std::stoi(*port));
    return process_->wait_for_log("shoald ready", timeout).has_value();
  }
  void kill() {
    if (process_) {
      process_->signal(SIGKILL);
      process_->wait_exit(std::chrono::seconds(10));
    }
  }
  std::optional<int> stop() {
    if (!process_) return 0;
    process_->signal(SIGTERM);
    return process_->wait_exit(std::chrono::seconds(60));
  }
  uint16_t port() const { return port_; }
  /// Fixed ports (a cluster's hosts must know each other's before they start); 0: any.
  void set_ports(uint16_t http, uint16_t rpc) {
    port_ = http;
    rpc_port_ = rpc;
  }
  /// The address HTTP and RPC listen on (default 127.0.0.1; 0.0.0.0 inside a network namespace).
  void set_listen_host(std::string host) { listen_host_ = std::move(host); }
  /// A command that runs shoald, such as {"ip", "netns", "exec", NAME}; it must exec shoald in
  /// place so that signals sent to the child reach shoald.
  void set_launcher(std::vector<std::string> launcher) { launcher_ = std::move(launcher); }
  std::string log() const { return process_ ? process_->log() : std::string(); }
  child_process* process() { return process_.get(); }

 private:
  std::filesystem::path data_dir_;
  std::filesystem::path log_dir_;
  std::vector<std::string> extra_;
  std::string listen_host_ = "127.0.0.1";
  std::vector<std::string> launcher_;
  uint16_t port_ = 0;  // 0 first; then the same port again on restart
  uint16_t rpc_port_ = 0;
  int starts_ = 0;
  std::unique_ptr<child_process> process_;
};

}  // namespace shoal::test
