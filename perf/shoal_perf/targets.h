#pragma once
// What shoal-perf talks to: a Shoal server over the binary RPC protocol (rpc://HOST:PORT, the
// client library net/rpc/client.h) or over the REST API (http://HOST:PORT: PUT /points with the
// batch form, POST /points/search), behind one interface so ingest and search drive both the
// same way. Everything runs as coroutines on one io_context on the calling thread.
//
// Requests are prepared (encoded) before the clock starts, so a measurement is of the server
// and the transport, not of the driver formatting floats.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/runtime/asio.h"
#include "net/rpc/buffer.h"

namespace shoal::perf {

struct target_address {
  bool rpc = true;
  bool tls = false;  // rpcs:// or https://
  std::string host;
  uint16_t port = 0;
  std::string text;     // as given
  std::string api_key;  // sent with every request (HTTP) or connection (RPC) when set
  std::string ca_file;  // TLS: the CA the server's certificate must chain to (empty: system's)
};
/// "rpc://HOST:PORT", "http://HOST:PORT", or over TLS "rpcs://HOST:PORT", "https://HOST:PORT".
std::optional<target_address> parse_target(const std::string& text, std::string& error);

class arg_parser;
/// --target (`schemes` is its value's help) plus --api-key and --tls-ca, for the subcommands
/// that talk to a server.
void add_target_options(arg_parser& p, const std::string& schemes);
/// The server those options name (the key from $SHOAL_API_KEY unless --api-key is given);
/// throws usage_error naming a bad --target.
target_address target_from(const arg_parser& p);

struct collection_spec {
  std::string name;
  size_t dim = 0;
  std::string metric = "l2";   // l2 | ip | cosine
  std::string index = "hnsw";  // hnsw | flat
  size_t m = 16;
  size_t ef_construct = 100;
  size_t shards = 0;  // 0: the server's default (one per core)
};
/// Qdrant's CreateCollection body for `spec` (with Shoal's "index").
std::string create_config_json(const collection_spec& spec);

struct send_result {
  bool ok = false;
  bool retryable = false;    // overloaded, unavailable, timeout, connection lost
  std::string error;         // when !ok
  std::vector<int64_t> ids;  // search: result ids in rank order (integer ids)
};

/// An encoded request: the RPC payload or the whole HTTP request.
struct prepared {
  rpc::bytes payload;
  std::string http;
};

class target {
 public:
  virtual ~target() = default;
  /// Connects (RPC: learns the server's cores with ping and spreads its connections over
  /// them, one per core unless --connections says otherwise). An error text, or empty.
  virtual awaitable<std::string> open() = 0;
  /// Connections in use (after open()).
  virtual size_t connections() const = 0;
  /// Creates the collection unless it exists.
  virtual awaitable<send_result> ensure_collection(const collection_spec& spec) = 0;
  /// Points first_id .. first_id + n - 1 with the vectors at `vectors` (n x dim).
  virtual prepared prepare_upsert(const std::string& collection, uint64_t first_id, size_t n,
                                  const float* vectors, size_t dim,
                                  const std::string& durability) = 0;
  virtual awaitable<send_result> upsert(prepared p) = 0;
  virtual prepared prepare_search(const std::string& collection, const float* query, size_t dim,
                                  size_t k, size_t ef) = 0;
  virtual awaitable<send_result> search(const prepared& p) = 0;
  virtual void close() = 0;
};

/// `connections`: RPC connections (requests are spread over them; 0: one per server core, at
/// most `in_flight`) or HTTP connections (one request in flight each; 0: `in_flight`);
/// `in_flight`: the most requests the caller will have outstanding.
std::unique_ptr<target> make_target(const target_address& a, asio::any_io_executor ex,
                                    size_t connections, size_t in_flight);

}  // namespace shoal::perf
