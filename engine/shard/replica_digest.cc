#include "engine/shard/replica_digest.h"

#include <bit>

#include <fmt/format.h>

#include "engine/common/xxhash64.h"
#include "engine/shard/collection_config.h"
#include "engine/shard/point_store.h"
#include "index/vector_index.h"

namespace shoal::shard {
namespace {

// Tags keep values of different kinds apart (the string "1" is not the integer 1).
enum : uint8_t {
  kNull = 0,
  kFalse,
  kTrue,
  kInteger,
  kDouble,
  kString,
  kArray,
  kObject,
  // point fields
  kVector = 16,
  kMissingVector,
  kSparse,
  kPayload,
};

}  // namespace

std::string replica_checksum::hex() const {
  return fmt::format("{:016x}{:016x}", a, b);
}

uint64_t payload_hash(const data::json_value& v) {
  using kind = data::json_value::kind;
  xxh64_stream h;
  switch (v.type()) {
    case kind::null:
      h.put(kNull);
      break;
    case kind::boolean:
      h.put(v.as_bool() ? kTrue : kFalse);
      break;
    case kind::integer:
      h.put(kInteger).put(v.as_integer());
      break;
    case kind::floating:
      h.put(kDouble).put(std::bit_cast<uint64_t>(v.as_double()));
      break;
    case kind::string:
      h.put(kString).put_string(v.as_string());
      break;
    case kind::array: {
      auto& a = v.as_array();
      h.put(kArray).put<uint64_t>(a.size());
      for (auto& e : a) h.put(payload_hash(e));
      break;
    }
    case kind::object: {
      auto& o = v.as_object();
      uint64_t sum = 0;  // keys are unique: the set of pairs, in any order
      for (auto& [key, value] : o) {
        sum += xxh64_stream().put_string(key).put(payload_hash(value)).digest();
      }
      h.put(kObject).put<uint64_t>(o.size()).put(sum);
      break;
    }
  }
  return h.digest();
}

uint64_t point_hash(const collection_config& config, const point_store& store,
                    const std::vector<std::unique_ptr<index::vector_index>>& indexes, uint32_t slot,
                    std::vector<float>& scratch) {
  const auto& rec = store.at(slot);
  xxh64_stream h;
  h.put<uint8_t>(rec.id_is_uuid ? 1 : 0).put(rec.id_hi).put(rec.id_lo);
  for (size_t i = 0; i < config.vectors.size() && i < 32; ++i) {
    if (!(rec.vector_mask & (1u << i))) continue;
    const auto& name = config.vectors[i].first;
    const index::vector_index* idx = i < indexes.size() ? indexes[i].get() : nullptr;
    if (idx) scratch.resize(idx->dim());
    if (!idx || !idx->get_vector(slot, scratch)) {
      h.put(kMissingVector).put_string(name);
      continue;
    }
    h.put(kVector).put_string(name).put<uint64_t>(scratch.size());
    h.update(scratch.data(), scratch.size() * sizeof(float));
  }
  if (auto* sparse = store.sparse(slot)) h.put(kSparse).put_string(*sparse);
  if (rec.payload) h.put(kPayload).put(payload_hash(*rec.payload));
  return h.digest();
}

replica_checksum compute_checksum(
    const collection_config& config, const point_store& store,
    const std::vector<std::unique_ptr<index::vector_index>>& indexes) {
  replica_checksum sum;
  std::vector<float> scratch;
  for (auto& [id, slot] : store) sum.add(point_hash(config, store, indexes, slot, scratch));
  return sum;
}

}  // namespace shoal::shard
