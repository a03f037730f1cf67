// The single-search fast path (net/rest/search_body.h): the query vector read straight from the
// text must give exactly what the ordinary parse gives, the same search or the same error, and
// must step aside for everything but the plain case.
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <gtest/gtest.h>

#include "net/rest/requests.h"
#include "net/rest/rest_io.h"
#include "net/rest/search_body.h"
#include "tests/unit/rest/one_vector_config.h"

namespace shoal::rest {
namespace {

/// A decoded search in a comparable form, or its error.
std::string outcome(const data::decoded<parsed_search>& r) {
  if (!r) return fmt::format("error {}: {}", int(r.error().k), r.error().message);
  const auto& s = *r;
  return fmt::format(
      "kind {} name '{}' vector [{}] limit {} offset {} ef {} exact {} threshold {} filter {} "
      "payload {} vector-sel {}",
      int(s.k), s.q.vector_name, fmt::join(s.q.vector, ","), s.q.limit, s.offset, s.q.ef, s.q.exact,
      s.q.score_threshold ? fmt::format("{}", *s.q.score_threshold) : "none", s.q.filter != nullptr,
      int(s.q.with_payload.m) * 1000 + int(s.q.with_payload.paths.size()),
      fmt::format("{}:{}", s.q.with_vector.all, fmt::join(s.q.with_vector.names, ",")));
}

struct both {
  bool fast_taken = false;
  std::string fast, ordinary;
};

both decode_both(const std::string& body, bool legacy,
                 index::metric_kind metric = index::metric_kind::cosine) {
  auto cfg = one_vector_config(4, metric);
  rest_limits limits;
  std::string text = body;
  text.reserve(text.size() + simdjson::SIMDJSON_PADDING);  // as the session keeps bodies
  size_t spare = text.capacity() - text.size();
  std::string_view field = legacy ? "vector" : "query";
  both out;
  if (auto fast = parse_search_body_fast(text, field, 1024)) {
    out.fast_taken = true;
    out.fast = outcome(decode_search(fast->doc, cfg, limits, "", legacy, &*fast->vector));
  }
  auto doc = parse_json(text, spare);
  out.ordinary = doc ? outcome(decode_search(*doc, cfg, limits, "", legacy))
                     : fmt::format("parse error: {}", doc.error().message);
  if (!out.fast_taken) out.fast = out.ordinary;
  return out;
}

TEST(SearchBody, PlainBodiesTakeTheFastPathAndDecodeAlike) {
  for (
      auto body : {
          R"({"query":[0.5,-1,2e-3,4],"limit":3})",
          R"({"limit":7,"query":[1,2,3,4],"params":{"hnsw_ef":99,"exact":true},"offset":2})",
          R"(  {"query": [ 1.25 , 2 , 3 , 4 ] , "with_payload": ["a", "b.c"], "with_vector": true} )",
          R"({"query":[1,2,3,4],"filter":{"must":[{"key":"k","match":{"value":"v"}}]},)"
          R"("score_threshold":0.25,"using":""})",
          R"({"query":[1e38,-1e38,0.1,1],"with_payload":{"exclude":["x"]}})",
          R"({"que\"ry":{"a":[1,"]"]},"query":[1,2,3,4]})",  // escapes and brackets before it
      }) {
    auto r = decode_both(body, false);
    EXPECT_TRUE(r.fast_taken) << body;
    EXPECT_EQ(r.fast, r.ordinary) << body;
    EXPECT_EQ(r.fast.rfind("kind 0", 0), 0u) << r.fast;
  }
  auto legacy = decode_both(R"({"vector":[4,3,2,1],"limit":2,"with_payload":true})", true);
  EXPECT_TRUE(legacy.fast_taken);
  EXPECT_EQ(legacy.fast, legacy.ordinary);
}

TEST(SearchBody, ErrorsOfTheVectorAreTheOrdinaryErrors) {
  // Taken or not, the answer is the ordinary one: dimension, Cosine's zero vector, and errors of
  // other fields found while the vector was fine.
  for (auto body : {
           R"({"query":[1,2,3]})",
           R"({"query":[1,2,3,4,5,6]})",
           R"({"query":[0,0,0,0]})",
           R"({"query":[1,2,3,4],"limit":0})",
           R"({"query":[1,2,3,4],"params":{"hnsw_ef":"x"}})",
           R"({"query":[1,2,3,4],"using":"nope"})",
           R"({"query":[1,2,3,4],"filter":{"must":[{"key":"k"}]}})",
           R"({"query":[1,2,3,4],"prefetch":[]})",
       }) {
    auto r = decode_both(body, false);
    EXPECT_EQ(r.fast, r.ordinary) << body;
    EXPECT_EQ(r.ordinary.rfind("error", 0), 0u) << body << " -> " << r.ordinary;
  }
}

TEST(SearchBody, AnythingButThePlainCaseStepsAside) {
  for (auto body : {
           R"({"query":[1,2,"3",4]})",                       // not a number
           R"({"query":[1,2,3,1e39]})",                      // not a finite float
           R"({"query":[1,2,3,18446744073709551616]})",      // an integer beyond 64 bits
           R"({"query":[1,2,3,1e400]})",                     // beyond a double
           R"({"query":[1,2,3,01]})",                        // not JSON's number syntax
           R"({"query":[1,2,3,[4]]})",                       // nested
           R"({"query":[1,2,3,4],"query":[1,2,3,4]})",       // repeated vector field
           R"({"query":[1,2,3,4],"limit":1,"limit":2})",     // repeated field
           R"({"query":[1,2,3,4],"filter":{"a":1,"a":2}})",  // repeated key below
           R"({"query":[1,2,3,4],"a{":"b":[1]},"c":1})",     // found by the fuzzer: not JSON
           R"({"query":[1,2,3,4],"a":"b":"c"})",             // a stray colon
           R"({"query":[1,2,3,4] "limit":3})",               // a missing comma between fields
           R"({"query":[1 2,3,4]})",                         // ... between numbers
           R"({"query":[1,2,3,4,]})",                        // a trailing comma
           R"({"query":[1,2,3,4],})",                        // ... after the last field
           R"({"query":[1,2,3,4],,"limit":3})",              // a doubled comma
           R"({"query"[1,2,3,4]})",                          // no colon
           R"({"query":[1,2,3,4]} x)",                       // more after the object
           R"({"query":[1,2,3,4])",                          // unterminated
           R"({"query":{"nearest":[1,2,3,4]}})",             // not an array: the ordinary way
           R"({"\u0071uery":[1,2,3,4]})",                    // the field's name escaped
           R"({"limit":3})",                                 // no vector
           R"([1,2,3,4])",                                   // not an object
           "",                                               // empty
       }) {
    auto r = decode_both(body, false);
    EXPECT_FALSE(r.fast_taken) << body;
  }
  // More numbers than the collection's largest vector: the ordinary path reports the dimension.
  EXPECT_FALSE(parse_search_body_fast(R"({"query":[1,2,3,4]})", "query", 3));
  EXPECT_TRUE(parse_search_body_fast(R"({"query":[1,2,3,4]})", "query", 4));
}

TEST(SearchBody, NumbersReadAsTheDomReadsThem) {
  // Found by the fuzzer: simdjson 3.0.1's On-Demand get_number reads a float with more than 19
  // digits as 0. Long mantissas, big exponents and 64-bit integers must give the same floats.
  for (auto body : {
           R"({"query":[184467440737095516.5e-10,1234567890123456789e-3,1,1]})",
           R"({"query":[-9223372036854775808,18446744073709551615,0.1,-0]})",
           R"({"query":[3.4028234e38,-3.4028234e38,1e-45,1234567890123456789e-18]})",
       }) {
    auto r = decode_both(body, false);
    EXPECT_TRUE(r.fast_taken) << body;
    EXPECT_EQ(r.fast, r.ordinary) << body;
  }
  auto r = decode_both(R"({"query":[0,0,-93680877,184467440737095516158e30]})", false);
  EXPECT_FALSE(r.fast_taken);  // 1.8e50 is not a finite float
  // More than 19 digits in a float's mantissa (simdjson 3.0.1's On-Demand read 0.911... as
  // 8.05e-06): read correctly rounded, as the DOM reads it.
  auto long_mantissa =
      decode_both(R"({"query":[1,111111111112,0.911111191100002116577526,1]})", false);
  EXPECT_TRUE(long_mantissa.fast_taken);
  EXPECT_EQ(long_mantissa.fast, long_mantissa.ordinary);
  auto seventeen = decode_both(R"({"query":[0.12345678901234568,1,1,1]})", false);
  EXPECT_TRUE(seventeen.fast_taken);
  EXPECT_EQ(seventeen.fast, seventeen.ordinary);
}

TEST(SearchBody, EuclidKeepsZeroVectorsAndIntegers) {
  auto r = decode_both(R"({"query":[0,0,0,0],"limit":1})", false, index::metric_kind::l2);
  EXPECT_TRUE(r.fast_taken);
  EXPECT_EQ(r.fast, r.ordinary);
  EXPECT_EQ(r.fast.rfind("kind 0", 0), 0u) << r.fast;
}

}  // namespace
}  // namespace shoal::rest
