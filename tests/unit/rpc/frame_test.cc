// Frames, the payload codec and the messages: round trips, and every kind of damage a receiver
// must refuse without reading out of bounds or allocating by a number it read.
#include "net/rpc/frame.h"

#include <cstring>
#include <random>

#include <gtest/gtest.h>

#include "engine/common/crc32c.h"
#include "net/rpc/codec.h"
#include "net/rpc/compression.h"
#include "net/rpc/errc.h"
#include "net/rpc/messages.h"

namespace shoal::rpc {
namespace {

bytes to_bytes(std::string_view s) {
  bytes b(s.size());
  std::memcpy(b.data(), s.data(), s.size());
  return b;
}

frame_header sample_header() {
  frame_header h;
  h.flags = flags::response;
  h.method = method::search;
  h.correlation = 0x0123456789abcdefull;
  h.payload_size = 1234;
  h.raw_size = 1234;
  h.payload_crc = 0xdeadbeef;
  h.timeout_ms = 2500;
  return h;
}

TEST(RpcFrame, HeaderRoundTripsAndHasTheDocumentedLayout) {
  auto h = sample_header();
  auto raw = encode_header(h);
  ASSERT_EQ(raw.size(), 40u);
  EXPECT_EQ(std::memcmp(raw.data(), "SHRP", 4), 0);
  EXPECT_EQ(static_cast<uint8_t>(raw[4]), kVersion);
  EXPECT_EQ(static_cast<uint8_t>(raw[5]), flags::response);
  uint16_t method = 0;
  std::memcpy(&method, raw.data() + 6, 2);
  EXPECT_EQ(method, method::search);
  uint32_t crc = 0;
  std::memcpy(&crc, raw.data() + 36, 4);
  EXPECT_EQ(crc, crc32c(0, raw.data(), 36));

  auto back = decode_header(raw);
  ASSERT_TRUE(back) << back.error().message();
  EXPECT_EQ(back->version, kVersion);
  EXPECT_EQ(back->flags, h.flags);
  EXPECT_EQ(back->method, h.method);
  EXPECT_EQ(back->correlation, h.correlation);
  EXPECT_EQ(back->payload_size, h.payload_size);
  EXPECT_EQ(back->raw_size, h.raw_size);
  EXPECT_EQ(back->payload_crc, h.payload_crc);
  EXPECT_EQ(back->timeout_ms, h.timeout_ms);
  EXPECT_TRUE(check_v1(*back));
}

TEST(RpcFrame, EveryFlippedHeaderBitIsCaught) {
  auto raw = encode_header(sample_header());
  for (size_t bit = 0; bit < raw.size() * 8; ++bit) {
    auto damaged = raw;
    damaged[bit / 8] ^= std::byte(1u << (bit % 8));
    auto r = decode_header(damaged);
    ASSERT_FALSE(r) << "bit " << bit;
    if (bit < 32) {
      EXPECT_EQ(r.error(), errc::bad_magic);
    } else {
      EXPECT_EQ(r.error(), errc::header_checksum) << "bit " << bit;
    }
  }
}

TEST(RpcFrame, SizesOverTheLimitAreRefused) {
  auto h = sample_header();
  h.payload_size = h.raw_size = 1000;
  EXPECT_TRUE(check_size(h, 1000));
  EXPECT_EQ(check_size(h, 999).error(), errc::frame_too_large);
  h.flags |= flags::lz4;
  h.payload_size = 10;
  h.raw_size = 5000;  // a decompression bomb is a size over the limit, refused before reading
  EXPECT_EQ(check_size(h, 1000).error(), errc::frame_too_large);
}

TEST(RpcFrame, Version1RulesOnFlagsAndSizes) {
  auto h = sample_header();
  EXPECT_TRUE(check_v1(h));
  auto bad = h;
  bad.flags |= 0x80;
  EXPECT_EQ(check_v1(bad).error(), errc::bad_flags);
  bad = h;
  bad.reserved = 1;
  EXPECT_EQ(check_v1(bad).error(), errc::bad_flags);
  bad = h;
  bad.raw_size = h.payload_size + 1;  // sizes differ without LZ4
  EXPECT_EQ(check_v1(bad).error(), errc::bad_flags);
  bad = h;
  bad.flags = flags::error;  // an error that is not a response
  EXPECT_EQ(check_v1(bad).error(), errc::bad_flags);
  bad = h;
  bad.flags |= flags::lz4;
  bad.raw_size = 0;
  EXPECT_EQ(check_v1(bad).error(), errc::bad_flags);
}

TEST(RpcFrame, MakeFrameChecksumsAndCompressesOnlyWhenItPays) {
  // Compressible: repeated JSON.
  std::string json;
  for (int i = 0; i < 2000; ++i) json += R"({"city":"Amsterdam","n":1},)";
  frame_header h;
  h.method = method::upsert;
  h.correlation = 7;
  bool compressed = false;
  auto f = make_frame(h, to_bytes(json), 1024, &compressed);
  EXPECT_TRUE(compressed);
  auto back = decode_header(f.header);
  ASSERT_TRUE(back);
  EXPECT_TRUE(back->compressed());
  EXPECT_EQ(back->raw_size, json.size());
  EXPECT_LT(back->payload_size, json.size() / 4);
  EXPECT_TRUE(check_v1(*back));
  EXPECT_TRUE(check_payload(*back, f.payload));
  auto opened = open_payload(*back, buffer::copy_of(f.payload));
  ASSERT_TRUE(opened);
  EXPECT_EQ(std::string_view(reinterpret_cast<const char*>(opened->data()), opened->size()), json);

  // Random floats do not compress: sent as they are.
  std::mt19937 rng(1);
  std::vector<float> v(20000);
  for (auto& x : v) x = std::uniform_real_distribution<float>(-1, 1)(rng);
  bytes raw(v.size() * 4);
  std::memcpy(raw.data(), v.data(), raw.size());
  f = make_frame(h, raw, 1024, &compressed);
  EXPECT_FALSE(compressed);
  back = decode_header(f.header);
  EXPECT_FALSE(back->compressed());
  EXPECT_EQ(back->payload_size, raw.size());

  // Below the threshold, or with threshold 0: never.
  f = make_frame(h, to_bytes(json), 0, &compressed);
  EXPECT_FALSE(compressed);
}

TEST(RpcFrame, PayloadDamageIsCaught) {
  frame_header h;
  h.method = method::ping;
  auto f = make_frame(h, to_bytes("hello world"), 0);
  auto back = *decode_header(f.header);
  EXPECT_TRUE(check_payload(back, f.payload));
  auto damaged = f.payload;
  damaged[3] ^= std::byte{0x10};
  EXPECT_EQ(check_payload(back, damaged).error(), errc::payload_checksum);
  damaged = f.payload;
  damaged.pop_back();  // truncated
  EXPECT_EQ(check_payload(back, damaged).error(), errc::payload_checksum);
}

TEST(RpcFrame, Lz4RefusesAnythingButItsDeclaredSize) {
  std::string text(10000, 'a');
  auto c = lz4_compress(std::as_bytes(std::span(text)));
  ASSERT_TRUE(c);
  EXPECT_TRUE(lz4_decompress(*c, text.size()));
  EXPECT_EQ(lz4_decompress(*c, text.size() - 1).error(), errc::decompress_failed);
  EXPECT_EQ(lz4_decompress(*c, text.size() + 1).error(), errc::decompress_failed);
  auto garbage = *c;
  for (size_t i = 0; i < garbage.size(); i += 3) garbage[i] = std::byte{0xff};
  EXPECT_FALSE(lz4_decompress(garbage, text.size()));
  EXPECT_FALSE(lz4_decompress({}, 10));
}

TEST(RpcCodec, PrimitivesAndEnvelopesRoundTrip) {
  bytes out;
  writer w(out);
  auto m = w.begin_envelope(3);
  w.u8(1);
  w.u16(0xbeef);
  w.u32(0xdeadbeef);
  w.u64(0x0102030405060708ull);
  w.f32(1.5f);
  w.str("hé");
  w.end_envelope(m);
  w.u8(99);  // after the envelope

  reader r(out);
  uint8_t version = 0;
  reader body = r.envelope(version);
  EXPECT_EQ(version, 3);
  EXPECT_EQ(body.u8(), 1);
  EXPECT_EQ(body.u16(), 0xbeef);
  EXPECT_EQ(body.u32(), 0xdeadbeefu);
  EXPECT_EQ(body.u64(), 0x0102030405060708ull);
  EXPECT_EQ(body.f32(), 1.5f);
  EXPECT_EQ(body.str(), "hé");
  EXPECT_FALSE(body.failed());
  EXPECT_EQ(r.u8(), 99);
  EXPECT_FALSE(r.failed());
}

TEST(RpcCodec, NewerEnvelopesWithMoreFieldsStillDecode) {
  // A later version appends fields; an older reader takes what it knows and skips the rest.
  bytes out;
  writer w(out);
  auto m = w.begin_envelope(2);
  w.u32(42);
  w.str("added in version 2");
  w.end_envelope(m);
  w.u32(7);
  reader r(out);
  uint8_t version = 0;
  reader body = r.envelope(version);
  EXPECT_EQ(body.u32(), 42u);
  EXPECT_EQ(r.u32(), 7u);
  EXPECT_FALSE(r.failed());
}

TEST(RpcCodec, ReadsPastTheEndFailAndCountsAreCheckedBeforeUse) {
  bytes out;
  writer w(out);
  w.u32(0xffffffff);  // a count of 4 billion with nothing behind it
  reader r(out);
  EXPECT_EQ(r.count(8), 0u);
  EXPECT_TRUE(r.failed());
  EXPECT_EQ(r.u64(), 0u);  // sticky

  out.clear();
  w.u32(100);  // a string of 100 bytes that has 2
  w.u8(1);
  w.u8(2);
  reader s(out);
  EXPECT_EQ(s.str(), "");
  EXPECT_TRUE(s.failed());

  out.clear();
  w.u8(1);
  w.u32(1000);  // an envelope longer than its bytes
  reader e(out);
  uint8_t version = 9;
  reader body = e.envelope(version);
  EXPECT_EQ(version, 0);
  EXPECT_TRUE(body.failed());
}

std::vector<data::point_id> mixed_ids() {
  return {data::point_id::number(1), data::point_id::uuid(0x1122334455667788ull, 99),
          data::point_id::number(~uint64_t{0})};
}

TEST(RpcMessages, UpsertRoundTrips) {
  auto ids = mixed_ids();
  std::vector<float> vectors = {1, 2, 3, 4, 5, 6};
  std::vector<std::string_view> payloads = {R"({"a":1})", "", R"({"b":[1,2]})"};
  upsert_request req{.collection = "docs",
                     .vector_name = "text",
                     .durability = durability_level::memory,
                     .dim = 2,
                     .ids = ids,
                     .vectors = vectors,
                     .payloads = payloads};
  auto p = encode(req);
  auto v = decode_upsert(p);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->collection, "docs");
  EXPECT_EQ(v->vector_name, "text");
  EXPECT_EQ(v->durability, durability_level::memory);
  EXPECT_EQ(v->dim, 2u);
  EXPECT_EQ(v->ids, ids);
  EXPECT_EQ(v->value(2, 1), 6.0f);
  EXPECT_EQ(v->value(1, 0), 3.0f);
  ASSERT_EQ(v->payloads.size(), 3u);
  EXPECT_EQ(v->payloads[0], payloads[0]);
  EXPECT_EQ(v->payloads[1], "");

  // Integers only take the compact form: 8 bytes an id.
  std::vector<data::point_id> ints = {data::point_id::number(5), data::point_id::number(6)};
  req.ids = ints;
  req.vectors = std::span(vectors).first(4);
  req.payloads = {};
  auto compact = encode(req);
  auto cv = decode_upsert(compact);
  ASSERT_TRUE(cv);
  EXPECT_EQ(cv->ids, ints);
  EXPECT_TRUE(cv->payloads.empty());
}

TEST(RpcMessages, EveryTruncationOfEveryMessageIsMalformed) {
  auto ids = mixed_ids();
  std::vector<float> vectors = {1, 2, 3, 4, 5, 6};
  std::vector<std::string_view> payloads = {"{}", "", "{}"};
  std::vector<float> queries = {0.5f, 0.25f};
  std::vector<std::pair<std::string, bytes>> messages = {
      {"upsert",
       encode(upsert_request{
           .collection = "c", .dim = 2, .ids = ids, .vectors = vectors, .payloads = payloads})},
      {"delete", encode(delete_request{.collection = "c", .ids = ids})},
      {"search", encode(search_request{.collection = "c",
                                       .k = 3,
                                       .score_threshold = 0.5f,
                                       .filter_json = "{}",
                                       .dim = 2,
                                       .queries = queries})},
      {"create", encode(create_collection_request{"c", "{}", true})},
  };
  for (auto& [name, full] : messages) {
    for (size_t cut = 0; cut < full.size(); ++cut) {
      std::span<const std::byte> part(full.data(), cut);
      bool ok = name == "upsert"   ? decode_upsert(part).has_value()
                : name == "delete" ? decode_delete(part).has_value()
                : name == "search" ? decode_search(part).has_value()
                                   : decode_create_collection(part).has_value();
      EXPECT_FALSE(ok) << name << " cut at " << cut << " of " << full.size();
    }
  }
}

TEST(RpcMessages, LyingCountsAreRefusedWithoutAllocating) {
  // An upsert claiming 2^32-1 ids of 16 bytes in a tiny payload.
  bytes p;
  writer w(p);
  auto m = w.begin_envelope(1);
  w.str("c");
  w.str("");
  w.u8(0);
  w.u32(4);  // dim
  w.u8(1);   // all UUIDs
  w.u32(0xffffffffu);
  w.end_envelope(m);
  EXPECT_FALSE(decode_upsert(p));

  // A dimension that makes n x dim larger than the payload.
  std::vector<data::point_id> ids = {data::point_id::number(1)};
  std::vector<float> one = {1.0f};
  auto good = encode(upsert_request{.collection = "c", .dim = 1, .ids = ids, .vectors = one});
  ASSERT_TRUE(decode_upsert(good));
  reader r(good);
  uint8_t version;
  (void)r.envelope(version);
  // dim sits after the envelope header (5), "c" (5), "" (4), durability (1).
  uint32_t huge = 0x40000000u;
  std::memcpy(good.data() + 15, &huge, 4);
  EXPECT_FALSE(decode_upsert(good));

  // A search of 2^32-1 queries of dimension 0: no bytes, so no count check could catch it
  // (rpc_frame_fuzz found a request whose readers looped over them).
  search_request q{.collection = "c", .dim = 0};
  auto zero = encode(q);
  ASSERT_TRUE(decode_search(zero));
  // nq sits just before the end of the envelope (no query bytes follow).
  uint32_t many = 0xffffffffu;
  std::memcpy(zero.data() + zero.size() - 4, &many, 4);
  EXPECT_FALSE(decode_search(zero));

  // Search results claiming more hits than bytes.
  bytes s;
  writer sw(s);
  auto sm = sw.begin_envelope(1);
  sw.u8(0);
  sw.u32(1);
  sw.u32(1000000);
  sw.end_envelope(sm);
  EXPECT_FALSE(decode_search_results(s));
}

TEST(RpcMessages, RandomBytesNeverCrashADecoder) {
  std::mt19937_64 rng(7);
  for (int i = 0; i < 20000; ++i) {
    bytes b(rng() % 64);
    for (auto& x : b) x = std::byte(rng());
    if (b.size() > 5 && (i & 1)) {
      b[0] = std::byte{1};  // a plausible envelope
      uint32_t len = static_cast<uint32_t>(b.size() - 5);
      std::memcpy(b.data() + 1, &len, 4);
    }
    (void)decode_upsert(b);
    (void)decode_delete(b);
    (void)decode_search(b);
    (void)decode_search_results(b);
    (void)decode_error(b);
    (void)decode_collection_info(b);
    (void)decode_create_collection(b);
  }
}

TEST(RpcMessages, SearchRequestAndResultsRoundTrip) {
  std::vector<float> queries = {1, 0, 0, 1};
  search_request req{.collection = "docs",
                     .vector_name = "",
                     .k = 5,
                     .ef = 64,
                     .exact = true,
                     .with_payload = true,
                     .score_threshold = 0.25f,
                     .filter_json = R"({"must":[]})",
                     .dim = 2,
                     .queries = queries};
  const bytes encoded = encode(req);  // the view below points into it
  auto v = decode_search(encoded);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->k, 5u);
  EXPECT_EQ(v->ef, 64u);
  EXPECT_TRUE(v->exact);
  EXPECT_TRUE(v->with_payload);
  EXPECT_EQ(v->score_threshold, 0.25f);
  EXPECT_EQ(v->filter_json, R"({"must":[]})");
  EXPECT_EQ(v->nq, 2u);
  EXPECT_EQ(v->value(1, 1), 1.0f);

  bytes out;
  search_response_encoder enc(out, 2, true);
  enc.begin_query(2);
  enc.hit(data::point_id::number(3), 0.9f, R"({"x":1})");
  enc.hit(data::point_id::uuid(1, 2), 0.5f, "{}");
  enc.begin_query(0);
  enc.finish();
  auto r = decode_search_results(out);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->queries(), 2u);
  ASSERT_EQ(r->of(0).size(), 2u);
  EXPECT_EQ(r->of(0)[0].id, data::point_id::number(3));
  EXPECT_EQ(r->of(0)[0].score, 0.9f);
  EXPECT_EQ(r->of(0)[0].payload_json, R"({"x":1})");
  EXPECT_EQ(r->of(0)[1].id, data::point_id::uuid(1, 2));
  EXPECT_TRUE(r->of(1).empty());
}

TEST(RpcMessages, ErrorsAndSmallMessagesRoundTrip) {
  auto e = decode_error(encode_error(status::wrong_input, "Vector dimension error"));
  EXPECT_EQ(e.code, status::wrong_input);
  EXPECT_EQ(e.message, "Vector dimension error");
  // A status from a newer server is not mistaken for a known one.
  bytes p;
  writer w(p);
  auto m = w.begin_envelope(1);
  w.u16(999);
  w.str("new");
  w.end_envelope(m);
  EXPECT_EQ(decode_error(p).code, status::internal);
  EXPECT_EQ(decode_error({}).code, status::malformed);

  EXPECT_EQ(*decode_bool_response(encode_bool_response(true)), true);
  EXPECT_EQ(*decode_name_request(encode_name_request("abc")), "abc");
  auto info = decode_collection_info(encode(collection_info{5, 4, 2, "{}"}));
  ASSERT_TRUE(info);
  EXPECT_EQ(info->points, 5u);
  EXPECT_EQ(info->shards, 2u);
  auto ping = decode_ping_response(encode(ping_response{1, 2, "0.1.0"}));
  ASSERT_TRUE(ping);
  EXPECT_EQ(ping->cores, 2u);
  auto wr = decode_write_result(encode(write_result{77, 3}));
  EXPECT_EQ(wr->operation_id, 77u);
  EXPECT_EQ(method_name(method::upsert), "upsert");
  EXPECT_EQ(method_name(0x0123), "0x0123");
}

}  // namespace
}  // namespace shoal::rpc
