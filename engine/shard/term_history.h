#pragma once
// The terms of one shard's log: which term wrote which LSNs (Kafka's leader-epoch cache, Raft's
// log matching made explicit). Each entry is (term, first LSN written in that term); a term ends
// where the next one starts. Replication uses it to find where a returning replica's log leaves
// the leader's: the last LSN the leader holds of the replica's last term (end_of) is the longest
// prefix both logs share, so the replica truncates after it and tails from there.
//
// Lives with its shard (the shard's core); encode/decode are pure, save/load block (blocking
// pool). File `terms` in the shard's directory, little-endian:
//
//   0  magic    "SHTERMS1"
//   8  count    u32
//  12  crc      u32   CRC-32C of the entries
//  16  entries  count x { u64 term, u64 start_lsn }, terms and start LSNs strictly increasing
//
// Written atomically (tmp + fdatasync + rename + directory sync), so it is either the old or
// the new list; a file that fails its checks is an error, never a guess.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <vector>

#include "engine/common/result.h"

namespace shoal::shard {

struct term_start {
  uint64_t term = 0;
  uint64_t start_lsn = 0;
  bool operator==(const term_start&) const = default;
};

class term_history {
 public:
  term_history() = default;
  explicit term_history(std::vector<term_start> entries) : entries_(std::move(entries)) {}

  /// The newest term (0 before any).
  uint64_t current_term() const { return entries_.empty() ? 0 : entries_.back().term; }
  /// The term that wrote `lsn` (0 when no term covers it: before the first term).
  uint64_t term_at(uint64_t lsn) const;
  /// The last LSN written in `term` or, when this log has no such term, in the newest term
  /// before it, given that this log ends at `last_lsn`. 0 when nothing precedes it.
  uint64_t end_of(uint64_t term, uint64_t last_lsn) const;
  /// Records that `term` starts writing at `start_lsn`. False (and no change) unless the term
  /// is newer than every term here and start_lsn is not before the newest term's start.
  bool begin(uint64_t term, uint64_t start_lsn);
  /// Forgets the terms that start after `lsn` (the log was cut there).
  void truncate_after(uint64_t lsn);
  const std::vector<term_start>& entries() const { return entries_; }
  bool operator==(const term_history&) const = default;

  std::vector<std::byte> encode() const;
  static result<term_history> decode(std::span<const std::byte> bytes);

  /// Blocking. A missing file is an empty history.
  static result<term_history> load(const std::filesystem::path& shard_dir);
  result<void> save(const std::filesystem::path& shard_dir) const;

 private:
  std::vector<term_start> entries_;
};

}  // namespace shoal::shard
