// Searches over HTTP (REST_API.md §6, §7): results against exact brute force for every distance,
// score direction and score_threshold, offset, limits, selectors, query by id, batches, the
// legacy search API and the filter grammar.

#include <algorithm>
#include <cmath>
#include <random>

#include "tests/support/brute_force_oracle.h"
#include "tests/unit/rest/rest_test_util.h"

namespace shoal::test {
namespace {

struct dataset {
  size_t dim = 8;
  std::vector<std::vector<float>> points;
};

dataset make_points(size_t n, size_t dim, uint64_t seed) {
  dataset d;
  d.dim = dim;
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int> q(-8, 8);  // small integers: exact in JSON and float
  for (size_t i = 0; i < n; ++i) {
    std::vector<float> v(dim);
    do {
      for (auto& x : v) x = static_cast<float>(q(rng)) / 4.0f;
    } while (std::all_of(v.begin(), v.end(), [](float x) { return x == 0; }));
    d.points.push_back(std::move(v));
  }
  return d;
}

std::string upsert_body(const dataset& d) {
  std::string body = R"({"points":[)";
  for (size_t i = 0; i < d.points.size(); ++i) {
    body += fmt::format(R"({}{{"id":{},"vector":{},"payload":{{"group":{}}}}})", i ? "," : "", i,
                        vec_json(d.points[i]), i % 3);
  }
  return body + "]}";
}

/// Qdrant's score for a distance: similarity for Cosine/Dot, distance for Euclid/Manhattan.
double qdrant_score(index::metric_kind m, const std::vector<float>& a,
                    const std::vector<float>& b) {
  double dot = 0, aa = 0, bb = 0, l2 = 0, l1 = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    dot += double(a[i]) * b[i];
    aa += double(a[i]) * a[i];
    bb += double(b[i]) * b[i];
    l2 += (double(a[i]) - b[i]) * (double(a[i]) - b[i]);
    l1 += std::fabs(double(a[i]) - b[i]);
  }
  switch (m) {
    case index::metric_kind::cosine:
      return dot / std::sqrt(aa * bb);
    case index::metric_kind::ip:
      return dot;
    case index::metric_kind::l2:
      return std::sqrt(l2);
    case index::metric_kind::manhattan:
      return l1;
  }
  return 0;
}

struct exact_hit {
  size_t id;
  double score;
};

std::vector<exact_hit> brute_force(const dataset& d, index::metric_kind m,
                                   const std::vector<float>& q, bool (*keep)(size_t)) {
  bool higher = m == index::metric_kind::cosine || m == index::metric_kind::ip;
  std::vector<exact_hit> all;
  for (size_t i = 0; i < d.points.size(); ++i) {
    if (keep && !keep(i)) continue;
    all.push_back({i, qdrant_score(m, d.points[i], q)});
  }
  std::sort(all.begin(), all.end(), [&](auto& a, auto& b) {
    if (a.score != b.score) return higher ? a.score > b.score : a.score < b.score;
    return a.id < b.id;
  });
  return all;
}

/// The returned ranking matches the exact one: same scores in order, and every id returned has
/// the exact score of that rank (ties may come in any order only if scores are equal).
void expect_matches(element points, const std::vector<exact_hit>& exact, size_t offset,
                    size_t limit, const dataset& d, index::metric_kind m,
                    const std::vector<float>& q) {
  auto arr = points.get_array();
  size_t want = std::min(limit, exact.size() > offset ? exact.size() - offset : 0);
  ASSERT_EQ(arr.size(), want);
  size_t rank = offset;
  for (auto p : arr) {
    auto id = uint64_t(p["id"]);
    double score = double(p["score"]);
    EXPECT_NEAR(score, exact[rank].score, 1e-4) << "rank " << rank;
    EXPECT_NEAR(score, qdrant_score(m, d.points[id], q), 1e-4) << "id " << id;
    EXPECT_TRUE(p["version"].is_number());
    ++rank;
  }
}

TEST(RestSearch, EveryDistanceMatchesExactBruteForceWithItsScoreDirection) {
  rest_server s;
  auto d = make_points(300, 8, 42);
  auto queries = make_points(12, 8, 7);
  struct metric_case {
    const char* name;
    index::metric_kind m;
  };
  for (auto mc :
       {metric_case{"Cosine", index::metric_kind::cosine},
        metric_case{"Dot", index::metric_kind::ip}, metric_case{"Euclid", index::metric_kind::l2},
        metric_case{"Manhattan", index::metric_kind::manhattan}}) {
    SCOPED_TRACE(mc.name);
    auto coll = std::string("c_") + mc.name;
    // A flat collection with 3 shards and an HNSW one asked for exact results.
    ASSERT_TRUE(
        is_ok(s.put("/collections/" + coll, fmt::format(R"({{"vectors":{{"size":8,"distance":"{}",
                                "hnsw_config":{{"m":0}}}},"shard_number":3}})",
                                                        mc.name))));
    ASSERT_TRUE(is_ok(s.put("/collections/" + coll + "/points?wait=true", upsert_body(d))));
    for (auto& q : queries.points) {
      auto exact = brute_force(d, mc.m, q, nullptr);
      auto r = s.post("/collections/" + coll + "/points/query",
                      R"({"query":)" + vec_json(q) + R"(,"limit":10})");
      ASSERT_TRUE(is_ok(r));
      expect_matches(result(r)["points"], exact, 0, 10, d, mc.m, q);
      auto off = s.post("/collections/" + coll + "/points/query",
                        R"({"query":)" + vec_json(q) + R"(,"limit":5,"offset":7})");
      ASSERT_TRUE(is_ok(off));
      expect_matches(result(off)["points"], exact, 7, 5, d, mc.m, q);
      // The legacy API: a bare array.
      auto legacy = s.post("/collections/" + coll + "/points/search",
                           R"({"vector":)" + vec_json(q) + R"(,"limit":3,"with_payload":true})");
      ASSERT_TRUE(is_ok(legacy));
      expect_matches(result(legacy), exact, 0, 3, d, mc.m, q);
      EXPECT_TRUE(result(legacy).at(0)["payload"]["group"].is_number());
      // score_threshold: a lower bound for similarities, an upper bound for distances.
      double th = exact[20].score;
      auto thr = s.post(
          "/collections/" + coll + "/points/query",
          R"({"query":)" + vec_json(q) + fmt::format(R"(,"limit":100,"score_threshold":{}}})", th));
      ASSERT_TRUE(is_ok(thr));
      bool higher = mc.m == index::metric_kind::cosine || mc.m == index::metric_kind::ip;
      size_t inside = 0;
      for (auto& e : exact) inside += higher ? e.score >= th - 1e-5 : e.score <= th + 1e-5;
      auto got = result(thr)["points"].get_array();
      EXPECT_NEAR(double(got.size()), double(inside), 2.0);  // float vs double at the boundary
      for (auto p : got) {
        if (higher) {
          EXPECT_GE(double(p["score"]), th - 1e-4);
        } else {
          EXPECT_LE(double(p["score"]), th + 1e-4);
        }
      }
    }
  }
  // An HNSW collection with params.exact gives the exact answer too; hnsw_ef is accepted.
  ASSERT_TRUE(is_ok(s.put("/collections/h", R"({"vectors":{"size":8,"distance":"Euclid"}})")));
  ASSERT_TRUE(is_ok(s.put("/collections/h/points?wait=true", upsert_body(d))));
  for (auto& q : queries.points) {
    auto exact = brute_force(d, index::metric_kind::l2, q, nullptr);
    auto r = s.post("/collections/h/points/query",
                    R"({"query":{"nearest":)" + vec_json(q) +
                        R"(},"limit":10,"params":{"exact":true,"hnsw_ef":64}})");
    ASSERT_TRUE(is_ok(r));
    expect_matches(result(r)["points"], exact, 0, 10, d, index::metric_kind::l2, q);
  }
}

TEST(RestSearch, FiltersLimitsSelectorsQueryByIdAndBatches) {
  rest_server s;
  auto d = make_points(200, 8, 3);
  ASSERT_TRUE(is_ok(s.put("/collections/c", R"({"vectors":{"size":8,"distance":"Dot",
      "hnsw_config":{"m":0}}})")));
  ASSERT_TRUE(is_ok(s.put("/collections/c/points?wait=true", upsert_body(d))));
  auto q = d.points[5];
  auto exact = brute_force(d, index::metric_kind::ip, q, [](size_t i) { return i % 3 == 1; });
  auto f = s.post("/collections/c/points/query",
                  R"({"query":)" + vec_json(q) +
                      R"(,"limit":10,"filter":{"must":{"key":"group","match":{"value":1}}}})");
  ASSERT_TRUE(is_ok(f));
  expect_matches(result(f)["points"], exact, 0, 10, d, index::metric_kind::ip, q);

  // limit = u64::MAX is capped, not allocated.
  auto huge = s.post("/collections/c/points/query",
                     R"({"query":)" + vec_json(q) + R"(,"limit":18446744073709551615})");
  ASSERT_TRUE(is_ok(huge));
  EXPECT_EQ(result(huge)["points"].get_array().size(), 200u);
  EXPECT_TRUE(is_error(s.post("/collections/c/points/query", R"({"limit":0})"), 422,
                       "limit: value 0 invalid, must be 1 or larger"));
  EXPECT_TRUE(is_error(s.post("/collections/c/points/query", R"({"limit":-1})"), 400));
  EXPECT_TRUE(is_error(s.post("/collections/c/points/query",
                              R"({"query":)" + vec_json(q) + R"(,"params":{"hnsw_ef":0}})"),
                       422, "hnsw_ef"));
  EXPECT_TRUE(
      is_error(s.post("/collections/c/points/query", R"({"query":[1,2]})"), 400, "dimension"));
  EXPECT_TRUE(is_error(s.post("/collections/c/points/query", R"({"score_threshold":0.5})"), 400));
  EXPECT_TRUE(is_error(
      s.post("/collections/c/points/query", R"({"query":[1,2,3,4,5,6,7,8],"using":"other"})"), 400,
      "Not existing vector name error: other"));
  EXPECT_TRUE(is_error(
      s.post("/collections/c/points/query", R"({"query":{"recommend":{"positive":[1]}}})"), 400));
  EXPECT_TRUE(
      is_error(s.post("/collections/c/points/query?timeout=0", "{}"), 422, "query parameters"));
  EXPECT_TRUE(is_ok(s.post("/collections/c/points/query?consistency=majority&timeout=3", "{}")));

  // Without a query: points in id order, honouring offset, like a scroll.
  auto plain = s.post("/collections/c/points/query", R"({"limit":4,"offset":2})");
  ASSERT_TRUE(is_ok(plain));
  EXPECT_EQ(ids_of(result(plain)["points"]), (std::vector<std::string>{"2", "3", "4", "5"}));
  element absent;
  EXPECT_NE(result(plain)["points"].at(0)["payload"].get(absent), simdjson::SUCCESS)
      << "query leaves the payload out by default";

  // Selectors.
  auto sel = s.post(
      "/collections/c/points/query",
      R"({"query":)" + vec_json(q) + R"(,"limit":1,"with_payload":["group"],"with_vector":true})");
  ASSERT_TRUE(is_ok(sel));
  auto top = result(sel)["points"].at(0);
  EXPECT_TRUE(top["payload"]["group"].is_number());
  EXPECT_EQ(top["vector"].get_array().size(), 8u);
  auto exc =
      s.post("/collections/c/points/query",
             R"({"query":)" + vec_json(q) + R"(,"limit":1,"with_payload":{"exclude":["group"]}})");
  ASSERT_TRUE(is_ok(exc));
  EXPECT_EQ(result(exc)["points"].at(0)["payload"].get_object().size(), 0u);

  // By id: that point's vector, the point itself left out.
  auto by_id = s.post("/collections/c/points/query", R"({"query":5,"limit":3})");
  ASSERT_TRUE(is_ok(by_id));
  auto all_exact = brute_force(d, index::metric_kind::ip, q, [](size_t i) { return i != 5; });
  expect_matches(result(by_id)["points"], all_exact, 0, 3, d, index::metric_kind::ip, q);
  EXPECT_TRUE(is_error(s.post("/collections/c/points/query", R"({"query":99999})"), 404));

  // Batches: one answer per request, in order; an empty batch is [].
  auto b =
      s.post("/collections/c/points/query/batch",
             R"({"searches":[{"query":)" + vec_json(q) + R"(,"limit":2},{"limit":1},{"query":)" +
                 vec_json(d.points[9]) + R"(,"limit":1,"filter":{"must":[{"has_id":[9]}]}}]})");
  ASSERT_TRUE(is_ok(b));
  ASSERT_EQ(result(b).get_array().size(), 3u);
  EXPECT_EQ(result(b).at(0)["points"].get_array().size(), 2u);
  EXPECT_EQ(ids_of(result(b).at(2)["points"]), (std::vector<std::string>{"9"}));
  auto empty = s.post("/collections/c/points/query/batch", R"({"searches":[]})");
  ASSERT_TRUE(is_ok(empty));
  EXPECT_EQ(result(empty).get_array().size(), 0u);
  auto lb = s.post("/collections/c/points/search/batch",
                   R"({"searches":[{"vector":)" + vec_json(q) + R"(,"limit":2}]})");
  ASSERT_TRUE(is_ok(lb));
  EXPECT_EQ(result(lb).at(0).get_array().size(), 2u) << "legacy batch: arrays of arrays";
  EXPECT_TRUE(is_error(s.post("/collections/c/points/search", R"({"vector":[1,2,3,4,5,6,7,8]})"),
                       400, "limit"));
}

TEST(RestSearch, NamedVectorsSearchTheirOwnSpace) {
  rest_server s;
  ASSERT_TRUE(is_ok(s.put("/collections/n", R"({"vectors":{"a":{"size":2,"distance":"Euclid"},
      "b":{"size":2,"distance":"Dot"}}})")));
  ASSERT_TRUE(is_ok(s.put("/collections/n/points?wait=true", R"({"points":[
      {"id":1,"vector":{"a":[0,0],"b":[1,0]}},{"id":2,"vector":{"a":[5,5],"b":[9,9]}}]})")));
  auto a =
      s.post("/collections/n/points/search", R"({"vector":{"name":"a","vector":[1,1]},"limit":2})");
  ASSERT_TRUE(is_ok(a));
  EXPECT_EQ(ids_of(result(a)), (std::vector<std::string>{"1", "2"}));
  EXPECT_NEAR(double(result(a).at(0)["score"]), std::sqrt(2.0), 1e-5);
  auto b = s.post("/collections/n/points/query", R"({"query":[1,1],"using":"b","limit":2})");
  ASSERT_TRUE(is_ok(b));
  EXPECT_EQ(ids_of(result(b)["points"]), (std::vector<std::string>{"2", "1"}));
  EXPECT_NEAR(double(result(b)["points"].at(0)["score"]), 18.0, 1e-5);
}

TEST(RestFilters, TheGrammarOfRestApiSection7) {
  rest_server s;
  ASSERT_TRUE(is_ok(s.put("/collections/f", R"({"vectors":{"size":2,"distance":"Dot"}})")));
  ASSERT_TRUE(is_ok(s.put("/collections/f/points?wait=true", R"({"points":[
      {"id":1,"vector":[1,0],"payload":{"color":"red","n":1,"tags":["a","b"],
          "country":{"cities":[{"population":10},{"population":30}]},"flag":true}},
      {"id":2,"vector":[1,0],"payload":{"color":"blue","n":5,"tags":[],"maybe":null}},
      {"id":3,"vector":[1,0],"payload":{"color":["red","green"],"n":[7,9]}},
      {"id":4,"vector":[1,0],"payload":{"n":2.5}},
      {"id":5,"vector":[1,0]}]})")));
  struct c {
    const char* filter;
    uint64_t count;
  };
  for (auto [filter, want] : std::initializer_list<c>{
           {R"({"must":[{"key":"color","match":{"value":"red"}}]})", 2},
           {R"({"must":{"key":"color","match":{"value":"red"}}})", 2},
           {R"({"must_not":[{"key":"color","match":{"value":"red"}}]})", 3},
           {R"({"should":[{"key":"color","match":{"value":"blue"}},{"has_id":[4]}]})", 2},
           {R"({"should":[]})", 5},
           {R"({"must":[{"key":"color","match":{"any":["green","blue"]}}]})", 2},
           {R"({"must":[{"key":"color","match":{"any":[]}}]})", 0},
           {R"({"must":[{"key":"color","match":{"except":["red"]}}]})", 2},
           {R"({"must":[{"key":"color","match":{"except":[]}}]})", 3},
           {R"({"must":[{"key":"color","match":{"except":[1,2]}}]})", 3},
           {R"({"must":[{"key":"n","range":{"gt":1,"lte":7}}]})", 3},
           {R"({"must":[{"key":"n","range":{"gte":9}}]})", 1},
           {R"({"must":[{"key":"flag","match":{"value":true}}]})", 1},
           {R"({"must":[{"key":"n","match":{"value":5}}]})", 1},
           {R"({"must":[{"has_id":[1,3,99]}]})", 2},
           {R"({"must":[{"is_empty":{"key":"tags"}}]})", 4},
           {R"({"must":[{"key":"tags","is_empty":true}]})", 4},
           {R"({"must":[{"is_null":{"key":"maybe"}}]})", 1},
           {R"({"must_not":[{"is_empty":{"key":"maybe"}}]})", 0},
           {R"({"must":[{"key":"country.cities[].population","range":{"gte":20}}]})", 1},
           {R"({"must":[{"key":"country.cities.population","range":{"gte":20}}]})", 0},
           {R"({"must":[{"key":"country.cities[0].population","match":{"value":10}}]})", 1},
           {R"({"must":[{"must_not":[{"has_id":[1]}]},{"key":"color","match":{"value":"red"}}]})",
            1},
           {R"({"must":[{"should":[{"has_id":[2]},{"has_id":[5]}]}],"must_not":[{"has_id":[5]}]})",
            1},
       }) {
    EXPECT_EQ(count_of(s, "f", filter), want) << filter;
  }
  EXPECT_TRUE(
      is_error(s.post("/collections/f/points/count", R"({"filter":{"must":[{"key":"color"}]}})"),
               422, "At least one field condition must be specified"));
  EXPECT_TRUE(is_error(s.post("/collections/f/points/count",
                              R"({"filter":{"must":[{"key":"a..b","match":{"value":1}}]}})"),
                       422));
  EXPECT_TRUE(is_error(s.post("/collections/f/points/count", R"({"filter":{"mist":[]}})"), 400));
  EXPECT_TRUE(is_error(s.post("/collections/f/points/count", R"({"filter":{"must":[{
      "key":"x","match":{"text":"hello"}}]}})"),
                       400));
}

}  // namespace
}  // namespace shoal::test
