// Points over HTTP (REST_API.md §1.4, §1.5, §5, §9): upsert in both forms, ids, vectors and
// payloads as they come back, payload changes, deletes, scroll, count and the batch endpoint.

#include "tests/unit/rest/rest_test_util.h"

namespace shoal::test {
namespace {

constexpr const char* kSmall = R"({"vectors":{"size":4,"distance":"Cosine"}})";

TEST(RestPoints, UpsertListAndBatchFormsRetrieveAndGet) {
  rest_server s;
  ASSERT_TRUE(is_ok(s.put("/collections/c", kSmall)));
  auto up = s.put("/collections/c/points?wait=true", R"({"points":[
      {"id":1,"vector":[3,0,0,4],"payload":{"a":1,"b":{"c":[1,2]}}},
      {"id":"550E8400-E29B-41D4-A716-446655440000","vector":[0,1,0,0]}]})");
  ASSERT_TRUE(is_ok(up));
  EXPECT_EQ(std::string_view(result(up)["status"]), "completed");
  auto batch = s.put("/collections/c/points", R"({"batch":{"ids":[7,8],
      "vectors":[[1,1,1,1],[0,0,0,2]],"payloads":[{"k":"v"},null]}})");
  ASSERT_TRUE(is_ok(batch));

  auto got = s.post("/collections/c/points",
                    R"({"ids":[8,"550e8400e29b41d4a716446655440000",99,1],"with_vector":true})");
  ASSERT_TRUE(is_ok(got));
  auto recs = result(got);
  ASSERT_EQ(recs.get_array().size(), 3u) << "unknown ids are left out: " << got.body;
  EXPECT_EQ(ids_of(recs),
            (std::vector<std::string>{"8", "550e8400-e29b-41d4-a716-446655440000", "1"}));
  EXPECT_TRUE(recs.at(0)["payload"].is_object()) << "absent payload is {}";
  EXPECT_EQ(recs.at(0)["payload"].get_object().size(), 0u);
  // Cosine vectors are normalised on insert: [3,0,0,4] comes back as [0.6,0,0,0.8].
  auto v = recs.at(2)["vector"];
  EXPECT_NEAR(double(v.at(0)), 0.6, 1e-6);
  EXPECT_NEAR(double(v.at(3)), 0.8, 1e-6);
  EXPECT_EQ(int64_t(recs.at(2)["payload"]["b"]["c"].at(1)), 2);
  EXPECT_TRUE(recs.at(2)["id"].is_uint64() || recs.at(2)["id"].is_int64()) << "1 stays a number";

  auto one = s.get("/collections/c/points/{550e8400-e29b-41d4-a716-446655440000}");
  ASSERT_TRUE(is_ok(one));
  EXPECT_EQ(std::string_view(result(one)["id"]), "550e8400-e29b-41d4-a716-446655440000");
  EXPECT_TRUE(result(one)["vector"].is_array()) << "GET point returns the vector";
  EXPECT_TRUE(result(one)["payload"].is_object());
  EXPECT_TRUE(is_ok(s.get("/collections/c/points/urn:uuid:550e8400-e29b-41d4-a716-446655440000")));
  EXPECT_TRUE(is_error(s.get("/collections/c/points/12345"), 404));
  EXPECT_TRUE(is_error(s.get("/collections/c/points/not-an-id"), 400));

  auto no_payload = s.post("/collections/c/points", R"({"ids":[1],"with_payload":false})");
  ASSERT_TRUE(is_ok(no_payload));
  element p;
  EXPECT_NE(result(no_payload).at(0)["payload"].get(p), simdjson::SUCCESS);
  EXPECT_NE(result(no_payload).at(0)["vector"].get(p), simdjson::SUCCESS);

  auto info = s.get("/collections/c");
  EXPECT_EQ(uint64_t(result(info)["points_count"]), 4u) << "exact right after wait=true";
}

TEST(RestPoints, BadPointsAreRefusedBeforeAnythingIsApplied) {
  rest_server s;
  ASSERT_TRUE(is_ok(s.put("/collections/c", kSmall)));
  EXPECT_TRUE(
      is_error(s.put("/collections/c/points?wait=false",
                     R"({"points":[{"id":1,"vector":[1,0,0,0]},{"id":2,"vector":[1,2,3]}]})"),
               400, "Wrong input: Vector dimension error: expected dim: 4, got 3"));
  EXPECT_TRUE(is_error(s.put("/collections/c/points", R"({"points":[{"id":1,"vector":[]}]})"), 400,
                       "dimension"));
  EXPECT_TRUE(
      is_error(s.put("/collections/c/points", R"({"points":[{"id":-1,"vector":[1,0,0,0]}]})"), 400,
               "Format error"));
  EXPECT_TRUE(is_error(
      s.put("/collections/c/points", R"({"points":[{"id":"not-a-uuid","vector":[1,0,0,0]}]})"),
      400));
  EXPECT_TRUE(
      is_error(s.put("/collections/c/points", R"({"points":[{"id":1,"vector":[0,0,0,0]}]})"), 400,
               "Cosine"));
  EXPECT_TRUE(
      is_error(s.put("/collections/c/points", R"({"points":[{"id":1,"vector":{"x":[1,0,0,0]}}]})"),
               400, "Not existing vector name error: x"));
  EXPECT_TRUE(is_error(
      s.put("/collections/c/points", R"({"batch":{"ids":[1,2],"vectors":[[1,0,0,0]]}})"), 400));
  EXPECT_TRUE(is_error(s.put("/collections/c/points", R"({"nothing":1})"), 400));
  EXPECT_EQ(count_of(s, "c", ""), 0u) << "nothing of a refused batch was applied";

  auto acked = s.put("/collections/c/points?wait=false",
                     R"({"points":[{"id":1,"vector":[1,0,0,0]},{"id":1,"vector":[0,1,0,0]}]})");
  ASSERT_TRUE(is_ok(acked)) << "wait=false is still 200 (the JS client accepts only 200/201)";
  EXPECT_EQ(std::string_view(result(acked)["status"]), "acknowledged");
  auto one = s.get("/collections/c/points/1");
  ASSERT_TRUE(is_ok(one));
  EXPECT_NEAR(double(result(one)["vector"].at(1)), 1.0, 1e-6) << "a repeated id: the last wins";
  EXPECT_TRUE(is_error(s.put("/collections/c/points?wait=maybe", R"({"points":[]})"), 400,
                       "Deserialize error in query parameters"));
  EXPECT_TRUE(is_error(s.put("/collections/c/points?ordering=chaotic", R"({"points":[]})"), 400));
  EXPECT_TRUE(is_ok(s.put("/collections/c/points?ordering=weak&timeout=5", R"({"points":[]})")));
}

TEST(RestPoints, NamedSparseAndMissingVectors) {
  rest_server s;
  ASSERT_TRUE(is_ok(s.put("/collections/n", R"({"vectors":{"image":{"size":2,"distance":"Dot"},
      "text":{"size":3,"distance":"Euclid"}},"sparse_vectors":{"sp":{}}})")));
  ASSERT_TRUE(is_ok(s.put("/collections/n/points?wait=true", R"({"points":[
      {"id":1,"vector":{"image":[1,2],"text":[1,2,3]}},
      {"id":2,"vector":{"sp":{"indices":[1,5],"values":[0.5,0.25]}}},
      {"id":3,"vector":{}}]})")));
  ASSERT_TRUE(is_ok(s.put("/collections/n/points?wait=true", R"({"batch":{"ids":[4,5],
      "vectors":{"image":[[2,2],null],"sp":[null,{"indices":[3],"values":[1.5]}]}}})")));
  auto all = s.post("/collections/n/points", R"({"ids":[1,2,3,4,5],"with_vector":true})");
  ASSERT_TRUE(is_ok(all));
  auto r = result(all);
  EXPECT_EQ(double(r.at(0)["vector"]["text"].at(2)), 3.0);
  EXPECT_EQ(double(r.at(1)["vector"]["sp"]["values"].at(1)), 0.25);
  EXPECT_EQ(uint64_t(r.at(1)["vector"]["sp"]["indices"].at(1)), 5u);
  EXPECT_EQ(r.at(2)["vector"].get_object().size(), 0u) << "a point without vectors: {}";
  EXPECT_EQ(double(r.at(3)["vector"]["image"].at(0)), 2.0);
  EXPECT_EQ(double(r.at(4)["vector"]["sp"]["values"].at(0)), 1.5);

  auto some = s.post("/collections/n/points", R"({"ids":[1,2],"with_vector":["sp"]})");
  ASSERT_TRUE(is_ok(some));
  EXPECT_EQ(result(some).at(0)["vector"].get_object().size(), 0u) << some.body;
  EXPECT_TRUE(result(some).at(1)["vector"]["sp"].is_object()) << some.body;
  auto img = s.post("/collections/n/points", R"({"ids":[1],"with_vector":["image"]})");
  ASSERT_TRUE(is_ok(img));
  EXPECT_EQ(result(img).at(0)["vector"].get_object().size(), 1u) << img.body;

  EXPECT_TRUE(is_error(s.post("/collections/n/points", R"({"ids":[1],"with_vector":["nope"]})"),
                       400, "Not existing vector name error: nope"));
  EXPECT_TRUE(is_error(s.put("/collections/n/points", R"({"points":[{"id":9,
      "vector":{"sp":{"indices":[1,1],"values":[1,2]}}}]})"),
                       422));
  EXPECT_TRUE(is_error(s.put("/collections/n/points", R"({"points":[{"id":9,
      "vector":{"sp":{"indices":[1],"values":[1,2]}}}]})"),
                       422));
  // Dense search on a vector skips points that lack it; scroll and count include them.
  auto q = s.post("/collections/n/points/query", R"({"query":[1,1],"using":"image","limit":10})");
  ASSERT_TRUE(is_ok(q));
  EXPECT_EQ(ids_of(result(q)["points"]), (std::vector<std::string>{"4", "1"}));
  EXPECT_EQ(count_of(s, "n", ""), 5u);
}

TEST(RestPoints, PayloadChangesWithKeysPathsAndFilters) {
  rest_server s;
  ASSERT_TRUE(is_ok(s.put("/collections/c", kSmall)));
  ASSERT_TRUE(is_ok(s.put("/collections/c/points?wait=true", R"({"points":[
      {"id":1,"vector":[1,0,0,0],"payload":{"a":1,"list":[{"x":1},{"x":2}]}},
      {"id":2,"vector":[0,1,0,0],"payload":{"a":2}},
      {"id":3,"vector":[0,0,1,0]}]})")));
  auto payload_of = [&](int id) {
    auto r = s.get("/collections/c/points/" + std::to_string(id));
    EXPECT_TRUE(is_ok(r));
    return std::string(simdjson::minify(result(r)["payload"]));
  };
  ASSERT_TRUE(is_ok(s.post("/collections/c/points/payload?wait=true",
                           R"({"payload":{"b":true},"points":[1,3]})")));
  EXPECT_EQ(payload_of(1), R"({"a":1,"list":[{"x":1},{"x":2}],"b":true})");
  EXPECT_EQ(payload_of(3), R"({"b":true})");
  ASSERT_TRUE(is_ok(s.post("/collections/c/points/payload",
                           R"({"payload":{"y":9},"points":[1],"key":"list[0]"})")));
  EXPECT_EQ(payload_of(1), R"({"a":1,"list":[{"x":1,"y":9},{"x":2}],"b":true})");
  ASSERT_TRUE(is_ok(s.post("/collections/c/points/payload",
                           R"({"payload":{"deep":1},"points":[2],"key":"new.inner"})")));
  EXPECT_EQ(payload_of(2), R"({"a":2,"new":{"inner":{"deep":1}}})");
  // Setting the same thing twice changes nothing more.
  ASSERT_TRUE(is_ok(s.post("/collections/c/points/payload",
                           R"({"payload":{"deep":1},"points":[2],"key":"new.inner"})")));
  EXPECT_EQ(payload_of(2), R"({"a":2,"new":{"inner":{"deep":1}}})");
  ASSERT_TRUE(is_ok(
      s.put("/collections/c/points/payload",
            R"({"payload":{"only":"this"},"filter":{"must":[{"key":"a","match":{"value":2}}]}})")));
  EXPECT_EQ(payload_of(2), R"({"only":"this"})");
  ASSERT_TRUE(is_ok(
      s.post("/collections/c/points/payload/delete", R"({"keys":["list[].x","b"],"points":[1]})")));
  EXPECT_EQ(payload_of(1), R"({"a":1,"list":[{"y":9},{}]})");
  ASSERT_TRUE(is_ok(s.post("/collections/c/points/payload/clear", R"({"points":[1]})")));
  EXPECT_EQ(payload_of(1), "{}");
  EXPECT_TRUE(
      is_error(s.post("/collections/c/points/payload", R"({"payload":5,"points":[1]})"), 400));
  EXPECT_TRUE(is_error(s.post("/collections/c/points/payload", R"({"payload":{"a":1}})"), 400));
  EXPECT_TRUE(is_error(s.post("/collections/c/points/payload/delete", R"({"keys":["a..b"],
      "points":[1]})"),
                       422));

  // Upsert replaces the whole point: no payload clears it.
  ASSERT_TRUE(is_ok(
      s.put("/collections/c/points?wait=true", R"({"points":[{"id":2,"vector":[0,1,0,0]}]})")));
  EXPECT_EQ(payload_of(2), "{}");
}

TEST(RestPoints, DeleteByIdsAndFilterScrollAndCount) {
  rest_server s;
  ASSERT_TRUE(is_ok(s.put("/collections/c", kSmall)));
  std::string points = R"({"points":[)";
  for (int i = 0; i < 40; ++i) {
    points += fmt::format(R"({}{{"id":{},"vector":[1,{},0,0],"payload":{{"i":{},"even":{}}}}})",
                          i ? "," : "", i, i, i, i % 2 == 0 ? "true" : "false");
  }
  points += R"(,{"id":"00000000-0000-0000-0000-000000000001","vector":[0,0,1,0]}]})";
  ASSERT_TRUE(is_ok(s.put("/collections/c/points?wait=true", points)));

  // Scroll pages through everything in id order, integers before UUIDs.
  std::vector<std::string> seen;
  std::string offset = "null";
  for (int page = 0; page < 20 && offset != "done"; ++page) {
    auto r = s.post("/collections/c/points/scroll",
                    R"({"limit":7,"with_payload":false,"offset":)" + offset + "}");
    ASSERT_TRUE(is_ok(r));
    for (auto& id : ids_of(result(r)["points"])) seen.push_back(id);
    auto next = result(r)["next_page_offset"];
    offset = next.is_null() ? "done" : std::string(simdjson::minify(next));
  }
  ASSERT_EQ(seen.size(), 41u);
  EXPECT_EQ(seen.front(), "0");
  EXPECT_EQ(seen[39], "39");
  EXPECT_EQ(seen.back(), "00000000-0000-0000-0000-000000000001");
  auto deflt = s.post("/collections/c/points/scroll", "{}");
  ASSERT_TRUE(is_ok(deflt));
  EXPECT_EQ(result(deflt)["points"].get_array().size(), 10u) << "limit defaults to 10";
  EXPECT_TRUE(result(deflt)["points"].at(0)["payload"].is_object()) << "payload by default";
  auto filtered = s.post("/collections/c/points/scroll",
                         R"({"filter":{"must":[{"key":"even","match":{"value":true}}]},
                             "limit":100,"offset":10})");
  ASSERT_TRUE(is_ok(filtered));
  EXPECT_EQ(result(filtered)["points"].get_array().size(), 15u);
  EXPECT_TRUE(result(filtered)["next_page_offset"].is_null());

  EXPECT_EQ(count_of(s, "c", ""), 41u);
  EXPECT_EQ(count_of(s, "c", R"({"must":[{"key":"i","range":{"gte":10,"lt":20}}]})"), 10u);
  auto approx = s.post("/collections/c/points/count", R"({"exact":false})");
  ASSERT_TRUE(is_ok(approx));
  EXPECT_EQ(uint64_t(result(approx)["count"]), 41u);

  auto del = s.post("/collections/c/points/delete?wait=true", R"({"points":[0,1,2,12345]})");
  ASSERT_TRUE(is_ok(del));
  EXPECT_EQ(std::string_view(result(del)["status"]), "completed");
  EXPECT_EQ(count_of(s, "c", ""), 38u);
  ASSERT_TRUE(is_ok(s.post("/collections/c/points/delete?wait=true&ordering=weak",
                           R"({"filter":{"must":[{"key":"even","match":{"value":false}}]}})")));
  EXPECT_EQ(count_of(s, "c", ""), 19u);
  EXPECT_EQ(count_of(s, "c", R"({"must":[{"key":"even","match":{"value":false}}]})"), 0u);
  EXPECT_TRUE(is_error(s.post("/collections/c/points/delete", R"({"ids":[1]})"), 400));
}

TEST(RestPoints, BatchOfOperationsRunsInOrder) {
  rest_server s;
  ASSERT_TRUE(is_ok(s.put("/collections/c", kSmall)));
  auto r = s.post("/collections/c/points/batch?wait=true", R"({"operations":[
      {"upsert":{"points":[{"id":1,"vector":[1,0,0,0]},{"id":2,"vector":[0,1,0,0]}]}},
      {"upsert":{"batch":{"ids":[3],"vectors":[[0,0,1,0]]}}},
      {"set_payload":{"payload":{"k":1},"points":[1,2]}},
      {"overwrite_payload":{"payload":{"z":2},"points":[2]}},
      {"delete_payload":{"keys":["k"],"points":[1]}},
      {"clear_payload":{"points":[3]}},
      {"delete":{"points":[3]}}]})");
  ASSERT_TRUE(is_ok(r));
  ASSERT_EQ(result(r).get_array().size(), 7u);
  EXPECT_EQ(std::string_view(result(r).at(6)["status"]), "completed");
  EXPECT_EQ(count_of(s, "c", ""), 2u);
  auto two = s.get("/collections/c/points/2");
  EXPECT_EQ(std::string(simdjson::minify(result(two)["payload"])), R"({"z":2})");
  // One bad operation: nothing runs.
  EXPECT_TRUE(is_error(s.post("/collections/c/points/batch", R"({"operations":[
      {"delete":{"points":[1]}},{"upsert":{"points":[{"id":5,"vector":[1]}]}}]})"),
                       400, "dimension"));
  EXPECT_EQ(count_of(s, "c", ""), 2u);
  EXPECT_TRUE(
      is_error(s.post("/collections/c/points/batch", R"({"operations":[{"frobnicate":{}}]})"), 400,
               "unknown variant"));
}

}  // namespace
}  // namespace shoal::test
