// Replication messages (replication/wire.h): the position answer carries the replica's term
// history from envelope version 2, bounded, and stays readable both ways across versions.
#include <gtest/gtest.h>

#include "net/rpc/codec.h"
#include "replication/wire.h"

namespace shoal::repl {
namespace {

position_answer answer(uint64_t term, bool leader, uint64_t last_lsn, uint64_t last_term) {
  position_answer a;
  a.term = term;
  a.leader = leader;
  a.last_lsn = last_lsn;
  a.last_term = last_term;
  a.durable_lsn = last_lsn;
  a.first_lsn = 1;
  return a;
}

TEST(ReplicationWire, PositionAnswerCarriesTheTermHistory) {
  shard::term_history h({{1, 1}, {3, 21}, {4, 40}});
  auto a = answer(4, false, 45, 4);
  a.durable_lsn = 44;
  set_position_terms(a, h);
  auto back = decode_position(encode(a));
  ASSERT_TRUE(back);
  EXPECT_TRUE(back->has_terms);
  EXPECT_EQ(back->terms, h.entries());
  EXPECT_EQ(back->terms_from, 0u) << "the whole history";
  EXPECT_EQ(back->last_lsn, 45u);
  EXPECT_EQ(back->durable_lsn, 44u);
  EXPECT_EQ(back->last_term, 4u);
}

TEST(ReplicationWire, ALongHistoryIsSentBounded) {
  std::vector<shard::term_start> all;
  for (uint64_t i = 0; i < kMaxPositionTerms + 10; ++i) all.push_back({i + 1, 2 * i + 1});
  position_answer a;
  set_position_terms(a, shard::term_history(all));
  ASSERT_EQ(a.terms.size(), kMaxPositionTerms);
  EXPECT_EQ(a.terms.front(), all[10]);
  EXPECT_EQ(a.terms.back(), all.back());
  EXPECT_EQ(a.terms_from, all[10].start_lsn);
  auto back = decode_position(encode(a));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->terms, a.terms);
  EXPECT_EQ(back->terms_from, a.terms_from);

  a.terms = all;  // more than a reader takes
  EXPECT_FALSE(decode_position(encode(a)));
}

TEST(ReplicationWire, VersionOneAndVersionTwoReadEachOther) {
  // An older follower's answer: no list.
  auto old = answer(2, true, 15, 2);
  auto v1 = encode(old);
  EXPECT_EQ(static_cast<uint8_t>(v1[0]), 1u);
  auto back = decode_position(v1);
  ASSERT_TRUE(back);
  EXPECT_FALSE(back->has_terms);
  EXPECT_EQ(back->last_lsn, 15u);
  EXPECT_TRUE(back->leader);

  // An older leader reads a new answer's first fields and skips the rest of the envelope.
  auto now = answer(3, false, 15, 2);
  set_position_terms(now, shard::term_history({{1, 1}, {2, 11}}));
  auto v2 = encode(now);
  EXPECT_EQ(static_cast<uint8_t>(v2[0]), 2u);
  auto r = rpc::open_message(v2, 1);
  EXPECT_EQ(r.u64(), 3u);
  EXPECT_EQ(r.u8(), 0u);
  EXPECT_EQ(r.u64(), 15u);
  EXPECT_EQ(r.u64(), 2u);
  EXPECT_EQ(r.u64(), 15u);
  EXPECT_EQ(r.u64(), 1u);
  EXPECT_EQ(r.u64(), 0u);
  EXPECT_FALSE(r.failed());
}

TEST(ReplicationWire, AHistoryThatDoesNotGrowIsRefused) {
  auto a = answer(3, false, 15, 2);
  a.has_terms = true;
  a.terms = {{2, 11}, {2, 12}};
  EXPECT_FALSE(decode_position(encode(a)));
  a.terms = {{2, 11}, {3, 11}};
  EXPECT_FALSE(decode_position(encode(a)));
  a.terms = {{2, 11}, {3, 12}};
  EXPECT_TRUE(decode_position(encode(a)));
  auto bytes = encode(a);
  bytes.resize(bytes.size() - 1);
  EXPECT_FALSE(decode_position(bytes)) << "cut short";
}

}  // namespace
}  // namespace shoal::repl
