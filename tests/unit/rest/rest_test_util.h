#pragma once
// Assertions on REST replies: the envelope of REST_API.md §1.1 and small JSON helpers.

#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <simdjson.h>

#include "tests/unit/rest/rest_fixture.h"

namespace shoal::test {

using simdjson::dom::element;

/// 200, JSON, {"result": ..., "status": "ok", "time": <number>}.
inline ::testing::AssertionResult is_ok(const rest_reply& r) {
  if (r.status != 200) {
    return ::testing::AssertionFailure() << "HTTP " << r.status << ": " << r.body;
  }
  if (!r.content_type.starts_with("application/json")) {
    return ::testing::AssertionFailure() << "content-type " << r.content_type;
  }
  std::string_view st;
  element time, result;
  if (r.json["status"].get(st) != simdjson::SUCCESS || st != "ok" ||
      r.json["time"].get(time) != simdjson::SUCCESS || !time.is_number() ||
      r.json["result"].get(result) != simdjson::SUCCESS) {
    return ::testing::AssertionFailure() << "not a success envelope: " << r.body;
  }
  return ::testing::AssertionSuccess();
}

/// `code`, JSON, {"status": {"error": msg}, "time": <number>} without "result", and the message
/// contains `part`.
inline ::testing::AssertionResult is_error(const rest_reply& r, unsigned code,
                                           std::string_view part = {}) {
  if (r.status != code) {
    return ::testing::AssertionFailure()
           << "HTTP " << r.status << " instead of " << code << ": " << r.body;
  }
  if (!r.content_type.starts_with("application/json")) {
    return ::testing::AssertionFailure() << "content-type " << r.content_type;
  }
  std::string_view msg;
  element time, result;
  if (r.json["status"]["error"].get(msg) != simdjson::SUCCESS ||
      r.json["time"].get(time) != simdjson::SUCCESS || !time.is_number() ||
      r.json["result"].get(result) == simdjson::SUCCESS) {
    return ::testing::AssertionFailure() << "not an error envelope: " << r.body;
  }
  if (msg.find(part) == std::string_view::npos) {
    return ::testing::AssertionFailure() << "message \"" << msg << "\" lacks \"" << part << "\"";
  }
  return ::testing::AssertionSuccess();
}

inline std::string error_message(const rest_reply& r) {
  std::string_view msg;
  if (r.json["status"]["error"].get(msg) != simdjson::SUCCESS) return {};
  return std::string(msg);
}

inline element result(const rest_reply& r) {
  return r.json["result"].value();
}

inline std::string vec_json(const std::vector<float>& v) {
  std::string out = "[";
  for (size_t i = 0; i < v.size(); ++i) out += fmt::format("{}{}", i ? "," : "", v[i]);
  return out + "]";
}

/// The ids of a list of records or scored points, as text (numbers or UUID strings).
inline std::vector<std::string> ids_of(element points) {
  std::vector<std::string> out;
  for (auto p : points.get_array()) {
    auto id = p["id"].value();
    if (id.is_string()) {
      out.emplace_back(std::string_view(id));
    } else {
      out.push_back(std::to_string(uint64_t(id)));
    }
  }
  return out;
}

inline uint64_t count_of(rest_server& s, const std::string& collection, const std::string& filter) {
  auto r =
      s.post("/collections/" + collection + "/points/count",
             filter.empty() ? R"({"exact":true})" : R"({"exact":true,"filter":)" + filter + "}");
  EXPECT_TRUE(is_ok(r));
  return uint64_t(result(r)["count"]);
}

}  // namespace shoal::test
