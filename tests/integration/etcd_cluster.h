#pragma once
// A coordinated cluster for integration tests: a real etcd (one member unless the test asks for
// more) and N shoald processes on loopback (`--etcd` listing every member, member 0 first,
// `--advertise`, a 1 s lease unless the test sets one), with helpers to find the leader by
// writing, to read etcd's keys and GET /cluster, and to wait for hosts to converge. With
// etcd_options::proxied the hosts reach each member through an etcd_proxy the test controls
// (proxies[i] in front of member i). Used by failover_test.cc, cluster_admin_test.cc and
// etcd_member_fault_test.cc.

#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <simdjson.h>

#include "engine/common/base64.h"
#include "tests/integration/points_support.h"
#include "tests/integration/shoald_fixture.h"
#include "tests/support/etcd_cluster_process.h"
#include "tests/support/etcd_proxy.h"

namespace shoal::test::coordinated {

using namespace std::chrono_literals;
using boost::beast::http::verb;

struct host {
  std::string id;
  uint16_t http = 0;
  uint16_t rpc = 0;
  std::unique_ptr<shoald_instance> proc;
  bool up = false;
};

inline constexpr uint64_t kProbeId = 999'999'999;

struct etcd_options {
  size_t members = 1;
  bool proxied = false;  // the hosts reach member i through proxies[i]
  /// Each host reaches member i through a proxy of its own, host_proxies[host][i], so a fault
  /// can cut one host off etcd while the others still reach it.
  bool proxied_per_host = false;
};

class cluster {
 public:
  /// `extra`: flags for every host; `eo`: the etcd the hosts use; `per_host`: more flags for
  /// some hosts, by id ("n0", ...).
  cluster(const tmpdir& dir, size_t n, std::vector<std::string> extra = {}, etcd_options eo = {},
          std::map<std::string, std::vector<std::string>> per_host = {})
      : etcd(dir.path() / "etcd", eo.members) {
    std::string endpoints = etcd.endpoints();
    if (eo.proxied) {
      endpoints.clear();
      for (size_t i = 0; i < etcd.size(); ++i) {
        proxies.push_back(std::make_unique<etcd_proxy>("127.0.0.1", etcd.member(i).port()));
        endpoints += (i ? "," : "") + proxies.back()->endpoint();
      }
    }
    for (size_t i = 0; i < n; ++i) {
      host h;
      h.id = "n" + std::to_string(i);
      h.http = free_port();
      h.rpc = free_port();
      auto logs = dir.path() / ("logs-" + h.id);
      std::filesystem::create_directories(logs);
      std::string mine = endpoints;
      if (eo.proxied_per_host) {
        mine.clear();
        auto& own = host_proxies.emplace_back();
        for (size_t m = 0; m < etcd.size(); ++m) {
          own.push_back(std::make_unique<etcd_proxy>("127.0.0.1", etcd.member(m).port()));
          mine += (m ? "," : "") + own.back()->endpoint();
        }
      }
      std::vector<std::string> args{
          "--node-id", h.id, "--etcd", mine, "--advertise", "127.0.0.1:" + std::to_string(h.rpc)};
      auto& own = per_host[h.id];
      if (std::find(extra.begin(), extra.end(), "--replication.lease-ttl") == extra.end() &&
          std::find(own.begin(), own.end(), "--replication.lease-ttl") == own.end()) {
        args.insert(args.end(), {"--replication.lease-ttl", "1s"});
      }
      args.insert(args.end(), extra.begin(), extra.end());
      args.insert(args.end(), own.begin(), own.end());
      h.proc = std::make_unique<shoald_instance>(dir.path() / h.id, logs, args);
      h.proc->set_ports(h.http, h.rpc);
      hosts.push_back(std::move(h));
    }
  }
  ~cluster() {
    for (auto& h : hosts) {
      if (h.proc->process()) h.proc->process()->signal(SIGCONT);
      h.proc->kill();
    }
  }
  bool start(host& h) {
    h.up = h.proc->start();
    if (!h.up) ADD_FAILURE() << h.id << " did not start:\n" << h.proc->log();
    return h.up;
  }
  /// The host that takes a write to `name` now, or null.
  host* leader(const std::string& name) {
    for (auto& h : hosts) {
      if (!h.up) continue;
      try {
        http_client c(h.http, 2s);
        // A real point (an empty batch reaches no shard, so any host would take it).
        auto r = c.request(verb::put, "/collections/" + name + "/points?wait=true",
                           points_body(kProbeId, kProbeId + 1));
        if (r.status == 200) return &h;
      } catch (const std::exception&) {
      }
    }
    return nullptr;
  }
  host* wait_leader(const std::string& name, std::chrono::milliseconds within = 15s) {
    auto deadline = std::chrono::steady_clock::now() + within;
    while (std::chrono::steady_clock::now() < deadline) {
      if (auto* h = leader(name)) return h;
      std::this_thread::sleep_for(20ms);
    }
    return nullptr;
  }
  /// Starts every host, creates `name` through the first, and returns its leader (null if
  /// something failed; the test has been told why).
  host* start_with(const std::string& name, const char* config) {
    for (auto& h : hosts) {
      if (!start(h)) return nullptr;
    }
    http_client c(hosts[0].http);
    auto r = c.request(boost::beast::http::verb::put, "/collections/" + name, config);
    if (r.status != 200) {
      ADD_FAILURE() << "creating " << name << ": " << r.status << " " << r.body;
      return nullptr;
    }
    return wait_leader(name);
  }
  etcd_cluster_process etcd;
  std::vector<std::unique_ptr<etcd_proxy>> proxies;                    // with etcd_options::proxied
  std::vector<std::vector<std::unique_ptr<etcd_proxy>>> host_proxies;  // ... proxied_per_host
  std::vector<host> hosts;
};

/// Waits until the host at `port` holds exactly the point ids of the one at `like`.
inline bool same_points(uint16_t port, uint16_t like, const std::string& name) {
  for (int i = 0; i < 200; ++i) {
    if (ids(port, name) == ids(like, name)) return true;
    std::this_thread::sleep_for(50ms);
  }
  return false;
}

inline const char* kCollection = R"({"vectors":{"size":4,"distance":"Cosine"},"shard_number":2})";

/// The keys etcd holds under `prefix`, with their values, read from the member at `port`.
inline std::map<std::string, std::string> etcd_keys(uint16_t port, const std::string& prefix) {
  std::map<std::string, std::string> out;
  std::string end = prefix;
  end.back()++;
  try {
    http_client c(port, 2s);
    auto r = c.request(verb::post, "/v3/kv/range",
                       R"({"key":")" + base64_encode(prefix) + R"(","range_end":")" +
                           base64_encode(end) + R"("})");
    simdjson::dom::parser p;
    simdjson::dom::array kvs;
    if (r.status != 200 || p.parse(r.body)["kvs"].get(kvs) != simdjson::SUCCESS) return out;
    for (auto kv : kvs) {
      std::string_view k, v;
      if (kv["key"].get(k) || kv["value"].get(v)) continue;
      out[base64_decode(k).value_or("")] = base64_decode(v).value_or("");
    }
  } catch (const std::exception&) {
  }
  return out;
}
inline std::map<std::string, std::string> etcd_keys(const etcd_process& etcd,
                                                    const std::string& prefix) {
  return etcd_keys(etcd.port(), prefix);
}
/// From member 0 (a test that freezes it reads another member's with the overload above).
inline std::map<std::string, std::string> etcd_keys(const etcd_cluster_process& etcd,
                                                    const std::string& prefix) {
  return etcd_keys(etcd.member(0).port(), prefix);
}

/// GET /cluster's `result` from a host.
inline std::string cluster_status(uint16_t port) {
  http_client c(port);
  auto r = c.request(verb::get, "/cluster");
  EXPECT_EQ(r.status, 200u) << r.body;
  return r.body;
}

/// The leader GET /cluster names for `name` on the host at `port` ("" while none).
inline std::string reported_leader(uint16_t port, const std::string& name) {
  simdjson::dom::parser p;
  std::string_view leader;
  auto body = cluster_status(port);
  if (p.parse(body)["result"]["collections"][name]["leader"].get(leader) != simdjson::SUCCESS) {
    return "";
  }
  return std::string(leader);
}

/// Waits until GET /cluster on `h` names `leader` as the leader of docs.
inline bool reports_leader(const host& h, const std::string& leader) {
  for (int i = 0; i < 100; ++i) {
    if (reported_leader(h.http, "docs") == leader) return true;
    std::this_thread::sleep_for(50ms);
  }
  return false;
}

}  // namespace shoal::test::coordinated
