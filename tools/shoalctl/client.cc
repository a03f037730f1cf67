#include "tools/shoalctl/client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace shoal::ctl {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

std::optional<reply> call(const target& t, const std::string& method, const std::string& path,
                          const std::string& body, std::string& error,
                          const std::string& content_type) {
  try {
    asio::io_context ioc;
    asio::ip::tcp::resolver resolver(ioc);
    beast::tcp_stream stream(ioc);
    stream.expires_after(t.timeout);
    stream.connect(resolver.resolve(t.host, t.port));
    http::request<http::string_body> req{http::string_to_verb(method), path, 11};
    req.set(http::field::host, t.host);
    req.set(http::field::user_agent, "shoalctl");
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
    beast::error_code ec;
    stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ec);
    return reply{parser.get().result_int(), std::move(parser.get().body())};
  } catch (const std::exception& e) {
    error = e.what();
    return std::nullopt;
  }
}

}  // namespace shoal::ctl
