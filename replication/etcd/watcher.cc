#include "replication/etcd/watcher.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/beast/core/error.hpp>

#include "engine/common/assert.h"
#include "engine/common/logger.h"
#include "replication/etcd/codec.h"

namespace shoal::etcd {

namespace bhttp = boost::beast::http;
using clock_type = std::chrono::steady_clock;

namespace {

spdlog::logger& log() {
  static auto& l = logging::get("etcd");
  return l;
}

constexpr std::chrono::milliseconds kFirstBackoff{100};
constexpr std::chrono::milliseconds kMaxBackoff{2000};
constexpr std::chrono::milliseconds kMinAttempt{200};

}  // namespace

watcher::watcher(client& c, std::string key, std::string range_end, int64_t start_revision)
    : client_(c),
      key_(std::move(key)),
      range_end_(std::move(range_end)),
      next_revision_(start_revision) {}

watcher::~watcher() {
  SHOAL_ASSERT(done_.is_set() && followed_.is_set(), "an etcd watcher destroyed before stop()");
}

awaitable<result<std::unique_ptr<watcher>>> watcher::start(client& c, std::string key,
                                                           std::string range_end,
                                                           int64_t start_revision) {
  std::unique_ptr<watcher> w(new watcher(c, std::move(key), std::move(range_end), start_revision));
  if (auto r = co_await w->connect(c.config().request_timeout); !r) {
    w->done_.set();
    w->followed_.set();
    co_return r.error();
  }
  auto ex = co_await asio::this_coro::executor;
  asio::co_spawn(ex, w->run(), asio::detached);
  asio::co_spawn(ex, w->follow(), asio::detached);
  co_return std::move(w);
}

awaitable<result<void>> watcher::connect(std::chrono::milliseconds timeout) {
  const auto timeout_at = clock_type::now() + timeout;
  const size_t n = client_.config().endpoints.size();
  error_code last = make_error_code(errc::unavailable);
  // From where the client's requests go, each endpoint with a share of the time left (as the
  // client does), so that a member that never answers does not take all of it.
  const size_t first = client_.current_index();
  for (size_t attempt = 0; attempt < n && !stopping_; ++attempt) {
    const size_t endpoint = (first + attempt) % n;
    auto url = http::parse_http_url(client_.config().endpoints[endpoint]);
    SHOAL_ASSERT(url.has_value(), "the client validated its endpoints");
    conn_ = std::make_unique<http::client_connection>(*url);
    pending_.clear();
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(timeout_at - clock_type::now());
    if (left.count() <= 0) co_return errc::timeout;
    const auto budget =
        std::min(left, std::max(left / static_cast<int64_t>(n - attempt), kMinAttempt));
    const auto deadline = clock_type::now() + budget;
    auto status = co_await conn_->open_stream(
        bhttp::verb::post, "/v3/watch",
        codec::watch_create_request(key_, range_end_, next_revision_), "application/json", budget);
    if (!status) {
      log().warn("etcd watch on {}: {}", url->authority, status.error().message());
      const bool timed_out = status.error() == boost::beast::error::timeout ||
                             status.error() == asio::error::timed_out;
      last = make_error_code(timed_out ? errc::timeout : errc::unavailable);
      continue;
    }
    if (*status != 200) {
      std::string body;
      while (auto piece = co_await conn_->read_stream(budget)) body += *piece;
      auto err = codec::parse_error(*status, body);
      log().warn("etcd watch on {}: {}", url->authority, err.message);
      last = make_error_code(err.code);
      continue;
    }
    // The first message is etcd's "created"; anything else means this is not a watch stream.
    bool created = false;
    while (!created) {
      const auto wait =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock_type::now());
      if (wait.count() <= 0) break;
      auto piece = co_await conn_->read_stream(wait);
      if (!piece) break;
      pending_ += *piece;
      const size_t nl = pending_.find('\n');
      if (nl == std::string::npos) continue;
      auto msg = codec::parse_watch_message(std::string_view(pending_).substr(0, nl));
      pending_.erase(0, nl + 1);
      if (msg && std::holds_alternative<codec::watch_created>(*msg)) {
        created = true;
      } else {
        break;
      }
    }
    if (!created) {
      conn_->close();
      last = make_error_code(clock_type::now() >= deadline ? errc::timeout : errc::bad_response);
      continue;
    }
    endpoint_ = endpoint;
    client_index_ = client_.current_index();
    ++connections_;
    co_return result<void>{};
  }
  co_return last;
}

awaitable<bool> watcher::deliver(std::string_view line) {
  auto msg = codec::parse_watch_message(line);
  if (!msg) {
    log().warn("etcd watch: an answer that does not parse; reconnecting");
    conn_->close();
    co_return true;
  }
  if (auto* c = std::get_if<codec::watch_canceled>(&*msg)) {
    if (c->compact_revision > 0) {
      log().info("etcd watch from revision {}: compacted up to {}", next_revision_,
                 c->compact_revision);
      co_await queue_.push(item{{}, make_error_code(errc::compacted)});
    } else {
      log().warn("etcd canceled a watch: {}", c->reason);
      co_await queue_.push(item{{}, make_error_code(errc::canceled)});
    }
    co_return false;
  }
  auto* batch = std::get_if<watch_batch>(&*msg);
  if (!batch) co_return true;  // a repeated "created"
  if (batch->events.empty()) {
    // A progress notice: every change up to its revision has been delivered.
    next_revision_ = std::max(next_revision_, batch->revision + 1);
    co_return true;
  }
  // Drop what was already delivered (a resumed stream never repeats, but be exact anyway).
  std::erase_if(batch->events,
                [&](const watch_event& e) { return e.kv.mod_revision < next_revision_; });
  if (batch->events.empty()) co_return true;
  next_revision_ = batch->events.back().kv.mod_revision + 1;
  auto pushed = co_await queue_.push(item{std::move(*batch), {}});
  co_return pushed.has_value();
}

awaitable<void> watcher::run() {
  auto backoff = kFirstBackoff;
  bool live = true;
  while (live && !stopping_) {
    // Whole lines first (connect() may have read past etcd's "created" already).
    size_t from = 0;
    for (size_t nl; live && (nl = pending_.find('\n', from)) != std::string::npos; from = nl + 1) {
      live = co_await deliver(std::string_view(pending_).substr(from, nl - from));
    }
    pending_.erase(0, from);
    if (!live) break;
    reading_ = true;
    auto piece = co_await conn_->read_stream(std::chrono::milliseconds(0));
    reading_ = false;
    if (piece) {
      pending_ += *piece;
      backoff = kFirstBackoff;
      continue;
    }
    if (stopping_) break;
    log().info("etcd watch stream ended ({}); resuming from revision {}", piece.error().message(),
               next_revision_);
    // Reconnect until it works or stop() is called, backing off between rounds.
    while (!stopping_) {
      if (co_await connect(client_.config().request_timeout)) break;
      (void)co_await wake_.wait(backoff);
      backoff = std::min(backoff * 2, kMaxBackoff);
    }
  }
  if (conn_) conn_->close();
  queue_.close();
  done_.set();
}

awaitable<void> watcher::follow() {
  while (!co_await wake_.wait(client_.config().request_timeout)) {
    const size_t now = client_.current_index();
    if (reading_ && now != client_index_ && now != endpoint_) {
      log().info("etcd watch: the client left {}; the stream follows it",
                 client_.config().endpoints[endpoint_]);
      conn_->close();  // run() reconnects, from the client's endpoint
    }
  }
  followed_.set();
}

awaitable<result<watch_batch>> watcher::next(std::chrono::milliseconds wait) {
  auto r = co_await queue_.pop(wait);
  if (!r) co_return r.error() == rt::errc::timeout ? errc::timeout : errc::canceled;
  if (r->error) co_return r->error;
  co_return std::move(r->batch);
}

awaitable<void> watcher::stop() {
  stopping_ = true;
  wake_.set();
  if (conn_) conn_->close();
  queue_.close();
  co_await done_.wait();
  co_await followed_.wait();
}

}  // namespace shoal::etcd
