// shoal-rest-bench search: HTTP search against the same shards searched in process (see
// rest_bench.cc for the whole method), with the server's, the client's and the index's CPU time per
// query, and the open loop's tail beside its floor.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>
#include <string_view>
#include <thread>
#include <unistd.h>
#include <unordered_set>
#include <vector>

#include <fmt/format.h>
#include <simdjson.h>

#include "engine/data/point_id.h"
#include "index/hnsw/hnsw_index.h"
#include "perf/rest/bench_util.h"
#include "perf/rest/cpu_time.h"
#include "perf/rest/load.h"

namespace shoal::perf {
namespace {

double recall_at(const std::vector<std::vector<uint64_t>>& got,
                 const std::vector<std::vector<int32_t>>& gt, size_t k) {
  double hits = 0;
  for (size_t q = 0; q < got.size(); ++q) {
    std::unordered_set<uint64_t> truth;
    for (size_t j = 0; j < k && j < gt[q].size(); ++j) truth.insert(uint64_t(gt[q][j]));
    for (auto id : got[q]) hits += truth.count(id);
  }
  return hits / double(got.size() * k);
}

// A load run with its cost: the server's CPU time per answered request (every thread of
// `server_pid`, warm-up included, as are the answers), the load client's, and the host's steal.
struct costed_load {
  load_result load;
  double server_cpu_us = 0;
  double idle_poll_us = 0;  // of server_cpu_us: reactors polling their channels while idle
  double steal_pct = 0;
  double server_work_us() const { return server_cpu_us - idle_poll_us; }
  double client_cpu_us() const {
    return load.answered_all ? double(load.client_cpu_ns) / 1e3 / double(load.answered_all) : 0;
  }
  std::string describe_cost() const {
    if (server_cpu_us == 0) return {};
    return fmt::format(
        "; CPU per query: server {:.1f} us ({:.1f} us of it idle polling), client {:.1f} us; "
        "steal {:.1f}%",
        server_cpu_us, idle_poll_us, client_cpu_us(), steal_pct);
  }
};

/// The server's reactors' idle polling so far (seconds, all cores), from /metrics.
double idle_poll_seconds(const load_options& o) {
  auto r = http_call(o.host, o.port, "GET", "/metrics");
  double total = 0;
  static constexpr std::string_view kName = "shoal_reactor_idle_poll_seconds_total{";
  for (size_t at = 0; at < r.body.size();) {
    auto end = std::min(r.body.find('\n', at), r.body.size());
    std::string_view line(r.body.data() + at, end - at);
    if (line.starts_with(kName)) total += std::stod(std::string(line.substr(line.rfind(' ') + 1)));
    at = end + 1;
  }
  return total;
}

costed_load run_costed(const load_options& o, const std::vector<std::string>& requests,
                       long server_pid) {
  auto server0 = server_pid ? process_cpu_ns(server_pid) : 0;
  auto polled0 = server_pid ? idle_poll_seconds(o) : 0;
  auto steal0 = steal_ticks();
  auto t0 = clock_type::now();
  costed_load r;
  r.load = run_load(o, requests);
  double wall = std::chrono::duration<double>(clock_type::now() - t0).count();
  double cpus = std::max(1u, std::thread::hardware_concurrency());
  r.steal_pct =
      100.0 * double(steal_ticks() - steal0) / double(::sysconf(_SC_CLK_TCK)) / (cpus * wall);
  if (server_pid && r.load.answered_all) {
    r.server_cpu_us =
        double(process_cpu_ns(server_pid) - server0) / 1e3 / double(r.load.answered_all);
    r.idle_poll_us = (idle_poll_seconds(o) - polled0) * 1e6 / double(r.load.answered_all);
  }
  return r;
}

}  // namespace

/// One thread's searches of one shard: its scratch, its result buffer and the search's ef.
struct shard_searcher {
  const index::hnsw_index& shard;
  size_t k;
  index::search_scratch scratch;
  std::vector<index::neighbor> out;
  index::search_params params;
  shard_searcher(const index::hnsw_index& s, size_t k_, size_t ef) : shard(s), k(k_), out(k_) {
    params.ef = ef;
  }
  size_t search(const std::vector<float>& q) {
    return shard.search(q, k, out, params, scratch).value();
  }
};

/// The index alone, paced: every shard's thread searches the queries at `rate` per second,
/// sleeping until each is due. Its CPU time per query (all shards) is what the index costs when its
/// cores idle between queries, as a server's do in an open loop; on a VM that is far more than back
/// to back (caches and the vCPU go cold while it sleeps).
double paced_index_cpu_us(const std::vector<std::unique_ptr<index::hnsw_index>>& idx,
                          const std::vector<std::vector<float>>& queries, size_t k, size_t ef,
                          double rate, double seconds, const std::vector<unsigned>& cpus) {
  size_t count = std::clamp<size_t>(size_t(rate * seconds), 1, queries.size() * 8);
  std::vector<uint64_t> cpu(idx.size());
  std::vector<std::thread> workers;
  for (size_t s = 0; s < idx.size(); ++s) {
    workers.emplace_back([&, s] {
      pin_to_cpu(cpus[s % cpus.size()]);
      shard_searcher searcher(*idx[s], k, ef);
      auto start = clock_type::now();
      auto cpu0 = thread_cpu_ns();
      for (size_t q = 0; q < count; ++q) {
        std::this_thread::sleep_until(start + std::chrono::duration_cast<clock_type::duration>(
                                                  std::chrono::duration<double>(double(q) / rate)));
        searcher.search(queries[q % queries.size()]);
      }
      cpu[s] = thread_cpu_ns() - cpu0;
    });
  }
  for (auto& t : workers) t.join();
  double total = 0;
  for (auto c : cpu) total += double(c);
  return total / 1e3 / double(count);
}

int cmd_search(const args& a) {
  auto host = a.get("host", "127.0.0.1");
  auto port = static_cast<uint16_t>(a.count("port", 6333));
  auto metric = a.get("metric", "l2");
  auto base = read_vecs<float>(a.get("base"), a.count("limit", 0));
  auto queries = read_vecs<float>(a.get("queries"));
  auto gt =
      a.kv.count("gt") ? read_vecs<int32_t>(a.get("gt")) : std::vector<std::vector<int32_t>>{};
  size_t k = a.count("k", 10), ef = a.count("ef", 64), m = a.count("m", 16);
  size_t ef_construct = a.count("ef-construct", 100);
  size_t dim = base.at(0).size();
  auto name = a.get("collection", "bench_search");
  auto distance = metric == "cosine" ? "Cosine" : metric == "ip" ? "Dot" : "Euclid";
  auto index_metric = metric == "cosine" ? index::metric_kind::cosine
                      : metric == "ip"   ? index::metric_kind::ip
                                         : index::metric_kind::l2;
  size_t shards = a.count("shards", server_cores(host, port));
  fmt::print("search: {} x {}-d ({}), {} queries, k={}, ef={}, m={}, ef_construct={}, {} shards\n",
             base.size(), dim, metric, queries.size(), k, ef, m, ef_construct, shards);

  // Load the server.
  http_call(host, port, "DELETE", "/collections/" + name);
  expect_ok(http_call(host, port, "PUT", "/collections/" + name,
                      fmt::format(R"({{"vectors":{{"size":{},"distance":"{}","hnsw_config":{{"m":{},
                                  "ef_construct":{}}}}},"shard_number":{}}})",
                                  dim, distance, m, ef_construct, shards)),
            "create");
  auto t_ingest = clock_type::now();
  for (size_t at = 0; at < base.size(); at += 500) {
    std::string body = R"({"points":[)";
    for (size_t i = at; i < std::min(base.size(), at + 500); ++i) {
      body +=
          fmt::format(R"({}{{"id":{},"vector":{}}})", i == at ? "" : ",", i, vector_json(base[i]));
    }
    body += "]}";
    expect_ok(http_call(host, port, "PUT", "/collections/" + name + "/points?wait=true", body),
              "upsert");
  }
  double ingest_s = std::chrono::duration<double>(clock_type::now() - t_ingest).count();
  fmt::print("  ingested over HTTP in {:.1f} s (index build included)\n", ingest_s);

  // The reference: the same shards in process.
  std::vector<std::vector<size_t>> rows_of(shards);
  for (size_t i = 0; i < base.size(); ++i) {
    rows_of[data::point_id::number(i).route_hash() % shards].push_back(i);
  }
  std::vector<std::unique_ptr<index::hnsw_index>> idx(shards);
  {
    std::vector<std::thread> builders;
    for (size_t s = 0; s < shards; ++s) {
      builders.emplace_back([&, s] {
        index::hnsw_config c;
        c.dim = dim;
        c.metric = index_metric;
        c.m = m;
        c.ef_construction = ef_construct;
        c.ef_search = ef;
        idx[s] = index::hnsw_index::create(c).value();
        for (size_t j = 0; j < rows_of[s].size(); ++j) {
          (void)idx[s]->add(j, base[rows_of[s][j]]).value();
        }
      });
    }
    for (auto& t : builders) t.join();
  }
  size_t rounds = a.count("ref-rounds", 5);
  if (a.kv.count("skip-reference")) rounds = 0;
  std::vector<double> thread_seconds(shards);
  std::vector<uint64_t> thread_cpu(shards);
  double ref_cpu_us = 0;  // CPU time per query (all shards), the cheapest pass
  auto ref_cpus = cpu_list(a.get("reference-cpus"), shards);
  std::vector<std::vector<std::vector<uint64_t>>> ref_hits(shards);
  double ref_qps = 0;
  for (int pass = 0; pass < (rounds ? 3 : 1); ++pass) {  // best of three passes
    std::vector<std::thread> workers;
    std::atomic<size_t> ready{0};
    for (size_t s = 0; s < shards; ++s) {
      workers.emplace_back([&, s] {
        pin_to_cpu(ref_cpus[s % ref_cpus.size()]);
        shard_searcher searcher(*idx[s], k, ef);
        ready++;
        while (ready.load() < shards) std::this_thread::yield();
        auto t0 = clock_type::now();
        auto cpu0 = thread_cpu_ns();
        for (size_t r = 0; r < rounds; ++r) {
          for (auto& q : queries) searcher.search(q);
        }
        thread_cpu[s] = thread_cpu_ns() - cpu0;
        thread_seconds[s] = std::chrono::duration<double>(clock_type::now() - t0).count();
        if (pass == 0) {
          for (auto& q : queries) {
            auto n = searcher.search(q);
            std::vector<uint64_t> ids;
            for (size_t j = 0; j < n; ++j) ids.push_back(searcher.out[j].label);
            ref_hits[s].push_back(ids);
          }
        }
      });
    }
    for (auto& t : workers) t.join();
    double slowest = *std::max_element(thread_seconds.begin(), thread_seconds.end());
    if (rounds) {
      ref_qps = std::max(ref_qps, double(queries.size() * rounds) / slowest);
      double cpu_ns = 0;
      for (auto c : thread_cpu) cpu_ns += double(c);
      double per_query = cpu_ns / 1e3 / double(queries.size() * rounds);
      ref_cpu_us = ref_cpu_us == 0 ? per_query : std::min(ref_cpu_us, per_query);
    }
  }
  // Reference recall: merge the shards' answers by distance.
  std::vector<std::vector<uint64_t>> ref_ids(queries.size());
  for (size_t q = 0; q < queries.size(); ++q) {
    std::vector<std::pair<float, uint64_t>> all;
    for (size_t s = 0; s < shards; ++s) {
      shard_searcher searcher(*idx[s], k, ef);
      auto n = searcher.search(queries[q]);
      for (size_t j = 0; j < n; ++j) {
        all.emplace_back(searcher.out[j].distance, rows_of[s][searcher.out[j].label]);
      }
    }
    std::sort(all.begin(), all.end());
    for (size_t j = 0; j < k && j < all.size(); ++j) ref_ids[q].push_back(all[j].second);
  }
  fmt::print("  reference (in process, {} threads, one shard each): {:.0f} queries/s\n", shards,
             ref_qps);

  // HTTP requests, and one pass for recall.
  std::vector<std::string> requests;
  for (auto& q : queries) {
    requests.push_back(
        render_request("POST", "/collections/" + name + "/points/query",
                       fmt::format(R"({{"query":{},"limit":{},"params":{{"hnsw_ef":{}}}}})",
                                   vector_json(q), k, ef)));
  }
  std::vector<std::vector<uint64_t>> http_ids(queries.size());
  {
    simdjson::dom::parser p;
    for (size_t q = 0; q < queries.size(); ++q) {
      auto r = http_call(host, port, "POST", "/collections/" + name + "/points/query",
                         fmt::format(R"({{"query":{},"limit":{},"params":{{"hnsw_ef":{}}}}})",
                                     vector_json(queries[q]), k, ef));
      expect_ok(r, "query");
      for (auto pt : p.parse(r.body)["result"]["points"].get_array()) {
        http_ids[q].push_back(uint64_t(pt["id"]));
      }
    }
  }
  auto lo = load_options_from(a, 16, 10, 2);
  long server_pid = static_cast<long>(a.num("server-pid", 0));
  costed_load peak;
  size_t peak_runs = a.count("peak-runs", 2);
  if (a.kv.count("open-rate")) {  // only the open loop, at this rate (latency studies)
    peak_runs = 0;
    peak.load.qps = 2 * a.num("open-rate", 1000);
  }
  for (size_t i = 0; i < peak_runs; ++i) {  // best of the runs, like the reference
    auto r = run_costed(lo, requests, server_pid);
    fmt::print(
        "  HTTP closed loop, {} connections: {:.0f} queries/s (p50 {:.0f} us, p99 {:.0f} us, "
        "{} errors){}\n",
        lo.connections, r.load.qps, r.load.percentile(50), r.load.percentile(99), r.load.errors,
        r.describe_cost());
    if (r.load.qps > peak.load.qps) peak = std::move(r);
  }
  load_options half = lo;
  half.rate = peak.load.qps / 2;
  half.connections = a.count("open-connections", 64);
  auto open_costed = run_costed(half, requests, server_pid);
  const auto& open = open_costed.load;
  double paced_us =
      rounds == 0 ? 0 : paced_index_cpu_us(idx, queries, k, ef, half.rate, 3, ref_cpus);
  idx.clear();
  if (a.kv.count("open-trace")) {  // when each open-loop request was due, and its latency
    std::FILE* f = std::fopen(a.get("open-trace").c_str(), "w");
    std::fprintf(f, "# start %.6f (CLOCK_MONOTONIC s); due s, latency us\n", open.start_s);
    for (auto [due, us] : open.due_and_latency_us) std::fprintf(f, "%.6f %.0f\n", due, us);
    std::fclose(f);
  }
  // The tail's floor, measured the same way: the same client, rate and connections against an
  // endpoint that does no work. What it shows comes from the machine and the client, not search.
  auto floor = run_costed(half, {render_request("GET", "/livez", "")}, 0);
  double ratio = peak.load.qps / ref_qps;
  double tail = open.percentile(99) / open.percentile(50);
  double rec_http = gt.empty() ? 0 : recall_at(http_ids, gt, k);
  double rec_ref = gt.empty() ? 0 : recall_at(ref_ids, gt, k);
  fmt::print(
      "  HTTP open loop at {:.0f} queries/s (half of peak): achieved {:.0f}/s, p50 {:.0f} us, "
      "p99 {:.0f} us, p99.9 {:.0f} us, {} errors{}\n",
      half.rate, open.qps, open.percentile(50), open.percentile(99), open.percentile(99.9),
      open.errors, open_costed.describe_cost());
  if (paced_us > 0) {
    fmt::print(
        "  the index alone at this rate, paced in process: {:.1f} us of CPU per query (back to "
        "back {:.1f} us)\n",
        paced_us, ref_cpu_us);
  }
  auto slow = open.slow_episodes(3 * open.percentile(50));
  fmt::print(
      "  answers slower than 3 x p50: {} ({:.2f}%) in {} episodes (slow answers due within 20 ms "
      "of each other); the longest spans {:.0f} ms\n",
      slow.slow, 100.0 * double(slow.slow) / double(std::max<size_t>(1, open.latency_us.size())),
      slow.count, slow.longest_s * 1e3);
  fmt::print(
      "  floor: the same open loop on GET /livez: p50 {:.0f} us, p99 {:.0f} us (p99/p50 {:.2f}); "
      "host steal {:.1f}% of the CPUs during the search open loop, {:.1f}% during this one\n",
      floor.load.percentile(50), floor.load.percentile(99),
      floor.load.percentile(99) / floor.load.percentile(50), open_costed.steal_pct,
      floor.steal_pct);
  fmt::print("  recall@{}: HTTP {:.4f}, reference {:.4f}\n", k, rec_http, rec_ref);
  double cpu_ratio = peak.server_work_us() > 0 ? ref_cpu_us / peak.server_work_us() : 0;
  if (cpu_ratio > 0) {
    fmt::print(
        "  CPU per query at peak: server {:.1f} us working (HTTP, JSON, fan-out, merge and the "
        "index) + {:.1f} us idle polling, in-process index {:.1f} us, load client {:.1f} us\n",
        peak.server_work_us(), peak.idle_poll_us, ref_cpu_us, peak.client_cpu_us());
  }
  fmt::print(
      "  => HTTP peak / in-process = {:.2f} (target >= 0.8); index CPU / server working CPU per "
      "query = {:.2f}; p99/p50 at half peak = {:.2f} (target <= 3)\n",
      ratio, cpu_ratio, tail);

  json_out j;
  j.field("bench", std::string("rest_search"));
  j.field("base", a.get("base"));
  j.field("points", double(base.size()));
  j.field("dim", double(dim));
  j.field("queries", double(queries.size()));
  j.field("k", double(k));
  j.field("ef", double(ef));
  j.field("shards", double(shards));
  j.field("reference_qps", ref_qps);
  j.field("http_peak_qps", peak.load.qps);
  j.field("http_peak_p50_us", peak.load.percentile(50));
  j.field("http_peak_p99_us", peak.load.percentile(99));
  j.field("ratio", ratio);
  j.field("reference_cpu_us_per_query", ref_cpu_us);
  j.field("server_cpu_us_per_query", peak.server_cpu_us);
  j.field("server_idle_poll_us_per_query", peak.idle_poll_us);
  j.field("client_cpu_us_per_query", peak.client_cpu_us());
  j.field("cpu_ratio", cpu_ratio);
  j.field("half_rate", half.rate);
  j.field("half_achieved_qps", open.qps);
  j.field("half_p50_us", open.percentile(50));
  j.field("half_p99_us", open.percentile(99));
  j.field("half_p999_us", open.percentile(99.9));
  j.field("p99_over_p50", tail);
  j.field("floor_p50_us", floor.load.percentile(50));
  j.field("floor_p99_us", floor.load.percentile(99));
  j.field("steal_pct_half", open_costed.steal_pct);
  j.field("recall_http", rec_http);
  j.field("recall_reference", rec_ref);
  j.field("errors", double(peak.load.errors + open.errors));
  j.write(a.get("json"));
  http_call(host, port, "DELETE", "/collections/" + name);
  return peak.load.errors + open.errors == 0 ? 0 : 1;
}

}  // namespace shoal::perf
