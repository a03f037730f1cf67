// shoal-perf index: builds an HNSW index in process from a TEXMEX data set, then for each ef
// runs every query one at a time on one thread and reports recall@10 and QPS. The command line
// and the JSON shape match ../shared/bench/hnswlib-anchor.sh, so a benchmark script can run
// both on the same data and compare them in one run:
//   {"build_seconds": s, "runs": [{"ef": e, "recall_at_10": r, "qps": q}, ...], ...}
// With --filter-selectivity F a filter accepting a seeded fraction F of the points is applied
// to every query; recall is then measured against exact answers over the matching points, and
// each run also reports the QPS of exact search over the matching set ("exact_qps"). A list
// F1,F2,... measures each selectivity on the same build (runs carry "filter_selectivity").
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "engine/common/json_writer.h"
#include "index/distance/dispatch.h"
#include "index/flat/flat_index.h"
#include "index/hnsw/hnsw_index.h"
#include "perf/shoal_perf/bench_util.h"
#include "perf/shoal_perf/datasets.h"

namespace shoal::perf {
namespace {

using namespace shoal::index;

// A label's deterministic pseudo-random position in [0, 1), for seeded filters.
double label_fraction(label_t label) {
  uint64_t z = label + 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z ^= z >> 31;
  return static_cast<double>(z >> 11) * 0x1.0p-53;
}

// Accepts labels whose seeded fraction is below the selectivity. In "list" mode it also hands
// the index the matching labels, as a shard with a payload index would.
class selectivity_filter final : public label_filter {
 public:
  selectivity_filter(double selectivity, size_t n, bool offer_list) : offer_list_(offer_list) {
    accepted_.resize(n);
    for (size_t i = 0; i < n; ++i) {
      accepted_[i] = label_fraction(i) < selectivity;
      if (accepted_[i]) list_.push_back(i);
    }
  }
  bool matches(label_t label) const override {
    return label < accepted_.size() && accepted_[label];
  }
  std::optional<std::span<const label_t>> candidate_labels() const override {
    if (!offer_list_) return std::nullopt;
    return std::span<const label_t>(list_);
  }
  size_t matching() const { return list_.size(); }

 private:
  bool offer_list_;
  std::vector<bool> accepted_;
  std::vector<label_t> list_;
};

struct options {
  std::string base, query, gt, json;
  metric_kind metric = metric_kind::l2;
  quantization_kind quantization = quantization_kind::none;
  size_t m = 16, ef_construction = 200, k = 10, limit = 0, prefetch_lines = 0;
  std::vector<size_t> efs;
  double min_time = 0.5;
  std::vector<double> selectivities;  // empty: no filter
  bool filter_list = true;
};

// Exact top-k ids per query over the base (restricted by the filter), via the flat index.
std::vector<int32_t> exact_ground_truth(const vec_file<float>& base, const vec_file<float>& queries,
                                        metric_kind metric, size_t k, const label_filter* filter) {
  flat_config fc;
  fc.dim = base.dim;
  fc.metric = metric;
  auto flat = flat_index::create(fc).value();
  std::vector<label_t> labels(base.rows);
  for (size_t i = 0; i < base.rows; ++i) labels[i] = i;
  if (!flat->add_batch(labels, base.data)) return {};
  std::vector<neighbor> out(queries.rows * k);
  std::vector<size_t> counts(queries.rows);
  search_params params;
  params.filter = filter;
  if (!flat->search_batch(queries.data, k, out, counts, params)) return {};
  std::vector<int32_t> ids(queries.rows * k, -1);
  for (size_t i = 0; i < out.size(); ++i) {
    if (out[i].label != invalid_label) ids[i] = static_cast<int32_t>(out[i].label);
  }
  return ids;
}

// recall@k of `results` against `truth` (truth_k ids per query; -1 = none), as the anchor
// computes it: the fraction of the true top-k ids that were returned.
double recall_at_k(const std::vector<neighbor>& results, const std::vector<int32_t>& truth,
                   size_t truth_k, size_t nq, size_t k) {
  double hits = 0, wanted = 0;
  for (size_t i = 0; i < nq; ++i) {
    std::unordered_set<int32_t> want;
    for (size_t j = 0; j < k; ++j) {
      const int32_t id = truth[i * truth_k + j];
      if (id >= 0) want.insert(id);
    }
    wanted += static_cast<double>(want.size());
    for (size_t j = 0; j < k; ++j) {
      const label_t l = results[i * k + j].label;
      if (l != invalid_label && want.count(static_cast<int32_t>(l))) hits += 1;
    }
  }
  return wanted > 0 ? hits / wanted : 1.0;
}

// Runs every ef (with an optional filter) and appends one JSON object per ef to `w`.
void measure_runs(const hnsw_index& index, const vec_file<float>& queries,
                  const std::vector<int32_t>& truth, size_t truth_k, const options& o,
                  const selectivity_filter* filter, double selectivity, json_writer& w) {
  const size_t k = o.k;
  search_scratch scratch;
  std::vector<neighbor> results(queries.rows * k);
  for (size_t ef : o.efs) {
    search_params params;
    params.ef = ef;
    params.filter = filter;
    uint64_t distances = 0, exact_paths = 0;
    auto pass = [&] {
      distances = 0;
      exact_paths = 0;
      for (size_t i = 0; i < queries.rows; ++i) {
        (void)index.search({queries.row(i), queries.dim}, k, {results.data() + i * k, k}, params,
                           scratch);
        distances += scratch.last.distance_computations;
        exact_paths += scratch.last.exact_path ? 1 : 0;
      }
    };
    const double seconds = best_pass_seconds(pass, o.min_time);
    const double recall = recall_at_k(results, truth, truth_k, queries.rows, k);
    const double qps = static_cast<double>(queries.rows) / seconds;
    const double per_query = static_cast<double>(distances) / static_cast<double>(queries.rows);
    w.begin_object();
    w.field("ef", ef);
    w.field("recall_at_10", recall);
    w.field("qps", qps);
    w.field("distance_computations_per_query", per_query);
    double exact_qps = 0;
    if (filter != nullptr) {
      w.field("filter_selectivity", selectivity);
      w.field("filter_matching", filter->matching());
      w.field("exact_path_fraction",
              static_cast<double>(exact_paths) / static_cast<double>(queries.rows));
      // The reference: exact search over the matching set (the filter's list when offered).
      search_params exact = params;
      exact.exact = true;
      std::vector<neighbor> out(k);
      const double exact_seconds = best_pass_seconds(
          [&] {
            for (size_t i = 0; i < queries.rows; ++i) {
              (void)index.search({queries.row(i), queries.dim}, k, out, exact, scratch);
            }
          },
          o.min_time);
      exact_qps = static_cast<double>(queries.rows) / exact_seconds;
      w.field("exact_qps", exact_qps);
    }
    w.end_object();
    if (filter != nullptr) {
      std::fprintf(stderr, "  filter %-6g ef %4zu  recall@%zu %.4f  qps %9.1f  exact qps %9.1f\n",
                   selectivity, ef, k, recall, qps, exact_qps);
    } else {
      std::fprintf(stderr, "  ef %4zu  recall@%zu %.4f  qps %9.1f  dist/query %7.0f\n", ef, k,
                   recall, qps, per_query);
    }
  }
}

int run(const options& o) {
  std::string error;
  vec_file<float> base, queries;
  if (!read_vectors(o.base, base, error, o.limit) || !read_vectors(o.query, queries, error)) {
    std::fprintf(stderr, "shoal-perf index: %s\n", error.c_str());
    return 1;
  }
  if (base.dim != queries.dim) {
    std::fprintf(stderr, "shoal-perf index: base is %zu-d but queries are %zu-d\n", base.dim,
                 queries.dim);
    return 1;
  }
  // Ground truth for unfiltered runs: the file's, unless a subset changes the answer.
  std::vector<int32_t> truth;
  size_t truth_k = o.k;
  if (o.selectivities.empty()) {
    if (o.limit > 0) {
      truth = exact_ground_truth(base, queries, o.metric, o.k, nullptr);
    } else {
      vec_file<int32_t> gt;
      if (!read_ivecs(o.gt, gt, error)) {
        std::fprintf(stderr, "shoal-perf index: %s\n", error.c_str());
        return 1;
      }
      if (gt.rows < queries.rows || gt.dim < o.k) {
        std::fprintf(stderr,
                     "shoal-perf index: ground truth has %zu rows of %zu, need %zu of %zu\n",
                     gt.rows, gt.dim, queries.rows, o.k);
        return 1;
      }
      truth = std::move(gt.data);
      truth_k = gt.dim;
    }
  }

  hnsw_config config;
  config.dim = base.dim;
  config.metric = o.metric;
  config.m = o.m;
  config.ef_construction = o.ef_construction;
  config.quantization = o.quantization;
  config.prefetch_lines = o.prefetch_lines;
  auto created = hnsw_index::create(config);
  if (!created) {
    std::fprintf(stderr, "shoal-perf index: %s\n", describe(created.error()).c_str());
    return 1;
  }
  hnsw_index& index = **created;
  index.reserve(base.rows);
  std::vector<label_t> labels(base.rows);
  for (size_t i = 0; i < base.rows; ++i) labels[i] = i;
  const double build_start = now_seconds();
  // Chunks, the way a shard feeds it between yields.
  const size_t chunk = 4096;
  for (size_t at = 0; at < base.rows; at += chunk) {
    const size_t n = std::min(chunk, base.rows - at);
    auto r =
        index.add_batch({labels.data() + at, n}, {base.data.data() + at * base.dim, n * base.dim});
    if (!r) {
      std::fprintf(stderr, "shoal-perf index: insert failed: %s\n", describe(r.error()).c_str());
      return 1;
    }
  }
  index.train_quantizer();  // int8 sets smaller than the training threshold
  const double build_seconds = now_seconds() - build_start;
  std::fprintf(stderr, "shoal-perf index: %zu x %zu %s %s built in %.2f s (%s, %.1f MiB)\n",
               base.rows, base.dim, std::string(to_string(o.metric)).c_str(),
               std::string(to_string(o.quantization)).c_str(), build_seconds,
               std::string(distance::isa_name()).c_str(),
               static_cast<double>(index.memory_usage()) / (1 << 20));

  std::string json;
  json_writer w(json);
  w.begin_object();
  w.field("library", "shoal");
  w.field("isa", std::string(distance::isa_name()));
  w.field("metric", std::string(to_string(o.metric)));
  w.field("quantization", std::string(to_string(o.quantization)));
  w.field("n", base.rows);
  w.field("dim", base.dim);
  w.field("m", o.m);
  w.field("ef_construction", o.ef_construction);
  w.field("build_seconds", build_seconds);
  w.field("memory_bytes", index.memory_usage());
  if (!o.selectivities.empty()) w.field("filter_mode", o.filter_list ? "list" : "predicate");
  w.key("runs").begin_array();
  if (o.selectivities.empty()) {
    measure_runs(index, queries, truth, truth_k, o, nullptr, 0, w);
  } else {
    for (double f : o.selectivities) {
      selectivity_filter filter(f, base.rows, o.filter_list);
      truth = exact_ground_truth(base, queries, o.metric, o.k, &filter);
      measure_runs(index, queries, truth, o.k, o, &filter, f, w);
    }
  }
  w.end_array();
  w.end_object();
  json += '\n';
  if (o.json.empty()) {
    std::fputs(json.c_str(), stdout);
  } else {
    std::FILE* f = std::fopen(o.json.c_str(), "w");
    if (f == nullptr || std::fputs(json.c_str(), f) < 0 || std::fclose(f) != 0) {
      std::fprintf(stderr, "shoal-perf index: cannot write %s\n", o.json.c_str());
      return 1;
    }
  }
  return 0;
}

}  // namespace

int run_index(const args_t& args) {
  arg_parser p("index",
               "Builds an HNSW index in process (one thread), then for each ef runs every query\n"
               "one at a time and reports recall@10 and QPS (best of >= 3 full passes).");
  p.option("base", "B.fvecs", "base vectors (.fvecs, or .bvecs)")
      .option("query", "Q.fvecs", "query vectors")
      .option("gt", "G.ivecs", "exact neighbour ids per query (TEXMEX ground truth)", "")
      .option("metric", "l2|ip|cosine|manhattan", "distance", "l2")
      .option("m", "M", "links per node (2M on level 0)", "16")
      .option("ef-construction", "EFC", "beam width while building", "200")
      .option("ef", "LIST", "comma-separated search beam widths", "10,20,40,80,160,320")
      .option("quantization", "none|int8", "int8: walk on int8 codes, rescore with float32", "none")
      .option("filter-selectivity", "F[,F...]",
              "filter accepting a seeded fraction F in (0, 1]; a list runs each on one build", "")
      .option("filter-mode", "list|predicate",
              "list: the filter also offers its matching labels; predicate: matches() only", "list")
      .option("k", "K", "neighbours per query", "10")
      .option("limit", "N", "use the first N base vectors (0: all; ground truth recomputed)", "0")
      .option("min-time", "S", "minimum seconds of passes per ef", "0.5")
      .option("prefetch-lines", "N", "tuning: cache lines prefetched per neighbour (0: auto)", "0")
      .option("json", "OUT.json", "write the results here (default: stdout)", "");
  if (int rc = parse_or_exit(p, "index", args); rc >= 0) return rc;
  options o;
  try {
    o.base = p.get("base");
    o.query = p.get("query");
    o.gt = p.get("gt");
    o.json = p.get("json");
    o.metric = *parse_metric(p.get_choice("metric", {"l2", "ip", "cosine", "manhattan"}));
    o.quantization = *parse_quantization(p.get_choice("quantization", {"none", "int8"}));
    o.m = p.get_size("m", 2, 128);
    o.ef_construction = p.get_size("ef-construction", 1, 100000);
    o.efs = p.get_size_list("ef", 1, 100000);
    o.k = p.get_size("k", 1, 1000);
    o.limit = p.get_size("limit", 0, ~size_t{0});
    o.min_time = p.get_double("min-time", 0, 3600);
    o.prefetch_lines = p.get_size("prefetch-lines", 0, 64);
    if (!p.get("filter-selectivity").empty()) {
      std::stringstream list(p.get("filter-selectivity"));
      std::string item;
      while (std::getline(list, item, ',')) {
        char* end = nullptr;
        const double f = std::strtod(item.c_str(), &end);
        if (item.empty() || *end != '\0' || !(f > 0 && f <= 1)) {
          throw usage_error("--filter-selectivity: '" + item + "' is not a fraction in (0, 1]");
        }
        o.selectivities.push_back(f);
      }
    }
    o.filter_list = p.get_choice("filter-mode", {"list", "predicate"}) == "list";
    if (o.gt.empty() && o.limit == 0 && o.selectivities.empty()) {
      throw usage_error("--gt is required unless --limit or --filter-selectivity is given");
    }
  } catch (const usage_error& e) {
    std::fprintf(stderr, "shoal-perf index: %s\n\n%s", e.what(), p.usage().c_str());
    return 2;
  }
  return run(o);
}

}  // namespace shoal::perf
