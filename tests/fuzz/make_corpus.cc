// Writes the seed corpora of the fuzz targets (tests/fuzz/README.md) with Shoal's own writers:
// request bodies and filters as clients send them, frames from the RPC and replication encoders,
// a log segment and a shard snapshot written by a real shard, index snapshots saved by the
// index library.
//
//   make_corpus DIR     writes DIR/<target>_fuzz/<seed> (DIR is usually tests/fuzz/corpus)
//
// Seeds are small on purpose: the fuzzers mutate them millions of times.

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "engine/common/file_io.h"
#include "engine/log/format.h"
#include "engine/runtime/runtime.h"
#include "engine/shard/collection_config.h"
#include "engine/shard/mutation.h"
#include "engine/shard/shard.h"
#include "engine/shard/shard_snapshot.h"
#include "index/flat/flat_index.h"
#include "index/hnsw/hnsw_index.h"
#include "index/io/byte_stream.h"
#include "net/rpc/frame.h"
#include "net/rpc/messages.h"
#include "replication/wire.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

using namespace shoal;
namespace fs = std::filesystem;

fs::path out_dir;

void write_file(const std::string& target, const std::string& name, const void* data, size_t size) {
  auto dir = out_dir / (target + "_fuzz");
  fs::create_directories(dir);
  std::ofstream f(dir / name, std::ios::binary | std::ios::trunc);
  f.write(static_cast<const char*>(data), static_cast<std::streamsize>(size));
  if (!f) {
    std::fprintf(stderr, "cannot write %s\n", (dir / name).c_str());
    std::exit(1);
  }
}

void write_file(const std::string& target, const std::string& name,
                const std::vector<std::byte>& b) {
  write_file(target, name, b.data(), b.size());
}

std::vector<float> vec(uint32_t seed, size_t dim) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d;
  std::vector<float> v(dim);
  for (auto& x : v) x = d(rng);
  return v;
}

// ---- rest_request: byte 0 = route | schema << 4, then the body ----

void rest_seed(const std::string& name, fuzz::rest_route r, unsigned schema,
               const std::string& body) {
  std::string s(1, static_cast<char>(static_cast<unsigned>(r) | (schema << 4)));
  s += body;
  write_file("rest_request", name, s.data(), s.size());
}

void rest_seeds() {
  using fuzz::rest_route;
  rest_seed(
      "upsert-points", rest_route::upsert, 0,
      R"({"points": [{"id": 1, "vector": [0.05, 0.61, 0.76, 0.74], "payload": {"city": "Berlin"}},
 {"id": "5c56c793-69f3-4fbf-87e6-c4bf54c28c26", "vector": [0.19, 0.81, 0.75, 0.11],
  "payload": {"colors": ["red", "blue"], "n": 3, "nested": {"a": [1, {"b": null}]}}},
 {"id": 2, "vector": [1, 2, 3, 4]}]})");
  rest_seed(
      "upsert-batch", rest_route::upsert, 0,
      R"({"batch": {"ids": [1, 2, 3], "vectors": [[0.9, 0.1, 0.1, 0.2], [0.1, 0.9, 0.1, 0.1], [0.1, 0.1, 0.9, 0.3]],
 "payloads": [{"color": "red"}, null, {"color": "blue"}]}})");
  rest_seed("upsert-named", rest_route::upsert, 1,
            R"({"points": [{"id": 7, "vector": {"a": [1, 2, 3], "b": [0.5, -0.5],
 "s": {"indices": [1, 42, 7], "values": [0.1, 0.2, 0.3]}}, "payload": {"k": "v"}},
 {"id": 8, "vectors": {"a": [0, 0, 1]}}]})");
  rest_seed(
      "upsert-named-batch", rest_route::upsert, 1,
      R"({"batch": {"ids": [1, 2], "vectors": {"a": [[1, 2, 3], [4, 5, 6]], "b": [[1, 1], null],
 "s": [{"indices": [3], "values": [1.5]}, null]}}})");
  rest_seed("query-vector", rest_route::query, 0,
            R"({"query": [0.2, 0.1, 0.9, 0.7], "limit": 3, "offset": 1, "with_payload": true,
 "with_vector": false, "score_threshold": 0.5, "params": {"hnsw_ef": 128, "exact": false},
 "filter": {"must": [{"key": "city", "match": {"value": "London"}}]}})");
  rest_seed(
      "query-nearest-id", rest_route::query, 1,
      R"({"query": {"nearest": 43}, "using": "a", "limit": 5, "with_payload": ["city", "n"]})");
  rest_seed(
      "query-none", rest_route::query, 0,
      R"({"filter": {"should": {"has_id": [1, 2, 3]}}, "limit": 10, "with_payload": {"exclude": ["x"]}})");
  rest_seed(
      "search-legacy", rest_route::search, 0,
      R"({"vector": [0.2, 0.1, 0.9, 0.7], "limit": 3, "with_payload": {"include": ["city"]}, "with_vectors": true})");
  rest_seed(
      "search-legacy-named", rest_route::search, 1,
      R"({"vector": {"name": "b", "vector": [1.5, 2.5]}, "limit": 2, "with_vector": ["a", "s"]})");
  rest_seed("query-batch", rest_route::query_batch, 0,
            R"({"searches": [{"query": [0.2, 0.1, 0.9, 0.7], "limit": 3},
 {"query": "5c56c793-69f3-4fbf-87e6-c4bf54c28c26", "filter": {"must_not": {"is_empty": {"key": "tags"}}}}]})");
  rest_seed("search-batch", rest_route::search_batch, 1,
            R"({"searches": [{"vector": {"name": "a", "vector": [1, 0, 0]}, "limit": 1},
 {"vector": {"name": "b", "vector": [0, 1]}, "limit": 4, "offset": 2}]})");
  rest_seed("scroll", rest_route::scroll, 0,
            R"({"filter": {"must": [{"key": "n", "range": {"gte": 1, "lt": 10.5}}]}, "limit": 2,
 "offset": 17, "with_payload": true, "with_vector": true})");
  rest_seed("scroll-uuid-offset", rest_route::scroll, 1,
            R"({"offset": "5c56c793-69f3-4fbf-87e6-c4bf54c28c26", "with_vectors": ["b"]})");
  rest_seed(
      "count", rest_route::count, 0,
      R"({"filter": {"must": [{"key": "color", "match": {"any": ["red", "green"]}}]}, "exact": true})");
  rest_seed("delete-ids", rest_route::remove, 0, R"({"points": [0, 3, 100]})");
  rest_seed("delete-filter", rest_route::remove, 0,
            R"({"filter": {"must": [{"key": "color", "match": {"value": "red"}}]}})");
  rest_seed("set-payload", rest_route::set_payload, 0,
            R"({"payload": {"property1": "string", "property2": 2}, "points": [0, 3, 10]})");
  rest_seed(
      "set-payload-key", rest_route::set_payload, 0,
      R"({"payload": {"nested": {"x": 1.5}}, "key": "a.b[0]", "filter": {"must": {"key": "k", "match": {"except": [1, 2]}}}})");
  rest_seed("overwrite-payload", rest_route::overwrite, 0,
            R"({"payload": {"property1": "string"}, "points": [0, 3, 10]})");
  rest_seed("delete-payload-keys", rest_route::delete_keys, 0,
            R"({"keys": ["color", "price", "a.b[]"], "points": [0, 3, 100]})");
  rest_seed("clear-payload", rest_route::clear_payload, 0, R"({"points": [0, 3, 100]})");
  rest_seed("batch", rest_route::batch, 0,
            R"({"operations": [
 {"upsert": {"points": [{"id": 1, "vector": [1.0, 2.0, 3.0, 4.0], "payload": {}}]}},
 {"delete": {"points": [1]}},
 {"set_payload": {"payload": {"k1": "v1"}, "points": [2]}},
 {"overwrite_payload": {"payload": {"k2": "v2"}, "points": [2]}},
 {"delete_payload": {"keys": ["k1"], "points": [2]}},
 {"clear_payload": {"filter": {"must": {"has_id": [2]}}}}]})");
  rest_seed(
      "retrieve", rest_route::retrieve, 1,
      R"({"ids": [0, 3, "5c56c793-69f3-4fbf-87e6-c4bf54c28c26"], "with_payload": false, "with_vector": ["a"]})");
}

// ---- filter: the JSON of a filter ----

void filter_seeds() {
  const std::pair<const char*, const char*> filters[] = {
      {"match-value", R"({"must": [{"key": "city", "match": {"value": "London"}}]})"},
      {"match-any-except",
       R"({"should": [{"key": "tags", "match": {"any": ["a", 7, true]}},
 {"key": "n", "match": {"except": [1, 2]}}], "must_not": null})"},
      {"range",
       R"({"must": {"key": "price", "range": {"gt": 1, "gte": 1.5, "lt": 1e10, "lte": null}}})"},
      {"empty-null", R"({"must": [{"is_empty": {"key": "tags"}}, {"is_null": {"key": "none"}},
 {"key": "empty", "is_empty": false}, {"key": "none", "is_null": true}]})"},
      {"has-id", R"({"must_not": [{"has_id": [1, 2, "936da01f-9abd-4d9d-80c7-02af85c822a8"]}]})"},
      {"nested-clauses",
       R"({"must": [{"should": [{"key": "city", "match": {"value": "Berlin"}},
 {"must_not": {"key": "ok", "match": {"value": false}}}]}, {}], "should": []})"},
      {"key-paths",
       R"({"must": [{"key": "country.cities[].population", "range": {"gte": 1.0}},
 {"key": "tags[0]", "match": {"value": "a"}}, {"key": "geo.lat", "range": {"lt": 60}},
 {"key": "nested.deep.deeper[][]", "match": {"any": [1, 3]}}]})"},
      {"empty", R"({})"},
  };
  for (auto [name, json] : filters) write_file("filter", name, json, std::string(json).size());
}

// ---- rpc_frame: frames as the encoders write them ----

std::vector<std::byte> frame(uint16_t method, uint8_t flags, rpc::bytes payload,
                             size_t compress_threshold = 0, uint64_t correlation = 7) {
  rpc::frame_header h;
  h.method = method;
  h.flags = flags;
  h.correlation = correlation;
  h.timeout_ms = flags ? 0 : 5000;
  auto f = rpc::make_frame(h, std::move(payload), compress_threshold);
  std::vector<std::byte> out(f.header.begin(), f.header.end());
  out.insert(out.end(), f.payload.begin(), f.payload.end());
  return out;
}

void rpc_seeds() {
  constexpr uint8_t response = rpc::flags::response;
  std::vector<data::point_id> ids = {
      data::point_id::number(1), data::point_id::number(2),
      data::point_id::uuid(0x5c56c79369f34fbfULL, 0x87e6c4bf54c28c26ULL)};
  std::vector<float> vectors;
  for (uint32_t i = 0; i < 3; ++i) {
    auto v = vec(i, 4);
    vectors.insert(vectors.end(), v.begin(), v.end());
  }
  std::vector<std::string_view> payloads = {R"({"city": "Berlin"})", "", R"({"n": [1, 2]})"};

  write_file("rpc_frame", "ping", frame(rpc::method::ping, 0, rpc::encode_ping_request()));
  write_file("rpc_frame", "create-collection",
             frame(rpc::method::create_collection, 0,
                   rpc::encode(rpc::create_collection_request{
                       "docs", R"({"vectors": {"size": 4, "distance": "Dot"}})", true})));
  write_file("rpc_frame", "drop-collection",
             frame(rpc::method::drop_collection, 0, rpc::encode_name_request("docs")));
  write_file("rpc_frame", "collection-info",
             frame(rpc::method::collection_info, 0, rpc::encode_name_request("docs")));
  rpc::upsert_request up;
  up.collection = "docs";
  up.durability = rpc::durability_level::local;
  up.dim = 4;
  up.ids = ids;
  up.vectors = vectors;
  up.payloads = payloads;
  write_file("rpc_frame", "upsert", frame(rpc::method::upsert, 0, rpc::encode(up)));
  {
    // Repetitive payloads compress: this frame travels LZ4.
    std::vector<std::string> big(3, std::string(R"({"text": ")") + std::string(300, 'a') + "\"}");
    std::vector<std::string_view> big_views(big.begin(), big.end());
    auto lz = up;
    lz.payloads = big_views;
    bool compressed = false;
    rpc::frame_header h;
    h.method = rpc::method::upsert;
    auto f = rpc::make_frame(h, rpc::encode(lz), 64, &compressed);
    if (!compressed) std::abort();
    std::vector<std::byte> out(f.header.begin(), f.header.end());
    out.insert(out.end(), f.payload.begin(), f.payload.end());
    write_file("rpc_frame", "upsert-lz4", out);
  }
  write_file("rpc_frame", "delete",
             frame(rpc::method::delete_points, 0,
                   rpc::encode(rpc::delete_request{"docs", rpc::durability_level::memory, ids})));
  rpc::search_request sr;
  sr.collection = "docs";
  sr.k = 3;
  sr.ef = 64;
  sr.with_payload = true;
  sr.score_threshold = 0.25f;
  sr.filter_json = R"({"must": [{"key": "city", "match": {"value": "Berlin"}}]})";
  sr.dim = 4;
  sr.queries = std::span<const float>(vectors).first(8);
  write_file("rpc_frame", "search", frame(rpc::method::search, 0, rpc::encode(sr)));

  // Responses, as a client reads them.
  write_file("rpc_frame", "error-response",
             frame(rpc::method::search, response | rpc::flags::error,
                   rpc::encode_error(rpc::status::not_found, "collection docs not found")));
  write_file("rpc_frame", "ping-response",
             frame(rpc::method::ping, response, rpc::encode(rpc::ping_response{1, 2, "0.1.0"})));
  write_file("rpc_frame", "bool-response",
             frame(rpc::method::create_collection, response, rpc::encode_bool_response(true)));
  write_file("rpc_frame", "info-response",
             frame(rpc::method::collection_info, response,
                   rpc::encode(rpc::collection_info{10, 8, 2, R"({"format": 1})"})));
  write_file("rpc_frame", "write-response",
             frame(rpc::method::upsert, response, rpc::encode(rpc::write_result{42, 3})));
  {
    rpc::bytes p;
    rpc::search_response_encoder e(p, 2, true);
    e.begin_query(2);
    e.hit(ids[0], 0.9f, R"({"city": "Berlin"})");
    e.hit(ids[2], 0.5f, "{}");
    e.begin_query(0);
    e.finish();
    write_file("rpc_frame", "search-response", frame(rpc::method::search, response, p));
  }

  // Replication: requests a follower reads and the answers its leader reads.
  repl::shard_ref ref{"docs", 1, 3};
  write_file("rpc_frame", "repl-position", frame(repl::method::position, 0, repl::encode(ref)));
  write_file("rpc_frame", "repl-truncate",
             frame(repl::method::truncate, 0, repl::encode(repl::truncate_request{ref, 17})));
  {
    repl::append_request a;
    a.ref = ref;
    a.prev_lsn = 4;
    a.prev_term = 2;
    shard::upsert_mutation u;
    shard::point_write w;
    w.id = ids[0];
    w.vectors.push_back({"", vec(9, 4)});
    w.payload = data::json_value::parse(R"({"a": 1})").value();
    u.points.push_back(std::move(w));
    a.records.push_back(wal::log_record{5, 3, static_cast<uint8_t>(shard::mutation_type::upsert),
                                        shard::encode_mutation(u)});
    shard::delete_mutation d;
    d.ids = ids;
    a.records.push_back(wal::log_record{6, 3,
                                        static_cast<uint8_t>(shard::mutation_type::delete_points),
                                        shard::encode_mutation(d)});
    write_file("rpc_frame", "repl-append", frame(repl::method::append, 0, repl::encode(a)));
    repl::append_request heartbeat;
    heartbeat.ref = ref;
    heartbeat.prev_lsn = 6;
    heartbeat.prev_term = 3;
    write_file("rpc_frame", "repl-heartbeat",
               frame(repl::method::append, 0, repl::encode(heartbeat)));
  }
  {
    repl::snapshot_chunk c;
    c.ref = ref;
    c.lsn = 6;
    c.total_size = 10;
    c.offset = 4;
    c.last = true;
    c.data.assign(6, std::byte{0x5a});
    c.terms = {{1, 1}, {3, 5}};
    write_file("rpc_frame", "repl-snapshot-chunk",
               frame(repl::method::snapshot, 0, repl::encode(c)));
  }
  {
    repl::position_answer a;
    a.term = 3;
    a.last_lsn = 6;
    a.last_term = 3;
    a.durable_lsn = 6;
    a.first_lsn = 1;
    write_file("rpc_frame", "repl-position-answer",
               frame(repl::method::position, response, repl::encode(a)));
    repl::set_position_terms(a, ::shoal::shard::term_history({{1, 1}, {3, 4}}));
    write_file("rpc_frame", "repl-position-answer-v2",
               frame(repl::method::position, response, repl::encode(a)));
  }
  write_file("rpc_frame", "repl-append-answer",
             frame(repl::method::append, response, repl::encode(repl::append_answer{6, 6})));
  write_file("rpc_frame", "repl-received",
             frame(repl::method::snapshot, response, repl::encode_received(10)));

  // A connection's worth: several frames back to back, one of them for an unknown method.
  std::vector<std::byte> stream;
  for (auto part :
       {frame(rpc::method::ping, 0, rpc::encode_ping_request(), 0, 1),
        frame(0x0777, 0, rpc::encode_name_request("x"), 0, 2),
        frame(rpc::method::collection_info, 0, rpc::encode_name_request("docs"), 0, 3),
        frame(rpc::method::delete_points, 0,
              rpc::encode(rpc::delete_request{"docs", rpc::durability_level::local, ids}), 0, 4)}) {
    stream.insert(stream.end(), part.begin(), part.end());
  }
  write_file("rpc_frame", "stream", stream);
}

// ---- log_segment and snapshot: a real shard's files ----

shard::upsert_mutation upsert(uint64_t from, uint64_t to, bool big_payload = false) {
  shard::upsert_mutation u;
  for (uint64_t i = from; i < to; ++i) {
    shard::point_write w;
    w.id = i % 4 == 3 ? data::point_id::uuid(0x936da01f9abd4d9dULL, i) : data::point_id::number(i);
    w.vectors.push_back({"f", vec(static_cast<uint32_t>(i), 4)});
    w.vectors.push_back({"h", vec(static_cast<uint32_t>(i + 100), 8)});
    if (i % 2 == 0) w.vectors.push_back({"q", vec(static_cast<uint32_t>(i + 200), 8)});
    std::string payload = R"({"group": )" + std::to_string(i % 3) + R"(, "name": "point )" +
                          std::to_string(i) + R"(", "tags": ["x", 1.5, null]})";
    if (big_payload) {
      payload = R"({"text": ")" + std::string(600, static_cast<char>('a' + i % 26)) + "\"}";
    }
    w.payload = data::json_value::parse(payload).value();
    if (i % 3 == 0) w.sparse_json = R"({"s": {"indices": [1, 5], "values": [0.5, 0.25]}})";
    u.points.push_back(std::move(w));
  }
  return u;
}

awaitable<void> shard_files(const fs::path& dir) {
  simdjson::dom::parser parser;
  auto body = parser.parse(std::string(fuzz::kSnapshotCollection)).value();
  auto cfg = shard::collection_config::decode_create("fuzz", body, 1);
  if (!cfg) std::abort();
  shard::shard_options o;
  o.dir = dir;
  o.config = std::make_shared<const shard::collection_config>(std::move(*cfg));
  o.snapshot_on_close = false;
  auto s = co_await shard::shard::open(o);
  if (!s) std::abort();
  auto& sh = **s;
  auto must = [](const auto& r) {
    if (!r) std::abort();
  };
  must(co_await sh.write(upsert(0, 6), {}));
  must(co_await sh.write(upsert(6, 8, true), {}));  // bodies LZ4-compressed in the log
  must(co_await sh.write(shard::delete_mutation{{data::point_id::number(1)}}, {}));
  shard::payload_mutation set;
  set.type = shard::mutation_type::set_payload;
  set.ids = {data::point_id::number(2), data::point_id::number(4)};
  set.payload = data::json_value::parse(R"({"x": {"y": [1, 2]}})").value();
  set.key = "meta";
  must(co_await sh.write(set, {}));
  shard::payload_mutation overwrite = set;
  overwrite.type = shard::mutation_type::overwrite_payload;
  overwrite.key.reset();
  must(co_await sh.write(overwrite, {}));
  shard::payload_mutation keys;
  keys.type = shard::mutation_type::delete_payload_keys;
  keys.ids = {data::point_id::number(0)};
  keys.keys = {"group", "tags[0]"};
  must(co_await sh.write(keys, {}));
  shard::payload_mutation clear;
  clear.type = shard::mutation_type::clear_payload;
  clear.ids = {data::point_id::number(5)};
  must(co_await sh.write(clear, {}));
  for (auto& e : fs::directory_iterator(dir / "log")) {
    if (e.path().extension() == ".log") {
      auto bytes = fileio::read_file(e.path(), 1 << 20);
      if (!bytes) std::abort();
      write_file("log_segment", "shard-log", bytes->data(), bytes->size());
    }
  }
  must(co_await sh.snapshot_now());
  for (auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() == ".snap") {
      auto bytes = fileio::read_file(e.path(), 1 << 20);
      if (!bytes) std::abort();
      write_file("snapshot", "shard-snapshot", bytes->data(), bytes->size());
    }
  }
  co_await sh.close();
}

void log_seeds() {
  // A hand-made segment: one record of each mutation type, written with the log's own encoder.
  std::vector<std::byte> seg;
  auto head = wal::encode_segment_header({1, 2});
  seg.insert(seg.end(), head.begin(), head.end());
  uint64_t lsn = 1;
  auto add = [&](const shard::mutation& m) {
    auto body = shard::encode_mutation(m);
    wal::encode_record(seg, lsn++, 2, static_cast<uint8_t>(shard::type_of(m)), body, 512);
  };
  add(upsert(0, 2));
  add(shard::delete_mutation{{data::point_id::number(0)}});
  shard::payload_mutation p;
  p.ids = {data::point_id::number(1)};
  p.payload = data::json_value::parse(R"({"a": [true, false]})").value();
  for (auto t : {shard::mutation_type::set_payload, shard::mutation_type::overwrite_payload,
                 shard::mutation_type::delete_payload_keys, shard::mutation_type::clear_payload}) {
    p.type = t;
    if (t == shard::mutation_type::delete_payload_keys) p.keys = {"a"};
    add(p);
  }
  write_file("log_segment", "each-type", seg);
  // The same, cut in the middle of its last record (a torn write).
  seg.resize(seg.size() - 5);
  write_file("log_segment", "torn-tail", seg);
}

// ---- snapshot: index snapshots on their own ----

void save(const index::vector_index& idx, const std::string& name) {
  std::vector<std::byte> out;
  index::memory_sink sink(out);
  if (!idx.save(sink)) std::abort();
  write_file("snapshot", name, out);
}

void index_seeds() {
  index::flat_config fc;
  fc.dim = 4;
  fc.metric = index::metric_kind::l2;
  auto flat = index::flat_index::create(fc).value();
  for (uint32_t i = 0; i < 6; ++i) (void)flat->add(i, vec(i, 4));
  save(*flat, "index-flat");

  for (bool int8 : {false, true}) {
    index::hnsw_config hc;
    hc.dim = 8;
    hc.metric = int8 ? index::metric_kind::ip : index::metric_kind::cosine;
    hc.m = 4;
    hc.ef_construction = 16;
    if (int8) {
      hc.quantization = index::quantization_kind::int8;
      hc.quantization_train_size = 12;
    }
    auto h = index::hnsw_index::create(hc).value();
    for (uint32_t i = 0; i < 24; ++i) (void)h->add(i, vec(i, 8));
    for (uint32_t i : {3u, 10u}) (void)h->remove(i);  // free slots
    save(*h, int8 ? "index-hnsw-int8" : "index-hnsw");
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s DIR (usually tests/fuzz/corpus)\n", argv[0]);
    return 2;
  }
  out_dir = argv[1];
  fuzz::quiet_logs();
  rest_seeds();
  filter_seeds();
  rpc_seeds();
  log_seeds();
  index_seeds();
  auto scratch = fs::temp_directory_path() / ("shoal-make-corpus-" + std::to_string(::getpid()));
  fs::remove_all(scratch);
  {
    rt::runtime_config rc;
    rc.cores = 1;
    rc.pin_threads = false;
    rt::runtime runtime(rc);
    runtime.run([&]() -> awaitable<void> { co_await shard_files(scratch); });
  }
  fs::remove_all(scratch);
  std::printf("seed corpora written to %s\n", out_dir.c_str());
  return 0;
}
