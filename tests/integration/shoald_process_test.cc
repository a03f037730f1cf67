// shoald as a black box: start it, talk HTTP to it, stop it with a signal, feed it bad input.
#include <fstream>
#include <signal.h>

#include <gtest/gtest.h>

#include "tests/support/child_process.h"
#include "tests/support/http_client.h"
#include "tests/support/tmpdir.h"

namespace shoal {
namespace {

using namespace std::chrono_literals;
using test::child_process;
using test::http_client;

std::filesystem::path shoald() {
  return test::binary_dir() / "shoald";
}

struct running_shoald {
  running_shoald(const test::tmpdir& dir, std::vector<std::string> args)
      : process(shoald(), with_defaults(dir, std::move(args)), dir / "shoald.log", dir.path()) {
    auto p = process.wait_for_log(R"(HTTP listening on 127\.0\.0\.1:(\d+))", 20s);
    if (!p) throw std::runtime_error("shoald did not start:\n" + process.log());
    port = static_cast<uint16_t>(std::stoi(*p));
    // HTTP is up before the collections are loaded; ready comes after.
    if (!process.wait_for_log("shoald ready", 20s)) {
      throw std::runtime_error("shoald did not become ready:\n" + process.log());
    }
  }
  static std::vector<std::string> with_defaults(const test::tmpdir&, std::vector<std::string> a) {
    bool has_addr = false;
    for (auto& s : a) has_addr |= s == "--http-addr";
    if (!has_addr) a.insert(a.end(), {"--http-addr", "127.0.0.1:0"});
    bool has_rpc = false;
    for (auto& s : a) has_rpc |= s == "--rpc-addr";
    if (!has_rpc) a.insert(a.end(), {"--rpc-addr", "127.0.0.1:0"});
    return a;
  }
  child_process process;
  uint16_t port = 0;
};

TEST(Shoald, ServesServiceEndpointsAndStopsCleanlyOnSigterm) {
  test::tmpdir dir;
  running_shoald s(dir, {});
  http_client c(s.port);
  auto health = c.get("/healthz");
  EXPECT_EQ(health.status, 200u);
  EXPECT_EQ(health.body, "healthz check passed");
  EXPECT_EQ(c.get("/livez").status, 200u);
  auto ready = c.get("/readyz");
  EXPECT_EQ(ready.status, 200u);
  EXPECT_EQ(ready.body, "all shards are ready");
  auto root = c.get("/");
  EXPECT_EQ(root.status, 200u);
  EXPECT_NE(root.body.find(R"("title":"shoal - vector search engine","version":"1.)"),
            std::string::npos)
      << root.body;
  EXPECT_TRUE(std::filesystem::exists(dir / "shoal-data/LOCK")) << "default data dir ./shoal-data";

  s.process.signal(SIGTERM);
  auto code = s.process.wait_exit(10s);
  ASSERT_TRUE(code.has_value()) << "shoald did not exit after SIGTERM";
  EXPECT_EQ(*code, 0) << s.process.log();
  EXPECT_NE(s.process.log().find("shoald stopped"), std::string::npos);
}

TEST(Shoald, LoadIsServedByEveryCoreAndMetricsShowIt) {
  test::tmpdir dir;
  running_shoald s(dir, {"--cores", "2"});
  for (int conn = 0; conn < 32; ++conn) {
    http_client c(s.port);
    for (int i = 0; i < 5; ++i) ASSERT_EQ(c.get("/healthz").status, 200u);
  }
  http_client c(s.port);
  auto metrics = c.get("/metrics");
  ASSERT_EQ(metrics.status, 200u);
  EXPECT_NE(metrics.header("content-type").find("text/plain"), std::string::npos);
  for (std::string core : {"0", "1"}) {
    auto key =
        "shoal_http_requests_total{core=\"" + core + R"(",route="GET /healthz",status="200"})";
    EXPECT_NE(metrics.body.find(key), std::string::npos) << "no requests served on core " << core;
  }
  EXPECT_NE(metrics.body.find("# TYPE shoal_http_request_duration_seconds histogram"),
            std::string::npos);
  s.process.signal(SIGINT);
  EXPECT_EQ(s.process.wait_exit(10s), 0);
}

TEST(Shoald, InvalidSettingsExitWithCode2AndSayWhatIsWrong) {
  test::tmpdir dir;
  struct bad_case {
    std::vector<std::string> args;
    std::string expected;
  };
  std::vector<bad_case> cases = {
      {{"--cores", "lots"}, "invalid value 'lots' for cores"},
      {{"--cores", "100000"}, "for cores: expected 0 (all) or a number of cores"},
      {{"--http-addr", "nowhere"}, "invalid value 'nowhere' for http-addr: expected HOST:PORT"},
      {{"--http-addr", "127.0.0.1:99999"}, "port '99999' is not a number from 0 to 65535"},
      {{"--http.body-limit", "12parsecs"}, "expected a size such as"},
      {{"--http.idle-timeout", "10"}, "expected a positive duration"},
      {{"--log-level", "chatty"}, "expected trace, debug, info"},
      {{"--no-such-flag"}, "unrecognised option '--no-such-flag'"},
      {{"--config", (dir / "missing.conf").string()}, "cannot read config file"},
  };
  for (auto& c : cases) {
    auto [code, out] = test::run_to_completion(shoald(), c.args, dir / "out.log");
    EXPECT_EQ(code, 2) << c.args[0] << ": " << out;
    EXPECT_NE(out.find(c.expected), std::string::npos) << c.args[0] << ": " << out;
  }
  std::ofstream(dir / "bad.conf") << "# a comment\n[http]\nidle-timeout = 5s\nno-such-key = 1\n";
  auto [code, out] =
      test::run_to_completion(shoald(), {"--config", (dir / "bad.conf").string()}, dir / "out.log");
  EXPECT_EQ(code, 2);
  EXPECT_NE(out.find("bad.conf"), std::string::npos) << out;
  EXPECT_NE(out.find("http.no-such-key"), std::string::npos) << out;

  auto [help_code, help] = test::run_to_completion(shoald(), {"--help"}, dir / "out.log");
  EXPECT_EQ(help_code, 0);
  EXPECT_NE(help.find("--http.idle-timeout"), std::string::npos);
}

TEST(Shoald, ConfigFileIsReadAndFlagsOverrideIt) {
  test::tmpdir dir;
  std::ofstream(dir / "shoald.conf") << "log-level = debug\ncores = 1\n[http]\n"
                                        "idle-timeout = 250ms\npipeline-limit = 4\n";
  running_shoald s(dir, {"--config", (dir / "shoald.conf").string(), "--http.idle-timeout", "7s"});
  auto log = s.process.log();
  EXPECT_NE(log.find("log-level=debug"), std::string::npos) << log;
  EXPECT_NE(log.find("cores=1"), std::string::npos);
  EXPECT_NE(log.find("http.pipeline-limit=4"), std::string::npos);
  EXPECT_NE(log.find("http.idle-timeout=7s"), std::string::npos) << "the flag wins over the file";
  // And it is the effective value: a keep-alive connection outlives the file's 250 ms.
  http_client c(s.port, 2s);
  EXPECT_EQ(c.get("/healthz").status, 200u);
  std::this_thread::sleep_for(600ms);
  EXPECT_EQ(c.get("/healthz").status, 200u);
}

TEST(Shoald, ShoalctlReportsHealthVersionAndMetrics) {
  test::tmpdir dir;
  auto ctl = test::binary_dir() / "shoalctl";
  {
    running_shoald s(dir, {});
    auto addr = "127.0.0.1:" + std::to_string(s.port);
    auto [code, out] = test::run_to_completion(ctl, {"--addr", addr, "health"}, dir / "ctl.log");
    EXPECT_EQ(code, 0) << out;
    EXPECT_NE(out.find("ready: all shards are ready"), std::string::npos) << out;
    std::tie(code, out) =
        test::run_to_completion(ctl, {"--addr", addr, "version"}, dir / "ctl.log");
    EXPECT_EQ(code, 0);
    EXPECT_NE(out.find("shoal_version"), std::string::npos) << out;
    std::tie(code, out) = test::run_to_completion(
        ctl, {"--addr", addr, "metrics", "--filter", "shoal_cores"}, dir / "ctl.log");
    EXPECT_EQ(code, 0);
    EXPECT_NE(out.find("shoal_cores "), std::string::npos) << out;
    EXPECT_EQ(out.find("# HELP"), std::string::npos) << "only the filtered lines";
    s.process.signal(SIGTERM);
    ASSERT_EQ(s.process.wait_exit(10s), 0);
    std::tie(code, out) = test::run_to_completion(
        ctl, {"--addr", addr, "--timeout", "500ms", "health"}, dir / "ctl.log");
    EXPECT_EQ(code, 3) << "a stopped server is unreachable: " << out;
  }
  auto [code, out] = test::run_to_completion(ctl, {"frobnicate"}, dir / "ctl.log");
  EXPECT_EQ(code, 2);
  EXPECT_NE(out.find("unknown command 'frobnicate'"), std::string::npos);
}

TEST(Shoald, TheExampleConfigIsValid) {
  test::tmpdir dir;
  running_shoald s(dir, {"--config", (test::source_dir() / "conf/shoald.example.conf").string(),
                         "--http-addr", "127.0.0.1:0"});
  http_client c(s.port);
  EXPECT_EQ(c.get("/readyz").status, 200u);
}

TEST(Shoald, ASecondProcessOnTheSameDataDirIsRefused) {
  test::tmpdir dir;
  running_shoald first(dir, {});
  auto [code, out] = test::run_to_completion(
      shoald(), {"--http-addr", "127.0.0.1:0", "--data-dir", (dir / "shoal-data").string()},
      dir / "second.log");
  EXPECT_EQ(code, 1);
  EXPECT_NE(out.find("is in use by another shoald process"), std::string::npos) << out;
}

TEST(Shoald, AnAddressInUseIsAClearStartupError) {
  test::tmpdir dir;
  running_shoald first(dir, {"--data-dir", (dir / "a").string()});
  // SO_REUSEPORT lets processes of the same user share a port, so take a port held without it.
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::acceptor holder(ioc, {boost::asio::ip::make_address("127.0.0.1"), 0});
  auto port = holder.local_endpoint().port();
  auto [code, out] = test::run_to_completion(
      shoald(),
      {"--http-addr", "127.0.0.1:" + std::to_string(port), "--data-dir", (dir / "b").string()},
      dir / "second.log");
  EXPECT_EQ(code, 1);
  EXPECT_NE(out.find("cannot listen for HTTP on 127.0.0.1:" + std::to_string(port)),
            std::string::npos)
      << out;
}

// SO_REUSEPORT would let a second shoald of the same user share the first one's ports without an
// error and take half of its connections: clients would reach two servers' data at random.
TEST(Shoald, ASecondShoaldOnTheSamePortsIsRefused) {
  test::tmpdir dir;
  running_shoald first(dir, {"--data-dir", (dir / "a").string()});
  auto rpc = first.process.wait_for_log(R"(RPC listening on 127\.0\.0\.1:(\d+))", 5s);
  ASSERT_TRUE(rpc) << first.process.log();
  auto http_port = std::to_string(first.port);
  auto [code, out] = test::run_to_completion(
      shoald(), {"--http-addr", "127.0.0.1:" + http_port, "--data-dir", (dir / "b").string()},
      dir / "second.log");
  EXPECT_EQ(code, 1);
  EXPECT_NE(out.find("cannot listen for HTTP on 127.0.0.1:" + http_port), std::string::npos) << out;
  auto [rpc_code, rpc_out] =
      test::run_to_completion(shoald(),
                              {"--http-addr", "127.0.0.1:0", "--rpc-addr", "127.0.0.1:" + *rpc,
                               "--data-dir", (dir / "c").string()},
                              dir / "third.log");
  EXPECT_EQ(rpc_code, 1);
  EXPECT_NE(rpc_out.find("cannot listen for RPC on 127.0.0.1:" + *rpc), std::string::npos)
      << rpc_out;
  // The first one still answers every connection.
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(http_client(first.port).get("/livez").status, 200);
  }
}

}  // namespace
}  // namespace shoal
