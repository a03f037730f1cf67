#include "replication/static_cluster.h"

#include <algorithm>
#include <charconv>
#include <set>

#include <fmt/format.h>

#include "engine/common/logger.h"

namespace shoal::repl {
namespace {

constexpr uint64_t kStaticTerm = 1;

spdlog::logger& log() {
  static auto& l = logging::get("replication");
  return l;
}

std::optional<uint16_t> port_of(std::string_view s) {
  unsigned v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v == 0 || v > 65535) return std::nullopt;
  return static_cast<uint16_t>(v);
}

uint64_t fnv1a(std::string_view s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  return h;
}

}  // namespace

boost::system::result<std::vector<peer>, std::string> parse_peers(std::string_view text) {
  std::vector<peer> out;
  while (!text.empty()) {
    auto comma = text.find(',');
    auto item = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    auto bad = [&](std::string_view why) {
      return fmt::format("peer \"{}\": {} (expected ID=HOST:RPC_PORT[/HTTP_PORT])", item, why);
    };
    auto eq = item.find('=');
    if (eq == std::string_view::npos || eq == 0) return bad("no id");
    peer p;
    p.id = std::string(item.substr(0, eq));
    auto addr = item.substr(eq + 1);
    auto slash = addr.find('/');
    if (slash != std::string_view::npos) {
      auto hp = port_of(addr.substr(slash + 1));
      if (!hp) return bad("bad HTTP port");
      p.http_port = *hp;
      addr = addr.substr(0, slash);
    }
    auto colon = addr.rfind(':');
    if (colon == std::string_view::npos || colon == 0) return bad("no HOST:PORT");
    auto rp = port_of(addr.substr(colon + 1));
    if (!rp) return bad("bad RPC port");
    p.rpc_port = *rp;
    p.host = std::string(addr.substr(0, colon));
    out.push_back(std::move(p));
  }
  return out;
}

std::optional<std::string> validate(const cluster_settings& s) {
  if (!s.etcd_endpoints.empty()) {
    if (!s.peers.empty()) return "--etcd and --peers exclude each other";
    if (s.node_id.empty()) return "--node-id is required with --etcd";
    if (s.advertise_host.empty()) {
      return "--advertise HOST:PORT (the RPC address other hosts use) is required with --etcd";
    }
    if (s.min_acks < 1) return "replication.min-acks must be at least 1";
    return std::nullopt;
  }
  if (s.node_id.empty()) return "--node-id is required with --peers";
  if (s.peers.size() < 2) return "--peers must list at least two hosts, this one included";
  std::set<std::string> ids;
  bool me = false;
  for (auto& p : s.peers) {
    if (!ids.insert(p.id).second) return fmt::format("peer id \"{}\" appears twice", p.id);
    me |= p.id == s.node_id;
  }
  if (!me) return fmt::format("--node-id \"{}\" is not among --peers", s.node_id);
  if (s.min_acks < 1 || s.min_acks >= s.peers.size()) {
    return fmt::format("replication.min-acks must be 1..{} (followers per shard)",
                       s.peers.size() - 1);
  }
  return std::nullopt;
}

static_cluster::static_cluster(cluster_settings s) : s_(std::move(s)) {
  std::sort(s_.peers.begin(), s_.peers.end(),
            [](const peer& a, const peer& b) { return a.id < b.id; });
}

const peer& static_cluster::leader_of(std::string_view collection) const {
  return s_.peers[fnv1a(collection) % s_.peers.size()];
}

std::string static_cluster::describe(const peer& p) const {
  if (p.http_port) {
    return fmt::format("node {} at {}://{}:{} (rpc {}:{})", p.id,
                       s_.security.tls ? "https" : "http", p.host, p.http_port, p.host, p.rpc_port);
  }
  return fmt::format("node {} (rpc {}:{})", p.id, p.host, p.rpc_port);
}

awaitable<result<void>> static_cluster::on_shard_open(const shard::collection_config& c,
                                                      shard::shard& s) const {
  if (!leads(c.name)) co_return co_await s.become_follower(kStaticTerm);
  if (auto r = co_await s.become_leader(kStaticTerm); !r) co_return r.error();
  std::vector<follower_address> followers;
  for (auto& p : s_.peers) {
    if (p.id != s_.node_id) followers.push_back({p.id, p.host, p.rpc_port});
  }
  replicator_options o;
  o.min_acks = s_.min_acks;
  o.ack_timeout = s_.ack_timeout;
  o.shipping.heartbeat = s_.heartbeat;
  o.shipping.security = s_.security;
  auto r = std::make_unique<leader_replicator>(s, c.name, s.id(), kStaticTerm, std::move(followers),
                                               o, [name = c.name, id = s.id()](uint64_t term) {
                                                 log().error(
                                                     "{}/{}: a follower knows term {}; a static "
                                                     "cluster has one leader per collection: "
                                                     "check --peers on every host",
                                                     name, id, term);
                                               });
  r->start();
  co_await s.set_replicator(std::move(r));
  co_return result<void>{};
}

}  // namespace shoal::repl
