#pragma once
// Starting, killing and restarting shoald processes for black-box tests.

#include <memory>
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
    std::vector<std::string> args = {"--data-dir",  data_dir_.string(),
                                     "--http-addr", "127.0.0.1:" + std::to_string(port_),
                                     "--rpc-addr",  "127.0.0.1:" + std::to_string(rpc_port_),
                                     "--cores",     "2",
                                     "--log-level", "info"};
    args.insert(args.end(), extra_.begin(), extra_.end());
    auto log = log_dir_ / ("shoald-" + std::to_string(starts_++) + ".log");
    process_ = std::make_unique<child_process>(shoald_binary(), args, log);
    auto port = process_->wait_for_log(R"(HTTP listening on 127\.0\.0\.1:(\d+))", timeout);
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
  std::string log() const { return process_ ? process_->log() : std::string(); }
  child_process* process() { return process_.get(); }

 private:
  std::filesystem::path data_dir_;
  std::filesystem::path log_dir_;
  std::vector<std::string> extra_;
  uint16_t port_ = 0;  // 0 first; then the same port again on restart
  uint16_t rpc_port_ = 0;
  int starts_ = 0;
  std::unique_ptr<child_process> process_;
};

}  // namespace shoal::test
