// shoalctl: the admin command line for Shoal.
//
//   shoalctl [--addr HOST:PORT | --url http[s]://HOST:PORT] [--api-key KEY] [--tls-ca FILE]
//            [--timeout DURATION] COMMAND [ARGS]
//
// Against a running shoald (HTTP API):
//   health                       liveness and readiness; exit 0 ready, 1 not ready, 3 unreachable
//   version                      what the server reports at GET /
//   metrics [--filter PREFIX]    Prometheus metrics, optionally only lines starting with PREFIX
//   collections                  the collections and their point counts
//   cluster status               the cluster's hosts, and per collection and shard the leader,
//                                term, LSNs and each follower's lag (GET /cluster)
//   cluster failover COLLECTION [--to NODE] [--wait SECONDS]
//                                move the collection's leader to NODE (default: the follower
//                                holding most of the log); etcd clusters (POST /cluster/failover)
//   cluster verify COLLECTION [--wait SECONDS]
//                                compare every replica of every shard by digest at the same LSN
//                                (waiting up to SECONDS, default 10, for their LSNs to meet);
//                                exit 0 identical, 1 divergent (named), 3 a host unreachable
//   backup COLLECTION --out FILE take a snapshot of the collection and download it to FILE
//   restore COLLECTION --file FILE
//                                upload FILE (a backup) and restore it as COLLECTION, replacing it
// Offline, on files (no server needed; exit 1 when something is damaged):
//   log-dump DIR [--records]     a shard's mutation log, checksums validated
//   snapshot-inspect FILE        a shard snapshot (.snap) or a backup archive

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <simdjson.h>

#include "engine/common/json_writer.h"
#include "engine/shard/archive.h"
#include "tools/shoalctl/client.h"
#include "tools/shoalctl/offline.h"
#include "tools/shoalctl/table.h"
#include "tools/shoalctl/verify.h"

namespace {

using shoal::ctl::call;
using shoal::ctl::print_table;
using shoal::ctl::target;
using shoal::ctl::text_of;

constexpr int kUnreachable = 3;

int usage(int code) {
  std::fputs(
      "Usage: shoalctl [--addr HOST:PORT | --url http[s]://HOST:PORT] [--api-key KEY] "
      "[--tls-ca FILE] [--timeout DURATION] COMMAND [ARGS]\n\n"
      "Server commands (HTTP API at --addr, default 127.0.0.1:6333):\n"
      "  health                        liveness and readiness (exit 0 ready, 1 not, 3 "
      "unreachable)\n"
      "  version                       server version and compatible Qdrant API version\n"
      "  metrics [--filter PREFIX]     Prometheus metrics\n"
      "  collections                   collections and their point counts\n"
      "  cluster status                hosts, shards, leaders, terms and replication lag\n"
      "  cluster failover COLLECTION [--to NODE] [--wait SECONDS]\n"
      "                                move a collection's leader (etcd clusters); the leader\n"
      "                                pauses writes until NODE has its log (default wait 10)\n"
      "  cluster verify COLLECTION [--wait SECONDS]\n"
      "                                compare every replica of every shard by digest at the\n"
      "                                same LSN (waits up to SECONDS, default 10, for LSNs to\n"
      "                                meet); exit 0 identical, 1 divergent, 3 unreachable\n"
      "  backup COLLECTION --out FILE  snapshot a collection and download it\n"
      "  restore COLLECTION --file FILE  upload a backup and restore it as COLLECTION\n\n"
      "Offline commands (read files; exit 1 when damaged):\n"
      "  log-dump DIR [--records]      validate and list a shard's mutation log\n"
      "  snapshot-inspect FILE         validate a shard snapshot or a backup archive\n\n"
      "Options:\n"
      "  --addr HOST:PORT    shoald's HTTP address\n"
      "  --url http[s]://HOST:PORT  the same, as a URL (https: over TLS)\n"
      "  --api-key KEY       the server's API key (default: $SHOAL_API_KEY)\n"
      "  --tls-ca FILE       TLS: the CA the server's certificate chains to (default: the "
      "system's)\n"
      "  --timeout DURATION  per request, e.g. 500ms, 5s or 2m (default 5s)\n",
      code == 0 ? stdout : stderr);
  return code;
}

std::optional<std::chrono::milliseconds> parse_timeout(const std::string& t) {
  try {
    size_t pos = 0;
    long v = std::stol(t, &pos);
    auto unit = t.substr(pos);
    if (v <= 0) return std::nullopt;
    if (unit == "ms") return std::chrono::milliseconds(v);
    if (unit == "s") return std::chrono::milliseconds(v * 1000);
    if (unit == "m") return std::chrono::milliseconds(v * 60000);
  } catch (...) {
  }
  return std::nullopt;
}

int unreachable(const target& t, const std::string& error) {
  std::fprintf(stderr, "shoalctl: cannot reach shoald at %s: %s\n", t.address().c_str(),
               error.c_str());
  return kUnreachable;
}

int server_error(const target& t, const shoal::ctl::reply& r) {
  std::fprintf(stderr, "shoalctl: %s answered %u: %s\n", t.address().c_str(), r.status,
               r.body.c_str());
  return 1;
}

std::optional<std::string> flag(std::vector<std::string>& args, const std::string& name) {
  for (size_t i = 0; i + 1 < args.size(); ++i) {
    if (args[i] == name) {
      auto v = args[i + 1];
      args.erase(args.begin() + static_cast<ptrdiff_t>(i),
                 args.begin() + static_cast<ptrdiff_t>(i) + 2);
      return v;
    }
  }
  return std::nullopt;
}

int health(const target& t) {
  std::string error;
  auto live = call(t, "GET", "/livez", "", error);
  if (!live) return unreachable(t, error);
  auto ready = call(t, "GET", "/readyz", "", error);
  bool is_ready = ready && ready->status == 200;
  std::printf("%s: live (%u), %s: %s\n", t.address().c_str(), live->status,
              is_ready ? "ready" : "not ready", ready ? ready->body.c_str() : error.c_str());
  return is_ready ? 0 : 1;
}

int print_get(const target& t, const std::string& path, const std::string& filter) {
  std::string error;
  auto r = call(t, "GET", path, "", error);
  if (!r) return unreachable(t, error);
  if (r->status != 200) return server_error(t, *r);
  std::istringstream lines(r->body);
  std::string line;
  while (std::getline(lines, line)) {
    if (filter.empty() || line.starts_with(filter)) std::printf("%s\n", line.c_str());
  }
  return 0;
}

int collections(const target& t) {
  std::string error;
  auto r = call(t, "GET", "/collections", "", error);
  if (!r) return unreachable(t, error);
  if (r->status != 200) return server_error(t, *r);
  simdjson::dom::parser p;
  auto doc = p.parse(r->body);
  if (doc.error()) return server_error(t, *r);
  for (auto c : doc["result"]["collections"].get_array()) {
    std::string name{std::string_view(c["name"])};
    auto info = call(t, "GET", "/collections/" + name, "", error);
    std::string count = "?";
    if (info && info->status == 200) {
      simdjson::dom::parser ip;
      auto idoc = ip.parse(info->body);
      if (!idoc.error()) {
        uint64_t n;
        if (idoc["result"]["points_count"].get_uint64().get(n) == simdjson::SUCCESS)
          count = std::to_string(n);
      }
    }
    std::printf("%s\t%s points\n", name.c_str(), count.c_str());
  }
  return 0;
}

int cluster_status(const target& t) {
  std::string error;
  auto r = call(t, "GET", "/cluster", "", error);
  if (!r) return unreachable(t, error);
  if (r->status != 200) return server_error(t, *r);
  simdjson::dom::parser p;
  simdjson::dom::element result;
  if (p.parse(r->body)["result"].get(result) != simdjson::SUCCESS) return server_error(t, *r);
  auto field = [](simdjson::dom::element e, const char* key) {
    simdjson::dom::element v;
    return e[key].get(v) == simdjson::SUCCESS ? text_of(v) : std::string("-");
  };
  if (field(result, "status") != "enabled") {
    std::fprintf(stderr,
                 "shoalctl: shoald at %s is not in a cluster (cluster status: %s); a node joins "
                 "one with --node-id and --etcd or --peers\n",
                 t.address().c_str(), field(result, "status").c_str());
    return 1;
  }
  auto me = field(result, "peer_id");
  simdjson::dom::object peers, collections;
  if (result["peers"].get(peers) != simdjson::SUCCESS ||
      result["collections"].get(collections) != simdjson::SUCCESS) {
    return server_error(t, *r);
  }
  std::printf("cluster (%s): %zu hosts; this is node %s at %s\n\n", field(result, "mode").c_str(),
              peers.size(), me.c_str(), t.address().c_str());
  std::vector<std::vector<std::string>> hosts = {{"HOST", "RPC", "HTTP", ""}};
  for (auto [id, peer] : peers) {
    hosts.push_back({std::string(id), field(peer, "rpc"), field(peer, "http"),
                     std::string(id) == me ? "(this node)" : ""});
  }
  print_table(hosts);
  std::printf("\n");
  if (collections.size() == 0) {
    std::printf("no collections\n");
    return 0;
  }
  std::vector<std::vector<std::string>> rows = {{"COLLECTION", "SHARD", "LEADER", "TERM", "ROLE",
                                                 "LAST_LSN", "DURABLE_LSN", "FOLLOWER", "ACKED_LSN",
                                                 "LAG_LSN", "LAG_MS", "CONNECTED"}};
  for (auto [name, coll] : collections) {
    simdjson::dom::array shards;
    if (coll["shards"].get(shards) != simdjson::SUCCESS || shards.size() == 0) {
      rows.push_back({std::string(name), "-", field(coll, "leader"), "-", field(coll, "status"),
                      "-", "-", "-", "-", "-", "-", "-"});
      continue;
    }
    for (auto s : shards) {
      std::vector<std::string> row = {
          std::string(name), field(s, "id"),       field(s, "leader"),     field(s, "term"),
          field(s, "role"),  field(s, "last_lsn"), field(s, "durable_lsn")};
      simdjson::dom::array followers;
      if (s["followers"].get(followers) != simdjson::SUCCESS || followers.size() == 0) {
        row.insert(row.end(), {"-", "-", "-", "-", "-"});
        rows.push_back(std::move(row));
        continue;
      }
      for (auto f : followers) {
        auto line = row;
        line.insert(line.end(), {field(f, "id"), field(f, "acked_lsn"), field(f, "lag_lsn"),
                                 field(f, "lag_ms"), field(f, "connected")});
        rows.push_back(std::move(line));
      }
    }
  }
  print_table(rows);
  return 0;
}

int cluster_failover(target t, std::vector<std::string> args) {
  auto to = flag(args, "--to");
  auto wait = flag(args, "--wait");
  if (args.size() != 1) return usage(2);
  unsigned long seconds = 10;
  if (wait) {
    size_t used = 0;
    try {
      seconds = std::stoul(*wait, &used);
    } catch (...) {
      used = 0;
    }
    if (used == 0 || used != wait->size() || seconds == 0 || seconds > 120) {
      std::fprintf(stderr, "shoalctl: --wait expects whole seconds from 1 to 120\n");
      return 2;
    }
  }
  // The server answers once the leader moved or gave up: wait that long, and a little more.
  t.timeout = std::max(t.timeout, std::chrono::milliseconds((seconds + 10) * 1000));
  std::string body;
  shoal::json_writer w(body);
  w.begin_object().field("collection", args[0]);
  if (to) w.field("to", *to);
  w.end_object();
  std::string error;
  auto r = call(t, "POST", "/cluster/failover?timeout=" + std::to_string(seconds), body, error);
  if (!r) return unreachable(t, error);
  simdjson::dom::parser p;
  simdjson::dom::element doc;
  if (p.parse(r->body).get(doc) != simdjson::SUCCESS) return server_error(t, *r);
  if (r->status != 200) {
    std::string_view message;
    if (doc["status"]["error"].get(message) != simdjson::SUCCESS) return server_error(t, *r);
    std::fprintf(stderr, "shoalctl: failover of %s refused (%u): %.*s\n", args[0].c_str(),
                 r->status, static_cast<int>(message.size()), message.data());
    return 1;
  }
  std::string_view from, new_leader;
  uint64_t term = 0;
  double took = 0;
  auto result = doc["result"];
  if (result["from"].get(from) || result["to"].get(new_leader) || result["term"].get(term) ||
      result["seconds"].get(took)) {
    return server_error(t, *r);
  }
  std::printf("%s: leader moved from %.*s to %.*s (term %llu) in %.3f s\n", args[0].c_str(),
              static_cast<int>(from.size()), from.data(), static_cast<int>(new_leader.size()),
              new_leader.data(), static_cast<unsigned long long>(term), took);
  return 0;
}

int backup(const target& t, std::vector<std::string> args) {
  auto out = flag(args, "--out");
  if (args.size() != 1 || !out) return usage(2);
  auto& name = args[0];
  std::string error;
  auto made = call(t, "POST", "/collections/" + name + "/snapshots", "", error);
  if (!made) return unreachable(t, error);
  if (made->status != 200) return server_error(t, *made);
  simdjson::dom::parser p;
  auto doc = p.parse(made->body);
  std::string_view snap, checksum;
  if (doc["result"]["name"].get(snap) != simdjson::SUCCESS ||
      doc["result"]["checksum"].get(checksum) != simdjson::SUCCESS) {
    return server_error(t, *made);
  }
  auto file = call(t, "GET", "/collections/" + name + "/snapshots/" + std::string(snap), "", error);
  if (!file) return unreachable(t, error);
  if (file->status != 200) return server_error(t, *file);
  {
    std::ofstream f(*out, std::ios::binary | std::ios::trunc);
    f.write(file->body.data(), static_cast<std::streamsize>(file->body.size()));
    if (!f) {
      std::fprintf(stderr, "shoalctl: cannot write %s\n", out->c_str());
      return 1;
    }
  }
  auto sum = shoal::shard::sha256_file(*out);
  if (!sum || *sum != checksum) {
    std::fprintf(stderr, "shoalctl: %s does not match the server's checksum\n", out->c_str());
    return 1;
  }
  std::printf("backed up %s to %s (%zu bytes, sha256 %s)\n", name.c_str(), out->c_str(),
              file->body.size(), sum->c_str());
  return 0;
}

int restore(const target& t, std::vector<std::string> args) {
  auto in = flag(args, "--file");
  if (args.size() != 1 || !in) return usage(2);
  std::ifstream f(*in, std::ios::binary);
  if (!f) {
    std::fprintf(stderr, "shoalctl: cannot read %s\n", in->c_str());
    return 1;
  }
  std::string data((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  std::random_device rd;
  std::string boundary = "shoalctl" + std::to_string(rd());
  std::string body =
      "--" + boundary +
      "\r\nContent-Disposition: form-data; name=\"snapshot\"; filename=\"backup.snapshot\"\r\n"
      "Content-Type: application/octet-stream\r\n\r\n" +
      data + "\r\n--" + boundary + "--\r\n";
  std::string error;
  auto r = call(t, "POST", "/collections/" + args[0] + "/snapshots/upload?wait=true", body, error,
                "multipart/form-data; boundary=" + boundary);
  if (!r) return unreachable(t, error);
  if (r->status != 200) return server_error(t, *r);
  std::printf("restored %s from %s\n", args[0].c_str(), in->c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  target t;
  if (const char* env = std::getenv("SHOAL_API_KEY")) t.api_key = env;
  std::vector<std::string> args(argv + 1, argv + argc);
  std::vector<std::string> rest;
  std::string filter;
  for (size_t i = 0; i < args.size(); ++i) {
    auto& a = args[i];
    auto value = [&]() -> std::optional<std::string> {
      if (i + 1 >= args.size()) return std::nullopt;
      return args[++i];
    };
    if (a == "-h" || a == "--help") return usage(0);
    if (a == "--addr") {
      auto v = value();
      auto colon = v ? v->rfind(':') : std::string::npos;
      if (!v || colon == std::string::npos || colon == 0) {
        std::fprintf(stderr, "shoalctl: --addr expects HOST:PORT\n");
        return 2;
      }
      t.host = v->substr(0, colon);
      t.port = v->substr(colon + 1);
    } else if (a == "--url") {
      auto v = value();
      std::string_view u = v ? std::string_view(*v) : std::string_view();
      bool scheme = u.starts_with("http://") || u.starts_with("https://");
      t.tls = u.starts_with("https://");
      if (scheme) u.remove_prefix(t.tls ? 8 : 7);
      while (u.ends_with('/')) u.remove_suffix(1);
      auto colon = u.rfind(':');
      if (!v || !scheme || colon == std::string_view::npos || colon == 0 || colon + 1 == u.size() ||
          u.find('/') != std::string_view::npos) {
        std::fprintf(stderr, "shoalctl: --url expects http://HOST:PORT or https://HOST:PORT\n");
        return 2;
      }
      t.host = std::string(u.substr(0, colon));
      t.port = std::string(u.substr(colon + 1));
    } else if (a == "--api-key" || a == "--tls-ca") {
      auto v = value();
      if (!v) {
        std::fprintf(stderr, "shoalctl: %s expects a value\n", a.c_str());
        return 2;
      }
      (a == "--api-key" ? t.api_key : t.ca_file) = *v;
    } else if (a == "--timeout") {
      auto v = value();
      auto parsed = v ? parse_timeout(*v) : std::nullopt;
      if (!parsed) {
        std::fprintf(stderr, "shoalctl: --timeout expects a duration such as 500ms or 5s\n");
        return 2;
      }
      t.timeout = *parsed;
    } else if (a == "--filter") {
      auto v = value();
      if (!v) {
        std::fprintf(stderr, "shoalctl: --filter expects a prefix\n");
        return 2;
      }
      filter = *v;
    } else {
      rest.push_back(a);
    }
  }
  if (rest.empty()) return usage(2);
  auto command = rest.front();
  rest.erase(rest.begin());
  if (command == "health") return health(t);
  if (command == "version") return print_get(t, "/", "");
  if (command == "metrics") return print_get(t, "/metrics", filter);
  if (command == "collections") return collections(t);
  if (command == "cluster") {
    if (rest.size() == 1 && rest[0] == "status") return cluster_status(t);
    if (!rest.empty() && rest[0] == "verify") {
      return shoal::ctl::cluster_verify(t, std::vector<std::string>(rest.begin() + 1, rest.end()));
    }
    if (!rest.empty() && rest[0] == "failover") {
      return cluster_failover(t, std::vector<std::string>(rest.begin() + 1, rest.end()));
    }
    return usage(2);
  }
  if (command == "backup") {
    if (t.timeout < std::chrono::minutes(10)) t.timeout = std::chrono::minutes(10);
    return backup(t, rest);
  }
  if (command == "restore") {
    if (t.timeout < std::chrono::minutes(10)) t.timeout = std::chrono::minutes(10);
    return restore(t, rest);
  }
  if (command == "log-dump") return shoal::ctl::log_dump(rest);
  if (command == "snapshot-inspect") return shoal::ctl::snapshot_inspect(rest);
  std::fprintf(stderr, "shoalctl: unknown command '%s'\n", command.c_str());
  return usage(2);
}
