// The outbound HTTP client (net/http/client.h) against scripted servers on the same runtime:
// keep-alive reuse, reconnection after the server closes, body limits, deadlines, and streamed
// (chunked) bodies read piece by piece.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <gtest/gtest.h>

#include "engine/runtime/event.h"
#include "net/http/client.h"
#include "tests/support/runtime_fixture.h"

namespace shoal::http {
namespace {

using namespace std::chrono_literals;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

TEST(HttpUrl, Parses) {
  auto u = parse_http_url("http://example.org:8080/a/b?c=1");
  ASSERT_TRUE(u.has_value());
  EXPECT_EQ(u->host, "example.org");
  EXPECT_EQ(u->port, "8080");
  EXPECT_EQ(u->authority, "example.org:8080");
  EXPECT_EQ(u->target, "/a/b?c=1");
  auto d = parse_http_url("http://h");
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->port, "80");
  EXPECT_EQ(d->target, "/");
  auto v6 = parse_http_url("http://[::1]:2379");
  ASSERT_TRUE(v6.has_value());
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, "2379");
  for (const char* bad : {"ftp://h", "h:80", "http://", "http://:80", "http://h:", "http://h:x",
                          "http://h:70000", "http://h:0", "http://[::1", "http://[::1]x"}) {
    EXPECT_FALSE(parse_http_url(bad).has_value()) << bad;
  }
}

/// A server on the test's core: accepts connections and answers each request with what
/// `respond` writes (raw bytes), counting connections and requests.
struct scripted_server {
  using responder = std::function<std::string(const bhttp::request<bhttp::string_body>&, int)>;
  explicit scripted_server(responder r) : respond(std::move(r)) {}
  responder respond;
  int connections = 0;
  int requests = 0;
  std::unique_ptr<tcp::acceptor> acceptor;

  awaitable<uint16_t> start() {
    auto ex = co_await asio::this_coro::executor;
    acceptor =
        std::make_unique<tcp::acceptor>(ex, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    asio::co_spawn(ex, accept_loop(), asio::detached);
    co_return acceptor->local_endpoint().port();
  }
  awaitable<void> accept_loop() {
    for (;;) {
      auto [ec, socket] = co_await acceptor->async_accept(use_nothrow_awaitable);
      if (ec) co_return;
      ++connections;
      asio::co_spawn(acceptor->get_executor(), serve(std::move(socket)), asio::detached);
    }
  }
  awaitable<void> serve(tcp::socket socket) {
    boost::beast::flat_buffer buffer;
    for (;;) {
      bhttp::request<bhttp::string_body> req;
      auto [ec, n] = co_await bhttp::async_read(socket, buffer, req, use_nothrow_awaitable);
      if (ec) co_return;
      auto reply = respond(req, ++requests);
      if (reply.empty()) continue;  // silence
      if (reply == "close") co_return;
      auto [wec, wn] =
          co_await asio::async_write(socket, asio::buffer(reply), use_nothrow_awaitable);
      if (wec) co_return;
      if (reply.find("Connection: close") != std::string::npos) co_return;
    }
  }
  void stop() { acceptor->close(); }
};

std::string ok(const std::string& body, bool close = false) {
  return "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" +
         (close ? "Connection: close\r\n" : "") + "\r\n" + body;
}

http_url local(uint16_t port) {
  return *parse_http_url("http://127.0.0.1:" + std::to_string(port));
}

TEST(HttpClient, KeepsTheConnectionAliveAndReconnectsWhenTheServerCloses) {
  test::run_on_runtime(1, [&]() -> awaitable<void> {
    scripted_server server([](auto& req, int n) {
      return ok(std::string(req.target()) + "#" + std::to_string(n) + ":" + req.body(), n == 2);
    });
    client_connection c(local(co_await server.start()));
    auto a = co_await c.request(bhttp::verb::post, "/a", "x", "text/plain", 2s, 1000);
    CO_ASSERT_TRUE(a.has_value());
    EXPECT_EQ(a->status, 200u);
    EXPECT_EQ(a->body, "/a#1:x");
    EXPECT_FALSE(c.last_was_reused());
    auto b = co_await c.request(bhttp::verb::get, "/b", "", "", 2s, 1000);
    CO_ASSERT_TRUE(b.has_value());
    EXPECT_EQ(b->body, "/b#2:");
    EXPECT_TRUE(c.last_was_reused());
    EXPECT_EQ(server.connections, 1);
    EXPECT_FALSE(c.connected());  // the server said Connection: close
    auto d = co_await c.request(bhttp::verb::get, "/c", "", "", 2s, 1000);
    CO_ASSERT_TRUE(d.has_value());
    EXPECT_EQ(d->body, "/c#3:");
    EXPECT_EQ(server.connections, 2);
    server.stop();
  });
}

TEST(HttpClient, ABodyOverTheLimitFailsTheRequest) {
  test::run_on_runtime(1, [&]() -> awaitable<void> {
    scripted_server server([](auto&, int) { return ok(std::string(2000, 'x')); });
    client_connection c(local(co_await server.start()));
    auto r = co_await c.request(bhttp::verb::get, "/", "", "", 2s, 1000);
    CO_ASSERT_TRUE(!r.has_value());
    EXPECT_EQ(r.error(), bhttp::error::body_limit);
    EXPECT_FALSE(c.connected());
    server.stop();
  });
}

TEST(HttpClient, ASilentServerTimesOutAndARefusedConnectionFails) {
  test::run_on_runtime(1, [&]() -> awaitable<void> {
    scripted_server server([](auto&, int) { return std::string(); });
    client_connection c(local(co_await server.start()));
    const auto t0 = std::chrono::steady_clock::now();
    auto r = co_await c.request(bhttp::verb::get, "/", "", "", 200ms, 1000);
    CO_ASSERT_TRUE(!r.has_value());
    EXPECT_EQ(r.error(), boost::beast::error::timeout);
    EXPECT_TRUE(c.last_was_sent());
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
    server.stop();

    uint16_t closed_port;
    {
      tcp::acceptor a(co_await asio::this_coro::executor,
                      tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
      closed_port = a.local_endpoint().port();
    }
    client_connection refused(local(closed_port));
    auto e = co_await refused.request(bhttp::verb::get, "/", "", "", 1s, 1000);
    CO_ASSERT_TRUE(!e.has_value());
    EXPECT_FALSE(refused.last_was_sent());
  });
}

TEST(HttpClient, StreamsAChunkedBodyPieceByPiece) {
  test::run_on_runtime(1, [&]() -> awaitable<void> {
    auto ex = co_await asio::this_coro::executor;
    tcp::acceptor acceptor(ex, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    // The server sends the head and a first chunk, waits for the test's go, then the rest.
    auto go = std::make_shared<rt::event>();
    asio::co_spawn(
        ex,
        [&acceptor, go]() -> awaitable<void> {
          auto [ec, socket] = co_await acceptor.async_accept(use_nothrow_awaitable);
          if (ec) co_return;
          boost::beast::flat_buffer buffer;
          bhttp::request<bhttp::string_body> req;
          co_await bhttp::async_read(socket, buffer, req, use_nothrow_awaitable);
          std::string head =
              "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
              "4\r\none\n\r\n";
          co_await asio::async_write(socket, asio::buffer(head), use_nothrow_awaitable);
          co_await go->wait();
          std::string rest =
              "8\r\ntwo\nthre\r\n"
              "2\r\ne\n\r\n"
              "0\r\n\r\n";
          co_await asio::async_write(socket, asio::buffer(rest), use_nothrow_awaitable);
        },
        asio::detached);
    client_connection c(local(acceptor.local_endpoint().port()));
    auto status = co_await c.open_stream(bhttp::verb::post, "/watch", "{}", "application/json", 2s);
    CO_ASSERT_TRUE(status.has_value());
    EXPECT_EQ(*status, 200u);
    auto first = co_await c.read_stream(2s);
    CO_ASSERT_TRUE(first.has_value());
    EXPECT_EQ(*first, "one\n");  // delivered before the rest of the body exists
    go->set();
    std::string rest;
    for (;;) {
      auto piece = co_await c.read_stream(2s);
      if (!piece) {
        EXPECT_EQ(piece.error(), asio::error::eof);
        break;
      }
      rest += *piece;
    }
    EXPECT_EQ(rest, "two\nthree\n");
  });
}

}  // namespace
}  // namespace shoal::http
