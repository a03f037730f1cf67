#pragma once
// Reading frames from a socket with few system calls: small frames (search requests and
// responses, many in flight) are taken from one read-ahead buffer, large bodies are read
// straight into their own buffer. Used by the server's sessions and by the client.
//
// Lives on the socket's executor; one reader at a time.

#include <algorithm>
#include <cstring>
#include <memory>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>

#include "engine/common/result.h"
#include "engine/runtime/asio.h"
#include "net/tls/stream.h"

namespace shoal::rpc {

/// A connection's byte stream: plain TCP, or TLS over it (net/tls).
using transport = tls::stream<asio::ip::tcp::socket>;

class stream_reader {
 public:
  explicit stream_reader(transport& s, size_t read_ahead = 64 * 1024)
      : socket_(s),
        buf_(std::make_unique_for_overwrite<std::byte[]>(read_ahead)),
        cap_(read_ahead) {}

  /// Bytes already read ahead and not yet taken.
  size_t buffered() const { return end_ - begin_; }

  /// Fills dst[0, n) exactly; an error code (eof, reset, cancelled) when the stream ends first.
  awaitable<error_code> read_exact(std::byte* dst, size_t n) {
    size_t take = std::min(n, buffered());
    if (take) {
      std::memcpy(dst, buf_.get() + begin_, take);
      begin_ += take;
      dst += take;
      n -= take;
    }
    if (n == 0) co_return error_code{};
    begin_ = end_ = 0;
    if (n >= cap_ / 2) {
      // A large body: straight into its buffer.
      auto [ec, got] =
          co_await asio::async_read(socket_, asio::buffer(dst, n), use_nothrow_awaitable);
      co_return ec;
    }
    while (n > 0) {
      auto [ec, got] = co_await socket_.async_read_some(
          asio::buffer(buf_.get() + end_, cap_ - end_), use_nothrow_awaitable);
      if (ec) co_return ec;
      end_ += got;
      take = std::min(n, buffered());
      std::memcpy(dst, buf_.get() + begin_, take);
      begin_ += take;
      dst += take;
      n -= take;
    }
    co_return error_code{};
  }

  /// Reads and drops n bytes (a body that will not be processed).
  awaitable<error_code> skip(size_t n) {
    while (n > 0) {
      if (buffered() == 0) {
        begin_ = end_ = 0;
        auto [ec, got] =
            co_await socket_.async_read_some(asio::buffer(buf_.get(), cap_), use_nothrow_awaitable);
        if (ec) co_return ec;
        end_ = got;
      }
      size_t take = std::min(n, buffered());
      begin_ += take;
      n -= take;
    }
    co_return error_code{};
  }

 private:
  transport& socket_;
  std::unique_ptr<std::byte[]> buf_;
  size_t cap_;
  size_t begin_ = 0;
  size_t end_ = 0;
};

}  // namespace shoal::rpc
