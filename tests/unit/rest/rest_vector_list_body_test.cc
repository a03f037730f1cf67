// The list fast path (net/rest/vector_list_body.h), for upserts and batch searches: the vectors
// read straight from the text must give exactly what the ordinary parse gives, the same points
// or searches or the same error, and the path must step aside for everything but the plain case.
#include <cstring>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <gtest/gtest.h>

#include "net/rest/decode.h"
#include "net/rest/requests.h"
#include "net/rest/rest_io.h"
#include "net/rest/vector_list_body.h"
#include "tests/unit/rest/one_vector_config.h"

namespace shoal::rest {
namespace {

/// Decoded points in a comparable form (vectors bit for bit), or the error.
std::string outcome(const data::decoded<std::vector<shard::point_write>>& r) {
  if (!r) return fmt::format("error {}: {}", int(r.error().k), r.error().message);
  std::string out;
  for (const auto& p : *r) {
    out += fmt::format("[{} payload {}", p.id.to_string(), p.payload ? p.payload->to_json() : "-");
    for (const auto& v : p.vectors) {
      out += " " + v.name + ":";
      for (float f : v.values) {
        uint32_t bits;
        std::memcpy(&bits, &f, sizeof bits);
        out += fmt::format(" {:08x}", bits);
      }
    }
    out += "]";
  }
  return out;
}

struct both {
  bool fast_taken = false;
  std::string fast, ordinary;
};

both decode_both(const std::string& body, index::metric_kind metric = index::metric_kind::l2) {
  auto cfg = one_vector_config(3, metric);
  rest_limits limits;
  std::string text = body;
  text.reserve(text.size() + simdjson::SIMDJSON_PADDING);  // as the session keeps bodies
  both out;
  if (auto fast = parse_vector_list_body_fast(
          text, {"points", "vector", 3, limits.max_points_per_request, "batch", "vectors"})) {
    out.fast_taken = true;
    out.fast =
        outcome(decode_upsert(fast->doc, cfg, limits, &fast->vectors,
                              fast->from_columns ? upsert_form::batch : upsert_form::points));
  }
  auto doc = parse_json(text, text.capacity() - text.size());
  out.ordinary = doc ? outcome(decode_upsert(*doc, cfg, limits))
                     : fmt::format("parse error: {}", doc.error().message);
  if (!out.fast_taken) out.fast = out.ordinary;
  return out;
}

TEST(VectorListBody, PlainListsTakeTheFastPathAndDecodeAlike) {
  for (
      auto body : {
          R"({"points":[{"id":1,"vector":[0.5,-1,2e-3]}]})",
          R"({"points":[{"id":1,"vector":[1,2,3],"payload":{"a":[1,2],"b":"]"}},)"
          R"({"payload":{"x":{"y":[4]}},"vector":[0.30000000000000004,2,3],"id":2}]})",
          R"( { "points" : [ { "id" : "5c56c793-69f3-4fbf-87e6-c4bf54c28c26" , "vector" : [ 1 , 2 , 3 ] } ] } )",
          R"({"points":[{"id":1,"vector":[1,2,3]},{"id":1,"vector":[4,5,6]}]})",  // the last wins
          R"({"points":[{"id":1,"vector":[1,2,3]},{"id":2,"vector":{"":[1,2,3]}}]})",
          R"({"points":[{"id":1,"vector":[1,2,3]}],"shard_key":null})",
      }) {
    auto r = decode_both(body);
    EXPECT_TRUE(r.fast_taken) << body;
    EXPECT_EQ(r.fast, r.ordinary) << body;
    EXPECT_EQ(r.fast.rfind("[", 0), 0u) << body << " -> " << r.fast;
  }
}

TEST(VectorListBody, ErrorsAreTheOrdinaryErrors) {
  // Taken or not, the answer is the ordinary one.
  for (auto body : {
           R"({"points":[{"id":1,"vector":[1,2]}]})",
           R"({"points":[{"id":1,"vector":[1,2,3,4]}]})",
           R"({"points":[{"id":1,"vector":[1,2,3]},{"vector":[1,2,3]}]})",
           R"({"points":[{"id":-1,"vector":[1,2,3]}]})",
           R"({"points":[{"id":1,"vector":[1,2,3]},7]})",
           R"({"points":[{"id":1,"vector":[1,2,3],"payload":[1]}]})",
           R"({"points":[{"id":1,"vector":[1,2,3]},{"id":2,"vector":{"other":[1]}}]})",
       }) {
    auto r = decode_both(body);
    EXPECT_EQ(r.fast, r.ordinary) << body;
    EXPECT_EQ(r.ordinary.rfind("error", 0), 0u) << body << " -> " << r.ordinary;
  }
  // Cosine refuses a zero vector either way.
  auto zero = decode_both(R"({"points":[{"id":1,"vector":[0,0,0]}]})", index::metric_kind::cosine);
  EXPECT_TRUE(zero.fast_taken);
  EXPECT_EQ(zero.fast, zero.ordinary);
  EXPECT_EQ(zero.ordinary.rfind("error", 0), 0u);
}

TEST(VectorListBody, AnythingButThePlainCaseStepsAside) {
  for (auto body : {
           R"({"points":[{"id":1,"vector":[1,2,"3"]}]})",                 // not a number
           R"({"points":[{"id":1,"vector":[1,2,1e39]}]})",                // not a finite float
           R"({"points":[{"id":1,"vector":[1,2,3,4,5]}]})",               // beyond the largest
           R"({"points":[{"id":1,"vector":[1,2,3],"vector":[1,2,3]}]})",  // repeated field
           R"({"points":[{"id":1,"vector":[1,2,3]}],"points":[]})",       // repeated list
           R"({"points":[{"id":1,"vector":[1,2,3]} {"id":2}]})",          // a missing comma
           R"({"points":[{"id":1,"vector":[1,2,3]},]})",                  // a trailing comma
           R"({"points":[{"id":1,"vector":[1,2,3]}]} x)",                 // more after it
           R"({"points":[{"id":1,"vector":[1,2,3]})",                     // unterminated
           R"({"points":[{"id":1,"vector":{"":[1,2,3]}}]})",              // no plain vector
           R"({"points":[]})",
           "",
       }) {
    auto r = decode_both(body);
    EXPECT_FALSE(r.fast_taken) << body;
    EXPECT_EQ(r.fast, r.ordinary) << body;
  }
  // More points than a request may carry: the ordinary path reports the limit.
  std::string two = R"({"points":[{"id":1,"vector":[1,2,3]},{"id":2}]})";
  EXPECT_FALSE(parse_vector_list_body_fast(two, {"points", "vector", 3, 1}));
  EXPECT_TRUE(parse_vector_list_body_fast(two, {"points", "vector", 3, 2}));
}

// The column form of upserts ({"batch": {"ids", "vectors", "payloads"}}): the same outcomes.
TEST(VectorListBody, BatchFormUpsertsDecodeAlike) {
  for (auto body : {
           R"({"batch":{"ids":[1],"vectors":[[0.5,-1,2e-3]]}})",
           R"({"batch":{"ids":[1,"5c56c793-69f3-4fbf-87e6-c4bf54c28c26"],)"
           R"("vectors":[[1,2,3],[0.30000000000000004,2,3]],"payloads":[{"a":[1]},null]}})",
           R"({"batch":{"vectors":[[1,2,3],[4,5,6]],"ids":[7,7]}})",  // the last wins
           R"({"batch":{"ids":[1,2],"vectors":[[1,2,3],null]}})",     // no vector for 2
           R"( { "batch" : { "ids" : [ 1 ] , "vectors" : [ [ 1 , 2 , 3 ] ] } } )",
       }) {
    auto r = decode_both(body);
    EXPECT_TRUE(r.fast_taken) << body;
    EXPECT_EQ(r.fast, r.ordinary) << body;
    EXPECT_EQ(r.fast.rfind("[", 0), 0u) << body << " -> " << r.fast;
  }
  for (auto body : {
           R"({"batch":{"ids":[1],"vectors":[[1,2]]}})",            // wrong dimension
           R"({"batch":{"ids":[1,2],"vectors":[[1,2,3]]}})",        // fewer vectors than ids
           R"({"batch":{"ids":[1],"vectors":[[1,2,3],[4,5,6]]}})",  // more
           R"({"batch":{"ids":[-1],"vectors":[[1,2,3]]}})",         // a bad id
           R"({"batch":{"vectors":[[1,2,3]]}})",                    // no ids
           R"({"batch":{"ids":[1],"vectors":[[1,2,3]],"payloads":7}})",
           R"({"batch":{"ids":[1,2],"vectors":[[1,2,3],{"a":1}]}})",  // not a vector
       }) {
    auto r = decode_both(body);
    EXPECT_EQ(r.fast, r.ordinary) << body;
    EXPECT_EQ(r.ordinary.rfind("error", 0), 0u) << body << " -> " << r.ordinary;
  }
  auto zero =
      decode_both(R"({"batch":{"ids":[1],"vectors":[[0,0,0]]}})", index::metric_kind::cosine);
  EXPECT_TRUE(zero.fast_taken);
  EXPECT_EQ(zero.fast, zero.ordinary);
  EXPECT_EQ(zero.ordinary.rfind("error", 0), 0u);
  for (auto body : {
           R"({"batch":{"ids":[1],"vectors":{"":[[1,2,3]]}}})",          // named columns
           R"({"batch":{"ids":[1],"vectors":[[1,2,"3"]]}})",             // not a number
           R"({"batch":{"ids":[1],"vectors":[[1,2,3]]},"points":[]})",   // both forms
           R"({"points":[{"id":1,"vector":[1,2,3]}],"batch":{}})",       // both forms
           R"({"batch":{"ids":[1],"vectors":[[1,2,3]],"vectors":[]}})",  // repeated column
           R"({"batch":{"ids":[1],"vectors":[]}})",                      // nothing to read
           R"({"batch":[{"ids":[1],"vectors":[[1,2,3]]}]})",             // not an object
       }) {
    auto r = decode_both(body);
    EXPECT_FALSE(r.fast_taken) << body;
    EXPECT_EQ(r.fast, r.ordinary) << body;
  }
  // Without a column form in the shape, the batch form takes the ordinary path.
  std::string batch = R"({"batch":{"ids":[1],"vectors":[[1,2,3]]}})";
  EXPECT_FALSE(parse_vector_list_body_fast(batch, {"points", "vector", 3, 10}));
  EXPECT_FALSE(parse_vector_list_body_fast(batch, {"points", "vector", 3, 0, "batch", "vectors"}));
}

/// A decoded batch of searches in a comparable form (vectors bit for bit), or the error.
std::string outcome(const data::decoded<std::vector<parsed_search>>& r) {
  if (!r) return fmt::format("error {}: {}", int(r.error().k), r.error().message);
  std::string out;
  for (const auto& s : *r) {
    out += fmt::format("[kind {} limit {} ef {}", int(s.k), s.q.limit, s.q.ef);
    for (float f : s.q.vector) {
      uint32_t bits;
      std::memcpy(&bits, &f, sizeof bits);
      out += fmt::format(" {:08x}", bits);
    }
    out += "]";
  }
  return out;
}

both decode_batch_both(const std::string& body, bool legacy) {
  auto cfg = one_vector_config(3, index::metric_kind::l2);
  rest_limits limits;
  std::string text = body;
  text.reserve(text.size() + simdjson::SIMDJSON_PADDING);
  both out;
  vector_list_shape shape{"searches", legacy ? "vector" : "query", 3, limits.max_batch_searches};
  if (auto fast = parse_vector_list_body_fast(text, shape)) {
    out.fast_taken = true;
    out.fast = outcome(decode_batch(fast->doc, cfg, limits, legacy, &fast->vectors));
  }
  auto doc = parse_json(text, text.capacity() - text.size());
  out.ordinary = doc ? outcome(decode_batch(*doc, cfg, limits, legacy))
                     : fmt::format("parse error: {}", doc.error().message);
  if (!out.fast_taken) out.fast = out.ordinary;
  return out;
}

TEST(VectorListBody, BatchSearchesDecodeAlike) {
  auto plain = decode_batch_both(
      R"({"searches":[{"query":[1,2,3],"limit":2},{"query":17},{"limit":1,"query":[0.1,-2,3e2]}]})",
      false);
  EXPECT_TRUE(plain.fast_taken);
  EXPECT_EQ(plain.fast, plain.ordinary);
  EXPECT_EQ(plain.fast.rfind("[", 0), 0u) << plain.fast;
  auto legacy = decode_batch_both(R"({"searches":[{"vector":[1,2,3],"limit":2}]})", true);
  EXPECT_TRUE(legacy.fast_taken);
  EXPECT_EQ(legacy.fast, legacy.ordinary);
  for (auto body : {
           R"({"searches":[{"query":[1,2,3]},{"query":[1,2]}]})",  // dimension
           R"({"searches":[{"query":[1,2,3],"limit":0}]})",        // validation
       }) {
    auto r = decode_batch_both(body, false);
    EXPECT_TRUE(r.fast_taken) << body;
    EXPECT_EQ(r.fast, r.ordinary) << body;
    EXPECT_EQ(r.ordinary.rfind("error", 0), 0u) << body << " -> " << r.ordinary;
  }
  for (auto body : {
           R"({"searches":[{"query":[1,2,3],"query":[1,2,3]}]})",  // repeated key
           R"({"searches":[{"query":[1,2,"3"]}]})",                // not a number
           R"({"searches":[{"query":{"nearest":[1,2,3]}}]})",      // not plain
       }) {
    EXPECT_FALSE(decode_batch_both(body, false).fast_taken) << body;
  }
}

}  // namespace
}  // namespace shoal::rest
