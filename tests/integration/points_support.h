#pragma once
// Points over REST for the multi-host tests (replication_test, failover_test): bodies whose
// payload repeats the id (so a point mixed from two writes shows), and reads of what a host
// holds.

#include <chrono>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>

#include <gtest/gtest.h>
#include <simdjson.h>

#include "tests/support/http_client.h"

namespace shoal::test {

using namespace std::chrono_literals;

/// Upsert body for ids [from, to): a 4-d vector and {"n": id}.
inline std::string points_body(uint64_t from, uint64_t to) {
  std::string s = R"({"points":[)";
  for (uint64_t i = from; i < to; ++i) {
    s += (i > from ? "," : "") + std::string("{\"id\":") + std::to_string(i) + ",\"vector\":[" +
         std::to_string(1 + i % 7) + "," + std::to_string(i % 13) +
         ",1,0.5],\"payload\":{\"n\":" + std::to_string(i) + "}}";
  }
  return s + "]}";
}

/// The exact count on the host at `port` (UINT64_MAX when it does not answer 200).
inline uint64_t count(uint16_t port, const std::string& name) {
  http_client c(port);
  auto r = c.request(boost::beast::http::verb::post, "/collections/" + name + "/points/count",
                     R"({"exact":true})");
  if (r.status != 200) return UINT64_MAX;
  simdjson::dom::parser p;
  return uint64_t(p.parse(r.body)["result"]["count"]);
}

/// Every id the host holds (scrolling), checking each point is whole (payload n == id).
inline std::set<uint64_t> ids(uint16_t port, const std::string& name) {
  std::set<uint64_t> out;
  http_client c(port);
  std::string offset = "null";
  for (;;) {
    auto r = c.request(boost::beast::http::verb::post, "/collections/" + name + "/points/scroll",
                       R"({"limit":2000,"with_payload":true,"offset":)" + offset + "}");
    if (r.status != 200) throw std::runtime_error(r.body);
    simdjson::dom::parser p;
    auto doc = p.parse(r.body);
    simdjson::dom::array pts = doc["result"]["points"];
    for (auto pt : pts) {
      uint64_t id = pt["id"];
      EXPECT_EQ(uint64_t(pt["payload"]["n"]), id) << "point " << id << " is whole";
      out.insert(id);
    }
    auto next = doc["result"]["next_page_offset"];
    if (next.is_null()) return out;
    offset = std::to_string(uint64_t(next));
  }
}

/// Waits until the host at `port` counts `want` points.
inline bool converges(uint16_t port, const std::string& name, uint64_t want,
                      std::chrono::milliseconds within = 20s) {
  auto deadline = std::chrono::steady_clock::now() + within;
  while (std::chrono::steady_clock::now() < deadline) {
    if (count(port, name) == want) return true;
    std::this_thread::sleep_for(20ms);
  }
  return false;
}

}  // namespace shoal::test
