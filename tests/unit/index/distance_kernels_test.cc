// Every SIMD kernel against the scalar reference, for every dimension 1..300, on inputs that
// start one element past an aligned boundary, in all three forms (one, x4, many), at every
// level this CPU supports.
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "index/distance/dispatch.h"
#include "index/distance/simd_level.h"
#include "tests/support/random_vectors.h"

namespace shoal::index::distance {
namespace {

constexpr size_t kMaxDim = 300;
constexpr size_t kRows = 7;  // not a multiple of 4: exercises the remainder path of `many`

struct variant {
  std::string name;
  const kernel_table* table;
};

// Every table this CPU can run: each level, and on VNNI machines also the plain AVX-512BW int8
// kernels that the VNNI ones replace (they still run on AVX-512 CPUs without VNNI).
std::vector<variant> supported_variants() {
  std::vector<variant> out;
  if (cpu_supports(simd_level::avx2)) out.push_back({"avx2", &kernels_for(simd_level::avx2)});
  if (cpu_supports(simd_level::avx512)) {
    const kernel_table& best = kernels_for(simd_level::avx512);
    out.push_back({best.isa, &best});
    if (cpu_has_avx512_vnni()) out.push_back({"avx512_without_vnni", &avx512_kernels()});
  }
  for (auto& v : out) {
    for (auto& c : v.name) c = (c == '+') ? '_' : c;
  }
  return out;
}

// Float sums in a different order differ by rounding: allow a relative error on the sum of
// the magnitudes of the terms.
void expect_close(float got, float want, float magnitude, const std::string& what) {
  float tol = 2e-5f * magnitude + 1e-6f;
  ASSERT_NEAR(got, want, tol) << what;
}

float magnitude(const float* a, const float* b, size_t d, const std::string& name) {
  float m = 0;
  for (size_t i = 0; i < d; ++i) {
    if (name == "l2sq")
      m += (std::fabs(a[i]) + std::fabs(b[i])) * (std::fabs(a[i]) + std::fabs(b[i]));
    else if (name == "l1")
      m += std::fabs(a[i]) + std::fabs(b[i]);
    else
      m += std::fabs(a[i] * b[i]);
  }
  return name == "cosine" ? 1.0f : m;
}

class KernelTest : public ::testing::TestWithParam<variant> {
 protected:
  // One extra element in front of everything so every pointer is misaligned by 4 (or 1) bytes.
  std::vector<float> fbuf_ = test::uniform_vectors(1 + kRows * kMaxDim + kMaxDim, 1, 42, -3, 3);
  std::vector<int8_t> ibuf_ = [] {
    test::seeded_rng rng(7);
    std::vector<int8_t> v(1 + kRows * kMaxDim + kMaxDim);
    for (auto& x : v) x = static_cast<int8_t>(static_cast<int>(rng.below(255)) - 127);
    // Extremes on purpose: the largest products and differences the kernels must hold.
    for (size_t i = 1; i < v.size(); i += 17) v[i] = (i % 2) ? 127 : -127;
    return v;
  }();
};

TEST_P(KernelTest, Float32MatchesScalarForEveryDimension) {
  const kernel_table& ref = scalar_kernels();
  const kernel_table& simd = *GetParam().table;
  struct named {
    const char* name;
    f32_forms kernel_table::*forms;
  };
  const named all[] = {{"l2sq", &kernel_table::f32_l2sq},
                       {"dot", &kernel_table::f32_dot},
                       {"l1", &kernel_table::f32_l1},
                       {"cosine", &kernel_table::f32_cosine}};
  const float* q = fbuf_.data() + 1;
  const float* base = q + kMaxDim;  // kRows rows of `d` values, misaligned like q
  for (const auto& k : all) {
    const f32_forms& r = ref.*k.forms;
    const f32_forms& s = simd.*k.forms;
    for (size_t d = 1; d <= kMaxDim; ++d) {
      std::string what = std::string(k.name) + " d=" + std::to_string(d);
      float want[kRows], got_many[kRows], got_x4[4];
      for (size_t i = 0; i < kRows; ++i) want[i] = r.one(q, base + i * d, d);
      for (size_t i = 0; i < kRows; ++i) {
        expect_close(s.one(q, base + i * d, d), want[i], magnitude(q, base + i * d, d, k.name),
                     what + " one");
      }
      const float* rows[4] = {base + 3 * d, base + 0 * d, base + 6 * d, base + 2 * d};
      s.x4(q, rows, d, got_x4);
      const size_t order[4] = {3, 0, 6, 2};
      for (size_t i = 0; i < 4; ++i) {
        expect_close(got_x4[i], want[order[i]], magnitude(q, rows[i], d, k.name), what + " x4");
      }
      s.many(q, base, kRows, d, got_many);
      for (size_t i = 0; i < kRows; ++i) {
        expect_close(got_many[i], want[i], magnitude(q, base + i * d, d, k.name), what + " many");
      }
    }
  }
}

TEST_P(KernelTest, Int8MatchesScalarExactly) {
  const kernel_table& ref = scalar_kernels();
  const kernel_table& simd = *GetParam().table;
  struct named {
    const char* name;
    i8_forms kernel_table::*forms;
  };
  const named all[] = {{"dot", &kernel_table::i8_dot},
                       {"l2sq", &kernel_table::i8_l2sq},
                       {"l1", &kernel_table::i8_l1}};
  const int8_t* q = ibuf_.data() + 1;
  const int8_t* base = q + kMaxDim;
  for (const auto& k : all) {
    const i8_forms& r = ref.*k.forms;
    const i8_forms& s = simd.*k.forms;
    for (size_t d = 1; d <= kMaxDim; ++d) {
      std::string what = std::string(k.name) + " d=" + std::to_string(d);
      int32_t want[kRows], got_many[kRows], got_x4[4];
      for (size_t i = 0; i < kRows; ++i) want[i] = r.one(q, base + i * d, d);
      for (size_t i = 0; i < kRows; ++i) ASSERT_EQ(s.one(q, base + i * d, d), want[i]) << what;
      const int8_t* rows[4] = {base + 5 * d, base + 1 * d, base + 4 * d, base + 0 * d};
      s.x4(q, rows, d, got_x4);
      const size_t order[4] = {5, 1, 4, 0};
      for (size_t i = 0; i < 4; ++i) ASSERT_EQ(got_x4[i], want[order[i]]) << what << " x4";
      s.many(q, base, kRows, d, got_many);
      for (size_t i = 0; i < kRows; ++i) ASSERT_EQ(got_many[i], want[i]) << what << " many";
    }
  }
}

TEST_P(KernelTest, Int8ExtremesDoNotOverflow) {
  const kernel_table& simd = *GetParam().table;
  const size_t d = 4096;
  std::vector<int8_t> a(d, 127), b(d, -127);
  EXPECT_EQ(simd.i8_dot.one(a.data(), b.data(), d), -127 * 127 * static_cast<int32_t>(d));
  EXPECT_EQ(simd.i8_l2sq.one(a.data(), b.data(), d), 254 * 254 * static_cast<int32_t>(d));
  EXPECT_EQ(simd.i8_l1.one(a.data(), b.data(), d), 254 * static_cast<int32_t>(d));
}

TEST_P(KernelTest, CosineOfZeroVectorIsOne) {
  const kernel_table& simd = *GetParam().table;
  std::vector<float> zero(33, 0.0f), one(33, 1.0f);
  EXPECT_EQ(simd.f32_cosine.one(zero.data(), one.data(), 33), 1.0f);
  EXPECT_NEAR(simd.f32_cosine.one(one.data(), one.data(), 33), 0.0f, 1e-6f);
}

INSTANTIATE_TEST_SUITE_P(SupportedLevels, KernelTest, ::testing::ValuesIn(supported_variants()),
                         [](const auto& p) { return p.param.name; });
// On a CPU without AVX2 the suite has no instances; that is expected, not an error.
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(KernelTest);

TEST(SimdLevel, ParsesNamesAndRejectsOthers) {
  EXPECT_EQ(parse_level("scalar"), simd_level::scalar);
  EXPECT_EQ(parse_level("avx2"), simd_level::avx2);
  EXPECT_EQ(parse_level("avx512"), simd_level::avx512);
  EXPECT_FALSE(parse_level("sse"));
  EXPECT_FALSE(parse_level(""));
}

TEST(SimdLevel, ActiveLevelIsSupportedAndHonoursOverride) {
  simd_level active = active_level();
  EXPECT_TRUE(cpu_supports(active));
  EXPECT_TRUE(cpu_supports(simd_level::scalar));
  const char* forced = std::getenv("SHOAL_SIMD");
  if (forced != nullptr && parse_level(forced) && cpu_supports(*parse_level(forced))) {
    EXPECT_EQ(active, *parse_level(forced));
  } else {
    EXPECT_EQ(active, detected_level());
  }
  EXPECT_EQ(kernels().level, active);
  EXPECT_FALSE(isa_name().empty());
}

TEST(SimdLevel, MetricWrapperFollowsTheDistanceConvention) {
  const float a[3] = {1, 0, 0}, b[3] = {0, 1, 0};
  const kernel_table& t = kernels();
  EXPECT_FLOAT_EQ(f32_metric(metric_kind::l2, t)(a, b, 3), 2.0f);
  EXPECT_FLOAT_EQ(f32_metric(metric_kind::manhattan, t)(a, b, 3), 2.0f);
  EXPECT_FLOAT_EQ(f32_metric(metric_kind::ip, t)(a, a, 3), -1.0f);
  EXPECT_FLOAT_EQ(f32_metric(metric_kind::cosine, t)(a, a, 3), 0.0f);
  EXPECT_FLOAT_EQ(f32_metric(metric_kind::cosine, t)(a, b, 3), 1.0f);
}

}  // namespace
}  // namespace shoal::index::distance
