#include "replication/follower_service.h"

#include <memory>

#include "engine/shard/errc.h"
#include "replication/replication_metrics.h"
#include "replication/wire.h"

namespace shoal::repl {
namespace {

using rpc::reply;
using rpc::status;

std::string_view tag_of(shard::errc e) {
  switch (e) {
    case shard::errc::stale_term:
      return "stale_term";
    case shard::errc::log_mismatch:
      return "log_mismatch";
    case shard::errc::needs_snapshot:
      return "needs_snapshot";
    case shard::errc::collection_not_found:
      return "not_found";
    default:
      return "error";
  }
}

reply fail_with(error_code ec) {
  if (ec.category() == category_of<shard::errc>()) {
    auto e = static_cast<shard::errc>(ec.value());
    status s = status::wrong_input;
    if (e == shard::errc::collection_not_found) s = status::not_found;
    if (e == shard::errc::closed || e == shard::errc::recovering) s = status::unavailable;
    return reply::fail(s, tagged_error(tag_of(e), ec.message()));
  }
  return reply::fail(status::unavailable, tagged_error("io", ec.message()));
}

reply malformed() {
  return reply::fail(status::malformed, "replication message does not decode");
}

position_answer answer_of(const shard::shard::replica_position& p) {
  return {p.term, p.leader, p.last_lsn, p.last_term, p.durable_lsn, p.first_lsn, p.snapshot_lsn};
}

/// fn(shard&) -> awaitable<result<rpc::bytes>> on the shard's core.
template <typename Fn>
awaitable<reply> on_shard(const follower_context& ctx, const shard_ref& ref, Fn fn) {
  auto* all = ctx.collections;
  auto r = co_await rt::submit_to(shard::collections::core_of(ref.shard),
                                  [all, name = ref.collection, id = ref.shard,
                                   fn = std::move(fn)]() mutable -> awaitable<result<rpc::bytes>> {
                                    auto* s = all->local().local_shard(name, id);
                                    if (!s) co_return shard::errc::collection_not_found;
                                    co_return co_await fn(*s);
                                  },
                                  {.group = rt::service_group::replication});
  if (!r) co_return fail_with(r.error());
  co_return reply::ok(std::move(*r));
}

awaitable<reply> do_position(std::shared_ptr<const follower_context> ctx, const rpc::request& req) {
  auto ref = decode_shard_ref(req.payload);
  if (!ref) co_return malformed();
  co_return co_await on_shard(
      *ctx, *ref, [term = ref->leader_term](shard::shard& s) -> awaitable<result<rpc::bytes>> {
        if (auto f = co_await s.become_follower(term); !f) {
          co_return f.error();
        }
        co_return encode(answer_of(s.position()));
      });
}

awaitable<reply> do_truncate(std::shared_ptr<const follower_context> ctx, const rpc::request& req) {
  auto t = decode_truncate(req.payload);
  if (!t) co_return malformed();
  co_return co_await on_shard(*ctx, t->ref,
                              [term = t->ref.leader_term, after = t->after_lsn](
                                  shard::shard& s) -> awaitable<result<rpc::bytes>> {
                                if (auto f = co_await s.become_follower(term); !f) {
                                  co_return f.error();
                                }
                                if (auto c = co_await s.truncate_after(after); !c) {
                                  co_return c.error();
                                }
                                co_return encode(answer_of(s.position()));
                              });
}

awaitable<reply> do_append(std::shared_ptr<const follower_context> ctx, const rpc::request& req) {
  auto a = decode_append(req.payload);
  if (!a) co_return malformed();
  auto ref = a->ref;
  co_return co_await on_shard(*ctx, ref,
                              [a = std::make_shared<append_request>(std::move(*a))](
                                  shard::shard& s) -> awaitable<result<rpc::bytes>> {
                                size_t n = a->records.size();
                                auto durable = co_await s.append_replicated(
                                    a->ref.leader_term, a->prev_lsn, a->prev_term,
                                    std::move(a->records), a->sync);
                                if (!durable) co_return durable.error();
                                count_applied(a->ref.collection, a->ref.shard, n);
                                co_return encode(append_answer{*durable, s.position().last_lsn});
                              });
}

using method_fn = awaitable<reply> (*)(std::shared_ptr<const follower_context>,
                                       const rpc::request&);

awaitable<reply> guarded_call(std::shared_ptr<const follower_context> ctx, method_fn fn,
                              const rpc::request& req) {
  if (!ctx->ready()) co_return reply::fail(status::unavailable, "node is not ready");
  co_return co_await fn(ctx, req);
}

rpc::handler guarded(std::shared_ptr<const follower_context> ctx, method_fn fn) {
  return [ctx, fn](const rpc::request& req) { return guarded_call(ctx, fn, req); };
}

}  // namespace

void add_follower_methods(rpc::dispatcher& d, follower_context ctx) {
  auto shared = std::make_shared<const follower_context>(std::move(ctx));
  d.add(method::position, guarded(shared, do_position));
  d.add(method::truncate, guarded(shared, do_truncate));
  d.add(method::append, guarded(shared, do_append));
}

}  // namespace shoal::repl
