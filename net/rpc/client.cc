#include "net/rpc/client.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <deque>
#include <sys/socket.h>
#include <unordered_map>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <fmt/format.h>

#include "engine/runtime/event.h"
#include "engine/runtime/semaphore.h"
#include "net/rpc/errc.h"
#include "net/rpc/frame.h"
#include "net/rpc/stream.h"

namespace shoal::rpc {
namespace {

using clock = std::chrono::steady_clock;
using tcp = asio::ip::tcp;

constexpr size_t kMaxFramesPerWrite = 256;
constexpr size_t kMaxBytesPerWrite = 8u << 20;
constexpr uint32_t kSkipAfterUselessCompression = 63;

std::chrono::milliseconds ms_until(clock::time_point t) {
  auto d = t - clock::now();
  if (d <= clock::duration::zero()) return std::chrono::milliseconds(0);
  return std::chrono::ceil<std::chrono::milliseconds>(d);
}

/// One call waiting for its answer (in the calling coroutine's frame).
struct pending {
  explicit pending(const asio::any_io_executor& ex, clock::time_point deadline)
      : timer(ex, deadline) {}
  asio::steady_timer timer;
  bool done = false;
  outcome<buffer> result{error{status::internal, "no answer"}};
};

/// A frame queued for the writer; a call that times out before it is written cancels it.
struct queued_frame {
  outbound_frame frame;
  bool cancelled = false;
};

}  // namespace

/// One TCP connection: a reader completing calls by correlation id and a writer.
struct connection : std::enable_shared_from_this<connection> {
  connection(tcp::socket s, const std::shared_ptr<asio::ssl::context>& tls, size_t max_frame,
             std::chrono::milliseconds write_timeout)
      : stream(std::move(s), tls),
        socket(stream.lower()),
        in(stream),
        write_timer(stream.get_executor()),
        max_frame_size(max_frame),
        write_timeout(write_timeout) {}

  transport stream;     // plain or TLS
  tcp::socket& socket;  // under it: closing it ends the connection
  stream_reader in;
  asio::steady_timer write_timer;
  size_t max_frame_size;
  std::chrono::milliseconds write_timeout;
  std::unordered_map<uint64_t, pending*> waiting;
  std::deque<std::shared_ptr<queued_frame>> out;
  rt::event out_changed;
  bool broken = false;
  bool closing = false;  // the server said it closes this connection: no new calls on it
  clock::time_point last_heard = clock::now();  // the last frame received (or the connect)

  /// A connection with nothing in flight that has been quiet a while may have been closed by
  /// the server (its idle timeout) without this side having run its reader since: peek for
  /// end-of-stream before putting a request on it, so that request is not lost to the race.
  bool closed_while_idle() {
    if (broken || closing) return true;
    if (!waiting.empty() || clock::now() - last_heard < std::chrono::milliseconds(50)) {
      return false;
    }
    char byte;
    ssize_t n = ::recv(socket.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
      fail_all({status::disconnected, "the server closed the idle connection"});
      return true;
    }
    return false;
  }

  void complete(pending* p, outcome<buffer> r) {
    p->done = true;
    p->result = std::move(r);
    p->timer.cancel();
  }

  /// Ends the connection: every call in flight returns `e`.
  void fail_all(const error& e) {
    if (broken) return;
    broken = true;
    auto calls = std::move(waiting);
    waiting.clear();
    for (auto& [id, p] : calls) complete(p, e);
    boost::system::error_code ignored;
    socket.close(ignored);
    out.clear();
    out_changed.set();
  }

  awaitable<void> read_loop() {
    auto self = shared_from_this();
    header_bytes raw;
    for (;;) {
      auto ec = co_await in.read_exact(raw.data(), raw.size());
      if (ec) {
        fail_all({status::disconnected, "connection lost: " + ec.message()});
        co_return;
      }
      auto h = decode_header(raw);
      if (!h) {
        fail_all({status::bad_frame, "bad frame from the server: " + h.error().message()});
        co_return;
      }
      if (!check_size(*h, max_frame_size)) {
        fail_all({status::frame_too_large,
                  fmt::format("a response of {} bytes is larger than max_frame_size {}",
                              h->raw_size, max_frame_size)});
        co_return;
      }
      if (h->version != kVersion || !check_v1(*h) || !h->is_response()) {
        fail_all({status::bad_frame, fmt::format("unexpected frame from the server (version {}, "
                                                 "flags {:#x})",
                                                 h->version, h->flags)});
        co_return;
      }
      buffer wire(h->payload_size);
      ec = co_await in.read_exact(wire.data(), wire.size());
      if (ec) {
        fail_all({status::disconnected, "connection lost: " + ec.message()});
        co_return;
      }
      outcome<buffer> result{error{status::internal, ""}};
      if (!check_payload(*h, wire.span())) {
        result = error{status::bad_frame, "response payload checksum mismatch"};
      } else if (auto payload = open_payload(*h, std::move(wire)); !payload) {
        result = error{status::bad_frame, "response payload does not decompress"};
      } else if (h->is_error()) {
        result = decode_error(payload->span());
      } else {
        result = std::move(*payload);
      }
      if (h->correlation == 0) {
        // About the connection itself (the server refused it or lost the stream).
        fail_all(result ? error{status::bad_frame, "unexpected response with correlation 0"}
                        : result.error());
        co_return;
      }
      last_heard = clock::now();
      // The server closes a connection after refusing a frame over its size limit.
      if (!result && result.error().code == status::frame_too_large) closing = true;
      auto it = waiting.find(h->correlation);
      if (it == waiting.end()) continue;  // its call timed out: dropped
      auto* p = it->second;
      waiting.erase(it);
      complete(p, std::move(result));
    }
  }

  awaitable<void> write_loop() {
    auto self = shared_from_this();
    std::vector<std::shared_ptr<queued_frame>> batch;
    std::vector<asio::const_buffer> bufs;
    for (;;) {
      while (out.empty() && !broken) {
        out_changed.reset();
        co_await out_changed.wait();
      }
      if (broken) co_return;
      size_t bytes_in_batch = 0;
      batch.clear();
      bufs.clear();
      while (!out.empty() && batch.size() < kMaxFramesPerWrite &&
             (batch.empty() || bytes_in_batch + out.front()->frame.size() <= kMaxBytesPerWrite)) {
        auto f = std::move(out.front());
        out.pop_front();
        if (f->cancelled) continue;
        bytes_in_batch += f->frame.size();
        bufs.push_back(asio::buffer(f->frame.header));
        if (!f->frame.payload.empty()) {
          bufs.push_back(asio::buffer(f->frame.payload.data(), f->frame.payload.size()));
        }
        batch.push_back(std::move(f));
      }
      if (batch.empty()) continue;
      write_timer.expires_after(write_timeout);
      write_timer.async_wait([self](const error_code& ec) {
        if (ec) return;
        self->fail_all({status::disconnected, "write timed out"});
      });
      auto [ec, n] = co_await asio::async_write(stream, bufs, use_nothrow_awaitable);
      write_timer.cancel();
      batch.clear();
      if (ec) {
        fail_all({status::disconnected, "connection lost while writing: " + ec.message()});
        co_return;
      }
    }
  }
};

struct client::state {
  state(asio::any_io_executor e, client_options opts)
      : ex(std::move(e)), o(std::move(opts)), window(o.max_in_flight, 1'000'000, "rpc window") {}

  asio::any_io_executor ex;
  client_options o;
  rt::semaphore window;
  std::shared_ptr<connection> conn;
  bool connecting = false;
  rt::event connect_done;
  std::chrono::milliseconds backoff{0};
  clock::time_point next_attempt{};
  std::string last_connect_error = "not connected yet";
  uint64_t next_id = 1;
  uint64_t connects = 0;
  bool closed = false;
  std::unordered_map<uint16_t, uint32_t> skip_compression;

  awaitable<outcome<std::shared_ptr<connection>>> connect_once(clock::time_point deadline) {
    tcp::endpoint ep;
    boost::system::error_code ec;
    auto addr = asio::ip::make_address(o.host, ec);
    if (!ec) {
      ep = tcp::endpoint(addr, o.port);
    } else {
      tcp::resolver resolver(ex);
      auto [rec, results] =
          co_await resolver.async_resolve(o.host, std::to_string(o.port), use_nothrow_awaitable);
      if (rec || results.empty()) {
        co_return error{status::connect_failed,
                        fmt::format("cannot resolve {}: {}", o.host,
                                    rec ? rec.message() : std::string("no address"))};
      }
      ep = results.begin()->endpoint();
    }
    auto socket = std::make_shared<tcp::socket>(ex);
    auto timer = std::make_shared<asio::steady_timer>(ex, deadline);
    auto timed_out = std::make_shared<bool>(false);
    timer->async_wait([socket, timed_out](const error_code& e) {
      if (e) return;
      *timed_out = true;
      boost::system::error_code ignored;
      socket->close(ignored);
    });
    auto [cec] = co_await socket->async_connect(ep, use_nothrow_awaitable);
    timer->cancel();
    if (cec || *timed_out) {
      co_return error{status::connect_failed,
                      fmt::format("cannot connect to {}:{}: {}", o.host, o.port,
                                  *timed_out ? std::string("timed out") : cec.message())};
    }
    socket->set_option(tcp::no_delay(true), ec);
    auto c = std::make_shared<connection>(std::move(*socket), o.security.tls, o.max_frame_size,
                                          o.write_timeout);
    if (!o.security.tls && o.security.api_key.empty()) co_return c;
    // TLS handshake and authentication within the same attempt deadline.
    timer->expires_at(deadline);
    *timed_out = false;
    timer->async_wait([c, timed_out](const error_code& e) {
      if (e) return;
      *timed_out = true;
      boost::system::error_code ignored;
      c->socket.close(ignored);
    });
    auto ready = co_await secure(*c);
    timer->cancel();
    if (!ready) {
      co_return error{ready.error().code,
                      *timed_out ? ready.error().message + " (timed out)" : ready.error().message};
    }
    co_return c;
  }

  /// On a fresh connection, before its reader and writer start: the TLS handshake, then the
  /// API key (one authenticate frame and its answer).
  awaitable<outcome<void>> secure(connection& c) {
    if (auto ec = co_await c.stream.handshake_as_client(o.host)) {
      co_return error{status::connect_failed, fmt::format("TLS handshake with {}:{} failed: {}",
                                                          o.host, o.port, ec.message())};
    }
    if (o.security.api_key.empty()) co_return outcome<void>{};
    frame_header h;
    h.method = method::authenticate;
    h.correlation = next_id++;
    auto key = bytes(
        reinterpret_cast<const std::byte*>(o.security.api_key.data()),
        reinterpret_cast<const std::byte*>(o.security.api_key.data()) + o.security.api_key.size());
    auto f = make_frame(h, std::move(key), 0);
    std::array<asio::const_buffer, 2> bufs = {asio::buffer(f.header),
                                              asio::buffer(f.payload.data(), f.payload.size())};
    auto [wec, n] = co_await asio::async_write(c.stream, bufs, use_nothrow_awaitable);
    if (wec) {
      co_return error{status::connect_failed, fmt::format("cannot authenticate with {}:{}: {}",
                                                          o.host, o.port, wec.message())};
    }
    header_bytes raw;
    auto rec = co_await c.in.read_exact(raw.data(), raw.size());
    auto rh = rec ? result<frame_header>(rec) : decode_header(raw);
    if (!rh || !check_size(*rh, 64 * 1024) || rh->correlation != h.correlation) {
      co_return error{status::connect_failed,
                      fmt::format("no answer to authenticate from {}:{}", o.host, o.port)};
    }
    buffer wire(rh->payload_size);
    if (auto e = co_await c.in.read_exact(wire.data(), wire.size()); e) {
      co_return error{status::connect_failed,
                      fmt::format("no answer to authenticate from {}:{}", o.host, o.port)};
    }
    if (!rh->is_error()) co_return outcome<void>{};
    if (!check_payload(*rh, wire.span())) {
      co_return error{status::bad_frame, "corrupt answer to authenticate"};
    }
    auto payload = open_payload(*rh, std::move(wire));
    if (!payload) co_return error{status::bad_frame, "corrupt answer to authenticate"};
    co_return decode_error(payload->span());
  }

  awaitable<outcome<std::shared_ptr<connection>>> get_connection(clock::time_point deadline) {
    for (;;) {
      if (closed) co_return error{status::unavailable, "the client is closed"};
      if (conn && !conn->closed_while_idle()) co_return conn;
      if (connecting) {
        connect_done.reset();
        if (!co_await connect_done.wait(deadline - clock::now())) {
          co_return error{status::connect_failed, last_connect_error};
        }
        continue;
      }
      auto now = clock::now();
      if (now < next_attempt) {
        // Backing off after a failed attempt.
        asio::steady_timer pause(ex, std::min(next_attempt, deadline));
        co_await pause.async_wait(use_nothrow_awaitable);
        if (clock::now() >= deadline) {
          co_return error{status::connect_failed,
                          last_connect_error + " (retrying with backoff; deadline passed)"};
        }
        continue;
      }
      connecting = true;
      auto attempt_deadline = std::min(deadline, now + o.connect_timeout);
      auto made = co_await connect_once(attempt_deadline);
      connecting = false;
      if (made) {
        conn = *made;
        backoff = std::chrono::milliseconds(0);
        ++connects;
        auto c = conn;
        asio::co_spawn(
            ex, [c]() -> awaitable<void> { co_await c->read_loop(); }, asio::detached);
        asio::co_spawn(
            ex, [c]() -> awaitable<void> { co_await c->write_loop(); }, asio::detached);
        connect_done.set();
        co_return conn;
      }
      last_connect_error = made.error().message;
      backoff = backoff.count() == 0 ? o.backoff_initial : std::min(backoff * 2, o.backoff_max);
      next_attempt = clock::now() + backoff;
      connect_done.set();
      // A refused key will be refused again: no point waiting for the deadline.
      if (clock::now() >= deadline || made.error().code == status::unauthenticated) {
        co_return made.error();
      }
    }
  }

  size_t threshold_for(uint16_t method) {
    if (o.compress_threshold == 0) return 0;
    auto it = skip_compression.find(method);
    if (it != skip_compression.end() && it->second > 0) {
      --it->second;
      return 0;
    }
    return o.compress_threshold;
  }
};

client::client(asio::any_io_executor ex, client_options o)
    : st_(std::make_shared<state>(std::move(ex), std::move(o))) {}

client::~client() {
  close();
}

void client::close() {
  st_->closed = true;
  if (st_->conn) st_->conn->fail_all({status::disconnected, "the client was closed"});
  st_->conn.reset();
}

const client_options& client::options() const {
  return st_->o;
}

uint64_t client::connects() const {
  return st_->connects;
}

size_t client::in_flight() const {
  return st_->o.max_in_flight - st_->window.available();
}

awaitable<outcome<buffer>> client::call(uint16_t method, bytes payload,
                                        std::optional<std::chrono::milliseconds> timeout) {
  auto st = st_;
  auto budget = timeout.value_or(st->o.request_timeout);
  auto deadline = clock::now() + budget;
  if (st->closed) co_return error{status::unavailable, "the client is closed"};
  if (payload.size() > st->o.max_frame_size || payload.size() > UINT32_MAX) {
    co_return error{status::frame_too_large,
                    fmt::format("a request of {} bytes is larger than max_frame_size {}",
                                payload.size(), st->o.max_frame_size)};
  }
  auto slot = st->window.try_acquire(1);
  if (!slot) {
    slot = co_await st->window.acquire(1, deadline - clock::now());
    if (!slot) {
      co_return error{status::timeout,
                      fmt::format("no in-flight slot within {} ms ({} calls in flight)",
                                  budget.count(), st->o.max_in_flight)};
    }
  }
  auto got = co_await st->get_connection(deadline);
  if (!got) co_return got.error();
  auto conn = *got;

  frame_header h;
  h.method = method;
  h.correlation = st->next_id++;
  h.timeout_ms =
      static_cast<uint32_t>(std::clamp<int64_t>(ms_until(deadline).count(), 1, UINT32_MAX));
  size_t threshold = st->threshold_for(method);
  bool compressed = false;
  bool tried = threshold != 0 && payload.size() >= threshold;
  auto f = std::make_shared<queued_frame>();
  f->frame = make_frame(h, std::move(payload), threshold, &compressed);
  if (tried && !compressed) st->skip_compression[method] = kSkipAfterUselessCompression;

  pending p(st->ex, deadline);
  conn->waiting.emplace(h.correlation, &p);
  struct unregister {
    connection& c;
    uint64_t id;
    ~unregister() { c.waiting.erase(id); }
  } guard{*conn, h.correlation};
  conn->out.push_back(f);
  conn->out_changed.set();
  co_await p.timer.async_wait(use_nothrow_awaitable);
  if (!p.done) {
    f->cancelled = true;
    co_return error{status::timeout, fmt::format("{} got no answer within {} ms",
                                                 method_name(method), budget.count())};
  }
  co_return std::move(p.result);
}

namespace {

template <typename T, typename Decode>
outcome<T> decoded(outcome<buffer>& r, Decode decode, const char* what) {
  if (!r) return r.error();
  auto d = decode(r->span());
  if (!d) return error{status::malformed, fmt::format("the {} response does not decode", what)};
  return std::move(*d);
}

}  // namespace

awaitable<outcome<ping_response>> client::ping() {
  auto r = co_await call(method::ping, encode_ping_request());
  co_return decoded<ping_response>(r, decode_ping_response, "ping");
}

awaitable<outcome<bool>> client::create_collection(create_collection_request req) {
  auto r = co_await call(method::create_collection, encode(req));
  co_return decoded<bool>(r, decode_bool_response, "create_collection");
}

awaitable<outcome<bool>> client::drop_collection(std::string name) {
  auto r = co_await call(method::drop_collection, encode_name_request(name));
  co_return decoded<bool>(r, decode_bool_response, "drop_collection");
}

awaitable<outcome<collection_info>> client::get_collection(std::string name) {
  auto r = co_await call_following(method::collection_info,
                                   [&name] { return encode_name_request(name); });
  co_return decoded<collection_info>(r, decode_collection_info, "collection_info");
}

std::string client::target() const {
  return fmt::format("{}:{}", st_->o.host, st_->o.port);
}

bool client::retarget(std::string_view message) {
  // not_leader messages start with the leader's RPC address (api_status.cc).
  auto address = message.substr(0, message.find(' '));
  auto colon = address.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  unsigned port = 0;
  auto digits = address.substr(colon + 1);
  auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
  if (ec != std::errc() || p != digits.data() + digits.size() || port == 0 || port > 65535) {
    return false;
  }
  auto host = std::string(address.substr(0, colon));
  auto& st = *st_;
  if (host == st.o.host && port == st.o.port) return false;  // it names us: do not loop
  st.o.host = std::move(host);
  st.o.port = static_cast<uint16_t>(port);
  if (st.conn) {
    st.conn->fail_all({status::disconnected, "the client follows the leader to " + target()});
    st.conn.reset();
  }
  st.backoff = std::chrono::milliseconds(0);
  st.next_attempt = {};
  return true;
}

awaitable<outcome<buffer>> client::call_following(uint16_t method, std::function<bytes()> make) {
  auto r = co_await call(method, make());
  // Two hops at most: a leader that moved once more while the call travelled.
  for (int hop = 0; hop < 2 && st_->o.follow_leader && !r && r.error().code == status::not_leader;
       ++hop) {
    if (!retarget(r.error().message)) break;
    r = co_await call(method, make());
  }
  co_return r;
}

awaitable<outcome<write_result>> client::upsert(upsert_request req) {
  auto r = co_await call_following(method::upsert, [&req] { return encode(req); });
  co_return decoded<write_result>(r, decode_write_result, "upsert");
}

awaitable<outcome<write_result>> client::delete_points(delete_request req) {
  auto r = co_await call_following(method::delete_points, [&req] { return encode(req); });
  co_return decoded<write_result>(r, decode_write_result, "delete_points");
}

awaitable<outcome<search_results>> client::search(search_request req) {
  auto r = co_await call_following(method::search, [&req] { return encode(req); });
  co_return decoded<search_results>(r, decode_search_results, "search");
}

sync_client::sync_client(client_options o)
    : c_(std::make_unique<client>(ioc_.get_executor(), std::move(o))) {}

sync_client::~sync_client() {
  c_->close();
  ioc_.restart();
  ioc_.poll();
  c_.reset();
}

}  // namespace shoal::rpc
