#pragma once
// Invariant checks that stay on in every build mode (PRACTICES P16). Storage and replication keep
// running on top of them: a broken invariant there must stop the process with context, not
// silently corrupt data in a release build.
//
//   SHOAL_ASSERT(cond, "format {}", args...)   logs the message, file:line and a backtrace, aborts.
//   SHOAL_DEBUG_ASSERT(...)                    the same, compiled out in NDEBUG builds (hot paths).

#include <string>

#include <fmt/format.h>

namespace shoal::detail {
[[noreturn]] void assert_failed(const char* expr, const char* file, int line,
                                const std::string& message);
}

#define SHOAL_ASSERT(cond, ...)                                                              \
  do {                                                                                       \
    if (__builtin_expect(!(cond), 0)) {                                                      \
      ::shoal::detail::assert_failed(#cond, __FILE__, __LINE__, ::fmt::format(__VA_ARGS__)); \
    }                                                                                        \
  } while (0)

#ifdef NDEBUG
#define SHOAL_DEBUG_ASSERT(cond, ...) \
  do {                                \
  } while (0)
#else
#define SHOAL_DEBUG_ASSERT(cond, ...) SHOAL_ASSERT(cond, __VA_ARGS__)
#endif
