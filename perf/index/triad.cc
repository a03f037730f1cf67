// A STREAM-style triad, a[i] = b[i] + s * c[i] over double arrays far larger than the caches,
// on one thread: the memory bandwidth reference the flat scan is compared with
// (perf/benches/index.sh). Reports the best of 20 passes, counting 24 bytes per element as
// STREAM does (two reads and one write; write-allocate traffic not counted).
// Built twice: portable -O3 (shoal-triad) and -O3 -march=native (shoal-triad-native).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

int main(int argc, char** argv) {
  const size_t n = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : (size_t{1} << 25);
  std::vector<double> a(n, 1.0), b(n, 2.0), c(n, 0.5);
  const double s = 3.0;
  double best = 1e300;
  for (int pass = 0; pass < 20; ++pass) {
    const auto t0 = std::chrono::steady_clock::now();
    double* __restrict pa = a.data();
    const double* __restrict pb = b.data();
    const double* __restrict pc = c.data();
    for (size_t i = 0; i < n; ++i) pa[i] = pb[i] + s * pc[i];
    const double t = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    best = std::min(best, t);
    std::swap(a, b);
  }
  const double gbps = 24.0 * static_cast<double>(n) / best / 1e9;
  std::printf(
      "{\"kernel\": \"triad\", \"elements\": %zu, \"seconds\": %.6f, \"gb_per_s\": %.3f, "
      "\"check\": %.1f}\n",
      n, best, gbps, a[n / 2] + b[n / 3]);
  return 0;
}
