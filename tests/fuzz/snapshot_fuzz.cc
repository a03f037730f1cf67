// Fuzz target: the snapshot loaders — a shard snapshot (engine/shard/shard_snapshot.h: header,
// points section, one embedded index container per vector, end section) and an index snapshot
// on its own (index/io/format.h container, flat and HNSW bodies: index::load_index).
//
// Input: a file's bytes. One that starts with the index container's magic "SHOALIDX" is loaded
// from memory with load_index (what the shard loader does with each index section); anything
// else is written to a scratch file and read as a shard snapshot of the collection in
// fuzz_support.h (kSnapshotCollection) by inspect_snapshot (which a follower runs on a
// transferred snapshot) and by load_snapshot into an empty point store (what recovery runs).
// An index that loads is then used as a shard uses it: a search over it and every stored vector
// read back, which must never touch memory the loader did not check.
//
// A structure-aware mutator repairs the checksums of the shard header and sections and of the
// embedded index containers (header and sections), so mutated fields reach the loaders.

#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "engine/shard/collection_config.h"
#include "engine/shard/point_store.h"
#include "engine/shard/shard_snapshot.h"
#include "index/io/byte_stream.h"
#include "index/vector_index.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

using namespace shoal;

constexpr char kIndexMagic[8] = {'S', 'H', 'O', 'A', 'L', 'I', 'D', 'X'};

const shard::collection_config& collection() {
  static const shard::collection_config cfg = [] {
    simdjson::dom::parser parser;
    simdjson::dom::element body;
    if (parser.parse(std::string(fuzz::kSnapshotCollection)).get(body) != simdjson::SUCCESS) {
      std::abort();
    }
    auto c = shard::collection_config::decode_create("fuzz", body, 1);
    if (!c) std::abort();
    return std::move(*c);
  }();
  return cfg;
}

/// Uses a loaded index as a shard would: one search, then every label's vector.
void use(const index::vector_index& idx) {
  std::vector<float> query(idx.dim());
  for (size_t i = 0; i < query.size(); ++i) query[i] = 0.25f + static_cast<float>(i % 3);
  std::vector<index::neighbor> out(8);
  (void)idx.search(query, out.size(), out);
  std::vector<float> v(idx.dim());
  idx.for_each_label([&](index::label_t label) { (void)idx.get_vector(label, v); });
}

// ---- checksum repair ----

/// An index container (io/format.h) in [p, p + size): header CRC, then each section's.
void repair_index(uint8_t* p, size_t size) {
  if (size < 64) return;
  fuzz::set_crc(p + 60, p, 60);
  size_t at = 64;
  while (size - at >= 16 + 4) {
    const uint64_t length = fuzz::load<uint64_t>(p + at + 8);
    if (length > size - at - 16 - 4) break;
    fuzz::set_crc(p + at + 16 + length, p + at + 16, length);
    at += 16 + length + 4;
  }
}

/// A shard snapshot: header CRC, then each section's, after the index container inside it.
void repair_shard(uint8_t* p, size_t size) {
  if (size < 64) return;
  fuzz::set_crc(p + 60, p, 60);
  size_t at = 64;
  while (size - at >= 16 + 4) {
    const uint32_t tag = fuzz::load<uint32_t>(p + at);
    const uint64_t length = fuzz::load<uint64_t>(p + at + 8);
    if (length > size - at - 16 - 4) break;
    uint8_t* payload = p + at + 16;
    if (tag == 2 && length >= 4) {  // u32 + vector name, then the index container
      const uint32_t name = fuzz::load<uint32_t>(payload);
      if (name <= length - 4) repair_index(payload + 4 + name, length - 4 - name);
    }
    fuzz::set_crc(payload + length, payload, length);
    at += 16 + length + 4;
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  shoal::fuzz::quiet_logs();
  return 0;
}

extern "C" size_t LLVMFuzzerCustomMutator(uint8_t* data, size_t size, size_t max_size,
                                          unsigned int seed) {
  fuzz::coin coin(seed);
  size = LLVMFuzzerMutate(data, size, max_size);
  if (coin.one_in(8)) return size;
  if (size >= 8 && std::memcmp(data, kIndexMagic, 8) == 0) {
    repair_index(data, size);
  } else {
    repair_shard(data, size);
  }
  return size;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size >= 8 && std::memcmp(data, kIndexMagic, 8) == 0) {
    index::memory_source source({reinterpret_cast<const std::byte*>(data), size});
    if (auto idx = index::load_index(source)) use(**idx);
    return 0;
  }
  static fuzz::scratch_file file("shoal-fuzz-snapshot");
  const auto& path = file.write(data, size);
  std::string problem;
  (void)shard::inspect_snapshot(path, &problem);
  const auto& cfg = collection();
  shard::point_store store;
  std::vector<std::unique_ptr<index::vector_index>> indexes(cfg.vectors.size());
  if (shard::load_snapshot(shard::snapshot_target{cfg, store, indexes}, path)) {
    for (const auto& idx : indexes) {
      if (idx) use(*idx);
    }
  }
  return 0;
}
