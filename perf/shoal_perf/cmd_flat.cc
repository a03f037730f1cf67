// shoal-perf flat: exact search on one thread. Reports
//   single  queries one at a time (SIMD scan): QPS and the scan rate in GB/s of vector data,
//           to set against the machine's memory bandwidth (perf/index/triad);
//   batch   one search_batch call of --batch queries (sgemm above the threshold): seconds, QPS;
//   batch_simd the same batch through the SIMD scan, which shows what sgemm buys.
#include <cstdio>
#include <limits>
#include <string>
#include <vector>

#include "engine/common/json_writer.h"
#include "index/distance/dispatch.h"
#include "index/flat/flat_index.h"
#include "perf/shoal_perf/bench_util.h"
#include "perf/shoal_perf/datasets.h"

namespace shoal::perf {
namespace {

using namespace shoal::index;

std::unique_ptr<flat_index> build(const vec_file<float>& base, metric_kind metric,
                                  size_t blas_threshold, const distance::blas_knn_config& blas) {
  flat_config c;
  c.dim = base.dim;
  c.metric = metric;
  c.blas_threshold = blas_threshold;
  c.blas = blas;
  auto index = flat_index::create(c).value();
  index->reserve(base.rows);
  std::vector<label_t> labels(base.rows);
  for (size_t i = 0; i < base.rows; ++i) labels[i] = i;
  if (!index->add_batch(labels, base.data)) return nullptr;
  return index;
}

}  // namespace

int run_flat(const args_t& args) {
  arg_parser p("flat", "Exact search on one thread: single-query scan rate and batch throughput.");
  p.option("base", "B.fvecs", "base vectors")
      .option("query", "Q.fvecs", "query vectors (cycled if fewer than --batch)")
      .option("metric", "l2|ip|cosine|manhattan", "distance", "l2")
      .option("k", "K", "neighbours per query", "10")
      .option("batch", "N", "queries in the batch measurement", "1000")
      .option("single-queries", "N", "queries per pass of the single-query measurement", "10")
      .option("min-time", "S", "minimum seconds per measurement (best pass counts)", "2")
      .option("query-block", "N", "tuning: queries per sgemm (0: default)", "0")
      .option("base-block", "N", "tuning: base rows per sgemm (0: default)", "0")
      .option("json", "OUT.json", "write the results here (default: stdout)", "");
  if (int rc = parse_or_exit(p, "flat", args); rc >= 0) return rc;
  metric_kind metric;
  size_t k, batch, singles;
  double min_time;
  distance::blas_knn_config blas;
  try {
    if (size_t qb = p.get_size("query-block", 0, 1 << 20); qb > 0) blas.query_block = qb;
    if (size_t bb = p.get_size("base-block", 0, 1 << 24); bb > 0) blas.base_block = bb;
    metric = *parse_metric(p.get_choice("metric", {"l2", "ip", "cosine", "manhattan"}));
    k = p.get_size("k", 1, 1000);
    batch = p.get_size("batch", 1, 1000000);
    singles = p.get_size("single-queries", 1, 1000000);
    min_time = p.get_double("min-time", 0, 3600);
  } catch (const usage_error& e) {
    std::fprintf(stderr, "shoal-perf flat: %s\n\n%s", e.what(), p.usage().c_str());
    return 2;
  }
  std::string error;
  vec_file<float> base, queries;
  if (!read_vectors(p.get("base"), base, error) || !read_vectors(p.get("query"), queries, error)) {
    std::fprintf(stderr, "shoal-perf flat: %s\n", error.c_str());
    return 1;
  }
  if (base.dim != queries.dim) {
    std::fprintf(stderr, "shoal-perf flat: base and queries differ in dimension\n");
    return 1;
  }
  std::vector<float> batch_queries(batch * base.dim);
  for (size_t i = 0; i < batch; ++i) {
    std::copy(queries.row(i % queries.rows), queries.row(i % queries.rows) + base.dim,
              batch_queries.begin() + static_cast<ptrdiff_t>(i * base.dim));
  }
  auto index = build(base, metric, 8, blas);
  auto simd_only = build(base, metric, std::numeric_limits<size_t>::max(), blas);
  if (!index || !simd_only) {
    std::fprintf(stderr, "shoal-perf flat: building the index failed\n");
    return 1;
  }
  search_scratch scratch;
  std::vector<neighbor> out(batch * k);
  std::vector<size_t> counts(batch);
  const double single_s = best_pass_seconds(
      [&] {
        for (size_t i = 0; i < singles; ++i) {
          (void)index->search({batch_queries.data() + (i % batch) * base.dim, base.dim}, k,
                              {out.data(), k}, {}, scratch);
        }
      },
      min_time);
  const double per_query = single_s / static_cast<double>(singles);
  const double bytes = static_cast<double>(base.rows * base.dim * sizeof(float));
  const double batch_s = best_pass_seconds(
      [&] { (void)index->search_batch(batch_queries, k, out, counts, {}, scratch); }, min_time);
  const double simd_s = best_pass_seconds(
      [&] { (void)simd_only->search_batch(batch_queries, k, out, counts, {}, scratch); }, min_time);

  std::string json;
  json_writer w(json);
  w.begin_object();
  w.field("library", "shoal");
  w.field("isa", std::string(distance::isa_name()));
  w.field("metric", std::string(to_string(metric)));
  w.field("n", base.rows);
  w.field("dim", base.dim);
  w.field("k", k);
  w.key("single").begin_object();
  w.field("queries", singles);
  w.field("qps", 1.0 / per_query);
  w.field("gb_per_s", bytes / per_query / 1e9);
  w.end_object();
  w.key("batch").begin_object();
  w.field("queries", batch);
  w.field("seconds", batch_s);
  w.field("qps", static_cast<double>(batch) / batch_s);
  w.end_object();
  w.key("batch_simd").begin_object();
  w.field("queries", batch);
  w.field("seconds", simd_s);
  w.end_object();
  w.end_object();
  json += '\n';
  std::fprintf(stderr,
               "shoal-perf flat: %zu x %zu %s: single %.1f qps (%.2f GB/s), batch of %zu %.3f s "
               "(SIMD-only %.3f s)\n",
               base.rows, base.dim, std::string(to_string(metric)).c_str(), 1.0 / per_query,
               bytes / per_query / 1e9, batch, batch_s, simd_s);
  const std::string path = p.get("json");
  if (path.empty()) {
    std::fputs(json.c_str(), stdout);
  } else {
    std::FILE* f = std::fopen(path.c_str(), "w");
    if (f == nullptr || std::fputs(json.c_str(), f) < 0 || std::fclose(f) != 0) {
      std::fprintf(stderr, "shoal-perf flat: cannot write %s\n", path.c_str());
      return 1;
    }
  }
  return 0;
}

}  // namespace shoal::perf
