#pragma once
// A gate counts work in flight so a service can stop cleanly (PRACTICES A2): every request or
// background task enters the gate and holds it until done; stop() closes the gate (no new work)
// and waits until the count drains to zero. Lives on one core.

#include <string>
#include <utility>

#include "engine/common/result.h"
#include "engine/runtime/errc.h"
#include "engine/runtime/event.h"

namespace shoal::rt {

class gate {
 public:
  class holder {
   public:
    holder() = default;
    explicit holder(gate* g) : gate_(g) {}
    holder(holder&& o) noexcept : gate_(std::exchange(o.gate_, nullptr)) {}
    holder& operator=(holder&& o) noexcept {
      if (this != &o) {
        leave();
        gate_ = std::exchange(o.gate_, nullptr);
      }
      return *this;
    }
    ~holder() { leave(); }
    void leave() {
      if (gate_) gate_->leave();
      gate_ = nullptr;
    }

   private:
    gate* gate_ = nullptr;
  };

  explicit gate(std::string name = {}) : name_(std::move(name)) {}
  gate(const gate&) = delete;
  gate& operator=(const gate&) = delete;

  /// A holder for one unit of work, or errc::gate_closed once close() began.
  result<holder> enter() {
    if (closed_) return errc::gate_closed;
    ++count_;
    return holder(this);
  }

  /// Closes the gate and waits until every holder has left. On timeout the gate stays closed and
  /// errc::timeout tells the caller that work is still running.
  awaitable<result<void>> close(clock::duration timeout = no_timeout) {
    closed_ = true;
    if (count_ == 0) drained_.set();
    if (!co_await drained_.wait(timeout)) co_return errc::timeout;
    co_return result<void>{};
  }

  bool is_closed() const { return closed_; }
  size_t count() const { return count_; }
  const std::string& name() const { return name_; }

 private:
  void leave() {
    --count_;
    if (closed_ && count_ == 0) drained_.set();
  }

  size_t count_ = 0;
  bool closed_ = false;
  event drained_;
  std::string name_;
};

}  // namespace shoal::rt
