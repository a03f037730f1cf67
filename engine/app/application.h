#pragma once
// shoald's top level (PRACTICES A2): starts the services in order, each followed by a deferred
// stop, serves until SIGINT or SIGTERM, then stops them in reverse order and exits 0.
//
// Startup: lock the data directory (one shoald per directory), start the runtime, start the HTTP
// server on every core (core 0 binds first so port 0 works), report ready. Shutdown: not ready,
// stop accepting, finish requests already read (http.drain-timeout), stop the cores.

#include <atomic>
#include <functional>
#include <string>
#include <vector>

#include <boost/asio/signal_set.hpp>

#include "engine/app/server_config.h"
#include "engine/runtime/asio.h"

namespace shoal::app {

class application {
 public:
  explicit application(server_config cfg);
  ~application();

  /// Runs until a stop signal; returns the process exit code.
  int run();

 private:
  awaitable<void> serve();
  awaitable<void> start_and_serve();
  awaitable<void> stop_all();
  bool lock_data_dir();

  server_config cfg_;
  int exit_code_ = 0;
  int lock_fd_ = -1;
  std::atomic<bool> ready_{false};
  std::vector<std::function<awaitable<void>()>> stops_;  // run in reverse at shutdown
  std::unique_ptr<asio::signal_set> signals_;            // core 0; a second signal exits at once
};

}  // namespace shoal::app
