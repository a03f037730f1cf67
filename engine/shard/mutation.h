#pragma once
// What a shard's log records: one mutation per record, in a little-endian binary body.
// Filters are resolved to point ids before a mutation is logged, so replaying a record never
// depends on anything but the state before it.
//
//   id        u8 kind (0 integer, 1 uuid), then u64 (integer) or u64 hi, u64 lo (uuid)
//   string    u32 length, bytes
//   upsert    (type 1) u32 count, per point: id, u32 vector count, per vector: string name,
//             u32 dim, dim x f32; string payload JSON ("" = none); string sparse vectors JSON
//   delete    (type 2) u32 count, ids
//   set_payload (3), overwrite_payload (4): u32 count, ids, string payload JSON, u8 has_key,
//             [string key path]
//   delete_payload_keys (5): u32 count, ids, u32 key count, strings
//   clear_payload (6): u32 count, ids

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "engine/common/result.h"
#include "engine/data/json_value.h"
#include "engine/data/point_id.h"

namespace shoal::shard {

enum class mutation_type : uint8_t {
  upsert = 1,
  delete_points = 2,
  set_payload = 3,
  overwrite_payload = 4,
  delete_payload_keys = 5,
  clear_payload = 6,
};

struct named_vector {
  std::string name;  // "" = the unnamed vector
  std::vector<float> values;
};

struct point_write {
  data::point_id id;
  std::vector<named_vector> vectors;
  std::optional<data::json_value> payload;  // nullopt: no payload
  std::string sparse_json;                  // sparse vectors as given (stored, returned), or ""
};

struct upsert_mutation {
  std::vector<point_write> points;
};

struct delete_mutation {
  std::vector<data::point_id> ids;
};

struct payload_mutation {
  mutation_type type = mutation_type::set_payload;
  std::vector<data::point_id> ids;
  data::json_value payload;        // set / overwrite
  std::optional<std::string> key;  // set: merge into the object at this path
  std::vector<std::string> keys;   // delete_payload_keys
};

using mutation = std::variant<upsert_mutation, delete_mutation, payload_mutation>;

mutation_type type_of(const mutation& m);
std::vector<std::byte> encode_mutation(const mutation& m);
/// errc: bad_message for a body that does not decode (a corrupt or foreign record).
result<mutation> decode_mutation(uint8_t type, std::span<const std::byte> body);

}  // namespace shoal::shard
