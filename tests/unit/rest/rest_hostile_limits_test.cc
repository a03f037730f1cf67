// Hostile input over HTTP, part 2: deep nesting, oversized everything, bad snapshot names and
// broken HTTP (rest_hostile_fixture.h says what every request must get and what must stay
// intact), and the regressions the suite found.

#include "tests/unit/rest/rest_hostile_fixture.h"

namespace shoal::test {
namespace {

TEST_F(RestHostile, DeepNestingIsA400NamingTheLimit) {
  auto nested = [](int levels) {
    return std::string(static_cast<size_t>(levels), '[') +
           std::string(static_cast<size_t>(levels), ']');
  };
  EXPECT_TRUE(is_error(s().post("/collections/c/points/count", nested(33)), 400,
                       "the limit is 32 levels (rest.max-json-depth)"));
  // Far deeper than any stack would take if it were followed recursively.
  EXPECT_TRUE(
      is_error(s().post("/collections/c/points/count", nested(30000)), 400, "rest.max-json-depth"));
  std::string deep_payload = "1";
  for (int i = 0; i < 40; ++i) deep_payload = R"({"x":)" + deep_payload + "}";
  EXPECT_TRUE(is_error(
      s().put("/collections/c/points",
              R"({"points":[{"id":1,"vector":[1,1,1,1],"payload":)" + deep_payload + "}]}"),
      400, "rest.max-json-depth"));
  // Filters nested in filters: depth 4 passes, 5 is refused.
  auto filter_of_depth = [](int depth) {
    std::string f = R"({"must":[{"key":"n","range":{"gte":0}}]})";
    for (int i = 1; i < depth; ++i) f = R"({"must":[)" + f + "]}";
    return R"({"filter":)" + f + "}";
  };
  auto ok4 = s().post("/collections/c/points/count", filter_of_depth(4));
  ASSERT_TRUE(is_ok(ok4));
  EXPECT_EQ(uint64_t(result(ok4)["count"]), uint64_t{kPoints});
  EXPECT_TRUE(is_error(s().post("/collections/c/points/count", filter_of_depth(5)), 400,
                       "the limit is 4 levels (rest.max-filter-depth)"));
  EXPECT_TRUE(is_error(s().post("/collections/c/points/delete", filter_of_depth(5)), 400,
                       "rest.max-filter-depth"));
  expect_intact();
}

TEST_F(RestHostile, OversizedEverythingGetsTheRightStatusNamingTheLimit) {
  // Bodies: refused by Content-Length before they are read, and when chunked.
  std::string big(70 * 1024, ' ');
  EXPECT_TRUE(is_error(s().post("/collections/c/points/count", "{" + big + "}"), 413,
                       "larger than the limit"));
  {
    http_client raw(s().port(), 5s);
    std::string chunked =
        "POST /collections/c/points/count HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
        "Content-Type: application/json\r\n\r\n";
    for (int i = 0; i < 80; ++i) chunked += "400\r\n" + std::string(1024, ' ') + "\r\n";
    chunked += "0\r\n\r\n";
    raw.send_raw(chunked);
    auto r = raw.read_reply();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 413u) << r->body;
  }
  // Headers over http.header-limit: 431.
  {
    http_client raw(s().port(), 5s);
    auto r = raw.request(boost::beast::http::verb::get, "/healthz", {},
                         {{"X-Padding", std::string(9000, 'a')}});
    EXPECT_EQ(r.status, 431u) << r.body;
  }
  {
    http_client raw(s().port(), 5s);
    auto r = raw.request(boost::beast::http::verb::get, "/collections/" + std::string(9000, 'a'));
    EXPECT_EQ(r.status, 431u) << "a long target counts as header";
  }
  // Points, ids, searches and operations per request: 422.
  std::string many = R"({"points":[)";
  for (int i = 0; i < 101; ++i)
    many += fmt::format(R"({}{{"id":{},"vector":[1,1,1,1]}})", i ? "," : "", i);
  EXPECT_TRUE(is_error(s().put("/collections/c/points", many + "]}"), 422, "the limit is 100"));
  std::string ids = "[0";
  for (int i = 1; i < 101; ++i) ids += fmt::format(",{}", i);
  ids += "]";
  EXPECT_TRUE(is_error(s().post("/collections/c/points/delete", R"({"points":)" + ids + "}"), 422,
                       "the limit is 100"));
  EXPECT_TRUE(is_error(s().post("/collections/c/points", R"({"ids":)" + ids + "}"), 422));
  EXPECT_TRUE(is_error(
      s().post("/collections/c/points/query/batch", R"({"searches":[{},{},{},{},{},{},{},{},{}]})"),
      422, "the limit is 8"));
  // Payloads: bytes, keys (also a flat object of many keys, which was quadratic to build), key
  // length; in upserts, batches and payload changes.
  auto upsert_with = [](const std::string& payload) {
    return R"({"points":[{"id":1,"vector":[1,1,1,1],"payload":)" + payload + "}]}";
  };
  std::string large = R"({"text":")" + std::string(3000, 'x') + "\"}";
  EXPECT_TRUE(is_error(s().put("/collections/c/points", upsert_with(large)), 422,
                       "the limit is 2048 bytes (rest.max-payload-bytes)"));
  EXPECT_TRUE(
      is_error(s().put("/collections/c/points",
                       R"({"batch":{"ids":[1],"vectors":[[1,1,1,1]],"payloads":[)" + large + "]}}"),
               422, "rest.max-payload-bytes"));
  EXPECT_TRUE(is_error(
      s().post("/collections/c/points/payload", R"({"points":[1],"payload":)" + large + "}"), 422,
      "rest.max-payload-bytes"));
  std::string keys = "{";
  for (int i = 0; i < 33; ++i) keys += fmt::format(R"({}"k{}":{})", i ? "," : "", i, i);
  keys += "}";
  EXPECT_TRUE(is_error(s().put("/collections/c/points", upsert_with(keys)), 422,
                       "the limit is 32 (rest.max-payload-keys)"));
  std::string nested_keys = R"({"a":{"b":{)";
  for (int i = 0; i < 31; ++i) nested_keys += fmt::format(R"({}"k{}":{})", i ? "," : "", i, i);
  nested_keys += "}}}";
  EXPECT_TRUE(is_error(s().put("/collections/c/points", upsert_with(nested_keys)), 422,
                       "rest.max-payload-keys"));
  std::string flood = "{";
  for (int i = 0; i < 20000; ++i) flood += fmt::format(R"({}"{}":0)", i ? "," : "", i);
  flood += "}";
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_TRUE(
      is_error(s().put("/collections/c/points", upsert_with(flood)), 422, "rest.max-payload-keys"));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
  std::string long_key = std::string(R"({")") + std::string(65, 'k') + R"(":1})";
  EXPECT_TRUE(is_error(s().put("/collections/c/points", upsert_with(long_key)), 422,
                       "the limit is 64 bytes (rest.max-key-length)"));
  EXPECT_TRUE(is_error(s().post("/collections/c/points/scroll",
                                R"({"with_payload":[")" + std::string(65, 'k') + "\"]}"),
                       422, "rest.max-key-length"));
  EXPECT_TRUE(is_error(s().put("/collections/c/index", R"({"field_name":")" + std::string(65, 'k') +
                                                           R"(","field_schema":"keyword"})"),
                       422, "rest.max-key-length"));
  // Filters: conditions over the whole tree, key length.
  std::string conditions = R"({"filter":{"should":[)";
  for (int i = 0; i < 17; ++i)
    conditions += fmt::format(R"({}{{"key":"n","match":{{"value":{}}}}})", i ? "," : "", i);
  conditions += "]}}";
  EXPECT_TRUE(is_error(s().post("/collections/c/points/count", conditions), 422,
                       "the limit is 16 (rest.max-filter-conditions)"));
  std::string spread = R"({"filter":{"must":[)";
  for (int i = 0; i < 6; ++i) {
    spread += fmt::format(
        R"({}{{"should":[{{"key":"n","match":{{"value":1}}}},{{"key":"n","match":{{"value":2}}}}]}})",
        i ? "," : "");
  }
  spread += "]}}";
  EXPECT_TRUE(
      is_error(s().post("/collections/c/points/count", spread), 422, "rest.max-filter-conditions"))
      << "6 nested filters of 2 conditions each: 18 conditions";
  EXPECT_TRUE(is_error(s().post("/collections/c/points/count", R"({"filter":{"must":[{"key":")" +
                                                                   std::string(65, 'k') +
                                                                   R"(","match":{"value":1}}]}})"),
                       422, "rest.max-key-length"));
  // Collections: vector size and the number of vectors.
  EXPECT_TRUE(
      is_error(s().put("/collections/fresh", R"({"vectors":{"size":1025,"distance":"Dot"}})"), 422,
               "rest.max-vector-size"));
  EXPECT_TRUE(is_error(
      s().put("/collections/fresh",
              R"({"vectors":{"a":{"size":4,"distance":"Dot"},"b":{"size":4,"distance":"Dot"},
                                   "c":{"size":4,"distance":"Dot"},"d":{"size":4,"distance":"Dot"},
                                   "e":{"size":4,"distance":"Dot"}}})"),
      422, "the limit is 4 (rest.max-named-vectors)"));
  EXPECT_TRUE(is_error(s().put("/collections/fresh",
                               R"({"vectors":{"a":{"size":4,"distance":"Dot"}},
                                   "sparse_vectors":{"s1":{},"s2":{},"s3":{},"s4":{}}})"),
                       422, "rest.max-named-vectors"));
  EXPECT_EQ(s().get("/collections/fresh").status, 404u);
  expect_intact();
}

TEST_F(RestHostile, BadSnapshotNamesAndArchivesChangeNothing) {
  for (auto target :
       {"/collections/c/snapshots/..%2F..%2Fcollection.json",
        "/collections/c/snapshots/%2Fetc%2Fpasswd",
        "/collections/c/snapshots/x.snapshot%00.snapshot",
        "/collections/c/snapshots/.hidden.snapshot", "/collections/c/snapshots/a%5Cb.snapshot",
        "/snapshots/..%2F..%2Fetc%2Fpasswd", "/snapshots/%00.snapshot",
        "/collections/nope/snapshots/x.snapshot"}) {
    EXPECT_TRUE(is_error(s().get(target), 404)) << target;
    EXPECT_TRUE(is_error(s().del(target), 404)) << target;
  }
  auto long_name = "/snapshots/" + std::string(300, 'a') + ".snapshot";
  EXPECT_TRUE(is_error(s().get(long_name), 404));
  // A snapshot that really exists cannot be reached through a NUL either.
  auto made = s().post("/collections/c/snapshots?wait=true", "");
  ASSERT_TRUE(is_ok(made));
  std::string real(std::string_view(result(made)["name"]));
  EXPECT_EQ(s().get("/collections/c/snapshots/" + real).status, 200u);
  EXPECT_TRUE(is_error(s().get("/collections/c/snapshots/" + real + "%00.snapshot"), 404));
  EXPECT_TRUE(is_error(s().del("/collections/c/snapshots/" + real + "%00.snapshot"), 404));
  // Garbage uploaded as a snapshot of an existing collection, or with a wrong checksum: 400,
  // and the collection is untouched.
  {
    http_client raw(s().port(), 10s);
    auto r = raw.request(boost::beast::http::verb::post, "/collections/c/snapshots/upload",
                         std::string(4096, 'Z'), {{"Content-Type", "application/octet-stream"}});
    EXPECT_EQ(r.status, 400u) << r.body;
    auto archive = s().get("/collections/c/snapshots/" + real);
    ASSERT_EQ(archive.status, 200u);
    auto truncated = archive.body.substr(0, archive.body.size() / 2);
    r = raw.request(boost::beast::http::verb::post, "/collections/c/snapshots/upload", truncated,
                    {{"Content-Type", "application/octet-stream"}});
    EXPECT_EQ(r.status, 400u) << r.body;
    r = raw.request(boost::beast::http::verb::post,
                    "/collections/c/snapshots/upload?checksum=" + std::string(64, '0'),
                    archive.body, {{"Content-Type", "application/octet-stream"}});
    EXPECT_EQ(r.status, 400u) << r.body;
    r = raw.request(boost::beast::http::verb::post, "/collections/c/snapshots/upload",
                    "--x\r\nContent-Disposition: form-data; name=\"other\"\r\n\r\nabc\r\n--x--\r\n",
                    {{"Content-Type", "multipart/form-data; boundary=x"}});
    EXPECT_EQ(r.status, 400u) << r.body;
  }
  EXPECT_TRUE(is_ok(s().del("/collections/c/snapshots/" + real)));
  expect_intact();
}

TEST_F(RestHostile, BrokenHttpIsA400AndSlowClientsAreCutOffWithoutHurtingOthers) {
  for (std::string raw_request :
       {std::string("GARBAGE\r\n\r\n"), std::string("GET / HTTP/9.9\r\n\r\n"),
        std::string("GET /healthz HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n"),
        std::string("POST /collections/c/points/count HTTP/1.1\r\nHost: x\r\n"
                    "Content-Length: abc\r\n\r\n{}"),
        std::string("POST /collections/c/points/count HTTP/1.1\r\nHost: x\r\n"
                    "Content-Length: -1\r\n\r\n{}"),
        std::string("POST /collections/c/points/count HTTP/1.1\r\nHost: x\r\n"
                    "Content-Length: 2\r\nContent-Length: 3\r\n\r\n{} "),
        std::string("POST /collections/c/points/count HTTP/1.1\r\nHost: x\r\n"
                    "Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n"),
        std::string("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), std::string("\x16\x03\x01\x02\x00\x01", 6),
        std::string(1, '\0') + "\r\n\r\n"}) {
    http_client raw(s().port(), 5s);
    raw.send_raw(raw_request);
    auto r = raw.read_reply();
    if (r) {
      EXPECT_GE(r->status, 400u) << raw_request;
      EXPECT_LT(r->status, 500u) << raw_request;
    }
    EXPECT_TRUE(raw.closed_by_peer()) << raw_request;
  }
  // Slowloris: headers that never end, and a body that never comes. Both are closed at their
  // timeouts (500 ms here) while another client is served at once.
  http_client slow_headers(s().port(), 5s);
  slow_headers.send_raw("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ");
  http_client slow_body(s().port(), 5s);
  slow_body.send_raw(
      "POST /collections/c/points/count HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{");
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_TRUE(is_ok(s().post("/collections/c/points/count", "{}")));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 400ms) << "others are not held up";
  EXPECT_TRUE(slow_headers.closed_by_peer());
  EXPECT_TRUE(slow_body.closed_by_peer());
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 3s);
  // A client that sends its request and never reads the answer does not block others either.
  {
    http_client deaf(s().port(), 5s);
    for (int i = 0; i < 20; ++i) {
      deaf.send(boost::beast::http::verb::post, "/collections/c/points/scroll",
                R"({"limit":1000,"with_payload":true,"with_vector":true})",
                {{"Content-Type", "application/json"}});
    }
    EXPECT_TRUE(is_ok(s().post("/collections/c/points/count", "{}")));
  }
  expect_intact();
}

// Regressions found by this suite, on a server with the default limits.

TEST(RestHostileRegressions, APayloadSetAtADeepKeyCannotNestPastWhatIsStored) {
  // A key of 200 steps (within rest.max-key-length) built a payload 201 levels deep, and the
  // JSON writer aborted the server on the next read of the point.
  rest_server s;
  ASSERT_TRUE(is_ok(s.put("/collections/p", R"({"vectors":{"size":2,"distance":"Dot"}})")));
  ASSERT_TRUE(is_ok(s.put("/collections/p/points?wait=true",
                          R"({"points":[{"id":1,"vector":[1,2],"payload":{"x":1}}]})")));
  std::string key = "a";
  for (int i = 1; i < 200; ++i) key += ".a";
  auto set_at = [&](const std::string& payload, const std::string& at) {
    return s.post("/collections/p/points/payload?wait=true",
                  R"({"points":[1],"payload":)" + payload + R"(,"key":")" + at + R"("})");
  };
  EXPECT_TRUE(is_error(set_at(R"({"z":1})", key), 422, "a payload nests at most 64"));
  std::string deep = "1";
  for (int i = 0; i < 40; ++i) deep = R"({"y":)" + deep + "}";
  std::string key30 = "a";
  for (int i = 1; i < 30; ++i) key30 += ".a";
  EXPECT_TRUE(is_error(set_at(deep, key30), 422, "70 levels"));
  EXPECT_TRUE(is_ok(set_at(R"({"z":1})", key30)));
  auto read = s.post("/collections/p/points", R"({"ids":[1]})");
  ASSERT_TRUE(is_ok(read));
  EXPECT_EQ(result(read).get_array().size(), 1u);
}

TEST(RestHostileRegressions, PayloadNumbersComeBackAsTheyWent) {
  // u64::MAX and other doubles of 2^64 or more were written back as plain digits that no longer
  // parsed; 5.0 came back as the integer 5 once re-read.
  rest_server s;
  ASSERT_TRUE(is_ok(s.put("/collections/p", R"({"vectors":{"size":2,"distance":"Dot"}})")));
  ASSERT_TRUE(is_ok(s.put(
      "/collections/p/points?wait=true",
      R"({"points":[{"id":1,"vector":[1,2],"payload":{"u":18446744073709551615,"d":5.0,"z":-0.0,
          "big":3e19,"tiny":5e-324}}]})")));
  auto read = s.post("/collections/p/points", R"({"ids":[1]})");
  ASSERT_TRUE(is_ok(read));
  EXPECT_NE(
      read.body.find(
          R"("payload":{"u":1.8446744073709552e+19,"d":5.0,"z":-0.0,"big":3e+19,"tiny":5e-324})"),
      std::string::npos)
      << read.body;
  EXPECT_EQ(count_of(s, "p", R"({"must":[{"key":"d","match":{"value":5}}]})"), 0u)
      << "a float 5.0 is not the integer 5";
}

}  // namespace
}  // namespace shoal::test
