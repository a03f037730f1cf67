// shoal-perf's measuring parts: the log-linear latency histogram against exact percentiles,
// recall against known answers, target addresses and the SVG plot.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include <gtest/gtest.h>

#include "perf/shoal_perf/histogram.h"
#include "perf/shoal_perf/recall.h"
#include "perf/shoal_perf/report.h"
#include "perf/shoal_perf/targets.h"
#include "tests/support/tmpdir.h"

namespace shoal::perf {
namespace {

TEST(LatencyHistogram, BucketsTileTheRangeWithBoundedRelativeError) {
  uint64_t expect_low = 0;
  for (size_t i = 0; i < latency_histogram::bucket_count(); ++i) {
    ASSERT_EQ(latency_histogram::lowest_in(i), expect_low) << i;
    uint64_t hi = latency_histogram::highest_in(i);
    ASSERT_GE(hi, expect_low);
    EXPECT_EQ(latency_histogram::index_of(expect_low), i);
    EXPECT_EQ(latency_histogram::index_of(hi), i);
    // Width at most 1/128 of the bucket's lowest value (above the exact range).
    if (expect_low >= 128) EXPECT_LE(hi - expect_low + 1, expect_low / 128) << i;
    expect_low = hi + 1;
  }
  EXPECT_EQ(expect_low, uint64_t{1} << latency_histogram::kMaxBits);
  // Beyond the range: clamped into the last bucket.
  EXPECT_EQ(latency_histogram::index_of(~uint64_t{0}), latency_histogram::bucket_count() - 1);
}

TEST(LatencyHistogram, PercentilesMatchExactOnesWithin1Percent) {
  std::mt19937_64 rng(3);
  std::lognormal_distribution<double> d(std::log(2e6), 0.8);  // around 2 ms, long tail
  latency_histogram h;
  std::vector<uint64_t> all;
  for (int i = 0; i < 100000; ++i) {
    auto v = static_cast<uint64_t>(d(rng));
    h.record(v);
    all.push_back(v);
  }
  std::sort(all.begin(), all.end());
  for (double q : {0.5, 0.9, 0.99, 0.999}) {
    auto exact = all[static_cast<size_t>(std::ceil(q * all.size())) - 1];
    auto got = h.value_at(q);
    EXPECT_GE(got, exact) << q;
    EXPECT_LE(static_cast<double>(got), exact * 1.008 + 1) << q;
  }
  EXPECT_EQ(h.max(), all.back());
  EXPECT_EQ(h.min(), all.front());
  EXPECT_EQ(h.value_at(1.0), all.back());
  EXPECT_EQ(h.count(), all.size());
}

TEST(LatencyHistogram, SmallCountsMergeAndReset) {
  latency_histogram a, b;
  EXPECT_EQ(a.value_at(0.5), 0u);
  for (uint64_t v : {10, 20, 30}) a.record(v);
  for (uint64_t v : {40, 50}) b.record(v);
  a.merge(b);
  EXPECT_EQ(a.count(), 5u);
  EXPECT_EQ(a.value_at(0.5), 30u);  // exact below 128
  EXPECT_EQ(a.value_at(0.0), 10u);
  EXPECT_EQ(a.max(), 50u);
  EXPECT_DOUBLE_EQ(a.mean(), 30.0);
  a.reset();
  EXPECT_EQ(a.count(), 0u);
  EXPECT_EQ(a.max(), 0u);
}

TEST(Recall, CountsTheTrueNeighboursFoundInTheFirstK) {
  std::vector<int32_t> truth = {7, 3, 9, 1, 4, 8, 2, 6, 5, 0, 11, 12};
  std::vector<int64_t> perfect = {7, 3, 9, 1, 4, 8, 2, 6, 5, 0};
  auto r = count_recall(perfect, truth, 10);
  EXPECT_EQ(r.hits, 10u);
  EXPECT_EQ(r.wanted, 10u);
  // Order inside the top k does not matter; what is past k does not count.
  std::vector<int64_t> shuffled = {0, 5, 6, 2, 8, 4, 1, 9, 3, 7};
  EXPECT_EQ(count_recall(shuffled, truth, 10).hits, 10u);
  std::vector<int64_t> half = {7, 3, 9, 1, 4, 100, 101, 102, 103, 104, 8, 2};
  EXPECT_EQ(count_recall(half, truth, 10).hits, 5u);
  // Fewer results than k, duplicates, and "none" entries in the truth.
  std::vector<int64_t> short_dup = {7, 7, 3};
  EXPECT_EQ(count_recall(short_dup, truth, 10).hits, 2u);
  std::vector<int32_t> sparse_truth = {7, -1, -1};
  auto s = count_recall(perfect, sparse_truth, 10);
  EXPECT_EQ(s.hits, 1u);
  EXPECT_EQ(s.wanted, 1u);
  EXPECT_EQ(count_recall(perfect, truth, 1).hits, 1u);
}

TEST(Targets, AddressesAndCreateBodies) {
  std::string error;
  auto r = parse_target("rpc://127.0.0.1:6335", error);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->rpc);
  EXPECT_EQ(r->host, "127.0.0.1");
  EXPECT_EQ(r->port, 6335);
  auto h = parse_target("http://localhost:6333/", error);
  ASSERT_TRUE(h);
  EXPECT_FALSE(h->rpc);
  EXPECT_EQ(h->host, "localhost");
  auto v6 = parse_target("rpc://[::1]:7000", error);
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->host, "::1");
  EXPECT_FALSE(parse_target("grpc://x:1", error));
  EXPECT_FALSE(parse_target("rpc://x", error));
  EXPECT_FALSE(parse_target("rpc://x:99999", error));
  EXPECT_NE(error.find("bad port"), std::string::npos);
  collection_spec spec;
  spec.dim = 768;
  spec.metric = "cosine";
  spec.index = "flat";
  spec.shards = 2;
  EXPECT_EQ(create_config_json(spec),
            R"({"vectors":{"size":768,"distance":"Cosine","index":"flat",)"
            R"("hnsw_config":{"m":16,"ef_construct":100}},"shard_number":2})");
}

TEST(Report, SvgPlotHasBothPanelsAndEveryWindow) {
  test::tmpdir dir;
  time_series s;
  for (int w = 0; w < 5; ++w) {
    for (int i = 0; i < 100; ++i) s.record(1'000'000 + w * 100'000 + i * 1000, i != 0);
    s.roll(w + 1.0);
  }
  ASSERT_EQ(s.windows().size(), 5u);
  EXPECT_EQ(s.windows()[2].requests, 99u);
  EXPECT_EQ(s.windows()[2].errors, 1u);
  EXPECT_NEAR(s.windows()[0].p50_ms, 1.05, 0.02);
  std::string error;
  auto path = (dir / "plot.svg").string();
  ASSERT_TRUE(write_svg_plot(path, "a <test> & more", s.windows(), error)) << error;
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  auto svg = text.str();
  EXPECT_EQ(svg.rfind("<svg", 0), 0u);
  EXPECT_NE(svg.find("a &lt;test&gt; &amp; more"), std::string::npos);
  EXPECT_NE(svg.find("latency (log scale)"), std::string::npos);
  EXPECT_NE(svg.find("throughput (requests/s)"), std::string::npos);
  EXPECT_EQ(std::count(svg.begin(), svg.end(), '\n') > 10, true);
  EXPECT_NE(svg.find("</svg>"), std::string::npos);
  EXPECT_FALSE(write_svg_plot((dir / "no/such/dir/x.svg").string(), "t", s.windows(), error));
}

TEST(Report, HumanNumbers) {
  EXPECT_EQ(human_count(950), "950");
  EXPECT_EQ(human_count(12345), "12.3k");
  EXPECT_EQ(human_count(2.5e6), "2.50M");
  EXPECT_EQ(human_eta(3.2), "4s");
  EXPECT_EQ(human_eta(125), "2m05s");
  EXPECT_EQ(human_eta(-1), "-");
}

}  // namespace
}  // namespace shoal::perf
