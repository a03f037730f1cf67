// leader_replicator::stop() and the writes waiting in wait_replicated (found by tests/chaos: a
// leader deposed while `replicated` writes waited crashed in wait_replicated). The shard
// destroys a replicator right after stop() returns (shard::set_replicator), so stop() must not
// return while a wait is still inside: a woken waiter resumes later on the core, and resuming
// into a destroyed replicator read freed memory.
#include <gtest/gtest.h>

#include "engine/shard/errc.h"
#include "engine/shard/shard.h"
#include "replication/leader_replicator.h"
#include "tests/support/runtime_fixture.h"
#include "tests/support/tmpdir.h"

namespace shoal::repl {
namespace {

using namespace std::chrono_literals;

shard::shard_options options(const std::filesystem::path& dir) {
  auto c = std::make_shared<shard::collection_config>();
  c->name = "test";
  c->named_vectors = true;
  shard::vector_params p;
  p.size = 4;
  p.metric = index::metric_kind::cosine;
  p.kind = index::index_kind::flat;
  c->vectors.emplace_back("a", p);
  shard::shard_options o;
  o.dir = dir;
  o.config = c;
  o.snapshot_on_close = false;
  return o;
}

struct wait_outcome {
  bool done = false;
  bool closed = false;
};

awaitable<void> wait_for(leader_replicator* r, wait_outcome* out) {
  auto x = co_await r->wait_replicated(1);
  out->done = true;
  out->closed = !x && x.error() == shard::errc::closed;
}

TEST(LeaderReplicatorStop, ReturnsOnlyOnceNoWaitIsLeft) {
  test::tmpdir dir;
  test::run_on_runtime(1, [&]() -> awaitable<void> {
    auto s = co_await shard::shard::open(options(dir.path()));
    CO_ASSERT_TRUE(s);
    replicator_options o;
    o.min_acks = 1;
    o.ack_timeout = 10s;
    // One follower, never started: nothing acknowledges, so writes wait; stopping a shipper
    // that never ran returns at once (as one whose stream already ended does).
    auto r = std::make_unique<leader_replicator>(
        **s, "test", 0, 1, std::vector<follower_address>{{"f", "127.0.0.1", 1}}, o);
    wait_outcome first, second;
    auto ex = co_await asio::this_coro::executor;
    asio::co_spawn(ex, wait_for(r.get(), &first), asio::detached);
    asio::co_spawn(ex, wait_for(r.get(), &second), asio::detached);
    co_await test::sleep_for(20ms);
    EXPECT_FALSE(first.done);
    co_await r->stop();
    EXPECT_TRUE(first.done && second.done) << "stop() returned while writes still waited in it";
    EXPECT_TRUE(first.closed && second.closed);
    r.reset();
    co_await test::sleep_for(20ms);
    co_await (*s)->close();
  });
}

}  // namespace
}  // namespace shoal::repl
