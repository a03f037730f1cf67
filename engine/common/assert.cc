#include "engine/common/assert.h"

#include <cstdio>
#include <cstdlib>
#include <execinfo.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

namespace shoal::detail {

[[noreturn]] void assert_failed(const char* expr, const char* file, int line,
                                const std::string& message) {
  // Write straight to stderr first: the async log sink may never get to run.
  std::fprintf(stderr, "shoal: assertion `%s` failed at %s:%d: %s\n", expr, file, line,
               message.c_str());
  void* frames[64];
  int n = ::backtrace(frames, 64);
  ::backtrace_symbols_fd(frames, n, STDERR_FILENO);
  if (auto logger = spdlog::default_logger()) {
    logger->critical("assertion `{}` failed at {}:{}: {}", expr, file, line, message);
    logger->flush();
  }
  std::abort();
}

}  // namespace shoal::detail
