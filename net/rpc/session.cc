#include "net/rpc/session.h"

#include <algorithm>

#include <boost/asio/write.hpp>
#include <fmt/format.h>

#include "engine/common/logger.h"
#include "net/auth/api_keys.h"
#include "net/rpc/errc.h"
#include "net/rpc/messages.h"
#include "net/rpc/server.h"

namespace shoal::rpc {
namespace {

spdlog::logger& log() {
  static auto& l = logging::get("rpc");
  return l;
}

bool quiet_end(const error_code& ec) {
  return ec == asio::error::eof || ec == asio::error::connection_reset ||
         ec == asio::error::operation_aborted || ec == asio::error::bad_descriptor ||
         ec == asio::error::broken_pipe;
}

constexpr size_t kMaxFramesPerWrite = 256;
constexpr size_t kMaxBytesPerWrite = 8u << 20;

}  // namespace

struct session::ticket {
  session* owner;
  rt::semaphore::units slot;
  rt::semaphore::units memory;
  ticket(session* s, rt::semaphore::units sl, rt::semaphore::units mem)
      : owner(s), slot(std::move(sl)), memory(std::move(mem)) {}
  ~ticket() {
    slot.release();
    memory.release();
    if (--owner->outstanding_ == 0) {
      owner->outstanding_zero_.set();
      owner->out_changed_.set();
      owner->maybe_finish();
    }
  }
};

struct session::call {
  frame_header h;
  const handler* fn = nullptr;
  buffer payload;
  std::shared_ptr<ticket> t;
  asio::steady_timer timer;
  clock::time_point started;
  clock::time_point deadline;
  bool answered = false;
  explicit call(const asio::any_io_executor& ex) : timer(ex) {}
};

session::session(asio::ip::tcp::socket socket, rpc_server& server, rt::gate::holder hold)
    : stream_(std::move(socket), server.config().tls),
      in_(stream_),
      server_(server),
      hold_(std::move(hold)),
      slots_(server.config().max_in_flight_per_connection, 1, "rpc in-flight"),
      last_activity_(clock::now()),
      access_(server.config().keys && server.config().keys->enabled() ? auth::access::open
                                                                      : auth::access::write) {
  registration_ = server_.add_session(this);
}

session::~session() {
  server_.remove_session(registration_);
}

std::shared_ptr<session::ticket> session::make_ticket(rt::semaphore::units slot,
                                                      rt::semaphore::units memory) {
  ++outstanding_;
  outstanding_zero_.reset();
  return std::make_shared<ticket>(this, std::move(slot), std::move(memory));
}

awaitable<void> session::run() {
  auto self = shared_from_this();
  auto ex = co_await asio::this_coro::executor;
  asio::co_spawn(
      ex, [self]() -> awaitable<void> { co_await self->write_loop(); }, asio::detached);
  asio::co_spawn(
      ex, [self]() -> awaitable<void> { co_await self->watchdog(); }, asio::detached);
  co_await read_loop();
  reader_done_ = true;
  out_changed_.set();
  // Answer what was read: handlers finish and the writer drains (or has failed).
  while (!writer_done_ || outstanding_ > 0) {
    outstanding_zero_.reset();
    if (writer_done_ && outstanding_ > 0) {
      co_await outstanding_zero_.wait();
    } else {
      out_changed_.reset();
      co_await out_changed_.wait();
    }
  }
  done_ = true;
  if (watchdog_timer_) watchdog_timer_->cancel();
  boost::system::error_code ec;
  stream_.lower().shutdown(asio::ip::tcp::socket::shutdown_both, ec);
  stream_.lower().close(ec);
  out_changed_.set();
}

void session::request_stop() {
  stopping_ = true;
  maybe_finish();
}

void session::force_close() {
  boost::system::error_code ec;
  stream_.lower().close(ec);
}

void session::maybe_finish() {
  // Stopping, waiting for a header that may never come, nothing left to answer: stop reading.
  if (stopping_ && waiting_header_ && outstanding_ == 0) {
    boost::system::error_code ec;
    stream_.lower().cancel(ec);
  }
}

void session::push(outbound o) {
  if (writer_done_) return;  // the connection is gone; the answer (and its ticket) is dropped
  out_.push_back(std::move(o));
  out_changed_.set();
}

void session::send_error(const frame_header& request, status s, std::string_view message,
                         std::shared_ptr<void> keep) {
  frame_header h;
  h.method = request.method;
  h.correlation = request.correlation;
  h.flags = flags::response | flags::error;
  push({make_frame(h, encode_error(s, message), 0), std::move(keep)});
}

void session::answer(std::shared_ptr<call> c, status s, std::string message, bytes payload) {
  c->answered = true;
  server_.record(c->h.method, s, std::chrono::duration<double>(clock::now() - c->started).count());
  frame_header h;
  h.method = c->h.method;
  h.correlation = c->h.correlation;
  h.flags = flags::response;
  if (s != status::ok) {
    h.flags |= flags::error;
    payload = encode_error(s, message);
  }
  size_t threshold = s == status::ok ? server_.config().compress_threshold : 0;
  push({make_frame(h, std::move(payload), threshold), c->t});
}

awaitable<bool> session::authenticate(const frame_header& h, rt::semaphore::units slot) {
  // A key is short: anything longer is not one (and is not worth memory).
  constexpr size_t kMaxKeyFrame = 4096;
  if (h.payload_size > kMaxKeyFrame || h.raw_size > kMaxKeyFrame) {
    server_.count_error("unauthenticated");
    send_error(h, status::unauthenticated,
               "an API key is at most 4096 bytes; closing the connection",
               make_ticket(std::move(slot), {}));
    co_return false;
  }
  buffer wire(h.payload_size);
  body_since_ = clock::now();
  auto ec = co_await in_.read_exact(wire.data(), wire.size());
  body_since_ = clock::time_point::max();
  if (ec) co_return false;
  std::optional<buffer> key;
  if (check_payload(h, wire.span())) {
    if (auto opened = open_payload(h, std::move(wire))) key = std::move(*opened);
  }
  if (!key) {
    server_.count_error("payload_checksum");
    send_error(h, status::bad_frame, "the authenticate frame's payload is corrupt",
               make_ticket(std::move(slot), {}));
    co_return true;
  }
  const auto* keys = server_.config().keys.get();
  auto presented = std::string_view(reinterpret_cast<const char*>(key->data()), key->size());
  auto granted = keys ? keys->grant(presented) : auth::access::write;
  if (granted == auth::access::open) {
    // A wrong key ends the connection: guessing costs a connection per try.
    server_.count_error("unauthenticated");
    send_error(h, status::unauthenticated, "invalid API key; closing the connection",
               make_ticket(std::move(slot), {}));
    co_return false;
  }
  access_ = granted;
  frame_header ok;
  ok.method = h.method;
  ok.correlation = h.correlation;
  ok.flags = flags::response;
  push({make_frame(ok, {}, 0), make_ticket(std::move(slot), {})});
  co_return true;
}

awaitable<void> session::read_loop() {
  const auto& cfg = server_.config();
  header_bytes raw;
  if (stream_.is_tls()) {
    body_since_ = clock::now();  // the watchdog bounds the handshake by body_timeout
    auto ec = co_await stream_.handshake_as_server();
    body_since_ = clock::time_point::max();
    if (ec) {
      server_.count_error("tls_handshake");
      log().debug("TLS handshake failed: {}", ec.message());
      co_return;
    }
  }
  for (;;) {
    if (stopping_) co_return;
    // A slot first: with max_in_flight requests unanswered, stop reading (backpressure).
    auto slot = slots_.try_acquire(1);
    if (!slot) {
      slot = co_await slots_.acquire(1);
      if (!slot) co_return;
    }
    if (stopping_) co_return;
    waiting_header_ = true;
    auto ec = co_await in_.read_exact(raw.data(), raw.size());
    waiting_header_ = false;
    if (ec) {
      if (!quiet_end(ec)) server_.count_error("read_failed");
      co_return;
    }
    auto started = clock::now();
    last_activity_ = started;

    auto decoded = decode_header(raw);
    if (!decoded) {
      // The stream is out of step: say why (correlation 0: about the connection) and close.
      server_.count_error(decoded.error() == errc::bad_magic ? "bad_magic" : "header_checksum");
      send_error(frame_header{}, status::bad_frame,
                 fmt::format("{}; closing the connection", decoded.error().message()),
                 make_ticket(std::move(*slot), {}));
      co_return;
    }
    const frame_header h = *decoded;
    if (!check_size(h, cfg.max_frame_size)) {
      server_.count_error("frame_too_large");
      send_error(h, status::frame_too_large,
                 fmt::format("frame payload of {} bytes ({} decompressed) is larger than the "
                             "limit of {} bytes (rpc.max-frame-size); closing the connection",
                             h.payload_size, h.raw_size, cfg.max_frame_size),
                 make_ticket(std::move(*slot), {}));
      co_return;
    }
    auto budget = h.timeout_ms ? std::min<std::chrono::milliseconds>(
                                     std::chrono::milliseconds(h.timeout_ms), cfg.request_timeout)
                               : cfg.request_timeout;
    auto deadline = started + budget;

    // Frames that are sound but cannot be served: skip the payload, answer, go on.
    const handler* fn = nullptr;
    std::optional<std::pair<status, std::string>> refusal;
    if (h.version != kVersion) {
      refusal.emplace(status::unsupported_version,
                      fmt::format("unsupported protocol version {}; this server speaks version {}",
                                  h.version, kVersion));
    } else if (!check_v1(h)) {
      refusal.emplace(status::bad_frame, "invalid flags or sizes in the frame header");
    } else if (h.is_response()) {
      refusal.emplace(status::bad_frame, "a response frame was sent to the server");
    } else if (h.method == method::authenticate) {
      // A refused key ends the reading; the error frame is written before the socket closes.
      if (!co_await authenticate(h, std::move(*slot))) co_return;
      continue;
    } else if (auto needed = required_access(h.method); access_ < needed) {
      refusal.emplace(
          access_ == auth::access::open ? status::unauthenticated : status::forbidden,
          access_ == auth::access::open
              ? fmt::format("{} needs an API key: send authenticate first", method_name(h.method))
              : fmt::format("{} needs the read-write API key; this connection "
                            "authenticated with the read-only key",
                            method_name(h.method)));
    } else if ((fn = server_.methods().find(h.method)) == nullptr) {
      refusal.emplace(status::unknown_method, "unknown method " + method_name(h.method));
    }
    rt::semaphore::units memory;
    if (!refusal) {
      // Memory for the payload as sent and as decompressed (or decoded), before reading it.
      size_t want = std::min<size_t>(size_t{h.payload_size} + h.raw_size, cfg.max_memory_per_core);
      if (auto m = server_.memory().try_acquire(want)) {
        memory = std::move(*m);
      } else {
        server_.count_error("memory_wait");
        auto left = deadline - clock::now();
        auto waited = co_await server_.memory().acquire(
            want, std::max<rt::clock::duration>(left, rt::clock::duration::zero()));
        if (waited) {
          memory = std::move(*waited);
        } else {
          server_.count_error("memory_timeout");
          refusal.emplace(status::overloaded,
                          fmt::format("no room for a request of {} bytes before its deadline "
                                      "(rpc.max-memory-per-core is {} bytes)",
                                      want, cfg.max_memory_per_core));
        }
      }
    }
    if (refusal) {
      if (refusal->first != status::overloaded)
        server_.count_error(status_name(refusal->first).data());
      body_since_ = clock::now();
      ec = co_await in_.skip(h.payload_size);
      body_since_ = clock::time_point::max();
      if (ec) co_return;
      send_error(h, refusal->first, refusal->second, make_ticket(std::move(*slot), {}));
      continue;
    }

    buffer wire(h.payload_size);
    body_since_ = clock::now();
    ec = co_await in_.read_exact(wire.data(), wire.size());
    body_since_ = clock::time_point::max();
    if (ec) {
      if (!quiet_end(ec)) server_.count_error("read_failed");
      co_return;
    }
    last_activity_ = clock::now();
    if (!check_payload(h, wire.span())) {
      server_.count_error("payload_checksum");
      send_error(h, status::bad_frame, "payload checksum mismatch",
                 make_ticket(std::move(*slot), std::move(memory)));
      continue;
    }
    auto payload = open_payload(h, std::move(wire));
    if (!payload) {
      server_.count_error("decompress_failed");
      send_error(
          h, status::bad_frame,
          fmt::format("the LZ4 payload does not decompress to its declared {} bytes", h.raw_size),
          make_ticket(std::move(*slot), std::move(memory)));
      continue;
    }
    auto c = std::make_shared<call>(stream_.get_executor());
    c->h = h;
    c->fn = fn;
    c->payload = std::move(*payload);
    c->started = started;
    c->deadline = deadline;
    c->t = make_ticket(std::move(*slot), std::move(memory));
    asio::co_spawn(stream_.get_executor(), run_call(shared_from_this(), std::move(c)),
                   asio::detached);
  }
}

awaitable<void> session::run_call(std::shared_ptr<session> self, std::shared_ptr<call> c) {
  c->timer.expires_at(c->deadline);
  c->timer.async_wait([self, c](const error_code& ec) {
    if (ec || c->answered) return;
    self->server_.count_error("request_timeout");
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(c->deadline - c->started);
    self->answer(c, status::timeout,
                 fmt::format("{} did not finish within its deadline of {} ms",
                             method_name(c->h.method), ms.count()),
                 {});
  });
  request req{c->h.method, c->h.correlation, c->payload.span(), c->deadline};
  reply r;
  try {
    r = co_await (*c->fn)(req);
  } catch (const std::exception& e) {
    log().error("RPC handler {} threw: {}", method_name(c->h.method), e.what());
    r = reply::fail(status::internal, fmt::format("Service internal error: {}", e.what()));
  }
  if (!c->answered) {
    c->timer.cancel();
    self->answer(c, r.code, std::move(r.message), std::move(r.payload));
  }
}

awaitable<void> session::write_loop() {
  auto self = shared_from_this();
  const auto& cfg = server_.config();
  std::vector<outbound> batch;
  std::vector<asio::const_buffer> bufs;
  for (;;) {
    while (out_.empty() && !(reader_done_ && outstanding_ == 0)) {
      out_changed_.reset();
      co_await out_changed_.wait();
    }
    if (out_.empty()) break;
    size_t bytes_in_batch = 0;
    while (!out_.empty() && batch.size() < kMaxFramesPerWrite &&
           (batch.empty() || bytes_in_batch + out_.front().frame.size() <= kMaxBytesPerWrite)) {
      bytes_in_batch += out_.front().frame.size();
      batch.push_back(std::move(out_.front()));
      out_.pop_front();
    }
    bufs.clear();
    for (auto& o : batch) {
      bufs.push_back(asio::buffer(o.frame.header));
      if (!o.frame.payload.empty()) {
        bufs.push_back(asio::buffer(o.frame.payload.data(), o.frame.payload.size()));
      }
    }
    write_since_ = clock::now();
    auto [ec, n] = co_await asio::async_write(stream_, bufs, use_nothrow_awaitable);
    write_since_ = clock::time_point::max();
    last_activity_ = clock::now();
    batch.clear();  // tickets go: slots and memory return
    if (ec) {
      if (!quiet_end(ec)) server_.count_error("write_failed");
      force_close();
      break;
    }
  }
  writer_done_ = true;
  out_.clear();
  out_changed_.set();
  (void)cfg;
}

awaitable<void> session::watchdog() {
  auto self = shared_from_this();
  const auto& cfg = server_.config();
  auto shortest = std::min({cfg.idle_timeout, cfg.body_timeout, cfg.write_timeout});
  auto tick = std::clamp<std::chrono::milliseconds>(shortest / 4, std::chrono::milliseconds(10),
                                                    std::chrono::milliseconds(1000));
  asio::steady_timer t(co_await asio::this_coro::executor);
  watchdog_timer_ = &t;
  while (!done_) {
    t.expires_after(tick);
    co_await t.async_wait(use_nothrow_awaitable);
    if (done_) break;
    auto now = clock::now();
    if (body_since_ != clock::time_point::max() && now - body_since_ > cfg.body_timeout) {
      server_.count_error("body_timeout");
      force_close();
    } else if (write_since_ != clock::time_point::max() && now - write_since_ > cfg.write_timeout) {
      server_.count_error("write_timeout");
      force_close();
    } else if (waiting_header_ && outstanding_ == 0 && now - last_activity_ > cfg.idle_timeout) {
      force_close();  // idle: an ordinary end, not an error
    }
  }
  watchdog_timer_ = nullptr;
}

}  // namespace shoal::rpc
