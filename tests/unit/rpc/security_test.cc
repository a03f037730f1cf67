// The binary protocol over TLS and with API keys (net/tls, net/auth; net/README.md,
// "Authentication"): what a client without the right key or trust gets, and that the server
// keeps serving the others.

#include <gtest/gtest.h>

#include "net/auth/api_keys.h"
#include "net/rpc/client.h"
#include "net/rpc/messages.h"
#include "tests/support/test_pki.h"
#include "tests/unit/rpc/rpc_fixture.h"

namespace shoal::rpc {
namespace {

using namespace std::chrono_literals;

constexpr const char* kWriteKey = "rw-key-0123456789abcdef";
constexpr const char* kReadKey = "ro-key-0123456789abcdef";

bytes text(std::string_view s) {
  auto* p = reinterpret_cast<const std::byte*>(s.data());
  return bytes(p, p + s.size());
}

// search is a read, upsert a write (required_access); both echo their payload here.
std::shared_ptr<dispatcher> echo_methods() {
  auto d = std::make_shared<dispatcher>();
  auto echo = [](const request& req) -> awaitable<reply> {
    co_return reply::ok(bytes(req.payload.begin(), req.payload.end()));
  };
  d->add(method::search, echo);
  d->add(method::upsert, echo);
  d->add(method::ping, echo);
  return d;
}

server_config keyed(const test::test_pki* pki) {
  server_config cfg;
  cfg.keys = std::make_shared<const auth::api_keys>(kWriteKey, kReadKey);
  if (pki) cfg.tls = *tls::make_server_context({pki->cert(), pki->key()});
  return cfg;
}

client_options options(uint16_t port, std::string key, tls::context_ptr tls = {}) {
  client_options o;
  o.port = port;
  o.request_timeout = 5s;
  o.backoff_initial = 20ms;
  o.backoff_max = 100ms;
  o.security = {std::move(tls), std::move(key)};
  return o;
}

TEST(RpcApiKeys, MethodsNeedTheRightKey) {
  test::rpc_test_server server(keyed(nullptr), echo_methods());
  {
    sync_client c(options(server.port(), kWriteKey));
    EXPECT_TRUE(c.call(method::upsert, text("w")).has_value());
    EXPECT_TRUE(c.call(method::search, text("r")).has_value());
  }
  {
    sync_client c(options(server.port(), kReadKey));
    auto r = c.call(method::search, text("r"));
    ASSERT_TRUE(r.has_value()) << r.error().describe();
    auto w = c.call(method::upsert, text("w"));
    ASSERT_FALSE(w.has_value());
    EXPECT_EQ(w.error().code, status::forbidden) << w.error().describe();
    EXPECT_NE(w.error().message.find("read-write"), std::string::npos);
    // The connection stays usable after a refusal.
    EXPECT_TRUE(c.call(method::search, text("again")).has_value());
  }
  {
    sync_client c(options(server.port(), ""));
    EXPECT_TRUE(c.call(method::ping, {}).has_value());  // ping is open, like /healthz
    auto r = c.call(method::search, text("r"));
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, status::unauthenticated) << r.error().describe();
  }
  {
    // A wrong key fails the connection at once, not after the whole deadline of retries.
    sync_client c(options(server.port(), "wrong-key-0123456789"));
    auto t0 = std::chrono::steady_clock::now();
    auto r = c.call(method::search, text("r"));
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, status::unauthenticated) << r.error().describe();
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
  }
}

TEST(RpcApiKeys, AWrongKeyOnARawSocketEndsTheConnection) {
  test::rpc_test_server server(keyed(nullptr), echo_methods());
  test::raw_connection raw(server.port());
  frame_header h;
  h.method = method::authenticate;
  h.correlation = 7;
  raw.send(make_frame(h, text("not-the-key-at-all"), 0));
  auto answer = raw.receive();
  ASSERT_TRUE(answer.has_value());
  EXPECT_TRUE(answer->h.is_error());
  EXPECT_EQ(decode_error(answer->payload.span()).code, status::unauthenticated);
  EXPECT_TRUE(raw.closed_by_peer());
}

TEST(RpcTls, CallsOverTlsWithKeys) {
  test::test_pki pki;
  test::rpc_test_server server(keyed(&pki), echo_methods());
  auto trust = *tls::make_client_context(pki.ca());
  sync_client c(options(server.port(), kWriteKey, trust));
  // Many calls in flight over one TLS connection, small and large.
  std::vector<std::string> sent;
  for (int i = 0; i < 50; ++i) {
    auto payload = std::string(static_cast<size_t>(i) * 4099 % 200'000, 'a' + i % 26);
    auto r = c.call(i % 2 ? method::search : method::upsert, text(payload));
    ASSERT_TRUE(r.has_value()) << r.error().describe();
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(r->data()), r->size()), payload);
  }
  EXPECT_EQ(c.async().connects(), 1u);
}

TEST(RpcTls, UntrustedServersAndPlainClientsFail) {
  test::test_pki pki;
  test::rpc_test_server server(keyed(&pki), echo_methods());
  {
    auto other = *tls::make_client_context(pki.other_ca());
    auto o = options(server.port(), kWriteKey, other);
    o.request_timeout = 500ms;
    sync_client c(o);
    auto r = c.call(method::search, text("r"));
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, status::connect_failed);
    EXPECT_NE(r.error().message.find("TLS handshake"), std::string::npos) << r.error().describe();
  }
  {
    auto o = options(server.port(), kWriteKey);  // plain TCP to a TLS server
    o.request_timeout = 500ms;
    sync_client c(o);
    EXPECT_FALSE(c.call(method::search, text("r")).has_value());
  }
  auto trust = *tls::make_client_context(pki.ca());
  sync_client good(options(server.port(), kReadKey, trust));
  EXPECT_TRUE(good.call(method::search, text("still serving")).has_value());
}

}  // namespace
}  // namespace shoal::rpc
