#include "replication/leader_replicator.h"

#include "engine/shard/errc.h"

namespace shoal::repl {

leader_replicator::leader_replicator(shard::shard& s, std::string collection, uint32_t shard_id,
                                     uint64_t term, std::vector<follower_address> followers,
                                     replicator_options o, std::function<void(uint64_t)> on_deposed)
    : term_(term), addresses_(std::move(followers)), o_(std::move(o)) {
  for (auto& f : addresses_) {
    shipper_options so = o_.shipping;
    so.host = f.host;
    so.port = f.port;
    so.follower_id = f.id;
    shippers_.push_back(std::make_unique<log_shipper>(
        s, collection, shard_id, term, so, [this](uint64_t) { on_ack(); }, on_deposed));
  }
}

leader_replicator::~leader_replicator() = default;

void leader_replicator::start() {
  for (auto& s : shippers_) s->start();
}

void leader_replicator::on_ack() {
  acked_.set();  // wakes every waiter; later waits block again
  acked_.reset();
}

size_t leader_replicator::acks_at(uint64_t lsn) const {
  size_t n = 0;
  for (auto& s : shippers_) n += s->status().acked_durable_lsn >= lsn ? 1 : 0;
  return n;
}

awaitable<result<void>> leader_replicator::wait_replicated(uint64_t lsn) {
  const size_t need = std::max<size_t>(1, o_.min_acks);
  if (shippers_.size() < need) co_return shard::errc::replicas_missing;
  // stop() returns only once no wait is left in here: the shard destroys a stopped replicator
  // right after, and a woken waiter resumes later on this core.
  ++waiting_;
  struct leave {
    leader_replicator& r;
    ~leave() {
      if (--r.waiting_ == 0 && r.stopped_) r.drained_.set();
    }
  } on_exit{*this};
  auto deadline = rt::clock::now() + o_.ack_timeout;
  for (;;) {
    if (stopped_) co_return shard::errc::closed;
    if (acks_at(lsn) >= need) break;
    auto now = rt::clock::now();
    if (now >= deadline) co_return shard::errc::replication_timeout;
    (void)co_await acked_.wait(deadline - now);
  }
  co_return result<void>{};
}

uint64_t leader_replicator::retention_floor() const {
  uint64_t floor = UINT64_MAX;
  for (auto& s : shippers_) floor = std::min(floor, s->status().acked_durable_lsn + 1);
  return floor;
}

awaitable<void> leader_replicator::stop() {
  stopped_ = true;
  on_ack();  // waiters see `stopped_`
  for (auto& s : shippers_) co_await s->stop();
  while (waiting_ > 0) co_await drained_.wait();
}

std::vector<shipper_status> leader_replicator::statuses() const {
  std::vector<shipper_status> out;
  for (auto& s : shippers_) out.push_back(s->status());
  return out;
}

std::vector<shipper_lag> leader_replicator::lags() const {
  std::vector<shipper_lag> out;
  for (auto& s : shippers_) out.push_back(s->lag());
  return out;
}

}  // namespace shoal::repl
