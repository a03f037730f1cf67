#pragma once
// A collection archive: one file that holds a whole collection, for backups, Qdrant-style
// snapshots and moving a collection to another host. Blocking code: run it in the blocking pool.
//
//   header, 32 bytes: magic "SHOALARC", u16 version (1), u16 flags (0), u32 entry count,
//                     u64 reserved, u32 reserved, u32 CRC-32C of bytes 0..27
//   entries: u32 name length, name, u64 size, bytes, u32 CRC-32C of name and bytes
//   names: "collection.json", then "shards/<i>.snap" (a shard snapshot, shard_snapshot.h) and,
//   for full-storage archives, "collections/<dir>.arc" (a nested collection archive)
//
// The SHA-256 of the whole file is what the REST API reports as the snapshot's checksum.

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "engine/common/result.h"

namespace shoal::shard {

struct archive_entry {
  std::string name;
  std::filesystem::path source;  // file whose bytes become the entry
};

/// Writes `entries` into `out` (via out.tmp + rename). Returns the archive's size.
result<uint64_t> write_archive(const std::filesystem::path& out,
                               const std::vector<archive_entry>& entries);

struct archive_listing {
  std::vector<std::pair<std::string, uint64_t>> entries;  // name, size
};
/// Validates every checksum; on failure `problem` says what is wrong.
result<archive_listing> read_archive(const std::filesystem::path& file, std::string* problem);
/// Extracts entry `name` to `to` (validating its checksum).
result<void> extract_entry(const std::filesystem::path& file, const std::string& name,
                           const std::filesystem::path& to);
/// The entry's bytes in memory (small entries such as collection.json).
result<std::string> read_entry(const std::filesystem::path& file, const std::string& name,
                               size_t max_bytes);

/// Lowercase hex SHA-256 of a file.
result<std::string> sha256_file(const std::filesystem::path& file);

}  // namespace shoal::shard
