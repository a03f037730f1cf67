#pragma once
// Whole request bodies of the points and search routes, decoded as their handlers do before
// anything runs: a parsed JSON body in, owned and validated values out (nothing here touches a
// shard). The handlers (point_routes.cc, search_routes.cc) call these, and so does the request
// fuzzer (tests/fuzz/rest_request_fuzz.cc), so it exercises exactly what a client reaches.
// PUT /points is decode_upsert (decode.h).

#include <memory>
#include <string>
#include <vector>

#include "net/rest/decode.h"

namespace shoal::rest {

/// "points" (ids) or "filter" selects the points of a delete or payload change.
struct selection {
  std::vector<data::point_id> ids;
  std::shared_ptr<const data::filter> filter;
};
/// POST /points/delete.
decoded<selection> decode_selection(element body, const rest_limits& limits);

/// The body of a payload change (set, overwrite, delete keys, clear) and the points it selects.
struct payload_change {
  shard::payload_mutation m;
  std::shared_ptr<const data::filter> filter;
};
/// POST/PUT /points/payload, POST /points/payload/delete, POST /points/payload/clear.
decoded<payload_change> decode_payload_change(element body, shard::mutation_type type,
                                              const rest_limits& limits);

/// One operation of POST /points/batch (REST_API.md §9).
struct batch_op {
  enum class kind { upsert, remove, payload } k = kind::upsert;
  std::vector<shard::point_write> points;  // upsert
  selection sel;                           // remove
  payload_change change;                   // payload
};
/// POST /points/batch.
decoded<std::vector<batch_op>> decode_operations(element body, const shard::collection_config& cfg,
                                                 const rest_limits& limits);

/// POST /points (retrieve by ids).
struct retrieve_request {
  std::vector<data::point_id> ids;
  shard::payload_selector with_payload;
  shard::vector_selector with_vector;
};
decoded<retrieve_request> decode_retrieve(element body, const shard::collection_config& cfg,
                                          const rest_limits& limits);

/// POST /points/scroll (the handler refuses order_by before this).
decoded<shard::scroll_query> decode_scroll(element body, const shard::collection_config& cfg,
                                           const rest_limits& limits);

/// POST /points/count: the filter (null: every point).
decoded<std::shared_ptr<const data::filter>> decode_count_body(
    element body, const data::input_limits& limits = {});

/// One search of the query API (legacy = false) or the legacy search API.
struct parsed_search {
  enum class kind { vector, by_id, none } k = kind::vector;
  shard::search_query q;
  size_t offset = 0;
  data::point_id id;
};
/// POST /points/query and /points/search; `where` prefixes field names in batches.
/// `given_vector`: the query vector's values, already read from the body as finite floats (the
/// body then holds an empty array in its place: search_body.h); taken when set.
decoded<parsed_search> decode_search(element body, const shard::collection_config& cfg,
                                     const rest_limits& limits, const std::string& where,
                                     bool legacy, std::vector<float>* given_vector = nullptr);
/// POST /points/query/batch and /points/search/batch: {"searches": [...]}.
/// `given`: the searches' vectors read from the text (vector_list_body.h); taken when set.
decoded<std::vector<parsed_search>> decode_batch(element body, const shard::collection_config& cfg,
                                                 const rest_limits& limits, bool legacy,
                                                 given_vectors* given = nullptr);

}  // namespace shoal::rest
