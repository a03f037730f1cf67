// Where two replicas' logs part (term_history.h, common_point): the cases a replication stream
// meets (issue #17 scenario 3, Kafka's KIP-279: the follower's last term never reached the
// leader), random histories against a per-LSN comparison of their terms, and a simulation of
// replicas under elections, writes, partial shipping and snapshots in which the common point
// computed from histories must equal the longest prefix of identical records.
#include <random>

#include <gtest/gtest.h>

#include "engine/shard/term_history.h"

namespace shoal::shard {
namespace {

uint64_t common(const std::vector<term_start>& a, uint64_t a_last, const std::vector<term_start>& b,
                uint64_t b_last, uint64_t b_from = 0) {
  uint64_t ab = common_point({a, a_last, 0}, {b, b_last, b_from});
  uint64_t ba = common_point({b, b_last, b_from}, {a, a_last, 0});
  EXPECT_EQ(ab, ba) << "symmetric";
  return ab;
}

TEST(CommonPoint, FollowersLastTermNeverReachedTheLeader) {
  // Term 1 wrote 1..20, C held 1..10; C led term 2 and wrote 11..15; A leads term 3 from 21.
  std::vector<term_start> leader{{1, 1}, {3, 21}};
  std::vector<term_start> c{{1, 1}, {2, 11}};
  EXPECT_EQ(common(leader, 20, c, 15), 10u) << "what C wrote in term 2 is cut";
  EXPECT_EQ(common(leader, 30, c, 15), 10u);
  // What the old rule gave: the leader's end of the newest term before 2, past C's term 1.
  EXPECT_EQ(std::min<uint64_t>(15, term_history(leader).end_of(2, 30)), 15u);
}

TEST(CommonPoint, LeadersTermAbsentOnTheFollower) {
  std::vector<term_start> leader{{1, 1}, {3, 11}};
  EXPECT_EQ(common(leader, 15, {{1, 1}}, 10), 10u) << "behind: nothing to cut";
  EXPECT_EQ(common(leader, 15, {{1, 1}}, 5), 5u);
  EXPECT_EQ(common(leader, 15, {{1, 1}}, 20), 10u) << "ahead in an older term: cut after 10";
  EXPECT_EQ(common(leader, 15, {{1, 1}, {2, 13}}, 14), 10u);
}

TEST(CommonPoint, SameTermAheadOrBehind) {
  EXPECT_EQ(common({{1, 1}}, 20, {{1, 1}}, 30), 20u) << "a deposed leader's own tail";
  EXPECT_EQ(common({{1, 1}, {2, 21}}, 25, {{1, 1}}, 30), 20u);
  EXPECT_EQ(common({{1, 1}, {2, 21}}, 25, {{1, 1}, {2, 21}}, 23), 23u);
  EXPECT_EQ(common({{1, 1}, {2, 21}, {4, 31}}, 40, {{1, 1}, {2, 21}, {3, 26}}, 28), 25u);
}

TEST(CommonPoint, EmptyLogsAndHistories) {
  EXPECT_EQ(common({}, 0, {}, 0), 0u);
  EXPECT_EQ(common({{1, 1}}, 10, {}, 0), 0u);
  EXPECT_EQ(common({}, 0, {{1, 1}}, 10), 0u);
  EXPECT_EQ(common({{1, 1}}, 0, {{1, 1}}, 0), 0u) << "a term begun, nothing written";
  EXPECT_EQ(common({{1, 1}}, 10, {{2, 1}}, 10), 0u) << "nothing shared";
}

TEST(CommonPoint, RecordsWrittenBeforeAnyTerm) {
  // A shard that led on its own (term 0) and then joined a cluster.
  EXPECT_EQ(common({}, 8, {}, 5), 5u);
  EXPECT_EQ(common({{2, 6}}, 10, {}, 8), 5u);
  EXPECT_EQ(common({{2, 6}}, 10, {{0, 3}, {2, 6}}, 10), 10u) << "an entry of term 0 continues it";
  EXPECT_EQ(common({{0, 1}}, 4, {}, 9), 4u);
  EXPECT_EQ(common({{1, 1}}, 8, {}, 5), 0u) << "term 1 there, term 0 here";
}

TEST(CommonPoint, SnapshotInstalledHistories) {
  // A follower that installed the leader's snapshot at 30 holds its history up to 30.
  std::vector<term_start> leader{{1, 1}, {4, 21}};
  EXPECT_EQ(common(leader, 40, {{1, 1}, {4, 21}}, 30), 30u);
  // The old leader of term 3 returning after it: it wrote 21..35 in term 3.
  EXPECT_EQ(common(leader, 40, {{1, 1}, {3, 21}}, 35), 20u);
}

TEST(CommonPoint, TermsThatWroteNothing) {
  // C led term 2 from 11 but wrote nothing (the entry stays after its log's end).
  EXPECT_EQ(common({{1, 1}, {3, 21}}, 25, {{1, 1}, {2, 11}}, 10), 10u);
  EXPECT_EQ(common({{1, 1}, {3, 11}}, 25, {{1, 1}, {2, 11}}, 10), 10u);
  // The leader's own term, begun and empty.
  EXPECT_EQ(common({{1, 1}, {3, 21}}, 20, {{1, 1}}, 25), 20u);
}

TEST(CommonPoint, ABoundedHistoryNeverMatchesBeforeItsFirstEntry) {
  std::vector<term_start> leader{{1, 1}, {5, 50}};
  // Only the newest entry sent; it matches.
  EXPECT_EQ(common(leader, 60, {{5, 50}}, 55, 50), 55u);
  // Its term is not the leader's: below it nothing is known, so nothing is kept.
  EXPECT_EQ(common({{1, 1}, {3, 21}}, 30, {{2, 11}}, 15, 11), 0u);
  // A term-0 looking gap below it is not term 0.
  EXPECT_EQ(common({{5, 50}}, 60, {{5, 50}}, 55, 50), 55u);
  EXPECT_EQ(common({{6, 50}}, 60, {{5, 50}}, 55, 50), 0u);
}

// ---- random histories against the definition, LSN by LSN ----

uint64_t known_term(const term_history& h, uint64_t from, uint64_t lsn, bool& known) {
  known = from <= 1 || lsn >= from;
  return h.term_at(lsn);
}

uint64_t brute_force(const term_history& a, uint64_t a_last, uint64_t a_from, const term_history& b,
                     uint64_t b_last, uint64_t b_from) {
  for (uint64_t x = std::min(a_last, b_last); x > 0; --x) {
    bool ka = false, kb = false;
    uint64_t ta = known_term(a, a_from, x, ka);
    uint64_t tb = known_term(b, b_from, x, kb);
    if (ka && kb && ta == tb) return x;
  }
  return 0;
}

term_history random_history(std::mt19937_64& rng, uint64_t max_lsn) {
  term_history h;
  uint64_t term = rng() % 3, start = 1 + rng() % 4;
  int n = static_cast<int>(rng() % 6);
  for (int i = 0; i < n && start <= max_lsn + 1; ++i) {
    EXPECT_TRUE(h.begin(term, start));
    term += 1 + rng() % 3;
    start += 1 + rng() % 8;
  }
  return h;
}

TEST(CommonPoint, MatchesAPerLsnComparisonOnRandomHistories) {
  std::mt19937_64 rng(17);
  for (int i = 0; i < 200'000; ++i) {
    auto a = random_history(rng, 40);
    auto b = random_history(rng, 40);
    uint64_t a_last = rng() % 41, b_last = rng() % 41;
    uint64_t a_from = 0, b_from = 0;
    if (rng() % 4 == 0 && !a.entries().empty()) a_from = a.entries().front().start_lsn;
    if (rng() % 4 == 0 && !b.entries().empty()) b_from = b.entries().front().start_lsn;
    uint64_t want = brute_force(a, a_last, a_from, b, b_last, b_from);
    uint64_t got = common_point({a.entries(), a_last, a_from}, {b.entries(), b_last, b_from});
    ASSERT_EQ(got, want) << "case " << i;
  }
}

// ---- replicas simulated: the common point equals the longest prefix of identical records ----

struct sim_record {
  uint64_t term = 0;
  uint64_t id = 0;  // unique per write: equal ids are the same record
};

struct sim_replica {
  std::vector<sim_record> log;  // LSN i + 1 at log[i]
  term_history terms;
  uint64_t known = 0;
  bool leading = false;
  uint64_t first = 1;  // the first LSN still in the log; older ones are in a snapshot

  uint64_t last() const { return log.size(); }
  void check_terms() const {
    for (uint64_t lsn = 1; lsn <= last(); ++lsn) {
      ASSERT_EQ(terms.term_at(lsn), log[lsn - 1].term) << "history vs record at " << lsn;
    }
  }
};

uint64_t shared_prefix(const sim_replica& a, const sim_replica& b) {
  uint64_t n = std::min(a.last(), b.last()), x = 0;
  while (x < n && a.log[x].id == b.log[x].id) ++x;
  return x;
}

/// What the follower sends: its whole history, or (sometimes) only its newest entries.
std::vector<term_start> sent_terms(const sim_replica& f, size_t keep, uint64_t& from) {
  auto& all = f.terms.entries();
  from = 0;
  if (keep >= all.size()) return all;
  std::vector<term_start> out(all.end() - static_cast<std::ptrdiff_t>(keep), all.end());
  from = out.empty() ? f.last() + 1 : out.front().start_lsn;
  return out;
}

TEST(CommonPoint, EqualsTheSharedPrefixOfSimulatedReplicas) {
  std::mt19937_64 rng(2024);
  uint64_t cut_records = 0, snapshots = 0, checked = 0, bounded = 0;
  for (int run = 0; run < 300; ++run) {
    std::vector<sim_replica> r(3 + rng() % 2);
    uint64_t term = 0, next_id = 1;
    // Sometimes every replica starts from the same records of a shard that led on its own.
    uint64_t standalone = rng() % 3 == 0 ? 1 + rng() % 5 : 0;
    for (auto& x : r) {
      for (uint64_t i = 0; i < standalone; ++i) x.log.push_back({0, i + 1});
    }
    next_id = standalone + 1;
    for (int step = 0; step < 200; ++step) {
      auto& a = r[rng() % r.size()];
      switch (rng() % 8) {
        case 0: {  // a's election: any replica may win (Shoal's election is not a quorum vote)
          a.known = ++term;
          a.leading = true;
          ASSERT_TRUE(a.terms.begin(term, a.last() + 1));
          break;
        }
        case 1:
        case 2:
        case 3: {  // a writes, if it (believes it) leads
          if (!a.leading) break;
          for (uint64_t k = 1 + rng() % 4; k > 0; --k) a.log.push_back({a.known, next_id++});
          break;
        }
        case 4: {  // a takes a snapshot: its log starts later
          if (a.last() >= a.first) a.first += rng() % (a.last() - a.first + 2);
          break;
        }
        default: {  // a ships to f: align as log_shipper does, then some records
          auto& f = r[rng() % r.size()];
          if (&f == &a || !a.leading) break;
          if (f.known > a.known) {  // deposed
            a.leading = false;
            a.known = f.known;
            break;
          }
          f.known = a.known;
          f.leading = false;
          uint64_t from = 0;
          size_t keep = rng() % 3 == 0 ? rng() % 3 : SIZE_MAX;
          auto theirs = sent_terms(f, keep, from);
          uint64_t c = common_point({a.terms.entries(), a.last(), 0}, {theirs, f.last(), from});
          uint64_t truth = shared_prefix(a, f);
          if (from == 0) {
            ASSERT_EQ(c, truth) << "run " << run << " step " << step;
          } else {
            ASSERT_LE(c, truth) << "a bounded history never claims more than is shared";
            ++bounded;
          }
          ++checked;
          if (c < f.last()) {  // the follower cuts its diverged suffix
            cut_records += f.last() - c;
            f.log.resize(c);
            f.terms.truncate_after(c);
            f.first = std::min(f.first, c + 1);
          }
          if (c + 1 < a.first || c + 1 < f.first) {  // a snapshot of the leader's state
            f.log = a.log;
            auto t = a.terms;
            t.truncate_after(a.last());
            f.terms = t;
            f.first = a.last() + 1;
            ++snapshots;
            c = a.last();
          }
          // The append's check: the record before the batch has the same term on both.
          ASSERT_EQ(f.terms.term_at(c), a.terms.term_at(c)) << "prev-term check would fail";
          uint64_t n = rng() % (a.last() - c + 1);
          // As append_replicated: a term this replica began and never wrote in is void once
          // the leader's records take its place.
          if (n > 0) f.terms.truncate_after(c);
          for (uint64_t lsn = c + 1; lsn <= c + n; ++lsn) {
            auto rec = a.log[lsn - 1];
            if (rec.term > f.terms.current_term()) ASSERT_TRUE(f.terms.begin(rec.term, lsn));
            f.log.push_back(rec);
          }
          ASSERT_EQ(shared_prefix(a, f), f.last()) << "the follower's log is a prefix";
          break;
        }
      }
      for (auto& x : r) ASSERT_NO_FATAL_FAILURE(x.check_terms());
    }
  }
  std::printf("%llu alignments (%llu with a bounded history), %llu records cut, %llu snapshots\n",
              static_cast<unsigned long long>(checked), static_cast<unsigned long long>(bounded),
              static_cast<unsigned long long>(cut_records),
              static_cast<unsigned long long>(snapshots));
  EXPECT_GT(cut_records, 0u);
  EXPECT_GT(snapshots, 0u);
}

}  // namespace
}  // namespace shoal::shard
