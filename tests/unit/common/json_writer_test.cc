#include "engine/common/json_writer.h"

#include <cmath>
#include <limits>

#include <gtest/gtest.h>

namespace shoal {
namespace {

TEST(JsonWriter, NestedObjectsAndArraysGetCommasRight) {
  std::string out;
  json_writer w(out);
  w.begin_object();
  w.field("a", 1).field("b", "x");
  w.key("list").begin_array().value(1).value(2).begin_object().end_object().end_array();
  w.key("empty").begin_array().end_array();
  w.end_object();
  EXPECT_EQ(out, R"({"a":1,"b":"x","list":[1,2,{}],"empty":[]})");
  EXPECT_TRUE(w.complete());
}

TEST(JsonWriter, IntegersHaveNoFraction) {
  std::string out;
  json_writer w(out);
  w.begin_array()
      .value(uint64_t{18446744073709551615ull})
      .value(int64_t{-5})
      .value(10.0)
      .end_array();
  EXPECT_EQ(out, "[18446744073709551615,-5,10]");
}

TEST(JsonWriter, FloatsRoundTripAndNonFiniteIsNull) {
  std::string out;
  json_writer w(out);
  w.begin_array()
      .value(0.1f)
      .value(1e-7)
      .value(std::nan(""))
      .value(std::numeric_limits<double>::infinity())
      .end_array();
  EXPECT_EQ(out, "[0.1,1e-07,null,null]");
}

TEST(JsonWriter, LargeIntegralDoublesReadBackAsNumbers) {
  // 2^64 and beyond would come out as plain digits, a number too large for a 64-bit integer
  // that JSON readers (simdjson) refuse; they are written with an exponent instead.
  std::string out;
  json_writer w(out);
  w.begin_array()
      .value(18446744073709551616.0)
      .value(-18446744073709551616.0)
      .value(9223372036854775808.0)
      .value(3e19)
      .value(1e300)
      .value(9007199254740993.0)
      .value(-2.5)
      .end_array();
  EXPECT_EQ(out,
            "[1.8446744073709552e+19,-1.8446744073709552e+19,9.223372036854776e+18,3e+19,1e+300,"
            "9007199254740992,-2.5]");
}

TEST(JsonWriter, DoubleValuesKeepTheirType) {
  std::string out;
  json_writer w(out);
  w.begin_array().double_value(5.0).double_value(-0.0).double_value(0.5).double_value(1e21);
  w.double_value(18446744073709551616.0).double_value(-3.0).value(5.0).end_array();
  EXPECT_EQ(out, "[5.0,-0.0,0.5,1e+21,1.8446744073709552e+19,-3.0,5]");
}

TEST(JsonWriter, StringsAreEscaped) {
  std::string out;
  json_writer w(out);
  w.value(std::string_view("q\"b\\n\n\t\x01 é"));
  EXPECT_EQ(out, "\"q\\\"b\\\\n\\n\\t\\u0001 é\"");
}

TEST(JsonWriter, OutputIsValidUtf8WhateverTheInput) {
  // Well-formed sequences of every length pass; stray continuation bytes, truncated sequences,
  // overlong forms, surrogates and bytes past U+10FFFF become U+FFFD, one per byte.
  auto written = [](std::string_view s) {
    std::string out;
    json_writer(out).value(s);
    return out;
  };
  EXPECT_EQ(written("a\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80z"),
            "\"a\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80z\"");
  const std::string fffd = "\xEF\xBF\xBD";
  EXPECT_EQ(written("\xFF"), "\"" + fffd + "\"");
  EXPECT_EQ(written("x\x80y"), "\"x" + fffd + "y\"");
  EXPECT_EQ(written("\xC3"), "\"" + fffd + "\"") << "truncated at the end";
  EXPECT_EQ(written("\xC0\xAF"), "\"" + fffd + fffd + "\"") << "overlong";
  EXPECT_EQ(written("\xED\xA0\x80"), "\"" + fffd + fffd + fffd + "\"") << "surrogate";
  EXPECT_EQ(written("\xF4\x90\x80\x80"), "\"" + fffd + fffd + fffd + fffd + "\"");
  EXPECT_EQ(written(std::string_view("\0\xFE", 2)), "\"\\u0000" + fffd + "\"");
}

TEST(JsonWriter, RawValuesAreInsertedAsIs) {
  std::string out;
  json_writer w(out);
  w.begin_object().key("payload").raw(R"({"k":[1,2]})").field("n", true).end_object();
  EXPECT_EQ(out, R"({"payload":{"k":[1,2]},"n":true})");
}

}  // namespace
}  // namespace shoal
