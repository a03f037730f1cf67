// Hostile input against a real shoald, across restarts (issue #8, deliverable 5): payloads at the
// edges of what is valid (numbers beyond 64 bits, -0.0 and 5.0, control characters and empty
// keys, deep nesting, a payload set at a deep key path) are stored, a barrage of invalid and
// crashing requests is refused, and the collection then answers the same after a SIGKILL
// (the log replayed) and after a clean stop (the snapshot loaded). Each of the first two once
// made the collection fail to load, the third crashed the server.

#include <gtest/gtest.h>
#include <simdjson.h>

#include "tests/integration/shoald_fixture.h"

namespace shoal {
namespace {

using namespace std::chrono_literals;
using boost::beast::http::verb;

test::http_reply call(uint16_t port, verb method, const std::string& target,
                      const std::string& body = {}) {
  test::http_client c(port, 10s);
  return c.request(method, target, body, {{"Content-Type", "application/json"}});
}

/// What must not change: every point with payload and vector, and filters over the edge values.
std::string state(uint16_t port) {
  std::string out;
  auto all = call(port, verb::post, "/collections/h/points/scroll",
                  R"({"limit":100,"with_payload":true,"with_vector":true})");
  EXPECT_EQ(all.status, 200u) << all.body;
  auto result = all.body.substr(0, all.body.rfind(",\"status\""));  // without the time
  out += result + "\n";
  for (auto filter : {R"({"must":[{"key":"d","match":{"value":5}}]})",
                      R"({"must":[{"key":"n","match":{"value":5}}]})",
                      R"({"must":[{"key":"u","range":{"gt":1e19}}]})",
                      R"({"must":[{"key":"tag","match":{"value":"t1"}}]})"}) {
    auto r = call(port, verb::post, "/collections/h/points/count",
                  std::string(R"({"exact":true,"filter":)") + filter + "}");
    EXPECT_EQ(r.status, 200u) << r.body;
    out += r.body.substr(0, r.body.find(",\"status\"")) + "\n";
  }
  return out;
}

TEST(HostileRestart, EdgeValuesSurviveTheLogAndTheSnapshotAndBadRequestsChangeNothing) {
  test::tmpdir dir;
  test::shoald_instance node(dir.path() / "data", dir.path());
  ASSERT_TRUE(node.start()) << node.log();
  auto port = node.port();
  ASSERT_EQ(
      call(port, verb::put, "/collections/h", R"({"vectors":{"size":3,"distance":"Dot"}})").status,
      200u);
  ASSERT_EQ(call(port, verb::put, "/collections/h/index?wait=true",
                 R"({"field_name":"tag","field_schema":"keyword"})")
                .status,
            200u);
  std::string deep = R"({"leaf":true})";
  for (int i = 0; i < 55; ++i) deep = R"({"x":)" + deep + "}";
  std::string points = R"({"points":[)";
  points += R"({"id":1,"vector":[1,0,0],"payload":{"u":18446744073709551615,"d":5.0,"n":5,
      "z":-0.0,"big":3e19,"tiny":5e-324,"max":1.7976931348623157e308,"tag":"t1"}},)";
  points += R"({"id":2,"vector":[0,1,0],"payload":{"\u0000\u001f":"\u0001\b\f\n\r\t\"\\",
      "":{"":[]},"emoji":"𝄞☕é","tag":"t2"}},)";
  points += R"({"id":18446744073709551615,"vector":[0,0,1],"payload":{"deep":)" + deep + "}},";
  points += R"({"id":"550e8400-e29b-41d4-a716-446655440000","vector":[-0.0,1e-45,3.4e38]}]})";
  auto up = call(port, verb::put, "/collections/h/points?wait=true", points);
  ASSERT_EQ(up.status, 200u) << up.body;
  std::string key = "a";
  for (int i = 1; i < 30; ++i) key += ".a";
  auto set = call(port, verb::post, "/collections/h/points/payload?wait=true",
                  R"({"points":[2],"payload":{"k":{"v":1}},"key":")" + key + R"("})");
  ASSERT_EQ(set.status, 200u) << set.body;
  auto before = state(port);

  // Requests that used to crash the server or poison the data, and a sample of the rest.
  std::string deep_key = "a";
  for (int i = 1; i < 200; ++i) deep_key += ".a";
  for (auto& [method, target, body] : std::vector<std::tuple<verb, std::string, std::string>>{
           {verb::post, "/collections/h/points/payload?wait=true",
            R"({"points":[1],"payload":{"z":1},"key":")" + deep_key + R"("})"},
           {verb::put, "/collections/h/points", R"({"points":[{"id":1,"vector":[1,2]}]})"},
           {verb::put, "/collections/h/points",
            R"({"points":[{"id":1,"vector":[1,1,1],"payload":{"a":1,"a":2}}]})"},
           {verb::put, "/collections/h/points", std::string(1000, '[')},
           {verb::post, "/collections/h/points/delete", R"({"points":[-1]})"},
           {verb::put, "/collections/%FF", R"({"vectors":{"size":3,"distance":"Dot"}})"},
           {verb::put, "/collections/h/snapshots/recover", R"({"location":"file:///etc/passwd"})"},
           {verb::post, "/collections/h/points/count", "{\"filter\":\xFF}"},
       }) {
    auto r = call(port, method, target, body);
    EXPECT_GE(r.status, 400u) << target << " " << body.substr(0, 80) << ": " << r.body;
    EXPECT_LT(r.status, 500u) << target << " " << body.substr(0, 80) << ": " << r.body;
  }
  EXPECT_EQ(state(port), before);

  // The log replayed after a SIGKILL, then the snapshot written at a clean stop.
  node.kill();
  ASSERT_TRUE(node.start()) << node.log();
  EXPECT_EQ(state(port), before) << node.log();
  ASSERT_EQ(node.stop().value_or(-1), 0);
  ASSERT_TRUE(node.start()) << node.log();
  auto info = call(port, verb::get, "/collections/h");
  EXPECT_EQ(info.status, 200u) << info.body;
  EXPECT_EQ(state(port), before) << node.log();
  EXPECT_EQ(node.log().find("failed to load"), std::string::npos) << node.log();
}

}  // namespace
}  // namespace shoal
