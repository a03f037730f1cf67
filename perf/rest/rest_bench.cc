// shoal-rest-bench: the REST API benchmarks of issue #5, each beside its reference measured in
// the same run (perf/README.md, perf/benches/rest.sh).
//
//   search  against a running shoald: ingest a dataset over HTTP into a collection (HNSW,
//           shard_number = server cores), then
//             - reference: the same shards built in process (same points per shard, same m,
//               ef_construct, insertion order), one thread per shard pinned like the server's
//               cores, every query searched on every shard with the same ef and k; queries/s =
//               queries / the slowest thread's time (the index work the server must do, with
//               no HTTP, JSON, cross-core hops or merging);
//             - HTTP peak: closed loop over keep-alive connections, POST /points/query;
//             - HTTP at half of that peak, open loop: p50 / p99 latency;
//             - recall@k of both against the exact ground truth.
//   ingest  against a running shoald: PUT /points?wait=true of D-dim vectors (list form, B per
//           request, C connections) into a flat collection; vectors/s. Reference: the same
//           request bodies parsed and decoded in process (rest::decode_upsert), one thread.
//   parse   in process: simdjson parsing a search body and an upsert body in place (padded
//           body, as the session keeps it) versus with a copy (what parse_body did before).
//
// Every subcommand prints a summary and writes JSON with --json FILE.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <pthread.h>
#include <random>
#include <sched.h>
#include <set>
#include <span>
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
#include "net/rest/decode.h"
#include "perf/rest/cpu_time.h"
#include "perf/rest/load.h"

namespace shoal::perf {
namespace {

using clock_type = std::chrono::steady_clock;

// ---- arguments --------------------------------------------------------------------------------

struct args {
  std::map<std::string, std::string> kv;
  std::string get(const std::string& k, const std::string& d = {}) const {
    auto it = kv.find(k);
    return it == kv.end() ? d : it->second;
  }
  double num(const std::string& k, double d) const {
    auto it = kv.find(k);
    return it == kv.end() ? d : std::stod(it->second);
  }
  size_t count(const std::string& k, size_t d) const {
    return static_cast<size_t>(num(k, double(d)));
  }
};

args parse_args(int argc, char** argv, int from) {
  args a;
  for (int i = from; i < argc; ++i) {
    std::string k = argv[i];
    if (!k.starts_with("--")) throw std::runtime_error("unexpected argument " + k);
    k = k.substr(2);
    if (i + 1 < argc && !std::string(argv[i + 1]).starts_with("--")) {
      a.kv[k] = argv[++i];
    } else {
      a.kv[k] = "1";
    }
  }
  return a;
}

// ---- data -------------------------------------------------------------------------------------

template <typename T>
std::vector<std::vector<T>> read_vecs(const std::string& path, size_t limit = 0) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::vector<std::vector<T>> rows;
  int32_t dim = 0;
  while (in.read(reinterpret_cast<char*>(&dim), 4)) {
    if (dim <= 0 || dim > 65536) throw std::runtime_error("bad record in " + path);
    std::vector<T> row(static_cast<size_t>(dim));
    if (!in.read(reinterpret_cast<char*>(row.data()), std::streamsize(dim * sizeof(T)))) {
      throw std::runtime_error("truncated " + path);
    }
    rows.push_back(std::move(row));
    if (limit && rows.size() == limit) break;
  }
  return rows;
}

std::string vector_json(std::span<const float> v) {
  std::string out = "[";
  char buf[32];
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) out += ',';
    auto r = std::to_chars(buf, buf + sizeof buf, v[i]);
    out.append(buf, r.ptr);
  }
  out += ']';
  return out;
}

void pin_to_cpu(unsigned cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu % std::max(1u, std::thread::hardware_concurrency()), &set);
  pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

/// "1,3" -> {1, 3}; empty -> {0, 1, ..., n-1}: the CPUs the reference's threads are pinned to,
/// which should be the server's (the reference then runs where the server ran).
std::vector<unsigned> cpu_list(const std::string& text, size_t n) {
  std::vector<unsigned> cpus;
  for (size_t at = 0; at < text.size();) {
    auto comma = std::min(text.find(',', at), text.size());
    cpus.push_back(static_cast<unsigned>(std::stoul(text.substr(at, comma - at))));
    at = comma + 1;
  }
  if (cpus.empty()) {
    for (size_t i = 0; i < std::max<size_t>(n, 1); ++i) cpus.push_back(unsigned(i));
  }
  return cpus;
}

void expect_ok(const simple_reply& r, const std::string& what) {
  if (r.status != 200)
    throw std::runtime_error(fmt::format("{}: HTTP {}: {}", what, r.status, r.body));
}

/// The number of cores of the server (from /telemetry), which is its default shard count.
size_t server_cores(const std::string& host, uint16_t port) {
  auto r = http_call(host, port, "GET", "/telemetry?details_level=1");
  expect_ok(r, "telemetry");
  simdjson::dom::parser p;
  return size_t(uint64_t(p.parse(r.body)["result"]["app"]["system"]["cores"]));
}

struct json_out {
  std::string text = "{";
  void field(const std::string& k, double v) {
    sep();
    text += fmt::format("\"{}\":{}", k, v);
  }
  void field(const std::string& k, const std::string& v) {
    sep();
    text += fmt::format("\"{}\":\"{}\"", k, v);
  }
  void sep() {
    if (text.size() > 1) text += ',';
  }
  void write(const std::string& path) {
    if (path.empty()) return;
    std::ofstream(path) << text << "}\n";
  }
};

// ---- search -----------------------------------------------------------------------------------

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
        index::search_scratch scratch;
        std::vector<index::neighbor> out(k);
        index::search_params params;
        params.ef = ef;
        ready++;
        while (ready.load() < shards) std::this_thread::yield();
        auto t0 = clock_type::now();
        auto cpu0 = thread_cpu_ns();
        for (size_t r = 0; r < rounds; ++r) {
          for (auto& q : queries) (void)idx[s]->search(q, k, out, params, scratch).value();
        }
        thread_cpu[s] = thread_cpu_ns() - cpu0;
        thread_seconds[s] = std::chrono::duration<double>(clock_type::now() - t0).count();
        if (pass == 0) {
          for (auto& q : queries) {
            auto n = idx[s]->search(q, k, out, params, scratch).value();
            std::vector<uint64_t> ids;
            for (size_t j = 0; j < n; ++j) ids.push_back(out[j].label);
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
    std::vector<index::neighbor> out(k);
    index::search_scratch scratch;
    index::search_params params;
    params.ef = ef;
    for (size_t s = 0; s < shards; ++s) {
      auto n = idx[s]->search(queries[q], k, out, params, scratch).value();
      for (size_t j = 0; j < n; ++j) all.emplace_back(out[j].distance, rows_of[s][out[j].label]);
    }
    std::sort(all.begin(), all.end());
    for (size_t j = 0; j < k && j < all.size(); ++j) ref_ids[q].push_back(all[j].second);
  }
  idx.clear();
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
  load_options lo;
  lo.host = host;
  lo.port = port;
  lo.connections = a.count("connections", 16);
  lo.seconds = a.num("seconds", 10);
  lo.warmup_seconds = a.num("warmup", 2);
  lo.client_nice = static_cast<int>(a.num("client-nice", -10));
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
  // The tail's floor, measured the same way: the same client, rate and connections against an
  // endpoint that does no work. What it shows comes from the machine and the client, not search.
  auto floor = run_costed(half, {render_request("GET", "/livez", "")}, 0);
  double ratio = peak.load.qps / ref_qps;
  double tail = open.percentile(99) / open.percentile(50);
  double rec_http = gt.empty() ? 0 : recall_at(http_ids, gt, k);
  double rec_ref = gt.empty() ? 0 : recall_at(ref_ids, gt, k);
  fmt::print(
      "  HTTP open loop at {:.0f} queries/s (half of peak): achieved {:.0f}/s, p50 {:.0f} us, "
      "p99 {:.0f} us, p99.9 {:.0f} us, {} errors\n",
      half.rate, open.qps, open.percentile(50), open.percentile(99), open.percentile(99.9),
      open.errors);
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

// ---- ingest -----------------------------------------------------------------------------------

int cmd_ingest(const args& a) {
  auto host = a.get("host", "127.0.0.1");
  auto port = static_cast<uint16_t>(a.count("port", 6333));
  size_t dim = a.count("dim", 768), batch = a.count("batch", 256), pool = a.count("pool", 4096);
  auto name = a.get("collection", "bench_ingest");
  auto durability = a.get("durability", "");
  // Distinct ids, vectors from a pool of pre-rendered texts (the client must not be the
  // bottleneck): 7 significant digits, like embeddings written by common clients.
  std::mt19937_64 rng(42);
  std::uniform_real_distribution<float> u(-1, 1);
  std::vector<std::string> texts(pool);
  for (auto& t : texts) {
    t = "[";
    for (size_t d = 0; d < dim; ++d) t += fmt::format("{}{:.7f}", d ? "," : "", u(rng));
    t += "]";
  }
  size_t n_requests = a.count("requests", 600);
  std::vector<std::string> bodies;
  size_t total_bytes = 0;
  for (size_t r = 0; r < n_requests; ++r) {
    std::string body = R"({"points":[)";
    for (size_t i = 0; i < batch; ++i) {
      size_t id = r * batch + i;
      body += fmt::format(R"({}{{"id":{},"vector":)", i ? "," : "", id);
      body += texts[(id * 2654435761u) % pool];
      body += "}";
    }
    body += "]}";
    total_bytes += body.size();
    bodies.push_back(std::move(body));
  }
  fmt::print("ingest: {}-d vectors, {} per request, {:.1f} MB of JSON per request\n", dim, batch,
             double(bodies[0].size()) / 1e6);

  // Reference: decode in process, one thread.
  shard::collection_config cfg;
  cfg.vectors.emplace_back("", shard::vector_params{.size = uint32_t(dim),
                                                    .metric = index::metric_kind::cosine,
                                                    .kind = index::index_kind::flat});
  rest::rest_limits limits;
  simdjson::dom::parser parser;
  size_t decoded_points = 0;
  auto t0 = clock_type::now();
  size_t decode_requests = std::min<size_t>(bodies.size(), 60);
  for (size_t r = 0; r < decode_requests; ++r) {
    simdjson::padded_string padded(bodies[r]);
    auto doc = parser.parse(padded).value();
    auto pts = rest::decode_upsert(doc, cfg, limits);
    if (!pts) throw std::runtime_error(pts.error().message);
    decoded_points += pts->size();
  }
  double decode_rate =
      double(decoded_points) / std::chrono::duration<double>(clock_type::now() - t0).count();
  fmt::print("  reference: JSON parse + decode in process, one thread: {:.0f} vectors/s\n",
             decode_rate);

  http_call(host, port, "DELETE", "/collections/" + name);
  expect_ok(
      http_call(
          host, port, "PUT", "/collections/" + name,
          fmt::format(R"({{"vectors":{{"size":{},"distance":"Cosine","hnsw_config":{{"m":0}}}}}})",
                      dim)),
      "create");
  std::vector<std::string> requests;
  auto target = "/collections/" + name + "/points?wait=true" +
                (durability.empty() ? "" : "&durability=" + durability);
  for (auto& b : bodies) requests.push_back(render_request("PUT", target, b));
  bodies.clear();
  load_options lo;
  lo.host = host;
  lo.port = port;
  lo.connections = a.count("connections", 4);
  lo.seconds = a.num("seconds", 8);
  lo.warmup_seconds = a.num("warmup", 1);
  lo.client_nice = static_cast<int>(a.num("client-nice", -10));
  // Requests are used round-robin: stop before ids would repeat.
  auto r = run_load(lo, requests);
  if (r.requests + lo.connections * 4 > n_requests) {
    fmt::print("  note: {} requests answered of {} distinct; some ids were upserted twice\n",
               r.requests, n_requests);
  }
  double vps = r.qps * double(batch);
  double mbps = r.qps * double(total_bytes) / double(n_requests) / 1e6;
  fmt::print(
      "  HTTP: {:.0f} vectors/s ({:.0f} MB/s of JSON, {:.1f} requests/s, p50 {:.1f} ms, p99 "
      "{:.1f} ms, {} errors)\n",
      vps, mbps, r.qps, r.percentile(50) / 1e3, r.percentile(99) / 1e3, r.errors);
  fmt::print("  => {:.0f} vectors/s (target >= 30000); decode-only ceiling on one core {:.0f}/s\n",
             vps, decode_rate);
  auto info = http_call(host, port, "GET", "/collections/" + name);
  json_out j;
  j.field("bench", std::string("rest_ingest"));
  j.field("dim", double(dim));
  j.field("batch", double(batch));
  j.field("connections", double(lo.connections));
  j.field("vectors_per_s", vps);
  j.field("json_mb_per_s", mbps);
  j.field("requests_per_s", r.qps);
  j.field("p50_ms", r.percentile(50) / 1e3);
  j.field("p99_ms", r.percentile(99) / 1e3);
  j.field("decode_reference_vectors_per_s", decode_rate);
  j.field("durability", durability.empty() ? std::string("default") : durability);
  j.field("errors", double(r.errors));
  j.write(a.get("json"));
  http_call(host, port, "DELETE", "/collections/" + name);
  return r.errors == 0 ? 0 : 1;
}

// ---- parse ------------------------------------------------------------------------------------

int cmd_parse(const args& a) {
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<float> u(-1, 1);
  auto vec = [&](size_t dim) {
    std::vector<float> v(dim);
    for (auto& x : v) x = u(rng);
    return vector_json(v);
  };
  struct body_case {
    std::string name;
    std::string text;
  };
  std::vector<body_case> cases;
  cases.push_back({"search (768-d query)", R"({"query":)" + vec(768) + R"(,"limit":10})"});
  std::string upsert = R"({"points":[)";
  for (int i = 0; i < 256; ++i)
    upsert += fmt::format(R"({}{{"id":{},"vector":{}}})", i ? "," : "", i, vec(768));
  upsert += "]}";
  cases.push_back({"upsert (256 x 768-d)", upsert});
  json_out j;
  j.field("bench", std::string("rest_parse"));
  double seconds = a.num("seconds", 1);
  for (auto& c : cases) {
    std::string padded = c.text;
    padded.reserve(c.text.size() + simdjson::SIMDJSON_PADDING);
    std::string tight = c.text;
    tight.shrink_to_fit();
    simdjson::dom::parser parser;
    auto measure = [&](const std::string& s, bool copy) {
      double best = 1e30;
      for (int pass = 0; pass < 5; ++pass) {
        size_t n = 0;
        auto t0 = clock_type::now();
        double el = 0;
        do {
          simdjson::dom::element root;
          if (parser.parse(s.data(), s.size(), copy).get(root)) throw std::runtime_error("parse");
          ++n;
          el = std::chrono::duration<double>(clock_type::now() - t0).count();
        } while (el < seconds / 5);
        best = std::min(best, el / double(n));
      }
      return best * 1e6;
    };
    double in_place = measure(padded, false);
    double copied = measure(tight, true);
    fmt::print("parse {} ({:.1f} KB): in place {:.2f} us, with a copy {:.2f} us ({:+.1f}%)\n",
               c.name, double(c.text.size()) / 1e3, in_place, copied,
               (copied / in_place - 1) * 100);
    j.field(c.name + " in_place_us", in_place);
    j.field(c.name + " copy_us", copied);
  }
  j.write(a.get("json"));
  return 0;
}

}  // namespace
}  // namespace shoal::perf

int main(int argc, char** argv) {
  using namespace shoal::perf;
  if (argc < 2) {
    std::fprintf(
        stderr,
        "usage: shoal-rest-bench search|ingest|parse [--host H --port P ...]\n"
        "  search --base F.fvecs --queries F.fvecs [--gt F.ivecs] [--metric l2|cosine|ip]\n"
        "         [--k 10 --ef 64 --m 16 --ef-construct 100 --connections 16 --seconds 10]\n"
        "         [--server-pid PID: report the server's CPU time per query]\n"
        "         [--reference-cpus 0,1: pin the in-process reference's threads there]\n"
        "  ingest [--dim 768 --batch 256 --connections 4 --seconds 8 --durability D]\n"
        "  parse  [--seconds 1]\n"
        "  all: [--json FILE]\n");
    return 2;
  }
  try {
    std::string cmd = argv[1];
    auto a = parse_args(argc, argv, 2);
    if (cmd == "search") return cmd_search(a);
    if (cmd == "ingest") return cmd_ingest(a);
    if (cmd == "parse") return cmd_parse(a);
    std::fprintf(stderr, "unknown subcommand %s\n", cmd.c_str());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "shoal-rest-bench: %s\n", e.what());
    return 1;
  }
}
