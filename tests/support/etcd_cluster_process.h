#pragma once
// A real multi-member etcd for tests: N members on loopback, ports picked free, each with its own
// data directory under the test's. endpoints() is the comma-joined client URL list for shoald's
// --etcd. Each member can be frozen (signal(i, SIGSTOP) / SIGCONT), killed and restarted; leader()
// and make_leader() read and move etcd's own Raft leadership, so a test can freeze a follower or
// the leader on purpose. The destructor kills every member.
//
//   etcd_cluster_process etcd(dir / "etcd", 3);
//   etcd.make_leader(1);            // member 0 is then a follower
//   etcd.signal(0, SIGSTOP);        // quorum holds; requests to member 0 go unanswered

#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "tests/support/etcd_process.h"

namespace shoal::test {

class etcd_cluster_process {
 public:
  explicit etcd_cluster_process(const std::filesystem::path& dir, size_t n = 3) {
    std::vector<etcd_member> specs(n);
    std::string peers;
    for (size_t i = 0; i < n; ++i) {
      specs[i].name = "m" + std::to_string(i);
      specs[i].client_port = free_port();
      specs[i].peer_port = free_port();
      peers += (i ? "," : "") + specs[i].name +
               "=http://127.0.0.1:" + std::to_string(specs[i].peer_port);
    }
    for (size_t i = 0; i < n; ++i) {
      specs[i].initial_cluster = peers;
      members_.push_back(std::make_unique<etcd_process>(dir / specs[i].name, specs[i]));
    }
    for (auto& m : members_) m->wait_healthy();
  }
  ~etcd_cluster_process() {
    for (auto& m : members_) m->kill();
  }

  size_t size() const { return members_.size(); }
  etcd_process& member(size_t i) { return *members_.at(i); }
  const etcd_process& member(size_t i) const { return *members_.at(i); }

  /// Every member's client URL, starting with member `first`, then in order.
  std::vector<std::string> endpoint_list(size_t first = 0) const {
    std::vector<std::string> out;
    for (size_t k = 0; k < size(); ++k) out.push_back(members_[(first + k) % size()]->endpoint());
    return out;
  }
  /// The same, comma-joined (shoald's --etcd).
  std::string endpoints(size_t first = 0) const {
    std::string out;
    for (auto& e : endpoint_list(first)) out += (out.empty() ? "" : ",") + e;
    return out;
  }

  void signal(size_t i, int sig) { member(i).signal(sig); }
  void kill(size_t i) { member(i).kill(); }
  /// Starts member `i` again on its data and waits until it is back in the cluster.
  void restart(size_t i) {
    member(i).launch();
    member(i).wait_healthy();
  }

  /// The member etcd's Raft currently has as leader, as the first member that answers says.
  std::optional<size_t> leader() const {
    std::vector<std::string> ids(size());
    std::string leader_id;
    for (size_t i = 0; i < size(); ++i) {
      auto s = status(i);
      if (!s) continue;
      ids[i] = s->first;
      if (leader_id.empty()) leader_id = s->second;
    }
    for (size_t i = 0; i < size(); ++i) {
      if (!leader_id.empty() && ids[i] == leader_id) return i;
    }
    return std::nullopt;
  }

  /// Moves etcd's leadership to member `to` (a no-op when it leads); true once it leads.
  bool make_leader(size_t to) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (std::chrono::steady_clock::now() < deadline) {
      auto now = leader();
      if (now == to) return true;
      auto target = status(to);
      if (now && target) {
        try {
          http_client c(member(*now).port(), std::chrono::seconds(5));
          c.request(boost::beast::http::verb::post, "/v3/maintenance/transfer-leadership",
                    R"({"targetID":")" + target->first + R"("})");
        } catch (const std::exception&) {
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return false;
  }

 private:
  /// Member `i`'s own id and the leader's id (decimal strings), if it answers within a second.
  std::optional<std::pair<std::string, std::string>> status(size_t i) const {
    try {
      http_client c(member(i).port(), std::chrono::seconds(1));
      auto r = c.request(boost::beast::http::verb::post, "/v3/maintenance/status", "{}");
      std::smatch id, leader;
      static const std::regex id_re(R"re("member_id":"(\d+)")re");
      static const std::regex leader_re(R"re("leader":"(\d+)")re");
      if (r.status != 200 || !std::regex_search(r.body, id, id_re) ||
          !std::regex_search(r.body, leader, leader_re))
        return std::nullopt;
      return std::make_pair(id[1].str(), leader[1].str());
    } catch (const std::exception&) {
      return std::nullopt;
    }
  }

  std::vector<std::unique_ptr<etcd_process>> members_;
};

}  // namespace shoal::test
