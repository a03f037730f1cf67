#pragma once
// foreign_ptr<T>: an owning pointer that remembers the core that created the object and destroys
// it there, wherever the foreign_ptr itself dies (PRACTICES A5, P6). Use it to hand an object
// made on one core to another without copying it; the receiver may read it, the owner core
// reclaims it.

#include <memory>
#include <utility>

#include "engine/runtime/runtime.h"

namespace shoal::rt {

template <typename T>
class foreign_ptr {
 public:
  foreign_ptr() = default;
  explicit foreign_ptr(std::unique_ptr<T> p) : ptr_(std::move(p)), owner_(this_core()) {}
  foreign_ptr(foreign_ptr&& o) noexcept : ptr_(std::move(o.ptr_)), owner_(o.owner_) {}
  foreign_ptr& operator=(foreign_ptr&& o) noexcept {
    if (this != &o) {
      reset();
      ptr_ = std::move(o.ptr_);
      owner_ = o.owner_;
    }
    return *this;
  }
  ~foreign_ptr() { reset(); }

  T* get() const { return ptr_.get(); }
  T& operator*() const { return *ptr_; }
  T* operator->() const { return ptr_.get(); }
  explicit operator bool() const { return static_cast<bool>(ptr_); }
  core_id owner() const { return owner_; }

  void reset() {
    if (!ptr_) return;
    if (!on_reactor_thread() || this_core() == owner_) {
      ptr_.reset();
      return;
    }
    runtime::current().post_to(owner_, [p = ptr_.release()] { delete p; });
  }

 private:
  std::unique_ptr<T> ptr_;
  core_id owner_{};
};

template <typename T, typename... Args>
foreign_ptr<T> make_foreign(Args&&... args) {
  return foreign_ptr<T>(std::make_unique<T>(std::forward<Args>(args)...));
}

}  // namespace shoal::rt
