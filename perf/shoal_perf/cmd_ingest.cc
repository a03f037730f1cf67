// shoal-perf ingest: loads a TEXMEX file into a collection of a running server, over the binary
// RPC protocol (rpc://) or the REST API (http://), with --concurrency requests in flight, and
// reports the rate: {"vectors": n, "seconds": s, "vectors_per_second": v, ...}.
//
// The collection is created if missing (--metric, --index, --m, --ef-construct, --shards).
// Point ids are row numbers (+ --id-offset), so `shoal-perf search` can score results against
// the data set's ground truth. Every request is encoded before the clock starts; the clock stops
// when the last batch is acknowledged (applied, and durable as --durability asks). A batch
// refused with a retryable status (overloaded, unavailable, timeout, connection lost) is sent
// again, up to 5 times; any other refusal stops the run with exit code 1.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "engine/common/json_writer.h"
#include "engine/runtime/event.h"
#include "engine/runtime/smp.h"
#include "perf/shoal_perf/bench_util.h"
#include "perf/shoal_perf/datasets.h"
#include "perf/shoal_perf/histogram.h"
#include "perf/shoal_perf/load_util.h"
#include "perf/shoal_perf/report.h"
#include "perf/shoal_perf/targets.h"

namespace shoal::perf {
namespace {

struct ingest_options {
  target_address target;
  collection_spec spec;
  std::string base, json, durability;
  size_t batch = 1000, concurrency = 4, connections = 0, limit = 0;
  double rate = 0;  // vectors per second; 0: as fast as the server takes them
  uint64_t id_offset = 0;
  bool force_progress = false;
};

struct ingest_run {
  const ingest_options& o;
  const vec_file<float>& data;
  target& t;
  std::vector<prepared> batches;
  size_t next = 0;
  size_t done_vectors = 0;
  size_t retries = 0;
  std::string fatal;
  latency_histogram batch_latency;
  steady::time_point start{};  // paced runs: batch i is due at start + i * batch / rate

  prepared prepare(size_t i) {
    size_t first = i * o.batch;
    size_t n = std::min(o.batch, data.rows - first);
    return t.prepare_upsert(o.spec.name, o.id_offset + first, n, data.row(first), data.dim,
                            o.durability);
  }

  awaitable<void> worker() {
    while (fatal.empty()) {
      size_t i = next++;
      if (i >= batches.size()) co_return;
      size_t n = std::min(o.batch, data.rows - i * o.batch);
      if (o.rate > 0) {
        auto due =
            start + std::chrono::duration_cast<steady::duration>(
                        std::chrono::duration<double>(static_cast<double>(i * o.batch) / o.rate));
        if (due > steady::now()) co_await sleep_until(due);
      }
      prepared p = std::move(batches[i]);
      for (int attempt = 0;; ++attempt) {
        auto t0 = steady::now();
        auto r = co_await t.upsert(std::move(p));
        if (r.ok) {
          batch_latency.record(ns_between(t0, steady::now()));
          done_vectors += n;
          break;
        }
        if (!r.retryable || attempt >= 5) {
          if (fatal.empty()) fatal = r.error;
          co_return;
        }
        ++retries;
        co_await sleep_until(steady::now() + std::chrono::milliseconds(50 << attempt));
        p = prepare(i);
      }
    }
  }
};

awaitable<int> ingest(const ingest_options& o) {
  std::string error;
  vec_file<float> data;
  if (!read_vectors(o.base, data, error, o.limit)) {
    std::fprintf(stderr, "shoal-perf ingest: %s\n", error.c_str());
    co_return 1;
  }
  collection_spec spec = o.spec;
  spec.dim = data.dim;
  auto ex = co_await asio::this_coro::executor;
  auto t = make_target(o.target, ex, o.connections, o.concurrency);
  if (auto e = co_await t->open(); !e.empty()) {
    std::fprintf(stderr, "shoal-perf %s: cannot reach %s: %s\n", "ingest", o.target.text.c_str(),
                 e.c_str());
    t->close();
    co_return 1;
  }
  size_t connections = t->connections();
  auto created = co_await t->ensure_collection(spec);
  if (!created.ok) {
    std::fprintf(stderr, "shoal-perf ingest: cannot create collection %s: %s\n", spec.name.c_str(),
                 created.error.c_str());
    t->close();
    co_return 1;
  }

  ingest_run run{o, data, *t, {}, 0, 0, 0, {}, {}};
  size_t nbatches = (data.rows + o.batch - 1) / o.batch;
  run.batches.reserve(nbatches);
  for (size_t i = 0; i < nbatches; ++i) run.batches.push_back(run.prepare(i));

  progress_line progress(o.force_progress);
  bool finished = false;
  auto start = steady::now();
  run.start = start;
  asio::steady_timer ticker(ex);
  rt::event ticker_done;
  asio::co_spawn(
      ex,
      [&]() -> awaitable<void> {
        while (!finished) {
          ticker.expires_after(std::chrono::milliseconds(500));
          co_await ticker.async_wait(use_nothrow_awaitable);
          if (finished) break;
          double s = seconds_between(start, steady::now());
          double rate = run.done_vectors / std::max(s, 1e-9);
          progress.show(fmt::format(
              "ingest {}/{} vectors  {} vec/s  ETA {}  retries {}", human_count(run.done_vectors),
              human_count(static_cast<double>(data.rows)), human_count(rate),
              human_eta(rate > 0 ? (data.rows - run.done_vectors) / rate : -1), run.retries));
        }
      },
      [&](std::exception_ptr) { ticker_done.set(); });
  co_await rt::parallel_for(std::max<size_t>(o.concurrency, 1),
                            [&](size_t) -> awaitable<void> { co_await run.worker(); });
  auto end = steady::now();
  finished = true;
  ticker.cancel();
  co_await ticker_done.wait();
  t->close();
  progress.finish();
  if (!run.fatal.empty()) {
    std::fprintf(stderr, "shoal-perf ingest: a batch was refused: %s\n", run.fatal.c_str());
    co_return 1;
  }

  double seconds = seconds_between(start, end);
  std::string json;
  json_writer w(json);
  w.begin_object();
  w.field("vectors", run.done_vectors);
  w.field("seconds", seconds);
  w.field("vectors_per_second", run.done_vectors / std::max(seconds, 1e-9));
  w.field("target", o.target.text);
  w.field("protocol", o.target.rpc ? "rpc" : "http");
  w.field("collection", spec.name);
  w.field("dim", data.dim);
  w.field("index", spec.index);
  w.field("batch", o.batch);
  w.field("concurrency", o.concurrency);
  w.field("connections", connections);
  w.field("durability", o.durability.empty() ? "collection default" : o.durability);
  w.field("retries", run.retries);
  w.key("batch_latency_ms").begin_object();
  w.field("p50", run.batch_latency.value_at(0.5) / 1e6);
  w.field("p99", run.batch_latency.value_at(0.99) / 1e6);
  w.field("max", run.batch_latency.max() / 1e6);
  w.end_object();
  w.end_object();
  std::fprintf(stderr, "shoal-perf ingest: %zu x %zu over %s in %.2f s: %.0f vectors/s\n",
               run.done_vectors, data.dim, o.target.rpc ? "RPC" : "HTTP", seconds,
               run.done_vectors / std::max(seconds, 1e-9));
  co_return write_json(o.json, json, "ingest") ? 0 : 1;
}

}  // namespace

int run_ingest(const args_t& args) {
  arg_parser p("ingest",
               "Loads vectors into a collection of a running server (created if missing) and\n"
               "reports {\"vectors\", \"seconds\", \"vectors_per_second\"}. Point ids are row "
               "numbers.");
  add_target_options(p, "rpc://HOST:PORT|http://HOST:PORT");
  p.option("collection", "C", "collection name")
      .option("base", "B.fvecs", "vectors (.fvecs, or .bvecs)")
      .option("metric", "l2|ip|cosine", "distance, when the collection is created", "l2")
      .option("index", "hnsw|flat", "index, when the collection is created", "hnsw")
      .option("m", "M", "HNSW links per node, when created", "16")
      .option("ef-construct", "EFC", "HNSW build beam width, when created", "100")
      .option("shards", "N", "shards, when created (0: the server's default)", "0")
      .option("batch", "N", "points per request", "1000")
      .option("concurrency", "N", "requests in flight", "4")
      .option("rate", "V", "send at most V vectors per second (0: as fast as accepted)", "0")
      .option("connections", "N", "connections (0: RPC one per server core, HTTP concurrency)", "0")
      .option("durability", "memory|local|replicated",
              "durability of each write (default: the collection's)", "")
      .option("limit", "N", "only the first N vectors (0: all)", "0")
      .option("id-offset", "N", "id of the first vector", "0")
      .option("json", "OUT.json", "write the result here (default: stdout)", "")
      .flag("progress", "show the progress line even when stderr is not a terminal");
  if (int rc = parse_or_exit(p, "ingest", args); rc >= 0) return rc;
  ingest_options o;
  try {
    o.target = target_from(p);
    o.spec.name = p.get("collection");
    if (o.spec.name.empty()) throw usage_error("--collection must not be empty");
    o.base = p.get("base");
    o.spec.metric = p.get_choice("metric", {"l2", "ip", "cosine"});
    o.spec.index = p.get_choice("index", {"hnsw", "flat"});
    o.spec.m = p.get_size("m", 2, 128);
    o.spec.ef_construct = p.get_size("ef-construct", 4, 100000);
    o.spec.shards = p.get_size("shards", 0, 1024);
    o.batch = p.get_size("batch", 1, 1000000);
    o.concurrency = p.get_size("concurrency", 1, 100000);
    o.rate = static_cast<double>(p.get_size("rate", 0, 1000000000));
    o.connections = p.get_size("connections", 0, 10000);
    if (!p.get("durability").empty()) {
      o.durability = p.get_choice("durability", {"memory", "local", "replicated"});
    }
    o.limit = p.get_size("limit", 0, ~size_t{0});
    o.id_offset = p.get_size("id-offset", 0, ~size_t{0} >> 1);
    o.json = p.get("json");
    o.force_progress = p.has("progress");
  } catch (const usage_error& e) {
    std::fprintf(stderr, "shoal-perf ingest: %s\n\n%s", e.what(), p.usage().c_str());
    return 2;
  }
  return run_main("ingest", [&o]() { return ingest(o); });
}

}  // namespace shoal::perf
