#pragma once
// Shared pieces of the fuzz targets (tests/fuzz/README.md): a scratch file for loaders that
// read files, little-endian field access, and the checksum repair the structure-aware mutators
// apply so mutated inputs reach the code behind a CRC check.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <span>
#include <string>
#include <sys/mman.h>
#include <unistd.h>

#include "engine/common/crc32c.h"
#include "engine/common/logger.h"

extern "C" size_t LLVMFuzzerMutate(uint8_t* data, size_t size, size_t max_size);

namespace shoal::fuzz {

/// The collection whose shard snapshots and log segments are in the seed corpora (written by
/// make_corpus.cc; snapshot_fuzz.cc loads snapshots into it): a flat, an HNSW and an int8 HNSW
/// vector and a sparse one.
inline constexpr const char* kSnapshotCollection = R"({
  "vectors": {
    "f": {"size": 4, "distance": "Euclid", "index": "flat"},
    "h": {"size": 8, "distance": "Cosine", "hnsw_config": {"m": 4, "ef_construct": 16}},
    "q": {"size": 8, "distance": "Dot", "hnsw_config": {"m": 4, "ef_construct": 16},
          "quantization_config": {"scalar": {"type": "int8"}}}
  },
  "sparse_vectors": {"s": {}}
})";

/// The routes of rest_request_fuzz.cc, chosen by the low 4 bits of an input's first byte.
enum class rest_route : uint8_t {
  upsert,         // PUT /points
  query,          // POST /points/query
  search,         // POST /points/search (legacy)
  query_batch,    // POST /points/query/batch
  search_batch,   // POST /points/search/batch
  scroll,         // POST /points/scroll
  count,          // POST /points/count
  remove,         // POST /points/delete
  set_payload,    // POST /points/payload
  overwrite,      // PUT /points/payload
  delete_keys,    // POST /points/payload/delete
  clear_payload,  // POST /points/payload/clear
  batch,          // POST /points/batch
  retrieve,       // POST /points
  kCount
};

/// Loaders log what they refuse; a fuzzer refuses millions of inputs. Call from
/// LLVMFuzzerInitialize.
inline void quiet_logs() {
  logging::options o;
  o.level = "off";
  logging::init(o);
}

template <typename T>
T load(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
template <typename T>
void store(uint8_t* p, T v) {
  std::memcpy(p, &v, sizeof v);
}

inline void set_crc(uint8_t* at, const uint8_t* data, size_t size) {
  store<uint32_t>(at, crc32c(0, data, size));
}

/// A small deterministic generator seeded by libFuzzer's mutation seed: which repairs to skip.
struct coin {
  uint32_t state;
  explicit coin(unsigned seed) : state(seed * 2654435761u + 1) {}
  uint32_t next() {
    state ^= state << 13;
    state ^= state >> 17;
    state ^= state << 5;
    return state;
  }
  /// True one time in n.
  bool one_in(uint32_t n) { return next() % n == 0; }
};

/// A file in memory (memfd) for loaders that take a path: /proc/self/fd/N opens it again, and
/// no file system (or its discards on truncation) slows every run down.
class scratch_file {
 public:
  explicit scratch_file(const char* name) : fd_(::memfd_create(name, 0)) {
    if (fd_ < 0) std::abort();
    path_ = "/proc/self/fd/" + std::to_string(fd_);
  }
  ~scratch_file() { ::close(fd_); }
  scratch_file(const scratch_file&) = delete;
  scratch_file& operator=(const scratch_file&) = delete;
  /// Replaces the file's contents with `data`.
  const std::filesystem::path& write(const uint8_t* data, size_t size) {
    if (::ftruncate(fd_, 0) != 0) std::abort();
    size_t done = 0;
    while (done < size) {
      ssize_t n = ::pwrite(fd_, data + done, size - done, static_cast<off_t>(done));
      if (n <= 0) std::abort();
      done += static_cast<size_t>(n);
    }
    return path_;
  }

 private:
  int fd_;
  std::filesystem::path path_;
};

}  // namespace shoal::fuzz
