#include "net/http/router.h"

#include <gtest/gtest.h>

namespace shoal::http {
namespace {

handler noop() {
  return [](request_context&) -> awaitable<response> { co_return response{}; };
}

TEST(Router, LiteralSegmentsBeatParametersAndMethodsAreChecked) {
  router r;
  r.add(verb::get, "/collections/{name}/points/{id}", noop());
  r.add(verb::post, "/collections/{name}/points/scroll", noop());
  r.add(verb::put, "/collections/{name}/points/{id}", noop());
  r.add(verb::put, "/collections/{name}/points/recover", noop());

  auto m = r.match(verb::post, "/collections/c1/points/scroll");
  ASSERT_EQ(m.result, route_match::outcome::found);
  EXPECT_EQ(m.matched->pattern, "/collections/{name}/points/scroll");
  EXPECT_EQ(m.path_params, (param_list{{"name", "c1"}}));

  m = r.match(verb::put, "/collections/c1/points/recover");
  EXPECT_EQ(m.matched->pattern, "/collections/{name}/points/recover");
  m = r.match(verb::put, "/collections/c1/points/42");
  EXPECT_EQ(m.matched->pattern, "/collections/{name}/points/{id}");

  m = r.match(verb::get, "/collections/c%2F1/points/7/");
  ASSERT_EQ(m.result, route_match::outcome::found);
  EXPECT_EQ(m.path_params, (param_list{{"name", "c/1"}, {"id", "7"}}));

  EXPECT_EQ(r.match(verb::delete_, "/collections/c/points/1").result,
            route_match::outcome::method_not_allowed);
  EXPECT_EQ(r.match(verb::get, "/collections/c/points").result, route_match::outcome::not_found);
  EXPECT_EQ(r.match(verb::get, "/collections/c%zz/points/1").result,
            route_match::outcome::not_found);
}

TEST(Router, PercentDecodingAndQueries) {
  EXPECT_EQ(percent_decode("a%20b+c", true), "a b c");
  EXPECT_EQ(percent_decode("a%20b+c", false), "a b+c");
  EXPECT_EQ(percent_decode("%", true), std::nullopt);
  EXPECT_EQ(percent_decode("%4", true), std::nullopt);
  EXPECT_EQ(percent_decode("%G0", true), std::nullopt);
  EXPECT_EQ(parse_query("wait=true&&ordering=weak&flag&x=%ZZ"),
            (param_list{{"wait", "true"}, {"ordering", "weak"}, {"flag", ""}, {"x", "%ZZ"}}));
  EXPECT_TRUE(parse_query("").empty());
}

}  // namespace
}  // namespace shoal::http
