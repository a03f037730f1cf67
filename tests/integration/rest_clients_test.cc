// The real clients against a real shoald (issue #5): starts build/bin/shoald on a free port with
// a temporary data directory, runs tests/clients/compat.mjs (the Qdrant JS client and LangChain,
// pinned in tests/clients/package.json and installed by `make deps`) against it, and fails when
// the script does. The script's output is printed on failure.

#include <cstdlib>
#include <signal.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "tests/integration/shoald_fixture.h"

namespace shoal::test {
namespace {

using namespace std::chrono_literals;

TEST(RestClients, QdrantJsClientAndLangChainAgainstShoald) {
  auto clients = source_dir() / "tests/clients";
  auto node = find_on_path("node");
  ASSERT_FALSE(node.empty()) << "node is not installed: run `make deps` (Debian: nodejs npm)";
  ASSERT_TRUE(
      std::filesystem::exists(clients / "node_modules/@qdrant/js-client-rest/package.json") &&
      std::filesystem::exists(clients / "node_modules/@langchain/qdrant/package.json"))
      << "the npm clients are not installed in " << clients << ": run `make deps`";

  tmpdir dir;
  auto data = std::filesystem::absolute(dir / "data");
  shoald_instance server(data, dir.path());
  ASSERT_TRUE(server.start()) << server.log();

  auto url = "http://127.0.0.1:" + std::to_string(server.port());
  child_process script(
      node, {(clients / "compat.mjs").string(), "--url", url, "--data-dir", data.string()},
      dir / "compat.log", clients);
  auto code = script.wait_exit(240s);
  ASSERT_TRUE(code.has_value()) << "compat.mjs did not finish in 240 s:\n" << script.log();
  EXPECT_EQ(*code, 0) << "compat.mjs failed:\n"
                      << script.log() << "\n--- shoald log ---\n"
                      << server.log();
  EXPECT_NE(script.log().find("compat: all"), std::string::npos) << script.log();
  EXPECT_EQ(server.stop(), 0) << server.log();
}

}  // namespace
}  // namespace shoal::test
