#include "engine/shard/collections.h"

#include <fcntl.h>

#include "engine/common/file_io.h"
#include "engine/common/logger.h"
#include "engine/runtime/blocking_pool.h"
#include "engine/shard/archive.h"
#include "engine/shard/errc.h"

namespace shoal::shard {
namespace {

spdlog::logger& log() {
  static auto& l = logging::get("collections");
  return l;
}

rt::blocking_pool& pool() {
  return rt::runtime::current().blocking();
}

metrics::labels core_label() {
  return {{"core", std::to_string(rt::this_core().value())}};
}

std::span<const std::byte> bytes_of(const std::string& s) {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

}  // namespace

collections::collections(node_options opts)
    : opts_(std::move(opts)),
      searches_(metrics::local().make_counter("shoal_shard_searches_total",
                                              "Shard searches run on this core", core_label())),
      search_distances_(metrics::local().make_counter(
          "shoal_shard_search_distances_total",
          "Distance computations of the shard searches run on this core", core_label())),
      search_exact_(metrics::local().make_counter(
          "shoal_shard_search_exact_total", "Shard searches on this core answered by an exact scan",
          core_label())) {}

core_id collections::core_of(uint32_t shard_id) {
  return core_id(shard_id % rt::runtime::current().core_count());
}

std::filesystem::path collections::dir_of(std::string_view name) const {
  return opts_.data_dir / "collections" / collection_dir_name(name);
}

const collections::entry* collections::find(std::string_view name) const {
  auto it = entries_.find(name);
  return it == entries_.end() ? nullptr : &it->second;
}

shard* collections::local_shard(std::string_view name, uint32_t shard_id) {
  auto it = entries_.find(name);
  if (it == entries_.end() || shard_id >= it->second.shards.size()) return nullptr;
  return it->second.shards[shard_id].get();
}

std::vector<std::string> collections::names() const {
  std::vector<std::string> out;
  for (auto& [n, e] : entries_) out.push_back(n);
  return out;
}

void collections::install(std::string name, std::shared_ptr<const collection_config> cfg) {
  auto& e = entries_[name];
  e.config = cfg;
  if (e.shards.size() < cfg->shard_number) e.shards.resize(cfg->shard_number);
  for (auto& s : e.shards) {
    if (s) s->set_config(cfg);
  }
}

awaitable<std::optional<std::string>> collections::open_local_shards(std::string name) {
  auto it = entries_.find(name);
  if (it == entries_.end()) co_return std::string("collection vanished");
  auto& e = it->second;
  auto me = rt::this_core();
  for (uint32_t id = 0; id < e.config->shard_number; ++id) {
    if (core_of(id) != me || e.shards[id]) continue;
    shard_options o;
    o.dir = dir_of(name) / "shards" / std::to_string(id);
    o.shard_id = id;
    o.config = e.config;
    o.snapshot_log_bytes = opts_.snapshot_log_bytes;
    o.log_retention_bytes = opts_.log_retention_bytes;
    o.snapshot_interval = opts_.snapshot_interval;
    o.snapshot_on_close = opts_.snapshot_on_close;
    o.memory_limit = opts_.shard_memory_limit;
    o.log_segment_bytes = opts_.log_segment_bytes;
    recovery_info info;
    auto s = co_await shard::open(o, &info);
    if (!s) {
      co_return fmt::format("shard {}: {}", id, s.error().message());
    }
    if (info.replayed || info.snapshot_lsn) {
      log().info("collection {} shard {}: snapshot LSN {}, {} log records replayed, {:.3f} s", name,
                 id, info.snapshot_lsn, info.replayed, info.seconds);
    }
    if (opts_.on_shard_open) {
      if (auto r = co_await opts_.on_shard_open(*e.config, **s); !r) {
        co_await (*s)->close();
        co_return fmt::format("shard {}: {}", id, r.error().message());
      }
    }
    e.shards[id] = std::move(*s);
  }
  co_return std::nullopt;
}

awaitable<void> collections::close_local(std::string name, bool remove_entry) {
  auto it = entries_.find(name);
  if (it == entries_.end()) co_return;
  for (auto& s : it->second.shards) {
    if (s) co_await s->close();
  }
  if (remove_entry) {
    entries_.erase(name);
  } else {
    for (auto& s : it->second.shards) s.reset();
  }
}

awaitable<void> collections::stop() {
  std::vector<std::string> all = names();
  for (auto& n : all) co_await close_local(n, true);
}

awaitable<void> collections::load_all(rt::sharded<collections>& all) {
  auto& self = all.local();
  auto root = self.opts_.data_dir / "collections";
  auto listing = co_await pool().run(
      rt::blocking_reason::open,
      [root]() -> result<std::vector<std::pair<std::string, std::string>>> {
        if (auto r = fileio::create_dirs(root); !r) return r.error();
        std::vector<std::pair<std::string, std::string>> found;  // dir, collection.json text
        std::error_code ec;
        for (auto& d : std::filesystem::directory_iterator(root, ec)) {
          auto file = d.path() / "collection.json";
          auto text = fileio::read_file(file, 16u << 20);
          if (!text) continue;  // a directory being created or removed: no collection
          found.emplace_back(
              d.path().filename().string(),
              std::string(reinterpret_cast<const char*>(text->data()), text->size()));
        }
        return found;
      });
  if (!listing) {
    log().critical("cannot read {}: {}", root.string(), listing.error().message());
    co_return;
  }
  for (auto& [dir, text] : *listing) {
    auto cfg = collection_config::from_json(text);
    if (!cfg) {
      log().error("collections/{}/collection.json does not parse; skipping it", dir);
      continue;
    }
    auto shared = std::make_shared<const collection_config>(std::move(*cfg));
    auto name = shared->name;
    co_await all.invoke_on_all([name, shared](collections& c) { c.install(name, shared); });
    auto problems = co_await all.map_reduce(
        [name](collections& c) { return c.open_local_shards(name); }, std::string(),
        [](std::string acc, std::optional<std::string> p) {
          return p ? acc + (acc.empty() ? "" : "; ") + *p : acc;
        });
    auto state = problems.empty() ? entry::state::ready : entry::state::failed;
    if (!problems.empty()) {
      log().error("collection {} failed to load and is unavailable: {}", name, problems);
    }
    co_await all.invoke_on_all([name, state, problems](collections& c) {
      auto it = c.entries_.find(name);
      if (it != c.entries_.end()) {
        it->second.st = state;
        it->second.failure = problems;
      }
    });
  }
  co_await all.invoke_on_all([](collections& c) { c.loaded_ = true; });
}

awaitable<result<void>> collections::create(rt::sharded<collections>& all, collection_config cfg,
                                            bool announce) {
  auto& self = all.local();
  auto lock = co_await self.admin_lock_.acquire(1);
  if (self.find(cfg.name)) co_return errc::collection_exists;
  if (announce && self.opts_.announce_create) {
    auto here = co_await self.opts_.announce_create(cfg);
    if (!here) co_return here.error();
    if (!*here) co_return result<void>{};               // other hosts hold it
    if (self.find(cfg.name)) co_return result<void>{};  // the cluster's copy arrived meanwhile
  }
  auto dir = self.dir_of(cfg.name);
  auto json = cfg.to_json();
  auto written = co_await pool().run(rt::blocking_reason::write, [dir, json]() -> result<void> {
    if (auto r = fileio::create_dirs(dir / "shards"); !r) return r;
    if (auto r = fileio::write_file_atomic(dir / "collection.json", bytes_of(json)); !r) return r;
    return fileio::sync_dir(dir.parent_path());
  });
  if (!written) co_return written.error();
  auto name = cfg.name;
  auto shared = std::make_shared<const collection_config>(std::move(cfg));
  co_await all.invoke_on_all([name, shared](collections& c) { c.install(name, shared); });
  auto problems = co_await all.map_reduce(
      [name](collections& c) { return c.open_local_shards(name); }, std::string(),
      [](std::string acc, std::optional<std::string> p) { return p ? acc + *p : acc; });
  auto state = problems.empty() ? entry::state::ready : entry::state::failed;
  co_await all.invoke_on_all([name, state, problems](collections& c) {
    auto it = c.entries_.find(name);
    if (it != c.entries_.end()) {
      it->second.st = state;
      it->second.failure = problems;
    }
  });
  if (!problems.empty()) {
    log().error("collection {} was created but its shards failed to open: {}", name, problems);
    co_return errc::collection_failed;
  }
  log().info("created collection {} ({} shards)", name, shared->shard_number);
  co_return result<void>{};
}

awaitable<result<bool>> collections::drop(rt::sharded<collections>& all, std::string name,
                                          bool announce) {
  auto& self = all.local();
  auto lock = co_await self.admin_lock_.acquire(1);
  if (announce && self.opts_.announce_drop) {
    if (auto a = co_await self.opts_.announce_drop(name); !a)
      co_return error_result<bool>(a.error());
  }
  if (!self.find(name)) co_return result<bool>(false);
  co_await all.invoke_on_all(
      [name](collections& c) -> awaitable<void> { co_await c.close_local(name, true); });
  auto dir = self.dir_of(name);
  auto removed = co_await pool().run(rt::blocking_reason::unlink, [dir]() -> result<void> {
    // Remove collection.json first: a crash halfway leaves a directory that is not loaded.
    if (auto r = fileio::remove_file(dir / "collection.json"); !r) return r;
    if (auto r = fileio::sync_dir(dir); !r) return r;
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
    if (ec) return error_code(ec.value(), boost::system::system_category());
    return fileio::sync_dir(dir.parent_path());
  });
  if (!removed) co_return error_result<bool>(removed.error());
  log().info("dropped collection {}", name);
  co_return result<bool>(true);
}

awaitable<result<void>> collections::set_payload_index(rt::sharded<collections>& all,
                                                       std::string name, std::string field,
                                                       std::optional<payload_index_def> def) {
  auto& self = all.local();
  auto lock = co_await self.admin_lock_.acquire(1);
  auto* e = self.find(name);
  if (!e) co_return errc::collection_not_found;
  auto next = std::make_shared<collection_config>(*e->config);
  if (def) {
    next->payload_indexes[field] = *def;
  } else if (!next->payload_indexes.erase(field)) {
    co_return result<void>{};
  }
  auto dir = self.dir_of(name);
  auto json = next->to_json();
  auto written = co_await pool().run(rt::blocking_reason::write, [dir, json] {
    return fileio::write_file_atomic(dir / "collection.json", bytes_of(json));
  });
  if (!written) co_return written.error();
  std::shared_ptr<const collection_config> shared = next;
  co_await all.invoke_on_all([name, shared, field, def](collections& c) -> awaitable<void> {
    c.install(name, shared);
    auto it = c.entries_.find(name);
    if (it == c.entries_.end()) co_return;
    for (auto& s : it->second.shards) {
      if (!s) continue;
      if (def) {
        (void)co_await s->create_payload_index(field, def->type);
      } else {
        (void)co_await s->drop_payload_index(field);
      }
    }
  });
  co_return result<void>{};
}

awaitable<result<void>> collections::set_incarnation(rt::sharded<collections>& all,
                                                     std::string name, uint64_t incarnation) {
  auto& self = all.local();
  auto lock = co_await self.admin_lock_.acquire(1);
  auto* e = self.find(name);
  if (!e || !e->config) co_return errc::collection_not_found;
  if (e->config->incarnation == incarnation) co_return result<void>{};
  auto next = std::make_shared<collection_config>(*e->config);
  next->incarnation = incarnation;
  auto dir = self.dir_of(name);
  auto json = next->to_json();
  auto written = co_await pool().run(rt::blocking_reason::write, [dir, json] {
    return fileio::write_file_atomic(dir / "collection.json", bytes_of(json));
  });
  if (!written) co_return written.error();
  std::shared_ptr<const collection_config> shared = next;
  co_await all.invoke_on_all([name, shared](collections& c) { c.install(name, shared); });
  co_return result<void>{};
}

awaitable<result<void>> collections::restore(rt::sharded<collections>& all, std::string name,
                                             std::filesystem::path archive) {
  auto& self = all.local();
  auto lock = co_await self.admin_lock_.acquire(1);
  // 1. Read the archive's schema; the name in the URL wins over the one inside.
  auto text = co_await pool().run(rt::blocking_reason::read, [archive]() {
    return read_entry(archive, "collection.json", 16u << 20);
  });
  if (!text) co_return text.error();
  auto cfg = collection_config::from_json(*text);
  if (!cfg) co_return errc::corrupt_snapshot;
  cfg->name = name;
  // The archive's incarnation is another collection's: this copy stays the one it replaces
  // (none: the cluster's, if it has one, is adopted; collection_config::incarnation).
  auto* existing = self.find(name);
  cfg->incarnation = existing && existing->config ? existing->config->incarnation : 0;
  // 2. Drop what is there.
  if (existing) {
    co_await all.invoke_on_all(
        [name](collections& c) -> awaitable<void> { co_await c.close_local(name, true); });
  }
  // 3. Lay the shards' snapshots out as a fresh collection directory.
  auto dir = self.dir_of(name);
  auto json = cfg->to_json();
  uint32_t shards = cfg->shard_number;
  auto laid_out = co_await pool().run(
      rt::blocking_reason::write, [dir, json, archive, shards]() -> result<void> {
        std::error_code ec;
        std::filesystem::remove_all(dir, ec);
        for (uint32_t i = 0; i < shards; ++i) {
          auto shard_dir = dir / "shards" / std::to_string(i);
          if (auto r = fileio::create_dirs(shard_dir); !r) return r;
          auto tmp = shard_dir / "restore.snap.tmp";
          if (auto r = extract_entry(archive, fmt::format("shards/{}.snap", i), tmp); !r) return r;
          auto summary = inspect_snapshot(tmp);
          if (!summary) return summary.error();
          if (auto r = fileio::rename_file(tmp, shard_dir / snapshot_file_name(summary->lsn)); !r)
            return r;
          if (auto r = fileio::sync_dir(shard_dir); !r) return r;
        }
        if (auto r = fileio::write_file_atomic(dir / "collection.json", bytes_of(json)); !r)
          return r;
        return fileio::sync_dir(dir.parent_path());
      });
  if (!laid_out) {
    log().error("restoring collection {} from {} failed: {}", name, archive.string(),
                laid_out.error().message());
    co_return laid_out.error();
  }
  // 4. Open it like at startup.
  auto shared = std::make_shared<const collection_config>(std::move(*cfg));
  co_await all.invoke_on_all([name, shared](collections& c) { c.install(name, shared); });
  auto problems = co_await all.map_reduce(
      [name](collections& c) { return c.open_local_shards(name); }, std::string(),
      [](std::string acc, std::optional<std::string> p) { return p ? acc + *p : acc; });
  auto state = problems.empty() ? entry::state::ready : entry::state::failed;
  co_await all.invoke_on_all([name, state, problems](collections& c) {
    auto it = c.entries_.find(name);
    if (it != c.entries_.end()) {
      it->second.st = state;
      it->second.failure = problems;
    }
  });
  if (!problems.empty()) co_return errc::collection_failed;
  log().info("restored collection {} from {}", name, archive.string());
  co_return result<void>{};
}

}  // namespace shoal::shard
