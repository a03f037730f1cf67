// Service endpoints, collections and payload indexes over HTTP (REST_API.md §1-§4): shapes,
// defaults, status codes and error envelopes.

#include "tests/unit/rest/rest_test_util.h"

namespace shoal::test {
namespace {

constexpr const char* kSmall = R"({"vectors":{"size":4,"distance":"Cosine"}})";

TEST(RestService, TelemetryIssuesAndQdrantMetrics) {
  rest_server s;
  ASSERT_TRUE(is_ok(s.put("/collections/c", kSmall)));
  ASSERT_TRUE(is_ok(
      s.put("/collections/c/points?wait=true", R"({"points":[{"id":1,"vector":[1,0,0,0]}]})")));

  auto t = s.get("/telemetry");
  ASSERT_TRUE(is_ok(t));
  auto res = result(t);
  EXPECT_EQ(std::string_view(res["app"]["name"]), "qdrant");
  EXPECT_FALSE(bool(res["app"]["features"]["recovery_mode"]));
  EXPECT_EQ(uint64_t(res["collections"]["number_of_collections"]), 1u);
  EXPECT_EQ(std::string_view(res["id"]).size(), 36u);
  auto put = res["requests"]["rest"]["responses"]["PUT /collections/{collection_name}/points"];
  EXPECT_EQ(uint64_t(put["200"]["count"]), 1u);
  EXPECT_TRUE(put["200"]["avg_duration_micros"].is_number());
  EXPECT_NE(std::string_view(put["200"]["last_responded"]).find('T'), std::string_view::npos);
  element absent;
  EXPECT_NE(res["requests"]["rest"]["per_collection_responses"].get(absent), simdjson::SUCCESS);
  size_t keys = 0;
  for (auto f : res.get_object()) {
    (void)f;
    ++keys;
  }
  EXPECT_EQ(keys, 5u) << "level 0: id, app, collections, cluster, requests: " << t.body;

  auto t3 = s.get("/telemetry?details_level=3&per_collection=true");
  ASSERT_TRUE(is_ok(t3));
  auto c0 = result(t3)["collections"]["collections"].at(0).value();
  EXPECT_EQ(std::string_view(c0["id"]), "c");
  EXPECT_EQ(uint64_t(c0["shards"].at(0)["local"]["num_points"]) +
                uint64_t(c0["shards"].at(1)["local"]["num_points"]),
            1u);
  EXPECT_TRUE(result(t3)["memory"]["resident_bytes"].is_number());
  EXPECT_TRUE(result(t3)["requests"]["rest"]["per_collection_responses"]["c"].is_object());
  EXPECT_TRUE(is_error(s.get("/telemetry?details_level=x"), 400, "query parameters"));

  auto issues = s.get("/issues");
  ASSERT_TRUE(is_ok(issues));
  EXPECT_EQ(result(issues)["issues"].get_array().size(), 0u);
  auto cleared = s.del("/issues");
  ASSERT_TRUE(is_ok(cleared));
  EXPECT_TRUE(bool(result(cleared)));

  ASSERT_TRUE(is_ok(s.post("/collections/c/points/scroll", R"({"limit":1})")));
  auto m = s.get("/metrics");
  ASSERT_EQ(m.status, 200u);
  for (auto want : {"# HELP app_info information about qdrant server", "# TYPE app_info gauge",
                    "app_info{name=\"qdrant\",version=\"", "collections_total 1\n",
                    "collection_points{id=\"c\"} 1\n", "rest_responses_total{",
                    "endpoint=\"/collections/{collection_name}/points/scroll\"",
                    "shoal_http_requests_total{"}) {
    EXPECT_NE(m.body.find(want), std::string::npos) << want;
  }
  for (size_t at = m.body.find("rest_responses_"); at != std::string::npos;
       at = m.body.find("rest_responses_", at + 1)) {
    auto line = m.body.substr(at, m.body.find('\n', at) - at);
    EXPECT_EQ(line.find("collection="), std::string::npos) << line;
  }
  auto mp = s.get("/metrics?per_collection=true");
  EXPECT_NE(mp.body.find("status=\"200\",collection=\"c\"}"), std::string::npos) << mp.body;
}

TEST(RestService, RootHealthAndUnknownPaths) {
  rest_server s;
  auto root = s.get("/");
  ASSERT_EQ(root.status, 200u);
  EXPECT_NE(std::string_view(root.json["version"]).find("1."), std::string_view::npos);
  EXPECT_EQ(std::string_view(root.json["commit"]).size(), 40u);
  auto h = s.get("/healthz");
  EXPECT_EQ(h.body, "healthz check passed");
  EXPECT_TRUE(is_error(s.get("/no/such/endpoint"), 404));
  EXPECT_TRUE(is_error(s.call(boost::beast::http::verb::patch, "/telemetry"), 405));
}

TEST(RestCollections, CreateGetListExistsDelete) {
  rest_server s;
  auto created = s.put("/collections/docs", kSmall);
  ASSERT_TRUE(is_ok(created));
  EXPECT_TRUE(bool(result(created)));
  EXPECT_TRUE(is_error(s.put("/collections/docs", kSmall), 409,
                       "Wrong input: Collection `docs` already exists!"));

  auto info = s.get("/collections/docs");
  ASSERT_TRUE(is_ok(info));
  auto r = result(info);
  EXPECT_EQ(std::string_view(r["status"]), "green");
  EXPECT_EQ(std::string_view(r["optimizer_status"]), "ok");
  EXPECT_TRUE(r["segments_count"].is_uint64() || r["segments_count"].is_int64());
  EXPECT_EQ(uint64_t(r["points_count"]), 0u);
  EXPECT_EQ(uint64_t(r["config"]["params"]["vectors"]["size"]), 4u);
  EXPECT_EQ(std::string_view(r["config"]["params"]["vectors"]["distance"]), "Cosine");
  EXPECT_EQ(uint64_t(r["config"]["hnsw_config"]["m"]), 16u);
  EXPECT_EQ(uint64_t(r["config"]["hnsw_config"]["ef_construct"]), 100u);
  EXPECT_EQ(uint64_t(r["config"]["hnsw_config"]["full_scan_threshold"]), 10000u);
  EXPECT_EQ(uint64_t(r["config"]["optimizer_config"]["flush_interval_sec"]), 5u);
  EXPECT_TRUE(r["config"]["quantization_config"].is_null());
  EXPECT_TRUE(r["payload_schema"].is_object());
  EXPECT_EQ(info.body.find(".0,"), std::string::npos) << "integers without a fraction";

  auto trailing = s.get("/collections/docs/");
  EXPECT_TRUE(is_ok(trailing)) << "trailing slashes are ignored";

  auto list = s.get("/collections");
  ASSERT_TRUE(is_ok(list));
  EXPECT_EQ(std::string_view(result(list)["collections"].at(0)["name"]), "docs");

  auto exists = s.get("/collections/docs/exists");
  ASSERT_TRUE(is_ok(exists));
  EXPECT_TRUE(bool(result(exists)["exists"]));
  auto missing = s.get("/collections/nope/exists");
  ASSERT_TRUE(is_ok(missing));
  EXPECT_FALSE(bool(result(missing)["exists"]));

  EXPECT_TRUE(
      is_error(s.get("/collections/nope"), 404, "Not found: Collection `nope` doesn't exist!"));
  EXPECT_TRUE(is_error(s.post("/collections/nope/points/scroll", "{}"), 404));
  EXPECT_TRUE(is_error(s.put("/collections/nope/points", R"({"points":[]})"), 404));

  auto patched = s.call(boost::beast::http::verb::patch, "/collections/docs",
                        R"({"optimizers_config":{"indexing_threshold":10000}})");
  ASSERT_TRUE(is_ok(patched));
  EXPECT_TRUE(bool(result(patched)));
  EXPECT_TRUE(is_error(s.call(boost::beast::http::verb::patch, "/collections/nope", "{}"), 404));
  EXPECT_TRUE(is_error(
      s.call(boost::beast::http::verb::patch, "/collections/docs", R"({"bogus":{}})"), 400));

  auto aliases = s.get("/collections/docs/aliases");
  ASSERT_TRUE(is_ok(aliases));
  EXPECT_EQ(result(aliases)["aliases"].get_array().size(), 0u);
  EXPECT_TRUE(is_ok(s.get("/aliases")));
  EXPECT_TRUE(is_error(s.get("/collections/nope/aliases"), 404));
  EXPECT_TRUE(is_error(s.post("/collections/aliases", R"({"actions":[]})"), 400, "aliases"));

  auto dropped = s.del("/collections/docs");
  ASSERT_TRUE(is_ok(dropped));
  EXPECT_TRUE(bool(result(dropped)));
  auto again = s.del("/collections/docs");
  ASSERT_TRUE(is_ok(again)) << "deleting a missing collection is 200";
  EXPECT_FALSE(bool(result(again)));
}

TEST(RestCollections, ValidationOfCreateBodies) {
  rest_server s;
  EXPECT_TRUE(is_error(s.put("/collections/a", R"({"vectors":{"size":65537,"distance":"Cosine"}})"),
                       422,
                       "Validation error in JSON body: [vectors.size: value 65537 invalid, must "
                       "be from 1 to 65536 (rest.max-vector-size)]"));
  EXPECT_TRUE(is_error(s.put("/collections/a", R"({"vectors":{"size":0,"distance":"Cosine"}})"),
                       422, "vectors.size"));
  EXPECT_TRUE(is_error(
      s.put("/collections/a", R"({"vectors":{"size":4,"distance":"Cosine"},"shard_number":0})"),
      422, "shard_number"));
  EXPECT_TRUE(is_error(
      s.put("/collections/a", R"({"vectors":{"size":4,"distance":"Cosine"},"shard_number":-1})"),
      400, "Format error in JSON body"));
  EXPECT_TRUE(is_error(s.put("/collections/a", R"({"vectors":{"size":4,"distance":"Cosine"},
                                                   "replication_factor":0})"),
                       422, "replication_factor"));
  EXPECT_TRUE(is_error(s.put("/collections/a", R"({"vectors":{"size":4,"distance":"Cosine"},
                                                   "hnsw_config":{"ef_construct":2}})"),
                       422, "hnsw_config.ef_construct"));
  EXPECT_TRUE(is_error(s.put("/collections/a", R"({"vectors":{"size":4,"distance":"Cosinus"}})"),
                       400, "unknown variant"));
  EXPECT_TRUE(is_error(s.put("/collections/a", "{not json"), 400, "Format error in JSON body"));
  EXPECT_TRUE(
      is_error(s.put("/collections/" + std::string(256, 'x'), kSmall), 422, "Validation error"));
  EXPECT_TRUE(is_error(s.put("/collections/a?timeout=0", kSmall), 422,
                       "Validation error in query parameters: [timeout: value 0 invalid, must be "
                       "1 or larger]"));
  // Every optional field may be null (the Qdrant test suite sends these).
  EXPECT_TRUE(is_ok(s.put("/collections/a", R"({"vectors":{"size":4,"distance":"Dot"},
      "sharding_method":null,"wal_config":{"wal_capacity_mb":null},"optimizers_config":null,
      "on_disk_payload":null,"hnsw_config":null,"quantization_config":null})")));
  auto named = s.put("/collections/named", R"({"vectors":{"image":{"size":2,"distance":"Dot"},
      "text":{"size":3,"distance":"Euclid"}},"sparse_vectors":{"sp":{}}})");
  ASSERT_TRUE(is_ok(named));
  auto info = s.get("/collections/named");
  ASSERT_TRUE(is_ok(info));
  auto params = result(info)["config"]["params"];
  EXPECT_EQ(uint64_t(params["vectors"]["text"]["size"]), 3u);
  EXPECT_EQ(std::string_view(params["vectors"]["image"]["distance"]), "Dot");
  EXPECT_TRUE(params["sparse_vectors"]["sp"].is_object());
}

TEST(RestCollections, PayloadIndexesAreReportedWithTheirParamsAndCounts) {
  rest_server s;
  ASSERT_TRUE(is_ok(s.put("/collections/c", kSmall)));
  ASSERT_TRUE(is_ok(s.put("/collections/c/points?wait=true", R"({"points":[
      {"id":1,"vector":[1,0,0,0],"payload":{"city":"Oslo","n":3}},
      {"id":2,"vector":[0,1,0,0],"payload":{"city":["Rome","Oslo"]}},
      {"id":3,"vector":[0,0,1,0],"payload":{"n":5}}]})")));
  auto kw =
      s.put("/collections/c/index?wait=true", R"({"field_name":"city","field_schema":"keyword"})");
  ASSERT_TRUE(is_ok(kw));
  EXPECT_EQ(std::string_view(result(kw)["status"]), "completed");
  EXPECT_TRUE(result(kw)["operation_id"].is_number());
  ASSERT_TRUE(is_ok(s.put("/collections/c/index",
                          R"({"field_name":"n","field_schema":{"type":"integer","lookup":true,
                              "range":true,"is_principal":false}})")));
  EXPECT_TRUE(is_error(s.put("/collections/c/index",
                             R"({"field_name":"m","field_schema":{"type":"integer",
                                 "lookup":false,"range":false}})"),
                       422, "the 'lookup' and 'range' capabilities can't be both disabled"));
  EXPECT_TRUE(
      is_error(s.put("/collections/c/index", R"({"field_name":"m","field_schema":"bogus"})"), 400));

  auto info = s.get("/collections/c");
  ASSERT_TRUE(is_ok(info));
  auto schema = result(info)["payload_schema"];
  EXPECT_EQ(std::string_view(schema["city"]["data_type"]), "keyword");
  element params;
  EXPECT_NE(schema["city"]["params"].get(params), simdjson::SUCCESS) << "a bare type has none";
  EXPECT_EQ(uint64_t(schema["city"]["points"]), 2u);
  EXPECT_EQ(std::string_view(schema["n"]["params"]["type"]), "integer");
  EXPECT_FALSE(bool(schema["n"]["params"]["is_principal"]));
  EXPECT_EQ(uint64_t(schema["n"]["points"]), 2u);

  // The index only narrows candidates: the same counts with and without it.
  EXPECT_EQ(count_of(s, "c", R"({"must":[{"key":"city","match":{"value":"Oslo"}}]})"), 2u);
  ASSERT_TRUE(is_ok(s.del("/collections/c/index/city?wait=true")));
  EXPECT_EQ(count_of(s, "c", R"({"must":[{"key":"city","match":{"value":"Oslo"}}]})"), 2u);
  auto after = s.get("/collections/c");
  element gone;
  EXPECT_NE(result(after)["payload_schema"]["city"].get(gone), simdjson::SUCCESS);
}

}  // namespace
}  // namespace shoal::test
