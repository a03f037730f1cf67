// number_array.h must read every number exactly as simdjson's DOM and get_double read it, bit
// for bit, or step aside: checked on hand-picked hard cases and on many random numbers printed
// the ways clients print them, float rounding boundaries included.
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <simdjson.h>

#include "net/rest/number_array.h"

namespace shoal::rest {
namespace {

uint32_t bits(float f) {
  uint32_t b;
  std::memcpy(&b, &f, sizeof b);
  return b;
}

/// The DOM's double for `token`, or nullopt where it refuses the token.
std::optional<double> dom_double(const std::string& token) {
  static simdjson::dom::parser parser;
  simdjson::padded_string text("[" + token + "]");
  simdjson::dom::element doc;
  if (parser.parse(text).get(doc)) return std::nullopt;
  double d;
  if (doc.at(0).get_double().get(d)) return std::nullopt;
  return d;
}

/// Reads `token` both ways. Taken: the same float bits as the DOM's double cast to float, and the
/// whole token consumed. Returns whether the reader took it.
bool check(const std::string& token) {
  const char* p = token.data();
  float mine = 0;
  bool taken = read_json_number(p, token.data() + token.size(), mine);
  auto dom = dom_double(token);
  if (taken) {
    EXPECT_EQ(p, token.data() + token.size()) << token;
    EXPECT_TRUE(dom.has_value()) << token << ": taken, but the DOM refuses it";
    if (dom) {
      auto expected = static_cast<float>(*dom);
      EXPECT_EQ(bits(mine), bits(expected)) << token << ": " << mine << " vs " << expected;
    }
  }
  return taken;
}

TEST(NumberArray, HardCasesReadAsTheDom) {
  for (const char* t : {
           "0",
           "-0",
           "0.0",
           "-0.0",
           "0e0",
           "-0e-5",
           "1",
           "-1",
           "255",
           "1E+2",
           "1e-2",
           "0.1",
           "0.30000000000000004",
           "2.2250738585072014e-308",
           "2.2250738585072011e-308",
           "4.9406564584124654e-324",
           "1.7976931348623157e308",
           "9007199254740992",
           "9007199254740993",
           "9007199254740993.0",
           "9007199254740993e0",
           "1e22",
           "1e23",
           "8.589973e9",
           "3.4028235e38",
           "1.17549435e-38",
           "1.4e-45",
           "123456789012345678",
           "1234567890123456789",
           "-9223372036854775808",
           "9223372036854775807",
           "9223372036854775808",
           "18446744073709551615",
           "0.911111191100002116577526",
           "184467440737095516.5e-10",
           "1234567890123456789e-3",
           "0.000000000000000000001",
           "100000000000000000000000.0",
           "7e-10",
           "0.0001234567890123456789",
           "0.00012345678901234567891",
           "-0.0000000000000000000012345678901234567e5",
           "-3.14159265358979323846264338327950288",
       }) {
    EXPECT_TRUE(check(t)) << t << " was not taken";
  }
}

TEST(NumberArray, WhatTheDomRefusesOrCannotBeSureOfStepsAside) {
  for (const char* t :
       {"", "-", "01", "-01", "1.", ".5", "+1", "1e", "1e+", "NaN", "Infinity", "-Infinity", "0x10",
        "18446744073709551616", "-9223372036854775809", "1e400", "-1e400", "1e-400"}) {
    const char* p = t;
    float d;
    bool taken = read_json_number(p, t + std::strlen(t), d) && p == t + std::strlen(t);
    EXPECT_FALSE(taken) << t;
  }
}

TEST(NumberArray, RandomNumbersPrintedAsClientsPrintThemReadAsTheDom) {
  std::mt19937_64 rng(20261122);
  std::uniform_real_distribution<double> unit(-1, 1);
  std::uniform_int_distribution<int> scale(-37, 37);  // finite floats too
  size_t taken = 0, total = 0;
  for (int i = 0; i < 20000; ++i) {
    double d = unit(rng) * std::pow(10.0, scale(rng));
    auto f = static_cast<float>(d);
    std::vector<std::string> tokens = {fmt::format("{}", d),      fmt::format("{}", f),
                                       fmt::format("{:.17g}", d), fmt::format("{:.9g}", f),
                                       fmt::format("{:e}", d),    fmt::format("{:.3f}", d)};
    if (std::abs(d) < 1e12) tokens.push_back(fmt::format("{}", int64_t(d * 1e6)));
    // Halfway between two floats, and next to it: where a float's rounding is decided, and where
    // a double read off by a unit in its last place would round the other way.
    double up = std::nextafter(f, std::numeric_limits<float>::infinity());
    double halfway = (double(f) + up) / 2;
    for (double h : {halfway, std::nextafter(halfway, 0.0), std::nextafter(halfway, 1e300)}) {
      tokens.push_back(fmt::format("{}", h));
      tokens.push_back(fmt::format("{:.16g}", h));
      tokens.push_back(fmt::format("{:.18g}", h));
    }
    for (const auto& token : tokens) {
      ++total;
      bool t = check(token);
      if (!t) ADD_FAILURE() << token << " was not taken";
      taken += t ? 1 : 0;
    }
  }
  // Everything here is an ordinary number: all of it is read, none steps aside.
  EXPECT_EQ(taken, total);
}

TEST(NumberArray, ArraysOfNumbers) {
  std::vector<float> out;
  size_t pos = 0;
  std::string text = "[ 1 ,-2.5,3e1\n]x";
  ASSERT_TRUE(read_float_array(text, pos, out, 3));
  EXPECT_EQ(out, (std::vector<float>{1, -2.5f, 30}));
  EXPECT_EQ(text[pos], 'x');
  for (const char* bad :
       {"[]", "[1,]", "[,1]", "[1 2]", "[1", "[1,\"2\"]", "[[1]]", "[1e39]", "[1,2,3,4]", "1,2"}) {
    out.clear();
    pos = 0;
    EXPECT_FALSE(read_float_array(bad, pos, out, 3)) << bad;
  }
}

}  // namespace
}  // namespace shoal::rest
