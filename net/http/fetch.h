#pragma once
// A minimal HTTP/1.1 GET client for the server's own use (recovering a snapshot from a URL).
// Runs on the calling core; name resolution goes to the blocking pool.

#include <chrono>
#include <string>

#include "engine/common/result.h"
#include "engine/runtime/asio.h"

namespace shoal::http {

struct fetched {
  unsigned status = 0;
  std::string body;
};

/// GET `url` ("http://host[:port]/path"); the body may be at most `max_bytes`.
awaitable<result<fetched>> fetch(std::string url, size_t max_bytes,
                                 std::chrono::milliseconds timeout);

}  // namespace shoal::http
