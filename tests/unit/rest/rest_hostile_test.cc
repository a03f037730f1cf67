// Hostile input over HTTP, part 1: malformed JSON, wrong types, non-finite and huge numbers,
// wrong dimensions, invalid UTF-8, path tricks and repeated keys (rest_hostile_fixture.h says
// what every request must get and what must stay intact).

#include <random>

#include "tests/unit/rest/rest_hostile_fixture.h"

namespace shoal::test {
namespace {

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

}  // namespace
}  // namespace shoal::test
