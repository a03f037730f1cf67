#pragma once
// One RPC connection on the server: a reader coroutine, a writer coroutine and a watchdog.
//
// Reader: takes an in-flight slot (at most max_in_flight_per_connection requests read and not
// yet answered; beyond that it stops reading), reads a header, checks it, reserves the
// request's memory (server.h), reads the payload, checks its CRC, decompresses it and starts
// the handler as its own coroutine. Requests on one connection run concurrently and are
// answered as they finish (the correlation id pairs them up).
// Writer: writes queued answers, several per system call.
// Watchdog: closes the connection when a payload takes longer than body_timeout to arrive, a
// write longer than write_timeout, or when it sat idle (nothing in flight) for idle_timeout.
//
// Protocol errors are answered with an error frame. When the header itself is sound (unknown
// version or method, bad flags, bad payload CRC, no memory in time) the payload is skipped and
// the connection goes on; when it is not (bad magic, header CRC, a frame over the size limit)
// the error frame goes out with correlation id 0 (or the frame's) and the connection closes.
//
// Lives on the core that accepted it; kept alive by its coroutines and its requests' handlers.

#include <chrono>
#include <deque>
#include <list>
#include <memory>

#include <boost/asio/ip/tcp.hpp>

#include "engine/runtime/event.h"
#include "engine/runtime/gate.h"
#include "engine/runtime/semaphore.h"
#include "net/auth/access.h"
#include "net/rpc/frame.h"
#include "net/rpc/status.h"
#include "net/rpc/stream.h"

namespace shoal::rpc {

class rpc_server;

class session : public std::enable_shared_from_this<session> {
 public:
  session(asio::ip::tcp::socket socket, rpc_server& server, rt::gate::holder hold);
  ~session();

  awaitable<void> run();
  /// Answer what was read, read nothing more, then close.
  void request_stop();
  /// Close the socket now (after drain_timeout).
  void force_close();

 private:
  /// What an answer keeps alive until it is written: the request's in-flight slot and memory.
  struct ticket;
  struct call;
  struct outbound {
    outbound_frame frame;
    std::shared_ptr<void> keep;
  };

  awaitable<void> read_loop();
  awaitable<void> write_loop();
  awaitable<void> watchdog();
  static awaitable<void> run_call(std::shared_ptr<session> self, std::shared_ptr<call> c);
  void answer(std::shared_ptr<call> c, status s, std::string message, bytes payload);
  void send_error(const frame_header& request, status s, std::string_view message,
                  std::shared_ptr<void> keep);
  void push(outbound o);
  void maybe_finish();
  std::shared_ptr<ticket> make_ticket(rt::semaphore::units slot, rt::semaphore::units memory);

  using clock = std::chrono::steady_clock;

  /// Reads an authenticate frame's payload and sets access_ (net/README.md, "Authentication").
  awaitable<bool> authenticate(const frame_header& h, rt::semaphore::units slot);

  transport stream_;  // plain TCP or TLS (server_config::tls)
  stream_reader in_;
  rpc_server& server_;
  rt::gate::holder hold_;
  std::list<session*>::iterator registration_;
  rt::semaphore slots_;
  std::deque<outbound> out_;
  rt::event out_changed_;
  size_t outstanding_ = 0;  // tickets alive: requests read and not yet answered and written
  rt::event outstanding_zero_;
  bool waiting_header_ = false;
  bool close_after_write_ = false;
  bool reader_done_ = false;
  bool writer_done_ = false;
  bool stopping_ = false;
  bool done_ = false;
  asio::steady_timer* watchdog_timer_ = nullptr;  // in the watchdog's frame
  clock::time_point last_activity_;
  clock::time_point body_since_ = clock::time_point::max();
  clock::time_point write_since_ = clock::time_point::max();
  auth::access access_;  // what this connection's key allows (everything when no keys are set)
};

}  // namespace shoal::rpc
