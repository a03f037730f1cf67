#pragma once
// Logging: spdlog behind one non-blocking async sink (PRACTICES P2, P17). When the queue is full
// the oldest messages are dropped instead of blocking a reactor thread. Each line carries the core
// it was logged on (`[c3]`, or `[-]` off the reactors).
//
// Each module keeps one named logger: `static auto& log = logging::get("http");`. spdlog checks the
// level before it formats arguments, so disabled debug lines cost a branch.

#include <memory>
#include <string>
#include <string_view>

#include <spdlog/spdlog.h>

#include "engine/common/result.h"

namespace shoal::logging {

struct options {
  std::string level = "info";     // trace|debug|info|warn|error|critical|off
  std::string file;               // empty: stderr
  size_t queue_messages = 16384;  // async queue; overruns drop the oldest message
};

/// Sets up the sink and the level for every logger, existing and future. Safe to call again.
void init(const options& opts);
/// Flushes and stops the background thread. Called once at exit.
void shutdown();
/// Called by a reactor thread as it starts, so its lines are tagged with its core.
void register_core_thread(int core);
/// Messages dropped because the async queue was full (a metric).
size_t dropped_messages();
/// A named module logger ("http", "runtime", ...), created on first use.
spdlog::logger& get(const std::string& module);
/// "info" -> level; anything unknown is an error naming the accepted values.
result<spdlog::level::level_enum> parse_level(std::string_view text);

}  // namespace shoal::logging
