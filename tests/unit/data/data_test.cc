// The data model: point ids, payload JSON, key paths, filter semantics and decoding, and payload
// indexes checked against brute-force evaluation.
#include <random>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "engine/data/errc.h"
#include "engine/data/filter_json.h"
#include "engine/data/payload_index.h"

namespace shoal::data {
namespace {

json_value J(const std::string& text) {
  auto v = json_value::parse(text);
  EXPECT_TRUE(v.has_value()) << text;
  return v ? *v : json_value();
}

filter F(const std::string& text) {
  simdjson::dom::parser p;
  auto doc = p.parse(text);
  EXPECT_EQ(doc.error(), simdjson::SUCCESS) << text;
  auto f = decode_filter(doc.value());
  EXPECT_TRUE(f.has_value()) << text << ": " << (f ? "" : f.error().message);
  return f ? *f : filter{};
}

decoded<filter> try_F(const std::string& text) {
  thread_local simdjson::dom::parser p;
  return decode_filter(p.parse(text).value());
}

TEST(PointId, ParsesUuidFormsAndWritesTheCanonicalOne) {
  auto canonical = "550e8400-e29b-41d4-a716-446655440000";
  for (auto form : {"550e8400-e29b-41d4-a716-446655440000", "550E8400-E29B-41D4-A716-446655440000",
                    "550e8400e29b41d4a716446655440000", "{550e8400-e29b-41d4-a716-446655440000}",
                    "urn:uuid:550e8400-e29b-41d4-a716-446655440000"}) {
    auto id = point_id::parse_uuid(form);
    ASSERT_TRUE(id) << form;
    EXPECT_EQ(id->to_string(), canonical);
  }
  for (auto bad :
       {"", "550e8400-e29b-41d4-a716-44665544000", "550e8400-e29b-41d4-a716_446655440000",
        "g50e8400-e29b-41d4-a716-446655440000", "12"}) {
    EXPECT_FALSE(point_id::parse_uuid(bad)) << bad;
  }
  EXPECT_EQ(point_id::parse("42")->number_value(), 42u);
  EXPECT_TRUE(point_id::parse(canonical)->is_uuid());
}

TEST(PointId, IntegersOrderBeforeUuidsAndTheRouteHashNeverChanges) {
  auto u = *point_id::parse_uuid("00000000-0000-0000-0000-000000000001");
  EXPECT_LT(point_id::number(UINT64_MAX), u);
  EXPECT_LT(point_id::number(1), point_id::number(2));
  // The route hash decides which shard holds a point on disk: these values are frozen.
  EXPECT_EQ(point_id::number(0).route_hash(), 0xe220a8397b1dcdafull);
  EXPECT_EQ(point_id::number(12345).route_hash(), 0x22118258a9d111a0ull);
  EXPECT_EQ(u.route_hash(), 0x5e41ab087439611eull);
}

TEST(JsonValue, RoundTripsAndRefusesRepeatedKeys) {
  auto v = J(R"({"a": 3, "b": [true, null, 2.5, "x"], "c": {"d": -7}})");
  EXPECT_EQ(v.to_json(), R"({"a":3,"b":[true,null,2.5,"x"],"c":{"d":-7}})");
  EXPECT_TRUE(v.find("a")->is_integer());
  // A repeated key, at any depth, is an error (json_check.h says why), not half of the input.
  EXPECT_EQ(json_value::parse(R"({"a": 1, "b": 2, "a": 3})").error(), errc::duplicate_key);
  EXPECT_EQ(json_value::parse(R"({"x": [{"k": 1, "k": 1}]})").error(), errc::duplicate_key);
  std::string many = "{";
  for (int i = 0; i < 5000; ++i) many += fmt::format("{}\"k{}\":{}", i ? "," : "", i, i);
  EXPECT_TRUE(json_value::parse(many + "}").has_value()) << "many distinct keys";
  EXPECT_EQ(json_value::parse(many + ",\"k4321\":0}").error(), errc::duplicate_key);
  EXPECT_TRUE(J("18446744073709551615").is_double()) << "beyond int64: a double";
  std::string deep(200, '[');
  deep += std::string(200, ']');
  std::string why;
  EXPECT_FALSE(json_value::parse(deep, &why));
  EXPECT_FALSE(json_value::parse("{\"a\":", &why));
  EXPECT_FALSE(why.empty());
}

TEST(JsonValue, WhatItWritesParsesBackToTheSameValue) {
  // Stored payloads are written as JSON and read back after a restart: every value a client can
  // send must survive that, numbers at the edges included (2^64 became "18446744073709551616",
  // which no longer parsed, and a collection holding it failed to load).
  for (auto text : {R"([18446744073709551615, 18446744073709551616.0, -18446744073709551616.0,
                        9223372036854775807, -9223372036854775808, 9223372036854775808,
                        1.7976931348623157e308, -1.7976931348623157e308, 5e-324, -0.0, 0.1,
                        1e21, 123456789012345678901234567890.0])",
                    R"({"\u0000\u001f\"\\": "\u0001\b\f\n\r\t", "𝄞": "é", "": {"": []}})"}) {
    auto v = json_value::parse(text);
    ASSERT_TRUE(v) << text;
    auto written = v->to_json();
    auto again = json_value::parse(written);
    ASSERT_TRUE(again) << written;
    EXPECT_EQ(*again, *v) << written;
    EXPECT_EQ(again->to_json(), written);
  }
}

TEST(KeyPath, ArraysAreEnteredOnlyWithBrackets) {
  auto payload = J(R"({"country": {"cities": [{"population": 5}, {"population": 7}]},
                       "tags": ["a", "b"], "m": [[1, 2], [3]]})");
  auto values = [&](const std::string& path, bool flatten = true) {
    std::vector<const json_value*> out;
    key_path::parse(path)->collect(payload, out, flatten);
    std::string s;
    for (auto* v : out) s += v->to_json() + " ";
    return s;
  };
  EXPECT_EQ(values("country.cities.population"), "");
  EXPECT_EQ(values("country.cities[].population"), "5 7 ");
  EXPECT_EQ(values("country.cities[1].population"), "7 ");
  EXPECT_EQ(values("tags"), "\"a\" \"b\" ");
  EXPECT_EQ(values("tags", false), R"(["a","b"] )");
  EXPECT_EQ(values("m[]"), "1 2 3 ");
  EXPECT_EQ(values("missing.key"), "");
  for (auto bad : {"", "a..b", ".a", "a.", "a[x]", "a[", "[]"}) {
    EXPECT_FALSE(key_path::parse(bad)) << bad;
  }
}

TEST(Filter, SemanticsOfEveryCondition) {
  auto id = point_id::number(7);
  auto p = J(R"({"city": "Berlin", "n": 5, "f": 2.5, "tags": ["x", "y"], "nil": null,
                 "empty": [], "flag": true, "meta": {"lang": "en"}})");
  auto ok = [&](const std::string& f) { return evaluate(F(f), id, &p); };
  EXPECT_TRUE(ok(R"({"must": {"key": "city", "match": {"value": "Berlin"}}})"));
  EXPECT_FALSE(ok(R"({"must": {"key": "city", "match": {"value": "Paris"}}})"));
  EXPECT_TRUE(ok(R"({"must": [{"key": "tags", "match": {"value": "y"}}]})")) << "arrays flattened";
  EXPECT_TRUE(ok(R"({"must": {"key": "n", "match": {"value": 5}}})"));
  EXPECT_FALSE(ok(R"({"must": {"key": "f", "match": {"value": 2}}})"));
  EXPECT_TRUE(ok(R"({"must": {"key": "flag", "match": {"value": true}}})"));
  EXPECT_TRUE(ok(R"({"must": {"key": "city", "match": {"any": ["Paris", "Berlin"]}}})"));
  EXPECT_FALSE(ok(R"({"must": {"key": "city", "match": {"any": []}}})")) << "empty any: nothing";
  EXPECT_TRUE(ok(R"({"must": {"key": "city", "match": {"except": []}}})")) << "has the field";
  EXPECT_FALSE(ok(R"({"must": {"key": "nope", "match": {"except": []}}})"));
  EXPECT_TRUE(ok(R"({"must": {"key": "n", "match": {"except": ["5"]}}})")) << "other type";
  EXPECT_FALSE(ok(R"({"must": {"key": "tags", "match": {"except": ["x", "y"]}}})"));
  EXPECT_TRUE(ok(R"({"must": {"key": "n", "range": {"gt": 4, "lte": 5}}})"));
  EXPECT_FALSE(ok(R"({"must": {"key": "n", "range": {"gt": 5}}})"));
  EXPECT_TRUE(ok(R"({"must": {"key": "f", "range": {"gte": 2.5, "lt": 3}}})"));
  EXPECT_TRUE(ok(R"({"must": {"is_empty": {"key": "nope"}}})"));
  EXPECT_TRUE(ok(R"({"must": {"is_empty": {"key": "nil"}}})"));
  EXPECT_TRUE(ok(R"({"must": {"is_empty": {"key": "empty"}}})"));
  EXPECT_FALSE(ok(R"({"must": {"is_empty": {"key": "tags"}}})"));
  EXPECT_TRUE(ok(R"({"must": {"is_null": {"key": "nil"}}})"));
  EXPECT_FALSE(ok(R"({"must": {"is_null": {"key": "nope"}}})"));
  EXPECT_TRUE(ok(R"({"must": {"key": "city", "is_empty": false}})"));
  EXPECT_TRUE(ok(R"({"must": {"has_id": [1, 7]}})"));
  EXPECT_FALSE(ok(R"({"must": {"has_id": [1]}})"));
  EXPECT_TRUE(ok(R"({"should": [{"key": "city", "match": {"value": "Rome"}},
                                {"key": "meta.lang", "match": {"value": "en"}}]})"));
  EXPECT_FALSE(ok(R"({"should": [{"key": "city", "match": {"value": "Rome"}}]})"));
  EXPECT_TRUE(ok(R"({"should": [], "must": null})")) << "empty should does not constrain";
  EXPECT_FALSE(ok(R"({"must_not": {"key": "city", "match": {"value": "Berlin"}}})"));
  EXPECT_TRUE(ok(R"({"must": {"must_not": {"key": "n", "range": {"lt": 0}}}})")) << "nested";
  EXPECT_TRUE(evaluate(F(R"({"must": {"is_empty": {"key": "x"}}})"), id, nullptr));
}

TEST(FilterJson, BadFiltersSayWhatIsWrong) {
  auto key_only = try_F(R"({"must": [{"key": "a"}]})");
  ASSERT_FALSE(key_only);
  EXPECT_EQ(key_only.error().k, input_error::kind::validation);
  EXPECT_NE(key_only.error().message.find("At least one field condition must be specified"),
            std::string::npos);
  auto geo = try_F(R"({"must": {"key": "a", "geo_radius": {}}})");
  ASSERT_FALSE(geo);
  EXPECT_EQ(geo.error().k, input_error::kind::format);
  EXPECT_NE(geo.error().message.find("geo_radius"), std::string::npos);
  EXPECT_FALSE(try_F(R"({"must": {"key": "a", "match": {"value": 1.5}}})"));
  EXPECT_FALSE(try_F(R"({"must": {"key": "a", "match": {"text": "x"}}})"));
  EXPECT_FALSE(try_F(R"({"must": {"has_id": ["not-a-uuid"]}})"));
  EXPECT_FALSE(try_F(R"({"must": {"has_id": [-1]}})"));
  EXPECT_FALSE(try_F(R"({"mustt": []})"));
  EXPECT_FALSE(try_F(R"([1])"));
  std::string deep;
  for (int i = 0; i < 100; ++i) deep += R"({"must":)";
  deep += "{}";
  for (int i = 0; i < 100; ++i) deep += "}";
  EXPECT_FALSE(try_F(deep));
}

TEST(PayloadIndex, CandidatesAgreeWithEvaluation) {
  std::mt19937 rng(11);
  std::vector<json_value> payloads;
  const char* cities[] = {"Berlin", "Paris", "Rome", "Oslo"};
  for (int i = 0; i < 500; ++i) {
    json_value p{json_value::object{}};
    if (rng() % 10) p.set("city", cities[rng() % 4]);
    if (rng() % 3 == 0)
      p.set("city",
            json_value::array{json_value(cities[rng() % 4]), json_value(cities[rng() % 4])});
    if (rng() % 10) p.set("n", static_cast<int64_t>(rng() % 20) - 5);
    if (rng() % 4 == 0) p.set("n", 2.5 * static_cast<double>(rng() % 8));
    if (rng() % 2) p.set("flag", rng() % 2 == 0);
    payloads.push_back(std::move(p));
  }
  payload_index kw(*key_path::parse("city"), payload_type::keyword);
  payload_index in(*key_path::parse("n"), payload_type::integer);
  payload_index fl(*key_path::parse("n"), payload_type::floating);
  payload_index bo(*key_path::parse("flag"), payload_type::boolean);
  for (uint32_t s = 0; s < payloads.size(); ++s) {
    for (auto* idx : {&kw, &in, &fl, &bo}) idx->add(s, payloads[s]);
  }
  // Remove and re-add some, as updates do.
  for (uint32_t s = 0; s < payloads.size(); s += 7) {
    for (auto* idx : {&kw, &in, &fl, &bo}) idx->remove(s, payloads[s]);
    payloads[s].set("city", "Oslo");
    for (auto* idx : {&kw, &in, &fl, &bo}) idx->add(s, payloads[s]);
  }
  auto check = [&](payload_index& idx, const std::string& filter_text) {
    auto f = F(filter_text);
    auto got = idx.candidates(f.must.at(0));
    ASSERT_TRUE(got.has_value()) << filter_text;
    std::vector<uint32_t> want;
    for (uint32_t s = 0; s < payloads.size(); ++s) {
      if (evaluate(f, point_id::number(s), &payloads[s])) want.push_back(s);
    }
    EXPECT_EQ(*got, want) << filter_text;
  };
  check(kw, R"({"must": {"key": "city", "match": {"value": "Oslo"}}})");
  check(kw, R"({"must": {"key": "city", "match": {"any": ["Rome", "Paris"]}}})");
  check(kw, R"({"must": {"key": "city", "match": {"any": []}}})");
  check(in, R"({"must": {"key": "n", "match": {"value": 3}}})");
  check(in, R"({"must": {"key": "n", "match": {"any": [0, -5, 14]}}})");
  check(fl, R"({"must": {"key": "n", "range": {"gte": 2.5, "lt": 10}}})");
  check(fl, R"({"must": {"key": "n", "range": {"gt": -2}}})");
  check(bo, R"({"must": {"key": "flag", "match": {"value": false}}})");
  EXPECT_FALSE(
      kw.candidates(F(R"({"must": {"key": "city", "match": {"except": ["Oslo"]}}})").must[0]));
  EXPECT_FALSE(in.candidates(F(R"({"must": {"key": "n", "range": {"gt": 1}}})").must[0]))
      << "an integer index cannot see float values";
  EXPECT_GT(kw.points(), 400u);
}

}  // namespace
}  // namespace shoal::data
