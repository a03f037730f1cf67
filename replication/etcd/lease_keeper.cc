#include "replication/etcd/lease_keeper.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include "engine/common/assert.h"
#include "engine/common/logger.h"

namespace shoal::etcd {

namespace {

spdlog::logger& log() {
  static auto& l = logging::get("etcd");
  return l;
}

constexpr std::chrono::milliseconds kRetry{200};

}  // namespace

lease_keeper::lease_keeper(client& c, lease_grant g, clock::time_point sent)
    : client_(c), id_(g.id), ttl_(g.ttl), valid_until_(sent + g.ttl) {}

lease_keeper::~lease_keeper() {
  SHOAL_ASSERT(done_.is_set(), "an etcd lease keeper destroyed before stop()");
}

awaitable<result<std::unique_ptr<lease_keeper>>> lease_keeper::start(client& c,
                                                                     std::chrono::seconds ttl) {
  const auto sent = clock::now();
  auto g = co_await c.grant_lease(ttl);
  if (!g) co_return g.error();
  std::unique_ptr<lease_keeper> k(new lease_keeper(c, *g, sent));
  asio::co_spawn(co_await asio::this_coro::executor, k->run(), asio::detached);
  co_return std::move(k);
}

awaitable<void> lease_keeper::run() {
  const auto period = std::chrono::duration_cast<clock::duration>(ttl_) / 3;
  auto next = clock::now() + period;
  while (!stopping_) {
    const auto now = clock::now();
    if (next > now) (void)co_await wake_.wait(next - now);
    if (stopping_) break;
    const auto sent = clock::now();
    if (sent >= valid_until_) {
      log().warn("etcd lease {:x} lapsed: no refresh acknowledged for {} s", id_, ttl_.count());
      break;
    }
    auto r = co_await client_.keep_alive(id_);
    if (r) {
      valid_until_ = std::max(valid_until_, sent + *r);
      if (on_validity_) on_validity_(valid_until_);
      ++refreshes_;
      next = sent + period;
      continue;
    }
    if (r.error() == errc::lease_not_found) {
      log().warn("etcd lease {:x}: etcd no longer has it", id_);
      break;
    }
    log().warn(
        "etcd lease {:x}: refresh failed ({}); {} ms of validity left", id_, r.error().message(),
        std::chrono::duration_cast<std::chrono::milliseconds>(valid_until_ - clock::now()).count());
    next = clock::now() + kRetry;
  }
  if (!stopping_) {
    valid_until_ = std::min(valid_until_, clock::now());
    if (on_validity_) on_validity_(valid_until_);
    lost_.set();
  }
  done_.set();
}

awaitable<void> lease_keeper::stop(bool revoke) {
  stopping_ = true;
  wake_.set();
  co_await done_.wait();
  if (revoke && !lost_.is_set()) {
    if (auto r = co_await client_.revoke_lease(id_); !r)
      log().warn("etcd lease {:x}: revoke failed ({})", id_, r.error().message());
  }
  valid_until_ = std::min(valid_until_, clock::now());
  if (on_validity_) on_validity_(valid_until_);
  lost_.set();
}

}  // namespace shoal::etcd
