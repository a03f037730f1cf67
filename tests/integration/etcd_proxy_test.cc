// The etcd fault proxy (tests/support/etcd_proxy.h) in front of a real etcd: it passes requests
// through, delays answers, blackholes, and loses the answer of a chosen request after etcd
// applied it.
#include "tests/support/etcd_proxy.h"

#include <gtest/gtest.h>

#include "engine/common/base64.h"
#include "tests/support/etcd_process.h"
#include "tests/support/tmpdir.h"

namespace shoal::test {
namespace {

using namespace std::chrono_literals;
using boost::beast::http::verb;

std::string put_body(const std::string& key, const std::string& value) {
  return R"({"key":")" + base64_encode(key) + R"(","value":")" + base64_encode(value) + R"("})";
}
std::string get_body(const std::string& key) {
  return R"({"key":")" + base64_encode(key) + R"("})";
}

class EtcdProxyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(etcd_process::binary().empty()) << "etcd is not installed";
    etcd_ = std::make_unique<etcd_process>(dir_ / "etcd");
    proxy_ = std::make_unique<etcd_proxy>("127.0.0.1", etcd_->port());
  }
  /// Whether etcd itself (not through the proxy) holds key = value.
  bool etcd_holds(const std::string& key, const std::string& value) {
    http_client c(etcd_->port(), 2s);
    auto r = c.request(verb::post, "/v3/kv/range", get_body(key));
    return r.status == 200 && r.body.find(base64_encode(value)) != std::string::npos;
  }

  tmpdir dir_;
  std::unique_ptr<etcd_process> etcd_;
  std::unique_ptr<etcd_proxy> proxy_;
};

TEST_F(EtcdProxyTest, PassesRequestsThroughOnAKeptAliveConnection) {
  http_client c(proxy_->port(), 5s);
  for (int i = 0; i < 3; ++i) {
    auto r = c.request(verb::post, "/v3/kv/put", put_body("p", std::to_string(i)));
    EXPECT_EQ(r.status, 200u) << r.body;
  }
  EXPECT_TRUE(etcd_holds("p", "2"));
  EXPECT_EQ(proxy_->requests(), 3u);
}

TEST_F(EtcdProxyTest, DelaysEveryAnswer) {
  http_client c(proxy_->port(), 5s);
  proxy_->set_delay(400ms);
  for (int i = 0; i < 2; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    auto r = c.request(verb::post, "/v3/kv/range", get_body("p"));
    EXPECT_EQ(r.status, 200u);
    EXPECT_GE(std::chrono::steady_clock::now() - t0, 400ms);
  }
  proxy_->pass();
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(c.request(verb::post, "/v3/kv/range", get_body("p")).status, 200u);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 400ms);
}

TEST_F(EtcdProxyTest, ABlackholeNeverAnswers) {
  proxy_->set_blackhole(true);
  http_client c(proxy_->port(), 500ms);
  c.send(verb::post, "/v3/kv/put", put_body("b", "x"));
  EXPECT_FALSE(c.read_reply().has_value());
  EXPECT_FALSE(etcd_holds("b", "x"));
  proxy_->pass();
  http_client after(proxy_->port(), 5s);
  EXPECT_EQ(after.request(verb::post, "/v3/kv/put", put_body("b", "y")).status, 200u);
}

TEST_F(EtcdProxyTest, LosesTheAnswerOfTheChosenRequestAfterEtcdAppliedIt) {
  proxy_->drop_answer_when(etcd_proxy::nth_request("/v3/kv/put", 2));
  http_client c(proxy_->port(), 5s);
  EXPECT_EQ(c.request(verb::post, "/v3/kv/range", get_body("d")).status, 200u);
  EXPECT_EQ(c.request(verb::post, "/v3/kv/put", put_body("d", "1")).status, 200u);
  c.send(verb::post, "/v3/kv/put", put_body("d", "2"));
  EXPECT_TRUE(c.closed_by_peer());
  EXPECT_EQ(proxy_->answers_dropped(), 1u);
  EXPECT_TRUE(etcd_holds("d", "2"));  // applied, though its answer never came
  http_client again(proxy_->port(), 5s);
  EXPECT_EQ(again.request(verb::post, "/v3/kv/put", put_body("d", "3")).status, 200u);
  EXPECT_EQ(proxy_->answers_dropped(), 1u);
}

}  // namespace
}  // namespace shoal::test
