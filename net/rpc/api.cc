// The client API methods (api.h): ping, collections, upsert, delete, search.

#include "net/rpc/api.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <unordered_map>

#include <fmt/format.h>
#include <simdjson.h>

#include "engine/common/version.h"
#include "engine/data/filter_json.h"
#include "engine/data/json_check.h"
#include "engine/runtime/smp.h"
#include "engine/shard/collections.h"
#include "engine/shard/errc.h"
#include "net/rpc/api_status.h"
#include "net/rpc/messages.h"

namespace shoal::rpc {
namespace {

using data::input_error;

reply fail(const error& e) {
  return reply::fail(e.code, e.message);
}

reply malformed(uint16_t m) {
  return reply::fail(
      status::malformed,
      fmt::format("the {} request does not decode (truncated or corrupt payload)", method_name(m)));
}

std::optional<reply> not_ready(const api_context& ctx) {
  if (ctx.ready && !ctx.ready()) {
    return reply::fail(status::unavailable,
                       "Service unavailable: the node is starting, recovering or stopping");
  }
  return std::nullopt;
}

simdjson::dom::parser& core_parser() {
  // One per core (reactor threads are the cores), reused by every request on it (P13).
  thread_local simdjson::dom::parser parser;
  return parser;
}

/// JSON a request carries (a collection config, a filter, a payload), parsed by this core's
/// parser as REST parses a body: at most limits.max_json_depth levels, no repeated key. The
/// element is valid until the next parse on this core.
data::decoded<simdjson::dom::element> parse_json(std::string_view text,
                                                 const data::input_limits& limits,
                                                 std::string_view what) {
  auto& parser = core_parser();
  if (parser.max_depth() != limits.max_json_depth) {
    auto capacity = std::max<size_t>(parser.capacity(), simdjson::dom::MINIMAL_DOCUMENT_CAPACITY);
    (void)parser.allocate(capacity, limits.max_json_depth);  // failing: the parse says MEMALLOC
  }
  simdjson::dom::element root;
  auto err = parser.parse(text.data(), text.size(), /*realloc_if_needed=*/true).get(root);
  if (err == simdjson::DEPTH_ERROR) {
    return input_error::format(
        fmt::format("{}: {}", what, data::depth_error_message(parser.max_depth())));
  }
  if (err) return input_error::format(fmt::format("{}: {}", what, simdjson::error_message(err)));
  if (auto dup = data::find_duplicate_key(root, "")) {
    return input_error::format(fmt::format("{}: {}", what, *dup));
  }
  return root;
}

shard::write_options options_for(durability_level d, const shard::collection_config& cfg) {
  shard::write_options o;
  switch (d) {
    case durability_level::collection_default:
      o.level = cfg.default_durability;
      break;
    case durability_level::memory:
      o.level = shard::durability::memory;
      break;
    case durability_level::local:
      o.level = shard::durability::local;
      break;
    case durability_level::replicated:
      o.level = shard::durability::replicated;
      break;
  }
  return o;
}

/// The vector `name` of the collection, or the REST API's error for it.
data::decoded<const shard::vector_params*> vector_of(const shard::collection_config& cfg,
                                                     std::string_view name) {
  if (auto* p = cfg.find_vector(name)) return p;
  if (name.empty()) {
    return input_error::wrong_input(
        "Not existing vector name error: the collection has only named vectors");
  }
  return input_error::wrong_input("Not existing vector name error: " + std::string(name));
}

/// Copies one vector (dim floats, unaligned) out of the payload and checks it as REST's
/// decode_dense does: finite values, and no zero vector with Cosine.
data::decoded<std::vector<float>> take_vector(std::span<const std::byte> bytes, uint32_t dim,
                                              index::metric_kind metric,
                                              const std::string_view what, size_t which) {
  std::vector<float> out;
  if (reinterpret_cast<uintptr_t>(bytes.data()) % alignof(float) == 0) {
    // The usual case (the frame's vectors start 4-aligned): copied once, never zero-filled first.
    auto* first = reinterpret_cast<const float*>(bytes.data());
    out.assign(first, first + dim);
  } else {
    out.resize(dim);
    std::memcpy(out.data(), bytes.data(), size_t{dim} * sizeof(float));
  }
  // Exponent all ones = inf or NaN; a branch-free pass the compiler vectorizes.
  uint32_t bad = 0, nonzero = 0;
  for (uint32_t j = 0; j < dim; ++j) {
    uint32_t b = std::bit_cast<uint32_t>(out[j]);
    bad |= static_cast<uint32_t>((b & 0x7f800000u) == 0x7f800000u);
    nonzero |= b & 0x7fffffffu;
  }
  if (bad) {
    for (uint32_t j = 0; j < dim; ++j) {
      if (!std::isfinite(out[j])) {
        return input_error::wrong_input(
            fmt::format("{}[{}]{}: value {} is not a finite 32-bit float", what, which,
                        what == "points" ? ".vector" : "", out[j]));
      }
    }
  }
  if (metric == index::metric_kind::cosine && nonzero == 0) {
    return input_error::wrong_input(
        fmt::format("{}[{}]{}: a zero vector has no direction, so it cannot be used with Cosine "
                    "distance",
                    what, which, what == "points" ? ".vector" : ""));
  }
  return out;
}

/// A point id given twice in one upsert: the last one wins, in the place of the first (as the
/// REST decoder does), so the index never sees a label twice in one batch.
void keep_last_of_duplicates(std::vector<shard::point_write>& points) {
  if (points.size() < 2) return;
  std::unordered_map<data::point_id, size_t> first;
  first.reserve(points.size());
  std::vector<size_t> dropped;
  for (size_t i = 0; i < points.size(); ++i) {
    auto [it, inserted] = first.emplace(points[i].id, i);
    if (!inserted) {
      points[it->second] = std::move(points[i]);
      dropped.push_back(i);
    }
  }
  if (dropped.empty()) return;
  size_t w = 0, d = 0;
  for (size_t i = 0; i < points.size(); ++i) {
    if (d < dropped.size() && dropped[d] == i) {
      ++d;
      continue;
    }
    if (w != i) points[w] = std::move(points[i]);
    ++w;
  }
  points.resize(w);
}

data::decoded<std::vector<shard::point_write>> decode_points(const upsert_view& v,
                                                             const shard::collection_config& cfg,
                                                             const api_limits& limits) {
  size_t n = v.ids.size();
  if (n > limits.max_points_per_request) {
    return input_error::validation(fmt::format("points: {} points in one request, the limit is {}",
                                               n, limits.max_points_per_request));
  }
  auto params = vector_of(cfg, v.vector_name);
  if (!params) return params.error();
  const auto* p = *params;
  if (v.dim != p->size) {
    return input_error::wrong_input(
        fmt::format("Vector dimension error: expected dim: {}, got {}", p->size, v.dim));
  }
  std::vector<shard::point_write> points;
  points.reserve(n);
  std::string vector_name(v.vector_name);
  for (size_t i = 0; i < n; ++i) {
    shard::point_write w;
    w.id = v.ids[i];
    auto values =
        take_vector(v.vectors.subspan(i * v.dim * sizeof(float)), v.dim, p->metric, "points", i);
    if (!values) return values.error();
    w.vectors.push_back({vector_name, std::move(*values)});
    if (!v.payloads.empty() && !v.payloads[i].empty()) {
      auto where = fmt::format("points[{}].payload", i);
      auto doc = parse_json(v.payloads[i], limits, where);
      if (!doc) return doc.error();
      if (!doc->is_object()) return input_error::format(where + ": a payload is a JSON object");
      if (auto e = data::check_payload(*doc, limits, where)) return *e;
      auto payload = data::json_value::from_dom(*doc);
      if (!payload) return input_error::format(where + ": " + payload.error().message());
      w.payload = std::move(*payload);
    }
    points.push_back(std::move(w));
  }
  keep_last_of_duplicates(points);
  return points;
}

awaitable<reply> do_ping(const request&) {
  auto& rt = rt::runtime::current();
  co_return reply::ok(encode(
      ping_response{rt::this_core().value(), rt.core_count(), std::string(version::kShoal)}));
}

awaitable<reply> do_create(api_context ctx, const request& req) {
  auto d = decode_create_collection(req.payload);
  if (!d) co_return malformed(req.method);
  std::string name(d->name);
  if (auto problem = shard::validate_collection_name(name)) {
    co_return fail(error_of(input_error::validation("name: " + *problem)));
  }
  std::optional<shard::collection_config> cfg;
  {
    std::string_view text = d->config_json.empty() ? std::string_view("{}") : d->config_json;
    auto body = parse_json(text, ctx.limits, "config");
    if (!body) co_return fail(error_of(body.error()));
    auto decoded = shard::collection_config::decode_create(
        name, *body, rt::runtime::current().core_count(), ctx.limits);
    if (!decoded) co_return fail(error_of(decoded.error()));
    cfg = std::move(*decoded);
  }
  auto* all = &ctx.coordinator->all();
  auto created =
      co_await rt::submit_to(core_id(0),
                             [all, c = std::move(*cfg)]() mutable -> awaitable<result<void>> {
                               co_return co_await shard::collections::create(*all, std::move(c));
                             },
                             {.group = rt::service_group::admin});
  if (!created) {
    if (d->if_missing && created.error() == shard::errc::collection_exists) {
      co_return reply::ok(encode_bool_response(false));
    }
    co_return fail(error_of(created.error(), name));
  }
  co_return reply::ok(encode_bool_response(true));
}

awaitable<reply> do_drop(api_context ctx, const request& req) {
  auto d = decode_name_request(req.payload);
  if (!d) co_return malformed(req.method);
  std::string name(*d);
  auto* all = &ctx.coordinator->all();
  auto dropped = co_await rt::submit_to(core_id(0),
                                        [all, name]() -> awaitable<result<bool>> {
                                          co_return co_await shard::collections::drop(*all, name);
                                        },
                                        {.group = rt::service_group::admin});
  if (!dropped) co_return fail(error_of(dropped.error(), name));
  co_return reply::ok(encode_bool_response(*dropped));
}

awaitable<reply> do_info(api_context ctx, const request& req) {
  auto d = decode_name_request(req.payload);
  if (!d) co_return malformed(req.method);
  std::string name(*d);
  auto cfg = ctx.coordinator->config(name);
  if (!cfg) co_return fail(error_of(cfg.error(), name));
  auto stats = co_await ctx.coordinator->stats(name);
  if (!stats) co_return fail(error_of(stats.error(), name));
  collection_info info;
  info.points = stats->points;
  info.indexed_vectors = stats->indexed_vectors;
  info.shards = stats->shards;
  info.config_json = (*cfg)->to_json();
  co_return reply::ok(encode(info));
}

awaitable<reply> do_upsert(api_context ctx, const request& req) {
  auto v = decode_upsert(req.payload);
  if (!v) co_return malformed(req.method);
  std::string name(v->collection);
  auto cfg = ctx.coordinator->config(name);
  if (!cfg) co_return fail(error_of(cfg.error(), name));
  auto points = decode_points(*v, **cfg, ctx.limits);
  if (!points) co_return fail(error_of(points.error()));
  auto count = static_cast<uint32_t>(points->size());
  auto done =
      co_await ctx.coordinator->upsert(name, std::move(*points), options_for(v->durability, **cfg));
  if (!done) co_return fail(error_of(done.error(), name));
  co_return reply::ok(encode(write_result{done->operation_id, count}));
}

awaitable<reply> do_delete(api_context ctx, const request& req) {
  auto v = decode_delete(req.payload);
  if (!v) co_return malformed(req.method);
  std::string name(v->collection);
  auto cfg = ctx.coordinator->config(name);
  if (!cfg) co_return fail(error_of(cfg.error(), name));
  if (v->ids.size() > ctx.limits.max_points_per_request) {
    co_return fail(error_of(input_error::validation(fmt::format(
        "points: {} ids, the limit is {}", v->ids.size(), ctx.limits.max_points_per_request))));
  }
  auto count = static_cast<uint32_t>(v->ids.size());
  auto done = co_await ctx.coordinator->delete_points(name, std::move(v->ids),
                                                      options_for(v->durability, **cfg));
  if (!done) co_return fail(error_of(done.error(), name));
  co_return reply::ok(encode(write_result{done->operation_id, count}));
}

awaitable<reply> do_search(api_context ctx, const request& req) {
  auto v = decode_search(req.payload);
  if (!v) co_return malformed(req.method);
  std::string name(v->collection);
  auto cfg = ctx.coordinator->config(name);
  if (!cfg) co_return fail(error_of(cfg.error(), name));
  const auto& limits = ctx.limits;
  if (v->nq > limits.max_batch_searches) {
    co_return fail(error_of(input_error::validation(fmt::format(
        "queries: {} queries in one request, the limit is {}", v->nq, limits.max_batch_searches))));
  }
  if (v->k == 0) co_return fail(error_of(input_error::validation("k: must be at least 1")));
  if (v->score_threshold && std::isnan(*v->score_threshold)) {
    co_return fail(error_of(input_error::wrong_input("score_threshold: NaN is not a number")));
  }
  auto params = vector_of(**cfg, v->vector_name);
  if (!params) co_return fail(error_of(params.error()));
  const auto* p = *params;
  if (v->dim != p->size) {
    co_return fail(error_of(input_error::wrong_input(
        fmt::format("Vector dimension error: expected dim: {}, got {}", p->size, v->dim))));
  }
  shard::search_query base;
  base.vector_name = std::string(v->vector_name);
  base.limit = std::min<size_t>(v->k, limits.max_limit);
  base.ef = std::min<size_t>(v->ef, limits.max_ef);
  base.exact = v->exact;
  base.score_threshold = v->score_threshold;
  base.with_payload =
      v->with_payload ? shard::payload_selector::all() : shard::payload_selector::none();
  if (!v->filter_json.empty()) {
    // Decoded into owned values before any co_await (PRACTICES P13).
    auto f = parse_json(v->filter_json, limits, "filter");
    if (!f) co_return fail(error_of(f.error()));
    auto decoded = data::decode_filter(*f, "filter", limits);
    if (!decoded) co_return fail(error_of(decoded.error()));
    base.filter = std::make_shared<data::filter>(std::move(*decoded));
  }
  std::vector<std::vector<float>> queries;
  queries.reserve(v->nq);
  for (uint32_t q = 0; q < v->nq; ++q) {
    auto values = take_vector(v->queries.subspan(size_t{q} * v->dim * sizeof(float)), v->dim,
                              p->metric, "queries", q);
    if (!values) co_return fail(error_of(values.error()));
    queries.push_back(std::move(*values));
  }
  std::vector<result<std::vector<shard::point_view>>> results(queries.size(),
                                                              std::vector<shard::point_view>{});
  auto* coord = ctx.coordinator;
  if (queries.size() == 1) {
    base.vector = std::move(queries[0]);
    results[0] = co_await coord->search(name, std::move(base), 0);
  } else {
    co_await rt::parallel_for(queries.size(), [&](size_t i) -> awaitable<void> {
      shard::search_query q = base;
      q.vector = std::move(queries[i]);
      results[i] = co_await coord->search(name, std::move(q), 0);
    });
  }
  bytes out;
  // Room for the usual answer (ids, scores, small envelopes) up front: the encoder appends
  // field by field, and growing from empty would reallocate about once per hit.
  size_t hits = 0;
  for (auto& r : results) hits += r ? r->size() : 0;
  out.reserve(64 + 16 * results.size() + 48 * hits);
  search_response_encoder enc(out, static_cast<uint32_t>(results.size()), v->with_payload);
  for (auto& r : results) {
    if (!r) co_return fail(error_of(r.error(), name));
    enc.begin_query(static_cast<uint32_t>(r->size()));
    for (auto& pv : *r) {
      if (v->with_payload) {
        enc.hit(pv.id, pv.score, pv.payload.to_json());
      } else {
        enc.hit(pv.id, pv.score);
      }
    }
  }
  enc.finish();
  co_return reply::ok(std::move(out));
}

using method_fn = awaitable<reply> (*)(api_context, const request&);

/// A method behind the readiness check. Not a capturing lambda coroutine: the context travels
/// by value into the coroutine's frame (PRACTICES P7).
awaitable<reply> guarded_call(std::shared_ptr<const api_context> ctx, method_fn fn,
                              const request& req) {
  if (auto r = not_ready(*ctx)) co_return std::move(*r);
  co_return co_await fn(*ctx, req);
}

handler guarded(std::shared_ptr<const api_context> ctx, method_fn fn) {
  return [ctx, fn](const request& req) { return guarded_call(ctx, fn, req); };
}

}  // namespace

void add_api_methods(dispatcher& d, api_context ctx) {
  auto shared = std::make_shared<const api_context>(std::move(ctx));
  d.add(method::ping, [](const request& req) { return do_ping(req); });
  d.add(method::create_collection, guarded(shared, do_create));
  d.add(method::drop_collection, guarded(shared, do_drop));
  d.add(method::collection_info, guarded(shared, do_info));
  d.add(method::upsert, guarded(shared, do_upsert));
  d.add(method::delete_points, guarded(shared, do_delete));
  d.add(method::search, guarded(shared, do_search));
}

}  // namespace shoal::rpc
