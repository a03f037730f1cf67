#pragma once
// Runs a collection-level request from whichever core received it (ARCHITECTURE.md §6): writes
// are split by shard (route_hash % shard_number) and sent to each shard's core; reads are
// scattered to every shard and merged here. Inputs are validated before they get here.
//
// A write that spans shards is not atomic across them (as in Qdrant): each shard applies its
// part; the first error is reported.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/runtime/sharded.h"
#include "engine/shard/collections.h"
#include "engine/shard/consistency_token.h"
#include "engine/shard/shard_types.h"

namespace shoal::shard {

struct write_summary {
  uint64_t operation_id = 0;       // the highest shard LSN this write produced
  std::vector<token_entry> token;  // per shard written: its last record (consistency_token.h)
};

struct scroll_page {
  std::vector<point_view> points;
  std::optional<data::point_id> next;
};

struct collection_stats {
  uint64_t points = 0;
  uint64_t indexed_vectors = 0;
  uint64_t memory_bytes = 0;
  uint64_t log_bytes = 0;
  uint32_t shards = 0;
  std::map<std::string, uint64_t> payload_index_points;
};

class coordinator {
 public:
  explicit coordinator(rt::sharded<collections>& c) : collections_(c) {}

  /// The collection's configuration on this core, or collection_not_found / collection_failed.
  result<std::shared_ptr<const collection_config>> config(std::string_view name) const;

  awaitable<result<write_summary>> upsert(std::string name, std::vector<point_write> points,
                                          write_options o);
  awaitable<result<write_summary>> delete_points(std::string name, std::vector<data::point_id> ids,
                                                 write_options o);
  awaitable<result<write_summary>> delete_matching(std::string name,
                                                   std::shared_ptr<const data::filter> f,
                                                   write_options o);
  /// A payload change on m.ids, or on the points matching `f` when it is given.
  awaitable<result<write_summary>> change_payload(std::string name, payload_mutation m,
                                                  std::shared_ptr<const data::filter> f,
                                                  write_options o);

  /// The best `offset + limit` per shard, merged; then offset skipped.
  awaitable<result<std::vector<point_view>>> search(std::string name, search_query q,
                                                    size_t offset);
  awaitable<result<std::vector<point_view>>> retrieve(std::string name,
                                                      std::vector<data::point_id> ids,
                                                      payload_selector p, vector_selector v);
  awaitable<result<scroll_page>> scroll(std::string name, scroll_query q);
  awaitable<result<uint64_t>> count(std::string name, std::shared_ptr<const data::filter> f);
  /// Whether every shard of `name` is led by its replica here with an open fence now
  /// (shard::leads_now), each checked on its own core.
  awaitable<result<bool>> leads_now(std::string name);
  awaitable<result<collection_stats>> stats(std::string name);
  /// Snapshots every shard now (backups, tests).
  awaitable<result<void>> snapshot(std::string name);
  /// Writes the whole collection into one archive file (archive.h); returns its size. Each
  /// shard is captured at its own LSN while writes go on.
  awaitable<result<uint64_t>> export_collection(std::string name, std::filesystem::path out);

  /// Read-your-writes: waits until this host's replicas hold every record the token names, up
  /// to `timeout`; read_after_timeout then, or write_lost when a replica holds a different
  /// history at a named LSN.
  awaitable<result<void>> wait_applied(std::string name, std::vector<token_entry> token,
                                       std::chrono::milliseconds timeout);

  /// This host's replica of shard `shard_id` (< shard_number): its digest, read on its core
  /// (replica_digest.h). collection_not_found when this host does not hold the collection.
  awaitable<result<replica_digest>> digest(std::string name, uint32_t shard_id);

  rt::sharded<collections>& all() { return collections_; }

 private:
  /// fn(collections& of that core, shard* or null) on the shard's core.
  template <typename Fn>
  auto on_shard(const std::string& name, uint32_t shard_id, Fn fn, rt::service_group g);

  rt::sharded<collections>& collections_;
};

}  // namespace shoal::shard
