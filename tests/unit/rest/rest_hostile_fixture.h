#pragma once
// Hostile input over HTTP (issue #8, deliverable 5): malformed JSON, wrong types, non-finite and
// huge numbers, wrong dimensions, invalid UTF-8, repeated keys, deep nesting, oversized
// everything, path tricks, bad snapshot names and broken HTTP. Every request gets a 4xx in the
// error envelope (never a 5xx, a crash or a hang: every read has a timeout), the server keeps
// serving, and the data written before is intact: count, every point with its payload and
// vector, and a search give the same answer before and after each barrage.
//
// One server for the whole suite, with small limits so that going over them is cheap.

#include <chrono>
#include <string>
#include <vector>

#include "tests/unit/rest/rest_test_util.h"

namespace shoal::test {

using namespace std::chrono_literals;

inline rest::rest_limits small_limits() {
  rest::rest_limits l;
  l.max_points_per_request = 100;
  l.max_batch_searches = 8;
  l.max_limit = 1000;
  l.points_body_limit = 256 * 1024;
  l.max_json_depth = 32;
  l.max_filter_conditions = 16;
  l.max_filter_depth = 4;
  l.max_payload_bytes = 2048;
  l.max_payload_keys = 32;
  l.max_key_length = 64;
  l.max_vector_size = 1024;
  l.max_named_vectors = 4;
  return l;
}

inline http::http_config small_http() {
  http::http_config h;
  h.default_body_limit = 64 * 1024;
  h.header_limit = 8 * 1024;
  h.header_timeout = 500ms;
  h.body_timeout = 500ms;
  return h;
}

inline constexpr int kPoints = 40;

inline std::string point_json(int i) {
  return fmt::format(
      R"({{"id":{},"vector":[{},{},{},{}],"payload":{{"n":{},"tag":"t{}","text":"point {}"}}}})", i,
      i % 7, i % 5 + 1, i % 3, i * 0.25, i, i % 3, i);
}

/// 4xx, JSON, the error envelope with a message.
inline ::testing::AssertionResult refused(const rest_reply& r) {
  if (r.status < 400 || r.status > 499) {
    return ::testing::AssertionFailure() << "HTTP " << r.status << ": " << r.body;
  }
  return is_error(r, r.status);
}

class RestHostile : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = new rest_server(small_limits(), small_http());
    auto& s = *server_;
    ASSERT_TRUE(is_ok(s.put("/collections/c", R"({"vectors":{"size":4,"distance":"Euclid"}})")));
    ASSERT_TRUE(is_ok(s.put("/collections/cos", R"({"vectors":{"size":4,"distance":"Cosine"}})")));
    ASSERT_TRUE(
        is_ok(s.put("/collections/c/index", R"({"field_name":"tag","field_schema":"keyword"})")));
    std::string body = R"({"points":[)";
    for (int i = 0; i < kPoints; ++i) body += (i ? "," : "") + point_json(i);
    body += R"(,{"id":"550e8400-e29b-41d4-a716-446655440000","vector":[9,9,9,9],"payload":{}}]})";
    ASSERT_TRUE(is_ok(s.put("/collections/c/points?wait=true", body)));
    baseline_ = new std::string(state());
  }
  static void TearDownTestSuite() {
    delete server_;
    delete baseline_;
    server_ = nullptr;
  }

  /// Everything a barrage must not change, as text.
  static std::string state() {
    auto& s = *server_;
    std::string out;
    auto count = s.post("/collections/c/points/count", R"({"exact":true})");
    EXPECT_TRUE(is_ok(count));
    out += std::string(simdjson::minify(result(count))) + "\n";
    auto all = s.post("/collections/c/points/scroll",
                      R"({"limit":1000,"with_payload":true,"with_vector":true})");
    EXPECT_TRUE(is_ok(all));
    out += std::string(simdjson::minify(result(all))) + "\n";
    auto near = s.post("/collections/c/points/query",
                       R"({"query":[1,2,1,3],"limit":10,"with_payload":true,
                           "params":{"exact":true}})");
    EXPECT_TRUE(is_ok(near));
    out += std::string(simdjson::minify(result(near))) + "\n";
    auto tagged =
        s.post("/collections/c/points/count",
               R"({"exact":true,"filter":{"must":[{"key":"tag","match":{"value":"t1"}}]}})");
    EXPECT_TRUE(is_ok(tagged));
    out += std::string(simdjson::minify(result(tagged)));
    return out;
  }

  /// The server still answers a valid request, and nothing written before changed.
  static void expect_intact() {
    auto& s = *server_;
    auto health = s.get("/healthz");
    EXPECT_EQ(health.status, 200u) << health.body;
    auto now = state();
    if (now != *baseline_) {
      size_t at = 0;
      while (at < now.size() && at < baseline_->size() && now[at] == (*baseline_)[at]) ++at;
      size_t from = at < 80 ? 0 : at - 80;
      ADD_FAILURE() << "data changed at byte " << at
                    << ":\n  before: " << baseline_->substr(from, 200)
                    << "\n  after:  " << now.substr(from, 200);
    }
  }

  rest_server& s() { return *server_; }

  inline static rest_server* server_ = nullptr;
  inline static std::string* baseline_ = nullptr;
};

struct route {
  boost::beast::http::verb method;
  const char* target;
};

/// Every route that reads a JSON body, on the collections of the suite.
inline const std::vector<route>& body_routes() {
  using v = boost::beast::http::verb;
  static const std::vector<route> routes = {
      {v::put, "/collections/c/points"},
      {v::post, "/collections/c/points"},
      {v::post, "/collections/c/points/delete"},
      {v::post, "/collections/c/points/payload"},
      {v::put, "/collections/c/points/payload"},
      {v::post, "/collections/c/points/payload/delete"},
      {v::post, "/collections/c/points/payload/clear"},
      {v::post, "/collections/c/points/batch"},
      {v::post, "/collections/c/points/scroll"},
      {v::post, "/collections/c/points/count"},
      {v::post, "/collections/c/points/search"},
      {v::post, "/collections/c/points/search/batch"},
      {v::post, "/collections/c/points/query"},
      {v::post, "/collections/c/points/query/batch"},
      {v::put, "/collections/fresh"},
      {v::put, "/collections/c/index"},
      {v::patch, "/collections/c"},
      {v::put, "/collections/c/snapshots/recover"},
  };
  return routes;
}

}  // namespace shoal::test
