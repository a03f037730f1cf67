// The HTTP front end end to end on a 2-core runtime: keep-alive, pipelining order and bound,
// per-route body limits, 100-continue, header/idle timeouts, error envelopes, connection limits,
// graceful shutdown with a request in flight, and per-core metrics.
#include <atomic>
#include <thread>

#include <gtest/gtest.h>

#include "engine/common/json_writer.h"
#include "engine/runtime/smp.h"
#include "tests/support/http_client.h"
#include "tests/unit/net/http_fixture.h"

namespace shoal::http {
namespace {

using namespace std::chrono_literals;
using test::http_client;
using test::http_fixture;

std::atomic<int> g_sleeping{0};
std::atomic<int> g_sleeping_peak{0};

void add_test_routes(router& r) {
  r.add(verb::get, "/ok", [](request_context& ctx) -> awaitable<response> {
    co_return ok_json("true", ctx.elapsed_seconds());
  });
  r.add(verb::get, "/sleep/{ms}", [](request_context& ctx) -> awaitable<response> {
    int ms = std::stoi(std::string(*ctx.path_param("ms")));
    int now = ++g_sleeping;
    int peak = g_sleeping_peak.load();
    while (now > peak && !g_sleeping_peak.compare_exchange_weak(peak, now)) {
    }
    co_await test::sleep_for(std::chrono::milliseconds(ms));
    --g_sleeping;
    co_return ok_json(std::to_string(ms), ctx.elapsed_seconds());
  });
  r.add(verb::post, "/echo",
        [](request_context& ctx) -> awaitable<response> {
          co_return ok_json(std::to_string(ctx.body().size()), ctx.elapsed_seconds());
        },
        {.body_limit = 1024});
  r.add(verb::get, "/throw", [](request_context& ctx) -> awaitable<response> {
    if (ctx.method() == "GET") throw std::runtime_error("handler bug");
    co_return response{};
  });
  r.add(verb::get, "/query/{name}", [](request_context& ctx) -> awaitable<response> {
    std::string out;
    json_writer w(out);
    w.begin_object().field("name", *ctx.path_param("name"));
    for (auto& [k, v] : ctx.query_params) w.field(k, v);
    w.end_object();
    co_return ok_json(out, 0);
  });
}

http_config fast_config() {
  http_config cfg;
  cfg.header_timeout = 300ms;
  cfg.idle_timeout = 300ms;
  cfg.drain_timeout = 2s;
  return cfg;
}

TEST(HttpServer, KeepAliveServesManyRequestsOnOneConnection) {
  http_fixture server(2, fast_config(), add_test_routes);
  http_client c(server.port());
  for (int i = 0; i < 20; ++i) {
    auto r = c.get("/ok");
    ASSERT_EQ(r.status, 200u);
    EXPECT_TRUE(r.keep_alive);
    EXPECT_EQ(r.header("content-type"), "application/json");
    EXPECT_NE(r.body.find(R"("result":true,"status":"ok","time":)"), std::string::npos) << r.body;
  }
}

TEST(HttpServer, PipelinedRequestsAreAnsweredInRequestOrder) {
  http_fixture server(2, fast_config(), add_test_routes);
  http_client c(server.port());
  // The first handler finishes last; its answer must still come first.
  c.send_raw(
      "GET /sleep/80 HTTP/1.1\r\nHost: x\r\n\r\n"
      "GET /sleep/1 HTTP/1.1\r\nHost: x\r\n\r\n"
      "GET /ok HTTP/1.1\r\nHost: x\r\n\r\n");
  auto a = c.read_reply(), b = c.read_reply(), d = c.read_reply();
  ASSERT_TRUE(a && b && d);
  EXPECT_NE(a->body.find("\"result\":80"), std::string::npos) << a->body;
  EXPECT_NE(b->body.find("\"result\":1"), std::string::npos) << b->body;
  EXPECT_NE(d->body.find("\"result\":true"), std::string::npos) << d->body;
}

TEST(HttpServer, PipelineLimitBoundsRequestsInProgressPerConnection) {
  auto cfg = fast_config();
  cfg.pipeline_limit = 2;
  http_fixture server(1, cfg, add_test_routes);
  http_client c(server.port());
  g_sleeping_peak = 0;
  std::string burst;
  for (int i = 0; i < 8; ++i) burst += "GET /sleep/30 HTTP/1.1\r\nHost: x\r\n\r\n";
  c.send_raw(burst);
  for (int i = 0; i < 8; ++i) ASSERT_TRUE(c.read_reply()) << i;
  EXPECT_EQ(g_sleeping_peak.load(), 2) << "handlers running at once on one connection";
}

TEST(HttpServer, BodyOverRouteLimitIs413AndTheConnectionCloses) {
  http_fixture server(2, fast_config(), add_test_routes);
  http_client c(server.port());
  auto small = c.request(verb::post, "/echo", std::string(1000, 'x'));
  EXPECT_EQ(small.status, 200u);
  auto big = c.request(verb::post, "/echo", std::string(2000, 'x'));
  EXPECT_EQ(big.status, 413u);
  EXPECT_NE(big.body.find("larger than the limit of 1024 bytes"), std::string::npos) << big.body;
  EXPECT_FALSE(big.keep_alive);
  EXPECT_TRUE(c.closed_by_peer());
}

TEST(HttpServer, ExpectContinueGetsAnInterimResponseBeforeTheBody) {
  http_fixture server(1, fast_config(), add_test_routes);
  http_client c(server.port());
  c.send_raw("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
  auto interim = c.read_reply();
  ASSERT_TRUE(interim);
  EXPECT_EQ(interim->status, 100u);
  c.send_raw("hello");
  auto final_reply = c.read_reply();
  ASSERT_TRUE(final_reply);
  EXPECT_EQ(final_reply->status, 200u);
  EXPECT_NE(final_reply->body.find("\"result\":5"), std::string::npos);
}

TEST(HttpServer, OversizedHeaderIs431) {
  http_fixture server(1, fast_config(), add_test_routes);
  http_client c(server.port());
  auto r = c.request(verb::get, "/ok", {}, {{"X-Big", std::string(20000, 'a')}});
  EXPECT_EQ(r.status, 431u);
  EXPECT_TRUE(c.closed_by_peer());
}

TEST(HttpServer, SlowHeaderIsCutOffWhileOtherClientsAreServed) {
  http_fixture server(1, fast_config(), add_test_routes);
  http_client slow(server.port());
  slow.send_raw("GET /ok HTTP/1.1\r\nHost: x\r\n");  // never finishes its header
  http_client fast(server.port());
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 5; ++i) EXPECT_EQ(fast.get("/ok").status, 200u);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 250ms);
  EXPECT_TRUE(slow.closed_by_peer());
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 250ms);
  // The client may see the close before the session's coroutine resumes and counts it.
  bool counted = false;
  for (int i = 0; i < 100 && !counted; ++i) {
    counted =
        server.metrics().find(R"(shoal_http_errors_total{core="0",kind="header_timeout"} 1)") !=
        std::string::npos;
    if (!counted) std::this_thread::sleep_for(10ms);
  }
  EXPECT_TRUE(counted);
}

TEST(HttpServer, IdleKeepAliveConnectionIsClosedAfterIdleTimeout) {
  http_fixture server(1, fast_config(), add_test_routes);
  http_client c(server.port(), 3s);
  EXPECT_EQ(c.get("/ok").status, 200u);
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_TRUE(c.closed_by_peer());
  auto waited = std::chrono::steady_clock::now() - t0;
  EXPECT_GE(waited, 250ms);
  EXPECT_LT(waited, 2s);
}

TEST(HttpServer, UnknownPathsMethodsAndBadRequestsGetJsonErrors) {
  http_fixture server(2, fast_config(), add_test_routes);
  http_client c(server.port());
  auto missing = c.get("/nope");
  EXPECT_EQ(missing.status, 404u);
  EXPECT_EQ(missing.header("content-type"), "application/json");
  EXPECT_NE(missing.body.find(R"({"status":{"error":"Not found: no endpoint /nope"},"time":)"),
            std::string::npos)
      << missing.body;
  auto wrong_method = c.request(verb::delete_, "/ok");
  EXPECT_EQ(wrong_method.status, 405u);
  EXPECT_NE(wrong_method.body.find("Method DELETE is not allowed on /ok"), std::string::npos);
  auto boom = c.get("/throw");
  EXPECT_EQ(boom.status, 500u);
  EXPECT_NE(boom.body.find("Service internal error: handler bug"), std::string::npos);
  EXPECT_EQ(c.get("/ok").status, 200u) << "the connection survives handler errors";

  http_client garbage(server.port());
  garbage.send_raw("NOT HTTP AT ALL\r\n\r\n");
  auto bad = garbage.read_reply();
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400u);
  EXPECT_TRUE(garbage.closed_by_peer());
}

TEST(HttpServer, PathParametersQueryStringsAndTrailingSlashes) {
  http_fixture server(1, fast_config(), add_test_routes);
  http_client c(server.port());
  auto r = c.get("/query/my%20name/?wait=true&x=a%2Bb+c&flag");
  ASSERT_EQ(r.status, 200u) << r.body;
  EXPECT_NE(r.body.find(R"({"name":"my name","wait":"true","x":"a+b c","flag":""})"),
            std::string::npos)
      << r.body;
}

TEST(HttpServer, ConnectionsOverThePerCoreLimitAreRefusedWith503) {
  auto cfg = fast_config();
  cfg.max_connections_per_core = 1;
  cfg.idle_timeout = 5s;
  http_fixture server(1, cfg, add_test_routes);
  http_client first(server.port());
  EXPECT_EQ(first.get("/ok").status, 200u);
  http_client second(server.port());
  auto refused = second.read_reply();
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 503u);
  EXPECT_NE(refused->body.find("too many connections"), std::string::npos);
  EXPECT_EQ(first.get("/ok").status, 200u) << "existing connections are unaffected";
}

TEST(HttpServer, GracefulStopFinishesTheRequestInFlightThenRefusesConnections) {
  auto cfg = fast_config();
  cfg.idle_timeout = 10s;
  auto server = std::make_unique<http_fixture>(2, cfg, add_test_routes);
  auto port = server->port();
  http_client busy(port);
  http_client idle(port);
  EXPECT_EQ(idle.get("/ok").status, 200u);
  busy.send(verb::get, "/sleep/400");
  std::this_thread::sleep_for(100ms);
  auto t0 = std::chrono::steady_clock::now();
  server->begin_stop();
  auto r = busy.read_reply();
  ASSERT_TRUE(r) << "the request in flight must be answered";
  EXPECT_EQ(r->status, 200u);
  EXPECT_FALSE(r->keep_alive) << "a response during shutdown announces Connection: close";
  EXPECT_TRUE(idle.closed_by_peer()) << "idle keep-alive connections are closed at once";
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
  server->stop();
  EXPECT_THROW(http_client late(port), boost::system::system_error);
}

TEST(HttpServer, MetricsCountRequestsPerCoreAndRoute) {
  http_fixture server(2, fast_config(), add_test_routes);
  for (int i = 0; i < 40; ++i) {
    http_client c(server.port());
    EXPECT_EQ(c.get("/ok").status, 200u);
  }
  // A request is counted after its response is written, so the client can be a moment ahead.
  std::string text;
  auto count_for = [&](const std::string& core) {
    auto key = "shoal_http_requests_total{core=\"" + core + R"(",route="GET /ok",status="200"} )";
    auto pos = text.find(key);
    return pos == std::string::npos ? 0 : std::stoi(text.substr(pos + key.size()));
  };
  for (int i = 0; i < 100; ++i) {
    text = server.metrics();
    if (count_for("0") + count_for("1") == 40) break;
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_EQ(count_for("0") + count_for("1"), 40);
  EXPECT_GT(count_for("0"), 0) << "SO_REUSEPORT spreads connections over both cores";
  EXPECT_GT(count_for("1"), 0);
  EXPECT_NE(text.find(R"(shoal_http_request_duration_seconds_count{route="GET /ok"} 40)"),
            std::string::npos)
      << text;
}

}  // namespace
}  // namespace shoal::http
