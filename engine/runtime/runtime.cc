#include "engine/runtime/runtime.h"

#include <sched.h>

#include "engine/common/assert.h"
#include "engine/common/logger.h"
#include "engine/runtime/blocking_pool.h"
#include "engine/runtime/stall_detector.h"

namespace shoal::rt {
namespace {
std::atomic<runtime*> g_current{nullptr};

std::vector<int> allowed_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  std::vector<int> cpus;
  if (::sched_getaffinity(0, sizeof set, &set) == 0) {
    for (int c = 0; c < CPU_SETSIZE; ++c) {
      if (CPU_ISSET(c, &set)) cpus.push_back(c);
    }
  }
  return cpus;
}
}  // namespace

unsigned runtime::available_cpus() {
  auto n = allowed_cpus().size();
  return n ? static_cast<unsigned>(n) : 1;
}

runtime::runtime(runtime_config cfg) : cfg_(cfg) {
  if (cfg_.cores == 0) cfg_.cores = available_cpus();
  SHOAL_ASSERT(cfg_.channel_depth > 0 && cfg_.group_limit > 0 && cfg_.blocking_per_core > 0,
               "runtime limits must be positive");
  for (unsigned i = 0; i < cfg_.cores; ++i) {
    reactors_.push_back(
        std::make_unique<reactor>(*this, core_id(i), cfg_.group_limit, cfg_.blocking_per_core));
  }
  for (unsigned s = 0; s < cfg_.cores; ++s) {
    for (unsigned t = 0; t < cfg_.cores; ++t) {
      channels_.push_back(s == t ? nullptr : std::make_unique<channel>(cfg_.channel_depth));
    }
  }
  blocking_ = std::make_unique<blocking_pool>(std::max(1u, cfg_.blocking_threads));
  std::vector<reactor*> cores;
  for (auto& r : reactors_) cores.push_back(r.get());
  stall_detector_ = std::make_unique<stall_detector>(std::move(cores), cfg_.stall_threshold);
}

runtime::~runtime() {
  stall_detector_->stop();
  blocking_->stop();
  destroy_pending();
  // Coroutine frames still queued on a core die with its io_context, while every channel and
  // semaphore they may refer to still exists.
  reactors_.clear();
}

runtime& runtime::current() {
  auto* rt = g_current.load(std::memory_order_acquire);
  SHOAL_ASSERT(rt != nullptr, "no runtime is running");
  return *rt;
}

uint64_t runtime::stalls_reported() const {
  return stall_detector_->reported();
}

void runtime::run(std::function<awaitable<void>()> main) {
  runtime* expected = nullptr;
  SHOAL_ASSERT(g_current.compare_exchange_strong(expected, this), "a runtime is already running");
  auto cpus = allowed_cpus();
  std::vector<std::thread::native_handle_type> handles;
  for (unsigned i = 0; i < core_count(); ++i) {
    std::optional<int> cpu;
    if (cfg_.pin_threads && !cpus.empty()) cpu = cpus[i % cpus.size()];
    reactors_[i]->start(cpu);
    handles.push_back(reactors_[i]->thread_.native_handle());
  }
  stall_detector_->start(std::move(handles));
  logging::get("runtime").info("started {} cores (pinned: {}, cpus allowed: {})", core_count(),
                               cfg_.pin_threads, cpus.size());

  asio::co_spawn(reactors_[0]->context(), std::move(main), [this](std::exception_ptr e) {
    main_error_ = e;
    stop_all();
  });
  for (auto& r : reactors_) r->join();
  stall_detector_->stop();
  g_current.store(nullptr, std::memory_order_release);
  if (main_error_) std::rethrow_exception(std::exchange(main_error_, nullptr));
}

void runtime::stop_all() {
  stopping_.store(true);
  for (auto& r : reactors_) r->request_stop();
}

// Once a message is in a ring it belongs to the other side: the target may run it and send it
// back, and the source completes and deletes it. So whatever these need from it is read first.
void runtime::send_request(smp_message* m) {
  const unsigned source = m->source(), target = m->target();
  ++reactors_[source]->replies_due_;
  SHOAL_ASSERT(channel_between(source, target).requests.push(m),
               "smp request ring {}->{} overflowed despite its units", source, target);
  reactors_[target]->ring_doorbell();
}

void runtime::send_response(smp_message* m) {
  const unsigned source = m->source(), target = m->target();
  SHOAL_ASSERT(channel_between(source, target).responses.push(m),
               "smp response ring {}->{} overflowed", target, source);
  reactors_[source]->ring_doorbell();  // m may be gone already
}

void runtime::post_to(core_id target, std::function<void()> fn) {
  asio::post(reactors_[target.value()]->context(), std::move(fn));
}

bool runtime::has_inbound(unsigned me) {
  const unsigned n = core_count();
  for (unsigned other = 0; other < n; ++other) {
    if (other == me) continue;
    if (!channel_between(other, me).requests.empty_for_consumer()) return true;
    if (!channel_between(me, other).responses.empty_for_consumer()) return true;
  }
  return false;
}

bool runtime::drain(unsigned me, unsigned& start, size_t budget, bool& did_work) {
  const unsigned n = core_count();
  did_work = false;
  bool progress = true;
  while (progress) {
    progress = false;
    for (unsigned k = 0; k < n; ++k) {
      unsigned other = (start + k) % n;
      if (other == me) continue;
      smp_message* m = nullptr;
      // Responses first: completing them frees units that senders here may be waiting for.
      if (channel_between(me, other).responses.pop(m)) {
        --reactors_[me]->replies_due_;
        m->complete();
        progress = did_work = true;
        if (--budget == 0) break;
      }
      if (channel_between(other, me).requests.pop(m)) {
        reactors_[me]->executed_.fetch_add(1, std::memory_order_relaxed);
        m->execute();
        progress = did_work = true;
        if (--budget == 0) break;
      }
    }
    if (budget == 0) {
      start = (start + 1) % n;
      return false;
    }
  }
  start = (start + 1) % n;
  return true;
}

void runtime::destroy_pending() {
  // After every thread is joined: messages still in rings never ran or never completed.
  for (auto& ch : channels_) {
    if (!ch) continue;
    smp_message* m = nullptr;
    while (ch->requests.pop(m)) delete m;
    while (ch->responses.pop(m)) delete m;
  }
}

}  // namespace shoal::rt
