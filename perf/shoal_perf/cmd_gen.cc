// shoal-perf gen: a seeded synthetic data set shaped like real embeddings, with exact ground
// truth, in TEXMEX files: DIR/base.fvecs, DIR/query.fvecs, DIR/groundtruth.ivecs.
//
// Each point belongs to one of --clusters clusters; a cluster is a random centre plus a random
// linear map of a --intrinsic-dimensional gaussian latent, plus a little isotropic noise. So
// the data is clustered at large scale and of low intrinsic dimension at small scale, like
// sentence or image embeddings. Queries come from the same distribution (another seed stream).
// The same arguments always produce the same bytes.
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "index/flat/flat_index.h"
#include "perf/shoal_perf/bench_util.h"
#include "perf/shoal_perf/datasets.h"

namespace shoal::perf {
namespace {

class rng {
 public:
  explicit rng(uint64_t seed) : engine_(seed) {}
  double uniform() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }
  uint64_t below(uint64_t n) { return engine_() % n; }
  double gaussian() {
    double u1 = std::max(uniform(), 1e-300), u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }

 private:
  std::mt19937_64 engine_;
};

struct generator {
  size_t dim, clusters, intrinsic;
  double noise;
  std::vector<float> centres, maps;

  generator(size_t d, size_t c, size_t intr, double nz, uint64_t seed)
      : dim(d), clusters(c), intrinsic(intr), noise(nz), centres(c * d), maps(c * d * intr) {
    rng r(seed);
    for (auto& x : centres) x = static_cast<float>(r.gaussian());
    const double scale = 0.5 / std::sqrt(static_cast<double>(intr));
    for (auto& a : maps) a = static_cast<float>(scale * r.gaussian());
  }

  vec_file<float> sample(size_t n, uint64_t seed) const {
    rng r(seed);
    vec_file<float> out;
    out.rows = n;
    out.dim = dim;
    out.data.resize(n * dim);
    std::vector<double> z(intrinsic);
    for (size_t i = 0; i < n; ++i) {
      const size_t c = r.below(clusters);
      for (auto& x : z) x = r.gaussian();
      for (size_t j = 0; j < dim; ++j) {
        double v = centres[c * dim + j] + noise * r.gaussian();
        const float* row = &maps[(c * dim + j) * intrinsic];
        for (size_t t = 0; t < intrinsic; ++t) v += row[t] * z[t];
        out.data[i * dim + j] = static_cast<float>(v);
      }
    }
    return out;
  }
};

}  // namespace

int run_gen(const args_t& args) {
  arg_parser p("gen",
               "Writes a seeded clustered synthetic data set with exact ground truth:\n"
               "DIR/base.fvecs, DIR/query.fvecs, DIR/groundtruth.ivecs.");
  p.option("out", "DIR", "output directory (created if missing)")
      .option("n", "N", "base vectors", "200000")
      .option("queries", "Q", "query vectors", "1000")
      .option("dim", "D", "dimension", "128")
      .option("clusters", "C", "clusters", "256")
      .option("intrinsic", "I", "intrinsic dimension inside a cluster", "16")
      .option("noise", "S", "isotropic noise per coordinate", "0.02")
      .option("metric", "l2|ip|cosine|manhattan", "metric of the ground truth", "l2")
      .option("gt-k", "K", "neighbours per query in the ground truth", "100")
      .option("seed", "SEED", "seed", "42");
  if (int rc = parse_or_exit(p, "gen", args); rc >= 0) return rc;
  size_t n, nq, dim, clusters, intrinsic, gt_k;
  uint64_t seed;
  double noise;
  index::metric_kind metric;
  try {
    n = p.get_size("n", 1, 100000000);
    nq = p.get_size("queries", 1, 10000000);
    dim = p.get_size("dim", 1, 65536);
    clusters = p.get_size("clusters", 1, 1000000);
    intrinsic = p.get_size("intrinsic", 1, 4096);
    gt_k = p.get_size("gt-k", 1, 10000);
    seed = p.get_size("seed", 0, ~size_t{0});
    noise = p.get_double("noise", 0, 1e6);
    metric = *index::parse_metric(p.get_choice("metric", {"l2", "ip", "cosine", "manhattan"}));
  } catch (const usage_error& e) {
    std::fprintf(stderr, "shoal-perf gen: %s\n\n%s", e.what(), p.usage().c_str());
    return 2;
  }
  const std::string dir = p.get("out");
  std::error_code mkdir_error;
  std::filesystem::create_directories(dir, mkdir_error);
  generator g(dim, clusters, intrinsic, noise, seed);
  const vec_file<float> base = g.sample(n, seed * 3 + 1);
  const vec_file<float> queries = g.sample(nq, seed * 3 + 2);

  // Exact ground truth through the flat index (sgemm batches), ties broken by the lower id.
  index::flat_config fc;
  fc.dim = dim;
  fc.metric = metric;
  auto flat = index::flat_index::create(fc).value();
  std::vector<index::label_t> labels(n);
  for (size_t i = 0; i < n; ++i) labels[i] = i;
  if (auto r = flat->add_batch(labels, base.data); !r) {
    std::fprintf(stderr, "shoal-perf gen: %s\n", describe(r.error()).c_str());
    return 1;
  }
  const size_t k = std::min(gt_k, n);
  vec_file<int32_t> gt;
  gt.rows = nq;
  gt.dim = k;
  gt.data.resize(nq * k);
  std::vector<index::neighbor> out(1000 * k);
  std::vector<size_t> counts(1000);
  for (size_t q0 = 0; q0 < nq; q0 += 1000) {
    const size_t m = std::min<size_t>(1000, nq - q0);
    auto r = flat->search_batch({queries.data.data() + q0 * dim, m * dim}, k, out, counts);
    if (!r) {
      std::fprintf(stderr, "shoal-perf gen: %s\n", describe(r.error()).c_str());
      return 1;
    }
    for (size_t i = 0; i < m * k; ++i) gt.data[q0 * k + i] = static_cast<int32_t>(out[i].label);
  }
  std::string error;
  if (!write_fvecs(dir + "/base.fvecs", base, error) ||
      !write_fvecs(dir + "/query.fvecs", queries, error) ||
      !write_ivecs(dir + "/groundtruth.ivecs", gt, error)) {
    std::fprintf(stderr, "shoal-perf gen: %s\n", error.c_str());
    return 1;
  }
  std::fprintf(stderr,
               "shoal-perf gen: wrote %zu + %zu x %zu (%zu clusters, intrinsic %zu) to %s\n", n, nq,
               dim, clusters, intrinsic, dir.c_str());
  return 0;
}

}  // namespace shoal::perf
