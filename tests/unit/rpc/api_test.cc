// The client API over RPC against in-process collections (as shoald serves it): collections,
// bulk upsert, delete, batch search with payloads and filters, results against brute force, and
// the same validation and error classes as the REST API.
#include "net/rpc/api.h"

#include <algorithm>
#include <cmath>
#include <random>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "engine/shard/collections.h"
#include "engine/shard/coordinator.h"
#include "net/rpc/client.h"
#include "tests/support/brute_force_oracle.h"
#include "tests/support/tmpdir.h"
#include "tests/unit/rpc/rpc_fixture.h"

namespace shoal::rpc {
namespace {

using namespace std::chrono_literals;

/// Collections in a temporary directory, the coordinator and the API methods.
struct api_setup : test::rpc_setup {
  explicit api_setup(api_limits l, bool ready) : limits(l), ready_flag(ready) {}
  awaitable<void> start(dispatcher& d) override {
    shard::node_options storage;
    storage.data_dir = dir.path() / "data";
    storage.snapshot_on_close = false;
    co_await colls.start(storage);
    coord = std::make_unique<shard::coordinator>(colls);
    co_await shard::collections::load_all(colls);
    bool r = ready_flag;
    add_api_methods(d, {.coordinator = coord.get(), .limits = limits, .ready = [r] { return r; }});
  }
  awaitable<void> stop() override { co_await colls.stop(); }

  test::tmpdir dir;
  api_limits limits;
  bool ready_flag;
  rt::sharded<shard::collections> colls;
  std::unique_ptr<shard::coordinator> coord;
};

class RpcApi : public ::testing::Test {
 protected:
  void start(api_limits limits = {}, bool ready = true) {
    server_ =
        std::make_unique<test::rpc_test_server>(server_config{}, std::make_shared<dispatcher>(), 0,
                                                2, std::make_shared<api_setup>(limits, ready));
    client_options o;
    o.port = server_->port();
    o.request_timeout = 20s;
    client_ = std::make_unique<sync_client>(o);
  }
  void SetUp() override { start(); }
  void TearDown() override {
    client_.reset();
    server_.reset();
  }

  void create(const std::string& name, const std::string& config) {
    auto r = client_->create_collection({name, config, false});
    ASSERT_TRUE(r) << r.error().describe();
    ASSERT_TRUE(*r);
  }

  std::unique_ptr<test::rpc_test_server> server_;
  std::unique_ptr<sync_client> client_;
};

std::vector<data::point_id> ids_from(size_t first, size_t n) {
  std::vector<data::point_id> ids;
  for (size_t i = 0; i < n; ++i) ids.push_back(data::point_id::number(first + i));
  return ids;
}

std::vector<float> random_vectors(size_t n, size_t dim, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> u(-1, 1);
  std::vector<float> v(n * dim);
  for (auto& x : v) x = u(rng);
  return v;
}

TEST_F(RpcApi, PingNamesTheCoreAndTheVersion) {
  auto p = client_->ping();
  ASSERT_TRUE(p) << p.error().describe();
  EXPECT_EQ(p->cores, 2u);
  EXPECT_LT(p->core, 2u);
  EXPECT_FALSE(p->version.empty());
}

TEST_F(RpcApi, CollectionsAreCreatedDescribedAndDropped) {
  create("docs", R"({"vectors":{"size":4,"distance":"Cosine"}})");
  auto again = client_->create_collection({"docs", R"({"vectors":{"size":4,"distance":"Cosine"}})",
                                           /*if_missing=*/true});
  ASSERT_TRUE(again);
  EXPECT_FALSE(*again) << "existed";
  auto dup = client_->create_collection({"docs", R"({"vectors":{"size":4,"distance":"Cosine"}})"});
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().code, status::already_exists);
  EXPECT_EQ(dup.error().message, "Wrong input: Collection `docs` already exists!");

  auto info = client_->get_collection("docs");
  ASSERT_TRUE(info) << info.error().describe();
  EXPECT_EQ(info->points, 0u);
  EXPECT_EQ(info->shards, 2u);
  EXPECT_NE(info->config_json.find(R"("size":4)"), std::string::npos) << info->config_json;

  auto bad_name = client_->create_collection({"a/b", R"({"vectors":{"size":4,"distance":"Dot"}})"});
  ASSERT_FALSE(bad_name);
  EXPECT_EQ(bad_name.error().code, status::validation_error);
  auto bad_json = client_->create_collection({"x", R"({"vectors":)"});
  ASSERT_FALSE(bad_json);
  EXPECT_EQ(bad_json.error().code, status::format_error);
  auto bad_config = client_->create_collection({"x", R"({"vectors":{"size":4,"distance":"Far"}})"});
  ASSERT_FALSE(bad_config);
  EXPECT_EQ(bad_config.error().code, status::format_error);
  EXPECT_NE(bad_config.error().message.find("unknown variant `Far`"), std::string::npos);

  auto dropped = client_->drop_collection("docs");
  ASSERT_TRUE(dropped);
  EXPECT_TRUE(*dropped);
  dropped = client_->drop_collection("docs");
  ASSERT_TRUE(dropped);
  EXPECT_FALSE(*dropped);
  auto gone = client_->get_collection("docs");
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().code, status::not_found);
  EXPECT_EQ(gone.error().message, "Not found: Collection `docs` doesn't exist!");
}

TEST_F(RpcApi, SearchResultsMatchBruteForceAndCarryPayloads) {
  const size_t n = 400, dim = 16, k = 10;
  create("flat",
         fmt::format(R"({{"vectors":{{"size":{},"distance":"Euclid","index":"flat"}}}})", dim));
  auto base = random_vectors(n, dim, 1);
  auto ids = ids_from(0, n);
  std::vector<std::string> payload_text;
  for (size_t i = 0; i < n; ++i) payload_text.push_back(fmt::format(R"({{"group":{}}})", i % 4));
  std::vector<std::string_view> payloads(payload_text.begin(), payload_text.end());
  for (size_t at = 0; at < n; at += 128) {
    size_t m = std::min<size_t>(128, n - at);
    auto r =
        client_->upsert({.collection = "flat",
                         .durability = at == 0 ? durability_level::local : durability_level::memory,
                         .dim = dim,
                         .ids = std::span(ids).subspan(at, m),
                         .vectors = std::span(base).subspan(at * dim, m * dim),
                         .payloads = std::span(payloads).subspan(at, m)});
    ASSERT_TRUE(r) << r.error().describe();
    EXPECT_EQ(r->points, m);
    EXPECT_GT(r->operation_id, 0u);
  }
  auto info = client_->get_collection("flat");
  ASSERT_TRUE(info);
  EXPECT_EQ(info->points, n);

  const size_t nq = 6;
  auto queries = random_vectors(nq, dim, 2);
  auto found = client_->search(
      {.collection = "flat", .k = k, .with_payload = true, .dim = dim, .queries = queries});
  ASSERT_TRUE(found) << found.error().describe();
  ASSERT_EQ(found->queries(), nq);
  std::vector<index::label_t> labels(n);
  for (size_t i = 0; i < n; ++i) labels[i] = i;
  for (size_t q = 0; q < nq; ++q) {
    auto truth = test::exact_knn(index::metric_kind::l2, &queries[q * dim], base, labels, dim, k);
    auto hits = found->of(q);
    ASSERT_EQ(hits.size(), k);
    for (size_t j = 0; j < k; ++j) {
      EXPECT_EQ(hits[j].id, data::point_id::number(truth[j].label)) << q << "/" << j;
      EXPECT_NEAR(hits[j].score, std::sqrt(truth[j].distance), 1e-3);
      EXPECT_EQ(hits[j].payload_json,
                fmt::format(R"({{"group":{}}})", hits[j].id.number_value() % 4));
    }
  }

  // A filter is applied inside the search.
  auto filtered =
      client_->search({.collection = "flat",
                       .k = k,
                       .filter_json = R"({"must":[{"key":"group","match":{"value":1}}]})",
                       .dim = dim,
                       .queries = std::span(queries).first(dim)});
  ASSERT_TRUE(filtered) << filtered.error().describe();
  ASSERT_EQ(filtered->of(0).size(), k);
  for (auto& h : filtered->of(0)) {
    EXPECT_EQ(h.id.number_value() % 4, 1u);
    EXPECT_TRUE(h.payload_json.empty()) << "with_payload was not asked";
  }

  // Deleted points are gone.
  auto first = found->of(0)[0].id;
  std::vector<data::point_id> doomed = {first};
  auto del = client_->delete_points({.collection = "flat", .ids = doomed});
  ASSERT_TRUE(del) << del.error().describe();
  EXPECT_EQ(del->points, 1u);
  auto after = client_->search(
      {.collection = "flat", .k = k, .dim = dim, .queries = std::span(queries).first(dim)});
  ASSERT_TRUE(after);
  for (auto& h : after->of(0)) EXPECT_NE(h.id, first);
  EXPECT_EQ(client_->get_collection("flat")->points, n - 1);
}

TEST_F(RpcApi, HnswCollectionsAndUuidIdsWork) {
  const size_t n = 500, dim = 8;
  create("hnsw", fmt::format(R"({{"vectors":{{"size":{},"distance":"Cosine"}}}})", dim));
  auto base = random_vectors(n, dim, 3);
  std::vector<data::point_id> ids;
  for (size_t i = 0; i < n; ++i) ids.push_back(data::point_id::uuid(0xabcdef, i + 1));
  auto r = client_->upsert({.collection = "hnsw", .dim = dim, .ids = ids, .vectors = base});
  ASSERT_TRUE(r) << r.error().describe();
  // A stored vector finds itself first.
  auto found = client_->search({.collection = "hnsw",
                                .k = 3,
                                .ef = 64,
                                .dim = dim,
                                .queries = std::span(base).subspan(17 * dim, dim)});
  ASSERT_TRUE(found) << found.error().describe();
  ASSERT_FALSE(found->of(0).empty());
  EXPECT_EQ(found->of(0)[0].id, ids[17]);
  EXPECT_NEAR(found->of(0)[0].score, 1.0f, 1e-4);
}

TEST_F(RpcApi, ARepeatedIdKeepsItsLastPoint) {
  create("dups", R"({"vectors":{"size":2,"distance":"Euclid","index":"flat"}})");
  std::vector<data::point_id> ids = {data::point_id::number(1), data::point_id::number(2),
                                     data::point_id::number(1)};
  std::vector<float> v = {0, 0, 5, 5, 9, 9};
  auto r = client_->upsert({.collection = "dups", .dim = 2, .ids = ids, .vectors = v});
  ASSERT_TRUE(r) << r.error().describe();
  EXPECT_EQ(client_->get_collection("dups")->points, 2u);
  std::vector<float> q = {9, 9};
  auto found = client_->search({.collection = "dups", .k = 1, .dim = 2, .queries = q});
  ASSERT_TRUE(found);
  EXPECT_EQ(found->of(0)[0].id, data::point_id::number(1));
  EXPECT_NEAR(found->of(0)[0].score, 0.0f, 1e-6);
}

TEST_F(RpcApi, BadInputIsRefusedWholeWithTheRestApisErrorClasses) {
  create("c", R"({"vectors":{"size":3,"distance":"Cosine"}})");
  auto ids = ids_from(0, 3);
  std::vector<float> good = {1, 0, 0, 0, 1, 0, 0, 0, 1};
  auto upsert = [&](upsert_request r) {
    r.collection = r.collection.empty() ? "c" : r.collection;
    return client_->upsert(r);
  };

  auto wrong_dim =
      upsert({.dim = 4, .ids = std::span(ids).first(2), .vectors = std::span(good).first(8)});
  ASSERT_FALSE(wrong_dim);
  EXPECT_EQ(wrong_dim.error().code, status::wrong_input);
  EXPECT_EQ(wrong_dim.error().message,
            "Wrong input: Vector dimension error: expected dim: 3, got 4");

  auto nan = good;
  nan[7] = std::nanf("");
  auto r = upsert({.dim = 3, .ids = ids, .vectors = nan});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, status::wrong_input);
  EXPECT_NE(r.error().message.find("points[2].vector: value nan is not a finite 32-bit float"),
            std::string::npos)
      << r.error().message;
  EXPECT_EQ(client_->get_collection("c")->points, 0u) << "nothing of a refused batch is applied";

  auto zero = good;
  std::fill(zero.begin() + 3, zero.begin() + 6, 0.0f);
  r = upsert({.dim = 3, .ids = ids, .vectors = zero});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, status::wrong_input);
  EXPECT_NE(r.error().message.find("zero vector"), std::string::npos);

  std::vector<std::string_view> bad_payloads = {"{}", "[1,2]", "{}"};
  r = upsert({.dim = 3, .ids = ids, .vectors = good, .payloads = bad_payloads});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, status::format_error);
  EXPECT_NE(r.error().message.find("points[1].payload: a payload is a JSON object"),
            std::string::npos);
  std::vector<std::string_view> broken_payloads = {"{}", "{}", R"({"a":)"};
  r = upsert({.dim = 3, .ids = ids, .vectors = good, .payloads = broken_payloads});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, status::format_error);

  r = upsert({.vector_name = "text", .dim = 3, .ids = ids, .vectors = good});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, status::wrong_input);
  EXPECT_EQ(r.error().message, "Wrong input: Not existing vector name error: text");

  r = upsert({.collection = "nope", .dim = 3, .ids = ids, .vectors = good});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, status::not_found);
  EXPECT_EQ(r.error().message, "Not found: Collection `nope` doesn't exist!");

  EXPECT_EQ(client_->get_collection("c")->points, 0u);
  ASSERT_TRUE(upsert({.dim = 3, .ids = ids, .vectors = good}));
  EXPECT_EQ(client_->get_collection("c")->points, 3u);

  std::vector<float> q = {1, 0, 0};
  auto s = client_->search({.collection = "c", .k = 0, .dim = 3, .queries = q});
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, status::validation_error);
  s = client_->search({.collection = "c", .k = 1, .dim = 2, .queries = std::span(q).first(2)});
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, status::wrong_input);
  s = client_->search(
      {.collection = "c", .k = 1, .filter_json = R"({"must":{"key":)", .dim = 3, .queries = q});
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, status::format_error);
  s = client_->search({.collection = "c",
                       .k = 1,
                       .filter_json = R"({"must":[{"geo_radius":{}}]})",
                       .dim = 3,
                       .queries = q});
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, status::format_error);

  // A payload that is not the method's message at all.
  bytes junk(10, std::byte{0x55});
  auto m = client_->call(method::upsert, junk);
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().code, status::malformed);
  EXPECT_EQ(m.error().message, "the upsert request does not decode (truncated or corrupt payload)");
}

TEST(RpcApiLimits, LimitsAreTheRestApisAndANodeThatIsNotReadySaysSo) {
  client_options o;
  {
    api_limits limits;
    limits.max_points_per_request = 5;
    limits.max_batch_searches = 2;
    auto setup = std::make_shared<api_setup>(limits, true);
    test::rpc_test_server server(server_config{}, std::make_shared<dispatcher>(), 0, 2, setup);
    o.port = server.port();
    sync_client c(o);
    ASSERT_TRUE(c.create_collection({"c", R"({"vectors":{"size":1,"distance":"Euclid"}})"}));
    auto ids = ids_from(0, 6);
    std::vector<float> v = {1, 2, 3, 4, 5, 6};
    auto r = c.upsert({.collection = "c", .dim = 1, .ids = ids, .vectors = v});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, status::validation_error);
    EXPECT_EQ(r.error().message,
              "Validation error in request: [points: 6 points in one request, the limit is 5]");
    auto s = c.search({.collection = "c", .k = 1, .dim = 1, .queries = std::span(v).first(3)});
    ASSERT_FALSE(s);
    EXPECT_EQ(s.error().code, status::validation_error);
  }
  // One runtime per process at a time: the second server starts after the first stopped.
  auto not_ready_setup = std::make_shared<api_setup>(api_limits{}, false);
  test::rpc_test_server starting(server_config{}, std::make_shared<dispatcher>(), 0, 2,
                                 not_ready_setup);
  o.port = starting.port();
  sync_client c2(o);
  EXPECT_TRUE(c2.ping()) << "ping answers while the node starts";
  auto u = c2.create_collection({"c", R"({"vectors":{"size":1,"distance":"Euclid"}})"});
  ASSERT_FALSE(u);
  EXPECT_EQ(u.error().code, status::unavailable);
  EXPECT_TRUE(retryable(u.error().code));
}

}  // namespace
}  // namespace shoal::rpc
