// shoald: parse the configuration, set up logging, run the application.
#include <cstdio>
#include <string>
#include <vector>

#include "engine/app/application.h"
#include "engine/app/options.h"
#include "engine/common/logger.h"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  auto outcome = shoal::app::parse_options(args);
  if (auto* code = std::get_if<int>(&outcome.what)) {
    std::fputs(outcome.text.c_str(), *code == 0 ? stdout : stderr);
    return *code;
  }
  auto& cfg = std::get<shoal::app::server_config>(outcome.what);
  shoal::logging::init({.level = cfg.log_level, .file = cfg.log_file});
  int rc = shoal::app::application(std::move(cfg)).run();
  shoal::logging::shutdown();
  return rc;
}
