#include "tools/shoalctl/verify.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <optional>
#include <thread>

#include <simdjson.h>

#include "tools/shoalctl/table.h"

namespace shoal::ctl {
namespace {

constexpr int kUnreachable = 3;

struct host {
  std::string id;
  target t;
  std::string problem;                    // why it could not be asked (empty: it answered)
  std::map<uint32_t, std::string> roles;  // shards of the collection it holds -> role
};

struct digest_row {
  bool ok = false;
  bool unreachable = false;
  unsigned status = 0;
  std::string error;
  uint64_t term = 0, lsn = 0, points = 0;
  std::string checksum;
};

/// An exception's text without Boost's source location ("connect: Connection refused").
std::string short_error(const std::string& e) {
  return e.substr(0, e.find(" [system:"));
}

std::string message_of(const std::string& body) {
  simdjson::dom::parser p;
  std::string_view m;
  if (p.parse(body)["status"]["error"].get(m) == simdjson::SUCCESS) return std::string(m);
  return body;
}

/// GET /cluster's result from `t`; nullopt with `problem` set when that fails.
std::optional<std::string> cluster_of(const target& t, std::string& problem) {
  std::string error;
  auto r = call(t, "GET", "/cluster", "", error);
  if (!r) {
    problem = "unreachable: " + short_error(error);
    return std::nullopt;
  }
  if (r->status != 200) {
    problem = "GET /cluster answered " + std::to_string(r->status) + ": " + message_of(r->body);
    return std::nullopt;
  }
  return std::move(r->body);
}

digest_row digest_of(const host& h, const std::string& name, uint32_t shard) {
  digest_row d;
  std::string error;
  auto r = call(h.t, "GET", "/collections/" + name + "/shards/" + std::to_string(shard) + "/digest",
                "", error);
  if (!r) {
    d.unreachable = true;
    d.error = "unreachable: " + short_error(error);
    return d;
  }
  d.status = r->status;
  if (r->status != 200) {
    d.error = "HTTP " + std::to_string(r->status) + ": " + message_of(r->body);
    return d;
  }
  simdjson::dom::parser p;
  simdjson::dom::element res;
  std::string_view sum;
  if (p.parse(r->body)["result"].get(res) || res["term"].get(d.term) || res["lsn"].get(d.lsn) ||
      res["points"].get(d.points) || res["checksum"].get(sum)) {
    d.error = "not a digest: " + r->body;
    return d;
  }
  d.checksum = std::string(sum);
  d.ok = true;
  return d;
}

using shard_rows = std::map<std::string, digest_row>;  // host id -> its replica's digest

/// True when every replica answered and all are at one LSN (or a host's answer says waiting
/// cannot help).
bool settled(const shard_rows& rows) {
  std::optional<uint64_t> lsn;
  for (auto& [id, r] : rows) {
    if (!r.ok) {
      if (r.status == 503) return false;  // recovering: it may answer soon
      continue;
    }
    if (lsn && *lsn != r.lsn) return false;
    lsn = r.lsn;
  }
  return true;
}

}  // namespace

int cluster_verify(const target& seed, std::vector<std::string> args) {
  unsigned long wait_s = 10;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] != "--wait") continue;
    size_t used = 0;
    if (i + 1 < args.size()) {
      try {
        wait_s = std::stoul(args[i + 1], &used);
      } catch (...) {
        used = 0;
      }
    }
    if (used == 0 || used != args[i + 1].size() || wait_s > 600) {
      std::fprintf(stderr, "shoalctl: --wait expects whole seconds from 0 to 600\n");
      return 2;
    }
    args.erase(args.begin() + static_cast<ptrdiff_t>(i),
               args.begin() + static_cast<ptrdiff_t>(i) + 2);
    break;
  }
  if (args.size() != 1) {
    std::fprintf(stderr, "Usage: shoalctl cluster verify COLLECTION [--wait SECONDS]\n");
    return 2;
  }
  const std::string& name = args[0];

  // The hosts, from the host given.
  std::string problem;
  auto seed_view = cluster_of(seed, problem);
  if (!seed_view) {
    std::fprintf(stderr, "shoalctl: shoald at %s: %s\n", seed.address().c_str(), problem.c_str());
    return problem.starts_with("unreachable") ? kUnreachable : 1;
  }
  simdjson::dom::parser p;
  simdjson::dom::element result;
  simdjson::dom::object peers;
  std::string_view status;
  if (p.parse(*seed_view)["result"].get(result) || result["status"].get(status)) {
    std::fprintf(stderr, "shoalctl: %s: GET /cluster answered something else: %s\n",
                 seed.address().c_str(), seed_view->c_str());
    return 1;
  }
  if (status != "enabled" || result["peers"].get(peers)) {
    std::fprintf(stderr,
                 "shoalctl: shoald at %s is not in a cluster: there are no replicas to compare\n",
                 seed.address().c_str());
    return 1;
  }
  std::vector<host> hosts;
  for (auto [id, peer] : peers) {
    host h;
    h.id = std::string(id);
    h.t = seed;
    std::string_view uri, http;
    if (peer["uri"].get(uri) || peer["http"].get(http) || http.rfind(':') == std::string::npos) {
      h.problem = "its HTTP address is not known";
    } else {
      h.t.tls = uri.starts_with("https://");
      h.t.host = std::string(http.substr(0, http.rfind(':')));
      h.t.port = std::string(http.substr(http.rfind(':') + 1));
    }
    hosts.push_back(std::move(h));
  }

  // Which of them hold the collection, and which shards (each lists only its own replicas).
  std::optional<uint64_t> shard_number;
  for (auto& h : hosts) {
    if (!h.problem.empty()) continue;
    auto view = cluster_of(h.t, h.problem);
    if (!view) continue;
    simdjson::dom::parser hp;
    simdjson::dom::element coll;
    simdjson::dom::array shards;
    if (hp.parse(*view)["result"]["collections"][name].get(coll)) continue;  // not a holder
    uint64_t n;
    if (!coll["shard_number"].get(n)) shard_number = n;
    if (coll["shards"].get(shards)) continue;
    for (auto s : shards) {
      uint64_t id;
      std::string_view role;
      if (s["id"].get(id)) continue;
      h.roles[static_cast<uint32_t>(id)] = s["role"].get(role) ? "-" : std::string(role);
    }
  }
  bool any_holder =
      std::any_of(hosts.begin(), hosts.end(), [](auto& h) { return !h.roles.empty(); });
  if (!any_holder) {
    bool all_answered =
        std::all_of(hosts.begin(), hosts.end(), [](auto& h) { return h.problem.empty(); });
    std::fprintf(stderr, "shoalctl: no %shost holds a replica of collection `%s`\n",
                 all_answered ? "" : "reachable ", name.c_str());
    for (auto& h : hosts) {
      if (!h.problem.empty())
        std::fprintf(stderr, "  host %s (%s): %s\n", h.id.c_str(), h.t.address().c_str(),
                     h.problem.c_str());
    }
    return all_answered ? 1 : kUnreachable;
  }

  // Every replica's digest, again while a shard's replicas are at different LSNs.
  std::map<uint32_t, shard_rows> rows;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(wait_s);
  for (;;) {
    rows.clear();
    for (auto& h : hosts) {
      for (auto& [shard, role] : h.roles) rows[shard][h.id] = digest_of(h, name, shard);
    }
    bool all_settled =
        std::all_of(rows.begin(), rows.end(), [](auto& r) { return settled(r.second); });
    if (all_settled || std::chrono::steady_clock::now() >= deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }

  std::vector<std::vector<std::string>> table = {
      {"SHARD", "HOST", "ROLE", "TERM", "LSN", "POINTS", "CHECKSUM"}};
  std::vector<std::string> findings;
  bool unreachable = false, host_error = false;
  for (auto& h : hosts) {
    if (!h.problem.empty()) {
      bool gone = h.problem.starts_with("unreachable") || h.problem.starts_with("its HTTP");
      unreachable = unreachable || gone;
      host_error = host_error || !gone;
      findings.push_back("host " + h.id + " (" + h.t.address() + "): " + h.problem +
                         "; its replicas were not compared");
    }
  }
  size_t diverged = 0, replicas = 0;
  for (auto& [shard, by_host] : rows) {
    const digest_row* ref = nullptr;
    std::string ref_id;
    bool bad = false;
    for (auto& [id, r] : by_host) {
      ++replicas;
      std::string role = "-";
      for (auto& h : hosts) {
        if (h.id == id) role = h.roles.at(shard);
      }
      if (!r.ok) {
        table.push_back({std::to_string(shard), id, role, "-", "-", "-", r.error});
        if (r.unreachable) {
          unreachable = true;
          findings.push_back("shard " + std::to_string(shard) + " on " + id + ": " + r.error);
        } else {
          bad = true;
          findings.push_back("shard " + std::to_string(shard) + " on " + id + ": " + r.error);
        }
        continue;
      }
      table.push_back({std::to_string(shard), id, role, std::to_string(r.term),
                       std::to_string(r.lsn), std::to_string(r.points), r.checksum});
      // The leader's replica is the reference when it answered; else the first.
      if (!ref || (role == "leader")) {
        ref = &r;
        ref_id = id;
      }
    }
    if (!ref) continue;
    bool same_lsn = std::all_of(by_host.begin(), by_host.end(),
                                [&](auto& e) { return !e.second.ok || e.second.lsn == ref->lsn; });
    if (!same_lsn) {
      std::string at;
      for (auto& [id, r] : by_host) {
        if (r.ok) at += (at.empty() ? "" : ", ") + id + " at " + std::to_string(r.lsn);
      }
      findings.push_back("shard " + std::to_string(shard) +
                         ": the replicas' LSNs did not meet within " + std::to_string(wait_s) +
                         " s (" + at + "); not compared");
      bad = true;
    } else {
      for (auto& [id, r] : by_host) {
        if (!r.ok || &r == ref) continue;
        if (r.checksum == ref->checksum && r.points == ref->points && r.term == ref->term) continue;
        std::string what;
        if (r.checksum != ref->checksum) what += "checksum " + r.checksum + " vs " + ref->checksum;
        if (r.points != ref->points) {
          what += (what.empty() ? "" : ", ") + std::string("points ") + std::to_string(r.points) +
                  " vs " + std::to_string(ref->points);
        }
        if (r.term != ref->term) {
          what += (what.empty() ? "" : ", ") + std::string("term ") + std::to_string(r.term) +
                  " vs " + std::to_string(ref->term);
        }
        findings.push_back("shard " + std::to_string(shard) + ": DIVERGED: " + id +
                           " differs from " + ref_id + " at LSN " + std::to_string(r.lsn) + " (" +
                           what + ")");
        bad = true;
      }
    }
    if (bad) ++diverged;
  }

  std::printf("collection %s: %zu shards, %zu replicas\n\n", name.c_str(), rows.size(), replicas);
  print_table(table);
  std::printf("\n");
  for (auto& f : findings) std::printf("%s\n", f.c_str());
  if (diverged > 0 || host_error) {
    std::printf("%zu of %zu shards: replicas differ or could not be compared\n", diverged,
                rows.size());
    return 1;
  }
  if (unreachable) {
    std::printf("the replicas that answered are identical; some hosts could not be reached\n");
    return kUnreachable;
  }
  if (shard_number && rows.size() < *shard_number) {
    std::printf("only %zu of the %llu shards have a replica on a host that answered\n", rows.size(),
                static_cast<unsigned long long>(*shard_number));
    return 1;
  }
  std::printf("all replicas of every shard are identical\n");
  return 0;
}

}  // namespace shoal::ctl
