#pragma once
// The replica digest (GET /collections/{name}/shards/{id}/digest, `shoalctl cluster verify`):
// an order-independent checksum of a shard's points, so two replicas of a shard can be compared
// without moving their data.
//
// Each live point gets a 64-bit XXH64 (engine/common/xxhash64.h) over, in this order:
//   * its id: kind byte (0 number, 1 UUID), then the two 64-bit words;
//   * per vector the point has, in the collection's vector order: the name (length + bytes),
//     the dimension and the float32 values as the index stores them (get_vector: normalised
//     for Cosine), bit for bit;
//   * its sparse vectors JSON as stored (length + bytes), when it has some;
//   * a hash of its payload (payload_hash below), when it has one.
// Not the version (LSN of its last write): a point deleted and written again is the same point.
//
// The checksum is two 64-bit lanes, each a sum mod 2^64 over the live points: lane a of the
// point hash h, lane b of mix(h) (a different bijective finaliser). Sums do not depend on the
// order points were written in, on the slots they occupy, or on the index layout (flat or HNSW,
// slots reused after deletes, a snapshot reloaded). The second lane makes a sum collision
// between different multisets of point hashes need two independent coincidences.
//
// Payload: an object's keys are unique (json_value refuses repeats), so an object hashes as the
// SUM of its (key, value) pair hashes: key order does not matter. Replicas that apply the same
// log store the same key order anyway, but one object reached by different histories (`set`
// of {b} then {a}, or an upsert of {a, b}) does not, and it is the same payload. Arrays keep
// their order. Numbers hash by their stored type and bits: the integer 5 and the double 5.0 are
// different values (filters and the snapshot's encoding keep them apart too).
//
// The point store keeps the checksum (point_store::checksum()); shard_apply.cc keeps it up to
// date on every apply — subtract the point's hash before a change, add it after — so reading it
// is O(1) and exactly at the applied LSN. Loading a snapshot computes it from scratch (in the
// blocking pool), then replay continues incrementally.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/data/json_value.h"

namespace shoal::index {
class vector_index;
}

namespace shoal::shard {

struct collection_config;
class point_store;

struct replica_checksum {
  uint64_t a = 0;
  uint64_t b = 0;

  void add(uint64_t h) {
    a += h;
    b += mix(h);
  }
  void remove(uint64_t h) {
    a -= h;
    b -= mix(h);
  }
  /// 32 lowercase hex digits: lane a, then lane b.
  std::string hex() const;
  friend bool operator==(const replica_checksum&, const replica_checksum&) = default;

  /// murmur3's 64-bit finaliser, a bijection unrelated to XXH64's.
  static uint64_t mix(uint64_t h) {
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 33;
    return h;
  }
};

/// A replica's digest: what it holds at `lsn`.
struct replica_digest {
  uint64_t term = 0;    // the term that wrote `lsn` (0: no record)
  uint64_t lsn = 0;     // the last applied record
  uint64_t points = 0;  // live points
  replica_checksum checksum;
};

/// Canonical hash of a payload value (object key order does not matter).
uint64_t payload_hash(const data::json_value& v);

/// The hash of the live point at `slot`. `scratch` is reused for vectors read from the indexes.
/// A vector the mask names but its index lacks (only a damaged snapshot has that) hashes as
/// a marker, so such a point still differs from a whole one.
uint64_t point_hash(const collection_config& config, const point_store& store,
                    const std::vector<std::unique_ptr<index::vector_index>>& indexes, uint32_t slot,
                    std::vector<float>& scratch);

/// The checksum over every live point, from scratch (snapshot loading; tests compare it with
/// the incremental one).
replica_checksum compute_checksum(const collection_config& config, const point_store& store,
                                  const std::vector<std::unique_ptr<index::vector_index>>& indexes);

}  // namespace shoal::shard
