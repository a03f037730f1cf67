// A full disk under a running shoald (issue #4): writes fail with a clear error and change
// nothing, reads go on, and once space returns writes succeed and nothing is corrupt after a
// restart. The data directory sits on a small tmpfs the test mounts (needs root, as in CI;
// skipped otherwise).
#include <fstream>
#include <random>
#include <sys/mount.h>

#include <gtest/gtest.h>

#include "tests/integration/shoald_fixture.h"

namespace shoal {
namespace {

using boost::beast::http::verb;
using namespace std::chrono_literals;

/// Points with random text payloads (the log compresses repetitive text to nothing).
std::string points_body(uint64_t from, uint64_t n, size_t text_bytes) {
  std::mt19937 rng(static_cast<uint32_t>(from));
  std::string s = "{\"points\":[";
  for (uint64_t i = from; i < from + n; ++i) {
    std::string text(text_bytes, ' ');
    for (auto& c : text) c = static_cast<char>('a' + rng() % 26);
    s += (i > from ? "," : "") + std::string("{\"id\":") + std::to_string(i) +
         ",\"vector\":[0.1,0.2,0.3,0.4],\"payload\":{\"text\":\"" + text + "\"}}";
  }
  return s + "]}";
}

TEST(DiskFull, WritesFailCleanlyReadsGoOnAndSpaceComingBackHeals) {
  test::tmpdir dir;
  auto mnt = dir / "small";
  std::filesystem::create_directories(mnt);
  if (::mount("tmpfs", mnt.c_str(), "tmpfs", 0, "size=3m") != 0) {
    GTEST_SKIP() << "cannot mount a tmpfs here (not root?)";
  }
  struct unmount {
    std::filesystem::path p;
    ~unmount() { ::umount2(p.c_str(), MNT_DETACH); }
  } guard{mnt};
  {
    std::ofstream filler(mnt / "filler", std::ios::binary);
    std::string block(1 << 20, 'f');
    filler.write(block.data(), static_cast<std::streamsize>(block.size()));
  }
  test::shoald_instance server(mnt / "data", dir.path(),
                               {"--storage.snapshot-on-shutdown", "false"});
  ASSERT_TRUE(server.start()) << server.log();
  test::http_client c(server.port(), 30s);
  ASSERT_EQ(
      c.request(
           verb::put, "/collections/full",
           R"({"vectors": {"size": 4, "distance": "Dot", "index": "flat"}, "shard_number": 1})")
          .status,
      200u);
  uint64_t acked = 0;
  test::http_reply failure;
  for (int i = 0; i < 1000; ++i) {
    auto r =
        c.request(verb::put, "/collections/full/points?wait=true", points_body(acked, 50, 400));
    if (r.status != 200) {
      failure = r;
      break;
    }
    acked += 50;
  }
  ASSERT_EQ(failure.status, 507u) << failure.body << " after " << acked << " points\n"
                                  << server.log();
  EXPECT_NE(failure.body.find("no space left on device"), std::string::npos) << failure.body;
  EXPECT_GT(acked, 0u);

  // Reads go on, and see exactly what was acknowledged (the shard reloads after the failure).
  bool settled = false;
  for (int i = 0; i < 100 && !settled; ++i) {
    auto count = c.request(verb::post, "/collections/full/points/count", "{}");
    ASSERT_EQ(count.status, 200u);
    settled = count.body.find("\"count\":" + std::to_string(acked) + "}") != std::string::npos;
    if (!settled) std::this_thread::sleep_for(20ms);
  }
  EXPECT_TRUE(settled) << "the failed write must not be visible";

  // Space comes back: writes work again.
  std::filesystem::remove(mnt / "filler");
  test::http_reply after;
  for (int i = 0; i < 100; ++i) {  // the shard may still be reloading
    after = c.request(verb::put, "/collections/full/points?wait=true", points_body(acked, 50, 400));
    if (after.status == 200) break;
    std::this_thread::sleep_for(20ms);
  }
  ASSERT_EQ(after.status, 200u) << after.body;
  acked += 50;

  // Nothing is corrupt: a restart recovers every acknowledged point.
  EXPECT_EQ(server.stop(), 0);
  ASSERT_TRUE(server.start()) << server.log();
  test::http_client again(server.port(), 30s);
  auto count = again.request(verb::post, "/collections/full/points/count", "{}");
  EXPECT_NE(count.body.find("\"count\":" + std::to_string(acked) + "}"), std::string::npos)
      << count.body << "\n"
      << server.log();
  EXPECT_EQ(server.stop(), 0);
}

}  // namespace
}  // namespace shoal
