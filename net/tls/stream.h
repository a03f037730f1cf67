#pragma once
// A byte stream that is either plain or TLS over the same lower layer, chosen per connection at
// run time, so the HTTP and RPC sessions and clients are written once for both.
//
//   tls::stream<beast::tcp_stream> s(std::move(socket), ctx);   // ctx == nullptr: plain
//   co_await s.handshake_as_server();
//   co_await beast_http::async_read(s, ...);                    // an AsyncRead/WriteStream
//
// TLS goes through Beast's ssl_stream, which gathers a write of many small buffers into one TLS
// record (asio's ssl::stream alone would send one record per buffer). Timeouts and closing stay
// with the lower layer (`lower()`): closing its socket ends the TLS session too. Lives on the
// lower layer's executor.

#include <memory>
#include <optional>
#include <string>
#include <utility>

#include <boost/asio/async_result.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <openssl/ssl.h>

#include "engine/runtime/asio.h"
#include "net/tls/context.h"

namespace shoal::tls {

template <typename Lower>
class stream {
 public:
  using executor_type = typename Lower::executor_type;

  /// Plain when `ctx` is null; TLS (not yet handshaken) otherwise.
  stream(Lower lower, const context_ptr& ctx) {
    if (ctx) {
      ctx_ = ctx;
      tls_.emplace(std::move(lower), *ctx);
    } else {
      plain_.emplace(std::move(lower));
    }
  }

  bool is_tls() const { return tls_.has_value(); }
  executor_type get_executor() { return lower().get_executor(); }
  Lower& lower() { return tls_ ? tls_->next_layer() : *plain_; }

  /// Server side of the handshake; no-op on a plain stream.
  awaitable<boost::system::error_code> handshake_as_server() {
    if (!tls_) co_return boost::system::error_code{};
    auto [ec] = co_await tls_->async_handshake(boost::asio::ssl::stream_base::server,
                                               use_nothrow_awaitable);
    co_return ec;
  }

  /// Client side: sends `host` as SNI (unless it is an address) and checks that the server's
  /// certificate names it. No-op on a plain stream.
  awaitable<boost::system::error_code> handshake_as_client(const std::string& host) {
    if (!tls_) co_return boost::system::error_code{};
    boost::system::error_code ec;
    boost::asio::ip::make_address(host, ec);
    if (ec) SSL_set_tlsext_host_name(tls_->native_handle(), host.c_str());
    tls_->set_verify_callback(boost::asio::ssl::host_name_verification(host));
    auto [hec] = co_await tls_->async_handshake(boost::asio::ssl::stream_base::client,
                                                use_nothrow_awaitable);
    co_return hec;
  }

  template <typename Buffers, typename Token>
  auto async_read_some(const Buffers& b, Token&& token) {
    return boost::asio::async_initiate<Token, void(boost::system::error_code, size_t)>(
        [this](auto handler, const Buffers& bufs) {
          if (tls_) {
            tls_->async_read_some(bufs, std::move(handler));
          } else {
            plain_->async_read_some(bufs, std::move(handler));
          }
        },
        token, b);
  }

  template <typename Buffers, typename Token>
  auto async_write_some(const Buffers& b, Token&& token) {
    return boost::asio::async_initiate<Token, void(boost::system::error_code, size_t)>(
        [this](auto handler, const Buffers& bufs) {
          if (tls_) {
            tls_->async_write_some(bufs, std::move(handler));
          } else {
            plain_->async_write_some(bufs, std::move(handler));
          }
        },
        token, b);
  }

 private:
  context_ptr ctx_;  // declared first: outlives the SSL object made from it
  std::optional<Lower> plain_;
  std::optional<boost::beast::ssl_stream<Lower>> tls_;
};

}  // namespace shoal::tls
