// Service endpoints that need the collections or the REST statistics (REST_API.md §2, §9):
// /telemetry, /issues, PATCH /collections/{name}; the Qdrant-named lines of /metrics; and the
// wrapper every REST route is installed with.

#include <chrono>
#include <cstdio>
#include <malloc.h>
#include <unistd.h>

#include <fmt/chrono.h>
#include <fmt/format.h>

#include "engine/common/version.h"
#include "engine/runtime/smp.h"
#include "engine/shard/collections.h"
#include "engine/shard/errc.h"
#include "engine/shard/leader_hint.h"
#include "net/rest/decode.h"
#include "net/rest/emptied_arrays.h"
#include "net/rest/encode.h"
#include "net/rest/rest_api.h"
#include "net/rest/rest_io.h"
#include "net/rest/rest_stats.h"

namespace shoal::rest {
namespace {

using data::input_error;
using http::request_context;
using http::response;
using http::verb;

/// "2026-11-22T05:17:00.123Z"
std::string rfc3339(int64_t unix_ms) {
  auto secs = static_cast<std::time_t>(unix_ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  return fmt::format("{:%Y-%m-%dT%H:%M:%S}.{:03}Z", tm, unix_ms % 1000);
}

int64_t unix_ms(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

/// ?name=true|false (absent: false).
checked<bool> query_flag(const request_context& req, std::string_view name) {
  auto v = req.query(name);
  if (!v || *v == "false") return false;
  if (*v == "true" || v->empty()) return true;
  return request_error{
      input_error::format(fmt::format("{}: provided string was not `true` or `false`", name)),
      error_source::query};
}

void write_status_stats(json_writer& w, const status_stats& by_status) {
  w.begin_object();
  for (auto& [code, s] : by_status) {
    w.key(std::to_string(code)).begin_object();
    w.field("count", s.count);
    w.field("avg_duration_micros", s.count ? s.sum_seconds * 1e6 / double(s.count) : 0.0);
    w.field("min_duration_micros", s.min_seconds * 1e6);
    w.field("max_duration_micros", s.max_seconds * 1e6);
    w.field("total_duration_micros", static_cast<uint64_t>(s.sum_seconds * 1e6));
    w.field("last_responded", rfc3339(s.last_unix_ms));
    w.end_object();
  }
  w.end_object();
}

std::string route_key(const rest_stats::route_info& r) {
  return r.method + " " + r.endpoint;
}

/// Per-shard statistics of one collection, gathered from the shards' cores.
awaitable<std::vector<shard::shard_stats>> shard_stats_of(shard::coordinator& coord,
                                                          const std::string& name,
                                                          uint32_t shards) {
  std::vector<shard::shard_stats> out(shards);
  auto* all = &coord.all();
  co_await rt::parallel_for(shards, [&](size_t i) -> awaitable<void> {
    auto id = static_cast<uint32_t>(i);
    out[i] = co_await rt::submit_to(shard::collections::core_of(id),
                                    [all, name, id] {
                                      auto* s = all->local().local_shard(name, id);
                                      return s ? s->stats() : shard::shard_stats{};
                                    },
                                    {.group = rt::service_group::unlimited});
  });
  co_return out;
}

struct memory_info {
  uint64_t allocated = 0;
  uint64_t resident = 0;
  uint64_t retained = 0;
};

memory_info read_memory() {
  memory_info m;
  auto mi = mallinfo2();
  m.allocated = mi.uordblks + mi.hblkhd;
  m.retained = mi.fordblks;
  // /proc reads are served from memory and never wait on a disk.
  if (FILE* f = std::fopen("/proc/self/statm", "r")) {
    unsigned long size = 0, rss = 0;
    if (std::fscanf(f, "%lu %lu", &size, &rss) == 2) {
      m.resident = uint64_t(rss) * uint64_t(sysconf(_SC_PAGESIZE));
    }
    std::fclose(f);
  }
  return m;
}

awaitable<response> telemetry(rest_context ctx, request_context& req) {
  double t = req.elapsed_seconds();
  uint64_t level = 0;
  if (auto d = req.query("details_level")) {
    auto [p, ec] = std::from_chars(d->data(), d->data() + d->size(), level);
    if (ec != std::errc{} || p != d->data() + d->size()) {
      co_return input_error_response(
          input_error::format(fmt::format("details_level: invalid digit found in string `{}`", *d)),
          t, error_source::query);
    }
  }
  auto per_collection = query_flag(req, "per_collection");
  if (!per_collection) co_return input_error_response(per_collection.error(), t);
  if (auto a = query_flag(req, "anonymize"); !a) co_return input_error_response(a.error(), t);
  if (auto e = check_timeout(req)) co_return input_error_response(*e, t);

  auto& coord = *ctx.coordinator;
  auto& stats = *ctx.stats;
  auto names = coord.all().local().names();
  auto counts = co_await stats.gather();

  std::string out;
  json_writer w(out);
  w.begin_object().field("id", stats.id());
  w.key("app").begin_object().field("name", "qdrant").field("version", version::kQdrantApi);
  w.field("shoal_version", version::kShoal).field("commit", version::kCommit);
  w.key("features")
      .begin_object()
      .field("debug", false)
      .field("service_debug_feature", false)
      .field("recovery_mode", false)
      .field("gpu", false)
      .field("rocksdb", false)
      .field("staging", false)
      .end_object();
  w.field("startup", rfc3339(unix_ms(stats.startup())));
  if (level >= 1) {
    w.key("system").begin_object().field("distribution", "Debian");
    w.field("cores", rt::runtime::current().core_count());
    w.field("ram_size", static_cast<uint64_t>(sysconf(_SC_PHYS_PAGES)) *
                            static_cast<uint64_t>(sysconf(_SC_PAGESIZE)) / 1024);
    w.field("is_docker", false).end_object();
  }
  w.end_object();

  w.key("collections").begin_object().field("number_of_collections", names.size());
  if (level >= 1) {
    w.key("collections").begin_array();
    for (auto& name : names) {
      auto cfg = coord.config(name);
      if (!cfg) continue;  // failed or loading: only its name is known
      auto s = co_await coord.stats(name);
      if (!s) continue;
      w.begin_object();
      if (level == 1) {
        w.field("vectors", s->indexed_vectors).field("optimizers_status", "ok");
        w.key("params").begin_object().key("vectors");
        (*cfg)->write_vectors_info(w);
        w.field("shard_number", (*cfg)->shard_number)
            .field("replication_factor", (*cfg)->replication_factor)
            .field("write_consistency_factor", (*cfg)->write_consistency_factor)
            .field("on_disk_payload", (*cfg)->on_disk_payload)
            .end_object();
      } else {
        w.field("id", name).field("init_time_ms", uint64_t{0});
        w.key("config");
        write_collection_config(w, **cfg);
        if (level >= 3) {
          auto shards = co_await shard_stats_of(coord, name, (*cfg)->shard_number);
          w.key("shards").begin_array();
          for (size_t i = 0; i < shards.size(); ++i) {
            auto& sh = shards[i];
            w.begin_object().field("id", i).key("key").null();
            w.key("local").begin_object().field("variant_name", "local").field("status", "green");
            w.field("total_optimized_points", uint64_t{0});
            w.field("vectors_size_bytes", sh.memory_bytes).field("payloads_size_bytes", 0);
            w.field("num_points", sh.points).field("num_vectors", sh.indexed_vectors);
            w.key("num_vectors_by_name").begin_object();
            for (auto& [vname, vp] : (*cfg)->vectors) w.field(vname, sh.indexed_vectors);
            w.end_object();
            if (level >= 4) {
              w.key("segments").begin_array().begin_object();
              w.key("info").begin_object().field("segment_type", "plain");
              w.field("num_points", sh.points).field("num_vectors", sh.indexed_vectors);
              w.end_object();
              w.key("config").begin_object().end_object();
              w.key("vector_index_searches").begin_array().end_array();
              w.key("payload_field_indices").begin_array().end_array();
              w.end_object().end_array();
              w.key("indexed_only_excluded_vectors").begin_object().end_object();
            }
            w.key("optimizations").begin_object().field("status", "ok");
            w.key("optimizations").begin_object().field("count", 0).end_object();
            w.key("log").begin_array().end_array().end_object();
            w.key("async_scorer").null();
            w.key("update_queue").begin_object().field("length", 0).end_object();
            w.end_object();  // local
            w.key("remote").begin_array().end_array();
            w.key("replicate_states").begin_object().end_object();
            w.key("partial_snapshot").null();
            w.end_object();
          }
          w.end_array();
          w.key("transfers").begin_array().end_array();
          w.key("resharding").begin_array().end_array();
        }
      }
      w.end_object();
    }
    w.end_array();
    w.key("snapshots").begin_array().end_array();
  }
  w.end_object();

  w.key("cluster").begin_object().field("enabled", false).end_object();

  w.key("requests").begin_object().key("rest").begin_object().key("responses").begin_object();
  auto& routes = stats.routes();
  for (size_t i = 0; i < counts.by_route.size() && i < routes.size(); ++i) {
    if (counts.by_route[i].empty()) continue;
    w.key(route_key(routes[i]));
    write_status_stats(w, counts.by_route[i]);
  }
  w.end_object();
  if (*per_collection) {
    w.key("per_collection_responses").begin_object();
    std::map<std::string, std::vector<std::pair<size_t, const status_stats*>>> by_name;
    for (auto& [key, s] : counts.by_collection) by_name[key.second].emplace_back(key.first, &s);
    for (auto& [name, list] : by_name) {
      w.key(name).begin_object();
      for (auto& [route, s] : list) {
        w.key(route_key(routes[route]));
        write_status_stats(w, *s);
      }
      w.end_object();
    }
    w.end_object();
  }
  w.end_object();
  w.key("grpc").begin_object().key("responses").begin_object().end_object().end_object();
  w.end_object();  // requests

  if (level >= 1) {
    auto m = read_memory();
    w.key("memory")
        .begin_object()
        .field("active_bytes", m.allocated)
        .field("allocated_bytes", m.allocated)
        .field("metadata_bytes", uint64_t{0})
        .field("resident_bytes", m.resident)
        .field("retained_bytes", m.retained)
        .end_object();
    w.key("hardware").begin_object().key("collection_data").begin_object().end_object();
    w.end_object();
  }
  w.end_object();
  co_return ok(out, req.elapsed_seconds());
}

}  // namespace

void ensure_stats(rest_context& ctx) {
  if (!ctx.stats) ctx.stats = std::make_shared<rest_stats>(rt::runtime::current().core_count());
}

namespace {

/// A 307 to the leader of a collection placed on other hosts; nullopt when it is here (or
/// unknown anywhere: the handler answers 404).
std::optional<response> redirect_if_elsewhere(shard::coordinator* coord,
                                              const request_context& req) {
  auto name = req.path_param("name");
  if (!name || coord->all().local().find(*name)) return std::nullopt;
  auto leader = shard::leader_of(*name);
  if (!leader || leader->http_url.empty()) {
    auto remote = shard::remote_collections();
    if (std::find(remote.begin(), remote.end(), *name) == remote.end()) return std::nullopt;
    return http::error_json(
        http::status::service_unavailable,
        fmt::format("Service unavailable: collection `{}` is held by other hosts and none of "
                    "them leads it now (an election is under way); retry",
                    *name),
        req.elapsed_seconds());
  }
  response r = http::error_json(
      http::status::temporary_redirect,
      fmt::format("Redirect: collection `{}` is held by other hosts; its leader is {}", *name,
                  leader->description),
      req.elapsed_seconds());
  r.headers.emplace_back("Location", leader->http_url + std::string(req.req.target()));
  return r;
}

}  // namespace

void install_routes(http::router& r, const http::router& api, const rest_context& ctx) {
  auto* stats = ctx.stats.get();
  auto* coord = ctx.coordinator;
  size_t keep = ctx.limits.parser_keep_bytes;
  size_t depth = ctx.limits.max_json_depth;
  for (size_t i = 0; i < api.size(); ++i) {
    const auto& route = api.at(i);
    auto id = stats->add_route(boost::beast::http::to_string(route.method), route.pattern);
    bool has_collection = route.pattern.find("{name}") != std::string::npos;
    // Requests about a collection this host does not hold go to a host that does. Creating and
    // dropping go through the cluster (etcd) from any host; a shard's digest is about this
    // host's replica (shard_routes.cc).
    bool follows_placement = has_collection &&
                             !(route.pattern == "/collections/{name}" &&
                               (route.method == verb::put || route.method == verb::delete_)) &&
                             !route.pattern.starts_with("/collections/{name}/shards/");
    r.add(
        route.method, route.pattern,
        [fn = route.fn, stats, coord, id, has_collection, follows_placement, keep,
         depth](request_context& req) -> awaitable<response> {
          set_json_depth_limit(depth);  // this core's parser, for the body the handler parses
          auto res = follows_placement ? redirect_if_elsewhere(coord, req) : std::nullopt;
          if (!res) res = co_await fn(req);
          // The handler is done with the parser's document; a big body's memory goes back.
          release_parser_memory(keep);
          release_emptied_arrays_memory(keep);
          std::string_view collection;
          if (has_collection) {
            auto name = req.path_param("name");
            if (name && coord->all().local().find(*name)) collection = *name;
          }
          stats->record(id, collection, static_cast<unsigned>(res->code), req.elapsed_seconds());
          co_return std::move(*res);
        },
        route.options);
  }
}

void add_service_api_routes(http::router& r, rest_context ctx) {
  r.add(verb::get, "/telemetry", [ctx](request_context& req) -> awaitable<response> {
    co_return co_await telemetry(ctx, req);
  });

  r.add(verb::get, "/issues", [](request_context& req) -> awaitable<response> {
    co_return ok(R"({"issues":[]})", req.elapsed_seconds());
  });
  r.add(verb::delete_, "/issues", [](request_context& req) -> awaitable<response> {
    co_return ok("true", req.elapsed_seconds());
  });

  // Aliases are not kept (REST_API.md §9 lists them as optional): the lists are empty and
  // changes are refused, so a client that only reads them works.
  r.add(verb::get, "/aliases", [](request_context& req) -> awaitable<response> {
    co_return ok(R"({"aliases":[]})", req.elapsed_seconds());
  });
  r.add(verb::get, "/collections/{name}/aliases",
        [coord = ctx.coordinator](request_context& req) -> awaitable<response> {
          auto name = std::string(*req.path_param("name"));
          if (auto cfg = coord->config(name); !cfg) {
            co_return error_response(cfg.error(), name, req.elapsed_seconds());
          }
          co_return ok(R"({"aliases":[]})", req.elapsed_seconds());
        });
  r.add(verb::post, "/collections/aliases", [](request_context& req) -> awaitable<response> {
    co_return http::error_json(http::status::bad_request,
                               "Bad request: collection aliases are not supported by Shoal",
                               req.elapsed_seconds());
  });

  // Accepted and validated for shape; the settings it names (optimizers, HNSW for new segments,
  // quantization) have no runtime effect here, so nothing is changed (REST_API.md §9).
  auto* coord = ctx.coordinator;
  r.add(verb::patch, "/collections/{name}", [coord](request_context& req) -> awaitable<response> {
    auto name = std::string(*req.path_param("name"));
    double t = req.elapsed_seconds();
    if (auto e = check_timeout(req)) co_return input_error_response(*e, t);
    auto cfg = coord->config(name);
    if (!cfg) co_return error_response(cfg.error(), name, t);
    auto body = parse_body(req);
    if (!body) co_return input_error_response(body.error(), t);
    if (!body->is_object()) {
      co_return input_error_response(input_error::format("expected a JSON object"), t);
    }
    for (auto field : simdjson::dom::object(body->get_object().value_unsafe())) {
      static constexpr std::string_view known[] = {
          "vectors",        "optimizers_config",  "params",  "hnsw_config", "quantization_config",
          "sparse_vectors", "strict_mode_config", "metadata"};
      if (std::find(std::begin(known), std::end(known), field.key) == std::end(known)) {
        co_return input_error_response(
            input_error::format(fmt::format("unknown field `{}`", field.key)), t);
      }
      if (!field.value.is_null() && !field.value.is_object()) {
        co_return input_error_response(
            input_error::format(fmt::format("{}: invalid type, expected an object", field.key)), t);
      }
    }
    co_return ok("true", req.elapsed_seconds());
  });
}

awaitable<std::string> qdrant_metrics_text(rest_context ctx, const http::request_context& req) {
  bool per_collection = req.query("per_collection") == std::optional<std::string_view>("true");
  auto& coord = *ctx.coordinator;
  auto names = coord.all().local().names();
  std::string out;
  auto family = [&](std::string_view name, std::string_view help, std::string_view type) {
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
  };
  auto escape = [](std::string_view v) {
    std::string e;
    for (char c : v) {
      if (c == '\\' || c == '"') e += '\\';
      if (c == '\n') {
        e += "\\n";
        continue;
      }
      e += c;
    }
    return e;
  };
  family("app_info", "information about qdrant server", "gauge");
  out += fmt::format("app_info{{name=\"qdrant\",version=\"{}\"}} 1\n", version::kQdrantApi);
  family("app_status_recovery_mode", "features enabled in qdrant server", "gauge");
  out += "app_status_recovery_mode 0\n";
  family("collections_total", "number of collections", "gauge");
  out += fmt::format("collections_total {}\n", names.size());
  family("collection_points", "approximate amount of points in collection", "gauge");
  for (auto& name : names) {
    if (!coord.config(name)) continue;
    auto s = co_await coord.stats(name);
    if (s) out += fmt::format("collection_points{{id=\"{}\"}} {}\n", escape(name), s->points);
  }

  if (ctx.stats) {
    auto counts = co_await ctx.stats->gather();
    auto& routes = ctx.stats->routes();
    struct line {
      std::string labels;
      const response_stats* s;
    };
    std::vector<line> lines;
    auto labels_of = [&](size_t route, unsigned code, const std::string* collection) {
      auto l = fmt::format("method=\"{}\",endpoint=\"{}\",status=\"{}\"", routes[route].method,
                           escape(routes[route].endpoint), code);
      if (collection) l += fmt::format(",collection=\"{}\"", escape(*collection));
      return l;
    };
    if (per_collection) {
      for (auto& [key, by_status] : counts.by_collection) {
        for (auto& [code, s] : by_status) {
          lines.push_back({labels_of(key.first, code, &key.second), &s});
        }
      }
    } else {
      for (size_t i = 0; i < counts.by_route.size() && i < routes.size(); ++i) {
        for (auto& [code, s] : counts.by_route[i])
          lines.push_back({labels_of(i, code, nullptr), &s});
      }
    }
    family("rest_responses_total", "total number of responses", "counter");
    for (auto& l : lines)
      out += fmt::format("rest_responses_total{{{}}} {}\n", l.labels, l.s->count);
    family("rest_responses_fail_total", "total number of failed responses", "counter");
    for (auto& l : lines) {
      bool failed = l.labels.find("status=\"5") != std::string::npos;
      out += fmt::format("rest_responses_fail_total{{{}}} {}\n", l.labels, failed ? l.s->count : 0);
    }
    family("rest_responses_avg_duration_seconds", "average response duration", "gauge");
    for (auto& l : lines) {
      out += fmt::format("rest_responses_avg_duration_seconds{{{}}} {}\n", l.labels,
                         l.s->count ? l.s->sum_seconds / double(l.s->count) : 0.0);
    }
    family("rest_responses_min_duration_seconds", "minimum response duration", "gauge");
    for (auto& l : lines) {
      out +=
          fmt::format("rest_responses_min_duration_seconds{{{}}} {}\n", l.labels, l.s->min_seconds);
    }
    family("rest_responses_max_duration_seconds", "maximum response duration", "gauge");
    for (auto& l : lines) {
      out +=
          fmt::format("rest_responses_max_duration_seconds{{{}}} {}\n", l.labels, l.s->max_seconds);
    }
  }
  co_return out;
}

}  // namespace shoal::rest
