#include "engine/common/result.h"

#include <gtest/gtest.h>

namespace shoal::test_errors {
enum class errc { first = 1, second };
inline std::string_view error_message(errc e) {
  switch (e) {
    case errc::first:
      return "the first thing went wrong";
    case errc::second:
      return "the second thing went wrong";
  }
  return "unknown";
}
constexpr const char* error_category_name(errc) {
  return "shoal.test";
}
SHOAL_DECLARE_ERRC(errc)
}  // namespace shoal::test_errors
SHOAL_REGISTER_ERRC(shoal::test_errors::errc)

namespace shoal {
namespace {

result<int> parse_positive(int v) {
  if (v <= 0) return test_errors::errc::second;
  return v;
}

TEST(Result, CarriesValueOrModuleError) {
  auto ok = parse_positive(3);
  ASSERT_TRUE(ok);
  EXPECT_EQ(*ok, 3);
  auto bad = parse_positive(-1);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error(), test_errors::errc::second);
  EXPECT_EQ(bad.error().message(), "the second thing went wrong");
  EXPECT_STREQ(bad.error().category().name(), "shoal.test");
  EXPECT_EQ(describe(bad.error()), "the second thing went wrong (shoal.test:2)");
}

}  // namespace
}  // namespace shoal
