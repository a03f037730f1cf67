#include "engine/runtime/blocking_pool.h"

#include <pthread.h>
#include <string>

namespace shoal::rt {

std::string_view blocking_reason_name(blocking_reason r) {
  static constexpr std::array<std::string_view, kBlockingReasons> names = {
      "fsync",  "open", "close", "read",     "write",   "unlink",
      "rename", "stat", "mkdir", "truncate", "resolve", "other"};
  return names[static_cast<size_t>(r)];
}

blocking_pool::blocking_pool(unsigned threads) {
  for (unsigned i = 0; i < threads; ++i) {
    threads_.emplace_back([this, i] {
      std::string name = "shoal-block" + std::to_string(i);
      ::pthread_setname_np(::pthread_self(), name.c_str());
      worker();
    });
  }
}

blocking_pool::~blocking_pool() {
  stop();
}

void blocking_pool::stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_ && threads_.empty()) return;
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_) t.join();
  threads_.clear();
  std::lock_guard lock(mu_);
  queue_.clear();
}

size_t blocking_pool::queued() const {
  std::lock_guard lock(mu_);
  return queue_.size();
}

void blocking_pool::enqueue(std::unique_ptr<job> j) {
  {
    std::lock_guard lock(mu_);
    queue_.push_back(std::move(j));
  }
  cv_.notify_one();
}

void blocking_pool::worker() {
  for (;;) {
    std::unique_ptr<job> j;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      j = std::move(queue_.front());
      queue_.pop_front();
    }
    j->run_and_post();
    completed_[static_cast<size_t>(j->reason)].fetch_add(1, std::memory_order_relaxed);
  }
}

}  // namespace shoal::rt
