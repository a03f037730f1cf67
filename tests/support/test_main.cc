// GoogleTest main for every Shoal test binary: logs at `warn` unless SHOAL_TEST_LOG_LEVEL says
// otherwise, so failures are readable and passing runs are quiet.
#include <cstdlib>

#include <gtest/gtest.h>

#include "engine/common/logger.h"

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  shoal::logging::options opts;
  const char* level = std::getenv("SHOAL_TEST_LOG_LEVEL");
  opts.level = level ? level : "warn";
  shoal::logging::init(opts);
  int rc = RUN_ALL_TESTS();
  shoal::logging::shutdown();
  return rc;
}
