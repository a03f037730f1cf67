#pragma once
// Limits and timeouts of the RPC server. Every value has a default here, a key in the config
// file and a flag (engine/app/options.cc, section [rpc]); conf/shoald.example.conf documents them.

#include <chrono>
#include <cstddef>
#include <memory>

namespace boost::asio::ssl {
class context;
}
namespace shoal::auth {
class api_keys;
}

namespace shoal::rpc {

struct server_config {
  size_t max_frame_size = 64u << 20;          // payload bytes, on the wire and decompressed
  size_t max_memory_per_core = 256u << 20;    // request bytes a core holds at once
  size_t max_in_flight_per_connection = 128;  // requests read and not yet answered
  size_t max_connections_per_core = 10'000;
  std::chrono::milliseconds request_timeout{60'000};  // default deadline, and the cap of a
                                                      // deadline a client asks for
  std::chrono::milliseconds idle_timeout{300'000};    // a connection with nothing in flight
  std::chrono::milliseconds body_timeout{60'000};     // header to end of its payload
  std::chrono::milliseconds write_timeout{30'000};    // one write of queued responses
  std::chrono::milliseconds drain_timeout{10'000};    // shutdown: wait for requests in flight
  size_t compress_threshold = 64u << 10;              // LZ4 for responses at least this large
  // Security (net/tls, net/auth); made once at startup and shared by every core.
  std::shared_ptr<boost::asio::ssl::context> tls;  // null: plain TCP
  std::shared_ptr<const auth::api_keys> keys;      // null or no key set: no key required
};

}  // namespace shoal::rpc
