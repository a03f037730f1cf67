// Fuzz target: the JSON request bodies of the REST points and search routes.
//
// Input: byte 0 picks the route (low 4 bits, fuzz::rest_route) and the collection schema (bit 4: an
// unnamed 4-dim Cosine vector, or named vectors "a", "b" and a sparse "s"); the rest is the body.
// The body goes through parse_json (what parse_body does with a request's body) and then the
// decoder that route's handler calls (net/rest/requests.h, decode.h), with default limits.
// Nothing is applied: the decoders produce owned, validated values, which is what is tested.
// Query, search, batch and upsert bodies also go through the fast paths (search_body.h,
// vector_list_body.h), whose outcome must equal the ordinary one (a differential check: any
// difference aborts).

#include <array>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>

#include "net/rest/requests.h"
#include "net/rest/rest_io.h"
#include "net/rest/search_body.h"
#include "net/rest/vector_list_body.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

using namespace shoal;

using route = fuzz::rest_route;

const shard::collection_config& schema(unsigned which) {
  static const std::array<shard::collection_config, 2> configs = [] {
    const char* bodies[2] = {R"({"vectors": {"size": 4, "distance": "Cosine"}})",
                             R"({"vectors": {"a": {"size": 3, "distance": "Dot"},
                        "b": {"size": 2, "distance": "Euclid", "index": "flat"}},
            "sparse_vectors": {"s": {}}})"};
    std::array<shard::collection_config, 2> out;
    simdjson::dom::parser parser;
    for (int i = 0; i < 2; ++i) {
      simdjson::dom::element body;
      if (parser.parse(std::string(bodies[i])).get(body) != simdjson::SUCCESS) std::abort();
      auto c = shard::collection_config::decode_create("fuzz", body, 1);
      if (!c) std::abort();
      out[i] = std::move(*c);
    }
    return out;
  }();
  return configs[which];
}

void decode(route r, simdjson::dom::element body, const shard::collection_config& cfg) {
  const rest::rest_limits limits;
  switch (r) {
    case route::upsert:
      (void)rest::decode_upsert(body, cfg, limits);
      break;
    case route::query:
    case route::search:
      (void)rest::decode_search(body, cfg, limits, "", r == route::search);
      break;
    case route::query_batch:
    case route::search_batch:
      (void)rest::decode_batch(body, cfg, limits, r == route::search_batch);
      break;
    case route::scroll:
      (void)rest::decode_scroll(body, cfg, limits);
      break;
    case route::count:
      (void)rest::decode_count_body(body);
      break;
    case route::remove:
      (void)rest::decode_selection(body, limits);
      break;
    case route::set_payload:
      (void)rest::decode_payload_change(body, shard::mutation_type::set_payload, limits);
      break;
    case route::overwrite:
      (void)rest::decode_payload_change(body, shard::mutation_type::overwrite_payload, limits);
      break;
    case route::delete_keys:
      (void)rest::decode_payload_change(body, shard::mutation_type::delete_payload_keys, limits);
      break;
    case route::clear_payload:
      (void)rest::decode_payload_change(body, shard::mutation_type::clear_payload, limits);
      break;
    case route::batch:
      (void)rest::decode_operations(body, cfg, limits);
      break;
    case route::retrieve:
      (void)rest::decode_retrieve(body, cfg, limits);
      break;
    case route::kCount:
      break;
  }
}

/// A decoded search in a comparable form, or its error.
std::string outcome(const data::decoded<rest::parsed_search>& r) {
  if (!r) return "error " + std::to_string(int(r.error().k)) + ": " + r.error().message;
  const auto& q = r->q;
  std::string out = "kind " + std::to_string(int(r->k)) + " name " + q.vector_name + " limit " +
                    std::to_string(q.limit) + " offset " + std::to_string(r->offset) + " ef " +
                    std::to_string(q.ef) + (q.exact ? " exact" : "") + (q.filter ? " filter" : "") +
                    " vector";
  for (float f : q.vector) {  // bit for bit: -0 and 0 differ, and so does any rounding
    uint32_t bits;
    std::memcpy(&bits, &f, sizeof bits);
    out += " " + std::to_string(bits);
  }
  return out;
}

/// Decoded batch searches in a comparable form, or the error.
std::string outcome(const data::decoded<std::vector<rest::parsed_search>>& r) {
  if (!r) return "error " + std::to_string(int(r.error().k)) + ": " + r.error().message;
  std::string out;
  for (const auto& s : *r) out += "[" + outcome(data::decoded<rest::parsed_search>(s)) + "]";
  return out;
}

/// Decoded upsert points in a comparable form, or the error.
std::string outcome(const data::decoded<std::vector<shard::point_write>>& r) {
  if (!r) return "error " + std::to_string(int(r.error().k)) + ": " + r.error().message;
  std::string out;
  for (const auto& p : *r) {
    out += "[" + p.id.to_string() + " payload " + (p.payload ? p.payload->to_json() : "-") +
           " sparse " + p.sparse_json;
    for (const auto& v : p.vectors) {
      out += " " + v.name + ":";
      for (float f : v.values) {
        uint32_t bits;
        std::memcpy(&bits, &f, sizeof bits);
        out += " " + std::to_string(bits);
      }
    }
    out += "]";
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  shoal::fuzz::quiet_logs();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  auto r = static_cast<route>((data[0] & 0x0f) % static_cast<unsigned>(route::kCount));
  const auto& cfg = schema((data[0] >> 4) & 1);
  // The session reads a body into a string with simdjson's padding spare after it
  // (net/http/padded_body.h), so parse_json parses it in place.
  std::string body(reinterpret_cast<const char*>(data + 1), size - 1);
  body.reserve(body.size() + simdjson::SIMDJSON_PADDING);
  size_t spare = body.capacity() - body.size();
  // The fast paths (net/rest/search_body.h, vector_list_body.h) must decode exactly as the ordinary
  // parse does, and take nothing the ordinary parse refuses.
  const rest::rest_limits limits;
  std::optional<std::string> fast;
  if (r == route::query || r == route::search) {
    if (auto f =
            rest::parse_search_body_fast(body, r == route::search ? "vector" : "query", 65536)) {
      fast = outcome(rest::decode_search(f->doc, cfg, limits, "", r == route::search, &*f->vector));
    }
  } else if (r == route::upsert) {
    if (auto f = rest::parse_vector_list_body_fast(
            body, {"points", "vector", 65536, limits.max_points_per_request, "batch", "vectors"})) {
      fast = outcome(rest::decode_upsert(
          f->doc, cfg, limits, &f->vectors,
          f->from_columns ? rest::upsert_form::batch : rest::upsert_form::points));
    }
  } else if (r == route::query_batch || r == route::search_batch) {
    bool legacy = r == route::search_batch;
    if (auto f = rest::parse_vector_list_body_fast(
            body, {"searches", legacy ? "vector" : "query", 65536, limits.max_batch_searches})) {
      fast = outcome(rest::decode_batch(f->doc, cfg, limits, legacy, &f->vectors));
    }
  }
  auto root = rest::parse_json(body, spare);
  if (!root) {
    if (fast) std::abort();  // the fast path took a body the ordinary parse refuses
    return 0;
  }
  if (fast) {
    std::string ordinary;
    if (r == route::upsert) {
      ordinary = outcome(rest::decode_upsert(*root, cfg, limits));
    } else if (r == route::query_batch || r == route::search_batch) {
      ordinary = outcome(rest::decode_batch(*root, cfg, limits, r == route::search_batch));
    } else {
      ordinary = outcome(rest::decode_search(*root, cfg, limits, "", r == route::search));
    }
    if (*fast != ordinary) std::abort();
    return 0;
  }
  decode(r, *root, cfg);
  return 0;
}
