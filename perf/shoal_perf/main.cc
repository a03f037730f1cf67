// shoal-perf: Shoal's benchmark and load driver, one subcommand per job
// (`shoal-perf <subcommand> --help` for each). The subcommands are listed in subcommands.h.
#include <cstdio>
#include <cstring>
#include <string>

#include "engine/common/logger.h"
#include "perf/shoal_perf/subcommands.h"

namespace {

void print_help(std::FILE* out) {
  std::fputs("usage: shoal-perf <subcommand> [options]   (shoal-perf <subcommand> --help)\n\n",
             out);
  std::fputs("subcommands:\n", out);
  for (const auto& c : shoal::perf::kSubcommands)
    std::fprintf(out, "  %-8s %s\n", c.name, c.summary);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0) {
    print_help(argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  shoal::logging::options log;
  log.level = "warn";
  shoal::logging::init(log);
  int rc = 2;
  bool found = false;
  for (const auto& c : shoal::perf::kSubcommands) {
    if (std::strcmp(argv[1], c.name) == 0) {
      found = true;
      rc = c.run(shoal::perf::args_t(argv + 2, argv + argc));
      break;
    }
  }
  if (!found) {
    std::fprintf(stderr, "shoal-perf: unknown subcommand '%s'\n\n", argv[1]);
    print_help(stderr);
  }
  shoal::logging::shutdown();
  return rc;
}
