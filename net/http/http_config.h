#pragma once
// Limits and timeouts of the HTTP front end. Every value has a default here, a key in the config
// file and a flag (engine/app/options.cc); conf/shoald.example.conf documents them.

#include <chrono>
#include <cstddef>
#include <memory>

namespace boost::asio::ssl {
class context;
}
namespace shoal::auth {
class api_keys;
}

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
  // Security (net/tls, net/auth); made once at startup and shared by every core.
  std::shared_ptr<boost::asio::ssl::context> tls;  // null: plain HTTP
  std::shared_ptr<const auth::api_keys> keys;      // null or no key set: no key required
};

}  // namespace shoal::http
