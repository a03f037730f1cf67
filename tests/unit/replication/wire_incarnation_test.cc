// The replication messages' envelopes (replication/wire.h): requests carry the collection's
// incarnation last, in version 2, and versions 1 and 2 read each other.
#include <gtest/gtest.h>

#include "net/rpc/codec.h"
#include "replication/wire.h"

namespace shoal::repl {
namespace {

const shard_ref kRef{"docs", 3, 7, 42};

void expect_ref(const shard_ref& r, uint64_t incarnation) {
  EXPECT_EQ(r.collection, "docs");
  EXPECT_EQ(r.shard, 3u);
  EXPECT_EQ(r.leader_term, 7u);
  EXPECT_EQ(r.incarnation, incarnation);
}

TEST(ReplicationWire, EveryRequestCarriesTheIncarnation) {
  auto ref = decode_shard_ref(encode(kRef));
  ASSERT_TRUE(ref);
  expect_ref(*ref, 42);

  auto t = decode_truncate(encode(truncate_request{kRef, 9}));
  ASSERT_TRUE(t);
  expect_ref(t->ref, 42);
  EXPECT_EQ(t->after_lsn, 9u);

  auto f = decode_fetch(encode(fetch_request{kRef, 5, 6, 1024}));
  ASSERT_TRUE(f);
  expect_ref(f->ref, 42);
  EXPECT_EQ(f->max_bytes, 1024u);

  append_request a{kRef, 10, 7, true, {}};
  wal::log_record rec;
  rec.lsn = 11;
  rec.term = 7;
  rec.type = 1;
  rec.body = {std::byte{1}, std::byte{2}};
  a.records.push_back(rec);
  auto got = decode_append(encode(a));
  ASSERT_TRUE(got);
  expect_ref(got->ref, 42);
  ASSERT_EQ(got->records.size(), 1u);
  EXPECT_EQ(got->records[0].body, rec.body);

  snapshot_chunk c;
  c.ref = kRef;
  c.lsn = 20;
  c.total_size = 2;
  c.last = true;
  c.data = {std::byte{3}, std::byte{4}};
  c.terms = {{7, 1}};
  auto chunk = decode_snapshot_chunk(encode(c));
  ASSERT_TRUE(chunk);
  expect_ref(chunk->ref, 42);
  EXPECT_EQ(chunk->data, c.data);
}

TEST(ReplicationWire, AVersionOneRequestHasNoIncarnation) {
  // An older sender: version 1, the fields up to the records, nothing after them.
  rpc::bytes out;
  rpc::writer w(out);
  auto m = w.begin_envelope(1);
  w.str("docs");
  w.u32(3);
  w.u64(7);
  w.u64(10);  // prev_lsn
  w.u64(7);   // prev_term
  w.u8(1);    // sync
  w.u32(0);   // no records: a heartbeat
  w.end_envelope(m);
  auto a = decode_append(out);
  ASSERT_TRUE(a);
  expect_ref(a->ref, 0);  // not known: not checked
  EXPECT_EQ(a->prev_lsn, 10u);
}

TEST(ReplicationWire, AVersionOneReaderSkipsTheIncarnation) {
  // What an older receiver does with a version-2 position request: reads its fields, skips
  // the rest of the envelope.
  auto bytes = encode(kRef);
  auto r = rpc::open_message(bytes, 1);
  EXPECT_EQ(r.str(), "docs");
  EXPECT_EQ(r.u32(), 3u);
  EXPECT_EQ(r.u64(), 7u);
  EXPECT_FALSE(r.failed());
}

}  // namespace
}  // namespace shoal::repl
