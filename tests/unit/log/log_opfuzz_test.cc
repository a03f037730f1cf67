// Random operation sequences against a simple model of the log (PRACTICES A19): append, sync,
// background flush, read, truncate prefix and suffix, clean restarts, and crashes with torn
// tails. After every restart the log must hold every synced record, nothing that was not
// written, and no gap.
//
// SHOAL_LOG_FUZZ_OPS (default 2500) and SHOAL_LOG_FUZZ_SEEDS (default 3) make it longer.
#include <cstdlib>
#include <fstream>
#include <random>

#include <gtest/gtest.h>

#include "engine/log/errc.h"
#include "tests/unit/log/log_test_support.h"

namespace shoal::wal {
namespace {

using namespace test;

size_t env_or(const char* name, size_t fallback) {
  const char* v = std::getenv(name);
  return v ? std::strtoull(v, nullptr, 10) : fallback;
}

struct model {
  std::vector<std::string> records;  // LSN i at [i - 1]
  uint64_t durable = 0;
  uint64_t first = 1;
  uint64_t next() const { return records.size() + 1; }
};

void run_fuzz(uint64_t seed, size_t ops) {
  shoal::test::tmpdir dir;
  std::mt19937_64 rng(seed);
  auto pick = [&](uint64_t lo, uint64_t hi) {  // inclusive
    return lo >= hi ? lo : lo + rng() % (hi - lo + 1);
  };
  auto cfg = config_in(dir.path(), 4096);
  cfg.max_backlog_bytes = 1 << 20;
  model m;
  size_t restarts = 0, crashes = 0, torn = 0;
  std::vector<std::string> history;  // the last operations, printed when something breaks
  auto note = [&](std::string what) {
    history.push_back(std::move(what));
    if (history.size() > 40) history.erase(history.begin());
  };
  auto dump = [&] {
    std::string out;
    for (auto& h : history) out += "  " + h + "\n";
    return out;
  };

  shoal::test::run_on_runtime(1, [&]() -> awaitable<void> {
    std::vector<log_record> replayed;
    auto opened = co_await open_collecting(cfg, replayed);
    CO_ASSERT_TRUE(opened.has_value());
    auto wal = std::move(*opened);

    auto reopen = [&](bool crash) -> awaitable<bool> {
      if (crash) {
        co_await wal->abandon();
        ++crashes;
        if (rng() % 2) {
          // The process died in the middle of a write: garbage or half a record at the tail.
          std::vector<std::filesystem::path> files;
          for (auto& e : std::filesystem::directory_iterator(dir.path())) files.push_back(e.path());
          if (!files.empty()) {
            std::sort(files.begin(), files.end());
            std::ofstream out(files.back(), std::ios::app | std::ios::binary);
            std::string junk(pick(1, 100), '\0');
            for (auto& c : junk) c = static_cast<char>(rng());
            out.write(junk.data(), static_cast<std::streamsize>(junk.size()));
            ++torn;
          }
        }
      } else {
        co_await wal->close();
        m.durable = m.records.size();
      }
      wal.reset();
      ++restarts;
      replayed.clear();
      auto again = co_await open_collecting(cfg, replayed, m.first);
      if (!again) {
        ADD_FAILURE() << "reopen failed: " << again.error().message() << " (seed " << seed << ")";
        co_return false;
      }
      wal = std::move(*again);
      uint64_t last = wal->last_lsn();
      EXPECT_GE(last, m.durable) << "a synced record was lost (seed " << seed << ")\n" << dump();
      EXPECT_LE(last, m.records.size()) << "records appeared from nowhere";
      EXPECT_EQ(replayed.size(), last >= m.first ? last - m.first + 1 : 0);
      for (auto& r : replayed) {
        if (r.lsn > m.records.size() || text_of(r.body) != m.records[r.lsn - 1]) {
          ADD_FAILURE() << "record " << r.lsn << " differs (seed " << seed << ")";
          co_return false;
        }
      }
      m.records.resize(last);
      m.durable = last;
      co_return true;
    };

    for (size_t op = 0; op < ops; ++op) {
      auto dice = rng() % 100;
      if (dice < 55) {
        // A quarter give the log their body, some large enough for it to be adopted whole.
        bool given = rng() % 4 == 0;
        size_t size = given && rng() % 3 == 0 ? pick(15 << 10, 40 << 10) : pick(0, 1500);
        auto body = body_for(m.next() + seed * 7919, size);
        auto bytes = body_of(body);
        auto lsn = given ? wal->append(3, 1, std::move(bytes), rng() % 2 == 0)
                         : wal->append(3, 1, std::span<const std::byte>(bytes));
        CO_ASSERT_TRUE(lsn.has_value());
        CO_ASSERT_EQ(*lsn, m.next());
        m.records.push_back(body);
        note(std::string(given ? "append (given) " : "append ") + std::to_string(*lsn) + " (" +
             std::to_string(body.size()) + " bytes)");
      } else if (dice < 70) {
        if (!m.records.empty()) {
          auto s = co_await wal->sync(m.records.size());
          CO_ASSERT_TRUE(s.has_value());
          m.durable = m.records.size();
          note("sync " + std::to_string(m.durable));
        }
      } else if (dice < 75) {
        wal->request_flush();
        note("request_flush");
      } else if (dice < 83) {
        if (m.durable >= m.first && m.durable > 0) {
          uint64_t from = pick(m.first, m.durable);
          auto batch = co_await wal->read(from, pick(1, 8000));
          if (!batch || batch->empty()) {
            ADD_FAILURE() << "read from " << from << " (first " << m.first << ", durable "
                          << m.durable
                          << "): " << (batch ? std::string("nothing") : batch.error().message())
                          << "\n"
                          << dump();
            co_return;
          }
          for (auto& r : *batch) {
            CO_ASSERT_TRUE(r.lsn <= m.records.size());
            CO_ASSERT_EQ(text_of(r.body), m.records[r.lsn - 1]);
          }
          CO_ASSERT_EQ(batch->front().lsn, from);
        }
      } else if (dice < 87) {
        if (m.durable > 0) {
          auto upto = pick(m.first, m.durable);
          note("truncate_prefix " + std::to_string(upto));
          CO_ASSERT_TRUE(co_await wal->truncate_prefix(upto));
          CO_ASSERT_TRUE(wal->first_lsn() <= upto || wal->segment_count() == 1);
          m.first = std::max(m.first, std::min(wal->first_lsn(), upto));
        }
      } else if (dice < 91) {
        auto from = pick(m.first, m.next());
        note("truncate_suffix " + std::to_string(from));
        CO_ASSERT_TRUE(co_await wal->truncate_suffix(from));
        m.records.resize(from - 1);
        m.durable = m.records.size();
        CO_ASSERT_EQ(wal->next_lsn(), m.next());
      } else if (dice < 95) {
        note("restart");
        if (!co_await reopen(false)) co_return;
      } else {
        note("crash");
        if (!co_await reopen(true)) co_return;
      }
      CO_ASSERT_EQ(wal->next_lsn(), m.next());
    }
    co_await wal->close();
  });
  ::testing::Test::RecordProperty("restarts", static_cast<int>(restarts));
  EXPECT_GT(crashes + restarts, 0u);
  (void)torn;
}

TEST(MutationLogOpFuzz, RandomOperationSequencesMatchTheModel) {
  size_t seeds = env_or("SHOAL_LOG_FUZZ_SEEDS", 3);
  size_t ops = env_or("SHOAL_LOG_FUZZ_OPS", 2500);
  for (uint64_t seed = 1; seed <= seeds; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    run_fuzz(seed, ops);
    if (HasFailure()) break;
  }
}

}  // namespace
}  // namespace shoal::wal
