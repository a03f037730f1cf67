#include "engine/app/application.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <sys/file.h>
#include <unistd.h>

#include <boost/asio/signal_set.hpp>

#include "engine/common/logger.h"
#include "engine/common/version.h"
#include "engine/runtime/sharded.h"
#include "engine/shard/coordinator.h"
#include "engine/shard/leader_hint.h"
#include "net/http/server.h"
#include "net/http/service_routes.h"
#include "net/rest/rest_api.h"
#include "net/rpc/api.h"
#include "net/rpc/server.h"
#include "replication/cluster_agent.h"
#include "replication/cluster_status.h"
#include "replication/failover_route.h"
#include "replication/follower_service.h"
#include "replication/static_cluster.h"

namespace shoal::app {
namespace {
spdlog::logger& log() {
  static auto& l = logging::get("shoald");
  return l;
}
}  // namespace

application::application(server_config cfg) : cfg_(std::move(cfg)) {}

application::~application() {
  if (lock_fd_ >= 0) ::close(lock_fd_);
}

bool application::lock_data_dir() {
  // Before the runtime starts, so these blocking calls cannot stall a reactor.
  std::error_code ec;
  std::filesystem::create_directories(cfg_.data_dir, ec);
  if (ec) {
    log().critical("cannot create data directory '{}': {}", cfg_.data_dir, ec.message());
    return false;
  }
  auto lock_path = std::filesystem::path(cfg_.data_dir) / "LOCK";
  lock_fd_ = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (lock_fd_ < 0) {
    log().critical("cannot open '{}': {}", lock_path.string(), std::strerror(errno));
    return false;
  }
  if (::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    log().critical("data directory '{}' is in use by another shoald process", cfg_.data_dir);
    return false;
  }
  return true;
}

int application::run() {
  if (!lock_data_dir()) return 1;
  log().info("settings: {}", cfg_.effective_settings);
  log().info("shoald {} (Qdrant REST API {} compatible) starting: data dir {}, {} cores",
             version::kShoal, version::kQdrantApi, cfg_.data_dir,
             cfg_.runtime.cores ? cfg_.runtime.cores : rt::runtime::available_cpus());
  try {
    rt::runtime runtime(cfg_.runtime);
    runtime.run([this]() -> awaitable<void> { co_await serve(); });
  } catch (const std::exception& e) {
    log().critical("fatal: {}", e.what());
    return 1;
  }
  log().info("shoald stopped");
  return exit_code_;
}

awaitable<void> application::stop_all() {
  while (!stops_.empty()) {
    auto stop = std::move(stops_.back());
    stops_.pop_back();
    co_await stop();
  }
}

awaitable<void> application::serve() {
  // Whatever happens while starting or serving, the services started so far are stopped in
  // reverse order (co_await is not allowed inside a catch block, hence the exception_ptr).
  std::exception_ptr failure;
  try {
    co_await start_and_serve();
  } catch (...) {
    failure = std::current_exception();
  }
  if (failure) {
    try {
      std::rethrow_exception(failure);
    } catch (const std::exception& e) {
      log().critical("fatal: {}", e.what());
    }
    exit_code_ = 1;
  }
  co_await stop_all();
  signals_.reset();
}

awaitable<void> application::start_and_serve() {
  // Collections first, so the REST routes have something to serve; they load after HTTP is up,
  // and /readyz stays 503 until they have (recovery progress is logged per shard).
  auto colls = std::make_shared<rt::sharded<shard::collections>>();
  std::shared_ptr<const repl::static_cluster> cluster;
  std::shared_ptr<repl::cluster_agent> agent;
  if (!cfg_.cluster.etcd_endpoints.empty()) {
    repl::agent_settings as;
    as.etcd_endpoints = cfg_.cluster.etcd_endpoints;
    as.prefix = cfg_.cluster.etcd_prefix;
    as.node_id = cfg_.cluster.node_id;
    as.advertise_host = cfg_.cluster.advertise_host;
    as.rpc_port = cfg_.cluster.advertise_port;
    as.lease_ttl = cfg_.cluster.lease_ttl;
    as.min_acks = cfg_.cluster.min_acks;
    as.ack_timeout = cfg_.cluster.ack_timeout;
    as.heartbeat = cfg_.cluster.heartbeat;
    as.stop_wait = cfg_.cluster.stop_wait;
    as.security = cfg_.cluster.security;
    agent = std::make_shared<repl::cluster_agent>(as);
    if (auto c = co_await agent->connect(); !c) {
      log().critical("cannot join the cluster through etcd ({}): {}",
                     fmt::join(cfg_.cluster.etcd_endpoints, ","), c.error().message());
      exit_code_ = 1;
      co_return;
    }
    shard::set_leader_lookup([agent](std::string_view name) { return agent->leader_of(name); });
    shard::set_remote_collections([agent] { return agent->held_elsewhere(); });
    shard::set_replica_lookup([agent](std::string_view name) { return agent->replicas_of(name); });
    cfg_.storage.on_shard_open = [agent](const shard::collection_config& c, shard::shard& s) {
      return agent->on_shard_open(c, s);
    };
    cfg_.storage.announce_create = [agent](shard::collection_config& c) {
      return agent->announce_create(c);
    };
    cfg_.storage.announce_drop = [agent](const std::string& name) {
      return agent->announce_drop(name);
    };
    log().info("coordinated cluster: node {} through etcd {}", cfg_.cluster.node_id,
               fmt::join(cfg_.cluster.etcd_endpoints, ","));
  } else if (!cfg_.cluster.node_id.empty()) {
    cluster = std::make_shared<const repl::static_cluster>(cfg_.cluster);
    // Set before any server starts; read-only afterwards (leader_hint.h).
    shard::set_leader_lookup([cluster](std::string_view name) -> std::optional<shard::leader_info> {
      if (cluster->leads(name)) return std::nullopt;
      auto& p = cluster->leader_of(name);
      return shard::leader_info{
          cluster->describe(p),
          p.http_port
              ? fmt::format("{}://{}:{}", cluster->settings().security.tls ? "https" : "http",
                            p.host, p.http_port)
              : std::string(),
          fmt::format("{}:{}", p.host, p.rpc_port)};
    });
    cfg_.storage.on_shard_open = [cluster](const shard::collection_config& c, shard::shard& s) {
      return cluster->on_shard_open(c, s);
    };
    log().info("static cluster: node {} of {} hosts", cfg_.cluster.node_id,
               cfg_.cluster.peers.size());
  }
  co_await colls->start(cfg_.storage);
  stops_.push_back([colls]() -> awaitable<void> { co_await colls->stop(); });
  // Stopped before the collections close (stops run last-in first-out): it resigns what this
  // node leads, so a successor need not wait for the lease to lapse.
  if (agent) stops_.push_back([agent]() -> awaitable<void> { co_await agent->stop(); });
  auto coordinator = std::make_shared<shard::coordinator>(*colls);
  // The routes point at the coordinator; this stop, run after the HTTP servers have stopped,
  // keeps it alive until then.
  stops_.push_back([coordinator]() -> awaitable<void> { co_return; });

  auto routes = std::make_shared<http::router>();
  std::function<awaitable<std::string>()> cluster_status;  // GET /cluster; empty: single node
  http::handler cluster_failover;  // POST /cluster/failover; empty: leaders never move
  if (cluster) {
    cluster_status = [cluster, colls] {
      return repl::cluster_status_json(repl::view_of(*cluster, colls->local()), *colls);
    };
  } else if (agent) {
    cluster_status = [agent, colls] {
      return repl::cluster_status_json(agent->describe(), *colls);
    };
    cluster_failover = repl::failover_route(agent);
  }
  rest::rest_context rest_ctx{.coordinator = coordinator.get(), .limits = cfg_.rest};
  rest::ensure_stats(rest_ctx);
  http::add_service_routes(*routes, {.not_ready_reason = [this]() -> std::optional<std::string> {
                                       if (ready_.load()) return std::nullopt;
                                       return std::string("starting, recovering or stopping");
                                     },
                                     .extra_metrics =
                                         [rest_ctx](const http::request_context& req) {
                                           return rest::qdrant_metrics_text(rest_ctx, req);
                                         },
                                     .cluster_status = cluster_status,
                                     .cluster_failover = cluster_failover});
  rest::add_rest_routes(*routes, rest_ctx);

  auto http_servers = std::make_shared<rt::sharded<http::http_server>>();
  co_await http_servers->start(std::shared_ptr<const http::router>(routes), cfg_.http);
  stops_.push_back([http_servers]() -> awaitable<void> { co_await http_servers->stop(); });

  // Core 0 binds first: with port 0 the kernel picks a port, and the other cores join it.
  auto ep = cfg_.http_addr.endpoint;
  auto bound = co_await http_servers->invoke_on(
      core_id(0), [ep](http::http_server& s) { return s.listen(ep); });
  if (!bound) {
    log().critical("cannot listen for HTTP on {}: {}", cfg_.http_addr.text,
                   bound.error().message());
    exit_code_ = 1;
    co_await stop_all();
    co_return;
  }
  ep.port(*bound);
  for (unsigned c = 1; c < rt::runtime::current().core_count(); ++c) {
    auto r = co_await http_servers->invoke_on(core_id(c),
                                              [ep](http::http_server& s) { return s.listen(ep); });
    if (!r) {
      log().critical("core {} cannot listen for HTTP on {}: {}", c, ep.port(), r.error().message());
      exit_code_ = 1;
      co_return;
    }
  }
  co_await http_servers->invoke_on_all([](http::http_server& s) { s.start(); });
  log().info("HTTP listening on {}:{}", ep.address().to_string(), ep.port());

  // The binary RPC protocol (net/README.md, rpc/) on every core, the same way.
  auto rpc_methods = std::make_shared<rpc::dispatcher>();
  rpc::api_limits api_limits;
  static_cast<data::input_limits&>(api_limits) = cfg_.rest;  // the limits both APIs share
  api_limits.max_points_per_request = cfg_.rest.max_points_per_request;
  api_limits.max_batch_searches = cfg_.rest.max_batch_searches;
  api_limits.max_limit = cfg_.rest.max_limit;
  api_limits.max_ef = cfg_.rest.max_ef;
  rpc::add_api_methods(*rpc_methods, {.coordinator = coordinator.get(),
                                      .limits = api_limits,
                                      .ready = [this] { return ready_.load(); }});
  if (cluster || agent) {
    repl::add_follower_methods(
        *rpc_methods, {.collections = colls.get(), .ready = [this] { return ready_.load(); }});
  }
  auto rpc_servers = std::make_shared<rt::sharded<rpc::rpc_server>>();
  co_await rpc_servers->start(std::shared_ptr<const rpc::dispatcher>(rpc_methods), cfg_.rpc);
  stops_.push_back([rpc_servers]() -> awaitable<void> { co_await rpc_servers->stop(); });
  auto rpc_ep = cfg_.rpc_addr.endpoint;
  for (unsigned c = 0; c < rt::runtime::current().core_count(); ++c) {
    // Core 0 first: with port 0 it picks the port the others join.
    auto r = co_await rpc_servers->invoke_on(
        core_id(c), [rpc_ep](rpc::rpc_server& s) { return s.listen(rpc_ep); });
    if (!r) {
      log().critical("cannot listen for RPC on {}: {}",
                     c == 0 ? cfg_.rpc_addr.text : std::to_string(rpc_ep.port()),
                     r.error().message());
      exit_code_ = 1;
      co_return;
    }
    rpc_ep.port(*r);
  }
  co_await rpc_servers->invoke_on_all([](rpc::rpc_server& s) { s.start(); });
  log().info("RPC listening on {}:{}", rpc_ep.address().to_string(), rpc_ep.port());

  auto t0 = std::chrono::steady_clock::now();
  co_await shard::collections::load_all(*colls);
  log().info("{} collections loaded in {:.3f} s", colls->local().names().size(),
             std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  if (agent) agent->start(*colls, ep.port());
  ready_ = true;
  log().info("shoald ready");

  auto ex = co_await asio::this_coro::executor;
  signals_ = std::make_unique<asio::signal_set>(ex, SIGINT, SIGTERM);
  auto [ec, signo] = co_await signals_->async_wait(use_nothrow_awaitable);
  log().info("received {}, stopping: finishing requests in flight (up to {} ms)",
             signo == SIGINT ? "SIGINT" : "SIGTERM", cfg_.http.drain_timeout.count());
  ready_ = false;
  // A second signal means "now": the operator does not want to wait for the drain.
  signals_->async_wait([](const boost::system::error_code& e, int) {
    if (e) return;
    log().warn("second stop signal: exiting without waiting");
    logging::shutdown();
    std::_Exit(1);
  });
}

}  // namespace shoal::app
