#pragma once
// An HTTP/1.1 client connection for the server's own outbound calls (etcd's JSON gateway, snapshot
// downloads): keep-alive, one request at a time, a deadline per request, bounded bodies, and a
// streaming mode for responses that never end (etcd watches). Lives on the core that created it;
// name resolution goes to the blocking pool.

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http/verb.hpp>

#include "engine/common/result.h"
#include "engine/runtime/asio.h"
#include "net/tls/context.h"

namespace shoal::http {

/// "http[s]://host[:port][/path]": host (brackets kept for IPv6), port (80 or 443 when absent),
/// the "host:port" for the Host header, and the target ("/" when absent).
struct http_url {
  std::string host;
  std::string port;
  std::string authority;
  std::string target;
  bool tls = false;  // https
};
/// nullopt when `url` is not an http:// or https:// URL with a host and a numeric port.
std::optional<http_url> parse_http_url(std::string_view url);

/// Resolves host:port in the blocking pool (getaddrinfo blocks).
awaitable<result<std::vector<asio::ip::tcp::endpoint>>> resolve(std::string host, std::string port);

struct client_response {
  unsigned status = 0;
  std::string body;
};

class client_connection {
 public:
  /// `base` gives the host and port; its target is ignored. An https `base` needs `tls` (the
  /// trust store the server's certificate is checked against, net/tls).
  explicit client_connection(http_url base, tls::context_ptr tls = {});
  ~client_connection();
  client_connection(const client_connection&) = delete;
  client_connection& operator=(const client_connection&) = delete;

  const http_url& address() const { return base_; }
  bool connected() const;
  /// Whether the last request went over a connection that had already served one. A failure
  /// on such a connection before any response byte may be the server closing an idle
  /// keep-alive connection, which is worth one retry on a fresh connection.
  bool last_was_reused() const { return last_reused_; }
  /// Whether the last request was written out whole (so the server may have acted on it).
  bool last_was_sent() const { return last_sent_; }

  /// One request; connects first when needed. The whole exchange must finish within `timeout`;
  /// a body over `max_body` fails the request. On any error the connection is closed.
  awaitable<result<client_response>> request(boost::beast::http::verb verb, std::string target,
                                             std::string body, std::string_view content_type,
                                             std::chrono::milliseconds timeout, size_t max_body);

  /// Streaming: sends the request and reads the response head within `timeout`; returns the
  /// status. Then read_stream() yields the body as it arrives.
  awaitable<result<unsigned>> open_stream(boost::beast::http::verb verb, std::string target,
                                          std::string body, std::string_view content_type,
                                          std::chrono::milliseconds timeout);
  /// The next bytes of a streamed body (at least one byte), waiting at most `idle_timeout` for
  /// them (0: no limit; TCP keepalive still notices a vanished peer). asio::error::eof when the
  /// body ended. A timeout closes the connection.
  awaitable<result<std::string>> read_stream(std::chrono::milliseconds idle_timeout);

  /// Closes the socket; an operation in progress fails with operation_aborted.
  void close();

 private:
  struct state;
  awaitable<result<void>> ensure_connected(std::chrono::steady_clock::time_point deadline);
  http_url base_;
  tls::context_ptr tls_;
  std::unique_ptr<state> s_;
  bool last_reused_ = false;
  bool last_sent_ = false;
};

}  // namespace shoal::http
