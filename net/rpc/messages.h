#pragma once
// Method ids and the messages of the client API (net/README.md, "Methods", is the reference).
// Each payload is one envelope (codec.h), version 1 unless said otherwise.
//
// Method ids:
//   0x0001 ping                0x0002 authenticate
//   0x0010 create_collection   0x0011 drop_collection
//   0x0012 collection_info     0x0020 upsert              0x0021 delete_points
//   0x0030 search (a batch of queries)
//   0x0100-0x01FF replication (issue #7: append, heartbeat, snapshot transfer), reserved
//   0x0200-0x02FF node-to-node search (scatter/gather between hosts), reserved
//   0x0300-0x03FF cluster administration, reserved
//
// Common encodings:
//   ids        u8 form (0: all integers, u64 each; 1: all UUIDs, u64 hi + u64 lo each;
//              2: mixed, each u8 kind (0/1) then as above), u32 count, the ids
//   durability u8: 0 the collection's default, 1 memory, 2 local, 3 replicated
//   error      (the payload of every error response) u16 status (status.h), string message
//
// Encoders take views (spans and string_views) so a caller's data is copied once, into the
// payload; decoders return views into the payload (valid while its buffer lives) and check
// every count against the bytes that remain before they allocate.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/common/result.h"
#include "engine/data/point_id.h"
#include "net/auth/access.h"
#include "net/rpc/buffer.h"
#include "net/rpc/codec.h"
#include "net/rpc/status.h"

namespace shoal::rpc {

namespace method {
inline constexpr uint16_t ping = 0x0001;
/// Payload: the API key's bytes. Handled by the session itself (not a dispatcher method): it
/// sets what the connection may do from then on (net/README.md, "Authentication").
inline constexpr uint16_t authenticate = 0x0002;
inline constexpr uint16_t create_collection = 0x0010;
inline constexpr uint16_t drop_collection = 0x0011;
inline constexpr uint16_t collection_info = 0x0012;
inline constexpr uint16_t upsert = 0x0020;
inline constexpr uint16_t delete_points = 0x0021;
inline constexpr uint16_t search = 0x0030;
// Reserved ranges, so later issues add methods without renumbering.
inline constexpr uint16_t replication_first = 0x0100;
inline constexpr uint16_t replication_last = 0x01FF;
inline constexpr uint16_t node_search_first = 0x0200;
inline constexpr uint16_t node_search_last = 0x02FF;
inline constexpr uint16_t cluster_first = 0x0300;
inline constexpr uint16_t cluster_last = 0x03FF;
}  // namespace method

/// "upsert", "search", ...; "0x0123" for ids without a name.
std::string method_name(uint16_t id);

/// The API key a method needs when keys are set: ping and authenticate are open; reads
/// (collection_info, search, node-to-node search) need the read-only key; everything else,
/// replication included, the read-write key.
auth::access required_access(uint16_t id);

enum class durability_level : uint8_t {
  collection_default = 0,
  memory = 1,
  local = 2,
  replicated = 3
};

// ---- errors ----
bytes encode_error(status s, std::string_view message);
/// A remote error from an error response's payload (malformed ones become status::malformed).
error decode_error(std::span<const std::byte> payload);

// ---- ping: request {} ----
struct ping_response {
  uint32_t core = 0;   // the server core that answered (connections stay on one core)
  uint32_t cores = 0;  // cores of that server
  std::string version;
};
bytes encode_ping_request();
bytes encode(const ping_response& r);
result<ping_response> decode_ping_response(std::span<const std::byte> p);

// ---- create_collection: {string name, string config_json, u8 flags (bit 0: if missing)} ----
// config_json is Qdrant's CreateCollection body (with Shoal's "index" and "durability").
// Response: {u8 created} (0 when it existed and flag "if missing" was set).
struct create_collection_request {
  std::string_view name;
  std::string_view config_json;
  bool if_missing = false;
};
bytes encode(const create_collection_request& r);
result<create_collection_request> decode_create_collection(std::span<const std::byte> p);

// ---- drop_collection: {string name} -> {u8 existed} ----
bytes encode_name_request(std::string_view name);
result<std::string_view> decode_name_request(std::span<const std::byte> p);
bytes encode_bool_response(bool v);
result<bool> decode_bool_response(std::span<const std::byte> p);

// ---- collection_info: {string name} -> {u64 points, u64 indexed_vectors, u32 shards,
//      string config_json (collection.json's form)} ----
struct collection_info {
  uint64_t points = 0;
  uint64_t indexed_vectors = 0;
  uint32_t shards = 0;
  std::string config_json;
};
bytes encode(const collection_info& r);
result<collection_info> decode_collection_info(std::span<const std::byte> p);

// ---- upsert: {string collection, string vector_name, u8 durability, u32 dim, ids (n),
//      n x dim f32, u8 has_payloads, [n x string payload JSON ("" = no payload)]} ----
struct upsert_request {
  std::string_view collection;
  std::string_view vector_name;  // "" = the unnamed vector
  durability_level durability = durability_level::collection_default;
  uint32_t dim = 0;
  std::span<const data::point_id> ids;
  std::span<const float> vectors;              // ids.size() x dim, row-major
  std::span<const std::string_view> payloads;  // empty, or one JSON object per id ("" = none)
};
bytes encode(const upsert_request& r);

struct upsert_view {
  std::string_view collection;
  std::string_view vector_name;
  durability_level durability = durability_level::collection_default;
  uint32_t dim = 0;
  std::vector<data::point_id> ids;
  std::span<const std::byte> vectors;      // ids.size() x dim x 4 bytes (unaligned)
  std::vector<std::string_view> payloads;  // empty, or ids.size()
  float value(size_t point, size_t j) const;
};
result<upsert_view> decode_upsert(std::span<const std::byte> p);

// ---- delete_points: {string collection, u8 durability, ids} ----
struct delete_request {
  std::string_view collection;
  durability_level durability = durability_level::collection_default;
  std::span<const data::point_id> ids;
};
bytes encode(const delete_request& r);
struct delete_view {
  std::string_view collection;
  durability_level durability = durability_level::collection_default;
  std::vector<data::point_id> ids;
};
result<delete_view> decode_delete(std::span<const std::byte> p);

// upsert and delete answer {u64 operation_id (the highest shard LSN written), u32 points}.
struct write_result {
  uint64_t operation_id = 0;
  uint32_t points = 0;
};
bytes encode(const write_result& r);
result<write_result> decode_write_result(std::span<const std::byte> p);

// ---- search: {string collection, string vector_name, u32 k, u32 ef (0: the index default),
//      u8 flags (bit 0 exact, bit 1 with_payload, bit 2 score_threshold set), f32 threshold,
//      string filter JSON ("" = none; REST_API.md §7), u32 dim, u32 nq, nq x dim f32} ----
struct search_request {
  std::string_view collection;
  std::string_view vector_name;
  uint32_t k = 10;
  uint32_t ef = 0;
  bool exact = false;
  bool with_payload = false;
  std::optional<float> score_threshold;
  std::string_view filter_json;
  uint32_t dim = 0;
  std::span<const float> queries;  // nq x dim
};
bytes encode(const search_request& r);
struct search_view {
  std::string_view collection;
  std::string_view vector_name;
  uint32_t k = 10;
  uint32_t ef = 0;
  bool exact = false;
  bool with_payload = false;
  std::optional<float> score_threshold;
  std::string_view filter_json;
  uint32_t dim = 0;
  uint32_t nq = 0;
  std::span<const std::byte> queries;  // nq x dim x 4 bytes
  float value(size_t query, size_t j) const;
};
result<search_view> decode_search(std::span<const std::byte> p);

// Response: {u8 flags (bit 0: payloads present), u32 nq, per query: u32 count, per hit: id
// (u8 kind, u64 or u64 hi + u64 lo), f32 score, [string payload JSON]}. Hits are in rank order.
struct search_hit {
  data::point_id id;
  float score = 0;
  std::string payload_json;  // with_payload only
};
struct search_results {
  std::vector<search_hit> hits;   // every query's hits, one after the other
  std::vector<uint32_t> offsets;  // nq + 1: query q's hits are [offsets[q], offsets[q+1])
  size_t queries() const { return offsets.empty() ? 0 : offsets.size() - 1; }
  std::span<const search_hit> of(size_t q) const {
    return {hits.data() + offsets[q], offsets[q + 1] - offsets[q]};
  }
};
/// Streams a search response into a payload.
class search_response_encoder {
 public:
  search_response_encoder(bytes& out, uint32_t nq, bool with_payload);
  void begin_query(uint32_t hits);
  void hit(const data::point_id& id, float score, std::string_view payload_json = {});
  void finish();

 private:
  writer w_;
  size_t mark_;
  bool with_payload_;
};
result<search_results> decode_search_results(std::span<const std::byte> p);

}  // namespace shoal::rpc
