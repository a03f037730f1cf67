// The mutation log: durability through group commit, rolling, recovery, truncation, torn tails,
// corruption, and failing writes.
#include "engine/log/mutation_log.h"

#include <fcntl.h>
#include <fstream>
#include <unistd.h>

#include <gtest/gtest.h>

#include "engine/common/file_io.h"
#include "engine/log/errc.h"
#include "engine/runtime/smp.h"
#include "tests/unit/log/log_test_support.h"

namespace shoal::wal {
namespace {

using shoal::test::run_on_runtime;
using namespace test;

std::vector<std::filesystem::path> segment_files(const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> out;
  for (auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().extension() == ".log") out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

void flip_byte(const std::filesystem::path& file, uint64_t offset) {
  std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(static_cast<std::streamoff>(offset));
  char c;
  f.read(&c, 1);
  c = static_cast<char>(c ^ 0x5A);
  f.seekp(static_cast<std::streamoff>(offset));
  f.write(&c, 1);
}

/// Appends n records (sizes vary) and syncs; returns the last LSN.
awaitable<uint64_t> write_records(mutation_log& wal, uint64_t n, size_t size = 300) {
  uint64_t last = 0;
  for (uint64_t i = 0; i < n; ++i) {
    auto lsn = wal.next_lsn();
    auto r = wal.append(7, static_cast<uint8_t>(lsn % 5), body_of(body_for(lsn, size + lsn % 50)));
    EXPECT_TRUE(r.has_value());
    last = *r;
  }
  auto s = co_await wal.sync(last);
  EXPECT_TRUE(s.has_value()) << s.error().message();
  co_return last;
}

void expect_records(const std::vector<log_record>& got, uint64_t first, uint64_t last,
                    size_t size = 300) {
  ASSERT_EQ(got.size(), last - first + 1);
  for (uint64_t lsn = first; lsn <= last; ++lsn) {
    auto& r = got[lsn - first];
    ASSERT_EQ(r.lsn, lsn);
    EXPECT_EQ(r.term, 7u);
    EXPECT_EQ(r.type, lsn % 5);
    ASSERT_EQ(text_of(r.body), body_for(lsn, size + lsn % 50)) << "lsn " << lsn;
  }
}

TEST(MutationLog, RecordsSurviveReopenWithAndWithoutCompression) {
  shoal::test::tmpdir dir;
  run_on_runtime(1, [&]() -> awaitable<void> {
    std::vector<log_record> replayed;
    auto wal = co_await open_collecting(config_in(dir.path()), replayed);
    CO_ASSERT_TRUE(wal.has_value());
    EXPECT_EQ((*wal)->next_lsn(), 1u);
    auto last = co_await write_records(**wal, 200);
    EXPECT_EQ(last, 200u);
    EXPECT_EQ((*wal)->durable_lsn(), 200u);
    co_await (*wal)->close();
    wal->reset();

    recovery_report report;
    auto again = co_await open_collecting(config_in(dir.path()), replayed, 1, 1, &report);
    CO_ASSERT_TRUE(again.has_value());
    expect_records(replayed, 1, 200);
    EXPECT_EQ(report.records_replayed, 200u);
    EXPECT_EQ(report.torn_bytes_cut, 0u);
    EXPECT_EQ((*again)->next_lsn(), 201u);
    // Compressible (even) bodies really were compressed: the log is smaller than the data.
    uint64_t raw = 0;
    for (auto& r : replayed) raw += r.body.size() + kRecordHeaderSize;
    EXPECT_LT((*again)->disk_bytes(), raw);
  });
}

TEST(MutationLog, GroupCommitServesManyWritersWithFewFlushes) {
  shoal::test::tmpdir dir;
  run_on_runtime(1, [&]() -> awaitable<void> {
    std::vector<log_record> replayed;
    auto wal = co_await open_collecting(config_in(dir.path()), replayed);
    CO_ASSERT_TRUE(wal.has_value());
    auto& fsyncs = metrics::local().make_counter("shoal_log_fsyncs_total", "");
    auto before = fsyncs.value();
    int ok = 0;
    co_await rt::parallel_for(500, [&](size_t i) -> awaitable<void> {
      auto lsn = (*wal)->append(1, 0, body_of("writer " + std::to_string(i)));
      if (lsn && co_await (*wal)->sync(*lsn)) ++ok;
    });
    EXPECT_EQ(ok, 500);
    EXPECT_EQ((*wal)->durable_lsn(), 500u);
    auto flushes = fsyncs.value() - before;
    EXPECT_LT(flushes, 100u) << "one fdatasync must serve many writers";
    co_await (*wal)->close();
  });
}

TEST(MutationLog, SegmentsRollAndReadsCrossThem) {
  shoal::test::tmpdir dir;
  run_on_runtime(1, [&]() -> awaitable<void> {
    std::vector<log_record> replayed;
    auto cfg = config_in(dir.path(), 8 * 1024);
    auto wal = co_await open_collecting(cfg, replayed);
    CO_ASSERT_TRUE(wal.has_value());
    co_await write_records(**wal, 500);
    EXPECT_GT((*wal)->segment_count(), 10u);
    // read() returns records from any LSN, one segment at a time.
    std::vector<log_record> all;
    uint64_t from = 123;
    while (from <= (*wal)->durable_lsn()) {
      auto batch = co_await (*wal)->read(from, 4096);
      CO_ASSERT_TRUE(batch.has_value() && !batch->empty());
      from = batch->back().lsn + 1;
      for (auto& r : *batch) all.push_back(std::move(r));
    }
    expect_records(all, 123, 500);
    auto empty = co_await (*wal)->read(501, 4096);
    EXPECT_TRUE(empty.has_value() && empty->empty());
    co_await (*wal)->close();
    wal->reset();

    replayed.clear();
    auto again = co_await open_collecting(cfg, replayed);
    CO_ASSERT_TRUE(again.has_value());
    expect_records(replayed, 1, 500);
    auto lsn = (*again)->append(7, 1, body_of("next"));
    EXPECT_EQ(*lsn, 501u);
    EXPECT_TRUE(co_await (*again)->sync(501));
    co_await (*again)->close();
  });
}

TEST(MutationLog, TruncatePrefixRemovesWholeOldSegmentsOnly) {
  shoal::test::tmpdir dir;
  run_on_runtime(1, [&]() -> awaitable<void> {
    std::vector<log_record> replayed;
    auto cfg = config_in(dir.path(), 8 * 1024);
    auto wal = co_await open_collecting(cfg, replayed);
    CO_ASSERT_TRUE(wal.has_value());
    co_await write_records(**wal, 400);
    auto segments = (*wal)->segment_count();
    EXPECT_TRUE(co_await (*wal)->truncate_prefix(250));
    EXPECT_LT((*wal)->segment_count(), segments);
    auto first = (*wal)->first_lsn();
    EXPECT_LE(first, 250u) << "the segment holding LSN 250 stays";
    EXPECT_GT(first, 1u);
    co_await (*wal)->close();
    wal->reset();

    replayed.clear();
    auto again = co_await open_collecting(cfg, replayed, 250, 1);
    CO_ASSERT_TRUE(again.has_value());
    expect_records(replayed, 250, 400);
    EXPECT_TRUE(co_await (*again)->truncate_prefix(100000));  // never removes the active segment
    EXPECT_EQ((*again)->segment_count(), 1u);
    EXPECT_EQ((*again)->next_lsn(), 401u);
    co_await (*again)->close();
    // Needing records from before the first one left is a gap, not silence.
    replayed.clear();
    auto gap = co_await open_collecting(cfg, replayed, 5, 1);
    CO_ASSERT_TRUE(!gap.has_value());
    EXPECT_EQ(gap.error(), errc::lsn_gap);
  });
}

TEST(MutationLog, TruncateSuffixInsideASegmentAndAtASegmentStart) {
  shoal::test::tmpdir dir;
  run_on_runtime(1, [&]() -> awaitable<void> {
    std::vector<log_record> replayed;
    auto cfg = config_in(dir.path(), 8 * 1024);
    auto wal = co_await open_collecting(cfg, replayed);
    CO_ASSERT_TRUE(wal.has_value());
    co_await write_records(**wal, 300);
    auto cut = co_await (*wal)->truncate_suffix(251);
    EXPECT_TRUE(cut.has_value()) << cut.error().message();
    EXPECT_EQ((*wal)->next_lsn(), 251u);
    EXPECT_EQ((*wal)->durable_lsn(), 250u);
    // Appends continue at 251 with new contents.
    co_await write_records(**wal, 10);
    EXPECT_EQ((*wal)->durable_lsn(), 260u);
    co_await (*wal)->close();
    wal->reset();

    replayed.clear();
    auto again = co_await open_collecting(cfg, replayed);
    CO_ASSERT_TRUE(again.has_value());
    expect_records(replayed, 1, 260);
    // Now cut exactly at the start of the last segment, then at LSN 1 (everything).
    auto files = segment_files(dir.path());
    auto last_base = parse_segment_file_name(files.back().filename().string())->base_lsn;
    EXPECT_TRUE(co_await (*again)->truncate_suffix(last_base));
    EXPECT_EQ((*again)->next_lsn(), last_base);
    EXPECT_EQ(segment_files(dir.path()).size(), files.size() - 1);
    EXPECT_TRUE(co_await (*again)->truncate_suffix(1));
    EXPECT_EQ((*again)->next_lsn(), 1u);
    co_await write_records(**again, 5);
    co_await (*again)->close();
    again->reset();
    replayed.clear();
    auto third = co_await open_collecting(cfg, replayed);
    CO_ASSERT_TRUE(third.has_value());
    expect_records(replayed, 1, 5);
  });
}

TEST(MutationLog, ATornTailIsCutAndAppendsContinue) {
  shoal::test::tmpdir dir;
  run_on_runtime(1, [&]() -> awaitable<void> {
    std::vector<log_record> replayed;
    auto cfg = config_in(dir.path());
    {
      auto wal = co_await open_collecting(cfg, replayed);
      CO_ASSERT_TRUE(wal.has_value());
      co_await write_records(**wal, 50);
      co_await (*wal)->close();
    }
    auto file = segment_files(dir.path()).back();
    auto size = std::filesystem::file_size(file);

    // 1. A record that was being written when the process died: half a record at the end.
    {
      std::ofstream out(file, std::ios::app | std::ios::binary);
      std::string partial(40, '\x11');
      out.write(partial.data(), static_cast<std::streamsize>(partial.size()));
    }
    recovery_report report;
    replayed.clear();
    auto a = co_await open_collecting(cfg, replayed, 1, 1, &report);
    CO_ASSERT_TRUE(a.has_value());
    EXPECT_EQ(report.torn_bytes_cut, 40u);
    EXPECT_EQ((*a)->next_lsn(), 51u);
    co_await (*a)->close();
    EXPECT_EQ(std::filesystem::file_size(file), size);

    // 2. The last record cut short, and 3. the last record damaged: both cut, LSN 50 is lost.
    std::filesystem::resize_file(file, size - 7);
    replayed.clear();
    auto b = co_await open_collecting(cfg, replayed);
    CO_ASSERT_TRUE(b.has_value());
    EXPECT_EQ((*b)->next_lsn(), 50u);
    expect_records(replayed, 1, 49);
    co_await write_records(**b, 1);  // a new LSN 50
    co_await (*b)->close();
    flip_byte(file, std::filesystem::file_size(file) - 3);
    replayed.clear();
    auto c = co_await open_collecting(cfg, replayed);
    CO_ASSERT_TRUE(c.has_value());
    EXPECT_EQ((*c)->next_lsn(), 50u);
    co_await (*c)->close();
  });
}

TEST(MutationLog, DamageBeforeTheTailIsRefusedNotCut) {
  shoal::test::tmpdir dir;
  run_on_runtime(1, [&]() -> awaitable<void> {
    std::vector<log_record> replayed;
    auto cfg = config_in(dir.path(), 8 * 1024);
    {
      auto wal = co_await open_collecting(cfg, replayed);
      CO_ASSERT_TRUE(wal.has_value());
      co_await write_records(**wal, 120);
      co_await (*wal)->close();
    }
    auto files = segment_files(dir.path());
    CO_ASSERT_TRUE(files.size() >= 3);
    // In the last segment, but with good records after the damage: corruption, not a torn tail.
    flip_byte(files.back(), kSegmentHeaderSize + 20);
    auto a = co_await open_collecting(cfg, replayed);
    CO_ASSERT_TRUE(!a.has_value());
    EXPECT_EQ(a.error(), errc::corrupt_segment);
    flip_byte(files.back(), kSegmentHeaderSize + 20);  // repair

    // In an earlier segment: always corruption.
    flip_byte(files[1], std::filesystem::file_size(files[1]) - 2);
    auto b = co_await open_collecting(cfg, replayed);
    CO_ASSERT_TRUE(!b.has_value());
    EXPECT_EQ(b.error(), errc::corrupt_segment);
    flip_byte(files[1], std::filesystem::file_size(files[1]) - 2);

    // A damaged segment header, and a missing middle segment.
    flip_byte(files[0], 3);
    auto c = co_await open_collecting(cfg, replayed);
    CO_ASSERT_TRUE(!c.has_value());
    EXPECT_EQ(c.error(), errc::corrupt_segment);
    flip_byte(files[0], 3);
    std::filesystem::remove(files[1]);
    auto d = co_await open_collecting(cfg, replayed);
    CO_ASSERT_TRUE(!d.has_value());
    EXPECT_EQ(d.error(), errc::lsn_gap);
  });
}

TEST(MutationLog, ReplayStartsAtTheSnapshotAndAnOlderLogIsCleared) {
  shoal::test::tmpdir dir;
  run_on_runtime(1, [&]() -> awaitable<void> {
    std::vector<log_record> replayed;
    auto cfg = config_in(dir.path());
    {
      auto wal = co_await open_collecting(cfg, replayed);
      CO_ASSERT_TRUE(wal.has_value());
      co_await write_records(**wal, 100);
      co_await (*wal)->close();
    }
    auto a = co_await open_collecting(cfg, replayed, 61, 61);
    CO_ASSERT_TRUE(a.has_value());
    expect_records(replayed, 61, 100);
    co_await (*a)->close();
    a->reset();
    // A snapshot at LSN 500 covers the whole log: it is cleared and LSNs go on from 501.
    replayed.clear();
    auto b = co_await open_collecting(cfg, replayed, 501, 501);
    CO_ASSERT_TRUE(b.has_value());
    EXPECT_TRUE(replayed.empty());
    EXPECT_EQ((*b)->next_lsn(), 501u);
    EXPECT_EQ((*b)->segment_count(), 0u);
    co_await write_records(**b, 3);
    co_await (*b)->close();
    b->reset();
    replayed.clear();
    auto c = co_await open_collecting(cfg, replayed, 501, 501);
    CO_ASSERT_TRUE(c.has_value());
    EXPECT_EQ(replayed.size(), 3u);
    EXPECT_EQ(replayed.front().lsn, 501u);
  });
}

TEST(MutationLog, AFailedWriteFailsItsWritersAndTheLogGoesOn) {
  shoal::test::tmpdir dir;
  run_on_runtime(1, [&]() -> awaitable<void> {
    std::vector<log_record> replayed;
    auto cfg = config_in(dir.path(), 8 * 1024);
    auto wal = co_await open_collecting(cfg, replayed);
    CO_ASSERT_TRUE(wal.has_value());
    co_await write_records(**wal, 20);
    uint64_t discarded_first = 0, discarded_last = 0;
    (*wal)->set_on_discard([&](uint64_t f, uint64_t l, error_code) {
      discarded_first = f;
      discarded_last = l;
    });
    fileio::inject_fault(fileio::op::write, ENOSPC);
    auto l1 = (*wal)->append(7, 1, body_of("doomed 1"));
    auto l2 = (*wal)->append(7, 1, body_of("doomed 2"));
    auto s = co_await (*wal)->sync(*l2);
    CO_ASSERT_TRUE(!s.has_value());
    EXPECT_EQ(s.error().value(), ENOSPC);
    EXPECT_NE(s.error().message().find("No space left"), std::string::npos);
    EXPECT_EQ(discarded_first, *l1);
    EXPECT_EQ(discarded_last, *l2);
    EXPECT_EQ((*wal)->next_lsn(), 21u) << "LSNs of dropped records are reused";
    EXPECT_FALSE((*wal)->failed());
    // Space is back: writing works again, and a reopen sees no trace of the failed write.
    co_await write_records(**wal, 30);
    co_await (*wal)->close();
    wal->reset();
    replayed.clear();
    auto again = co_await open_collecting(cfg, replayed);
    CO_ASSERT_TRUE(again.has_value());
    expect_records(replayed, 1, 50);
  });
}

TEST(MutationLog, AFailedFdatasyncStopsTheLogForGood) {
  shoal::test::tmpdir dir;
  run_on_runtime(1, [&]() -> awaitable<void> {
    std::vector<log_record> replayed;
    auto wal = co_await open_collecting(config_in(dir.path()), replayed);
    CO_ASSERT_TRUE(wal.has_value());
    co_await write_records(**wal, 5);
    fileio::inject_fault(fileio::op::sync, EIO);
    auto l = (*wal)->append(7, 1, body_of("x"));
    auto s = co_await (*wal)->sync(*l);
    CO_ASSERT_TRUE(!s.has_value());
    EXPECT_EQ(s.error().value(), EIO);
    EXPECT_TRUE((*wal)->failed());
    auto later = (*wal)->append(7, 1, body_of("y"));
    CO_ASSERT_TRUE(!later.has_value());
    EXPECT_EQ(later.error(), errc::log_failed);
    auto read = co_await (*wal)->read(1, 1000);
    EXPECT_TRUE(read.has_value()) << "durable records stay readable";
    fileio::clear_faults();
    co_await (*wal)->close();
  });
}

// Records read back at recovery may be only in the page cache (the process died before its
// fdatasync): the log syncs them before it reports them durable (replication acknowledges
// durable_lsn to a leader as a copy that survives a power loss). A failing sync fails the open.
TEST(MutationLog, RecoverySyncsWhatItReadsBackBeforeCallingItDurable) {
  shoal::test::tmpdir dir;
  run_on_runtime(1, [&]() -> awaitable<void> {
    std::vector<log_record> replayed;
    auto cfg = config_in(dir.path());
    {
      auto wal = co_await open_collecting(cfg, replayed);
      CO_ASSERT_TRUE(wal.has_value());
      co_await write_records(**wal, 5);
      co_await (*wal)->close();
    }
    fileio::inject_fault(fileio::op::sync, EIO);
    replayed.clear();
    auto failed = co_await open_collecting(cfg, replayed);
    fileio::clear_faults();
    CO_ASSERT_TRUE(!failed.has_value());
    EXPECT_EQ(failed.error().value(), EIO);
    replayed.clear();
    auto wal = co_await open_collecting(cfg, replayed);
    CO_ASSERT_TRUE(wal.has_value());
    EXPECT_EQ((*wal)->durable_lsn(), 5u);
    co_await (*wal)->close();
  });
}

TEST(MutationLog, TheBacklogIsBounded) {
  shoal::test::tmpdir dir;
  run_on_runtime(1, [&]() -> awaitable<void> {
    std::vector<log_record> replayed;
    auto cfg = config_in(dir.path());
    cfg.max_backlog_bytes = 64 * 1024;
    cfg.compress_threshold = 0;
    auto wal = co_await open_collecting(cfg, replayed);
    CO_ASSERT_TRUE(wal.has_value());
    std::string big(10000, 'x');
    int accepted = 0;
    result<uint64_t> r = uint64_t{0};
    while ((r = (*wal)->append(1, 0, body_of(big)))) ++accepted;
    EXPECT_EQ(r.error(), errc::log_full);
    EXPECT_EQ(accepted, 6);
    EXPECT_TRUE(co_await (*wal)->sync((*wal)->last_lsn()));
    EXPECT_TRUE((*wal)->append(1, 0, body_of(big)).has_value()) << "room again once written";
    co_await (*wal)->close();
  });
}

}  // namespace
}  // namespace shoal::wal
