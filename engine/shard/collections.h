#pragma once
// The collections of this node, as seen from one core (used as sharded<collections>, one per
// core). Every core holds every collection's configuration (read-only, replaced as a whole on
// change: PRACTICES A6) and owns the shards placed on it: shard i lives on core i % cores.
//
// Changes (create, drop, payload index) are made by core 0 only, one at a time (admin_lock_ on
// core 0), and broadcast: core 0 writes collection.json, then every core installs the new
// configuration and opens or closes its own shards.
//
// On disk: <data>/collections/<dir>/collection.json and <data>/collections/<dir>/shards/<i>/,
// where <dir> is the name with unsafe bytes percent-encoded (collection_config.h).

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/common/metrics.h"
#include "engine/runtime/semaphore.h"
#include "engine/runtime/sharded.h"
#include "engine/shard/collection_config.h"
#include "engine/shard/shard.h"
#include "index/scratch.h"

namespace shoal::shard {

struct node_options {
  std::filesystem::path data_dir;
  uint64_t snapshot_log_bytes = 256ull << 20;
  uint64_t log_retention_bytes = 1ull << 30;  // shard_options
  std::chrono::seconds snapshot_interval{600};
  bool snapshot_on_close = true;
  size_t shard_memory_limit = 0;
  size_t log_segment_bytes = 64u << 20;
  /// Runs on the shard's core once a shard has opened, before it serves: the cluster layer
  /// gives it its replication role here. An error fails the collection's load.
  std::function<awaitable<result<void>>(const collection_config&, shard&)> on_shard_open;
  /// Cluster mode: run on core 0 before a client's create or drop changes this node, under the
  /// admin lock; the cluster layer records the change (etcd) first and may refuse it. Changes
  /// the cluster itself makes here pass announce = false. announce_create answers whether the
  /// collection is placed on this node (false: created for the cluster, held by other hosts),
  /// and sets the configuration's incarnation.
  std::function<awaitable<result<bool>>(collection_config&)> announce_create;
  std::function<awaitable<result<void>>(const std::string&)> announce_drop;
};

class collections {
 public:
  struct entry {
    std::shared_ptr<const collection_config> config;
    enum class state { loading, ready, failed } st = state::loading;
    std::string failure;
    std::vector<std::unique_ptr<shard>> shards;  // by shard id; null when on another core
  };

  explicit collections(node_options opts);

  // ---- any core, read-only ----
  const entry* find(std::string_view name) const;
  shard* local_shard(std::string_view name, uint32_t shard_id);
  std::vector<std::string> names() const;
  static core_id core_of(uint32_t shard_id);
  index::search_scratch& scratch() { return scratch_; }
  /// Adds the work of the shard search that just ran on this core's scratch to the per-core
  /// counters (/metrics: searches, distances, exact scans), so the index work a served search
  /// costs can be compared with the in-process benchmark's.
  void count_search() {
    searches_.inc();
    search_distances_.inc(scratch_.last.distance_computations);
    if (scratch_.last.exact_path) search_exact_.inc();
  }
  bool loaded() const { return loaded_; }
  const node_options& options() const { return opts_; }

  // ---- admin: call on core 0 with the sharded container ----
  /// Loads every collection found on disk (startup). A collection that fails to load is kept in
  /// state failed, with the reason; the others serve.
  static awaitable<void> load_all(rt::sharded<collections>& all);
  static awaitable<result<void>> create(rt::sharded<collections>& all, collection_config cfg,
                                        bool announce = true);
  /// True if it existed.
  static awaitable<result<bool>> drop(rt::sharded<collections>& all, std::string name,
                                      bool announce = true);
  static awaitable<result<void>> set_payload_index(rt::sharded<collections>& all, std::string name,
                                                   std::string field,
                                                   std::optional<payload_index_def> def);
  /// Records which incarnation of `name` this node's copy is (collection_config::incarnation);
  /// its data stays as it is.
  static awaitable<result<void>> set_incarnation(rt::sharded<collections>& all, std::string name,
                                                 uint64_t incarnation);
  /// Replaces collection `name` (or creates it) with the contents of a collection archive
  /// (archive.h), which has been validated already or is validated here.
  static awaitable<result<void>> restore(rt::sharded<collections>& all, std::string name,
                                         std::filesystem::path archive);
  /// <data>/snapshots and, per collection, <data>/snapshots/<dir>.
  std::filesystem::path snapshots_root() const { return opts_.data_dir / "snapshots"; }
  std::filesystem::path snapshots_dir(std::string_view name) const {
    return snapshots_root() / collection_dir_name(name);
  }

  awaitable<void> stop();

 private:
  std::filesystem::path dir_of(std::string_view name) const;
  // Per-core steps of the admin operations (run on every core by core 0).
  void install(std::string name, std::shared_ptr<const collection_config> cfg);
  awaitable<std::optional<std::string>> open_local_shards(std::string name);
  awaitable<void> close_local(std::string name, bool remove_entry);

  node_options opts_;
  std::map<std::string, entry, std::less<>> entries_;
  index::search_scratch scratch_;
  metrics::counter& searches_;
  metrics::counter& search_distances_;
  metrics::counter& search_exact_;
  rt::semaphore admin_lock_{1};  // used on core 0
  bool loaded_ = false;
};

}  // namespace shoal::shard
