#pragma once
// Replication messages on the binary protocol (net/README.md, "Frames"; methods in the range
// 0x0100-0x01FF that net/rpc reserves). Payloads use net/rpc's codec (versioned envelopes,
// little-endian); a frame above rpc.compress-threshold travels LZ4-compressed, so batches of
// log records are compressed on the wire without anything here.
//
//   shard_ref          string collection, u32 shard, u64 leader_term; and the collection's
//                      incarnation (u64, collection_config::incarnation), which travels last in
//                      every request (envelope version 2) so version-1 readers skip it
//   position (0x0101)  request {shard_ref}; the receiver follows `leader_term` (refusing an older
//                      one) and answers with its replica position
//   truncate (0x0102)  request {shard_ref, u64 after_lsn}: the receiver cuts its log after
//                      after_lsn (records its new leader never had) and answers its position
//   append   (0x0103)  request {shard_ref, u64 prev_lsn, u64 prev_term, u8 sync, u32 n,
//                      n x {u64 lsn, u64 term, u8 type, u32 size, size bytes body}};
//                      answer {u64 durable_lsn, u64 last_lsn}. n = 0 is a heartbeat.
//   snapshot (0x0104)  request {shard_ref, u64 lsn, u64 total_size, u64 offset, u8 last,
//                      u32 size, size bytes, u32 n_terms, n_terms x {u64 term, u64 start_lsn}};
//                      one chunk of the leader's snapshot at `lsn` for a follower behind the
//                      leader's log start; chunks come in order from offset 0; with `last` the
//                      follower checks the whole file and installs it with those terms.
//                      answer {u64 received bytes}
//   fetch    (0x0105)  request {shard_ref, u64 after_lsn, u64 after_term, u32 max_bytes}: a
//                      newly elected leader asks a host whose log reaches further for the
//                      durable records after after_lsn (at most max_bytes of bodies, at least
//                      one record); the receiver checks its record at after_lsn has
//                      after_term (else [log_mismatch]) and changes nothing. answer: an append
//                      request {shard_ref, prev_lsn = after_lsn, prev_term = after_term, ...}
//                      holding the records (none: nothing further)
//   position answer    {u64 term, u8 leader, u64 last_lsn, u64 last_term, u64 durable_lsn,
//                      u64 first_lsn, u64 snapshot_lsn} and, from envelope version 2,
//                      {u64 terms_from, u32 n, n x {u64 term, u64 start_lsn}}: the replica's
//                      term history (its newest kMaxPositionTerms entries; terms_from is 0 when
//                      the list is whole, else the first listed start: older LSNs' terms are
//                      not given). The leader finds the common point from both histories
//                      (shard::common_point). A version-1 answer (an older follower) has no
//                      list: has_terms is false.
//
// Requests are envelope version 2: version 1's fields, then u64 incarnation. A version-1 request
// (an older sender) reads as incarnation 0. The receiver refuses with [not_found] a request whose
// incarnation differs from its copy's when both are known (not 0): a leader of a collection that
// was dropped and created again under its name ships nothing into the new one, nor the other way
// round. Answers stay version 1.
//
// Errors come back as error frames (rpc::status + message) whose message starts with the shard
// errc's name in brackets, e.g. "[log_mismatch] ...", so the leader can act on the kind.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/common/result.h"
#include "engine/log/format.h"
#include "engine/shard/term_history.h"
#include "net/rpc/buffer.h"

namespace shoal::repl {

namespace method {
inline constexpr uint16_t position = 0x0101;
inline constexpr uint16_t truncate = 0x0102;
inline constexpr uint16_t append = 0x0103;
inline constexpr uint16_t snapshot = 0x0104;
inline constexpr uint16_t fetch = 0x0105;
}  // namespace method

struct shard_ref {
  std::string collection;
  uint32_t shard = 0;
  uint64_t leader_term = 0;
  uint64_t incarnation = 0;  // 0: not known (a version-1 sender, or no cluster)
};

/// At most this many term-history entries travel in a position answer (16 KiB; a term is a
/// leadership change that wrote to the shard, so real histories are far shorter).
inline constexpr size_t kMaxPositionTerms = 1024;

struct position_answer {
  uint64_t term = 0;
  bool leader = false;
  uint64_t last_lsn = 0;
  uint64_t last_term = 0;
  uint64_t durable_lsn = 0;
  uint64_t first_lsn = 0;
  uint64_t snapshot_lsn = 0;
  // Version 2: the replica's term history (absent from a version-1 answer).
  bool has_terms = false;
  uint64_t terms_from = 0;  // 0: `terms` is the whole history; else the first LSN it speaks for
  std::vector<shard::term_start> terms;
};

struct truncate_request {
  shard_ref ref;
  uint64_t after_lsn = 0;
};

struct fetch_request {
  shard_ref ref;
  uint64_t after_lsn = 0;
  uint64_t after_term = 0;
  uint32_t max_bytes = 0;
};

struct append_request {
  shard_ref ref;
  uint64_t prev_lsn = 0;
  uint64_t prev_term = 0;
  bool sync = true;
  std::vector<wal::log_record> records;
};

struct append_answer {
  uint64_t durable_lsn = 0;
  uint64_t last_lsn = 0;
};

struct snapshot_chunk {
  shard_ref ref;
  uint64_t lsn = 0;
  uint64_t total_size = 0;
  uint64_t offset = 0;
  bool last = false;
  std::vector<std::byte> data;
  std::vector<shard::term_start> terms;  // with `last`
};

rpc::bytes encode(const snapshot_chunk& c);
result<snapshot_chunk> decode_snapshot_chunk(std::span<const std::byte> p);
rpc::bytes encode_received(uint64_t bytes);
result<uint64_t> decode_received(std::span<const std::byte> p);

rpc::bytes encode(const shard_ref& r);
result<shard_ref> decode_shard_ref(std::span<const std::byte> p);
/// Version 2 with `a.terms` as given when has_terms (set_position_terms bounds them), else 1.
rpc::bytes encode(const position_answer& a);
/// The newest kMaxPositionTerms entries of `h` into `a` (terms_from set when any are left out).
void set_position_terms(position_answer& a, const shard::term_history& h);
result<position_answer> decode_position(std::span<const std::byte> p);
rpc::bytes encode(const truncate_request& r);
result<truncate_request> decode_truncate(std::span<const std::byte> p);
rpc::bytes encode(const fetch_request& r);
result<fetch_request> decode_fetch(std::span<const std::byte> p);
rpc::bytes encode(const append_request& r);
/// Copies the record bodies out of the payload (they outlive the frame: the shard keeps them).
result<append_request> decode_append(std::span<const std::byte> p);
rpc::bytes encode(const append_answer& a);
result<append_answer> decode_append_answer(std::span<const std::byte> p);

/// "[name] message" for an error frame, and the name back from such a message ("" if none).
std::string tagged_error(std::string_view name, std::string_view message);
std::string_view error_tag(std::string_view message);

}  // namespace shoal::repl
