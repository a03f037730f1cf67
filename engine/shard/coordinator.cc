#include "engine/shard/coordinator.h"

#include <algorithm>

#include "engine/common/file_io.h"
#include "engine/runtime/blocking_pool.h"
#include "engine/runtime/smp.h"
#include "engine/shard/archive.h"
#include "engine/shard/errc.h"

namespace shoal::shard {

result<std::shared_ptr<const collection_config>> coordinator::config(std::string_view name) const {
  auto* e = collections_.local().find(name);
  if (!e) return errc::collection_not_found;
  if (e->st == collections::entry::state::failed) return errc::collection_failed;
  if (e->st == collections::entry::state::loading) return errc::recovering;
  return e->config;
}

template <typename Fn>
auto coordinator::on_shard(const std::string& name, uint32_t shard_id, Fn fn, rt::service_group g) {
  // fn(shard&) runs on the shard's core; a shard missing there (dropped meanwhile) is an error.
  auto* all = &collections_;
  return rt::submit_to(collections::core_of(shard_id),
                       [all, name, shard_id, fn = std::move(fn)]() mutable {
                         auto& here = all->local();
                         return fn(here, here.local_shard(name, shard_id));
                       },
                       {.group = g});
}

namespace {

/// The first error, or the operation id and the token of a write over shards.
result<write_summary> summarize(const std::vector<result<write_ack>>& acks) {
  write_summary out;
  for (uint32_t i = 0; i < acks.size(); ++i) {
    auto& a = acks[i];
    if (!a) return a.error();
    out.operation_id = std::max(out.operation_id, a->lsn);
    if (a->lsn > 0) out.token.push_back({i, a->term, a->lsn});
  }
  return out;
}

}  // namespace

awaitable<result<void>> coordinator::wait_applied(std::string name, std::vector<token_entry> token,
                                                  std::chrono::milliseconds timeout) {
  auto cfg = config(name);
  if (!cfg) co_return cfg.error();
  for (auto& e : token) {
    if (e.shard >= (*cfg)->shard_number) co_return errc::bad_token;
  }
  std::vector<result<void>> done(token.size());
  co_await rt::parallel_for(token.size(), [&](size_t i) -> awaitable<void> {
    done[i] = co_await on_shard(
        name, token[i].shard,
        [e = token[i], timeout](collections&, shard* s) -> awaitable<result<void>> {
          if (!s) co_return errc::collection_not_found;
          co_return co_await s->wait_applied(e.term, e.lsn, timeout);
        },
        rt::service_group::search);
  });
  for (auto& d : done) {
    if (!d) co_return d.error();
  }
  co_return result<void>{};
}

awaitable<result<write_summary>> coordinator::upsert(std::string name,
                                                     std::vector<point_write> points,
                                                     write_options o) {
  auto cfg = config(name);
  if (!cfg) co_return cfg.error();
  uint32_t n = (*cfg)->shard_number;
  std::vector<upsert_mutation> parts(n);
  for (auto& p : points) parts[p.id.route_hash() % n].points.push_back(std::move(p));
  std::vector<result<write_ack>> acks(n, write_ack{});
  co_await rt::parallel_for(n, [&](size_t i) -> awaitable<void> {
    if (parts[i].points.empty()) co_return;
    acks[i] = co_await on_shard(
        name, static_cast<uint32_t>(i),
        [m = std::move(parts[i]), o](collections&,
                                     shard* s) mutable -> awaitable<result<write_ack>> {
          if (!s) co_return errc::collection_not_found;
          co_return co_await s->write(std::move(m), o);
        },
        rt::service_group::write);
  });
  co_return summarize(acks);
}

awaitable<result<write_summary>> coordinator::delete_points(std::string name,
                                                            std::vector<data::point_id> ids,
                                                            write_options o) {
  auto cfg = config(name);
  if (!cfg) co_return cfg.error();
  uint32_t n = (*cfg)->shard_number;
  std::vector<delete_mutation> parts(n);
  for (auto& id : ids) parts[id.route_hash() % n].ids.push_back(id);
  std::vector<result<write_ack>> acks(n, write_ack{});
  co_await rt::parallel_for(n, [&](size_t i) -> awaitable<void> {
    if (parts[i].ids.empty()) co_return;
    acks[i] = co_await on_shard(
        name, static_cast<uint32_t>(i),
        [m = std::move(parts[i]), o](collections&,
                                     shard* s) mutable -> awaitable<result<write_ack>> {
          if (!s) co_return errc::collection_not_found;
          co_return co_await s->write(std::move(m), o);
        },
        rt::service_group::write);
  });
  co_return summarize(acks);
}

awaitable<result<write_summary>> coordinator::delete_matching(std::string name,
                                                              std::shared_ptr<const data::filter> f,
                                                              write_options o) {
  auto cfg = config(name);
  if (!cfg) co_return cfg.error();
  uint32_t n = (*cfg)->shard_number;
  std::vector<result<write_ack>> acks(n, write_ack{});
  co_await rt::parallel_for(n, [&](size_t i) -> awaitable<void> {
    acks[i] = co_await on_shard(
        name, static_cast<uint32_t>(i),
        [f, o](collections&, shard* s) -> awaitable<result<write_ack>> {
          if (!s) co_return errc::collection_not_found;
          co_return co_await s->delete_matching(f, o);
        },
        rt::service_group::write);
  });
  co_return summarize(acks);
}

awaitable<result<write_summary>> coordinator::change_payload(std::string name, payload_mutation m,
                                                             std::shared_ptr<const data::filter> f,
                                                             write_options o) {
  auto cfg = config(name);
  if (!cfg) co_return cfg.error();
  uint32_t n = (*cfg)->shard_number;
  std::vector<payload_mutation> parts(n);
  for (auto& p : parts) {
    p.type = m.type;
    p.payload = m.payload;
    p.key = m.key;
    p.keys = m.keys;
  }
  if (!f) {
    for (auto& id : m.ids) parts[id.route_hash() % n].ids.push_back(id);
  }
  std::vector<result<write_ack>> acks(n, write_ack{});
  co_await rt::parallel_for(n, [&](size_t i) -> awaitable<void> {
    if (!f && parts[i].ids.empty()) co_return;
    acks[i] = co_await on_shard(
        name, static_cast<uint32_t>(i),
        [pm = std::move(parts[i]), f, o](collections&,
                                         shard* s) mutable -> awaitable<result<write_ack>> {
          if (!s) co_return errc::collection_not_found;
          if (f) co_return co_await s->payload_matching(std::move(pm), f, o);
          co_return co_await s->write(std::move(pm), o);
        },
        rt::service_group::write);
  });
  co_return summarize(acks);
}

awaitable<result<std::vector<point_view>>> coordinator::search(std::string name, search_query q,
                                                               size_t offset) {
  auto cfg = config(name);
  if (!cfg) co_return cfg.error();
  auto* params = (*cfg)->find_vector(q.vector_name);
  if (!params) co_return errc::unknown_vector;
  uint32_t n = (*cfg)->shard_number;
  size_t limit = q.limit;
  q.limit = offset + limit;
  std::vector<result<std::vector<point_view>>> parts(n, std::vector<point_view>{});
  // Shards on other cores first: a shard on this core is searched inline, without suspending,
  // and would otherwise hold back the messages to the others until it is done.
  auto first = rt::this_core().value() + 1;
  co_await rt::parallel_for(n, [&](size_t j) -> awaitable<void> {
    auto i = (j + first) % n;
    parts[i] = co_await on_shard(
        name, static_cast<uint32_t>(i),
        [q](collections& here, shard* s) -> result<std::vector<point_view>> {
          if (!s) return errc::collection_not_found;
          auto r = s->search(q, here.scratch());
          here.count_search();
          return r;
        },
        rt::service_group::search);
  });
  size_t total = 0;
  for (auto& p : parts) {
    if (!p) co_return p.error();
    total += p->size();
  }
  // Each shard's answer is in (score, id) order already: one shard's is the answer; several
  // are merged.
  std::vector<point_view> all;
  if (n == 1) {
    all = std::move(*parts[0]);
  } else {
    all.reserve(total);
    for (auto& p : parts) {
      for (auto& v : *p) all.push_back(std::move(v));
    }
    bool higher_is_better =
        params->metric == index::metric_kind::cosine || params->metric == index::metric_kind::ip;
    std::sort(all.begin(), all.end(), [&](auto& a, auto& b) {
      if (a.score != b.score) return higher_is_better ? a.score > b.score : a.score < b.score;
      return a.id < b.id;
    });
  }
  if (offset >= all.size()) co_return std::vector<point_view>{};
  all.erase(all.begin(), all.begin() + static_cast<ptrdiff_t>(offset));
  if (all.size() > limit) all.resize(limit);
  co_return all;
}

awaitable<result<std::vector<point_view>>> coordinator::retrieve(std::string name,
                                                                 std::vector<data::point_id> ids,
                                                                 payload_selector p,
                                                                 vector_selector v) {
  auto cfg = config(name);
  if (!cfg) co_return cfg.error();
  uint32_t n = (*cfg)->shard_number;
  std::vector<std::vector<data::point_id>> by_shard(n);
  std::vector<data::point_id> order;
  for (auto& id : ids) {
    if (std::find(order.begin(), order.end(), id) != order.end()) continue;  // once each
    order.push_back(id);
    by_shard[id.route_hash() % n].push_back(id);
  }
  std::vector<std::vector<point_view>> parts(n);
  co_await rt::parallel_for(n, [&](size_t i) -> awaitable<void> {
    if (by_shard[i].empty()) co_return;
    parts[i] = co_await on_shard(
        name, static_cast<uint32_t>(i),
        [wanted = std::move(by_shard[i]), p, v](collections&, shard* s) {
          return s ? s->retrieve(wanted, p, v) : std::vector<point_view>{};
        },
        rt::service_group::search);
  });
  // In the order asked for.
  std::vector<point_view> out;
  for (auto& id : order) {
    auto& part = parts[id.route_hash() % n];
    for (auto& pv : part) {
      if (pv.id == id) {
        out.push_back(std::move(pv));
        break;
      }
    }
  }
  co_return out;
}

awaitable<result<scroll_page>> coordinator::scroll(std::string name, scroll_query q) {
  auto cfg = config(name);
  if (!cfg) co_return cfg.error();
  uint32_t n = (*cfg)->shard_number;
  std::vector<std::vector<point_view>> parts(n);
  co_await rt::parallel_for(n, [&](size_t i) -> awaitable<void> {
    parts[i] = co_await on_shard(
        name, static_cast<uint32_t>(i),
        [q](collections&, shard* s) { return s ? s->scroll(q) : std::vector<point_view>{}; },
        rt::service_group::search);
  });
  std::vector<point_view> all;
  for (auto& p : parts) {
    for (auto& v : p) all.push_back(std::move(v));
  }
  std::sort(all.begin(), all.end(), [](auto& a, auto& b) { return a.id < b.id; });
  scroll_page page;
  if (all.size() > q.limit) {
    page.next = all[q.limit].id;
    all.resize(q.limit);
  }
  page.points = std::move(all);
  co_return page;
}

awaitable<result<uint64_t>> coordinator::count(std::string name,
                                               std::shared_ptr<const data::filter> f) {
  auto cfg = config(name);
  if (!cfg) co_return cfg.error();
  uint32_t n = (*cfg)->shard_number;
  std::vector<uint64_t> counts(n, 0);
  co_await rt::parallel_for(n, [&](size_t i) -> awaitable<void> {
    counts[i] = co_await on_shard(
        name, static_cast<uint32_t>(i),
        [f](collections&, shard* s) -> uint64_t { return s ? s->count(f.get()) : 0; },
        rt::service_group::search);
  });
  uint64_t total = 0;
  for (auto c : counts) total += c;
  co_return total;
}

awaitable<result<bool>> coordinator::leads_now(std::string name) {
  auto cfg = config(name);
  if (!cfg) co_return error_result<bool>(cfg.error());
  uint32_t n = (*cfg)->shard_number;
  std::vector<char> leads(n, 0);
  co_await rt::parallel_for(n, [&](size_t i) -> awaitable<void> {
    leads[i] = co_await on_shard(
        name, static_cast<uint32_t>(i),
        [](collections&, shard* s) -> char { return s && s->leads_now() ? 1 : 0; },
        rt::service_group::search);
  });
  co_return std::all_of(leads.begin(), leads.end(), [](char c) { return c != 0; });
}

awaitable<result<collection_stats>> coordinator::stats(std::string name) {
  auto cfg = config(name);
  if (!cfg) co_return cfg.error();
  uint32_t n = (*cfg)->shard_number;
  std::vector<shard_stats> parts(n);
  co_await rt::parallel_for(n, [&](size_t i) -> awaitable<void> {
    parts[i] = co_await on_shard(
        name, static_cast<uint32_t>(i),
        [](collections&, shard* s) { return s ? s->stats() : shard_stats{}; },
        rt::service_group::unlimited);
  });
  collection_stats out;
  out.shards = n;
  for (auto& p : parts) {
    out.points += p.points;
    out.indexed_vectors += p.indexed_vectors;
    out.memory_bytes += p.memory_bytes;
    out.log_bytes += p.log_bytes;
    for (auto& [field, count] : p.payload_index_points) out.payload_index_points[field] += count;
  }
  co_return out;
}

awaitable<result<replica_digest>> coordinator::digest(std::string name, uint32_t shard_id) {
  auto cfg = config(name);
  if (!cfg) co_return cfg.error();
  if (shard_id >= (*cfg)->shard_number) co_return errc::collection_not_found;
  co_return co_await on_shard(
      name, shard_id,
      [](collections&, shard* s) -> result<replica_digest> {
        if (!s) return errc::collection_not_found;  // dropped meanwhile
        return s->digest();
      },
      rt::service_group::unlimited);
}

awaitable<result<void>> coordinator::snapshot(std::string name) {
  auto cfg = config(name);
  if (!cfg) co_return cfg.error();
  uint32_t n = (*cfg)->shard_number;
  std::vector<result<void>> parts(n);
  co_await rt::parallel_for(n, [&](size_t i) -> awaitable<void> {
    parts[i] = co_await on_shard(
        name, static_cast<uint32_t>(i),
        [](collections&, shard* s) -> awaitable<result<void>> {
          if (!s) co_return errc::collection_not_found;
          co_return co_await s->snapshot_now();
        },
        rt::service_group::admin);
  });
  for (auto& p : parts) {
    if (!p) co_return p.error();
  }
  co_return result<void>{};
}

awaitable<result<uint64_t>> coordinator::export_collection(std::string name,
                                                           std::filesystem::path out) {
  auto cfg = config(name);
  if (!cfg) co_return cfg.error();
  auto& pool = rt::runtime::current().blocking();
  uint32_t n = (*cfg)->shard_number;
  // Each shard hard-links its snapshot into a staging directory beside the output.
  auto staging = out.parent_path() / (".staging-" + out.filename().string());
  auto json = (*cfg)->to_json();
  auto made = co_await pool.run(rt::blocking_reason::mkdir, [staging, json]() -> result<void> {
    std::error_code ec;
    std::filesystem::remove_all(staging, ec);
    if (auto r = fileio::create_dirs(staging); !r) return r;
    return fileio::write_file_atomic(
        staging / "collection.json",
        {reinterpret_cast<const std::byte*>(json.data()), json.size()});
  });
  if (!made) co_return made.error();
  std::vector<result<void>> parts(n);
  co_await rt::parallel_for(n, [&](size_t i) -> awaitable<void> {
    auto link = staging / fmt::format("shard-{}.snap", i);
    parts[i] = co_await on_shard(
        name, static_cast<uint32_t>(i),
        [link](collections&, shard* s) -> awaitable<result<void>> {
          if (!s) co_return errc::collection_not_found;
          co_return co_await s->snapshot_now(link);
        },
        rt::service_group::admin);
  });
  auto cleanup = [&pool, staging]() -> awaitable<void> {
    co_await pool.run(rt::blocking_reason::unlink, [staging] {
      std::error_code ec;
      std::filesystem::remove_all(staging, ec);
    });
  };
  for (auto& p : parts) {
    if (!p) {
      co_await cleanup();
      co_return p.error();
    }
  }
  std::vector<archive_entry> entries{{"collection.json", staging / "collection.json"}};
  for (uint32_t i = 0; i < n; ++i) {
    entries.push_back(
        {fmt::format("shards/{}.snap", i), staging / fmt::format("shard-{}.snap", i)});
  }
  auto size = co_await pool.run(rt::blocking_reason::write,
                                [out, entries] { return write_archive(out, entries); });
  co_await cleanup();
  co_return size;
}

}  // namespace shoal::shard
