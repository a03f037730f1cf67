#include "tools/shoalctl/client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include "net/tls/context.h"

namespace shoal::ctl {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

namespace {

template <typename Stream>
reply exchange(Stream& stream, const target& t, const std::string& method, const std::string& path,
               const std::string& body, const std::string& content_type) {
  http::request<http::string_body> req{http::string_to_verb(method), path, 11};
  req.set(http::field::host, t.host);
  req.set(http::field::user_agent, "shoalctl");
  if (!t.api_key.empty()) req.set("api-key", t.api_key);
  if (!body.empty()) {
    req.set(http::field::content_type, content_type);
    req.body() = body;
  }
  req.prepare_payload();
  http::write(stream, req);
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(std::numeric_limits<uint64_t>::max());
  http::read(stream, buffer, parser);
  return reply{parser.get().result_int(), std::move(parser.get().body())};
}

}  // namespace

std::optional<reply> call(const target& t, const std::string& method, const std::string& path,
                          const std::string& body, std::string& error,
                          const std::string& content_type) {
  try {
    asio::io_context ioc;
    asio::ip::tcp::resolver resolver(ioc);
    beast::tcp_stream tcp(ioc);
    tcp.expires_after(t.timeout);
    tcp.connect(resolver.resolve(t.host, t.port));
    if (!t.tls) {
      auto r = exchange(tcp, t, method, path, body, content_type);
      beast::error_code ec;
      tcp.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ec);
      return r;
    }
    auto ctx = tls::make_client_context(t.ca_file);
    if (!ctx) {
      error = ctx.error();
      return std::nullopt;
    }
    beast::ssl_stream<beast::tcp_stream> stream(std::move(tcp), **ctx);
    boost::system::error_code ec;
    asio::ip::make_address(t.host, ec);
    if (ec) SSL_set_tlsext_host_name(stream.native_handle(), t.host.c_str());
    stream.set_verify_callback(asio::ssl::host_name_verification(t.host));
    stream.handshake(asio::ssl::stream_base::client);
    return exchange(stream, t, method, path, body, content_type);
  } catch (const std::exception& e) {
    error = e.what();
    return std::nullopt;
  }
}

}  // namespace shoal::ctl
