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

TEST(JsonWriter, StringsAreEscaped) {
  std::string out;
  json_writer w(out);
  w.value(std::string_view("q\"b\\n\n\t\x01 é"));
  EXPECT_EQ(out, "\"q\\\"b\\\\n\\n\\t\\u0001 é\"");
}

TEST(JsonWriter, RawValuesAreInsertedAsIs) {
  std::string out;
  json_writer w(out);
  w.begin_object().key("payload").raw(R"({"k":[1,2]})").field("n", true).end_object();
  EXPECT_EQ(out, R"({"payload":{"k":[1,2]},"n":true})");
}

}  // namespace
}  // namespace shoal
