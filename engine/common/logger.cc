#include "engine/common/logger.h"

#include <array>
#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>
#include <unordered_map>

#include <spdlog/async.h>
#include <spdlog/details/os.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>

namespace shoal::logging {
namespace {

// Lines are formatted on the async logger's own thread, so the core is found from the thread id
// spdlog recorded when the line was logged, in a table the reactors fill as they start.
constexpr size_t kMaxCoreThreads = 1024;
std::array<std::atomic<size_t>, kMaxCoreThreads> g_core_thread_ids{};
std::atomic<size_t> g_core_threads{0};  // slots in use

int core_of_thread(size_t tid) {
  size_t n = g_core_threads.load(std::memory_order_acquire);
  for (size_t i = 0; i < n; ++i) {
    if (g_core_thread_ids[i].load(std::memory_order_relaxed) == tid) return static_cast<int>(i);
  }
  return -1;
}

class core_flag final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    int core = core_of_thread(msg.thread_id);
    if (core < 0) {
      dest.push_back('-');
    } else {
      dest.push_back('c');
      fmt::format_to(std::back_inserter(dest), "{}", core);
    }
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<core_flag>();
  }
};

struct state {
  std::mutex mu;
  std::shared_ptr<spdlog::details::thread_pool> pool;
  spdlog::sink_ptr sink;
  spdlog::level::level_enum level = spdlog::level::info;
  std::unordered_map<std::string, std::shared_ptr<spdlog::logger>> loggers;
};

state& global() {
  static state* s = new state();  // never destroyed: loggers may be used during static teardown
  return *s;
}

std::unique_ptr<spdlog::formatter> make_formatter() {
  auto f = std::make_unique<spdlog::pattern_formatter>();
  f->add_flag<core_flag>('*').set_pattern("%Y-%m-%dT%H:%M:%S.%f %^%L%$ [%*] %n: %v");
  return f;
}

std::shared_ptr<spdlog::logger> make_logger(state& s, const std::string& name) {
  auto l = std::make_shared<spdlog::async_logger>(name, s.sink, s.pool,
                                                  spdlog::async_overflow_policy::overrun_oldest);
  l->set_level(s.level);
  l->flush_on(spdlog::level::warn);
  return l;
}

void ensure_init_locked(state& s, const options& opts) {
  if (!s.pool) s.pool = std::make_shared<spdlog::details::thread_pool>(opts.queue_messages, 1);
  if (opts.file.empty()) {
    s.sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  } else {
    s.sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(opts.file);
  }
  s.sink->set_formatter(make_formatter());
  if (auto lvl = parse_level(opts.level)) s.level = *lvl;
}

}  // namespace

void register_core_thread(int core) {
  if (core >= 0 && static_cast<size_t>(core) < kMaxCoreThreads) {
    auto slot = static_cast<size_t>(core);
    g_core_thread_ids[slot].store(spdlog::details::os::thread_id());
    size_t n = g_core_threads.load();
    while (n < slot + 1 && !g_core_threads.compare_exchange_weak(n, slot + 1)) {
    }
  }
}

result<spdlog::level::level_enum> parse_level(std::string_view text) {
  static constexpr std::pair<std::string_view, spdlog::level::level_enum> levels[] = {
      {"trace", spdlog::level::trace}, {"debug", spdlog::level::debug},
      {"info", spdlog::level::info},   {"warn", spdlog::level::warn},
      {"error", spdlog::level::err},   {"critical", spdlog::level::critical},
      {"off", spdlog::level::off}};
  for (auto& [name, lvl] : levels) {
    if (name == text) return lvl;
  }
  return boost::system::errc::make_error_code(boost::system::errc::invalid_argument);
}

void init(const options& opts) {
  auto& s = global();
  std::lock_guard lock(s.mu);
  ensure_init_locked(s, opts);
  for (auto& [name, l] : s.loggers) {
    l->sinks().clear();
    l->sinks().push_back(s.sink);
    l->set_level(s.level);
  }
  if (!s.loggers.contains("shoal")) s.loggers["shoal"] = make_logger(s, "shoal");
  spdlog::set_default_logger(s.loggers["shoal"]);
}

void shutdown() {
  auto& s = global();
  std::lock_guard lock(s.mu);
  for (auto& [name, l] : s.loggers) l->flush();
  // The loggers stay alive (modules hold references); wait a bounded time for the queue to drain.
  for (int i = 0; i < 200 && s.pool && s.pool->queue_size() > 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  if (s.sink) s.sink->flush();
}

size_t dropped_messages() {
  auto& s = global();
  std::lock_guard lock(s.mu);
  return s.pool ? s.pool->overrun_counter() : 0;
}

spdlog::logger& get(const std::string& module) {
  auto& s = global();
  std::lock_guard lock(s.mu);
  if (!s.sink) ensure_init_locked(s, options{});
  auto& slot = s.loggers[module];
  if (!slot) slot = make_logger(s, module);
  return *slot;
}

}  // namespace shoal::logging
