// Hostile input over HTTP (issue #8, deliverable 5): malformed JSON, wrong types, non-finite and
// huge numbers, wrong dimensions, invalid UTF-8, repeated keys, deep nesting, oversized
// everything, path tricks, bad snapshot names and broken HTTP. Every request gets a 4xx in the
// error envelope (never a 5xx, a crash or a hang: every read has a timeout), the server keeps
// serving, and the data written before is intact: count, every point with its payload and
// vector, and a search give the same answer before and after each barrage.
//
// One server for the whole suite, with small limits so that going over them is cheap.

#include <random>

#include "tests/unit/rest/rest_test_util.h"

namespace shoal::test {
namespace {

using namespace std::chrono_literals;

rest::rest_limits small_limits() {
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

http::http_config small_http() {
  http::http_config h;
  h.default_body_limit = 64 * 1024;
  h.header_limit = 8 * 1024;
  h.header_timeout = 500ms;
  h.body_timeout = 500ms;
  return h;
}

constexpr int kPoints = 40;

std::string point_json(int i) {
  return fmt::format(
      R"({{"id":{},"vector":[{},{},{},{}],"payload":{{"n":{},"tag":"t{}","text":"point {}"}}}})", i,
      i % 7, i % 5 + 1, i % 3, i * 0.25, i, i % 3, i);
}

/// 4xx, JSON, the error envelope with a message.
::testing::AssertionResult refused(const rest_reply& r) {
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

  static rest_server* server_;
  static std::string* baseline_;
};

rest_server* RestHostile::server_ = nullptr;
std::string* RestHostile::baseline_ = nullptr;

struct route {
  boost::beast::http::verb method;
  const char* target;
};

/// Every route that reads a JSON body, on the collections of the suite.
const std::vector<route>& body_routes() {
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

TEST_F(RestHostile, MalformedJsonIsA400OnEveryRoute) {
  std::vector<std::string> bodies = {
      "{",
      R"({"points":[)",
      "}",
      "[1,2",
      "nul",
      "tru",
      R"({"a":})",
      R"({"a" 1})",
      "{'a':1}",
      R"({"a":1,})",
      "[1,]",
      "{}{}",
      "{} x",
      R"("unterminated)",
      R"({"a":"\x"})",
      R"({"a":"\uD800"})",
      "a=1&b=2",
      "<points><point id=\"1\"/></points>",
      "NaN",
      std::string("\0\x01\x02", 3),
      "{\"a\":\"\xFF\"}",
      "{\"\xC3\x28\":1}",
      "[\"\xED\xA0\x80\"]",
  };
  std::mt19937 rng(8);
  for (int i = 0; i < 4; ++i) {
    std::string garbage(200 + i * 300, '\0');
    for (auto& c : garbage) c = static_cast<char>(rng() & 0xff);
    garbage[0] = '{';
    bodies.push_back(garbage);
  }
  for (auto& rt : body_routes()) {
    for (auto& b : bodies) {
      auto r = s().call(rt.method, rt.target, b);
      EXPECT_TRUE(is_error(r, 400)) << rt.target << " <- " << b;
    }
  }
  // Not JSON at all, whatever the content type says.
  std::map<std::string, std::string> form{{"Content-Type", "application/x-www-form-urlencoded"}};
  http_client raw(s().port(), 5s);
  auto r = raw.request(boost::beast::http::verb::post, "/collections/c/points/count", "exact=true",
                       form);
  EXPECT_EQ(r.status, 400u) << r.body;
  expect_intact();
}

TEST_F(RestHostile, WrongTypesForEveryFieldKindAre4xx) {
  const std::vector<std::pair<const char*, std::vector<std::string>>> cases = {
      {"PUT /collections/c/points",
       {R"({"points":"x"})",
        R"({"points":[1]})",
        R"({"points":{}})",
        R"({"points":[{"id":true,"vector":[1,2,3,4]}]})",
        R"({"points":[{"id":null,"vector":[1,2,3,4]}]})",
        R"({"points":[{"id":{},"vector":[1,2,3,4]}]})",
        R"({"points":[{"id":[1],"vector":[1,2,3,4]}]})",
        R"({"points":[{"id":1.5,"vector":[1,2,3,4]}]})",
        R"({"points":[{"id":-1,"vector":[1,2,3,4]}]})",
        R"({"points":[{"id":"not-a-uuid","vector":[1,2,3,4]}]})",
        R"({"points":[{"id":1,"vector":"1,2,3,4"}]})",
        R"({"points":[{"id":1,"vector":[[1],[2],[3],[4]]}]})",
        R"({"points":[{"id":1,"vector":[true,false,true,false]}]})",
        R"({"points":[{"id":1,"vector":["1","2","3","4"]}]})",
        R"({"points":[{"id":1,"vector":[1,2,3,4],"payload":1}]})",
        R"({"points":[{"id":1,"vector":[1,2,3,4],"payload":"x"}]})",
        R"({"points":[{"id":1,"vector":[1,2,3,4],"payload":[]}]})",
        R"({"points":[{"id":1,"vector":[1,2,3,4],"payload":true}]})",
        R"({"points":[{"id":1}]})",
        R"({"points":[{"vector":[1,2,3,4]}]})",
        R"({"batch":[]})",
        R"({"batch":{"ids":"1","vectors":[]}})",
        R"({"batch":{"ids":[1,2],"vectors":[[1,2,3,4]]}})",
        R"({"batch":{"ids":[1],"vectors":"x"}})",
        R"({"batch":{"ids":[1],"vectors":[[1,2,3,4]],"payloads":{}}})",
        R"({"batch":{"ids":[1],"vectors":[[1,2,3,4]],"payloads":[1]}})",
        R"({"nothing":1})",
        "[]",
        "7",
        R"("points")",
        "null",
        ""}},
      {"POST /collections/c/points",
       {R"({"ids":"1"})", R"({"ids":[true]})", R"({"ids":[1],"with_payload":5})",
        R"({"ids":[1],"with_vector":"yes"})", R"({"ids":[1],"with_payload":{"include":5}})",
        R"({"ids":[1],"with_payload":[5]})", R"({})"}},
      {"POST /collections/c/points/delete",
       {R"({"points":"x"})", R"({"points":[{}]})", R"({"filter":5})", R"({"filter":{"must":5}})",
        R"({})"}},
      {"POST /collections/c/points/payload",
       {R"({"payload":[],"points":[1]})", R"({"payload":{"a":1},"points":[-1]})",
        R"({"payload":{"a":1},"points":[1],"key":5})", R"({"payload":{"a":1}})",
        R"({"points":[1]})", R"({"payload":{"a":1},"points":[1],"key":"a..b"})"}},
      {"POST /collections/c/points/payload/delete",
       {R"({"keys":"a","points":[1]})", R"({"keys":[1],"points":[1]})", R"({"keys":["a"]})"}},
      {"POST /collections/c/points/batch",
       {R"({"operations":{}})", R"({"operations":[{"upsert":5}]})",
        R"({"operations":[{"nope":{}}]})", R"({"operations":[{}]})",
        R"({"operations":[{"delete":{"points":[1]},"upsert":{}}]})", R"({"operations":[5]})",
        R"({"operations":[{"delete":{"points":[1]}},{"upsert":{"points":[{"id":1,"vector":[1]}]}}]})",
        R"({"operations":[{"update_vectors":{}}]})"}},
      {"POST /collections/c/points/scroll",
       {R"({"limit":"10"})", R"({"limit":-1})", R"({"limit":1.5})", R"({"limit":0})",
        R"({"offset":{}})", R"({"offset":-3})", R"({"filter":[]})", R"({"with_payload":7})",
        R"({"order_by":"n"})"}},
      {"POST /collections/c/points/count",
       {R"({"exact":"yes"})", R"({"filter":"tag"})",
        R"({"filter":{"should":[{"key":5,"match":{"value":1}}]}})"}},
      {"POST /collections/c/points/search",
       {R"({"vector":"x","limit":1})", R"({"vector":[1,2,3,4]})",
        R"({"vector":[1,2,3,4],"limit":"1"})", R"({"vector":[1,2,3,4],"limit":1,"offset":-1})",
        R"({"vector":[1,2,3,4],"limit":1,"params":"x"})",
        R"({"vector":[1,2,3,4],"limit":1,"params":{"hnsw_ef":-1}})",
        R"({"vector":[1,2,3,4],"limit":1,"params":{"exact":"yes"}})",
        R"({"vector":[1,2,3,4],"limit":1,"score_threshold":"x"})",
        R"({"vector":{"name":5,"vector":[1,2,3,4]},"limit":1})",
        R"({"vector":[1,2,3,4],"limit":1,"filter":{"must":[{"key":"n","range":{"gt":"a"}}]}})",
        R"({"vector":[1,2,3,4],"limit":1,"filter":{"must":[{"key":"n","match":{"value":1.5}}]}})",
        R"({"vector":[1,2,3,4],"limit":1,"filter":{"must":[{"key":"n","match":{"value":{}}}]}})",
        R"({"vector":[1,2,3,4],"limit":1,"filter":{"must":[{"key":"n","match":{"any":"a"}}]}})",
        R"({"vector":[1,2,3,4],"limit":1,"filter":{"must":[{"key":"n"}]}})",
        R"({"vector":[1,2,3,4],"limit":1,"filter":{"must":[{"has_id":"1"}]}})",
        R"({"vector":[1,2,3,4],"limit":1,"filter":{"must":[{"is_empty":"n"}]}})",
        R"({"vector":[1,2,3,4],"limit":1,"filter":{"must":[{"key":"n","geo_radius":{}}]}})",
        R"({"vector":[1,2,3,4],"limit":1,"filter":{"nope":[]}})"}},
      {"POST /collections/c/points/query",
       {R"({"query":true})", R"({"query":{"nearest":"x"}})",
        R"({"query":{"nearest":{"indices":[1],"values":[1]}}})", R"({"query":[1,2,3,4],"using":5})",
        R"({"query":{"recommend":{}}})", R"({"query":{}})", R"({"query":[1,2,3,4],"prefetch":[]})",
        R"({"query":[1,2,3,4],"with_vector":[5]})", R"({"score_threshold":0.5})"}},
      {"POST /collections/c/points/query/batch",
       {R"({"searches":{}})", R"({"searches":[5]})", R"({"searches":[{"query":"x"}]})", R"({})"}},
      {"POST /collections/c/points/search/batch",
       {R"({"searches":[{"limit":1}]})", R"({"searches":"x"})"}},
      {"PUT /collections/fresh",
       {R"({"vectors":"x"})", R"({"vectors":{"size":"4","distance":"Dot"}})",
        R"({"vectors":{"size":-1,"distance":"Dot"}})",
        R"({"vectors":{"size":1.5,"distance":"Dot"}})", R"({"vectors":{"size":4,"distance":5}})",
        R"({"vectors":{"size":4,"distance":"Nope"}})",
        R"({"vectors":{"size":4,"distance":"Dot"},"shard_number":"x"})",
        R"({"vectors":{"size":4,"distance":"Dot"},"hnsw_config":[]})",
        R"({"vectors":{"size":4,"distance":"Dot"},"on_disk_payload":"yes"})",
        R"({"vectors":{"size":4,"distance":"Dot"},"durability":5})",
        R"({"vectors":{"size":4,"distance":"Dot","index":7}})", R"({"vectors":{"a":5}})",
        R"({"vectors":{"":{"size":4,"distance":"Dot"}}})", R"({"sparse_vectors":[]})",
        R"({"vectors":{"size":4,"distance":"Dot"},"wal_config":5})", R"({})", ""}},
      {"PUT /collections/c/index",
       {R"({"field_name":5,"field_schema":"keyword"})", R"({"field_name":"a","field_schema":5})",
        R"({"field_name":"a","field_schema":"nope"})", R"({"field_name":"a"})",
        R"({"field_name":"a","field_schema":{"type":5}})",
        R"({"field_name":"a[","field_schema":"keyword"})"}},
      {"PUT /collections/c/snapshots/recover",
       {R"({"location":5})", R"({})", R"({"location":"file:///x.snapshot","checksum":5})",
        R"({"location":"ftp://example.com/x.snapshot"})", R"({"location":"file://relative/x"})",
        R"({"location":"file:///etc/passwd"})", R"({"location":"file:///no/such/file.snapshot"})"}},
  };
  for (auto& [route_text, bodies] : cases) {
    std::string_view rt(route_text);
    auto space = rt.find(' ');
    auto method = boost::beast::http::string_to_verb(rt.substr(0, space));
    std::string target(rt.substr(space + 1));
    for (auto& b : bodies) {
      auto r = s().call(method, target, b);
      EXPECT_TRUE(refused(r)) << route_text << " <- " << b;
    }
  }
  EXPECT_EQ(s().get("/collections/fresh").status, 404u) << "no create went through";
  expect_intact();
}

TEST_F(RestHostile, NonFiniteAndHugeNumbersAreRefused) {
  for (auto v : {"[NaN,1,1,1]", "[Infinity,1,1,1]", "[-Infinity,1,1,1]", "[1e400,1,1,1]",
                 "[1e39,1,1,1]", "[-1e39,1,1,1]", "[1,1,1,18446744073709551616]"}) {
    auto body = fmt::format(R"({{"points":[{{"id":1,"vector":{}}}]}})", v);
    EXPECT_TRUE(refused(s().put("/collections/c/points", body))) << v;
    EXPECT_TRUE(
        refused(s().post("/collections/c/points/query", fmt::format(R"({{"query":{}}})", v))))
        << v;
    EXPECT_TRUE(refused(s().put("/collections/c/points",
                                fmt::format(R"({{"batch":{{"ids":[1],"vectors":[{}]}}}})", v))))
        << v;
  }
  // -0 is zero: no direction under Cosine, as 0 is.
  EXPECT_TRUE(is_error(
      s().put("/collections/cos/points", R"({"points":[{"id":1,"vector":[-0,-0.0,0,-0e5]}]})"), 400,
      "zero vector"));
  EXPECT_TRUE(is_error(s().post("/collections/cos/points/query", R"({"query":[-0.0,0,0,-0]})"), 400,
                       "zero vector"));
  for (auto bound : {"1e400", "-1e400", "NaN", "\"1\"", "[]"}) {
    auto f = fmt::format(R"({{"filter":{{"must":[{{"key":"n","range":{{"gt":{}}}}}]}}}})", bound);
    EXPECT_TRUE(refused(s().post("/collections/c/points/count", f))) << bound;
  }
  // Finite extremes are fine as range bounds.
  EXPECT_TRUE(is_ok(s().post(
      "/collections/c/points/count",
      R"({"filter":{"must":[{"key":"n","range":{"gt":-1.7976931348623157e308,"lt":-0.0}}]}})")));
  EXPECT_TRUE(refused(
      s().post("/collections/c/points/query", R"({"query":[1,2,3,4],"score_threshold":1e400})")));

  // Ids, limits and offsets beyond u64, negative or fractional.
  for (auto id : {"18446744073709551616", "-1", "1e20", "1.0", "99999999999999999999999"}) {
    EXPECT_TRUE(refused(s().post("/collections/c/points", fmt::format(R"({{"ids":[{}]}})", id))))
        << id;
    EXPECT_TRUE(
        refused(s().post("/collections/c/points/delete", fmt::format(R"({{"points":[{}]}})", id))))
        << id;
    EXPECT_TRUE(refused(s().get(fmt::format("/collections/c/points/{}", id)))) << id;
  }
  for (auto n : {"18446744073709551616", "-1", "1e20", "0.5"}) {
    EXPECT_TRUE(
        refused(s().post("/collections/c/points/scroll", fmt::format(R"({{"limit":{}}})", n))))
        << n;
    EXPECT_TRUE(refused(s().post("/collections/c/points/query",
                                 fmt::format(R"({{"query":[1,2,3,4],"offset":{}}})", n))))
        << n;
    EXPECT_TRUE(
        refused(s().post("/collections/c/points/query",
                         fmt::format(R"({{"query":[1,2,3,4],"params":{{"hnsw_ef":{}}}}})", n))))
        << n;
  }
  // u64::MAX is a valid id, limit and offset (capped at rest.max-limit): an answer, not a crash
  // and not an allocation of that size.
  EXPECT_TRUE(is_ok(s().post("/collections/c/points", R"({"ids":[18446744073709551615]})")));
  auto big =
      s().post("/collections/c/points/query",
               R"({"query":[1,2,3,4],"limit":18446744073709551615,"offset":18446744073709551615,
                          "params":{"hnsw_ef":18446744073709551615}})");
  ASSERT_TRUE(is_ok(big));
  EXPECT_EQ(result(big)["points"].get_array().size(), 0u);
  EXPECT_TRUE(
      refused(s().put("/collections/fresh",
                      R"({"vectors":{"size":4,"distance":"Dot"},"shard_number":1099511627776})")));
  EXPECT_TRUE(refused(s().put("/collections/fresh",
                              R"({"vectors":{"size":18446744073709551615,"distance":"Dot"}})")));
  // Query parameters.
  for (auto q : {"?wait=maybe", "?timeout=-1", "?timeout=0", "?timeout=99999999999999999999",
                 "?timeout=1e3", "?durability=eventually", "?ordering=chaotic"}) {
    EXPECT_TRUE(refused(s().put(std::string("/collections/c/points") + q,
                                R"({"points":[{"id":1,"vector":[1,1,1,1]}]})")))
        << q;
  }
  for (auto q : {"?timeout=abc", "?consistency=0", "?consistency=some"}) {
    EXPECT_TRUE(refused(s().post(std::string("/collections/c/points/count") + q, "{}"))) << q;
  }
  expect_intact();
}

TEST_F(RestHostile, WrongDimensionsAndUnknownVectorsAre400) {
  for (auto v : {"[]", "[1,2,3]", "[1,2,3,4,5]"}) {
    EXPECT_TRUE(is_error(s().put("/collections/c/points",
                                 fmt::format(R"({{"points":[{{"id":1,"vector":{}}}]}})", v)),
                         400, "Vector dimension error"))
        << v;
    EXPECT_TRUE(
        is_error(s().post("/collections/c/points/query", fmt::format(R"({{"query":{}}})", v)), 400,
                 "Vector dimension error"))
        << v;
  }
  // A vector far longer than the collection's is not copied whole to find that out.
  std::string longv = "[1";
  for (int i = 0; i < 20000; ++i) longv += ",1";
  longv += "]";
  EXPECT_TRUE(
      is_error(s().put("/collections/c/points", R"({"points":[{"id":1,"vector":)" + longv + "}]}"),
               400, "expected dim: 4, got 20001"));
  EXPECT_TRUE(is_error(
      s().put("/collections/c/points", R"({"batch":{"ids":[1,2],"vectors":[[1,2,3,4],[1,2,3]]}})"),
      400, "Vector dimension error"));
  EXPECT_TRUE(is_error(
      s().put("/collections/c/points", R"({"points":[{"id":1,"vector":{"nope":[1,2,3,4]}}]})"), 400,
      "Not existing vector name"));
  EXPECT_TRUE(
      is_error(s().post("/collections/c/points/query", R"({"query":[1,2,3,4],"using":"nope"})"),
               400, "Not existing vector name"));
  EXPECT_TRUE(refused(s().post("/collections/c/points/search/batch",
                               R"({"searches":[{"vector":[1,2,3,4],"limit":1},
                                               {"vector":[1,2],"limit":1}]})")));
  // A batch that is valid up to its last operation writes nothing.
  EXPECT_TRUE(refused(s().post("/collections/c/points/batch",
                               R"({"operations":[{"delete":{"points":[1,2,3]}},
                                   {"upsert":{"points":[{"id":1,"vector":[1,2,3]}]}}]})")));
  EXPECT_TRUE(
      refused(s().put("/collections/c/points",
                      R"({"points":[{"id":5,"vector":[0,0,0,0]},{"id":6,"vector":[1,2]}]})")));
  expect_intact();
}

TEST_F(RestHostile, InvalidUtf8AndPathTricksAreRefusedAndEchoedAsValidJson) {
  // In JSON, invalid UTF-8 is a parse error wherever it is (values, payload keys, names).
  for (auto b : {"{\"points\":[{\"id\":1,\"vector\":[1,1,1,1],\"payload\":{\"k\":\"\xFF\"}}]}",
                 "{\"points\":[{\"id\":1,\"vector\":[1,1,1,1],\"payload\":{\"\xC0\xAF\":1}}]}",
                 "{\"filter\":{\"must\":[{\"key\":\"\xF5\",\"match\":{\"value\":1}}]}}"}) {
    EXPECT_TRUE(is_error(s().put("/collections/c/points", b), 400, "UTF-8")) << b;
  }
  // Collection names: ".." and "/" (raw or percent-encoded), NUL, control bytes, invalid UTF-8,
  // too long.
  const std::string body = R"({"vectors":{"size":4,"distance":"Dot"}})";
  std::string three_byte;
  for (int i = 0; i < 86; ++i) three_byte += "%E2%98%95";  // 258 bytes
  for (auto name : {std::string("%2E%2E"), std::string("."), std::string("a%2Fb"),
                    std::string("a%00b"), std::string("a%0Ab"), std::string("%FF"),
                    std::string("%C3%28"), std::string(256, 'x'), three_byte}) {
    auto r = s().put("/collections/" + name, body);
    EXPECT_TRUE(is_error(r, 422, "collection_name")) << name;
  }
  // Valid UTF-8 is a fine name, up to 255 bytes even when its directory name would be three
  // times that (it was a 500, ENAMETOOLONG); its snapshots work too.
  std::string two_byte;
  for (int i = 0; i < 127; ++i) two_byte += "%C3%A9";  // 254 bytes, 762 percent-encoded
  for (auto name : {std::string("caf%C3%A9"), std::string(255, 'x'), two_byte, two_byte + "x"}) {
    EXPECT_TRUE(is_ok(s().put("/collections/" + name, body))) << name;
    EXPECT_TRUE(is_ok(s().put("/collections/" + name + "/points?wait=true",
                              R"({"points":[{"id":1,"vector":[1,2,3,4]}]})")));
    EXPECT_TRUE(is_ok(s().post("/collections/" + name + "/snapshots?wait=true", "")));
  }
  EXPECT_TRUE(is_error(s().put("/collections/" + two_byte, body), 409)) << "the same name again";
  auto listed = s().get("/collections");
  ASSERT_TRUE(is_ok(listed));
  EXPECT_EQ(result(listed)["collections"].get_array().size(), 6u);
  EXPECT_TRUE(is_ok(s().post("/snapshots?wait=true", ""))) << "full snapshot";
  for (auto name : {std::string("caf%C3%A9"), std::string(255, 'x'), two_byte, two_byte + "x"}) {
    EXPECT_TRUE(is_ok(s().del("/collections/" + name))) << name;
  }
  // Echoed in a message, a name that is not UTF-8 still makes valid JSON (U+FFFD).
  auto missing = s().get("/collections/%FF%FE");
  EXPECT_TRUE(is_error(missing, 404, "\xEF\xBF\xBD"));
  EXPECT_TRUE(refused(s().post("/collections/%FF/points/count", "{}")));
  EXPECT_TRUE(refused(s().get("/collections/c/points/%FF")));
  EXPECT_TRUE(refused(s().put("/collections/c/points/payload?wait=%FF", "{}")));
  // Traversal in the path: no route, or a name no collection has.
  for (auto target : {"/collections/../../etc/passwd", "/collections/..%2F..%2Fetc",
                      "/collections/c/points/..%2F..%2Fcollection.json", "/collections/%zz",
                      "/collections/c/%2e%2e/%2e%2e"}) {
    auto r = s().get(target);
    EXPECT_TRUE(refused(r)) << target;
  }
  expect_intact();
}

TEST_F(RestHostile, RepeatedKeysAreA400Everywhere) {
  struct repeated {
    boost::beast::http::verb method;
    const char* target;
    const char* body;
    const char* key;
  };
  using v = boost::beast::http::verb;
  for (auto& c : std::vector<repeated>{
           {v::post, "/collections/c/points/scroll", R"({"limit":1,"limit":2})", "\"limit\""},
           {v::put, "/collections/c/points",
            R"({"points":[{"id":1,"vector":[1,1,1,1],"payload":{"a":1,"a":2}}]})",
            "points[0].payload"},
           {v::put, "/collections/c/points", R"({"points":[{"id":1,"id":2,"vector":[1,1,1,1]}]})",
            "points[0]"},
           {v::post, "/collections/c/points/count",
            R"({"filter":{"must":[{"key":"tag","key":"n","match":{"value":"t1"}}]}})",
            "filter.must[0]"},
           {v::put, "/collections/fresh",
            R"({"vectors":{"size":4,"distance":"Dot"},"vectors":{"size":8,"distance":"Dot"}})",
            "the top-level object"},
           {v::put, "/collections/c/points",
            R"({"points":[{"id":1,"vector":{"a":[1,1,1,1],"a":[2,2,2,2]}}]})", "points[0].vector"},
       }) {
    auto r = s().call(c.method, c.target, c.body);
    EXPECT_TRUE(is_error(r, 400, "duplicate key")) << c.body;
    EXPECT_NE(error_message(r).find(c.key), std::string::npos) << error_message(r);
  }
  expect_intact();
}

TEST_F(RestHostile, DeepNestingIsA400NamingTheLimit) {
  auto nested = [](int levels) {
    return std::string(static_cast<size_t>(levels), '[') +
           std::string(static_cast<size_t>(levels), ']');
  };
  EXPECT_TRUE(is_error(s().post("/collections/c/points/count", nested(33)), 400,
                       "the limit is 32 levels (rest.max-json-depth)"));
  // Far deeper than any stack would take if it were followed recursively.
  EXPECT_TRUE(
      is_error(s().post("/collections/c/points/count", nested(30000)), 400, "rest.max-json-depth"));
  std::string deep_payload = "1";
  for (int i = 0; i < 40; ++i) deep_payload = R"({"x":)" + deep_payload + "}";
  EXPECT_TRUE(is_error(
      s().put("/collections/c/points",
              R"({"points":[{"id":1,"vector":[1,1,1,1],"payload":)" + deep_payload + "}]}"),
      400, "rest.max-json-depth"));
  // Filters nested in filters: depth 4 passes, 5 is refused.
  auto filter_of_depth = [](int depth) {
    std::string f = R"({"must":[{"key":"n","range":{"gte":0}}]})";
    for (int i = 1; i < depth; ++i) f = R"({"must":[)" + f + "]}";
    return R"({"filter":)" + f + "}";
  };
  auto ok4 = s().post("/collections/c/points/count", filter_of_depth(4));
  ASSERT_TRUE(is_ok(ok4));
  EXPECT_EQ(uint64_t(result(ok4)["count"]), uint64_t{kPoints});
  EXPECT_TRUE(is_error(s().post("/collections/c/points/count", filter_of_depth(5)), 400,
                       "the limit is 4 levels (rest.max-filter-depth)"));
  EXPECT_TRUE(is_error(s().post("/collections/c/points/delete", filter_of_depth(5)), 400,
                       "rest.max-filter-depth"));
  expect_intact();
}

TEST_F(RestHostile, OversizedEverythingGetsTheRightStatusNamingTheLimit) {
  // Bodies: refused by Content-Length before they are read, and when chunked.
  std::string big(70 * 1024, ' ');
  EXPECT_TRUE(is_error(s().post("/collections/c/points/count", "{" + big + "}"), 413,
                       "larger than the limit"));
  {
    http_client raw(s().port(), 5s);
    std::string chunked =
        "POST /collections/c/points/count HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
        "Content-Type: application/json\r\n\r\n";
    for (int i = 0; i < 80; ++i) chunked += "400\r\n" + std::string(1024, ' ') + "\r\n";
    chunked += "0\r\n\r\n";
    raw.send_raw(chunked);
    auto r = raw.read_reply();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 413u) << r->body;
  }
  // Headers over http.header-limit: 431.
  {
    http_client raw(s().port(), 5s);
    auto r = raw.request(boost::beast::http::verb::get, "/healthz", {},
                         {{"X-Padding", std::string(9000, 'a')}});
    EXPECT_EQ(r.status, 431u) << r.body;
  }
  {
    http_client raw(s().port(), 5s);
    auto r = raw.request(boost::beast::http::verb::get, "/collections/" + std::string(9000, 'a'));
    EXPECT_EQ(r.status, 431u) << "a long target counts as header";
  }
  // Points, ids, searches and operations per request: 422.
  std::string many = R"({"points":[)";
  for (int i = 0; i < 101; ++i)
    many += fmt::format(R"({}{{"id":{},"vector":[1,1,1,1]}})", i ? "," : "", i);
  EXPECT_TRUE(is_error(s().put("/collections/c/points", many + "]}"), 422, "the limit is 100"));
  std::string ids = "[0";
  for (int i = 1; i < 101; ++i) ids += fmt::format(",{}", i);
  ids += "]";
  EXPECT_TRUE(is_error(s().post("/collections/c/points/delete", R"({"points":)" + ids + "}"), 422,
                       "the limit is 100"));
  EXPECT_TRUE(is_error(s().post("/collections/c/points", R"({"ids":)" + ids + "}"), 422));
  EXPECT_TRUE(is_error(
      s().post("/collections/c/points/query/batch", R"({"searches":[{},{},{},{},{},{},{},{},{}]})"),
      422, "the limit is 8"));
  // Payloads: bytes, keys (also a flat object of many keys, which was quadratic to build), key
  // length; in upserts, batches and payload changes.
  auto upsert_with = [](const std::string& payload) {
    return R"({"points":[{"id":1,"vector":[1,1,1,1],"payload":)" + payload + "}]}";
  };
  std::string large = R"({"text":")" + std::string(3000, 'x') + "\"}";
  EXPECT_TRUE(is_error(s().put("/collections/c/points", upsert_with(large)), 422,
                       "the limit is 2048 bytes (rest.max-payload-bytes)"));
  EXPECT_TRUE(
      is_error(s().put("/collections/c/points",
                       R"({"batch":{"ids":[1],"vectors":[[1,1,1,1]],"payloads":[)" + large + "]}}"),
               422, "rest.max-payload-bytes"));
  EXPECT_TRUE(is_error(
      s().post("/collections/c/points/payload", R"({"points":[1],"payload":)" + large + "}"), 422,
      "rest.max-payload-bytes"));
  std::string keys = "{";
  for (int i = 0; i < 33; ++i) keys += fmt::format(R"({}"k{}":{})", i ? "," : "", i, i);
  keys += "}";
  EXPECT_TRUE(is_error(s().put("/collections/c/points", upsert_with(keys)), 422,
                       "the limit is 32 (rest.max-payload-keys)"));
  std::string nested_keys = R"({"a":{"b":{)";
  for (int i = 0; i < 31; ++i) nested_keys += fmt::format(R"({}"k{}":{})", i ? "," : "", i, i);
  nested_keys += "}}}";
  EXPECT_TRUE(is_error(s().put("/collections/c/points", upsert_with(nested_keys)), 422,
                       "rest.max-payload-keys"));
  std::string flood = "{";
  for (int i = 0; i < 20000; ++i) flood += fmt::format(R"({}"{}":0)", i ? "," : "", i);
  flood += "}";
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_TRUE(
      is_error(s().put("/collections/c/points", upsert_with(flood)), 422, "rest.max-payload-keys"));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
  std::string long_key = std::string(R"({")") + std::string(65, 'k') + R"(":1})";
  EXPECT_TRUE(is_error(s().put("/collections/c/points", upsert_with(long_key)), 422,
                       "the limit is 64 bytes (rest.max-key-length)"));
  EXPECT_TRUE(is_error(s().post("/collections/c/points/scroll",
                                R"({"with_payload":[")" + std::string(65, 'k') + "\"]}"),
                       422, "rest.max-key-length"));
  EXPECT_TRUE(is_error(s().put("/collections/c/index", R"({"field_name":")" + std::string(65, 'k') +
                                                           R"(","field_schema":"keyword"})"),
                       422, "rest.max-key-length"));
  // Filters: conditions over the whole tree, key length.
  std::string conditions = R"({"filter":{"should":[)";
  for (int i = 0; i < 17; ++i)
    conditions += fmt::format(R"({}{{"key":"n","match":{{"value":{}}}}})", i ? "," : "", i);
  conditions += "]}}";
  EXPECT_TRUE(is_error(s().post("/collections/c/points/count", conditions), 422,
                       "the limit is 16 (rest.max-filter-conditions)"));
  std::string spread = R"({"filter":{"must":[)";
  for (int i = 0; i < 6; ++i) {
    spread += fmt::format(
        R"({}{{"should":[{{"key":"n","match":{{"value":1}}}},{{"key":"n","match":{{"value":2}}}}]}})",
        i ? "," : "");
  }
  spread += "]}}";
  EXPECT_TRUE(
      is_error(s().post("/collections/c/points/count", spread), 422, "rest.max-filter-conditions"))
      << "6 nested filters of 2 conditions each: 18 conditions";
  EXPECT_TRUE(is_error(s().post("/collections/c/points/count", R"({"filter":{"must":[{"key":")" +
                                                                   std::string(65, 'k') +
                                                                   R"(","match":{"value":1}}]}})"),
                       422, "rest.max-key-length"));
  // Collections: vector size and the number of vectors.
  EXPECT_TRUE(
      is_error(s().put("/collections/fresh", R"({"vectors":{"size":1025,"distance":"Dot"}})"), 422,
               "rest.max-vector-size"));
  EXPECT_TRUE(is_error(
      s().put("/collections/fresh",
              R"({"vectors":{"a":{"size":4,"distance":"Dot"},"b":{"size":4,"distance":"Dot"},
                                   "c":{"size":4,"distance":"Dot"},"d":{"size":4,"distance":"Dot"},
                                   "e":{"size":4,"distance":"Dot"}}})"),
      422, "the limit is 4 (rest.max-named-vectors)"));
  EXPECT_TRUE(is_error(s().put("/collections/fresh",
                               R"({"vectors":{"a":{"size":4,"distance":"Dot"}},
                                   "sparse_vectors":{"s1":{},"s2":{},"s3":{},"s4":{}}})"),
                       422, "rest.max-named-vectors"));
  EXPECT_EQ(s().get("/collections/fresh").status, 404u);
  expect_intact();
}

TEST_F(RestHostile, BadSnapshotNamesAndArchivesChangeNothing) {
  for (auto target :
       {"/collections/c/snapshots/..%2F..%2Fcollection.json",
        "/collections/c/snapshots/%2Fetc%2Fpasswd",
        "/collections/c/snapshots/x.snapshot%00.snapshot",
        "/collections/c/snapshots/.hidden.snapshot", "/collections/c/snapshots/a%5Cb.snapshot",
        "/snapshots/..%2F..%2Fetc%2Fpasswd", "/snapshots/%00.snapshot",
        "/collections/nope/snapshots/x.snapshot"}) {
    EXPECT_TRUE(is_error(s().get(target), 404)) << target;
    EXPECT_TRUE(is_error(s().del(target), 404)) << target;
  }
  auto long_name = "/snapshots/" + std::string(300, 'a') + ".snapshot";
  EXPECT_TRUE(is_error(s().get(long_name), 404));
  // A snapshot that really exists cannot be reached through a NUL either.
  auto made = s().post("/collections/c/snapshots?wait=true", "");
  ASSERT_TRUE(is_ok(made));
  std::string real(std::string_view(result(made)["name"]));
  EXPECT_EQ(s().get("/collections/c/snapshots/" + real).status, 200u);
  EXPECT_TRUE(is_error(s().get("/collections/c/snapshots/" + real + "%00.snapshot"), 404));
  EXPECT_TRUE(is_error(s().del("/collections/c/snapshots/" + real + "%00.snapshot"), 404));
  // Garbage uploaded as a snapshot of an existing collection, or with a wrong checksum: 400,
  // and the collection is untouched.
  {
    http_client raw(s().port(), 10s);
    auto r = raw.request(boost::beast::http::verb::post, "/collections/c/snapshots/upload",
                         std::string(4096, 'Z'), {{"Content-Type", "application/octet-stream"}});
    EXPECT_EQ(r.status, 400u) << r.body;
    auto archive = s().get("/collections/c/snapshots/" + real);
    ASSERT_EQ(archive.status, 200u);
    auto truncated = archive.body.substr(0, archive.body.size() / 2);
    r = raw.request(boost::beast::http::verb::post, "/collections/c/snapshots/upload", truncated,
                    {{"Content-Type", "application/octet-stream"}});
    EXPECT_EQ(r.status, 400u) << r.body;
    r = raw.request(boost::beast::http::verb::post,
                    "/collections/c/snapshots/upload?checksum=" + std::string(64, '0'),
                    archive.body, {{"Content-Type", "application/octet-stream"}});
    EXPECT_EQ(r.status, 400u) << r.body;
    r = raw.request(boost::beast::http::verb::post, "/collections/c/snapshots/upload",
                    "--x\r\nContent-Disposition: form-data; name=\"other\"\r\n\r\nabc\r\n--x--\r\n",
                    {{"Content-Type", "multipart/form-data; boundary=x"}});
    EXPECT_EQ(r.status, 400u) << r.body;
  }
  EXPECT_TRUE(is_ok(s().del("/collections/c/snapshots/" + real)));
  expect_intact();
}

TEST_F(RestHostile, BrokenHttpIsA400AndSlowClientsAreCutOffWithoutHurtingOthers) {
  for (std::string raw_request :
       {std::string("GARBAGE\r\n\r\n"), std::string("GET / HTTP/9.9\r\n\r\n"),
        std::string("GET /healthz HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n"),
        std::string("POST /collections/c/points/count HTTP/1.1\r\nHost: x\r\n"
                    "Content-Length: abc\r\n\r\n{}"),
        std::string("POST /collections/c/points/count HTTP/1.1\r\nHost: x\r\n"
                    "Content-Length: -1\r\n\r\n{}"),
        std::string("POST /collections/c/points/count HTTP/1.1\r\nHost: x\r\n"
                    "Content-Length: 2\r\nContent-Length: 3\r\n\r\n{} "),
        std::string("POST /collections/c/points/count HTTP/1.1\r\nHost: x\r\n"
                    "Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n"),
        std::string("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), std::string("\x16\x03\x01\x02\x00\x01", 6),
        std::string(1, '\0') + "\r\n\r\n"}) {
    http_client raw(s().port(), 5s);
    raw.send_raw(raw_request);
    auto r = raw.read_reply();
    if (r) {
      EXPECT_GE(r->status, 400u) << raw_request;
      EXPECT_LT(r->status, 500u) << raw_request;
    }
    EXPECT_TRUE(raw.closed_by_peer()) << raw_request;
  }
  // Slowloris: headers that never end, and a body that never comes. Both are closed at their
  // timeouts (500 ms here) while another client is served at once.
  http_client slow_headers(s().port(), 5s);
  slow_headers.send_raw("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ");
  http_client slow_body(s().port(), 5s);
  slow_body.send_raw(
      "POST /collections/c/points/count HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{");
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_TRUE(is_ok(s().post("/collections/c/points/count", "{}")));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 400ms) << "others are not held up";
  EXPECT_TRUE(slow_headers.closed_by_peer());
  EXPECT_TRUE(slow_body.closed_by_peer());
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 3s);
  // A client that sends its request and never reads the answer does not block others either.
  {
    http_client deaf(s().port(), 5s);
    for (int i = 0; i < 20; ++i) {
      deaf.send(boost::beast::http::verb::post, "/collections/c/points/scroll",
                R"({"limit":1000,"with_payload":true,"with_vector":true})",
                {{"Content-Type", "application/json"}});
    }
    EXPECT_TRUE(is_ok(s().post("/collections/c/points/count", "{}")));
  }
  expect_intact();
}

// Regressions found by this suite, on a server with the default limits.

TEST(RestHostileRegressions, APayloadSetAtADeepKeyCannotNestPastWhatIsStored) {
  // A key of 200 steps (within rest.max-key-length) built a payload 201 levels deep, and the
  // JSON writer aborted the server on the next read of the point.
  rest_server s;
  ASSERT_TRUE(is_ok(s.put("/collections/p", R"({"vectors":{"size":2,"distance":"Dot"}})")));
  ASSERT_TRUE(is_ok(s.put("/collections/p/points?wait=true",
                          R"({"points":[{"id":1,"vector":[1,2],"payload":{"x":1}}]})")));
  std::string key = "a";
  for (int i = 1; i < 200; ++i) key += ".a";
  auto set_at = [&](const std::string& payload, const std::string& at) {
    return s.post("/collections/p/points/payload?wait=true",
                  R"({"points":[1],"payload":)" + payload + R"(,"key":")" + at + R"("})");
  };
  EXPECT_TRUE(is_error(set_at(R"({"z":1})", key), 422, "a payload nests at most 64"));
  std::string deep = "1";
  for (int i = 0; i < 40; ++i) deep = R"({"y":)" + deep + "}";
  std::string key30 = "a";
  for (int i = 1; i < 30; ++i) key30 += ".a";
  EXPECT_TRUE(is_error(set_at(deep, key30), 422, "70 levels"));
  EXPECT_TRUE(is_ok(set_at(R"({"z":1})", key30)));
  auto read = s.post("/collections/p/points", R"({"ids":[1]})");
  ASSERT_TRUE(is_ok(read));
  EXPECT_EQ(result(read).get_array().size(), 1u);
}

TEST(RestHostileRegressions, PayloadNumbersComeBackAsTheyWent) {
  // u64::MAX and other doubles of 2^64 or more were written back as plain digits that no longer
  // parsed; 5.0 came back as the integer 5 once re-read.
  rest_server s;
  ASSERT_TRUE(is_ok(s.put("/collections/p", R"({"vectors":{"size":2,"distance":"Dot"}})")));
  ASSERT_TRUE(is_ok(s.put(
      "/collections/p/points?wait=true",
      R"({"points":[{"id":1,"vector":[1,2],"payload":{"u":18446744073709551615,"d":5.0,"z":-0.0,
          "big":3e19,"tiny":5e-324}}]})")));
  auto read = s.post("/collections/p/points", R"({"ids":[1]})");
  ASSERT_TRUE(is_ok(read));
  EXPECT_NE(
      read.body.find(
          R"("payload":{"u":1.8446744073709552e+19,"d":5.0,"z":-0.0,"big":3e+19,"tiny":5e-324})"),
      std::string::npos)
      << read.body;
  EXPECT_EQ(count_of(s, "p", R"({"must":[{"key":"d","match":{"value":5}}]})"), 0u)
      << "a float 5.0 is not the integer 5";
}

}  // namespace
}  // namespace shoal::test
