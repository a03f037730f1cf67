#pragma once
// The terms of one shard's log: which term wrote which LSNs (Kafka's leader-epoch cache, Raft's
// log matching made explicit). Each entry is (term, first LSN written in that term); a term ends
// where the next one starts. Replication uses it to find where a returning replica's log leaves
// the leader's: common_point() compares the two histories (the follower sends its own with its
// position) and gives the longest prefix both logs share, so the replica truncates after it and
// tails from there.
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
  /// The first LSN `term` wrote (or would have: a term begun after the log's end), if this log
  /// has it; 1 for term 0 (records written before any term begin the log).
  std::optional<uint64_t> start_of(uint64_t term) const;
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

/// One replica's log as common_point() sees it: its term history (ordered as
/// term_history::entries()), its last LSN, and the first LSN the history speaks for. A history
/// sent bounded (its oldest entries left out) says nothing about the LSNs before its first
/// entry: `known_from` is that entry's start, and those LSNs never match. With the whole history
/// (known_from 0 or 1) LSNs before the first entry are term 0's: records written before any
/// term (a shard that led on its own before joining a cluster).
struct log_view {
  std::span<const term_start> terms;
  uint64_t last_lsn = 0;
  uint64_t known_from = 0;
};

/// Where two logs part: the largest LSN x <= min(a.last_lsn, b.last_lsn) at which both hold a
/// record of the same term, 0 when there is none. One leader writes each term, and a replica
/// appends a record only after the one before it (LSN and term) matched its sender's, so two
/// logs holding the same term at x hold the same records at every LSN up to x (Raft's log
/// matching): x is where the longest shared prefix ends. Pure; linear in the histories.
uint64_t common_point(const log_view& a, const log_view& b);

}  // namespace shoal::shard
