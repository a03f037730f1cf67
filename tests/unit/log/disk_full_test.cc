// A real full disk: the log on a tiny tmpfs. Writes fail with ENOSPC and a clear message, reads
// go on, and once space returns writing resumes with nothing corrupt. Needs permission to mount
// (root, as in CI); skipped otherwise.
#include <fstream>
#include <sys/mount.h>

#include <gtest/gtest.h>

#include "tests/unit/log/log_test_support.h"

namespace shoal::wal {
namespace {

using namespace test;

class tiny_tmpfs {
 public:
  explicit tiny_tmpfs(const std::filesystem::path& at, const char* size) : at_(at) {
    std::filesystem::create_directories(at);
    std::string opts = std::string("size=") + size;
    mounted_ = ::mount("tmpfs", at.c_str(), "tmpfs", 0, opts.c_str()) == 0;
  }
  ~tiny_tmpfs() {
    if (mounted_) ::umount2(at_.c_str(), MNT_DETACH);
  }
  bool mounted() const { return mounted_; }

 private:
  std::filesystem::path at_;
  bool mounted_ = false;
};

TEST(MutationLogDiskFull, WritesFailCleanlyAndResumeWhenSpaceReturns) {
  shoal::test::tmpdir dir;
  tiny_tmpfs fs(dir / "small", "256k");
  if (!fs.mounted()) GTEST_SKIP() << "cannot mount a tmpfs here (not root?)";
  auto log_dir = dir / "small/log";
  // A filler file we can delete to give space back.
  {
    std::filesystem::create_directories(dir / "small");
    std::ofstream filler(dir / "small/filler", std::ios::binary);
    std::string block(64 * 1024, 'f');
    filler.write(block.data(), static_cast<std::streamsize>(block.size()));
  }
  shoal::test::run_on_runtime(1, [&]() -> awaitable<void> {
    std::vector<log_record> replayed;
    auto cfg = config_in(log_dir, 32 * 1024);
    cfg.compress_threshold = 0;
    auto wal = co_await open_collecting(cfg, replayed);
    CO_ASSERT_TRUE(wal.has_value());
    std::string body(3000, 'x');
    uint64_t durable = 0;
    error_code failure;
    for (int i = 0; i < 200 && !failure; ++i) {
      auto lsn = (*wal)->append(1, 0, body_of(body + std::to_string(i)));
      CO_ASSERT_TRUE(lsn.has_value());
      auto s = co_await (*wal)->sync(*lsn);
      if (s) {
        durable = *lsn;
      } else {
        failure = s.error();
      }
    }
    CO_ASSERT_TRUE(static_cast<bool>(failure));
    EXPECT_EQ(failure.value(), ENOSPC);
    EXPECT_EQ(failure.message(), "No space left on device");
    EXPECT_GT(durable, 10u);
    EXPECT_EQ((*wal)->durable_lsn(), durable);
    EXPECT_FALSE((*wal)->failed()) << "a full disk is not a reason to give up";

    // Reads go on.
    auto first = co_await (*wal)->read(1, 1 << 20);
    CO_ASSERT_TRUE(first.has_value() && !first->empty());
    EXPECT_EQ(text_of(first->front().body), body + "0");

    // Still full: still a clean error. Then space returns and writes work again.
    auto again = (*wal)->append(1, 0, body_of(body));
    EXPECT_FALSE(co_await (*wal)->sync(*again));
    std::filesystem::remove(dir / "small/filler");
    for (int i = 0; i < 10; ++i) {
      auto lsn = (*wal)->append(1, 0, body_of("after " + std::to_string(i)));
      CO_ASSERT_TRUE(lsn.has_value());
      auto s = co_await (*wal)->sync(*lsn);
      CO_ASSERT_TRUE(s.has_value());
      durable = *lsn;
    }
    co_await (*wal)->close();
    wal->reset();

    // Nothing is corrupt: every durable record comes back, in order.
    replayed.clear();
    recovery_report report;
    auto reopened = co_await open_collecting(cfg, replayed, 1, 1, &report);
    CO_ASSERT_TRUE(reopened.has_value());
    EXPECT_EQ(report.torn_bytes_cut, 0u);
    CO_ASSERT_EQ(replayed.size(), durable);
    EXPECT_EQ(text_of(replayed.back().body), "after 9");
    co_await (*reopened)->close();
  });
}

}  // namespace
}  // namespace shoal::wal
