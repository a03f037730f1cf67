#include "replication/follower_service.h"

#include <fcntl.h>
#include <memory>

#include <fmt/format.h>

#include "engine/common/file_io.h"
#include "engine/runtime/blocking_pool.h"
#include "engine/runtime/runtime.h"
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

/// The shard's position with its term history (the leader computes the common point from it).
position_answer answer_of(const shard::shard& s) {
  auto p = s.position();
  position_answer a;
  a.term = p.term;
  a.leader = p.leader;
  a.last_lsn = p.last_lsn;
  a.last_term = p.last_term;
  a.durable_lsn = p.durable_lsn;
  a.first_lsn = p.first_lsn;
  a.snapshot_lsn = p.snapshot_lsn;
  set_position_terms(a, s.terms());
  return a;
}

/// fn(shard&) -> awaitable<result<rpc::bytes>> on the shard's core, when this host holds the
/// shard in the incarnation the sender names (wire.h; either side 0: not known, not checked).
template <typename Fn>
awaitable<reply> on_shard(const follower_context& ctx, const shard_ref& ref, Fn fn) {
  auto* all = ctx.collections;
  auto r = co_await rt::submit_to(
      shard::collections::core_of(ref.shard),
      [all, name = ref.collection, id = ref.shard, incarnation = ref.incarnation,
       fn = std::move(fn)]() mutable -> awaitable<result<rpc::bytes>> {
        auto* s = all->local().local_shard(name, id);
        if (!s) co_return shard::errc::collection_not_found;
        if (incarnation && s->incarnation() && incarnation != s->incarnation()) {
          co_return shard::errc::collection_not_found;  // dropped and created again
        }
        co_return co_await fn(*s);
      },
      {.group = rt::service_group::replication});
  if (!r) {
    // Every core holds every configuration: this one names the copy's incarnation.
    auto* e = all->local().find(ref.collection);
    uint64_t here = e && e->config ? e->config->incarnation : 0;
    if (ref.incarnation && here && ref.incarnation != here) {
      co_return reply::fail(
          status::not_found,
          tagged_error("not_found",
                       fmt::format("collection `{}` here is incarnation {}, not the sender's {} "
                                   "(dropped and created again)",
                                   ref.collection, here, ref.incarnation)));
    }
    co_return fail_with(r.error());
  }
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
        co_return encode(answer_of(s));
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
                                co_return encode(answer_of(s));
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

awaitable<reply> do_fetch(std::shared_ptr<const follower_context> ctx, const rpc::request& req) {
  auto f = decode_fetch(req.payload);
  if (!f) co_return malformed();
  // A read: the receiver neither adopts the asker's term nor changes anything.
  co_return co_await on_shard(
      *ctx, f->ref, [f = *f](shard::shard& s) -> awaitable<result<rpc::bytes>> {
        if (f.after_lsn > s.position().last_lsn || s.term_at(f.after_lsn) != f.after_term) {
          co_return shard::errc::log_mismatch;  // the asker's log is not a prefix of this one
        }
        constexpr uint32_t kMaxFetch = 4u << 20;
        auto records =
            co_await s.read_log(f.after_lsn + 1, std::clamp<uint32_t>(f.max_bytes, 1, kMaxFetch));
        if (!records) co_return records.error();
        co_return encode(
            append_request{f.ref, f.after_lsn, f.after_term, true, std::move(*records)});
      });
}

/// Blocking: writes one chunk of an incoming snapshot at its offset (chunk 0 starts the file).
result<void> write_chunk(const std::filesystem::path& path, const snapshot_chunk& c) {
  int flags = O_WRONLY | O_CLOEXEC | (c.offset == 0 ? O_CREAT | O_TRUNC : 0);
  auto f = fileio::open_file(path, flags);
  if (!f) return f.error();
  auto size = fileio::size_of(*f);
  if (!size) return size.error();
  if (static_cast<uint64_t>(*size) != c.offset) return shard::errc::log_mismatch;  // out of order
  if (auto w = fileio::pwrite_all(*f, c.data, static_cast<off_t>(c.offset)); !w) return w.error();
  if (c.last) {
    if (auto s = fileio::datasync(*f); !s) return s.error();
  }
  return result<void>{};
}

awaitable<reply> do_snapshot(std::shared_ptr<const follower_context> ctx, const rpc::request& req) {
  auto c = decode_snapshot_chunk(req.payload);
  if (!c) co_return malformed();
  auto ref = c->ref;
  co_return co_await on_shard(
      *ctx, ref,
      [c = std::make_shared<snapshot_chunk>(std::move(*c))](
          shard::shard& s) -> awaitable<result<rpc::bytes>> {
        if (auto f = co_await s.become_follower(c->ref.leader_term); !f) co_return f.error();
        auto path = s.dir() / "incoming-snapshot.tmp";  // .tmp: removed if a restart finds it
        auto written = co_await rt::runtime::current().blocking().run(
            rt::blocking_reason::write, [path, c] { return write_chunk(path, *c); });
        if (!written) co_return written.error();
        if (c->last) {
          auto installed = co_await s.install_snapshot(path, c->lsn, shard::term_history(c->terms));
          if (!installed) co_return installed.error();
        }
        co_return encode_received(c->offset + c->data.size());
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
  d.add(method::snapshot, guarded(shared, do_snapshot));
  d.add(method::fetch, guarded(shared, do_fetch));
}

}  // namespace shoal::repl
