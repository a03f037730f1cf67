// Collections and payload indexes (REST_API.md §3, §4).

#include <fmt/format.h>

#include "engine/runtime/smp.h"
#include "engine/shard/collections.h"
#include "engine/shard/errc.h"
#include "engine/shard/leader_hint.h"
#include "net/rest/decode.h"
#include "net/rest/encode.h"
#include "net/rest/rest_api.h"
#include "net/rest/rest_io.h"

namespace shoal::rest {
namespace {

using http::request_context;
using http::response;
using http::verb;
using shard::collections;

std::string name_of(request_context& req) {
  return std::string(*req.path_param("name"));
}

std::optional<response> check_name(const std::string& name, double t) {
  if (auto problem = shard::validate_collection_name(name)) {
    return http::error_json(http::status::unprocessable_entity,
                            "Validation error in path parameters: [" + *problem + "]", t);
  }
  return std::nullopt;
}

}  // namespace

void add_collection_routes(http::router& r, rest_context ctx) {
  auto* coord = ctx.coordinator;

  r.add(verb::get, "/collections", [coord](request_context& req) -> awaitable<response> {
    std::string out;
    json_writer w(out);
    w.begin_object().key("collections").begin_array();
    for (auto& n : coord->all().local().names()) w.begin_object().field("name", n).end_object();
    // In a cluster, those placed on other hosts too (requests about them are redirected there).
    for (auto& n : shard::remote_collections()) w.begin_object().field("name", n).end_object();
    w.end_array().end_object();
    co_return ok(out, req.elapsed_seconds());
  });

  auto limits = ctx.limits;

  r.add(verb::put, "/collections/{name}",
        [coord, limits](request_context& req) -> awaitable<response> {
          auto name = name_of(req);
          double t = req.elapsed_seconds();
          if (auto bad = check_name(name, t)) co_return *bad;
          if (auto e = check_timeout(req)) co_return input_error_response(*e, t);
          auto body = parse_body(req);
          if (!body) co_return input_error_response(body.error(), t);
          auto cores = rt::runtime::current().core_count();
          auto cfg = shard::collection_config::decode_create(name, *body, cores, limits);
          if (!cfg) co_return input_error_response(cfg.error(), t);
          auto* all = &coord->all();
          auto created = co_await rt::submit_to(
              core_id(0),
              [all, c = std::move(*cfg)]() mutable -> awaitable<result<void>> {
                co_return co_await collections::create(*all, std::move(c));
              },
              {.group = rt::service_group::admin});
          if (!created) co_return error_response(created.error(), name, req.elapsed_seconds());
          co_return ok("true", req.elapsed_seconds());
        });

  r.add(verb::delete_, "/collections/{name}", [coord](request_context& req) -> awaitable<response> {
    auto name = name_of(req);
    if (auto e = check_timeout(req)) co_return input_error_response(*e, req.elapsed_seconds());
    auto* all = &coord->all();
    auto dropped = co_await rt::submit_to(core_id(0),
                                          [all, name]() -> awaitable<result<bool>> {
                                            co_return co_await collections::drop(*all, name);
                                          },
                                          {.group = rt::service_group::admin});
    if (!dropped) co_return error_response(dropped.error(), name, req.elapsed_seconds());
    co_return ok(*dropped ? "true" : "false", req.elapsed_seconds());
  });

  r.add(verb::get, "/collections/{name}/exists",
        [coord](request_context& req) -> awaitable<response> {
          bool exists = coord->all().local().find(name_of(req)) != nullptr;
          co_return ok(exists ? R"({"exists":true})" : R"({"exists":false})",
                       req.elapsed_seconds());
        });

  r.add(verb::get, "/collections/{name}", [coord](request_context& req) -> awaitable<response> {
    auto name = name_of(req);
    auto* entry = coord->all().local().find(name);
    if (!entry)
      co_return error_response(shard::errc::collection_not_found, name, req.elapsed_seconds());
    auto cfg = entry->config;
    bool failed = entry->st == collections::entry::state::failed;
    shard::collection_stats stats;
    if (!failed) {
      auto s = co_await coord->stats(name);
      if (!s) co_return error_response(s.error(), name, req.elapsed_seconds());
      stats = *s;
    }
    std::string out;
    json_writer w(out);
    write_collection_info(w, *cfg, stats, failed);
    co_return ok(out, req.elapsed_seconds());
  });

  r.add(
      verb::put, "/collections/{name}/index",
      [coord, limits](request_context& req) -> awaitable<response> {
        auto name = name_of(req);
        double t = req.elapsed_seconds();
        auto params = read_write_params(req);
        if (!params) co_return input_error_response(params.error(), t);
        auto cfg = coord->config(name);
        if (!cfg) co_return error_response(cfg.error(), name, t);
        std::string field;
        shard::payload_index_def def;
        {
          auto body = parse_body(req);
          if (!body) co_return input_error_response(body.error(), t);
          auto f = member(*body, "field_name");
          std::string_view fs;
          if (!f || f->get_string().get(fs) != simdjson::SUCCESS) {
            co_return input_error_response(data::input_error::format("missing field `field_name`"),
                                           t);
          }
          field = std::string(fs);
          if (auto kp = decode_key_path(field, limits, "field_name"); !kp) {
            co_return input_error_response(kp.error(), t);
          }
          auto schema = member(*body, "field_schema");
          std::string_view type_name;
          if (!schema) {
            co_return input_error_response(
                data::input_error::format("missing field `field_schema`"), t);
          }
          if (schema->is_string()) {
            type_name = schema->get_string().value_unsafe();
          } else if (schema->is_object()) {
            auto type = member(*schema, "type");
            if (!type || type->get_string().get(type_name) != simdjson::SUCCESS) {
              co_return input_error_response(
                  data::input_error::format("field_schema: missing field `type`"), t);
            }
            auto lookup = member(*schema, "lookup"), range = member(*schema, "range");
            if (lookup && range && lookup->is_bool() && range->is_bool() &&
                !lookup->get_bool().value_unsafe() && !range->get_bool().value_unsafe()) {
              co_return http::error_json(
                  http::status::unprocessable_entity,
                  "Validation error: the 'lookup' and 'range' capabilities can't be both disabled",
                  t);
            }
            def.params_json = simdjson::minify(*schema);
          } else {
            co_return input_error_response(
                data::input_error::format("field_schema: expected a type or an object"), t);
          }
          auto type = data::parse_payload_type(type_name);
          if (!type) {
            co_return input_error_response(data::input_error::format(fmt::format(
                                               "field_schema: unknown variant `{}`, expected one "
                                               "of `keyword`, `integer`, `float`, "
                                               "`bool`, `geo`, `text`, `datetime`, `uuid`",
                                               type_name)),
                                           t);
          }
          def.type = *type;
        }
        auto* all = &coord->all();
        auto done = co_await rt::submit_to(core_id(0),
                                           [all, name, field, def]() -> awaitable<result<void>> {
                                             co_return co_await collections::set_payload_index(
                                                 *all, name, field, def);
                                           },
                                           {.group = rt::service_group::admin});
        if (!done) co_return error_response(done.error(), name, req.elapsed_seconds());
        co_return update_result(0, params->wait, req.elapsed_seconds());
      });

  r.add(verb::delete_, "/collections/{name}/index/{field}",
        [coord](request_context& req) -> awaitable<response> {
          auto name = name_of(req);
          auto field = std::string(*req.path_param("field"));
          auto params = read_write_params(req);
          if (!params) co_return input_error_response(params.error(), req.elapsed_seconds());
          auto* all = &coord->all();
          auto done = co_await rt::submit_to(core_id(0),
                                             [all, name, field]() -> awaitable<result<void>> {
                                               co_return co_await collections::set_payload_index(
                                                   *all, name, field, std::nullopt);
                                             },
                                             {.group = rt::service_group::admin});
          if (!done) co_return error_response(done.error(), name, req.elapsed_seconds());
          co_return update_result(0, params->wait, req.elapsed_seconds());
        });
}

}  // namespace shoal::rest
