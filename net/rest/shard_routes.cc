// Per-shard routes of Shoal's own (not in Qdrant's API): GET /collections/{name}/shards/{id}/digest
// answers for THIS host's replica of the shard, whether it leads or follows
// (engine/shard/replica_digest.h, replication/README.md "Comparing replicas"). It is not
// redirected to the leader like the other routes about a collection (rest_api.h,
// install_routes): a host that holds no replica answers 404.

#include <algorithm>
#include <charconv>

#include <fmt/format.h>

#include "engine/shard/errc.h"
#include "engine/shard/leader_hint.h"
#include "net/rest/rest_api.h"
#include "net/rest/rest_io.h"

namespace shoal::rest {

using http::request_context;
using http::response;
using http::status;
using http::verb;

void add_shard_routes(http::router& r, rest_context ctx) {
  auto* coord = ctx.coordinator;
  r.add(
      verb::get, "/collections/{name}/shards/{id}/digest",
      [coord](request_context& req) -> awaitable<response> {
        auto name = std::string(*req.path_param("name"));
        auto id_text = *req.path_param("id");
        double t = req.elapsed_seconds();
        uint32_t id = 0;
        auto [end, ec] = std::from_chars(id_text.data(), id_text.data() + id_text.size(), id);
        if (ec != std::errc{} || end != id_text.data() + id_text.size()) {
          co_return http::error_json(
              status::bad_request,
              fmt::format("Bad request: shard id `{}` is not a shard number (0, 1, ...)", id_text),
              t);
        }
        auto cfg = coord->config(name);
        if (!cfg && cfg.error() == shard::errc::collection_not_found) {
          auto remote = shard::remote_collections();
          if (std::find(remote.begin(), remote.end(), name) != remote.end()) {
            co_return http::error_json(
                status::not_found,
                fmt::format("Not found: this host holds no replica of collection `{}` (other "
                            "hosts do; ask them)",
                            name),
                t);
          }
        }
        if (!cfg) co_return error_response(cfg.error(), name, t);
        if (id >= (*cfg)->shard_number) {
          co_return http::error_json(
              status::not_found,
              fmt::format("Not found: collection `{}` has no shard {} (shards 0 to {})", name, id,
                          (*cfg)->shard_number - 1),
              t);
        }
        auto d = co_await coord->digest(name, id);
        if (!d) co_return error_response(d.error(), name, req.elapsed_seconds());
        std::string out;
        json_writer w(out);
        w.begin_object().field("term", d->term).field("lsn", d->lsn);
        w.field("points", d->points).field("checksum", d->checksum.hex());
        w.end_object();
        co_return ok(out, req.elapsed_seconds());
      });
}

}  // namespace shoal::rest
