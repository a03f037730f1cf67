#include "net/http/session.h"

#include <boost/asio/write.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include "engine/common/logger.h"
#include "net/auth/api_keys.h"
#include "net/http/server.h"

namespace shoal::http {

namespace beast = boost::beast;
using beast_http::field;

namespace {

spdlog::logger& log() {
  static auto& l = logging::get("http");
  return l;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

}  // namespace

session::session(asio::ip::tcp::socket socket, http_server& server, rt::gate::holder hold)
    : stream_(beast::tcp_stream(std::move(socket)), server.config().tls),
      server_(server),
      hold_(std::move(hold)) {
  registration_ = server_.add_session(this);
}

session::~session() {
  server_.remove_session(registration_);
}

awaitable<void> session::run() {
  auto self = shared_from_this();
  auto ex = co_await asio::this_coro::executor;
  if (stream_.is_tls()) {
    // The handshake is part of the request's header: it gets the header timeout.
    stream_.lower().expires_after(server_.config().header_timeout);
    if (auto ec = co_await stream_.handshake_as_server()) {
      server_.count_error(ec == beast::error::timeout ? "tls_handshake_timeout" : "tls_handshake");
      log().debug("TLS handshake failed: {}", ec.message());
      force_close();
      co_return;
    }
  }
  asio::co_spawn(
      ex, [self]() -> awaitable<void> { co_await self->write_loop(); }, asio::detached);
  co_await read_loop();
  reader_done_ = true;
  queue_changed_.set();
  while (!writer_done_) {
    queue_changed_.reset();
    co_await queue_changed_.wait();
  }
  beast::error_code ec;
  stream_.lower().socket().shutdown(asio::ip::tcp::socket::shutdown_both, ec);
  stream_.lower().socket().close(ec);
}

void session::request_stop() {
  stopping_ = true;
  // Idle between requests with nothing left to write: nothing to finish, close now.
  if (idle_waiting_ && queue_.empty()) stream_.lower().cancel();
}

void session::force_close() {
  beast::error_code ec;
  stream_.lower().socket().close(ec);
}

awaitable<bool> session::wait_for_next_request() {
  if (buffer_.size() > 0) co_return true;  // a pipelined request is already buffered
  if (stopping_) co_return false;
  idle_waiting_ = true;
  stream_.lower().expires_after(server_.config().idle_timeout);
  auto [ec, n] = co_await stream_.async_read_some(buffer_.prepare(4096), use_nothrow_awaitable);
  idle_waiting_ = false;
  if (ec) co_return false;  // peer closed, idle timeout, or stop
  buffer_.commit(n);
  co_return true;
}

awaitable<bool> session::send_continue() {
  // 100 Continue must not overtake responses to earlier requests: wait until they are written.
  while (!queue_.empty()) {
    queue_changed_.reset();
    co_await queue_changed_.wait();
  }
  static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
  stream_.lower().expires_after(server_.config().write_timeout);
  auto [ec, n] = co_await asio::async_write(
      stream_, asio::buffer(kContinue.data(), kContinue.size()), use_nothrow_awaitable);
  co_return !ec;
}

void session::push(std::shared_ptr<pending> slot) {
  queue_.push_back(std::move(slot));
  queue_changed_.set();
}

void session::push_error(status code, std::string_view message, unsigned version) {
  auto slot = std::make_shared<pending>();
  slot->res = error_json(code, message);
  slot->close_after = true;
  slot->version = version;
  slot->received = std::chrono::steady_clock::now();
  slot->done.set();
  push(std::move(slot));
}

std::optional<std::pair<status, std::string>> session::refuse_access(
    const beast_http::fields& headers, auth::access needed) const {
  const auto* keys = server_.config().keys.get();
  if (!keys || !keys->enabled() || needed == auth::access::open) return std::nullopt;
  auto presented = auth::api_keys::from_http(headers["api-key"], headers[field::authorization]);
  auto granted = keys->grant(presented);
  if (granted >= needed) return std::nullopt;
  if (granted == auth::access::open) {
    return std::pair{
        status::unauthorized,
        std::string(presented.empty() ? "Unauthorized: this endpoint needs an API key (header "
                                        "`api-key` or `Authorization: Bearer`)"
                                      : "Unauthorized: invalid API key")};
  }
  return std::pair{status::forbidden,
                   std::string("Forbidden: the read-only API key cannot change data; use the "
                               "read-write key")};
}

awaitable<void> session::read_loop() {
  const auto& cfg = server_.config();
  while (!stopping_) {
    if (!co_await wait_for_next_request()) co_return;

    beast_http::request_parser<padded_string_body> parser;
    parser.header_limit(static_cast<uint32_t>(cfg.header_limit));
    // No body limit while the header is read (Beast would refuse a large Content-Length there
    // with a generic error); the route's own limit is set, and answered with 413, below.
    parser.body_limit(boost::none);
    stream_.lower().expires_after(cfg.header_timeout);
    auto [hec, hn] =
        co_await beast_http::async_read_header(stream_, buffer_, parser, use_nothrow_awaitable);
    if (hec) {
      if (hec == beast_http::error::header_limit) {
        server_.count_error("header_too_large");
        push_error(status::request_header_fields_too_large,
                   fmt::format("Request header larger than {} bytes", cfg.header_limit), 11);
      } else if (hec == beast::error::timeout) {
        // Beast has already closed the socket: a slow client is simply cut off.
        server_.count_error("header_timeout");
      } else if (hec != beast_http::error::end_of_stream && hec != asio::error::eof &&
                 hec != asio::error::connection_reset && hec != asio::error::operation_aborted) {
        server_.count_error("bad_request");
        push_error(status::bad_request, fmt::format("Bad request: {}", hec.message()), 11);
      }
      co_return;
    }

    auto& header = parser.get();
    auto received = std::chrono::steady_clock::now();
    auto target = std::string_view(header.target());
    auto qpos = target.find('?');
    auto path = target.substr(0, qpos);
    auto query = qpos == std::string_view::npos ? std::string_view{} : target.substr(qpos + 1);
    auto match = server_.routes().match(header.method(), path);
    // Keys are checked before the body is read: a caller without one cannot make us read it.
    if (auto refused =
            refuse_access(header, match.matched ? match.matched->access : auth::access::read)) {
      server_.count_error(refused->first == status::unauthorized ? "unauthorized" : "forbidden");
      push_error(refused->first, refused->second, header.version());
      co_return;
    }
    size_t limit = cfg.default_body_limit;
    if (match.matched && match.matched->options.body_limit) {
      limit = std::min(match.matched->options.body_limit, cfg.max_body_limit);
    }
    parser.body_limit(limit);
    auto length = parser.content_length();
    if (length && *length > limit) {
      server_.count_error("body_too_large");
      push_error(status::payload_too_large,
                 fmt::format("Payload error: request body of {} bytes is larger than the limit "
                             "of {} bytes for this endpoint",
                             *length, limit),
                 header.version());
      co_return;
    }
    if (iequals(header[field::expect], "100-continue") && !parser.is_done()) {
      if (!co_await send_continue()) co_return;
    }
    if (!parser.is_done()) {
      stream_.lower().expires_after(cfg.body_timeout);
      auto [bec, bn] =
          co_await beast_http::async_read(stream_, buffer_, parser, use_nothrow_awaitable);
      if (bec) {
        if (bec == beast_http::error::body_limit) {
          server_.count_error("body_too_large");
          push_error(status::payload_too_large,
                     fmt::format("Payload error: request body is larger than the limit of {} "
                                 "bytes for this endpoint",
                                 limit),
                     header.version());
        } else if (bec == beast::error::timeout) {
          server_.count_error("body_timeout");  // the socket is closed already
        } else if (bec != asio::error::eof && bec != beast_http::error::end_of_stream &&
                   bec != asio::error::operation_aborted) {
          server_.count_error("bad_request");
          push_error(status::bad_request, fmt::format("Bad request: {}", bec.message()),
                     header.version());
        }
        co_return;
      }
    }

    auto req = std::make_shared<beast_request>(parser.release());
    auto slot = std::make_shared<pending>();
    slot->version = req->version();
    slot->received = received;
    slot->close_after = !req->keep_alive();
    if (match.result == route_match::outcome::found) {
      slot->matched = match.matched;
      asio::co_spawn(
          co_await asio::this_coro::executor,
          run_handler(shared_from_this(), slot, req, std::move(match), std::string(query)),
          asio::detached);
    } else if (match.result == route_match::outcome::method_not_allowed) {
      slot->res = error_json(status::method_not_allowed,
                             fmt::format("Method {} is not allowed on {}",
                                         std::string_view(req->method_string()), path));
      slot->done.set();
    } else {
      slot->res = error_json(status::not_found, fmt::format("Not found: no endpoint {}", path));
      slot->done.set();
    }
    bool close_after = slot->close_after;
    push(std::move(slot));
    if (close_after) co_return;

    // Bounded pipelining: stop reading while pipeline_limit responses are still pending.
    while (queue_.size() >= cfg.pipeline_limit && !writer_done_) {
      queue_changed_.reset();
      co_await queue_changed_.wait();
    }
    if (writer_done_) co_return;
  }
}

awaitable<void> session::run_handler(std::shared_ptr<session> self, std::shared_ptr<pending> slot,
                                     std::shared_ptr<beast_request> req, route_match match,
                                     std::string query) {
  request_context ctx{*req, std::move(match.path_params), parse_query(query), slot->received};
  try {
    slot->res = co_await match.matched->fn(ctx);
  } catch (const std::exception& e) {
    log().error("handler {} threw: {}", match.matched->label, e.what());
    slot->res =
        error_json(status::internal_server_error,
                   fmt::format("Service internal error: {}", e.what()), ctx.elapsed_seconds());
  }
  slot->done.set();
  (void)self;  // kept the session alive while the handler ran
}

awaitable<void> session::write_loop() {
  auto self = shared_from_this();
  const auto& cfg = server_.config();
  for (;;) {
    while (queue_.empty() && !reader_done_) {
      queue_changed_.reset();
      co_await queue_changed_.wait();
    }
    if (queue_.empty()) break;
    auto slot = queue_.front();
    co_await slot->done.wait();

    beast_http::response<beast_http::string_body> res;
    res.version(slot->version);
    res.result(slot->res.code);
    res.set(field::server, "shoal");
    res.set(field::content_type, slot->res.content_type);
    for (auto& [k, v] : slot->res.headers) res.set(k, v);
    bool close = slot->close_after || stopping_;
    res.keep_alive(!close);
    res.body() = std::move(slot->res.body);
    res.prepare_payload();

    stream_.lower().expires_after(cfg.write_timeout);
    auto [ec, n] = co_await beast_http::async_write(stream_, res, use_nothrow_awaitable);
    auto seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - slot->received).count();
    server_.record(slot->matched, static_cast<unsigned>(res.result_int()), seconds);
    queue_.pop_front();
    queue_changed_.set();
    if (ec) {
      server_.count_error(ec == beast::error::timeout ? "write_timeout" : "write_failed");
      force_close();
      break;
    }
    if (close) {
      // Nothing more will be answered on this connection; end the reader too.
      beast::error_code ignored;
      stream_.lower().socket().shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
      stream_.lower().cancel();
      break;
    }
  }
  writer_done_ = true;
  queue_changed_.set();
}

}  // namespace shoal::http
