#include "net/http/fetch.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include "engine/runtime/blocking_pool.h"

namespace shoal::http {

namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;

awaitable<result<fetched>> fetch(std::string url, size_t max_bytes,
                                 std::chrono::milliseconds timeout) {
  auto bad = boost::system::errc::make_error_code(boost::system::errc::invalid_argument);
  if (!url.starts_with("http://")) co_return bad;
  auto rest = url.substr(7);
  auto slash = rest.find('/');
  std::string hostport = rest.substr(0, slash);
  std::string target = slash == std::string::npos ? "/" : rest.substr(slash);
  std::string host = hostport, port = "80";
  if (auto colon = hostport.rfind(':');
      colon != std::string::npos && hostport.find(']') == std::string::npos) {
    host = hostport.substr(0, colon);
    port = hostport.substr(colon + 1);
  }
  if (host.empty()) co_return bad;
  auto resolved = co_await rt::runtime::current().blocking().run(
      rt::blocking_reason::other, [host, port]() -> result<std::vector<tcp::endpoint>> {
        asio::io_context ioc;
        tcp::resolver resolver(ioc);
        boost::system::error_code ec;
        auto results = resolver.resolve(host, port, ec);
        if (ec) return ec;
        std::vector<tcp::endpoint> eps;
        for (auto& r : results) eps.push_back(r.endpoint());
        return eps;
      });
  if (!resolved) co_return resolved.error();
  beast::tcp_stream stream(co_await asio::this_coro::executor);
  stream.expires_after(timeout);
  auto [cec, ep] = co_await stream.async_connect(*resolved, use_nothrow_awaitable);
  if (cec) co_return cec;
  bhttp::request<bhttp::empty_body> req{bhttp::verb::get, target, 11};
  req.set(bhttp::field::host, hostport);
  req.set(bhttp::field::user_agent, "shoald");
  stream.expires_after(timeout);
  auto [wec, wn] = co_await bhttp::async_write(stream, req, use_nothrow_awaitable);
  if (wec) co_return wec;
  beast::flat_buffer buffer;
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(max_bytes);
  stream.expires_after(timeout);
  auto [rec, rn] = co_await bhttp::async_read(stream, buffer, parser, use_nothrow_awaitable);
  if (rec) co_return rec;
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  fetched f;
  f.status = parser.get().result_int();
  f.body = std::move(parser.get().body());
  co_return f;
}

}  // namespace shoal::http
