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
//             - HTTP at half of that peak, open loop: p50 / p99 latency, beside the same open
//               loop on GET /livez (the machine's floor);
//             - recall@k of both against the exact ground truth;
//             - CPU time per query of the server, the client and the index (search_bench.cc).
//   ingest  against a running shoald: PUT /points?wait=true of D-dim vectors (list form, B per
//           request, C connections) into a flat collection; vectors/s. Reference: the same
//           request bodies parsed and decoded in process (rest::decode_upsert), one thread.
//   parse   in process: simdjson parsing a search body and an upsert body in place (padded
//           body, as the session keeps it) versus with a copy (what parse_body did before).
//
// Every subcommand prints a summary and writes JSON with --json FILE.

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <simdjson.h>

#include "net/rest/decode.h"
#include "net/rest/vector_list_body.h"
#include "perf/rest/bench_util.h"
#include "perf/rest/load.h"

namespace shoal::perf {
namespace {

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
  // The list form {"points": [{"id", "vector"}, ...]} or the column form {"batch": {"ids",
  // "vectors"}} (what Python's upload_points sends).
  auto form = a.get("form", "points");
  if (form != "points" && form != "batch") throw std::runtime_error("--form: points or batch");
  bool columns = form == "batch";
  std::vector<std::string> bodies;
  size_t total_bytes = 0;
  for (size_t r = 0; r < n_requests; ++r) {
    std::string body = columns ? R"({"batch":{"ids":[)" : R"({"points":[)";
    if (columns) {
      for (size_t i = 0; i < batch; ++i) body += fmt::format("{}{}", i ? "," : "", r * batch + i);
      body += R"(],"vectors":[)";
    }
    for (size_t i = 0; i < batch; ++i) {
      size_t id = r * batch + i;
      if (!columns) body += fmt::format(R"({}{{"id":{},"vector":)", i ? "," : "", id);
      if (columns && i) body += ",";
      body += texts[(id * 2654435761u) % pool];
      if (!columns) body += "}";
    }
    body += columns ? "]}}" : "]}";
    total_bytes += body.size();
    bodies.push_back(std::move(body));
  }
  fmt::print("ingest: {}-d vectors, {} per request ({} form), {:.1f} MB of JSON per request\n", dim,
             batch, form, double(bodies[0].size()) / 1e6);

  // Reference: decode in process, one thread, the ordinary way (simdjson DOM) and the way the
  // server reads these bodies (the vectors read straight from the text: vector_list_body.h).
  shard::collection_config cfg;
  cfg.vectors.emplace_back("", shard::vector_params{.size = uint32_t(dim),
                                                    .metric = index::metric_kind::cosine,
                                                    .kind = index::index_kind::flat});
  rest::rest_limits limits;
  size_t decode_requests = std::min<size_t>(bodies.size(), 60);
  auto decode_rate_of = [&](bool fast_path) {
    simdjson::dom::parser parser;
    size_t decoded_points = 0;
    auto t0 = clock_type::now();
    for (size_t r = 0; r < decode_requests; ++r) {
      data::decoded<std::vector<shard::point_write>> pts;
      if (fast_path) {
        auto body = rest::parse_vector_list_body_fast(
            bodies[r],
            {"points", "vector", dim, limits.max_points_per_request, "batch", "vectors"});
        if (!body) throw std::runtime_error("the fast path stepped aside");
        pts = rest::decode_upsert(
            body->doc, cfg, limits, &body->vectors,
            body->from_columns ? rest::upsert_form::batch : rest::upsert_form::points);
      } else {
        simdjson::padded_string padded(bodies[r]);
        pts = rest::decode_upsert(parser.parse(padded).value(), cfg, limits);
      }
      if (!pts) throw std::runtime_error(pts.error().message);
      decoded_points += pts->size();
    }
    return double(decoded_points) / std::chrono::duration<double>(clock_type::now() - t0).count();
  };
  double dom_rate = decode_rate_of(false);
  double decode_rate = decode_rate_of(true);
  fmt::print(
      "  reference: JSON parse + decode in process, one thread: {:.0f} vectors/s as the server "
      "does it (vectors read from the text), {:.0f} vectors/s through the DOM\n",
      decode_rate, dom_rate);

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
  auto lo = load_options_from(a, 4, 8, 1);
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
  j.field("form", form);
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
        "         [--open-rate R: only the open loop, at R/s; --open-connections 64;\n"
        "          --open-trace FILE: each open-loop request's due time and latency]\n"
        "  ingest [--dim 768 --batch 256 --connections 4 --seconds 8 --durability D]\n"
        "         [--form points|batch: the list or the column form of the upserts]\n"
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
