// Reference for "memory per vector beyond the raw floats": what hnswlib 0.6.2 (Debian's
// libhnswlib-dev) allocates for the same number of points, dimension and M, measured with
// mallinfo2 around building the index. Built only when the hnswlib headers are installed
// (make bench installs them); it is a measuring tool, not product code.
//
//   hnswlib-memory --points N --dim D --m M
#include <cstdio>
#include <hnswlib/hnswlib.h>
#include <malloc.h>
#include <random>
#include <string>
#include <vector>

int main(int argc, char** argv) {
  size_t points = 1'000'000, dim = 128, m = 16;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--points")
      points = std::stoul(argv[i + 1]);
    else if (a == "--dim")
      dim = std::stoul(argv[i + 1]);
    else if (a == "--m")
      m = std::stoul(argv[i + 1]);
  }
  std::vector<float> v(dim);
  std::mt19937 rng(1);
  std::normal_distribution<float> d;
  auto before = mallinfo2().uordblks + mallinfo2().hblkhd;
  hnswlib::L2Space space(dim);
  auto* index = new hnswlib::HierarchicalNSW<float>(&space, points, m, 100);
  for (size_t i = 0; i < points; ++i) {
    for (auto& x : v) x = d(rng);
    index->addPoint(v.data(), i);
  }
  auto after = mallinfo2().uordblks + mallinfo2().hblkhd;
  double per = static_cast<double>(after - before) / static_cast<double>(points);
  std::printf(
      "{\"points\": %zu, \"dim\": %zu, \"m\": %zu, \"bytes_per_vector\": %.1f, "
      "\"overhead_bytes_per_vector\": %.1f}\n",
      points, dim, m, per, per - static_cast<double>(dim * sizeof(float)));
  delete index;
  return 0;
}
