// shoal-perf search: query load against a collection of a running server, over the REST API
// (http://) or the binary RPC protocol (rpc://), one query per request, scored against exact
// ground truth:
//   {"qps": q, "recall_at_10": r, "latency_ms": {"p50", "p90", "p99", "p999", "max", ...},
//    "errors": e, ...}
//
// Closed loop (default): --concurrency requests in flight, each sent when the previous one of
// its slot is answered; latency is measured from the send.
// Open loop (--rate R): request i is due at start + i/R whatever happened before; at most
// --concurrency are in flight (a due request waits for a slot), and its latency is measured
// from when it was due, so a server that falls behind shows it in the percentiles instead of
// silently slowing the driver down (no coordinated omission).
//
// Latencies go into an HdrHistogram-style log-linear histogram (histogram.h; 0.8% resolution).
// Queries cycle through the query file; --count N stops after N requests, --duration S after S
// seconds, neither after one pass. --warmup S runs unmeasured first. --plot OUT.svg draws
// percentiles and throughput per --plot-interval.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "engine/common/json_writer.h"
#include "engine/runtime/event.h"
#include "engine/runtime/semaphore.h"
#include "engine/runtime/smp.h"
#include "perf/shoal_perf/bench_util.h"
#include "perf/shoal_perf/datasets.h"
#include "perf/shoal_perf/histogram.h"
#include "perf/shoal_perf/load_util.h"
#include "perf/shoal_perf/recall.h"
#include "perf/shoal_perf/report.h"
#include "perf/shoal_perf/targets.h"

namespace shoal::perf {
namespace {

struct search_options {
  target_address target;
  std::string collection, query, gt, json, plot;
  size_t k = 10, ef = 0, concurrency = 8, connections = 0, count = 0, query_limit = 0;
  double duration = 0, rate = 0, warmup = 0, plot_interval = 1;
  bool force_progress = false;
};

/// What one phase (warm-up or measured) accumulates.
struct phase_stats {
  latency_histogram latency;
  time_series series;
  uint64_t ok = 0, errors = 0;
  recall_count at10, atk;
  std::string first_error;
  steady::time_point last_done;
};

class search_run {
 public:
  search_run(const search_options& o, target& t, const std::vector<prepared>& requests,
             const vec_file<int32_t>& gt)
      : o_(o), t_(t), requests_(requests), gt_(gt) {}

  /// Runs one phase: `count` requests (0: none) or until `seconds` pass.
  awaitable<void> run(phase_stats& st, uint64_t count, double seconds, bool show) {
    st_ = &st;
    issued_ = 0;
    count_ = count;
    start_ = steady::now();
    end_ = count ? steady::time_point::max()
                 : start_ + std::chrono::duration_cast<steady::duration>(
                                std::chrono::duration<double>(seconds));
    running_ = true;
    auto ex = co_await asio::this_coro::executor;
    progress_line progress(o_.force_progress);
    asio::steady_timer ticker(ex);
    rt::event ticker_done;
    asio::co_spawn(
        ex, [&]() -> awaitable<void> { co_await tick(ticker, progress, show); },
        [&](std::exception_ptr) { ticker_done.set(); });
    if (o_.rate > 0) {
      co_await open_loop();
    } else {
      co_await rt::parallel_for(o_.concurrency, [&](size_t) { return closed_worker(); });
    }
    running_ = false;
    ticker.cancel();
    co_await ticker_done.wait();
    st.series.roll(seconds_between(start_, st.last_done));
    progress.finish();
  }

  double seconds(const phase_stats& st) const { return seconds_between(start_, st.last_done); }

 private:
  bool more() {
    if (count_) return issued_ < count_;
    return steady::now() < end_;
  }

  void account(size_t i, const send_result& r, uint64_t ns) {
    auto& st = *st_;
    st.last_done = steady::now();
    st.series.record(ns, r.ok);
    if (!r.ok) {
      ++st.errors;
      if (st.first_error.empty()) st.first_error = r.error;
      return;
    }
    ++st.ok;
    st.latency.record(ns);
    size_t q = i % requests_.size();
    std::span<const int32_t> truth(gt_.row(q), gt_.dim);
    auto a = count_recall(r.ids, truth, std::min<size_t>(10, o_.k));
    st.at10.hits += a.hits;
    st.at10.wanted += a.wanted;
    auto b = count_recall(r.ids, truth, o_.k);
    st.atk.hits += b.hits;
    st.atk.wanted += b.wanted;
  }

  awaitable<void> closed_worker() {
    while (more()) {
      size_t i = issued_++;
      auto t0 = steady::now();
      auto r = co_await t_.search(requests_[i % requests_.size()]);
      account(i, r, ns_between(t0, steady::now()));
    }
  }

  awaitable<void> open_loop() {
    auto ex = co_await asio::this_coro::executor;
    rt::semaphore slots(o_.concurrency, SIZE_MAX, "in flight");
    size_t outstanding = 0;
    bool scheduled_all = false;
    rt::event all_done;
    auto period = std::chrono::duration<double>(1.0 / o_.rate);
    for (uint64_t i = 0;; ++i) {
      auto due =
          start_ + std::chrono::duration_cast<steady::duration>(period * static_cast<double>(i));
      if (count_ ? i >= count_ : due >= end_) break;
      if (due > steady::now()) co_await sleep_until(due);
      ++issued_;
      ++outstanding;
      asio::co_spawn(
          ex,
          [this, &slots, i, due]() -> awaitable<void> {
            auto unit = co_await slots.acquire(1);
            auto r = co_await t_.search(requests_[i % requests_.size()]);
            account(i, r, ns_between(due, steady::now()));
          },
          [&](std::exception_ptr) {
            if (--outstanding == 0 && scheduled_all) all_done.set();
          });
    }
    // Only now may "none outstanding" mean "all done": between sends it happens all the time.
    scheduled_all = true;
    if (outstanding > 0) co_await all_done.wait();
  }

  awaitable<void> tick(asio::steady_timer& timer, progress_line& progress, bool show) {
    auto interval = std::chrono::duration<double>(std::min(o_.plot_interval, 0.5));
    double next_roll = o_.plot_interval;
    while (running_) {
      timer.expires_after(std::chrono::duration_cast<steady::duration>(interval));
      co_await timer.async_wait(use_nothrow_awaitable);
      if (!running_) break;
      double s = seconds_between(start_, steady::now());
      if (s >= next_roll) {
        st_->series.roll(s);
        next_roll += o_.plot_interval;
      }
      if (!show) continue;
      double qps = st_->ok / std::max(s, 1e-9);
      double eta = count_ ? (count_ - std::min<uint64_t>(issued_, count_)) / std::max(qps, 1e-9)
                          : seconds_between(steady::now(), end_);
      progress.show(
          fmt::format("search {} req  {} req/s  p50 {:.2f} ms  p99 {:.2f} ms  errors {}"
                      "  ETA {}",
                      human_count(st_->ok), human_count(qps), st_->latency.value_at(0.5) / 1e6,
                      st_->latency.value_at(0.99) / 1e6, st_->errors, human_eta(eta)));
    }
  }

  const search_options& o_;
  target& t_;
  const std::vector<prepared>& requests_;
  const vec_file<int32_t>& gt_;
  phase_stats* st_ = nullptr;
  uint64_t issued_ = 0;
  uint64_t count_ = 0;
  steady::time_point start_, end_;
  bool running_ = false;
};

awaitable<int> search(const search_options& o) {
  std::string error;
  vec_file<float> queries;
  vec_file<int32_t> gt;
  if (!read_vectors(o.query, queries, error, o.query_limit) || !read_ivecs(o.gt, gt, error)) {
    std::fprintf(stderr, "shoal-perf search: %s\n", error.c_str());
    co_return 1;
  }
  if (gt.rows < queries.rows) {
    std::fprintf(stderr, "shoal-perf search: the ground truth has %zu rows for %zu queries\n",
                 gt.rows, queries.rows);
    co_return 1;
  }
  if (gt.dim < std::min<size_t>(o.k, 10)) {
    std::fprintf(stderr, "shoal-perf search: the ground truth has %zu neighbours per query\n",
                 gt.dim);
    co_return 1;
  }
  auto ex = co_await asio::this_coro::executor;
  auto t = make_target(o.target, ex, o.connections, o.concurrency);
  if (auto e = co_await t->open(); !e.empty()) {
    std::fprintf(stderr, "shoal-perf %s: cannot reach %s: %s\n", "search", o.target.text.c_str(),
                 e.c_str());
    t->close();
    co_return 1;
  }
  size_t connections = t->connections();
  std::vector<prepared> requests;
  requests.reserve(queries.rows);
  for (size_t i = 0; i < queries.rows; ++i) {
    requests.push_back(t->prepare_search(o.collection, queries.row(i), queries.dim, o.k, o.ef));
  }
  search_run run(o, *t, requests, gt);
  if (o.warmup > 0) {
    phase_stats warm;
    co_await run.run(warm, 0, o.warmup, false);
  }
  phase_stats st;
  uint64_t count = o.count ? o.count : (o.duration > 0 ? 0 : queries.rows);
  co_await run.run(st, count, o.duration, true);
  t->close();

  double seconds = run.seconds(st);
  double qps = st.ok / std::max(seconds, 1e-9);
  auto ratio = [](const recall_count& r) {
    return r.wanted ? static_cast<double>(r.hits) / static_cast<double>(r.wanted) : 0.0;
  };
  std::string json;
  json_writer w(json);
  w.begin_object();
  w.field("qps", qps);
  w.field("recall_at_10", ratio(st.at10));
  w.field("recall_at_k", ratio(st.atk));
  w.key("latency_ms").begin_object();
  w.field("p50", st.latency.value_at(0.5) / 1e6);
  w.field("p90", st.latency.value_at(0.9) / 1e6);
  w.field("p99", st.latency.value_at(0.99) / 1e6);
  w.field("p999", st.latency.value_at(0.999) / 1e6);
  w.field("max", st.latency.max() / 1e6);
  w.field("mean", st.latency.mean() / 1e6);
  w.field("min", st.latency.min() / 1e6);
  w.end_object();
  w.field("errors", st.errors);
  w.field("requests", st.ok);
  w.field("seconds", seconds);
  w.field("target", o.target.text);
  w.field("protocol", o.target.rpc ? "rpc" : "http");
  w.field("collection", o.collection);
  w.field("k", o.k);
  w.field("ef", o.ef);
  w.field("mode", o.rate > 0 ? "open" : "closed");
  w.field("rate", o.rate);
  w.field("concurrency", o.concurrency);
  w.field("connections", connections);
  if (!st.first_error.empty()) w.field("first_error", st.first_error);
  w.end_object();
  std::fprintf(stderr,
               "shoal-perf search: %llu requests over %s in %.2f s: %.0f qps, recall@10 %.4f, "
               "p50 %.3f ms, p99 %.3f ms, errors %llu\n",
               static_cast<unsigned long long>(st.ok), o.target.rpc ? "RPC" : "HTTP", seconds, qps,
               ratio(st.at10), st.latency.value_at(0.5) / 1e6, st.latency.value_at(0.99) / 1e6,
               static_cast<unsigned long long>(st.errors));
  if (!st.first_error.empty()) {
    std::fprintf(stderr, "shoal-perf search: first error: %s\n", st.first_error.c_str());
  }
  if (!o.plot.empty()) {
    std::string title =
        fmt::format("shoal-perf search {} {}: k={} ef={} {} c={}{}", o.target.text, o.collection,
                    o.k, o.ef, o.rate > 0 ? "open" : "closed", o.concurrency,
                    o.rate > 0 ? fmt::format(" rate={:g}/s", o.rate) : "");
    if (!write_svg_plot(o.plot, title, st.series.windows(), error)) {
      std::fprintf(stderr, "shoal-perf search: %s\n", error.c_str());
      co_return 1;
    }
  }
  if (!write_json(o.json, json, "search")) co_return 1;
  co_return st.ok > 0 ? 0 : 1;
}

}  // namespace

int run_search(const args_t& args) {
  arg_parser p("search",
               "Query load against a running server, scored against exact ground truth:\n"
               "{\"qps\", \"recall_at_10\", \"latency_ms\": {p50, p90, p99, p999, max}, "
               "\"errors\"}.\n"
               "Closed loop by default; --rate R makes it open loop (latency from the due time).");
  add_target_options(p, "http://HOST:PORT|rpc://HOST:PORT");
  p.option("collection", "C", "collection name")
      .option("query", "Q.fvecs", "query vectors (.fvecs, or .bvecs)")
      .option("gt", "G.ivecs", "exact neighbour ids per query (row numbers = point ids)")
      .option("k", "K", "neighbours per query", "10")
      .option("ef", "EF", "HNSW search beam width (0: the server's default)", "0")
      .option("concurrency", "N", "requests in flight (open loop: at most)", "8")
      .option("connections", "N", "connections (0: RPC one per server core, HTTP concurrency)", "0")
      .option("duration", "S", "run this many seconds", "0")
      .option("count", "N", "run this many requests (default: one pass over the queries)", "0")
      .option("rate", "R", "open loop at R requests per second (0: closed loop)", "0")
      .option("warmup", "S", "unmeasured seconds before the run", "0")
      .option("limit", "N", "use the first N queries (0: all)", "0")
      .option("json", "OUT.json", "write the result here (default: stdout)", "")
      .option("plot", "OUT.svg", "draw latency percentiles and throughput over time", "")
      .option("plot-interval", "S", "seconds per point of the plot", "1")
      .flag("progress", "show the progress line even when stderr is not a terminal");
  if (int rc = parse_or_exit(p, "search", args); rc >= 0) return rc;
  search_options o;
  try {
    o.target = target_from(p);
    o.collection = p.get("collection");
    o.query = p.get("query");
    o.gt = p.get("gt");
    o.k = p.get_size("k", 1, 10000);
    o.ef = p.get_size("ef", 0, 1000000);
    o.concurrency = p.get_size("concurrency", 1, 100000);
    o.connections = p.get_size("connections", 0, 10000);
    o.duration = p.get_double("duration", 0, 1e7);
    o.count = p.get_size("count", 0, ~size_t{0} >> 1);
    if (o.duration > 0 && o.count > 0) throw usage_error("give --duration or --count, not both");
    o.rate = p.get_double("rate", 0, 1e9);
    o.warmup = p.get_double("warmup", 0, 1e6);
    o.query_limit = p.get_size("limit", 0, ~size_t{0});
    o.json = p.get("json");
    o.plot = p.get("plot");
    o.plot_interval = p.get_double("plot-interval", 0.01, 3600);
    o.force_progress = p.has("progress");
  } catch (const usage_error& e) {
    std::fprintf(stderr, "shoal-perf search: %s\n\n%s", e.what(), p.usage().c_str());
    return 2;
  }
  return run_main("search", [&o]() { return search(o); });
}

}  // namespace shoal::perf
