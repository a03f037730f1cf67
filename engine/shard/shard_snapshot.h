#pragma once
// A shard snapshot: everything the shard holds at one LSN, so a restart loads it and replays only
// the log after it (PRACTICES A11). Written to "snapshot-<lsn>.snap.tmp", fdatasync'ed and
// renamed, so a snapshot file is either whole or absent. Little-endian.
//
//   header, 64 bytes
//     0  magic "SHOALSNP"        8  u16 version (2)      10 u16 flags (0)
//     12 u32 section count       16 u64 lsn               24 u64 created (ms since epoch)
//     32 u64 points              40 u64[2] reserved       56 u32 reserved
//     60 u32 CRC-32C of bytes 0..59
//   sections: u32 tag, u32 reserved, u64 length, payload, u32 CRC-32C of the payload
//     tag 1  points: u64 count, u64 slots, then per point: u32 slot, id (u8 kind, u64 [, u64]),
//            u64 version, u32 vector mask, u32 + payload JSON, u32 + sparse vectors JSON; then
//            the free slots, u32 x (slots - count). A slot is the point's label in every index
//            and the store allocates all of them, so the list makes the file pay for its slot
//            space. Version 1 (still read) has neither `slots` nor the list; it may use at most
//            2^20 slots more than it has points.
//     tag 2  one vector index: u32 + vector name, then the index's own container (index/io)
//     tag 15 end (empty): the snapshot is complete
// Payload indexes are not stored: they are rebuilt from the payloads on load.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/common/result.h"

namespace shoal::index {
class vector_index;
}

namespace shoal::shard {

class shard;
class point_store;
struct collection_config;

inline constexpr char kSnapshotMagic[8] = {'S', 'H', 'O', 'A', 'L', 'S', 'N', 'P'};
inline constexpr uint16_t kSnapshotVersion = 2;

std::string snapshot_file_name(uint64_t lsn);
/// LSN of "snapshot-<lsn>.snap", or nullopt.
std::optional<uint64_t> parse_snapshot_file_name(const std::string& name);

struct snapshot_summary {
  uint64_t lsn = 0;
  uint64_t created_ms = 0;
  uint64_t points = 0;
  std::vector<std::pair<std::string, uint64_t>> sections;  // name, bytes
};

/// Blocking: writes the shard's state as a snapshot at `lsn` into `dir` (the caller guarantees
/// no mutation runs meanwhile) and returns its path.
result<std::filesystem::path> write_snapshot(const shard& s, const std::filesystem::path& dir,
                                             uint64_t lsn);
/// Blocking: loads a snapshot into an empty shard; errc::corrupt_snapshot with a log line that
/// says what failed.
result<uint64_t> load_snapshot(shard& s, const std::filesystem::path& file);
/// What a snapshot loads into: an empty point store and one index slot per vector of `config`
/// (in its order; each is replaced by the index the snapshot holds). load_snapshot(shard&) is
/// this on the shard's own; the snapshot fuzzer (tests/fuzz) calls it directly.
struct snapshot_target {
  const collection_config& config;
  point_store& store;
  std::vector<std::unique_ptr<index::vector_index>>& indexes;
};
result<uint64_t> load_snapshot(snapshot_target into, const std::filesystem::path& file);
/// Blocking: validates every checksum and describes the file (shoalctl snapshot-inspect).
result<snapshot_summary> inspect_snapshot(const std::filesystem::path& file,
                                          std::string* problem = nullptr);

}  // namespace shoal::shard
