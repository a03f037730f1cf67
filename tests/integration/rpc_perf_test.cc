// shoal-perf against a real shoald over both protocols, on a small generated set: ingest, then
// search with recall checked against a known answer (exact ground truth on a flat index must
// give 1.0; a ground truth with half of each top-10 replaced by ids that do not exist must give
// exactly 0.5), open-loop rate, the plot, and clear failures.
#include <fstream>
#include <list>
#include <sstream>

#include <gtest/gtest.h>
#include <simdjson.h>

#include "tests/support/child_process.h"
#include "tests/support/tmpdir.h"

namespace shoal {
namespace {

using namespace std::chrono_literals;
using test::child_process;

std::filesystem::path bin(const char* name) {
  return test::binary_dir() / name;
}

struct server {
  explicit server(const test::tmpdir& dir)
      : process(bin("shoald"),
                {"--data-dir", (dir / "data").string(), "--http-addr", "127.0.0.1:0", "--rpc-addr",
                 "127.0.0.1:0", "--cores", "2", "--log-level", "info"},
                dir / "shoald.log") {
    auto h = process.wait_for_log(R"(HTTP listening on 127\.0\.0\.1:(\d+))", 30s);
    auto r = process.wait_for_log(R"(RPC listening on 127\.0\.0\.1:(\d+))", 30s);
    if (!h || !r || !process.wait_for_log("shoald ready", 30s)) {
      throw std::runtime_error("shoald did not start:\n" + process.log());
    }
    http = "http://127.0.0.1:" + *h;
    rpc = "rpc://127.0.0.1:" + *r;
  }
  ~server() {
    process.signal(SIGTERM);
    process.wait_exit(30s);
  }
  child_process process;
  std::string http, rpc;
};

struct perf_run {
  int code = -1;
  std::string out;
  simdjson::dom::element json;
};

class ShoalPerf : public ::testing::Test {
 protected:
  perf_run perf(std::vector<std::string> args, const std::string& json_name = "") {
    perf_run r;
    if (!json_name.empty()) {
      args.push_back("--json");
      args.push_back((dir_ / json_name).string());
    }
    child_process p(bin("shoal-perf"), args, dir_ / "perf.log");
    r.code = p.wait_exit(120s).value_or(-1);
    r.out = p.log();
    if (r.code == 0 && !json_name.empty()) {
      std::ifstream in(dir_ / json_name);
      std::stringstream ss;
      ss << in.rdbuf();
      texts_.push_back(ss.str());
      // Each run keeps its own parser, so its document stays valid for the test.
      parsers_.emplace_back();
      if (parsers_.back().parse(texts_.back()).get(r.json) != simdjson::SUCCESS) {
        ADD_FAILURE() << "not JSON: " << texts_.back();
      }
    }
    return r;
  }

  void SetUp() override {
    auto g = perf({"gen", "--out", (dir_ / "set").string(), "--n", "3000", "--queries", "100",
                   "--dim", "24", "--clusters", "8", "--gt-k", "10"});
    ASSERT_EQ(g.code, 0) << g.out;
  }

  std::string base() const { return (dir_ / "set/base.fvecs").string(); }
  std::string query() const { return (dir_ / "set/query.fvecs").string(); }
  std::string gt() const { return (dir_ / "set/groundtruth.ivecs").string(); }

  test::tmpdir dir_;
  std::list<simdjson::dom::parser> parsers_;
  std::list<std::string> texts_;
};

double number(simdjson::dom::element e, const char* key) {
  double v = -1;
  if (e[key].get_double().get(v) != simdjson::SUCCESS) {
    uint64_t u = 0;
    if (e[key].get_uint64().get(u) == simdjson::SUCCESS) v = static_cast<double>(u);
  }
  return v;
}

TEST_F(ShoalPerf, IngestsAndSearchesOverBothProtocolsWithExactRecall) {
  server s(dir_);
  for (auto target : {s.rpc, s.http}) {
    bool rpc = target.rfind("rpc", 0) == 0;
    std::string coll = rpc ? "viarpc" : "viahttp";
    auto in = perf({"ingest", "--target", target, "--collection", coll, "--base", base(), "--index",
                    "flat", "--batch", "256", "--concurrency", "3", "--durability", "local"},
                   coll + "-ingest.json");
    ASSERT_EQ(in.code, 0) << in.out;
    EXPECT_EQ(number(in.json, "vectors"), 3000);
    EXPECT_GT(number(in.json, "seconds"), 0);
    EXPECT_GT(number(in.json, "vectors_per_second"), 0);

    auto se = perf({"search", "--target", target, "--collection", coll, "--query", query(), "--gt",
                    gt(), "--k", "10", "--count", "300", "--concurrency", "4"},
                   coll + "-search.json");
    ASSERT_EQ(se.code, 0) << se.out;
    EXPECT_EQ(number(se.json, "recall_at_10"), 1.0) << "exact search against exact truth";
    EXPECT_EQ(number(se.json, "errors"), 0);
    EXPECT_EQ(number(se.json, "requests"), 300);
    EXPECT_GT(number(se.json, "qps"), 0);
    simdjson::dom::element lat = se.json["latency_ms"];
    for (auto key : {"p50", "p90", "p99", "p999", "max"}) {
      EXPECT_GT(number(lat, key), 0) << key;
    }
    EXPECT_LE(number(lat, "p50"), number(lat, "p99"));
    EXPECT_LE(number(lat, "p99"), number(lat, "max"));
  }
}

TEST_F(ShoalPerf, RecallIsComputedAgainstTheGivenAnswer) {
  server s(dir_);
  auto in =
      perf({"ingest", "--target", s.rpc, "--collection", "c", "--base", base(), "--index", "flat"});
  ASSERT_EQ(in.code, 0) << in.out;
  // The same truth with ids 5..9 of every row replaced by ids no point has: recall is 0.5.
  {
    std::ifstream in_gt(gt(), std::ios::binary);
    std::ofstream out_gt(dir_ / "half.ivecs", std::ios::binary);
    int32_t dim = 0;
    while (in_gt.read(reinterpret_cast<char*>(&dim), 4)) {
      std::vector<int32_t> row(static_cast<size_t>(dim));
      in_gt.read(reinterpret_cast<char*>(row.data()), dim * 4);
      for (int j = 5; j < 10; ++j) row[j] = 1'000'000 + j;
      out_gt.write(reinterpret_cast<const char*>(&dim), 4);
      out_gt.write(reinterpret_cast<const char*>(row.data()), dim * 4);
    }
  }
  auto se = perf({"search", "--target", s.rpc, "--collection", "c", "--query", query(), "--gt",
                  (dir_ / "half.ivecs").string()},
                 "half.json");
  ASSERT_EQ(se.code, 0) << se.out;
  EXPECT_EQ(number(se.json, "recall_at_10"), 0.5);
  EXPECT_EQ(number(se.json, "requests"), 100) << "one pass over the queries by default";

  // HNSW through the same path: high, not necessarily perfect.
  in =
      perf({"ingest", "--target", s.rpc, "--collection", "h", "--base", base(), "--index", "hnsw"});
  ASSERT_EQ(in.code, 0) << in.out;
  se = perf({"search", "--target", s.rpc, "--collection", "h", "--query", query(), "--gt", gt(),
             "--ef", "64"},
            "hnsw.json");
  ASSERT_EQ(se.code, 0) << se.out;
  EXPECT_GT(number(se.json, "recall_at_10"), 0.9);
}

TEST_F(ShoalPerf, OpenLoopKeepsItsRateAndDrawsThePlot) {
  server s(dir_);
  ASSERT_EQ(
      perf({"ingest", "--target", s.rpc, "--collection", "c", "--base", base(), "--index", "flat"})
          .code,
      0);
  auto svg = (dir_ / "plot.svg").string();
  auto se =
      perf({"search", "--target", s.rpc, "--collection", "c", "--query", query(), "--gt", gt(),
            "--rate", "400", "--duration", "1.5", "--plot", svg, "--plot-interval", "0.25"},
           "open.json");
  ASSERT_EQ(se.code, 0) << se.out;
  EXPECT_EQ(std::string_view(se.json["mode"]), "open");
  EXPECT_NEAR(number(se.json, "requests"), 600, 30);
  EXPECT_NEAR(number(se.json, "qps"), 400, 60);
  std::ifstream in(svg);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_NE(text.str().find("<polyline"), std::string::npos);
}

TEST_F(ShoalPerf, FailuresAreClear) {
  server s(dir_);
  ASSERT_EQ(perf({"ingest", "--target", s.rpc, "--collection", "c", "--base", base()}).code, 0);
  // Another dimension into the same collection: refused, exit 1, the server's message shown.
  auto other = perf(
      {"gen", "--out", (dir_ / "other").string(), "--n", "10", "--queries", "1", "--dim", "8"});
  ASSERT_EQ(other.code, 0);
  auto bad = perf({"ingest", "--target", s.rpc, "--collection", "c", "--base",
                   (dir_ / "other/base.fvecs").string()});
  EXPECT_EQ(bad.code, 1);
  EXPECT_NE(bad.out.find("Vector dimension error: expected dim: 24, got 8"), std::string::npos)
      << bad.out;
  auto usage = perf(
      {"search", "--target", "grpc://x:1", "--collection", "c", "--query", query(), "--gt", gt()});
  EXPECT_EQ(usage.code, 2);
  EXPECT_NE(usage.out.find("expected rpc://, rpcs://, http:// or https:// HOST:PORT"),
            std::string::npos);
  auto missing = perf({"search", "--target", s.http, "--collection", "nope", "--query", query(),
                       "--gt", gt(), "--count", "5"});
  EXPECT_EQ(missing.code, 1);
  EXPECT_NE(missing.out.find("doesn't exist"), std::string::npos) << missing.out;
}

}  // namespace
}  // namespace shoal
