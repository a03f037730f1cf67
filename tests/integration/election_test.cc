// Leadership through etcd (replication/election.h) against a real etcd the test starts: one
// winner per term, terms that only grow (also across an etcd restart), a lapsed lease hands the
// leadership over only after the old holder has stopped holding it, resign hands it over at once.
#include "replication/election.h"

#include <gtest/gtest.h>

#include "engine/runtime/smp.h"
#include "tests/support/etcd_process.h"
#include "tests/support/runtime_fixture.h"
#include "tests/support/tmpdir.h"

namespace shoal::repl {
namespace {

using namespace std::chrono_literals;
using test::run_on_runtime;

class ElectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(test::etcd_process::binary().empty())
        << "etcd is not installed (make deps installs Debian's etcd-server)";
    etcd_ = std::make_unique<test::etcd_process>(dir_ / "etcd");
  }
  std::unique_ptr<etcd::client> make_client() {
    etcd::client_config cfg;
    cfg.endpoints = {etcd_->endpoint()};
    cfg.request_timeout = 2s;
    auto c = etcd::client::create(cfg);
    EXPECT_TRUE(c.has_value());
    return c ? std::move(*c) : nullptr;
  }

  test::tmpdir dir_;
  std::unique_ptr<test::etcd_process> etcd_;
};

TEST(Leadership, EncodesAndRefusesGarbage) {
  auto l = decode_leadership(encode_leadership({"node-a", 7, 0}));
  ASSERT_TRUE(l);
  EXPECT_EQ(l->node, "node-a");
  EXPECT_EQ(l->term, 7u);
  for (auto bad : {"", "{}", "[]", R"({"node":"a"})", R"({"node":"","term":1})",
                   R"({"node":"a","term":0})", R"({"node":"a","term":-1})", "{\"node\":"}) {
    EXPECT_FALSE(decode_leadership(bad)) << bad;
  }
}

TEST_F(ElectionTest, OneWinnerPerTermAndTermsOnlyGrow) {
  run_on_runtime(1, [&]() -> awaitable<void> {
    auto c = make_client();
    auto la = co_await etcd::lease_keeper::start(*c, 5s);
    auto lb = co_await etcd::lease_keeper::start(*c, 5s);
    CO_ASSERT_TRUE(la && lb);
    election a(*c, "/shoal/test", "docs", "a", **la);
    election b(*c, "/shoal/test", "docs", "b", **lb);
    auto nobody = co_await a.current();
    CO_ASSERT_TRUE(nobody);
    EXPECT_EQ(*nobody, (leadership{"", 0, 0}));

    auto wa = co_await a.campaign();
    CO_ASSERT_TRUE(wa && *wa);
    EXPECT_EQ(**wa, 1u);
    auto wb = co_await b.campaign();
    CO_ASSERT_TRUE(wb);
    EXPECT_FALSE(*wb) << "a holds it";
    auto now = co_await b.current();
    CO_ASSERT_TRUE(now);
    EXPECT_EQ(now->node, "a");
    EXPECT_EQ(now->term, 1u);

    // Resigning hands over at once; the next term is 2, never 1 again.
    CO_ASSERT_TRUE(co_await b.resign(1));  // not b's: changes nothing
    EXPECT_EQ((co_await b.current())->node, "a");
    CO_ASSERT_TRUE(co_await a.resign(1));
    auto gone = co_await b.current();
    EXPECT_EQ(gone->node, "");
    EXPECT_EQ(gone->term, 1u) << "the last granted term stays";
    wb = co_await b.campaign();
    CO_ASSERT_TRUE(wb && *wb);
    EXPECT_EQ(**wb, 2u);

    // Many candidates at once: exactly one wins.
    CO_ASSERT_TRUE(co_await b.resign(2));
    std::vector<std::unique_ptr<election>> many;
    for (int i = 0; i < 6; ++i) {
      many.push_back(std::make_unique<election>(*c, "/shoal/test", "docs", "n" + std::to_string(i),
                                                i % 2 ? **la : **lb));
    }
    std::vector<result<std::optional<uint64_t>>> won(many.size(), std::optional<uint64_t>{});
    co_await rt::parallel_for(
        many.size(), [&](size_t i) -> awaitable<void> { won[i] = co_await many[i]->campaign(); });
    int winners = 0;
    for (auto& w : won) {
      if (w && *w) {
        ++winners;
        EXPECT_EQ(**w, 3u);
      }
    }
    EXPECT_EQ(winners, 1);
    co_await (*la)->stop(true);
    co_await (*lb)->stop(true);
  });
}

TEST_F(ElectionTest, ALapsedLeaseHandsOverOnlyAfterTheOldLeaderStoppedHolding) {
  run_on_runtime(1, [&]() -> awaitable<void> {
    auto c = make_client();
    auto la = co_await etcd::lease_keeper::start(*c, 1s);
    auto lb = co_await etcd::lease_keeper::start(*c, 1s);
    CO_ASSERT_TRUE(la && lb);
    election a(*c, "/shoal/test", "docs", "a", **la);
    election b(*c, "/shoal/test", "docs", "b", **lb);
    auto wa = co_await a.campaign();
    CO_ASSERT_TRUE(wa && *wa);
    EXPECT_TRUE(a.holds(100ms));
    // a stops refreshing (a partition, a stopped process): b keeps trying until it wins.
    co_await (*la)->stop(false);
    auto t0 = std::chrono::steady_clock::now();
    std::optional<uint64_t> won;
    bool a_held_when_b_won = true;
    while (!won && std::chrono::steady_clock::now() - t0 < 10s) {
      auto r = co_await b.campaign();
      CO_ASSERT_TRUE(r);
      if (*r) {
        won = *r;
        a_held_when_b_won = a.holds(0ms);
        break;
      }
      co_await test::sleep_for(20ms);
    }
    CO_ASSERT_TRUE(won.has_value());
    EXPECT_EQ(*won, 2u);
    EXPECT_FALSE(a_held_when_b_won) << "two leaders at once";
    auto waited = std::chrono::steady_clock::now() - t0;
    EXPECT_LT(waited, 4s) << "a 1 s lease should lapse within a few seconds";
    co_await (*lb)->stop(true);
  });
}

TEST_F(ElectionTest, TermsSurviveAnEtcdRestart) {
  run_on_runtime(1, [&]() -> awaitable<void> {
    auto c = make_client();
    {
      auto l = co_await etcd::lease_keeper::start(*c, 5s);
      CO_ASSERT_TRUE(l);
      election e(*c, "/shoal/test", "docs", "a", **l);
      auto w = co_await e.campaign();
      CO_ASSERT_TRUE(w && *w && **w == 1u);
      CO_ASSERT_TRUE(co_await e.resign(1));
      co_await (*l)->stop(true);
    }
    etcd_->restart();
    std::optional<uint64_t> term;
    for (int i = 0; i < 100 && !term; ++i) {  // until etcd answers again
      auto l = co_await etcd::lease_keeper::start(*c, 5s);
      if (!l) {
        co_await test::sleep_for(50ms);
        continue;
      }
      election e(*c, "/shoal/test", "docs", "b", **l);
      auto w = co_await e.campaign();
      if (w && *w) term = **w;
      co_await (*l)->stop(true);
    }
    CO_ASSERT_TRUE(term.has_value());
    EXPECT_EQ(*term, 2u);
  });
}

}  // namespace
}  // namespace shoal::repl
