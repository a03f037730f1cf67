#include "net/http/client.h"

#include <charconv>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <boost/asio/connect.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include "engine/runtime/blocking_pool.h"
#include "net/tls/stream.h"

namespace shoal::http {

namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;
using clock_type = std::chrono::steady_clock;

std::optional<http_url> parse_http_url(std::string_view url) {
  http_url out;
  if (url.starts_with("https://")) {
    out.tls = true;
    url.remove_prefix(8);
  } else if (url.starts_with("http://")) {
    url.remove_prefix(7);
  } else {
    return std::nullopt;
  }
  const size_t slash = url.find('/');
  out.authority = std::string(url.substr(0, slash));
  out.target = slash == std::string_view::npos ? "/" : std::string(url.substr(slash));
  std::string_view hostport = out.authority;
  std::string_view port = out.tls ? "443" : "80";
  if (hostport.starts_with('[')) {  // [v6]:port
    const size_t close = hostport.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    out.host = std::string(hostport.substr(1, close - 1));
    if (close + 1 < hostport.size()) {
      if (hostport[close + 1] != ':') return std::nullopt;
      port = hostport.substr(close + 2);
    }
  } else if (const size_t colon = hostport.rfind(':'); colon != std::string_view::npos) {
    out.host = std::string(hostport.substr(0, colon));
    port = hostport.substr(colon + 1);
  } else {
    out.host = std::string(hostport);
  }
  unsigned port_number = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), port_number);
  if (out.host.empty() || ec != std::errc{} || end != port.data() + port.size() ||
      port_number == 0 || port_number > 65535)
    return std::nullopt;
  out.port = std::string(port);
  return out;
}

awaitable<result<std::vector<tcp::endpoint>>> resolve(std::string host, std::string port) {
  co_return co_await rt::runtime::current().blocking().run(
      rt::blocking_reason::resolve, [host, port]() -> result<std::vector<tcp::endpoint>> {
        asio::io_context ioc;
        tcp::resolver resolver(ioc);
        boost::system::error_code ec;
        auto results = resolver.resolve(host, port, ec);
        if (ec) return ec;
        std::vector<tcp::endpoint> eps;
        for (auto& r : results) eps.push_back(r.endpoint());
        return eps;
      });
}

struct client_connection::state {
  state(asio::any_io_executor ex, const tls::context_ptr& ctx)
      : stream(beast::tcp_stream(std::move(ex)), ctx) {}
  tls::stream<beast::tcp_stream> stream;  // plain or TLS
  beast::flat_buffer buffer;
  bool open = false;
  size_t served = 0;  // responses read on this connection
  std::optional<bhttp::response_parser<bhttp::buffer_body>> streaming;
};

client_connection::client_connection(http_url base, tls::context_ptr tls)
    : base_(std::move(base)), tls_(std::move(tls)) {}
client_connection::~client_connection() = default;

bool client_connection::connected() const {
  return s_ && s_->open;
}

void client_connection::close() {
  if (!s_) return;
  beast::error_code ignored;
  s_->stream.lower().socket().shutdown(tcp::socket::shutdown_both, ignored);
  s_->stream.lower().close();
  s_->open = false;
  s_->streaming.reset();
}

awaitable<result<void>> client_connection::ensure_connected(clock_type::time_point deadline) {
  if (s_ && s_->open && !s_->streaming) co_return result<void>{};
  if (s_) close();
  auto endpoints = co_await resolve(base_.host, base_.port);
  if (!endpoints) co_return endpoints.error();
  if (base_.tls && !tls_) co_return asio::error::make_error_code(asio::error::no_protocol_option);
  s_ = std::make_unique<state>(co_await asio::this_coro::executor,
                               base_.tls ? tls_ : tls::context_ptr{});
  s_->stream.lower().expires_at(deadline);
  auto [ec, ep] = co_await s_->stream.lower().async_connect(*endpoints, use_nothrow_awaitable);
  if (ec) co_return ec;
  s_->stream.lower().socket().set_option(tcp::no_delay(true));
  if (auto hec = co_await s_->stream.handshake_as_client(base_.host)) co_return hec;
  s_->open = true;
  s_->served = 0;
  co_return result<void>{};
}

namespace {

bhttp::request<bhttp::string_body> make_request(bhttp::verb verb, std::string target,
                                                std::string body, std::string_view content_type,
                                                const std::string& authority) {
  bhttp::request<bhttp::string_body> req{verb, target, 11};
  req.set(bhttp::field::host, authority);
  req.set(bhttp::field::user_agent, "shoald");
  if (!body.empty() || verb == bhttp::verb::post || verb == bhttp::verb::put) {
    req.set(bhttp::field::content_type, content_type);
    req.body() = std::move(body);
    req.prepare_payload();
  }
  req.keep_alive(true);
  return req;
}

}  // namespace

awaitable<result<client_response>> client_connection::request(bhttp::verb verb, std::string target,
                                                              std::string body,
                                                              std::string_view content_type,
                                                              std::chrono::milliseconds timeout,
                                                              size_t max_body) {
  const auto deadline = clock_type::now() + timeout;
  last_reused_ = s_ && s_->open && s_->served > 0 && !s_->streaming;
  last_sent_ = false;
  if (auto c = co_await ensure_connected(deadline); !c) {
    close();
    co_return c.error();
  }
  auto req = make_request(verb, std::move(target), std::move(body), content_type, base_.authority);
  s_->stream.lower().expires_at(deadline);
  auto [wec, wn] = co_await bhttp::async_write(s_->stream, req, use_nothrow_awaitable);
  if (wec) {
    close();
    co_return wec;
  }
  last_sent_ = true;
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(max_body);
  s_->stream.lower().expires_at(deadline);
  auto [rec, rn] =
      co_await bhttp::async_read(s_->stream, s_->buffer, parser, use_nothrow_awaitable);
  if (rec) {
    close();
    co_return rec;
  }
  ++s_->served;
  client_response out;
  out.status = parser.get().result_int();
  if (!parser.keep_alive()) close();
  out.body = std::move(parser.get().body());
  co_return out;
}

awaitable<result<unsigned>> client_connection::open_stream(bhttp::verb verb, std::string target,
                                                           std::string body,
                                                           std::string_view content_type,
                                                           std::chrono::milliseconds timeout) {
  const auto deadline = clock_type::now() + timeout;
  last_reused_ = false;
  last_sent_ = false;
  if (s_) close();  // a stream gets a connection of its own
  if (auto c = co_await ensure_connected(deadline); !c) {
    close();
    co_return c.error();
  }
  // A stream may sit idle for long; TCP keepalive probes notice a peer that vanished (host down,
  // partition) within about 11 seconds instead of never.
  const int fd = s_->stream.lower().socket().native_handle();
  const int on = 1, idle = 5, interval = 2, probes = 3;
  ::setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on);
  ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle);
  ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &interval, sizeof interval);
  ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &probes, sizeof probes);
  auto req = make_request(verb, std::move(target), std::move(body), content_type, base_.authority);
  s_->stream.lower().expires_at(deadline);
  auto [wec, wn] = co_await bhttp::async_write(s_->stream, req, use_nothrow_awaitable);
  if (wec) {
    close();
    co_return wec;
  }
  last_sent_ = true;
  auto& parser = s_->streaming.emplace();
  parser.body_limit(boost::none);  // a stream has no end; each read is bounded instead
  s_->stream.lower().expires_at(deadline);
  auto [rec, rn] =
      co_await bhttp::async_read_header(s_->stream, s_->buffer, parser, use_nothrow_awaitable);
  if (rec) {
    close();
    co_return rec;
  }
  co_return parser.get().result_int();
}

awaitable<result<std::string>> client_connection::read_stream(
    std::chrono::milliseconds idle_timeout) {
  if (!s_ || !s_->open || !s_->streaming) co_return asio::error::make_error_code(asio::error::eof);
  auto& parser = *s_->streaming;
  std::string out;
  char chunk[16384];
  while (out.empty()) {
    if (parser.is_done()) co_return asio::error::make_error_code(asio::error::eof);
    parser.get().body().data = chunk;
    parser.get().body().size = sizeof chunk;
    if (idle_timeout.count() > 0) {
      s_->stream.lower().expires_after(idle_timeout);
    } else {
      s_->stream.lower().expires_never();
    }
    auto [ec, n] =
        co_await bhttp::async_read_some(s_->stream, s_->buffer, parser, use_nothrow_awaitable);
    if (ec && ec != bhttp::error::need_buffer) {
      close();
      co_return ec;
    }
    out.append(chunk, sizeof chunk - parser.get().body().size);
  }
  co_return out;
}

}  // namespace shoal::http
