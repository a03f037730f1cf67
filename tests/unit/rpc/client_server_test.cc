// The RPC client and server over loopback: many requests in flight on one connection, answers
// out of order, deadlines on both sides, protocol errors answered with error frames, memory
// admission, reconnects with backoff, graceful stop.
#include <atomic>
#include <cstring>

#include <gtest/gtest.h>

#include "engine/runtime/smp.h"
#include "net/rpc/client.h"
#include "net/rpc/messages.h"
#include "tests/unit/rpc/rpc_fixture.h"

namespace shoal::rpc {
namespace {

using namespace std::chrono_literals;
using test::raw_connection;
using test::rpc_test_server;

namespace m {
constexpr uint16_t echo = 0x0f01;
constexpr uint16_t sleep = 0x0f02;  // payload: u32 milliseconds
constexpr uint16_t fail = 0x0f03;
constexpr uint16_t core = 0x0f04;
constexpr uint16_t big = 0x0f05;  // payload: u32 bytes of compressible text to answer
constexpr uint16_t boom = 0x0f06;
}  // namespace m

std::atomic<int> running{0};
std::atomic<int> most_running{0};

bytes u32_payload(uint32_t v) {
  bytes b(4);
  std::memcpy(b.data(), &v, 4);
  return b;
}
uint32_t as_u32(const buffer& b) {
  uint32_t v = 0;
  if (b.size() == 4) std::memcpy(&v, b.data(), 4);
  return v;
}
bytes text(std::string_view s) {
  bytes b(s.size());
  std::memcpy(b.data(), s.data(), s.size());
  return b;
}
std::string as_text(const buffer& b) {
  return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}

awaitable<reply> do_sleep(request req) {
  uint32_t ms = 0;
  if (req.payload.size() >= 4) std::memcpy(&ms, req.payload.data(), 4);
  int now = ++running;
  int seen = most_running.load();
  while (now > seen && !most_running.compare_exchange_weak(seen, now)) {
  }
  co_await test::sleep_for(std::chrono::milliseconds(ms));
  --running;
  co_return reply::ok(u32_payload(ms));
}

std::shared_ptr<dispatcher> test_methods() {
  auto d = std::make_shared<dispatcher>();
  d->add(m::echo, [](const request& req) -> awaitable<reply> {
    co_return reply::ok(bytes(req.payload.begin(), req.payload.end()));
  });
  d->add(m::sleep, [](const request& req) { return do_sleep(req); });
  d->add(m::fail, [](const request&) -> awaitable<reply> {
    co_return reply::fail(status::wrong_input, "Wrong input: nope");
  });
  d->add(m::core, [](const request&) -> awaitable<reply> {
    co_return reply::ok(u32_payload(rt::this_core().value()));
  });
  d->add(m::big, [](const request& req) -> awaitable<reply> {
    uint32_t n = 0;
    std::memcpy(&n, req.payload.data(), 4);
    std::string s;
    while (s.size() < n) s += R"({"city":"Amsterdam","population":921402},)";
    s.resize(n);
    co_return reply::ok(text(s));
  });
  d->add(m::boom, [](const request& req) -> awaitable<reply> {
    if (req.method == m::boom) throw std::runtime_error("kaboom");
    co_return reply{};
  });
  return d;
}

client_options options_for(uint16_t port) {
  client_options o;
  o.port = port;
  o.request_timeout = 10s;
  o.backoff_initial = 20ms;
  o.backoff_max = 200ms;
  return o;
}

/// Runs the io_context until `done` or 5 s without any handler.
template <typename Done>
void run_until(asio::io_context& ioc, Done done) {
  while (!done()) {
    if (ioc.stopped()) ioc.restart();
    if (ioc.run_one_for(5s) == 0 && !done()) break;
  }
}

/// Runs `n` calls made by make(i) at once on a private io_context; returns their outcomes.
template <typename Make>
std::vector<outcome<buffer>> run_many(client_options o, size_t n, Make make,
                                      uint64_t* connects = nullptr) {
  asio::io_context ioc(1);
  client c(ioc.get_executor(), o);
  std::vector<outcome<buffer>> results;
  for (size_t i = 0; i < n; ++i) results.emplace_back(error{status::internal, "not run"});
  size_t done = 0;
  for (size_t i = 0; i < n; ++i) {
    asio::co_spawn(
        ioc,
        [&, i]() -> awaitable<void> {
          results[i] = co_await make(c, i);
          if (++done == n) c.close();
        },
        asio::detached);
  }
  ioc.run();
  if (connects) *connects = c.connects();
  return results;
}

TEST(RpcClientServer, ManyRequestsInFlightOnOneConnection) {
  rpc_test_server server({}, test_methods());
  auto o = options_for(server.port());
  o.max_in_flight = 64;
  uint64_t connects = 0;
  auto results = run_many(
      o, 2000,
      [](client& c, size_t i) { return c.call(m::echo, text("request " + std::to_string(i))); },
      &connects);
  for (size_t i = 0; i < results.size(); ++i) {
    ASSERT_TRUE(results[i]) << i << ": " << results[i].error().describe();
    EXPECT_EQ(as_text(*results[i]), "request " + std::to_string(i));
  }
  EXPECT_EQ(connects, 1u) << "one connection carries them all";
}

TEST(RpcClientServer, AnswersComeBackOutOfOrder) {
  rpc_test_server server({}, test_methods());
  asio::io_context ioc(1);
  client c(ioc.get_executor(), options_for(server.port()));
  std::vector<std::string> order;
  int left = 3;
  auto finish = [&](std::string name) {
    order.push_back(std::move(name));
    if (--left == 0) c.close();
  };
  asio::co_spawn(
      ioc,
      [&]() -> awaitable<void> {
        auto r = co_await c.call(m::sleep, u32_payload(300));
        EXPECT_TRUE(r);
        finish("slow");
      },
      asio::detached);
  asio::co_spawn(
      ioc,
      [&]() -> awaitable<void> {
        auto r = co_await c.call(m::sleep, u32_payload(50));
        EXPECT_TRUE(r);
        finish("medium");
      },
      asio::detached);
  asio::co_spawn(
      ioc,
      [&]() -> awaitable<void> {
        auto r = co_await c.call(m::echo, text("x"));
        EXPECT_TRUE(r);
        finish("fast");
      },
      asio::detached);
  ioc.run();
  EXPECT_EQ(order, (std::vector<std::string>{"fast", "medium", "slow"}));
  EXPECT_EQ(c.connects(), 1u);
}

TEST(RpcClientServer, ErrorsAndExceptionsBecomeErrorFramesAndTheConnectionGoesOn) {
  rpc_test_server server({}, test_methods());
  sync_client c(options_for(server.port()));
  auto f = c.call(m::fail, {});
  ASSERT_FALSE(f);
  EXPECT_EQ(f.error().code, status::wrong_input);
  EXPECT_EQ(f.error().message, "Wrong input: nope");
  auto b = c.call(m::boom, {});
  ASSERT_FALSE(b);
  EXPECT_EQ(b.error().code, status::internal);
  EXPECT_NE(b.error().message.find("kaboom"), std::string::npos);
  auto u = c.call(0x0999, {});
  ASSERT_FALSE(u);
  EXPECT_EQ(u.error().code, status::unknown_method);
  EXPECT_EQ(u.error().message, "unknown method 0x0999");
  auto ok = c.call(m::echo, text("still here"));
  ASSERT_TRUE(ok);
  EXPECT_EQ(as_text(*ok), "still here");
  EXPECT_EQ(c.async().connects(), 1u);
}

TEST(RpcClientServer, TheServerAnswersTimeoutAtTheDeadline) {
  server_config cfg;
  cfg.request_timeout = 200ms;  // caps the client's 10 s
  rpc_test_server server(cfg, test_methods());
  sync_client c(options_for(server.port()));
  auto t0 = std::chrono::steady_clock::now();
  auto r = c.call(m::sleep, u32_payload(2000));
  auto took = std::chrono::steady_clock::now() - t0;
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, status::timeout);
  EXPECT_NE(r.error().message.find("200 ms"), std::string::npos) << r.error().message;
  EXPECT_LT(took, 1500ms);
  // The connection is fine; a short deadline of the client's own also travels to the server.
  auto again = c.call(m::sleep, u32_payload(1000), 100ms);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, status::timeout);
  EXPECT_TRUE(c.call(m::echo, text("ok")));
  EXPECT_EQ(c.async().connects(), 1u);
}

TEST(RpcClientServer, TheClientGivesUpAtItsDeadlineAndDropsTheLateAnswer) {
  rpc_test_server server({}, test_methods());
  asio::io_context ioc(1);
  auto o = options_for(server.port());
  client c(ioc.get_executor(), o);
  bool checked = false;
  asio::co_spawn(
      ioc,
      [&]() -> awaitable<void> {
        // Locally the deadline wins by a hair over the server's (same deadline, sent later):
        // give the server more by asking it to sleep well past ours.
        auto r = co_await c.call(m::sleep, u32_payload(400), 100ms);
        EXPECT_FALSE(r);
        if (!r) EXPECT_EQ(r.error().code, status::timeout);
        // The late answer (if the server sends one) is ignored; the connection keeps working.
        co_await test::sleep_for(500ms);
        auto e = co_await c.call(m::echo, text("after"));
        EXPECT_TRUE(e);
        if (e) EXPECT_EQ(as_text(*e), "after");
        EXPECT_EQ(c.in_flight(), 0u);
        checked = true;
        c.close();
      },
      asio::detached);
  ioc.run();
  EXPECT_TRUE(checked);
  EXPECT_EQ(c.connects(), 1u);
}

TEST(RpcClientServer, AConnectionHoldsAtMostItsInFlightLimit) {
  server_config cfg;
  cfg.max_in_flight_per_connection = 4;
  rpc_test_server server(cfg, test_methods(), 0, 1);
  running = 0;
  most_running = 0;
  auto o = options_for(server.port());
  o.max_in_flight = 64;  // the client would send more; the server reads no further
  auto results =
      run_many(o, 40, [](client& c, size_t) { return c.call(m::sleep, u32_payload(20)); });
  for (auto& r : results) EXPECT_TRUE(r) << r.error().describe();
  EXPECT_LE(most_running.load(), 4);
  EXPECT_GE(most_running.load(), 2);
}

TEST(RpcClientServer, TheClientWindowBoundsItsOwnCalls) {
  rpc_test_server server({}, test_methods(), 0, 1);
  running = 0;
  most_running = 0;
  auto o = options_for(server.port());
  o.max_in_flight = 3;
  auto results =
      run_many(o, 30, [](client& c, size_t) { return c.call(m::sleep, u32_payload(10)); });
  for (auto& r : results) EXPECT_TRUE(r) << r.error().describe();
  EXPECT_LE(most_running.load(), 3);
}

TEST(RpcClientServer, LargePayloadsAreCompressedBothWaysAndArriveIntact) {
  rpc_test_server server({}, test_methods());
  auto o = options_for(server.port());
  o.compress_threshold = 4096;
  sync_client c(o);
  std::string s;
  while (s.size() < 3'000'000) s += "vector search over a binary protocol, ";
  auto echoed = c.call(m::echo, text(s));
  ASSERT_TRUE(echoed) << echoed.error().describe();
  EXPECT_EQ(as_text(*echoed), s);
  auto big = c.call(m::big, u32_payload(5'000'000));
  ASSERT_TRUE(big);
  EXPECT_EQ(big->size(), 5'000'000u);
  EXPECT_EQ(as_text(*big).substr(0, 10), R"({"city":"A)");
}

TEST(RpcClientServer, MemoryAdmissionSerializesLargeRequestsWithoutDeadlock) {
  server_config cfg;
  cfg.max_frame_size = 1u << 20;
  cfg.max_memory_per_core = 1u << 20;  // one 400 KB request (x2: as sent + decoded) at a time
  rpc_test_server server(cfg, test_methods(), 0, 1);
  auto o = options_for(server.port());
  o.compress_threshold = 0;
  std::vector<size_t> sizes = {400'000, 300'000, 450'000, 100'000, 400'000, 250'000, 499'000, 1};
  auto results = run_many(o, sizes.size() * 3, [&](client& c, size_t i) {
    return c.call(m::echo, bytes(sizes[i % sizes.size()], std::byte{7}));
  });
  for (size_t i = 0; i < results.size(); ++i) {
    ASSERT_TRUE(results[i]) << results[i].error().describe();
    EXPECT_EQ(results[i]->size(), sizes[i % sizes.size()]);
  }
}

TEST(RpcClientServer, NoMemoryBeforeTheDeadlineIsOverloaded) {
  server_config cfg;
  cfg.max_frame_size = 1u << 20;
  cfg.max_memory_per_core = 1u << 20;
  rpc_test_server server(cfg, test_methods(), 0, 1);
  auto o = options_for(server.port());
  o.compress_threshold = 0;
  // A slow request holds all the memory; the next one cannot get in within 150 ms.
  auto results = run_many(o, 2, [](client& c, size_t i) -> awaitable<outcome<buffer>> {
    if (i == 0) {
      bytes p = u32_payload(600);
      p.resize(600'000);
      co_return co_await c.call(m::sleep, std::move(p));
    }
    co_await test::sleep_for(50ms);
    co_return co_await c.call(m::echo, bytes(300'000), 150ms);
  });
  // The sleep's 4-byte prefix is its duration; the rest pads it to 600 KB (x2 = 1.2 MB: clamped).
  ASSERT_TRUE(results[0]) << results[0].error().describe();
  ASSERT_FALSE(results[1]);
  EXPECT_TRUE(results[1].error().code == status::overloaded ||
              results[1].error().code == status::timeout)
      << results[1].error().describe();
}

TEST(RpcClientServer, TooLargeFramesAreRefusedAndTheClientReconnects) {
  server_config cfg;
  cfg.max_frame_size = 64 * 1024;
  cfg.max_memory_per_core = 1u << 20;
  rpc_test_server server(cfg, test_methods());
  auto o = options_for(server.port());
  o.compress_threshold = 0;
  sync_client c(o);
  auto r = c.call(m::echo, bytes(100'000));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, status::frame_too_large);
  EXPECT_NE(r.error().message.find("rpc.max-frame-size"), std::string::npos) << r.error().message;
  auto ok = c.call(m::echo, bytes(1000));
  ASSERT_TRUE(ok) << ok.error().describe();
  EXPECT_EQ(c.async().connects(), 2u);
}

TEST(RpcClientServer, ReconnectsWithBackoffAfterTheServerRestarts) {
  uint16_t port = 0;
  auto o = options_for(0);
  o.request_timeout = 2s;
  asio::io_context ioc(1);
  std::unique_ptr<client> c;
  {
    rpc_test_server first({}, test_methods());
    port = first.port();
    o.port = port;
    c = std::make_unique<client>(ioc.get_executor(), o);
    bool ok = false;
    asio::co_spawn(
        ioc,
        [&]() -> awaitable<void> {
          auto r = co_await c->call(m::echo, text("one"));
          ok = r.has_value();
        },
        asio::detached);
    run_until(ioc, [&] { return ok; });
    ASSERT_TRUE(ok);
  }
  // The server is gone: a call fails (the connection dropped, then nobody listens).
  std::optional<outcome<buffer>> down;
  asio::co_spawn(
      ioc, [&]() -> awaitable<void> { down = co_await c->call(m::echo, text("two"), 300ms); },
      asio::detached);
  run_until(ioc, [&] { return down.has_value(); });
  ASSERT_TRUE(down);
  ASSERT_FALSE(*down);
  EXPECT_TRUE(retryable(down->error().code)) << down->error().describe();

  // Back on the same port: the next call reconnects.
  rpc_test_server second({}, test_methods(), port);
  std::optional<outcome<buffer>> up;
  asio::co_spawn(
      ioc, [&]() -> awaitable<void> { up = co_await c->call(m::echo, text("three")); },
      asio::detached);
  run_until(ioc, [&] { return up.has_value(); });
  ASSERT_TRUE(up);
  ASSERT_TRUE(*up) << up->error().describe();
  EXPECT_EQ(as_text(**up), "three");
  EXPECT_EQ(c->connects(), 2u);
  c->close();
  ioc.poll();
}

TEST(RpcClientServer, ConnectingToNothingFailsAtTheDeadline) {
  // A port nobody listens on: bind one, then let it go.
  uint16_t port;
  {
    asio::io_context ioc;
    asio::ip::tcp::acceptor a(ioc, {asio::ip::make_address("127.0.0.1"), 0});
    port = a.local_endpoint().port();
  }
  auto o = options_for(port);
  o.request_timeout = 300ms;
  sync_client c(o);
  auto t0 = std::chrono::steady_clock::now();
  auto r = c.call(m::echo, text("x"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, status::connect_failed);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
}

TEST(RpcClientServer, StopAnswersWhatWasReadThenCloses) {
  asio::io_context ioc(1);
  auto server = std::make_unique<rpc_test_server>(server_config{}, test_methods());
  client c(ioc.get_executor(), options_for(server->port()));
  int ok = 0, finished = 0;
  for (int i = 0; i < 10; ++i) {
    asio::co_spawn(
        ioc,
        [&]() -> awaitable<void> {
          auto r = co_await c.call(m::sleep, u32_payload(300));
          ok += r.has_value();
          ++finished;
        },
        asio::detached);
  }
  // Let the requests reach the server, then stop it while they sleep.
  auto until = std::chrono::steady_clock::now() + 100ms;
  while (std::chrono::steady_clock::now() < until) ioc.run_one_for(10ms);
  std::thread stopper([&] { server.reset(); });
  run_until(ioc, [&] { return finished == 10; });
  stopper.join();
  EXPECT_EQ(ok, 10) << "requests read before the stop are answered";
  c.close();
  ioc.poll();
}

TEST(RpcClientServer, IdleConnectionsAreClosedAndTheClientReconnects) {
  server_config cfg;
  cfg.idle_timeout = 150ms;
  rpc_test_server server(cfg, test_methods());
  sync_client c(options_for(server.port()));
  ASSERT_TRUE(c.call(m::echo, text("a")));
  std::this_thread::sleep_for(500ms);
  auto r = c.call(m::echo, text("b"));
  ASSERT_TRUE(r) << r.error().describe();
  EXPECT_EQ(c.async().connects(), 2u);
}

// ---- raw frames: what a well-behaved client never sends ----

outbound_frame request_frame(uint16_t method, uint64_t correlation, bytes payload) {
  frame_header h;
  h.method = method;
  h.correlation = correlation;
  return make_frame(h, std::move(payload), 0);
}

TEST(RpcRawFrames, AnUnknownVersionGetsAnErrorFrameAndTheConnectionGoesOn) {
  rpc_test_server server({}, test_methods());
  raw_connection conn(server.port());
  frame_header h;
  h.version = 9;
  h.method = m::echo;
  h.correlation = 41;
  auto f = make_frame(h, text("from the future"), 0);
  conn.send(f);
  auto answer = conn.receive();
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->h.correlation, 41u);
  EXPECT_TRUE(answer->h.is_response());
  EXPECT_TRUE(answer->h.is_error());
  auto e = decode_error(answer->payload.span());
  EXPECT_EQ(e.code, status::unsupported_version);
  EXPECT_EQ(e.message, "unsupported protocol version 9; this server speaks version 1");
  conn.send(request_frame(m::echo, 42, text("v1")));
  answer = conn.receive();
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->h.correlation, 42u);
  EXPECT_FALSE(answer->h.is_error());
  EXPECT_EQ(as_text(answer->payload), "v1");
}

TEST(RpcRawFrames, AnUnknownMethodIsNamedInTheErrorFrame) {
  rpc_test_server server({}, test_methods());
  raw_connection conn(server.port());
  conn.send(request_frame(0x01ab, 5, text("replicate me")));
  auto answer = conn.receive();
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->h.correlation, 5u);
  EXPECT_EQ(answer->h.method, 0x01ab);
  auto e = decode_error(answer->payload.span());
  EXPECT_EQ(e.code, status::unknown_method);
  EXPECT_EQ(e.message, "unknown method 0x01ab");
}

TEST(RpcRawFrames, APayloadChecksumMismatchIsAnsweredAndTheConnectionGoesOn) {
  rpc_test_server server({}, test_methods());
  raw_connection conn(server.port());
  auto f = request_frame(m::echo, 8, text("payload"));
  f.payload[0] = std::byte{'P'};
  conn.send(f);
  auto answer = conn.receive();
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->h.correlation, 8u);
  EXPECT_EQ(decode_error(answer->payload.span()).code, status::bad_frame);
  conn.send(request_frame(m::echo, 9, text("fine")));
  answer = conn.receive();
  ASSERT_TRUE(answer);
  EXPECT_EQ(as_text(answer->payload), "fine");
}

TEST(RpcRawFrames, ABrokenHeaderIsAnsweredOnTheConnectionThenItCloses) {
  rpc_test_server server({}, test_methods());
  for (int variant = 0; variant < 2; ++variant) {
    raw_connection conn(server.port());
    auto f = request_frame(m::echo, 3, text("x"));
    if (variant == 0) {
      f.header[0] = std::byte{'X'};  // bad magic
    } else {
      f.header[10] ^= std::byte{1};  // header CRC mismatch
    }
    conn.send(f);
    auto answer = conn.receive();
    ASSERT_TRUE(answer) << variant;
    EXPECT_EQ(answer->h.correlation, 0u) << "about the connection, not a request";
    auto e = decode_error(answer->payload.span());
    EXPECT_EQ(e.code, status::bad_frame);
    EXPECT_NE(e.message.find("closing the connection"), std::string::npos) << e.message;
    EXPECT_TRUE(conn.closed_by_peer());
  }
}

TEST(RpcRawFrames, BadFlagsAndResponseFramesAreRefused) {
  rpc_test_server server({}, test_methods());
  raw_connection conn(server.port());
  frame_header h;
  h.method = m::echo;
  h.correlation = 11;
  h.flags = 0x40;
  conn.send(make_frame(h, text("?"), 0));
  auto answer = conn.receive();
  ASSERT_TRUE(answer);
  EXPECT_EQ(decode_error(answer->payload.span()).code, status::bad_frame);
  h.flags = flags::response;
  h.correlation = 12;
  conn.send(make_frame(h, text("?"), 0));
  answer = conn.receive();
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->h.correlation, 12u);
  EXPECT_EQ(decode_error(answer->payload.span()).code, status::bad_frame);
}

TEST(RpcRawFrames, ASilentPayloadHitsTheBodyTimeout) {
  server_config cfg;
  cfg.body_timeout = 100ms;
  rpc_test_server server(cfg, test_methods());
  raw_connection conn(server.port(), 3s);
  auto f = request_frame(m::echo, 1, bytes(1000));
  conn.send(f.header.data(), f.header.size());
  conn.send(f.payload.data(), 10);  // and then nothing
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_FALSE(conn.receive());
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
}

TEST(RpcRawFrames, ConnectionsAreSpreadOverCores) {
  rpc_test_server server({}, test_methods());
  std::set<uint32_t> cores;
  for (int i = 0; i < 32 && cores.size() < 2; ++i) {
    sync_client c(options_for(server.port()));
    auto r = c.call(m::core, {});
    ASSERT_TRUE(r);
    cores.insert(as_u32(*r));
  }
  EXPECT_EQ(cores.size(), 2u) << "SO_REUSEPORT: every core accepts";
}

}  // namespace
}  // namespace shoal::rpc
