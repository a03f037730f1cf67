// Searches: the universal query API and the legacy search API, with their batch forms
// (REST_API.md §6).

#include <algorithm>

#include <fmt/format.h>

#include "engine/data/filter_json.h"
#include "engine/runtime/smp.h"
#include "engine/shard/errc.h"
#include "net/rest/consistency.h"
#include "net/rest/decode.h"
#include "net/rest/encode.h"
#include "net/rest/requests.h"
#include "net/rest/rest_api.h"
#include "net/rest/rest_io.h"
#include "net/rest/search_body.h"
#include "net/rest/vector_list_body.h"

namespace shoal::rest {
namespace {

using data::input_error;
using http::request_context;
using http::response;
using http::verb;

}  // namespace

decoded<parsed_search> decode_search(element body, const shard::collection_config& cfg,
                                     const rest_limits& limits, const std::string& where,
                                     bool legacy, std::vector<float>* given_vector) {
  parsed_search s;
  auto at = [&](const char* f) { return where.empty() ? std::string(f) : where + "." + f; };
  if (!body.is_object()) return input_error::format(where + ": expected an object");
  // Malformed and out-of-range fields first (400 / 422), then what needs the collection's
  // schema: vector names and dimensions (400 "Wrong input"), as Qdrant orders its checks.
  std::optional<element> vec;
  if (legacy) {
    auto v = member(body, "vector");
    if (!v) return input_error::format(at("vector") + ": missing field `vector`");
    if (v->is_object()) {
      auto n = member(*v, "name");
      std::string_view ns;
      if (!n || n->get_string().get(ns) != simdjson::SUCCESS) {
        return input_error::format(at("vector") + ": expected {\"name\": ..., \"vector\": [...]}");
      }
      s.q.vector_name = std::string(ns);
      vec = member(*v, "vector");
      if (!vec) return input_error::format(at("vector.vector") + ": missing field `vector`");
    } else {
      vec = v;
    }
    if (!member(body, "limit")) return input_error::format(at("limit") + ": missing field `limit`");
  } else {
    if (auto u = member(body, "using")) {
      std::string_view us;
      if (u->get_string().get(us) != simdjson::SUCCESS)
        return input_error::format(at("using") + ": expected a string");
      s.q.vector_name = std::string(us);
    }
    auto query = member(body, "query");
    if (!query) {
      s.k = parsed_search::kind::none;
    } else if (query->is_array()) {
      vec = query;
    } else if (query->is_object()) {
      auto nearest = member(*query, "nearest");
      if (!nearest) {
        std::string kind = "unknown";
        auto obj = query->get_object().value_unsafe();
        if (obj.begin() != obj.end()) kind = std::string((*obj.begin()).key);
        return input_error::wrong_input(
            fmt::format("{}: query kind `{}` is not supported", at("query"), kind));
      }
      if (member(*query, "mmr")) {
        return input_error::wrong_input(at("query") +
                                        ": MMR (maximal marginal relevance) is not supported");
      }
      if (nearest->is_array()) {
        vec = nearest;
      } else if (nearest->is_object()) {
        return input_error::wrong_input(at("query.nearest") +
                                        ": sparse and multi-vector queries are not supported");
      } else {
        auto id = data::decode_point_id(*nearest, at("query.nearest"));
        if (!id) return id.error();
        s.k = parsed_search::kind::by_id;
        s.id = *id;
      }
    } else {
      auto id = data::decode_point_id(*query, at("query"));
      if (!id) return id.error();
      s.k = parsed_search::kind::by_id;
      s.id = *id;
    }
  }
  auto limit = decode_count(body, "limit", 10, 1, limits.max_limit, where);
  if (!limit) return limit.error();
  s.q.limit = *limit;
  auto offset = decode_count(body, "offset", 0, 0, limits.max_limit, where);
  if (!offset) return offset.error();
  s.offset = *offset;
  if (auto p = member(body, "params")) {
    if (!p->is_object()) return input_error::format(at("params") + ": expected an object");
    auto ef = decode_count(*p, "hnsw_ef", 0, 1, limits.max_ef, at("params"));
    if (!ef) return ef.error();
    s.q.ef = *ef;
    if (auto exact = member(*p, "exact")) {
      if (!exact->is_bool())
        return input_error::format(at("params.exact") + ": expected a boolean");
      s.q.exact = exact->get_bool().value_unsafe();
    }
  }
  if (auto th = member(body, "score_threshold")) {
    double d;
    if (th->get_double().get(d) != simdjson::SUCCESS) {
      return input_error::format(at("score_threshold") + ": expected a number");
    }
    if (s.k == parsed_search::kind::none) {
      return input_error::wrong_input("score_threshold needs a query to score against");
    }
    s.q.score_threshold = static_cast<float>(d);
  }
  auto f = decode_filter_field(body, where, limits);
  if (!f) return f.error();
  s.q.filter = std::move(*f);
  auto wp =
      decode_with_payload(member(body, "with_payload"), shard::payload_selector::none(), limits);
  if (!wp) return wp.error();
  s.q.with_payload = std::move(*wp);
  for (auto unsupported : {"prefetch", "lookup_from", "group_by", "order_by"}) {
    if (member(body, unsupported)) {
      return input_error::wrong_input(fmt::format("{} is not supported", at(unsupported)));
    }
  }
  auto wv = decode_with_vector_field(body, cfg);
  if (!wv) return wv.error();
  s.q.with_vector = std::move(*wv);
  if (s.k != parsed_search::kind::none) {
    auto* params = cfg.find_vector(s.q.vector_name);
    if (!params)
      return input_error::wrong_input("Not existing vector name error: " + s.q.vector_name);
    if (vec) {
      auto where_vec = legacy ? at("vector") : at("query");
      size_t given = given_vector ? given_vector->size() : 0;
      auto values = given_vector ? check_dense(std::move(*given_vector), given, params->size,
                                               where_vec, params->metric)
                                 : decode_dense(*vec, params->size, where_vec, params->metric);
      if (!values) return values.error();
      s.q.vector = std::move(*values);
    }
  }
  return s;
}

namespace {

/// The points of one search, or an error response.
awaitable<std::variant<std::vector<shard::point_view>, response>> run_search(
    shard::coordinator& coord, const std::string& name, parsed_search s, double t0) {
  using out_t = std::variant<std::vector<shard::point_view>, response>;
  if (s.k == parsed_search::kind::none) {
    shard::scroll_query sq;
    sq.limit = s.offset + s.q.limit;
    sq.filter = s.q.filter;
    sq.with_payload = s.q.with_payload;
    sq.with_vector = s.q.with_vector;
    auto page = co_await coord.scroll(name, sq);
    if (!page) co_return out_t(error_response(page.error(), name, t0));
    auto& pts = page->points;
    if (s.offset >= pts.size()) co_return out_t(std::vector<shard::point_view>{});
    pts.erase(pts.begin(), pts.begin() + static_cast<ptrdiff_t>(s.offset));
    for (auto& p : pts) p.score = 1.0f;
    co_return out_t(std::move(pts));
  }
  if (s.k == parsed_search::kind::by_id) {
    shard::vector_selector vs;
    vs.names = {s.q.vector_name};
    auto found = co_await coord.retrieve(name, {s.id}, shard::payload_selector::none(), vs);
    if (!found) co_return out_t(error_response(found.error(), name, t0));
    if (found->empty() || found->front().vectors.empty()) {
      co_return out_t(http::error_json(
          http::status::not_found,
          fmt::format("Not found: No point with id {} found (or it has no vector \"{}\")",
                      s.id.to_string(), s.q.vector_name),
          t0));
    }
    s.q.vector = std::move(found->front().vectors.front().values);
    s.q.limit += 1;  // the point itself is left out of its own neighbours
  }
  auto limit = s.q.limit;
  auto results = co_await coord.search(name, s.q, s.offset);
  if (!results) co_return out_t(error_response(results.error(), name, t0));
  if (s.k == parsed_search::kind::by_id) {
    std::erase_if(*results, [&](auto& p) { return p.id == s.id; });
    if (results->size() > limit - 1) results->resize(limit - 1);
  }
  co_return out_t(std::move(*results));
}

}  // namespace

decoded<std::vector<parsed_search>> decode_batch(element body, const shard::collection_config& cfg,
                                                 const rest_limits& limits, bool legacy,
                                                 given_vectors* given) {
  auto searches = member(body, "searches");
  if (!searches || !searches->is_array()) {
    return input_error::format("searches: expected an array of requests");
  }
  auto arr = searches->get_array().value_unsafe();
  if (arr.size() > limits.max_batch_searches) {
    return input_error::validation(fmt::format("searches: {} requests, the limit is {}", arr.size(),
                                               limits.max_batch_searches));
  }
  std::vector<parsed_search> out;
  // The fast path read the same array: one entry per element.
  if (given && given->size() != arr.size()) given = nullptr;
  size_t i = 0;
  for (auto item : arr) {
    auto* given_vector = given && (*given)[i] ? &*(*given)[i] : nullptr;
    auto s =
        decode_search(item, cfg, limits, fmt::format("searches[{}]", i++), legacy, given_vector);
    if (!s) return s.error();
    out.push_back(std::move(*s));
  }
  return out;
}

void add_search_routes(http::router& r, rest_context ctx) {
  auto* coord = ctx.coordinator;
  auto limits = ctx.limits;

  auto single = [coord, limits](bool legacy) {
    return [coord, limits, legacy](request_context& req) -> awaitable<response> {
      auto name = std::string(*req.path_param("name"));
      double t = req.elapsed_seconds();
      if (auto e = check_timeout(req)) co_return input_error_response(*e, t);
      auto cfg = coord->config(name);
      if (!cfg) co_return error_response(cfg.error(), name, t);
      parsed_search s;
      {
        size_t max_dimensions = largest_vector_size(**cfg);
        auto body = parse_search_body(req, legacy ? "vector" : "query", max_dimensions);
        if (!body) co_return input_error_response(body.error(), t);
        auto* given = body->vector ? &*body->vector : nullptr;
        auto parsed = decode_search(body->doc, **cfg, limits, "", legacy, given);
        if (!parsed) co_return input_error_response(parsed.error(), t);
        s = std::move(*parsed);
      }
      auto selected = s.q.with_vector;
      auto points = co_await run_search(*coord, name, std::move(s), t);
      if (auto* err = std::get_if<response>(&points)) co_return std::move(*err);
      std::string out;
      json_writer w(out);
      if (!legacy) w.begin_object().key("points");
      w.begin_array();
      for (auto& p : std::get<0>(points)) write_point(w, p, **cfg, true, &selected);
      w.end_array();
      if (!legacy) w.end_object();
      co_return ok(out, req.elapsed_seconds());
    };
  };
  auto batch = [coord, limits](bool legacy) {
    return [coord, limits, legacy](request_context& req) -> awaitable<response> {
      auto name = std::string(*req.path_param("name"));
      double t = req.elapsed_seconds();
      if (auto e = check_timeout(req)) co_return input_error_response(*e, t);
      auto cfg = coord->config(name);
      if (!cfg) co_return error_response(cfg.error(), name, t);
      std::vector<parsed_search> searches;
      {
        size_t max_dimensions = largest_vector_size(**cfg);
        auto body = parse_vector_list_body(req, {"searches", legacy ? "vector" : "query",
                                                 max_dimensions, limits.max_batch_searches});
        if (!body) co_return input_error_response(body.error(), t);
        auto* given = body->vectors.empty() ? nullptr : &body->vectors;
        auto parsed = decode_batch(body->doc, **cfg, limits, legacy, given);
        if (!parsed) co_return input_error_response(parsed.error(), t);
        searches = std::move(*parsed);
      }
      std::vector<shard::vector_selector> selected;
      selected.reserve(searches.size());
      for (auto& s : searches) selected.push_back(s.q.with_vector);
      std::vector<std::variant<std::vector<shard::point_view>, response>> results(searches.size());
      co_await rt::parallel_for(searches.size(), [&](size_t i) -> awaitable<void> {
        results[i] = co_await run_search(*coord, name, std::move(searches[i]), t);
      });
      std::string out;
      json_writer w(out);
      w.begin_array();
      for (size_t i = 0; i < results.size(); ++i) {
        auto& res = results[i];
        if (auto* err = std::get_if<response>(&res)) co_return std::move(*err);
        if (!legacy) w.begin_object().key("points");
        w.begin_array();
        for (auto& p : std::get<0>(res)) write_point(w, p, **cfg, true, &selected[i]);
        w.end_array();
        if (!legacy) w.end_object();
      }
      w.end_array();
      co_return ok(out, req.elapsed_seconds());
    };
  };
  auto read = [coord](http::handler h) { return with_read_consistency(coord, std::move(h)); };
  // Searches are reads (the read-only API key may send them) although they are POSTs.
  constexpr auto reads = auth::access::read;
  r.add(verb::post, "/collections/{name}/points/search", read(single(true)), {.access = reads});
  // Batches carry many query vectors: the bulk body limit.
  r.add(verb::post, "/collections/{name}/points/search/batch", read(batch(true)),
        {.body_limit = limits.points_body_limit, .access = reads});
  r.add(verb::post, "/collections/{name}/points/query", read(single(false)), {.access = reads});
  r.add(verb::post, "/collections/{name}/points/query/batch", read(batch(false)),
        {.body_limit = limits.points_body_limit, .access = reads});
}

}  // namespace shoal::rest
