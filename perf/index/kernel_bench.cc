// Distance kernels per SIMD level and dimension: one-to-one, x4 and one-to-many (256 rows).
//   build/bin/shoal_index_kernel_bench --benchmark_filter=l2sq
#include <random>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "index/distance/dispatch.h"
#include "index/distance/simd_level.h"

namespace {

using namespace shoal::index::distance;

std::vector<float> random_floats(size_t n) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(-1, 1);
  std::vector<float> v(n);
  for (auto& x : v) x = u(rng);
  return v;
}

void f32_many(benchmark::State& state, simd_level level, f32_forms kernel_table::*forms) {
  const size_t d = static_cast<size_t>(state.range(0)), rows = 256;
  auto q = random_floats(d), base = random_floats(rows * d);
  std::vector<float> out(rows);
  const f32_forms& f = kernels_for(level).*forms;
  for (auto _ : state) {
    f.many(q.data(), base.data(), rows, d, out.data());
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * rows));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * rows * d * sizeof(float)));
}

void i8_x4(benchmark::State& state, simd_level level) {
  const size_t d = static_cast<size_t>(state.range(0));
  std::vector<int8_t> q(d, 3), rows(4 * d, -5);
  const int8_t* r[4] = {rows.data(), rows.data() + d, rows.data() + 2 * d, rows.data() + 3 * d};
  int32_t out[4];
  const i8_forms& f = kernels_for(level).i8_dot;
  for (auto _ : state) {
    f.x4(q.data(), r, d, out);
    benchmark::DoNotOptimize(out);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * 4));
}

int register_all() {
  for (auto level : {simd_level::scalar, simd_level::avx2, simd_level::avx512}) {
    if (!cpu_supports(level)) continue;
    const std::string name(level_name(level));
    benchmark::RegisterBenchmark(("l2sq_many/" + name).c_str(), f32_many, level,
                                 &kernel_table::f32_l2sq)
        ->Arg(128)
        ->Arg(512)
        ->Arg(784);
    benchmark::RegisterBenchmark(("dot_many/" + name).c_str(), f32_many, level,
                                 &kernel_table::f32_dot)
        ->Arg(128)
        ->Arg(512)
        ->Arg(784);
    benchmark::RegisterBenchmark(("i8_dot_x4/" + name).c_str(), i8_x4, level)
        ->Arg(128)
        ->Arg(512)
        ->Arg(784);
  }
  return 0;
}
const int registered = register_all();

}  // namespace

BENCHMARK_MAIN();
