#pragma once
// How long an idle reactor polls its channels before it sleeps in epoll (runtime.idle-poll).
//
// A poll that catches a message saves a wake-up: the sender's system call, the sleeper's return
// from epoll and the reschedule, tens of microseconds on a VM. A poll that catches nothing burns
// the CPU, and on vCPUs that are hyperthreads of one core it slows the sibling, which may be
// doing the very work the poll waits for. So the poll is spent where a message is likely:
//
//   * a reply this core awaits is on its way: poll up to the whole `cap`;
//   * a request from another core may or may not come: poll for an adaptive time, grown and
//     shrunk as KVM grows and shrinks its halt polling. It doubles (from cap/8, up to cap) when
//     a message woke the core sooner than `cap` after it went to sleep (a poll would have caught
//     it), halves when a poll caught nothing, and drops to 0 below cap/8. Under steady load the
//     requests come close together and the poll grows; at moderate load most polls would miss,
//     and the core sleeps at once.
//
// Core-local: each reactor owns one and only its thread touches it.

#include <algorithm>
#include <chrono>

namespace shoal::rt {

class idle_poll_policy {
 public:
  explicit idle_poll_policy(std::chrono::nanoseconds cap) : cap_(cap) {}

  /// How long to poll now; 0: sleep at once.
  std::chrono::nanoseconds budget(bool reply_due) const { return reply_due ? cap_ : for_requests_; }

  /// A poll with no reply due caught nothing.
  void missed() {
    for_requests_ /= 2;
    if (for_requests_ < cap_ / 8) for_requests_ = {};
  }

  /// Another core's message woke this core `slept` after it went to sleep.
  void woken_by_message(std::chrono::nanoseconds slept) {
    if (slept < cap_) for_requests_ = std::min(cap_, std::max(for_requests_ * 2, cap_ / 8));
  }

  std::chrono::nanoseconds for_requests() const { return for_requests_; }

 private:
  std::chrono::nanoseconds cap_;
  std::chrono::nanoseconds for_requests_{0};
};

}  // namespace shoal::rt
