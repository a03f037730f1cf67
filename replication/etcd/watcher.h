#pragma once
// A watch on a key or a key range: every change after a start revision, in revision order, with
// no gap and no repeat, across connection losses and etcd restarts (the watcher reconnects to
// any endpoint and resumes after the last revision it delivered).
//
// A reader coroutine owns the stream and feeds a bounded queue; when the consumer is slow the
// reader stops reading and etcd holds the events. Lives on the core of the client it uses.
//
// A member that stops answering (frozen, overloaded) can leave its stream open and silent for
// good: its kernel still answers TCP keepalives. The watcher follows its client instead: when
// the client has moved its requests since the stream opened, and not to the stream's member (a
// request failed or timed out there), the stream is reopened where the client now goes, within
// one request timeout.
// (Some other request on the client, such as a lease keeper's refreshes, has to find that out.)
//
//   auto w = co_await watcher::start(client, key, prefix_end(key), revision + 1);
//   while (auto batch = co_await w->next(1s)) ...;   // errc::compacted: re-list, start again
//   co_await w->stop();

#include <chrono>
#include <memory>
#include <string>

#include "engine/common/result.h"
#include "engine/runtime/asio.h"
#include "engine/runtime/bounded_queue.h"
#include "engine/runtime/event.h"
#include "net/http/client.h"
#include "replication/etcd/client.h"
#include "replication/etcd/types.h"

namespace shoal::etcd {

class watcher {
 public:
  /// Watches [key, range_end) ("" = the key alone) from `start_revision` (0: from now on).
  /// Returns once the first connection is made and etcd accepted the watch; errc::unavailable
  /// or errc::timeout if that did not happen within the client's request timeout.
  static awaitable<result<std::unique_ptr<watcher>>> start(client& c, std::string key,
                                                           std::string range_end,
                                                           int64_t start_revision);
  ~watcher();

  /// The next batch of events, waiting at most `wait` (errc::timeout; the watch goes on).
  /// errc::compacted when etcd no longer has the revisions the watch needs (re-read the state
  /// and start a new watch); errc::canceled after stop() or when etcd canceled the watch.
  awaitable<result<watch_batch>> next(std::chrono::milliseconds wait);

  /// The revision the watch resumes from after a reconnection: one past the last delivered.
  int64_t next_revision() const { return next_revision_; }
  /// Connections made so far (1 + reconnections), for tests and metrics.
  size_t connections() const { return connections_; }

  /// Ends the reader and waits for it.
  awaitable<void> stop();

 private:
  watcher(client& c, std::string key, std::string range_end, int64_t start_revision);
  /// Opens a stream and reads up to etcd's "created" answer.
  awaitable<result<void>> connect(std::chrono::milliseconds timeout);
  awaitable<void> run();
  /// Closes the stream when the client has left its endpoint (run() then reconnects).
  awaitable<void> follow();
  /// Handles one line of the stream; false ends the watch (the error is queued).
  awaitable<bool> deliver(std::string_view line);

  client& client_;
  std::string key_;
  std::string range_end_;
  int64_t next_revision_;
  size_t connections_ = 0;
  size_t endpoint_ = 0;      // where the stream is
  size_t client_index_ = 0;  // where the client's requests went when it was opened
  bool stopping_ = false;
  bool reading_ = false;  // run() waits on the stream (not connecting)
  std::unique_ptr<http::client_connection> conn_;
  std::string pending_;  // bytes of an incomplete line
  struct item {
    watch_batch batch;
    error_code error;  // set: the watch ended with it
  };
  rt::bounded_queue<item> queue_{64};
  rt::event done_;
  rt::event followed_;  // follow() ended
  rt::event wake_;      // set by stop(): cuts a reconnection backoff short, ends follow()
};

}  // namespace shoal::etcd
