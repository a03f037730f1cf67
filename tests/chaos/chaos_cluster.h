#pragma once
// The cluster the chaos suite breaks: a 3-member etcd and N shoald hosts on loopback, each host
// reaching each etcd member through its own etcd_proxy (proxies[host][member]), so a fault can
// delay or lose etcd's answers to one host or to all. Hosts list the members in the same order
// (member 0 first), with a 1 s lease (etcd grants 2 s).

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <simdjson.h>

#include "tests/integration/etcd_cluster.h"

namespace shoal::test::chaos {

using coordinated::host;

class chaos_cluster {
 public:
  chaos_cluster(const tmpdir& dir, size_t n, const std::vector<std::string>& extra)
      : etcd(dir.path() / "etcd", 3) {
    for (size_t i = 0; i < n; ++i) {
      host h;
      h.id = "n" + std::to_string(i);
      h.http = free_port();
      h.rpc = free_port();
      std::vector<std::unique_ptr<etcd_proxy>> own;
      std::string endpoints;
      for (size_t m = 0; m < etcd.size(); ++m) {
        own.push_back(std::make_unique<etcd_proxy>("127.0.0.1", etcd.member(m).port()));
        endpoints += (m ? "," : "") + own.back()->endpoint();
      }
      proxies.push_back(std::move(own));
      auto logs = dir.path() / ("logs-" + h.id);
      std::filesystem::create_directories(logs);
      std::vector<std::string> args{"--node-id",
                                    h.id,
                                    "--etcd",
                                    endpoints,
                                    "--advertise",
                                    "127.0.0.1:" + std::to_string(h.rpc),
                                    "--replication.lease-ttl",
                                    "1s"};
      args.insert(args.end(), extra.begin(), extra.end());
      h.proc = std::make_unique<shoald_instance>(dir.path() / h.id, logs, args);
      h.proc->set_ports(h.http, h.rpc);
      hosts.push_back(std::move(h));
    }
  }
  ~chaos_cluster() {
    for (auto& h : hosts) {
      if (h.proc->process()) h.proc->process()->signal(SIGCONT);
      h.proc->kill();
    }
    for (size_t m = 0; m < etcd.size(); ++m) etcd.signal(m, SIGCONT);
  }
  chaos_cluster(const chaos_cluster&) = delete;
  chaos_cluster& operator=(const chaos_cluster&) = delete;

  bool start(host& h) {
    h.up = h.proc->start();
    return h.up;
  }
  /// Every proxy back to passing everything.
  void pass_all() {
    for (auto& own : proxies)
      for (auto& p : own) p->pass();
  }

  /// The leader GET /cluster on `h` names for `name` ("" while none or when it does not answer).
  static std::string reported_leader(const host& h, const std::string& name) {
    try {
      http_client c(h.http, 1s);
      auto r = c.request(boost::beast::http::verb::get, "/cluster");
      simdjson::dom::parser p;
      std::string_view leader;
      if (r.status != 200 ||
          p.parse(r.body)["result"]["collections"][name]["leader"].get(leader) != simdjson::SUCCESS)
        return "";
      return std::string(leader);
    } catch (const std::exception&) {
      return "";
    }
  }
  /// Each shard's term as GET /cluster on `h` reports it (empty when it does not answer).
  static std::vector<uint64_t> shard_terms(const host& h, const std::string& name) {
    std::vector<uint64_t> out;
    try {
      http_client c(h.http, 1s);
      auto r = c.request(boost::beast::http::verb::get, "/cluster");
      simdjson::dom::parser p;
      simdjson::dom::array shards;
      if (r.status != 200 ||
          p.parse(r.body)["result"]["collections"][name]["shards"].get(shards) != simdjson::SUCCESS)
        return out;
      for (auto s : shards) {
        uint64_t t = 0;
        (void)s["term"].get(t);
        out.push_back(t);
      }
    } catch (const std::exception&) {
    }
    return out;
  }
  /// The host the others agree leads `name` (by the first answering host's view), or null.
  host* believed_leader(const std::string& name) {
    for (auto& h : hosts) {
      if (!h.up) continue;
      auto id = reported_leader(h, name);
      for (auto& l : hosts)
        if (l.id == id && l.up) return &l;
    }
    return nullptr;
  }

  etcd_cluster_process etcd;
  std::vector<std::vector<std::unique_ptr<etcd_proxy>>> proxies;  // [host][member]
  std::vector<host> hosts;
};

}  // namespace shoal::test::chaos
