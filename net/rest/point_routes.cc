// Points: upsert, retrieve, delete, payload changes, scroll, count (REST_API.md §5).

#include <algorithm>
#include <map>

#include <fmt/format.h>

#include "engine/data/filter_json.h"
#include "net/rest/consistency.h"
#include "net/rest/decode.h"
#include "net/rest/encode.h"
#include "net/rest/requests.h"
#include "net/rest/rest_api.h"
#include "net/rest/rest_io.h"
#include "net/rest/vector_list_body.h"

namespace shoal::rest {
namespace {

using data::input_error;
using http::request_context;
using http::response;
using http::verb;

std::string name_of(request_context& req) {
  return std::string(*req.path_param("name"));
}

shard::write_options options_for(const write_params& p, const shard::collection_config& cfg) {
  shard::write_options o;
  o.level = p.durability.value_or(cfg.default_durability);
  o.wait_applied = p.wait;
  return o;
}

}  // namespace

decoded<selection> decode_selection(element body, const rest_limits& limits) {
  selection s;
  if (auto points = member(body, "points")) {
    auto ids = decode_ids(*points, "points", limits.max_points_per_request);
    if (!ids) return ids.error();
    s.ids = std::move(*ids);
    return s;
  }
  if (auto f = member(body, "filter")) {
    auto decoded_filter = data::decode_filter(*f, "filter", limits);
    if (!decoded_filter) return decoded_filter.error();
    s.filter = std::make_shared<data::filter>(std::move(*decoded_filter));
    return s;
  }
  return input_error::format("expected `points` (a list of ids) or `filter`");
}

decoded<payload_change> decode_payload_change(element body, shard::mutation_type type,
                                              const rest_limits& limits) {
  if (!body.is_object()) return input_error::format("expected an object");
  payload_change out;
  auto& m = out.m;
  m.type = type;
  if (type == shard::mutation_type::set_payload ||
      type == shard::mutation_type::overwrite_payload) {
    auto p = member(body, "payload");
    if (!p || !p->is_object()) return input_error::format("payload: expected a JSON object");
    auto v = decode_payload_object(*p, limits, "payload");
    if (!v) return v.error();
    m.payload = std::move(*v);
    if (auto k = member(body, "key")) {
      std::string_view ks;
      if (k->get_string().get(ks) != simdjson::SUCCESS) {
        return input_error::format("key: expected a string");
      }
      auto kp = decode_key_path(ks, limits, "key");
      if (!kp) return kp.error();
      // The payload goes that many objects down: stored payloads nest at most as deep as
      // parsed ones, so the point can still be written, logged and loaded.
      auto depth = kp->steps().size() + static_cast<size_t>(m.payload.depth());
      if (depth > static_cast<size_t>(data::json_value::kMaxDepth)) {
        return input_error::validation(fmt::format(
            "key: the payload would be nested {} levels deep at \"{}\", a payload nests at most {}",
            depth, ks, data::json_value::kMaxDepth));
      }
      m.key = std::string(ks);
    }
  } else if (type == shard::mutation_type::delete_payload_keys) {
    auto keys = member(body, "keys");
    if (!keys || !keys->is_array())
      return input_error::format("keys: expected a list of key paths");
    for (auto k : simdjson::dom::array(keys->get_array().value_unsafe())) {
      std::string_view ks;
      if (k.get_string().get(ks) != simdjson::SUCCESS) {
        return input_error::format("keys: expected strings");
      }
      if (auto kp = decode_key_path(ks, limits, "keys"); !kp) return kp.error();
      m.keys.emplace_back(ks);
    }
  }
  auto sel = decode_selection(body, limits);
  if (!sel) return sel.error();
  m.ids = std::move(sel->ids);
  out.filter = std::move(sel->filter);
  return out;
}

decoded<std::vector<batch_op>> decode_operations(element body, const shard::collection_config& cfg,
                                                 const rest_limits& limits) {
  auto ops = member(body, "operations");
  if (!ops || !ops->is_array()) return input_error::format("operations: expected an array");
  auto arr = ops->get_array().value_unsafe();
  if (arr.size() > limits.max_batch_searches) {
    return input_error::validation(fmt::format("operations: {} operations, the limit is {}",
                                               arr.size(), limits.max_batch_searches));
  }
  std::vector<batch_op> out;
  out.reserve(arr.size());
  size_t i = 0;
  for (auto item : arr) {
    auto where = fmt::format("operations[{}]", i++);
    auto obj = item.get_object();
    if (obj.error() || obj.value_unsafe().size() != 1) {
      return input_error::format(where + ": expected an object with one operation");
    }
    auto [key, value] = *obj.value_unsafe().begin();
    auto prefixed = [&](input_error e) {
      e.message = fmt::format("{}.{}.{}", where, key, e.message);
      return e;
    };
    batch_op op;
    if (key == "upsert") {
      auto points = decode_upsert(value, cfg, limits);
      if (!points) return prefixed(points.error());
      op.points = std::move(*points);
    } else if (key == "delete") {
      op.k = batch_op::kind::remove;
      auto sel = decode_selection(value, limits);
      if (!sel) return prefixed(sel.error());
      op.sel = std::move(*sel);
    } else if (key == "set_payload" || key == "overwrite_payload" || key == "delete_payload" ||
               key == "clear_payload") {
      op.k = batch_op::kind::payload;
      auto type = key == "set_payload"         ? shard::mutation_type::set_payload
                  : key == "overwrite_payload" ? shard::mutation_type::overwrite_payload
                  : key == "delete_payload"    ? shard::mutation_type::delete_payload_keys
                                               : shard::mutation_type::clear_payload;
      auto change = decode_payload_change(value, type, limits);
      if (!change) return prefixed(change.error());
      op.change = std::move(*change);
    } else if (key == "update_vectors" || key == "delete_vectors") {
      return input_error::wrong_input(
          fmt::format("{}: `{}` is not supported; upsert the whole point instead", where, key));
    } else {
      return input_error::format(fmt::format(
          "{}: unknown variant `{}`, expected one of `upsert`, `delete`, `set_payload`, "
          "`overwrite_payload`, `delete_payload`, `clear_payload`",
          where, key));
    }
    out.push_back(std::move(op));
  }
  return out;
}

decoded<retrieve_request> decode_retrieve(element body, const shard::collection_config& cfg,
                                          const rest_limits& limits) {
  retrieve_request out;
  auto ids_el = member(body, "ids");
  if (!ids_el) return input_error::format("missing field `ids`");
  auto ids = decode_ids(*ids_el, "ids", limits.max_points_per_request);
  if (!ids) return ids.error();
  out.ids = std::move(*ids);
  auto p =
      decode_with_payload(member(body, "with_payload"), shard::payload_selector::all(), limits);
  if (!p) return p.error();
  out.with_payload = std::move(*p);
  auto v = decode_with_vector_field(body, cfg);
  if (!v) return v.error();
  out.with_vector = std::move(*v);
  return out;
}

decoded<shard::scroll_query> decode_scroll(element body, const shard::collection_config& cfg,
                                           const rest_limits& limits) {
  shard::scroll_query q;
  auto limit = decode_count(body, "limit", 10, 1, limits.max_limit, "");
  if (!limit) return limit.error();
  q.limit = *limit;
  if (auto off = member(body, "offset")) {
    auto id = data::decode_point_id(*off, "offset");
    if (!id) return id.error();
    q.from = *id;
  }
  auto f = decode_filter_field(body, "", limits);
  if (!f) return f.error();
  q.filter = std::move(*f);
  auto p =
      decode_with_payload(member(body, "with_payload"), shard::payload_selector::all(), limits);
  if (!p) return p.error();
  q.with_payload = std::move(*p);
  auto v = decode_with_vector_field(body, cfg);
  if (!v) return v.error();
  q.with_vector = std::move(*v);
  return q;
}

decoded<std::shared_ptr<const data::filter>> decode_count_body(element body,
                                                               const data::input_limits& limits) {
  auto f = decode_filter_field(body, "", limits);
  if (!f) return f.error();
  if (auto exact = member(body, "exact"); exact && !exact->is_bool()) {
    return input_error::format("exact: expected a boolean");
  }
  return std::move(*f);
}

void add_point_routes(http::router& r, rest_context ctx) {
  auto* coord = ctx.coordinator;
  auto read = [coord](http::handler h) { return with_read_consistency(coord, std::move(h)); };
  auto limits = ctx.limits;

  r.add(verb::put, "/collections/{name}/points",
        [coord, limits](request_context& req) -> awaitable<response> {
          auto name = name_of(req);
          double t = req.elapsed_seconds();
          auto params = read_write_params(req);
          if (!params) co_return input_error_response(params.error(), t);
          auto cfg = coord->config(name);
          if (!cfg) co_return error_response(cfg.error(), name, t);
          std::vector<shard::point_write> points;
          {
            size_t max_dimensions = largest_vector_size(**cfg);
            auto body =
                parse_vector_list_body(req, {"points", "vector", max_dimensions,
                                             limits.max_points_per_request, "batch", "vectors"});
            if (!body) co_return input_error_response(body.error(), t);
            auto* given = body->vectors.empty() ? nullptr : &body->vectors;
            auto decoded_points =
                decode_upsert(body->doc, **cfg, limits, given,
                              body->from_columns ? upsert_form::batch : upsert_form::points);
            if (!decoded_points) co_return input_error_response(decoded_points.error(), t);
            points = std::move(*decoded_points);
          }
          auto done = co_await coord->upsert(name, std::move(points), options_for(*params, **cfg));
          if (!done) co_return error_response(done.error(), name, req.elapsed_seconds());
          co_return update_result(*done, params->wait, req.elapsed_seconds());
        },
        {.body_limit = limits.points_body_limit});

  r.add(verb::post, "/collections/{name}/points",
        read([coord, limits](request_context& req) -> awaitable<response> {
          auto name = name_of(req);
          double t = req.elapsed_seconds();
          if (auto e = check_timeout(req)) co_return input_error_response(*e, t);
          auto cfg = coord->config(name);
          if (!cfg) co_return error_response(cfg.error(), name, t);
          retrieve_request rr;
          {
            auto body = parse_body(req);
            if (!body) co_return input_error_response(body.error(), t);
            auto decoded_request = decode_retrieve(*body, **cfg, limits);
            if (!decoded_request) co_return input_error_response(decoded_request.error(), t);
            rr = std::move(*decoded_request);
          }
          const auto& vs = rr.with_vector;
          auto found =
              co_await coord->retrieve(name, std::move(rr.ids), rr.with_payload, rr.with_vector);
          if (!found) co_return error_response(found.error(), name, req.elapsed_seconds());
          std::string out;
          json_writer w(out);
          w.begin_array();
          for (auto& p : *found) write_point(w, p, **cfg, false, &vs);
          w.end_array();
          co_return ok(out, req.elapsed_seconds());
        }),
        {.access = auth::access::read});

  r.add(verb::get, "/collections/{name}/points/{id}",
        read([coord](request_context& req) -> awaitable<response> {
          auto name = name_of(req);
          double t = req.elapsed_seconds();
          auto cfg = coord->config(name);
          if (!cfg) co_return error_response(cfg.error(), name, t);
          auto id_text = *req.path_param("id");
          auto id = data::point_id::parse(id_text);
          if (!id) {
            co_return http::error_json(
                http::status::bad_request,
                fmt::format("Format error in path parameters: `{}` is not a point id (an unsigned "
                            "integer or a UUID)",
                            id_text),
                t);
          }
          auto found = co_await coord->retrieve(name, {*id}, shard::payload_selector::all(),
                                                shard::vector_selector::everything());
          if (!found) co_return error_response(found.error(), name, req.elapsed_seconds());
          if (found->empty()) {
            co_return http::error_json(
                http::status::not_found,
                fmt::format("Not found: No point with id {} found", id->to_string()),
                req.elapsed_seconds());
          }
          std::string out;
          json_writer w(out);
          write_point(w, found->front(), **cfg, false);
          co_return ok(out, req.elapsed_seconds());
        }));

  r.add(verb::post, "/collections/{name}/points/delete",
        [coord, limits](request_context& req) -> awaitable<response> {
          auto name = name_of(req);
          double t = req.elapsed_seconds();
          auto params = read_write_params(req);
          if (!params) co_return input_error_response(params.error(), t);
          auto cfg = coord->config(name);
          if (!cfg) co_return error_response(cfg.error(), name, t);
          selection sel;
          {
            auto body = parse_body(req);
            if (!body) co_return input_error_response(body.error(), t);
            auto s = decode_selection(*body, limits);
            if (!s) co_return input_error_response(s.error(), t);
            sel = std::move(*s);
          }
          auto o = options_for(*params, **cfg);
          auto done = sel.filter ? co_await coord->delete_matching(name, sel.filter, o)
                                 : co_await coord->delete_points(name, std::move(sel.ids), o);
          if (!done) co_return error_response(done.error(), name, req.elapsed_seconds());
          co_return update_result(*done, params->wait, req.elapsed_seconds());
        });

  // set (merge), overwrite, delete keys, clear
  auto payload_route = [coord, limits](shard::mutation_type type) {
    return [coord, limits, type](request_context& req) -> awaitable<response> {
      auto name = name_of(req);
      double t = req.elapsed_seconds();
      auto params = read_write_params(req);
      if (!params) co_return input_error_response(params.error(), t);
      auto cfg = coord->config(name);
      if (!cfg) co_return error_response(cfg.error(), name, t);
      payload_change change;
      {
        auto body = parse_body(req);
        if (!body) co_return input_error_response(body.error(), t);
        auto c = decode_payload_change(*body, type, limits);
        if (!c) co_return input_error_response(c.error(), t);
        change = std::move(*c);
      }
      auto done = co_await coord->change_payload(name, std::move(change.m), change.filter,
                                                 options_for(*params, **cfg));
      if (!done) co_return error_response(done.error(), name, req.elapsed_seconds());
      co_return update_result(*done, params->wait, req.elapsed_seconds());
    };
  };
  r.add(verb::post, "/collections/{name}/points/payload",
        payload_route(shard::mutation_type::set_payload));
  r.add(verb::put, "/collections/{name}/points/payload",
        payload_route(shard::mutation_type::overwrite_payload));
  r.add(verb::post, "/collections/{name}/points/payload/delete",
        payload_route(shard::mutation_type::delete_payload_keys));
  r.add(verb::post, "/collections/{name}/points/payload/clear",
        payload_route(shard::mutation_type::clear_payload));

  r.add(verb::post, "/collections/{name}/points/batch",
        [coord, limits](request_context& req) -> awaitable<response> {
          auto name = name_of(req);
          double t = req.elapsed_seconds();
          auto params = read_write_params(req);
          if (!params) co_return input_error_response(params.error(), t);
          auto cfg = coord->config(name);
          if (!cfg) co_return error_response(cfg.error(), name, t);
          std::vector<batch_op> ops;
          {
            auto body = parse_body(req);
            if (!body) co_return input_error_response(body.error(), t);
            auto decoded_ops = decode_operations(*body, **cfg, limits);
            if (!decoded_ops) co_return input_error_response(decoded_ops.error(), t);
            ops = std::move(*decoded_ops);
          }
          // Every operation was validated above; they run in order, each after the previous
          // one is applied. An engine failure stops the batch (what ran before it stays).
          auto o = options_for(*params, **cfg);
          std::vector<uint64_t> ids;
          ids.reserve(ops.size());
          std::map<uint32_t, shard::token_entry> last_of_shard;
          for (auto& op : ops) {
            result<shard::write_summary> done = shard::write_summary{};
            switch (op.k) {
              case batch_op::kind::upsert:
                done = co_await coord->upsert(name, std::move(op.points), o);
                break;
              case batch_op::kind::remove:
                done = op.sel.filter
                           ? co_await coord->delete_matching(name, op.sel.filter, o)
                           : co_await coord->delete_points(name, std::move(op.sel.ids), o);
                break;
              case batch_op::kind::payload:
                done = co_await coord->change_payload(name, std::move(op.change.m),
                                                      op.change.filter, o);
                break;
            }
            if (!done) co_return error_response(done.error(), name, req.elapsed_seconds());
            ids.push_back(done->operation_id);
            for (auto& e : done->token) last_of_shard[e.shard] = e;  // later ops come later
          }
          std::string out;
          json_writer w(out);
          w.begin_array();
          for (auto id : ids) {
            w.begin_object().field("operation_id", id);
            w.field("status", params->wait ? "completed" : "acknowledged").end_object();
          }
          w.end_array();
          auto answer = ok(out, req.elapsed_seconds());
          std::vector<shard::token_entry> token;
          for (auto& [shard_id, e] : last_of_shard) token.push_back(e);
          set_token_header(answer, token);
          co_return answer;
        },
        {.body_limit = limits.points_body_limit});

  r.add(verb::post, "/collections/{name}/points/scroll",
        read([coord, limits](request_context& req) -> awaitable<response> {
          auto name = name_of(req);
          double t = req.elapsed_seconds();
          if (auto e = check_timeout(req)) co_return input_error_response(*e, t);
          auto cfg = coord->config(name);
          if (!cfg) co_return error_response(cfg.error(), name, t);
          shard::scroll_query q;
          shard::vector_selector selected;
          {
            auto body = parse_body(req);
            if (!body) co_return input_error_response(body.error(), t);
            if (member(*body, "order_by")) {
              co_return http::error_json(http::status::bad_request,
                                         "Bad request: order_by is not supported", t);
            }
            auto decoded_query = decode_scroll(*body, **cfg, limits);
            if (!decoded_query) co_return input_error_response(decoded_query.error(), t);
            q = std::move(*decoded_query);
            selected = q.with_vector;
          }
          auto page = co_await coord->scroll(name, std::move(q));
          if (!page) co_return error_response(page.error(), name, req.elapsed_seconds());
          std::string out;
          json_writer w(out);
          w.begin_object().key("points").begin_array();
          for (auto& p : page->points) write_point(w, p, **cfg, false, &selected);
          w.end_array().key("next_page_offset");
          if (page->next) {
            page->next->write_json(w);
          } else {
            w.null();
          }
          w.end_object();
          co_return ok(out, req.elapsed_seconds());
        }),
        {.access = auth::access::read});

  r.add(verb::post, "/collections/{name}/points/count",
        read([coord, limits](request_context& req) -> awaitable<response> {
          auto name = name_of(req);
          double t = req.elapsed_seconds();
          if (auto e = check_timeout(req)) co_return input_error_response(*e, t);
          auto cfg = coord->config(name);
          if (!cfg) co_return error_response(cfg.error(), name, t);
          std::shared_ptr<const data::filter> f;
          {
            auto body = parse_body(req);
            if (!body) co_return input_error_response(body.error(), t);
            auto decoded_filter = decode_count_body(*body, limits);
            if (!decoded_filter) co_return input_error_response(decoded_filter.error(), t);
            f = std::move(*decoded_filter);
          }
          auto n = co_await coord->count(name, f);
          if (!n) co_return error_response(n.error(), name, req.elapsed_seconds());
          co_return ok(fmt::format(R"({{"count":{}}})", *n), req.elapsed_seconds());
        }),
        {.access = auth::access::read});
}

}  // namespace shoal::rest
