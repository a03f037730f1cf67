// HTTP over TLS and API keys (net/tls, net/auth): what a client without the right key or trust
// gets, and that the server keeps serving everyone else.

#include <boost/beast/http.hpp>
#include <gtest/gtest.h>

#include "net/auth/api_keys.h"
#include "net/tls/context.h"
#include "tests/support/http_client.h"
#include "tests/support/https_client.h"
#include "tests/support/test_pki.h"
#include "tests/unit/net/http_fixture.h"

namespace shoal::test {
namespace {

namespace bhttp = boost::beast::http;

constexpr const char* kWriteKey = "rw-key-0123456789abcdef";
constexpr const char* kReadKey = "ro-key-0123456789abcdef";

void add_test_routes(http::router& r) {
  http::add_service_routes(r, {.not_ready_reason = [] { return std::optional<std::string>(); }});
  auto ok = [](http::request_context&) -> awaitable<http::response> {
    co_return http::plain_text(http::status::ok, "ok");
  };
  r.add(http::verb::get, "/things", ok);                                          // read
  r.add(http::verb::post, "/things", ok);                                         // write
  r.add(http::verb::post, "/things/search", ok, {.access = auth::access::read});  // a POST read
}

http::http_config keyed_config() {
  http::http_config cfg;
  cfg.keys = std::make_shared<const auth::api_keys>(kWriteKey, kReadKey);
  return cfg;
}

TEST(ApiKeys, GrantsByKeyAndComparesWholeKeys) {
  auth::api_keys keys(kWriteKey, kReadKey);
  EXPECT_TRUE(keys.enabled());
  EXPECT_EQ(keys.grant(kWriteKey), auth::access::write);
  EXPECT_EQ(keys.grant(kReadKey), auth::access::read);
  EXPECT_EQ(keys.grant(""), auth::access::open);
  EXPECT_EQ(keys.grant("rw-key-0123456789abcde"), auth::access::open);    // a prefix
  EXPECT_EQ(keys.grant("rw-key-0123456789abcdefX"), auth::access::open);  // longer
  EXPECT_EQ(auth::api_keys().grant(""), auth::access::write);             // no keys: open server
  EXPECT_FALSE(auth::api_keys().enabled());
  EXPECT_EQ(auth::api_keys::from_http("k1", "Bearer k2"), "k1");
  EXPECT_EQ(auth::api_keys::from_http("", "bearer  k2 "), "k2");
  EXPECT_EQ(auth::api_keys::from_http("", "Basic a2V5"), "");
  EXPECT_EQ(auth::api_keys::from_http("", "Bearer"), "");
}

TEST(HttpApiKeys, RequestsNeedTheRightKey) {
  http_fixture server(2, keyed_config(), add_test_routes);
  auto call = [&](bhttp::verb m, const std::string& target,
                  const std::map<std::string, std::string>& headers) {
    http_client c(server.port());
    return c.request(m, target, {}, headers);
  };
  // No key, a wrong key: 401 with a message naming what to send.
  auto none = call(bhttp::verb::get, "/things", {});
  EXPECT_EQ(none.status, 401u);
  EXPECT_NE(none.body.find("api-key"), std::string::npos) << none.body;
  EXPECT_EQ(call(bhttp::verb::get, "/things", {{"api-key", "wrong-key-0123456789"}}).status, 401u);
  EXPECT_EQ(call(bhttp::verb::get, "/nowhere", {}).status, 401u);  // no route map for strangers
  // The read-only key reads (GET and POST searches) and may not write: 403.
  EXPECT_EQ(call(bhttp::verb::get, "/things", {{"api-key", kReadKey}}).status, 200u);
  EXPECT_EQ(call(bhttp::verb::post, "/things/search", {{"api-key", kReadKey}}).status, 200u);
  auto denied = call(bhttp::verb::post, "/things", {{"api-key", kReadKey}});
  EXPECT_EQ(denied.status, 403u);
  EXPECT_NE(denied.body.find("read-only"), std::string::npos) << denied.body;
  // The read-write key does everything, as `api-key` or as a bearer token.
  EXPECT_EQ(call(bhttp::verb::post, "/things", {{"api-key", kWriteKey}}).status, 200u);
  EXPECT_EQ(
      call(bhttp::verb::post, "/things", {{"Authorization", std::string("Bearer ") + kWriteKey}})
          .status,
      200u);
  EXPECT_EQ(
      call(bhttp::verb::get, "/things", {{"Authorization", std::string("Bearer ") + kReadKey}})
          .status,
      200u);
  // Probes stay open; metrics do not.
  EXPECT_EQ(call(bhttp::verb::get, "/healthz", {}).status, 200u);
  EXPECT_EQ(call(bhttp::verb::get, "/livez", {}).status, 200u);
  EXPECT_EQ(call(bhttp::verb::get, "/readyz", {}).status, 200u);
  EXPECT_EQ(call(bhttp::verb::get, "/metrics", {}).status, 401u);
}

TEST(HttpApiKeys, RefusedBeforeTheBodyIsRead) {
  http_fixture server(1, keyed_config(), add_test_routes);
  http_client c(server.port());
  // Announce a large body and send none of it: the 401 comes at once and the connection closes.
  c.send_raw("POST /things HTTP/1.1\r\nHost: x\r\nContent-Length: 900000\r\n\r\n");
  auto r = c.read_reply();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 401u);
  EXPECT_TRUE(c.closed_by_peer());
  // Others are served.
  http_client d(server.port());
  EXPECT_EQ(d.request(bhttp::verb::get, "/things", {}, {{"api-key", kWriteKey}}).status, 200u);
}

struct tls_server {
  test_pki pki;
  http::http_config cfg() const {
    http::http_config c = keyed_config();
    c.tls = *tls::make_server_context({pki.cert(), pki.key()});
    return c;
  }
};

TEST(HttpTls, ServesOverTlsWithKeepAlive) {
  tls_server t;
  http_fixture server(2, t.cfg(), add_test_routes);
  https_client c(server.port(), t.pki.ca());
  for (int i = 0; i < 20; ++i) {
    auto r = c.request(bhttp::verb::get, "/things", {{"api-key", kReadKey}});
    ASSERT_EQ(r.status, 200u);
    EXPECT_EQ(r.body, "ok");
    EXPECT_TRUE(r.keep_alive);
  }
  EXPECT_EQ(c.request(bhttp::verb::post, "/things", {{"api-key", kReadKey}}).status, 403u);
  // The name in the certificate is checked too.
  https_client by_name(server.port(), t.pki.ca(), "localhost");
  EXPECT_EQ(by_name.request(bhttp::verb::get, "/healthz").status, 200u);
}

TEST(HttpTls, StrangersAndPlainTextAreTurnedAwayAndOthersServed) {
  tls_server t;
  http_fixture server(1, t.cfg(), add_test_routes);
  // A client that trusts another CA refuses the server.
  EXPECT_THROW(https_client(server.port(), t.pki.other_ca()), std::runtime_error);
  // A client that expects another name refuses it too.
  EXPECT_THROW(https_client(server.port(), t.pki.ca(), "db.example.org"), std::runtime_error);
  // Plain HTTP to the TLS port gets no HTTP answer: the connection just ends.
  {
    http_client plain(server.port());
    plain.send(bhttp::verb::get, "/healthz");
    EXPECT_FALSE(plain.read_reply().has_value());
  }
  https_client good(server.port(), t.pki.ca());
  EXPECT_EQ(good.request(bhttp::verb::get, "/things", {{"api-key", kWriteKey}}).status, 200u);
}

TEST(HttpTls, ContextErrorsNameTheFile) {
  test_pki pki;
  auto missing = tls::make_server_context({"/nonexistent/cert.pem", pki.key()});
  ASSERT_FALSE(missing.has_value());
  EXPECT_NE(missing.error().find("/nonexistent/cert.pem"), std::string::npos) << missing.error();
  auto swapped = tls::make_server_context({pki.cert(), (pki.dir() / "ca.key").string()});
  ASSERT_FALSE(swapped.has_value());
  EXPECT_NE(swapped.error().find("mismatch"), std::string::npos) << swapped.error();
  auto ca = tls::make_client_context("/nonexistent/ca.pem");
  ASSERT_FALSE(ca.has_value());
  EXPECT_NE(ca.error().find("/nonexistent/ca.pem"), std::string::npos) << ca.error();
}

}  // namespace
}  // namespace shoal::test
