// Limits (body size, points, ids, batch sizes, limit/offset caps) give clear 4xx errors, and the
// JSON bodies are parsed in place by one parser per core (REST_API.md §1.2, issue #5 items 2, 3).

#include <future>

#include "engine/runtime/smp.h"
#include "net/rest/rest_io.h"
#include "tests/unit/rest/rest_test_util.h"

namespace shoal::test {
namespace {

TEST(RestLimits, OversizedRequestsGetClearErrors) {
  rest::rest_limits limits;
  limits.max_points_per_request = 10;
  limits.max_batch_searches = 3;
  limits.max_limit = 50;
  limits.points_body_limit = 64 * 1024;
  http::http_config http_cfg;
  http_cfg.default_body_limit = 8 * 1024;
  rest_server s(limits, http_cfg);
  ASSERT_TRUE(is_ok(s.put("/collections/c", R"({"vectors":{"size":2,"distance":"Euclid"}})")));

  std::string eleven = R"({"points":[)";
  for (int i = 0; i < 11; ++i)
    eleven += fmt::format(R"({}{{"id":{},"vector":[1,{}]}})", i ? "," : "", i, i);
  eleven += "]}";
  EXPECT_TRUE(is_error(s.put("/collections/c/points", eleven), 422,
                       "points: 11 points in one request, the limit is 10"));
  EXPECT_TRUE(is_error(s.post("/collections/c/points", R"({"ids":[1,2,3,4,5,6,7,8,9,10,11]})"), 422,
                       "the limit is 10"));
  EXPECT_TRUE(is_error(s.put("/collections/c/points", R"({"batch":{"ids":[1,2,3,4,5,6,7,8,9,10,11],
      "vectors":[]}})"),
                       422));
  EXPECT_TRUE(is_error(s.post("/collections/c/points/query/batch", R"({"searches":[{},{},{},{}]})"),
                       422, "searches: 4 requests, the limit is 3"));
  EXPECT_TRUE(is_error(s.post("/collections/c/points/batch",
                              R"({"operations":[{"delete":{"points":[1]}},{"delete":{"points":[1]}},
                                  {"delete":{"points":[1]}},{"delete":{"points":[1]}}]})"),
                       422));

  // A body over the route's limit is refused with 413 before it is read.
  std::string big(9 * 1024, ' ');
  big = "{" + big + "}";
  auto r = s.post("/collections/c/points/scroll", big);
  EXPECT_TRUE(is_error(r, 413, "larger than the limit"));
  // The upsert routes have their own, larger limit.
  std::string padded = R"({"points":[{"id":1,"vector":[1,1]}])" + std::string(20 * 1024, ' ') + "}";
  EXPECT_TRUE(is_ok(s.put("/collections/c/points", padded)));
  EXPECT_TRUE(is_error(s.put("/collections/c/points", padded + std::string(64 * 1024, ' ')), 413));

  // limit and offset above max_limit are capped; nothing is sized by the client's number.
  std::string pts = R"({"points":[)";
  for (int i = 0; i < 10; ++i)
    pts += fmt::format(R"({}{{"id":{},"vector":[1,{}]}})", i ? "," : "", i, i);
  ASSERT_TRUE(is_ok(s.put("/collections/c/points?wait=true", pts + "]}")));
  auto scroll = s.post("/collections/c/points/scroll", R"({"limit":18446744073709551615})");
  ASSERT_TRUE(is_ok(scroll));
  EXPECT_EQ(result(scroll)["points"].get_array().size(), 10u);
  auto off = s.post("/collections/c/points/query",
                    R"({"query":[0,0],"offset":18446744073709551615,"limit":1000000})");
  ASSERT_TRUE(is_ok(off));
  EXPECT_EQ(result(off)["points"].get_array().size(), 0u);
  EXPECT_TRUE(
      is_error(s.post("/collections/c/points/query", R"({"limit":18446744073709551616})"), 400));
}

TEST(RestLimits, MalformedBodiesAndWrongTypesAreFormatErrors) {
  rest_server s;
  ASSERT_TRUE(is_ok(s.put("/collections/c", R"({"vectors":{"size":2,"distance":"Euclid"}})")));
  for (auto body : {R"({"points":)", R"([1,2,3])", R"({"points":{}})", R"({"points":[{"id":1.5,
      "vector":[1,2]}]})",
                    R"({"points":[{"id":1,"vector":["a","b"]}]})",
                    R"({"points":[{"id":1,"vector":[1,2],"payload":[1]}]})"}) {
    EXPECT_TRUE(is_error(s.put("/collections/c/points", body), 400, "Format error in JSON body"))
        << body;
  }
  EXPECT_TRUE(
      is_error(s.put("/collections/c/points", R"({"points":[{"id":1,"vector":[1e39,2]}]})"), 400));
  EXPECT_TRUE(is_error(s.post("/collections/c/points/scroll", R"({"limit":"ten"})"), 400));
  EXPECT_TRUE(is_error(s.post("/collections/c/points/scroll", R"({"with_payload":7})"), 400));
  // An empty body is an empty object.
  EXPECT_TRUE(is_ok(s.post("/collections/c/points/scroll", "")));
  EXPECT_TRUE(is_ok(s.post("/collections/c/points/count", "  \n")));
}

TEST(RestIo, BodiesAreParsedInPlaceAndBigParsersShrinkBack) {
  // On a reactor, as handlers run: a padded body is parsed without a copy, an unpadded one still
  // parses (simdjson copies it), and after a large document the parser's memory goes back.
  run_on_runtime(1, []() -> awaitable<void> {
    auto make = [](std::string body, bool pad) {
      auto req = std::make_unique<http::beast_request>();
      if (pad) req->body().reserve(body.size() + http::kBodyPadding);
      req->body().append(body);
      return req;
    };
    auto padded = make(R"({"a":[1,2,3]})", true);
    EXPECT_GE(padded->body().capacity() - padded->body().size(),
              size_t{simdjson::SIMDJSON_PADDING});
    http::request_context ctx{*padded, {}, {}, std::chrono::steady_clock::now()};
    auto doc = rest::parse_body(ctx);
    CO_ASSERT_TRUE(doc.has_value());
    EXPECT_EQ(int64_t((*doc)["a"].at(2)), 3);

    auto plain = make(R"({"b":true})", false);
    plain->body().shrink_to_fit();
    http::request_context ctx2{*plain, {}, {}, std::chrono::steady_clock::now()};
    auto doc2 = rest::parse_body(ctx2);
    CO_ASSERT_TRUE(doc2.has_value());
    EXPECT_TRUE(bool((*doc2)["b"]));

    std::string big = "[";
    for (int i = 0; i < 300000; ++i) big += (i ? ",1" : "1");
    big += "]";
    auto large = make(big, true);
    http::request_context ctx3{*large, {}, {}, std::chrono::steady_clock::now()};
    CO_ASSERT_TRUE(rest::parse_body(ctx3).has_value());
    EXPECT_GE(rest::parser_capacity(), big.size());
    rest::release_parser_memory(64 * 1024);
    EXPECT_LT(rest::parser_capacity(), big.size()) << "the parser gave its memory back";
    auto again = rest::parse_body(ctx);
    CO_ASSERT_TRUE(again.has_value());
    co_return;
  });
}

TEST(RestIo, TheSessionKeepsPaddingAfterEveryBody) {
  // Content-Length and chunked bodies both arrive with simdjson's padding after them.
  http::beast_request req;
  boost::beast::error_code ec;
  http::padded_string_body::reader r(req, req.body());
  r.init(boost::optional<std::uint64_t>(5), ec);
  ASSERT_FALSE(ec);
  std::string part = "hello";
  r.put(boost::asio::buffer(part), ec);
  r.finish(ec);
  EXPECT_EQ(req.body(), "hello");
  EXPECT_GE(req.body().capacity() - req.body().size(), http::kBodyPadding);

  http::beast_request chunked;
  http::padded_string_body::reader c(chunked, chunked.body());
  c.init(boost::none, ec);
  for (int i = 0; i < 100; ++i) c.put(boost::asio::buffer(part), ec);
  c.finish(ec);
  EXPECT_EQ(chunked.body().size(), 500u);
  EXPECT_GE(chunked.body().capacity() - chunked.body().size(), http::kBodyPadding);
}

}  // namespace
}  // namespace shoal::test
