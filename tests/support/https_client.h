#pragma once
// A blocking HTTPS/1.1 client for tests (never on a reactor): verifies the server's chain against
// a CA file and that the certificate names `host`; a failed handshake throws with OpenSSL's
// reason. Reads give up after 10 s.

#include <map>
#include <stdexcept>
#include <string>
#include <sys/socket.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include "tests/support/http_client.h"

namespace shoal::test {

/// A blocking HTTPS client for tests; throws when the handshake fails.
class https_client {
 public:
  https_client(uint16_t port, const std::string& ca_file, const std::string& host = "127.0.0.1")
      : ctx_(boost::asio::ssl::context::tls_client), stream_(ioc_, ctx_) {
    ctx_.load_verify_file(ca_file);
    stream_.set_verify_mode(boost::asio::ssl::verify_peer);
    // Keeps OpenSSL's reason, so a failing handshake says why.
    stream_.set_verify_callback([this, check = boost::asio::ssl::host_name_verification(host)](
                                    bool pre, boost::asio::ssl::verify_context& vc) {
      auto* store = vc.native_handle();
      if (!pre) verify_error_ = X509_verify_cert_error_string(X509_STORE_CTX_get_error(store));
      bool ok = check(pre, vc);
      if (pre && !ok) verify_error_ = "the certificate does not name the host";
      return ok;
    });
    stream_.lowest_layer().connect(
        boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), port));
    timeval tv{10, 0};
    ::setsockopt(stream_.lowest_layer().native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    try {
      stream_.handshake(boost::asio::ssl::stream_base::client);
    } catch (const boost::system::system_error& e) {
      throw std::runtime_error(std::string(e.what()) + ": " + verify_error_);
    }
  }

  http_reply request(boost::beast::http::verb method, const std::string& target,
                     const std::map<std::string, std::string>& headers = {},
                     const std::string& body = {}) {
    boost::beast::http::request<boost::beast::http::string_body> req{method, target, 11};
    req.set(boost::beast::http::field::host, "localhost");
    for (auto& [k, v] : headers) req.set(k, v);
    req.body() = body;
    req.prepare_payload();
    boost::beast::http::write(stream_, req);
    boost::beast::http::response<boost::beast::http::string_body> res;
    boost::beast::http::read(stream_, buffer_, res);
    http_reply r;
    r.status = res.result_int();
    r.body = res.body();
    r.keep_alive = res.keep_alive();
    return r;
  }

 private:
  boost::asio::io_context ioc_;
  boost::asio::ssl::context ctx_;
  boost::asio::ssl::stream<boost::asio::ip::tcp::socket> stream_;
  boost::beast::flat_buffer buffer_;
  std::string verify_error_;
};

}  // namespace shoal::test
