#pragma once
// Method id -> handler. Built once before the servers start, then only read (shared by every
// core, like the HTTP router). Client-API methods are added by api.h; replication (issue #7)
// adds its own in its reserved range.
//
// A handler runs as a coroutine on the core whose session read the request. `payload` (already
// checked and decompressed) stays valid until the handler's awaitable completes. The deadline is
// when the session answers `timeout` if the handler has not finished; the handler may use it for
// its own waits (it is not cancelled: work that crossed to other cores finishes, and its answer
// is dropped).

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <unordered_map>

#include "engine/runtime/asio.h"
#include "engine/runtime/waiter.h"
#include "net/rpc/buffer.h"
#include "net/rpc/status.h"

namespace shoal::rpc {

struct request {
  uint16_t method = 0;
  uint64_t correlation = 0;
  std::span<const std::byte> payload;
  rt::clock::time_point deadline;
};

struct reply {
  status code = status::ok;
  std::string message;  // errors
  bytes payload;        // ok

  static reply ok(bytes p) { return {status::ok, {}, std::move(p)}; }
  static reply fail(status s, std::string m) { return {s, std::move(m), {}}; }
};

using handler = std::function<awaitable<reply>(const request&)>;

class dispatcher {
 public:
  /// Adds (or replaces) the handler of `method`.
  void add(uint16_t method, handler h) { handlers_[method] = std::move(h); }
  const handler* find(uint16_t method) const {
    auto it = handlers_.find(method);
    return it == handlers_.end() ? nullptr : &it->second;
  }
  size_t size() const { return handlers_.size(); }

 private:
  std::unordered_map<uint16_t, handler> handlers_;
};

}  // namespace shoal::rpc
