#pragma once
// A blocking HTTP/1.1 client for tests, on its own thread and io_context (never on a reactor).
// Each read waits at most `timeout` (poll() before every read: asio's blocking reads wait again,
// without limit, when SO_RCVTIMEO fires), so a test cannot hang on a silent server.

#include <chrono>
#include <map>
#include <optional>
#include <poll.h>
#include <string>
#include <sys/socket.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

namespace shoal::test {

struct http_reply {
  unsigned status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // lower-case names
  bool keep_alive = false;
  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
};

class http_client {
 public:
  explicit http_client(uint16_t port, std::chrono::milliseconds timeout = std::chrono::seconds(10),
                       const std::string& host = "127.0.0.1")
      : socket_(ioc_) {
    boost::asio::ip::tcp::endpoint ep(boost::asio::ip::make_address(host), port);
    socket_.connect(ep);
    set_timeout(timeout);
  }

  void set_timeout(std::chrono::milliseconds t) {
    timeout_ = t;
    timeval tv{};
    tv.tv_sec = static_cast<time_t>(t.count() / 1000);
    tv.tv_usec = static_cast<suseconds_t>((t.count() % 1000) * 1000);
    ::setsockopt(socket_.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }

  http_reply request(boost::beast::http::verb method, const std::string& target,
                     const std::string& body = {},
                     const std::map<std::string, std::string>& headers = {}) {
    send(method, target, body, headers);
    auto r = read_reply();
    if (!r) throw std::runtime_error("no reply to " + target);
    return *r;
  }

  http_reply get(const std::string& target) {
    return request(boost::beast::http::verb::get, target);
  }

  void send(boost::beast::http::verb method, const std::string& target,
            const std::string& body = {}, const std::map<std::string, std::string>& headers = {}) {
    namespace http = boost::beast::http;
    http::request<http::string_body> req{method, target, 11};
    req.set(http::field::host, "localhost");
    for (auto& [k, v] : headers) req.set(k, v);
    req.body() = body;
    if (!body.empty() || method == http::verb::post || method == http::verb::put) {
      req.prepare_payload();
    }
    http::write(socket_, req);
  }

  void send_raw(const std::string& bytes) {
    boost::asio::write(socket_, boost::asio::buffer(bytes));
  }

  /// One response, or nullopt if the connection closed or the read timed out first.
  std::optional<http_reply> read_reply() {
    namespace http = boost::beast::http;
    http::response_parser<http::string_body> parser;
    parser.body_limit(1 << 30);
    boost::system::error_code ec;
    timed_reader in{socket_, timeout_};
    http::read(in, buffer_, parser, ec);
    if (ec) return std::nullopt;
    auto& res = parser.get();
    http_reply r;
    r.status = res.result_int();
    r.body = res.body();
    r.keep_alive = res.keep_alive();
    for (auto& f : res) {
      std::string name(f.name_string());
      for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      r.headers[name] = std::string(f.value());
    }
    return r;
  }

  /// True if the server closes the connection (EOF) before the timeout.
  bool closed_by_peer() {
    char byte;
    boost::system::error_code ec;
    timed_reader in{socket_, timeout_};
    auto n = in.read_some(boost::asio::buffer(&byte, 1), ec);
    return n == 0 && (ec == boost::asio::error::eof || ec == boost::asio::error::connection_reset);
  }

 private:
  // The socket as a SyncReadStream whose every read waits at most `timeout` for data.
  struct timed_reader {
    boost::asio::ip::tcp::socket& socket;
    std::chrono::milliseconds timeout;
    template <class Buffers>
    size_t read_some(const Buffers& buffers, boost::system::error_code& ec) {
      pollfd p{socket.native_handle(), POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(timeout.count())) == 0) {
        ec = boost::asio::error::timed_out;
        return 0;
      }
      return socket.read_some(buffers, ec);
    }
    template <class Buffers>
    size_t read_some(const Buffers& buffers) {
      boost::system::error_code ec;
      auto n = read_some(buffers, ec);
      if (ec) throw boost::system::system_error(ec);
      return n;
    }
  };

  boost::asio::io_context ioc_;
  std::chrono::milliseconds timeout_{10000};
  boost::asio::ip::tcp::socket socket_;
  boost::beast::flat_buffer buffer_;
};

}  // namespace shoal::test
