// shoald with TLS and API keys, as processes (issue #8): bad security settings exit 2 naming the
// setting (and never echo a key); a two-host static cluster whose hosts speak TLS and present
// the read-write key to each other ships its log, so durability=replicated writes are
// acknowledged; a follower holding another key refuses the leader's stream, so such writes are
// not acknowledged and the follower gets nothing; and the real Qdrant JS client works over https
// with an API key (tests/clients/secure.mjs).

#include <cstdlib>
#include <unistd.h>

#include <gtest/gtest.h>
#include <simdjson.h>

#include "tests/integration/points_support.h"
#include "tests/integration/shoald_fixture.h"
#include "tests/support/etcd_process.h"  // free_port
#include "tests/support/https_client.h"
#include "tests/support/test_pki.h"

namespace shoal {
namespace {

using namespace std::chrono_literals;
using boost::beast::http::verb;

constexpr const char* kKey = "cluster-key-0123456789abcdef";
constexpr const char* kReadKey = "reader-key-0123456789abcdef";

std::map<std::string, std::string> with(const std::string& key) {
  return {{"api-key", key}};
}

struct host {
  std::string id;
  uint16_t http = 0;
  uint16_t rpc = 0;
  std::unique_ptr<test::shoald_instance> proc;
};

/// Two TLS hosts of a static cluster; `keys[i]` is host i's read-write key.
struct secure_pair {
  secure_pair(const test::tmpdir& dir, const test::test_pki& pki, std::array<std::string, 2> keys) {
    std::string peers;
    for (size_t i = 0; i < 2; ++i) {
      host h;
      h.id = std::string(1, static_cast<char>('a' + i));
      h.http = test::free_port();
      h.rpc = test::free_port();
      peers += (i ? "," : "") + h.id + "=127.0.0.1:" + std::to_string(h.rpc) + "/" +
               std::to_string(h.http);
      hosts.push_back(std::move(h));
    }
    for (size_t i = 0; i < 2; ++i) {
      auto& h = hosts[i];
      auto logs = dir.path() / ("logs-" + h.id);
      std::filesystem::create_directories(logs);
      h.proc = std::make_unique<test::shoald_instance>(
          dir.path() / h.id, logs,
          std::vector<std::string>{"--node-id", h.id, "--peers", peers, "--tls-cert", pki.cert(),
                                   "--tls-key", pki.key(), "--tls-ca", pki.ca(), "--api-key",
                                   keys[i], "--read-only-api-key", kReadKey,
                                   "--replication.ack-timeout", "3s"});
      h.proc->set_ports(h.http, h.rpc);
    }
  }
  ~secure_pair() {
    for (auto& h : hosts) h.proc->kill();
  }
  std::vector<host> hosts;
};

const char* kCollection = R"({"vectors":{"size":4,"distance":"Cosine"},"shard_number":2})";

uint64_t count_over_tls(uint16_t port, const std::string& ca) {
  test::https_client c(port, ca);
  auto r =
      c.request(verb::post, "/collections/docs/points/count", with(kReadKey), R"({"exact":true})");
  if (r.status != 200) return UINT64_MAX;
  simdjson::dom::parser p;
  return uint64_t(p.parse(r.body)["result"]["count"]);
}

TEST(SecureShoald, BadSecuritySettingsExitWith2) {
  test::tmpdir dir;
  test::test_pki pki;
  auto run = [&](std::vector<std::string> args) {
    args.insert(args.end(), {"--data-dir", (dir / "data").string()});
    test::child_process p(test::shoald_binary(), args, dir / "bad.log");
    auto code = p.wait_exit(20s);
    return std::pair{code.value_or(-1), p.log()};
  };
  auto [c1, l1] = run({"--tls-ca", pki.ca()});
  EXPECT_EQ(c1, 2);
  EXPECT_NE(l1.find("tls-ca"), std::string::npos) << l1;
  auto [c2, l2] = run({"--tls-cert", "/nonexistent/cert.pem", "--tls-key", pki.key()});
  EXPECT_EQ(c2, 2);
  EXPECT_NE(l2.find("/nonexistent/cert.pem"), std::string::npos) << l2;
  auto [c3, l3] = run({"--tls-cert", pki.cert()});
  EXPECT_EQ(c3, 2);
  EXPECT_NE(l3.find("tls-key"), std::string::npos) << l3;
  auto [c4, l4] = run({"--api-key", "short-secret"});
  EXPECT_EQ(c4, 2);
  EXPECT_NE(l4.find("api-key"), std::string::npos) << l4;
  EXPECT_EQ(l4.find("short-secret"), std::string::npos) << "a key must never be echoed: " << l4;
  auto [c5, l5] = run({"--api-key", kKey, "--read-only-api-key", kKey});
  EXPECT_EQ(c5, 2);
  EXPECT_NE(l5.find("must differ"), std::string::npos) << l5;
}

TEST(SecureCluster, HostsShipOverTlsWithTheirKey) {
  test::tmpdir dir;
  test::test_pki pki;
  secure_pair pair(dir, pki, {kKey, kKey});
  for (auto& h : pair.hosts) ASSERT_TRUE(h.proc->start()) << h.proc->log();
  for (auto& h : pair.hosts) {
    test::https_client c(h.http, pki.ca());
    ASSERT_EQ(c.request(verb::put, "/collections/docs", with(kKey), kCollection).status, 200u);
  }
  // The leader takes writes; the follower answers 421.
  host* leader = nullptr;
  for (auto& h : pair.hosts) {
    test::https_client c(h.http, pki.ca());
    // A real point: a follower might take an empty batch as the no-op it is.
    auto r = c.request(verb::put, "/collections/docs/points?wait=true", with(kKey),
                       test::points_body(100000, 100001));
    if (r.status == 200) leader = &h;
  }
  ASSERT_NE(leader, nullptr);
  auto& follower = leader == &pair.hosts[0] ? pair.hosts[1] : pair.hosts[0];

  // Replicated writes are acknowledged only once the follower holds them: the stream works.
  test::https_client lc(leader->http, pki.ca());
  for (uint64_t b = 0; b < 5; ++b) {
    auto r = lc.request(verb::put, "/collections/docs/points?wait=true&durability=replicated",
                        with(kKey), test::points_body(b * 200, b * 200 + 200));
    ASSERT_EQ(r.status, 200u) << r.body;
  }
  uint64_t seen = 0;
  for (int i = 0; i < 100 && (seen = count_over_tls(follower.http, pki.ca())) != 1001; ++i) {
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_EQ(seen, 1001u);

  // Keys still apply on both hosts: none 401, the read-only key cannot write, probes are open.
  test::https_client fc(follower.http, pki.ca());
  auto misdirected = fc.request(verb::put, "/collections/docs/points?wait=true", with(kKey),
                                test::points_body(5000, 5001));
  EXPECT_EQ(misdirected.status, 421u);
  // The leader's address is given with the scheme it serves.
  EXPECT_NE(misdirected.body.find("https://127.0.0.1:" + std::to_string(leader->http)),
            std::string::npos)
      << misdirected.body;
  test::https_client anon(leader->http, pki.ca());
  EXPECT_EQ(anon.request(verb::get, "/collections/docs").status, 401u);
  test::https_client ro(leader->http, pki.ca());
  EXPECT_EQ(ro.request(verb::put, "/collections/docs/points?wait=true", with(kReadKey),
                       test::points_body(6000, 6001))
                .status,
            403u);
  test::https_client probe(follower.http, pki.ca());
  EXPECT_EQ(probe.request(verb::get, "/readyz").status, 200u);

  // shoalctl speaks https with a key too; without the key it is refused.
  auto ctl = test::binary_dir() / "shoalctl";
  auto url = "https://127.0.0.1:" + std::to_string(leader->http);
  auto [code, out] = test::run_to_completion(
      ctl, {"--url", url, "--tls-ca", pki.ca(), "--api-key", kReadKey, "cluster", "status"},
      dir.path() / "ctl.log");
  EXPECT_EQ(code, 0) << out;
  EXPECT_NE(out.find("this is node " + leader->id), std::string::npos) << out;
  auto [denied_code, denied_out] = test::run_to_completion(
      ctl, {"--url", url, "--tls-ca", pki.ca(), "collections"}, dir.path() / "ctl2.log");
  EXPECT_NE(denied_code, 0) << denied_out;
  EXPECT_NE(denied_out.find("401"), std::string::npos) << denied_out;
}

TEST(SecureCluster, AFollowerWithAnotherKeyRefusesTheStream) {
  test::tmpdir dir;
  test::test_pki pki;
  secure_pair pair(dir, pki, {kKey, std::string("other-key-0123456789abcdef")});
  for (auto& h : pair.hosts) ASSERT_TRUE(h.proc->start()) << h.proc->log();
  const std::array<std::string, 2> keys = {kKey, "other-key-0123456789abcdef"};
  for (size_t i = 0; i < 2; ++i) {
    test::https_client c(pair.hosts[i].http, pki.ca());
    ASSERT_EQ(c.request(verb::put, "/collections/docs", with(keys[i]), kCollection).status, 200u);
  }
  size_t leader = 2;
  for (size_t i = 0; i < 2; ++i) {
    test::https_client c(pair.hosts[i].http, pki.ca());
    if (c.request(verb::put, "/collections/docs/points?wait=true", with(keys[i]),
                  test::points_body(100000, 100001))
            .status == 200) {
      leader = i;
    }
  }
  ASSERT_LT(leader, 2u);
  size_t follower = 1 - leader;
  // The leader's stream is refused (unauthenticated): a replicated write is not acknowledged.
  test::https_client lc(pair.hosts[leader].http, pki.ca());
  auto r = lc.request(verb::put, "/collections/docs/points?wait=true&durability=replicated",
                      with(keys[leader]), test::points_body(0, 10));
  EXPECT_NE(r.status, 200u) << r.body;
  EXPECT_EQ(count_over_tls(pair.hosts[follower].http, pki.ca()), 0u);
}

TEST(SecureShoald, QdrantJsClientOverHttpsWithApiKeys) {
  auto clients = test::source_dir() / "tests/clients";
  auto node = test::find_on_path("node");
  ASSERT_FALSE(node.empty()) << "node is not installed: run `make deps` (Debian: nodejs npm)";
  ASSERT_TRUE(std::filesystem::exists(clients / "node_modules/@qdrant/js-client-rest/package.json"))
      << "the npm clients are not installed in " << clients << ": run `make deps`";
  test::tmpdir dir;
  test::test_pki pki;
  test::shoald_instance server(dir / "data", dir.path(),
                               {"--tls-cert", pki.cert(), "--tls-key", pki.key(), "--api-key", kKey,
                                "--read-only-api-key", kReadKey});
  ASSERT_TRUE(server.start()) << server.log();
  // Node trusts the test CA through NODE_EXTRA_CA_CERTS (read once at its start).
  std::string sh = "NODE_EXTRA_CA_CERTS='" + pki.ca() + "' exec '" + node.string() + "' '" +
                   (clients / "secure.mjs").string() +
                   "' --url https://127.0.0.1:" + std::to_string(server.port()) + " --key " + kKey +
                   " --read-key " + kReadKey;
  test::child_process script("/bin/sh", {"-c", sh}, dir / "secure.log", clients);
  auto code = script.wait_exit(120s);
  ASSERT_TRUE(code.has_value()) << "secure.mjs did not finish in 120 s:\n" << script.log();
  EXPECT_EQ(*code, 0) << "secure.mjs failed:\n"
                      << script.log() << "\n--- shoald log ---\n"
                      << server.log();
  EXPECT_NE(script.log().find("secure: all"), std::string::npos) << script.log();
}

}  // namespace
}  // namespace shoal
