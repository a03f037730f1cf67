#pragma once
// Limits and timeouts of the HTTP front end. Every value has a default here, a key in the config
// file and a flag (engine/app/options.cc); conf/shoald.example.conf documents them.

#include <chrono>
#include <cstddef>

namespace shoal::http {

struct http_config {
  size_t header_limit = 16 * 1024;            // bytes of request line + headers
  size_t default_body_limit = 1024 * 1024;    // bytes; routes may set their own (bulk upserts)
  size_t max_body_limit = 256 * 1024 * 1024;  // the largest body any route may accept
  std::chrono::milliseconds header_timeout{10'000};  // first byte to end of headers
  std::chrono::milliseconds body_timeout{60'000};    // end of headers to end of body
  std::chrono::milliseconds idle_timeout{60'000};    // keep-alive wait for the next request
  std::chrono::milliseconds write_timeout{30'000};   // one response write
  std::chrono::milliseconds drain_timeout{10'000};   // shutdown: wait for in-flight requests
  size_t pipeline_limit = 16;  // requests read ahead of their responses, per connection
  size_t max_connections_per_core = 10'000;
};

}  // namespace shoal::http
