#include "engine/common/metrics.h"

#include <gtest/gtest.h>

namespace shoal::metrics {
namespace {

TEST(Metrics, SameNameAndLabelsIsTheSameObject) {
  registry r;
  auto& a = r.make_counter("x_total", "help", {{"route", "/a"}});
  auto& b = r.make_counter("x_total", "help", {{"route", "/a"}});
  auto& c = r.make_counter("x_total", "help", {{"route", "/b"}});
  EXPECT_EQ(&a, &b);
  EXPECT_NE(&a, &c);
}

TEST(Metrics, SnapshotsFromTwoCoresMergeBySummingEqualLabels) {
  registry core0, core1;
  core0.make_counter("req_total", "requests", {{"core", "0"}}).inc(3);
  core1.make_counter("req_total", "requests", {{"core", "1"}}).inc(4);
  core0.make_histogram("lat_seconds", "latency").observe(0.0002);
  core1.make_histogram("lat_seconds", "latency").observe(0.2);
  auto snap = core0.take_snapshot();
  snap.merge(core1.take_snapshot());
  EXPECT_EQ(snap.total("req_total"), 7);
  EXPECT_EQ(snap.total("req_total", {{"core", "1"}}), 4);
  EXPECT_EQ(snap.total("lat_seconds"), 2);  // one histogram, two observations
  auto text = snap.to_prometheus();
  EXPECT_NE(text.find("# TYPE req_total counter\n"), std::string::npos);
  EXPECT_NE(text.find("req_total{core=\"0\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find("req_total{core=\"1\"} 4\n"), std::string::npos);
  EXPECT_NE(text.find("lat_seconds_bucket{le=\"0.00025\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("lat_seconds_bucket{le=\"0.25\"} 2\n"), std::string::npos);
  EXPECT_NE(text.find("lat_seconds_bucket{le=\"+Inf\"} 2\n"), std::string::npos);
  EXPECT_NE(text.find("lat_seconds_count 2\n"), std::string::npos);
}

TEST(Metrics, LabelValuesAreEscaped) {
  EXPECT_EQ(render_labels({{"a", "x\"y\\z\n"}}), "{a=\"x\\\"y\\\\z\\n\"}");
}

TEST(Metrics, GaugeFunctionsAreEvaluatedAtSnapshotTime) {
  registry r;
  double depth = 1;
  r.make_gauge_fn("queue_depth", "depth", {}, [&] { return depth; });
  depth = 5;
  EXPECT_EQ(r.take_snapshot().total("queue_depth"), 5);
}

}  // namespace
}  // namespace shoal::metrics
