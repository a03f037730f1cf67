// Hostile input over the binary protocol (issue #8, deliverable 5): raw bytes on a socket —
// truncated frames, bad header and payload checksums, unknown versions and methods, oversized
// length fields, corrupt LZ4, garbage after a valid frame, clients that stop mid-frame — and
// well-framed requests whose payloads are truncated, random, non-finite, mis-sized, too deep,
// too large or otherwise wrong. Every one gets an error frame of a 4xx class (never `internal`),
// or the connection is closed; nothing hangs (every read has a timeout); the server keeps
// serving, and the data written before is intact (point count and exact search results,
// payloads included, identical before and after each barrage).
//
// One server for the whole suite, with small limits so that going over them is cheap.

#include <random>
#include <set>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "engine/common/crc32c.h"
#include "engine/shard/collections.h"
#include "engine/shard/coordinator.h"
#include "net/rpc/api.h"
#include "net/rpc/client.h"
#include "net/rpc/compression.h"
#include "net/rpc/messages.h"
#include "tests/support/tmpdir.h"
#include "tests/unit/rpc/rpc_fixture.h"

namespace shoal::rpc {
namespace {

using namespace std::chrono_literals;
using test::raw_connection;

api_limits small_limits() {
  api_limits l;
  l.max_points_per_request = 100;
  l.max_batch_searches = 8;
  l.max_json_depth = 32;
  l.max_filter_conditions = 16;
  l.max_filter_depth = 4;
  l.max_payload_bytes = 2048;
  l.max_payload_keys = 32;
  l.max_key_length = 64;
  l.max_vector_size = 1024;
  l.max_named_vectors = 4;
  return l;
}

server_config small_server() {
  server_config c;
  c.max_frame_size = 1u << 20;
  c.max_memory_per_core = 4u << 20;
  c.body_timeout = 300ms;
  c.idle_timeout = 500ms;
  return c;
}

/// Collections in a temporary directory, the coordinator and the API methods.
struct api_setup : test::rpc_setup {
  awaitable<void> start(dispatcher& d) override {
    shard::node_options storage;
    storage.data_dir = dir.path() / "data";
    storage.snapshot_on_close = false;
    co_await colls.start(storage);
    coord = std::make_unique<shard::coordinator>(colls);
    co_await shard::collections::load_all(colls);
    add_api_methods(d, {.coordinator = coord.get(), .limits = small_limits()});
  }
  awaitable<void> stop() override { co_await colls.stop(); }

  test::tmpdir dir;
  rt::sharded<shard::collections> colls;
  std::unique_ptr<shard::coordinator> coord;
};

constexpr uint32_t kDim = 4;
constexpr size_t kPoints = 40;

/// A refusal of the request (the REST API's 4xx classes), not a failure of the server.
bool is_refusal(status s) {
  switch (s) {
    case status::bad_frame:
    case status::unsupported_version:
    case status::unknown_method:
    case status::frame_too_large:
    case status::malformed:
    case status::format_error:
    case status::validation_error:
    case status::wrong_input:
    case status::not_found:
    case status::already_exists:
      return true;
    default:
      return false;
  }
}

bytes text(std::string_view s) {
  bytes b(s.size());
  std::memcpy(b.data(), s.data(), s.size());
  return b;
}

outbound_frame request_frame(uint16_t method, uint64_t correlation, bytes payload) {
  frame_header h;
  h.method = method;
  h.correlation = correlation;
  return make_frame(h, std::move(payload), 0);
}

/// A frame whose header says what `h` says (CRC made right), followed by `payload` as is, in
/// one write (two small writes wait for a delayed ACK).
void send_crafted(raw_connection& c, const frame_header& h, std::span<const std::byte> payload) {
  auto header = encode_header(h);
  std::vector<std::byte> all(header.begin(), header.end());
  all.insert(all.end(), payload.begin(), payload.end());
  c.send(all.data(), all.size());
}

/// A whole frame in one write.
void send_frame(raw_connection& c, const outbound_frame& f) {
  std::vector<std::byte> all(f.header.begin(), f.header.end());
  all.insert(all.end(), f.payload.begin(), f.payload.end());
  c.send(all.data(), all.size());
}

class RpcHostile : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = new test::rpc_test_server(small_server(), std::make_shared<dispatcher>(), 0, 2,
                                        std::make_shared<api_setup>());
    client_ = new sync_client(client_options_for(server_->port()));
    auto created = client_->create_collection(
        {"c", R"({"vectors":{"size":4,"distance":"Euclid","index":"flat"}})", false});
    ASSERT_TRUE(created) << created.error().describe();
    std::vector<data::point_id> ids;
    std::vector<float> vectors;
    std::vector<std::string> payload_text;
    for (size_t i = 0; i < kPoints; ++i) {
      ids.push_back(data::point_id::number(i));
      for (uint32_t j = 0; j < kDim; ++j)
        vectors.push_back(static_cast<float>((i * 7 + j * 3) % 11));
      payload_text.push_back(fmt::format(R"({{"n":{},"tag":"t{}"}})", i, i % 3));
    }
    std::vector<std::string_view> payloads(payload_text.begin(), payload_text.end());
    auto up = client_->upsert({.collection = "c",
                               .durability = durability_level::local,
                               .dim = kDim,
                               .ids = ids,
                               .vectors = vectors,
                               .payloads = payloads});
    ASSERT_TRUE(up) << up.error().describe();
    baseline_ = new std::string(state());
  }
  static void TearDownTestSuite() {
    delete client_;
    delete server_;
    delete baseline_;
  }

  static client_options client_options_for(uint16_t port) {
    client_options o;
    o.port = port;
    o.request_timeout = 10s;
    return o;
  }

  /// Count and exact search results (ids, scores, payloads) from two queries and a filter.
  static std::string state() {
    std::string out;
    auto info = client_->get_collection("c");
    EXPECT_TRUE(info) << info.error().describe();
    if (info) out += fmt::format("points {}\n", info->points);
    std::vector<float> queries = {0, 0, 0, 0, 10, 1, 5, 3};
    for (auto filter : {std::string_view(),
                        std::string_view(R"({"must":[{"key":"tag","match":{"value":"t1"}}]})")}) {
      auto r = client_->search({.collection = "c",
                                .k = 100,
                                .exact = true,
                                .with_payload = true,
                                .filter_json = filter,
                                .dim = kDim,
                                .queries = queries});
      EXPECT_TRUE(r) << r.error().describe();
      if (!r) continue;
      for (size_t q = 0; q < r->queries(); ++q) {
        for (auto& h : r->of(q))
          out += fmt::format("{} {} {}\n", h.id.to_string(), h.score, h.payload_json);
        out += "--\n";
      }
    }
    return out;
  }

  /// The server answers a well-behaved client, and nothing written before changed.
  static void expect_intact() {
    auto p = client_->ping();
    EXPECT_TRUE(p) << p.error().describe();
    EXPECT_EQ(state(), *baseline_) << "data changed";
  }

  /// A call refused with a 4xx-class status (and a message).
  static ::testing::AssertionResult refused(const outcome<buffer>& r) {
    if (r) return ::testing::AssertionFailure() << "accepted";
    if (!is_refusal(r.error().code)) {
      return ::testing::AssertionFailure() << "not a refusal: " << r.error().describe();
    }
    if (r.error().message.empty()) return ::testing::AssertionFailure() << "no message";
    return ::testing::AssertionSuccess();
  }
  template <typename T>
  static ::testing::AssertionResult refused_with(const outcome<T>& r, status code,
                                                 std::string_view part = {}) {
    if (r) return ::testing::AssertionFailure() << "accepted";
    if (r.error().code != code) return ::testing::AssertionFailure() << r.error().describe();
    if (r.error().message.find(part) == std::string::npos) {
      return ::testing::AssertionFailure()
             << "message lacks \"" << part << "\": " << r.error().message;
    }
    return ::testing::AssertionSuccess();
  }

  static uint16_t port() { return server_->port(); }
  static sync_client& client() { return *client_; }

  static test::rpc_test_server* server_;
  static sync_client* client_;
  static std::string* baseline_;
};

test::rpc_test_server* RpcHostile::server_ = nullptr;
sync_client* RpcHostile::client_ = nullptr;
std::string* RpcHostile::baseline_ = nullptr;

/// The next frame is an error with this status; its message is not empty.
::testing::AssertionResult error_frame(std::optional<raw_connection::frame> f, status code) {
  if (!f) return ::testing::AssertionFailure() << "no answer (connection closed)";
  if (!f->h.is_response() || !f->h.is_error())
    return ::testing::AssertionFailure() << "not an error";
  auto e = decode_error(f->payload.span());
  if (e.code != code) return ::testing::AssertionFailure() << e.describe();
  if (e.message.empty()) return ::testing::AssertionFailure() << "no message";
  return ::testing::AssertionSuccess();
}

/// An upsert of n points to the collection "scratch" (never "c", whose data must not change).
bytes valid_upsert(uint64_t first_id, size_t n, std::string_view payload = {}) {
  static thread_local std::vector<data::point_id> ids;
  static thread_local std::vector<float> vectors;
  static thread_local std::vector<std::string_view> payloads;
  ids.clear();
  vectors.clear();
  payloads.clear();
  for (size_t i = 0; i < n; ++i) {
    ids.push_back(data::point_id::number(first_id + i));
    for (uint32_t j = 0; j < kDim; ++j) vectors.push_back(1.0f + static_cast<float>(j));
    if (!payload.empty()) payloads.push_back(payload);
  }
  return encode(upsert_request{
      .collection = "scratch", .dim = kDim, .ids = ids, .vectors = vectors, .payloads = payloads});
}

TEST_F(RpcHostile, BrokenFramesGetErrorFramesOrAClosedConnection) {
  // Bad magic, header CRC: an error frame about the connection, then it closes.
  for (int variant = 0; variant < 2; ++variant) {
    raw_connection conn(port(), 3s);
    auto f = request_frame(method::ping, 1, encode_ping_request());
    if (variant == 0) f.header[1] = std::byte{'X'};
    if (variant == 1) f.header[20] ^= std::byte{0x10};
    send_frame(conn, f);
    EXPECT_TRUE(error_frame(conn.receive(), status::bad_frame)) << variant;
    EXPECT_TRUE(conn.closed_by_peer()) << variant;
  }
  // Payload CRC, version, method, flags, reserved bits: an error frame, and the connection goes
  // on (a ping on it is answered).
  {
    raw_connection conn(port(), 3s);
    auto upsert = request_frame(method::upsert, 2, valid_upsert(1000, 3));
    upsert.payload[upsert.payload.size() / 2] ^= std::byte{1};
    send_frame(conn, upsert);
    EXPECT_TRUE(error_frame(conn.receive(), status::bad_frame)) << "payload CRC";

    frame_header h;
    h.method = method::ping;
    h.correlation = 3;
    h.version = 7;
    send_frame(conn, make_frame(h, encode_ping_request(), 0));
    EXPECT_TRUE(error_frame(conn.receive(), status::unsupported_version));
    h.version = kVersion;
    h.method = 0x7777;
    send_frame(conn, make_frame(h, text("?"), 0));
    EXPECT_TRUE(error_frame(conn.receive(), status::unknown_method));
    h.method = method::ping;
    h.flags = 0x80;
    send_frame(conn, make_frame(h, encode_ping_request(), 0));
    EXPECT_TRUE(error_frame(conn.receive(), status::bad_frame)) << "unknown flag bit";
    h.flags = flags::response | flags::error;
    send_frame(conn, make_frame(h, encode_ping_request(), 0));
    EXPECT_TRUE(error_frame(conn.receive(), status::bad_frame)) << "a response sent to the server";
    h.flags = 0;
    h.reserved = 1;
    send_frame(conn, make_frame(h, encode_ping_request(), 0));
    EXPECT_TRUE(error_frame(conn.receive(), status::bad_frame)) << "reserved field";
    h.reserved = 0;
    auto payload = encode_ping_request();
    h.payload_size = static_cast<uint32_t>(payload.size());
    h.raw_size = h.payload_size + 1;  // without LZ4 the sizes must agree
    h.payload_crc = 0;
    send_crafted(conn, h, payload);
    EXPECT_TRUE(error_frame(conn.receive(), status::bad_frame)) << "raw_size without LZ4";
    send_frame(conn, request_frame(method::ping, 9, encode_ping_request()));
    auto pong = conn.receive();
    ASSERT_TRUE(pong);
    EXPECT_FALSE(pong->h.is_error());
    EXPECT_EQ(pong->h.correlation, 9u);
  }
  // Oversized length fields: refused from the header alone (nothing is allocated for them), and
  // the connection closes.
  for (auto [payload_size, raw_size, lz4] :
       {std::tuple{0xFFFFFFFFu, 0xFFFFFFFFu, false}, std::tuple{(2u << 20), (2u << 20), false},
        std::tuple{100u, 0xFFFFFFFFu, true}, std::tuple{100u, (1u << 20) + 1, true}}) {
    raw_connection conn(port(), 3s);
    frame_header h;
    h.method = method::upsert;
    h.correlation = 4;
    h.flags = lz4 ? flags::lz4 : 0;
    h.payload_size = payload_size;
    h.raw_size = raw_size;
    send_crafted(conn, h, {});
    EXPECT_TRUE(error_frame(conn.receive(), status::frame_too_large))
        << payload_size << " " << raw_size;
    EXPECT_TRUE(conn.closed_by_peer());
  }
  expect_intact();
}

TEST_F(RpcHostile, CorruptLz4IsABadFrameAndTheConnectionGoesOn) {
  raw_connection conn(port(), 3s);
  std::mt19937 rng(6);
  auto send_lz4 = [&](uint64_t correlation, const bytes& wire, uint32_t raw_size) {
    frame_header h;
    h.method = method::upsert;
    h.correlation = correlation;
    h.flags = flags::lz4;
    h.payload_size = static_cast<uint32_t>(wire.size());
    h.raw_size = raw_size;
    h.payload_crc = crc32c(std::span<const std::byte>(wire));
    send_crafted(conn, h, wire);
  };
  for (int i = 0; i < 20; ++i) {
    bytes garbage(16 + rng() % 500);
    for (auto& b : garbage) b = static_cast<std::byte>(rng());
    send_lz4(100 + i, garbage, static_cast<uint32_t>(1 + rng() % 100000));
    EXPECT_TRUE(error_frame(conn.receive(), status::bad_frame)) << i;
  }
  // A valid LZ4 block of a real upsert, but declaring more (or fewer) bytes than it holds.
  auto upsert = valid_upsert(2000, 50);
  auto packed = lz4_compress(upsert);
  ASSERT_TRUE(packed);
  for (uint32_t raw :
       {static_cast<uint32_t>(upsert.size() + 1), static_cast<uint32_t>(upsert.size() - 1), 1u}) {
    send_lz4(200, *packed, raw);
    EXPECT_TRUE(error_frame(conn.receive(), status::bad_frame)) << raw;
  }
  // A bomb: a few bytes claiming the largest size allowed decompress to nothing valid.
  bytes zeros(1u << 20);
  auto bomb = lz4_compress(zeros);
  ASSERT_TRUE(bomb);
  EXPECT_LT(bomb->size(), 10000u);
  send_lz4(300, *bomb, 1u << 20);
  EXPECT_TRUE(error_frame(conn.receive(), status::malformed)) << "decompresses, does not decode";
  send_frame(conn, request_frame(method::ping, 301, encode_ping_request()));
  auto pong = conn.receive();
  ASSERT_TRUE(pong);
  EXPECT_FALSE(pong->h.is_error());
  expect_intact();
}

TEST_F(RpcHostile, GarbageAfterAValidFrameAndStalledClients) {
  {
    raw_connection conn(port(), 3s);
    auto ping = request_frame(method::ping, 1, encode_ping_request());
    std::vector<std::byte> stream(ping.header.begin(), ping.header.end());
    stream.insert(stream.end(), ping.payload.begin(), ping.payload.end());
    std::mt19937 rng(7);
    for (int i = 0; i < 300; ++i) stream.push_back(static_cast<std::byte>(rng()));
    conn.send(stream.data(), stream.size());
    auto pong = conn.receive();
    ASSERT_TRUE(pong);
    EXPECT_EQ(pong->h.correlation, 1u);
    EXPECT_FALSE(pong->h.is_error());
    EXPECT_TRUE(error_frame(conn.receive(), status::bad_frame));
    EXPECT_TRUE(conn.closed_by_peer());
  }
  // Truncated frames: a client that sends part of a header or of a payload and goes away.
  for (size_t cut : {size_t{1}, size_t{20}, size_t{39}, kHeaderSize + 5}) {
    raw_connection conn(port(), 3s);
    auto f = request_frame(method::upsert, 2, valid_upsert(3000, 5));
    std::vector<std::byte> stream(f.header.begin(), f.header.end());
    stream.insert(stream.end(), f.payload.begin(), f.payload.end());
    conn.send(stream.data(), cut);
  }
  // One that stops mid-header and one that stops mid-payload: both are closed at their
  // timeouts (idle 500 ms, body 300 ms here), and others are served at once meanwhile.
  raw_connection mid_header(port(), 5s);
  auto f = request_frame(method::upsert, 3, valid_upsert(4000, 5));
  mid_header.send(f.header.data(), 17);
  raw_connection mid_payload(port(), 5s);
  mid_payload.send(f.header.data(), f.header.size());
  mid_payload.send(f.payload.data(), 10);
  auto t0 = std::chrono::steady_clock::now();
  auto p = client().ping();
  EXPECT_TRUE(p);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 250ms);
  EXPECT_TRUE(mid_payload.closed_by_peer());
  EXPECT_TRUE(mid_header.closed_by_peer());
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 4s);
  expect_intact();
}

TEST_F(RpcHostile, TruncatedAndRandomPayloadsAreMalformedForEveryMethod) {
  // Writes go to "scratch": a lying id may well be a valid id.
  auto made = client().create_collection(
      {"scratch", R"({"vectors":{"size":4,"distance":"Euclid","index":"flat"}})", true});
  ASSERT_TRUE(made) << made.error().describe();
  std::vector<data::point_id> ids = {data::point_id::number(1), data::point_id::number(2)};
  std::vector<float> vectors(2 * kDim, 1.0f);
  std::vector<float> query(kDim, 1.0f);
  std::vector<std::pair<uint16_t, bytes>> requests = {
      {method::create_collection,
       encode(create_collection_request{"x", R"({"vectors":{"size":4,"distance":"Dot"}})"})},
      {method::drop_collection, encode_name_request("x")},
      {method::collection_info, encode_name_request("c")},
      {method::upsert, valid_upsert(5000, 2, R"({"a":1})")},
      {method::delete_points, encode(delete_request{.collection = "scratch", .ids = ids})},
      {method::search,
       encode(search_request{
           .collection = "c", .filter_json = R"({"must":[]})", .dim = kDim, .queries = query})},
  };
  std::mt19937 rng(5);
  for (auto& [m, payload] : requests) {
    // Every cut of a valid request's envelope (the cut changes the envelope's declared length
    // too, so the reader sees a short envelope, not a longer one it could skip).
    for (size_t cut = 0; cut < payload.size(); ++cut) {
      bytes truncated(payload.begin(), payload.begin() + static_cast<ptrdiff_t>(cut));
      EXPECT_TRUE(refused(client().call(m, truncated))) << method_name(m) << " cut at " << cut;
    }
    for (int i = 0; i < 30; ++i) {
      bytes junk(rng() % 200);
      for (auto& b : junk) b = static_cast<std::byte>(rng());
      auto r = client().call(m, junk);
      EXPECT_TRUE(refused(r)) << method_name(m) << " random " << i;
    }
    // Counts that lie: every u32 in the payload set to 0xFFFFFFFF in turn.
    for (size_t at = 5; at + 4 <= payload.size(); at += 4) {
      auto lying = payload;
      std::memset(lying.data() + at, 0xFF, 4);
      auto r = client().call(m, lying);
      if (!r)
        EXPECT_TRUE(is_refusal(r.error().code))
            << method_name(m) << " at " << at << ": " << r.error().describe();
    }
  }
  EXPECT_TRUE(refused_with(client().get_collection("x"), status::not_found));
  expect_intact();
}

TEST_F(RpcHostile, BadValuesInWellFormedRequestsAreRefusedWholly) {
  auto upsert = [&](std::vector<float> vectors, std::vector<std::string_view> payloads = {},
                    uint32_t dim = kDim, std::string_view vector_name = {},
                    std::string_view collection = "c") {
    std::vector<data::point_id> ids;
    for (size_t i = 0; i < vectors.size() / std::max<uint32_t>(dim, 1); ++i)
      ids.push_back(data::point_id::number(i));
    return client().upsert({.collection = collection,
                            .vector_name = vector_name,
                            .dim = dim,
                            .ids = ids,
                            .vectors = vectors,
                            .payloads = payloads});
  };
  float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
  // Non-finite values anywhere refuse the whole request (the valid points before them too).
  for (float bad : {nan, -nan, inf, -inf}) {
    EXPECT_TRUE(refused_with(upsert({1, 2, 3, 4, 5, 6, 7, bad}), status::wrong_input, "finite"));
  }
  EXPECT_TRUE(refused_with(upsert({1, 2, 3, 4, 5, 6}, {}, 3), status::wrong_input, "dimension"));
  EXPECT_TRUE(
      refused_with(upsert({1, 2, 3, 4}, {}, kDim, "nope"), status::wrong_input, "vector name"));
  EXPECT_TRUE(refused_with(upsert({1, 2, 3, 4}, {}, kDim, {}, "nope"), status::not_found));
  std::vector<float> many(101 * kDim, 1.0f);
  EXPECT_TRUE(refused_with(upsert(many), status::validation_error, "the limit is 100"));
  // Payloads: not JSON, not an object, not UTF-8, repeated keys, too deep, too large, too many
  // keys, keys too long. The first point's payload is fine: nothing is written.
  std::string deep = "1";
  for (int i = 0; i < 40; ++i) deep = R"({"x":)" + deep + "}";
  std::string large = R"({"t":")" + std::string(3000, 'x') + "\"}";
  std::string keys = "{";
  for (int i = 0; i < 33; ++i) keys += fmt::format(R"({}"k{}":{})", i ? "," : "", i, i);
  keys += "}";
  std::string long_key = R"({")" + std::string(65, 'k') + R"(":1})";
  for (auto& [payload, code, part] : std::vector<std::tuple<std::string, status, std::string>>{
           {"{\"a\":", status::format_error, "points[1].payload"},
           {"[1,2]", status::format_error, "a payload is a JSON object"},
           {"\"text\"", status::format_error, "JSON object"},
           {"{\"a\":\"\xFF\"}", status::format_error, "UTF-8"},
           {R"({"a":1,"a":2})", status::format_error, "duplicate key"},
           {deep, status::format_error, "rest.max-json-depth"},
           {large, status::validation_error, "rest.max-payload-bytes"},
           {keys, status::validation_error, "rest.max-payload-keys"},
           {long_key, status::validation_error, "rest.max-key-length"},
       }) {
    EXPECT_TRUE(
        refused_with(upsert({1, 2, 3, 4, 5, 6, 7, 8}, {R"({"fine":true})", payload}), code, part))
        << payload.substr(0, 60);
  }
  // Searches.
  std::vector<float> q(kDim, 1.0f);
  auto search = [&](search_request r) {
    r.collection = r.collection.empty() ? "c" : r.collection;
    if (r.queries.empty()) r.queries = q;
    if (r.dim == 0) r.dim = kDim;
    return client().search(r);
  };
  std::vector<float> nine(9 * kDim, 1.0f);
  EXPECT_TRUE(refused_with(search({.queries = nine}), status::validation_error, "the limit is 8"));
  EXPECT_TRUE(refused_with(search({.k = 0}), status::validation_error));
  std::vector<float> bad_q = {1, nan, 1, 1};
  EXPECT_TRUE(refused_with(search({.queries = bad_q}), status::wrong_input));
  EXPECT_TRUE(
      refused_with(search({.score_threshold = nan}), status::wrong_input, "score_threshold"));
  std::vector<float> three = {1, 1, 1};
  EXPECT_TRUE(refused_with(search({.dim = 3, .queries = three}), status::wrong_input, "dimension"));
  EXPECT_TRUE(refused_with(search({.vector_name = "nope"}), status::wrong_input));
  EXPECT_TRUE(refused_with(search({.collection = "nope"}), status::not_found));
  std::string conditions = R"({"should":[)";
  for (int i = 0; i < 17; ++i)
    conditions += fmt::format(R"({}{{"key":"n","match":{{"value":{}}}}})", i ? "," : "", i);
  conditions += "]}";
  std::string nested = R"({"must":[{"key":"n","match":{"value":1}}]})";
  for (int i = 0; i < 4; ++i) nested = R"({"must":[)" + nested + "]}";
  std::string too_deep = std::string(40, '[') + std::string(40, ']');
  for (auto& [filter, code, part] : std::vector<std::tuple<std::string, status, std::string>>{
           {R"({"must":)", status::format_error, "filter"},
           {"{\"must\":[{\"key\":\"\xC3\",\"match\":{\"value\":1}}]}", status::format_error,
            "UTF-8"},
           {R"({"must":[],"must":[]})", status::format_error, "duplicate key"},
           {conditions, status::validation_error, "rest.max-filter-conditions"},
           {nested, status::format_error, "rest.max-filter-depth"},
           {too_deep, status::format_error, "rest.max-json-depth"},
           {R"({"must":[{"key":")" + std::string(65, 'k') + R"(","match":{"value":1}}]})",
            status::validation_error, "rest.max-key-length"},
           {R"({"must":[{"key":"n","range":{"gt":"a"}}]})", status::format_error,
            "expected a number"},
       }) {
    EXPECT_TRUE(refused_with(search({.filter_json = filter}), code, part)) << filter.substr(0, 60);
  }
  // Collections: names (path tricks, NUL, control bytes, not UTF-8, too long) and configs.
  const char* config = R"({"vectors":{"size":4,"distance":"Dot"}})";
  std::string three_byte;
  for (int i = 0; i < 86; ++i) three_byte += "\xE2\x98\x95";  // 258 bytes
  for (auto name : {std::string(".."), std::string("."), std::string("a/b"), std::string("../c"),
                    std::string("a\0b", 3), std::string("a\nb"), std::string("\xFF"),
                    std::string("\xC3"), std::string(256, 'x'), three_byte, std::string()}) {
    EXPECT_TRUE(refused_with(client().create_collection({name, config}), status::validation_error,
                             "collection_name"))
        << name;
  }
  std::string deep_config = R"({"vectors":{"size":4,"distance":"Dot"},"metadata":)" +
                            std::string(40, '[') + std::string(40, ']') + "}";
  for (auto& [cfg, code, part] : std::vector<std::tuple<std::string, status, std::string>>{
           {"{", status::format_error, "config"},
           {deep_config, status::format_error, "rest.max-json-depth"},
           {R"({"vectors":{"size":4,"distance":"Dot"},"vectors":{"size":8,"distance":"Dot"}})",
            status::format_error, "duplicate key"},
           {R"({"vectors":{"size":1025,"distance":"Dot"}})", status::validation_error,
            "rest.max-vector-size"},
           {R"({"vectors":{"a":{"size":4,"distance":"Dot"},"b":{"size":4,"distance":"Dot"},
               "c":{"size":4,"distance":"Dot"},"d":{"size":4,"distance":"Dot"},
               "e":{"size":4,"distance":"Dot"}}})",
            status::validation_error, "rest.max-named-vectors"},
           {R"({"vectors":{"size":4,"distance":"Far"}})", status::format_error, "distance"},
       }) {
    EXPECT_TRUE(refused_with(client().create_collection({"fresh", cfg}), code, part))
        << cfg.substr(0, 60);
  }
  EXPECT_TRUE(refused_with(client().get_collection("fresh"), status::not_found));
  // Drops of names that are no collection, however crafted, drop nothing.
  for (auto name : {std::string("../c"), std::string("c/.."), std::string("./c"),
                    std::string("c\0", 2), std::string("C")}) {
    auto dropped = client().drop_collection(name);
    ASSERT_TRUE(dropped) << dropped.error().describe();
    EXPECT_FALSE(*dropped) << name;
  }
  expect_intact();
}

}  // namespace
}  // namespace shoal::rpc
