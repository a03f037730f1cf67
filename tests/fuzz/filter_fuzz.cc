// Fuzz target: the filter grammar (REST_API.md §7) — data::decode_filter, which every route with
// a "filter" and the RPC search's filter JSON use — and the evaluation of what it accepts.
//
// Input: the filter's JSON text, as a client sends it in {"filter": ...}. It is parsed as a
// request body is (rest::parse_json), decoded, and an accepted filter is evaluated against a
// few fixed points whose payloads cover every JSON type, nesting, arrays of objects and keys
// with dots, so key paths, matches, ranges and nested clauses all run.

#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include "engine/data/filter_json.h"
#include "net/rest/rest_io.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

using namespace shoal;

const std::vector<std::pair<data::point_id, data::json_value>>& points() {
  static const auto all = [] {
    const char* payloads[] = {
        R"({"city": "Berlin", "n": 3, "price": 10.5, "ok": true, "tags": ["a", "b", 7],
            "geo": {"lat": 52.5, "lon": 13.4}, "none": null, "empty": []})",
        R"({"city": ["London", "Moscow"], "n": -9223372036854775808, "price": 1e300,
            "country": {"cities": [{"name": "Paris", "population": 2.1},
                                   {"name": "Lyon", "population": 0.5}]},
            "a.b": {"c": 1}, "nested": {"deep": {"deeper": [[1, 2], [3]]}}})",
        R"({"ok": false, "n": 9223372036854775807, "tags": [], "city": null,
            "uuid": "936DA01F-9ABD-4D9D-80C7-02AF85C822A8", "price": -0.0})",
        R"({})",
    };
    std::vector<std::pair<data::point_id, data::json_value>> out;
    uint64_t id = 0;
    for (const char* p : payloads) {
      auto v = data::json_value::parse(p);
      if (!v) std::abort();
      out.emplace_back(data::point_id::number(id++), std::move(*v));
    }
    auto uuid = data::point_id::parse_uuid("936da01f-9abd-4d9d-80c7-02af85c822a8");
    if (!uuid) std::abort();
    out.emplace_back(*uuid, data::json_value(data::json_value::object{}));
    return out;
  }();
  return all;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  shoal::fuzz::quiet_logs();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  text.reserve(text.size() + simdjson::SIMDJSON_PADDING);
  auto root = rest::parse_json(text, text.capacity() - text.size());
  if (!root) return 0;
  auto f = data::decode_filter(*root, "filter");
  if (!f) return 0;
  for (const auto& [id, payload] : points()) {
    (void)data::evaluate(*f, id, &payload);
  }
  (void)data::evaluate(*f, data::point_id::number(99), nullptr);
  return 0;
}
