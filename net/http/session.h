#pragma once
// One HTTP/1.1 connection (PRACTICES A17): a reader coroutine and a writer coroutine joined by a
// bounded queue of pending responses.
//
// Reader: waits for the next request under the idle timeout, reads its header under the header
// timeout with a fresh parser, finds the route, sets that route's body limit, reads the body under
// the body timeout, starts the handler as its own coroutine and queues a slot for its response.
// When `pipeline_limit` responses are pending it stops reading (so a client that pipelines cannot
// make the server buffer without bound). Writer: writes the slots in request order as each
// handler completes, under the write timeout. Framing errors answer 400/413/431 and close.
//
// Lives on the core that accepted it; held by shared_ptr from its coroutines and handlers.

#include <deque>
#include <list>
#include <memory>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include "engine/runtime/event.h"
#include "engine/runtime/gate.h"
#include "net/http/router.h"
#include "net/tls/stream.h"

namespace shoal::http {

class http_server;

class session : public std::enable_shared_from_this<session> {
 public:
  session(asio::ip::tcp::socket socket, http_server& server, rt::gate::holder hold);
  ~session();

  awaitable<void> run();
  /// Finish what was read, announce `Connection: close`, read nothing more.
  void request_stop();
  /// Close the socket now (after drain_timeout).
  void force_close();

 private:
  struct pending {
    response res;
    const route* matched = nullptr;
    bool close_after = false;
    unsigned version = 11;
    std::chrono::steady_clock::time_point received;
    rt::event done;
  };

  awaitable<void> read_loop();
  awaitable<void> write_loop();
  awaitable<bool> wait_for_next_request();
  awaitable<bool> send_continue();
  static awaitable<void> run_handler(std::shared_ptr<session> self, std::shared_ptr<pending> slot,
                                     std::shared_ptr<beast_request> req, route_match match,
                                     std::string query);
  void push(std::shared_ptr<pending> slot);
  void push_error(status code, std::string_view message, unsigned version);
  /// With API keys set: an error message when the request's key does not grant `needed`.
  std::optional<std::pair<status, std::string>> refuse_access(
      const boost::beast::http::fields& headers, auth::access needed) const;

  tls::stream<boost::beast::tcp_stream> stream_;  // plain or TLS (http_config::tls)
  boost::beast::flat_buffer buffer_;
  http_server& server_;
  rt::gate::holder hold_;
  std::list<session*>::iterator registration_;
  std::deque<std::shared_ptr<pending>> queue_;
  rt::event queue_changed_;  // reader pushed or finished; writer popped
  bool reader_done_ = false;
  bool writer_done_ = false;
  bool idle_waiting_ = false;
  bool stopping_ = false;
};

}  // namespace shoal::http
