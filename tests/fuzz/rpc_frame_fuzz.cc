// Fuzz target: the binary protocol as a server or client reads it — frame headers, payload
// checksums, LZ4 payloads, and the message decoders of every method (net/rpc/frame.h,
// compression.h, messages.h, codec.h; replication/wire.h).
//
// Input: the bytes of a connection, one frame after another, as the peer would send them. Each
// frame goes through the steps net/rpc/session.cc (requests) or client.cc (responses) takes,
// with the server's default limits: decode_header (a bad header ends the stream), check_size
// (too large ends it), the version and check_v1 (a refused frame's payload is skipped),
// check_payload, open_payload (LZ4), and then the method's decoder. Decoded requests are read
// further as their handlers read them: vector values, a search's filter JSON, the mutations of
// replicated log records.
//
// A structure-aware mutator repairs the header and payload CRCs after libFuzzer's mutations
// (seven times in eight), so mutated frames reach the decoders instead of the checksum test.

#include <cstdlib>
#include <span>

#include "engine/data/filter_json.h"
#include "engine/shard/collection_config.h"
#include "engine/shard/mutation.h"
#include "net/rpc/frame.h"
#include "net/rpc/messages.h"
#include "net/rpc/server_config.h"
#include "replication/wire.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

using namespace shoal;
using bytes_view = std::span<const std::byte>;

volatile float sink;  // keeps the value reads

void read_filter(std::string_view json) {
  if (json.empty()) return;
  static simdjson::dom::parser parser;
  simdjson::dom::element f;
  if (parser.parse(json.data(), json.size(), true).get(f) != simdjson::SUCCESS) return;
  (void)data::decode_filter(f, "filter");
}

void server_side(uint16_t m, bytes_view p) {
  switch (m) {
    case rpc::method::create_collection:
      if (auto d = rpc::decode_create_collection(p)) {
        (void)shard::validate_collection_name(d->name);
        static simdjson::dom::parser parser;
        simdjson::dom::element body;
        std::string_view text = d->config_json.empty() ? "{}" : d->config_json;
        if (parser.parse(text.data(), text.size(), true).get(body) == simdjson::SUCCESS) {
          (void)shard::collection_config::decode_create(std::string(d->name), body, 1);
        }
      }
      break;
    case rpc::method::drop_collection:
    case rpc::method::collection_info:
      (void)rpc::decode_name_request(p);
      break;
    case rpc::method::upsert:
      if (auto v = rpc::decode_upsert(p)) {
        float s = 0;
        for (size_t i = 0; i < v->ids.size(); ++i) {
          for (size_t j = 0; j < v->dim; ++j) s += v->value(i, j);
        }
        sink = s;
      }
      break;
    case rpc::method::delete_points:
      (void)rpc::decode_delete(p);
      break;
    case rpc::method::search:
      if (auto v = rpc::decode_search(p)) {
        float s = 0;
        for (size_t q = 0; q < v->nq; ++q) {
          for (size_t j = 0; j < v->dim; ++j) s += v->value(q, j);
        }
        sink = s;
        read_filter(v->filter_json);
      }
      break;
    case repl::method::position:
      (void)repl::decode_shard_ref(p);
      break;
    case repl::method::truncate:
      (void)repl::decode_truncate(p);
      break;
    case repl::method::append:
      if (auto a = repl::decode_append(p)) {
        // A follower applies them: each body decodes as a mutation (shard_replica.cc).
        for (const auto& rec : a->records) (void)shard::decode_mutation(rec.type, rec.body);
      }
      break;
    case repl::method::snapshot:
      (void)repl::decode_snapshot_chunk(p);
      break;
    case repl::method::fetch:
      (void)repl::decode_fetch(p);
      break;
    default:
      break;
  }
}

void client_side(const rpc::frame_header& h, bytes_view p) {
  if (h.is_error()) {
    (void)rpc::decode_error(p);
    return;
  }
  switch (h.method) {
    case rpc::method::ping:
      (void)rpc::decode_ping_response(p);
      break;
    case rpc::method::create_collection:
    case rpc::method::drop_collection:
      (void)rpc::decode_bool_response(p);
      break;
    case rpc::method::collection_info:
      (void)rpc::decode_collection_info(p);
      break;
    case rpc::method::upsert:
    case rpc::method::delete_points:
      (void)rpc::decode_write_result(p);
      break;
    case rpc::method::search:
      if (auto r = rpc::decode_search_results(p)) {
        size_t hits = 0;
        for (size_t q = 0; q < r->queries(); ++q) hits += r->of(q).size();
        sink = static_cast<float>(hits);
      }
      break;
    case repl::method::position:
    case repl::method::truncate:
      (void)repl::decode_position(p);
      break;
    case repl::method::append:
      (void)repl::decode_append_answer(p);
      break;
    case repl::method::snapshot:
      (void)repl::decode_received(p);
      break;
    default:
      break;
  }
}

/// CRC repair: walks the frames as the reader does and rewrites both checksums of each.
void repair(uint8_t* data, size_t size) {
  size_t at = 0;
  while (size - at >= rpc::kHeaderSize) {
    uint8_t* h = data + at;
    const uint32_t payload = fuzz::load<uint32_t>(h + 16);
    const bool whole = payload <= size - at - rpc::kHeaderSize;
    if (whole) fuzz::set_crc(h + 24, h + rpc::kHeaderSize, payload);
    fuzz::set_crc(h + 36, h, 36);  // covers the payload CRC: last
    if (!whole) break;
    at += rpc::kHeaderSize + payload;
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  shoal::fuzz::quiet_logs();
  return 0;
}

extern "C" size_t LLVMFuzzerCustomMutator(uint8_t* data, size_t size, size_t max_size,
                                          unsigned int seed) {
  fuzz::coin coin(seed);
  size = LLVMFuzzerMutate(data, size, max_size);
  if (!coin.one_in(8)) repair(data, size);
  return size;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const rpc::server_config limits;
  bytes_view in(reinterpret_cast<const std::byte*>(data), size);
  while (in.size() >= rpc::kHeaderSize) {
    auto decoded = rpc::decode_header(in.first<rpc::kHeaderSize>());
    if (!decoded) return 0;  // bad magic or header checksum: the connection is closed
    const rpc::frame_header h = *decoded;
    in = in.subspan(rpc::kHeaderSize);
    if (!rpc::check_size(h, limits.max_frame_size)) return 0;
    if (h.payload_size > in.size()) return 0;  // the stream ends inside the payload
    auto wire_bytes = in.first(h.payload_size);
    in = in.subspan(h.payload_size);
    if (h.version != rpc::kVersion || !rpc::check_v1(h)) continue;  // skipped, answered
    auto wire = rpc::buffer::copy_of(wire_bytes);
    if (!rpc::check_payload(h, wire.span())) continue;
    auto payload = rpc::open_payload(h, std::move(wire));
    if (!payload) continue;
    if (h.is_response()) {
      client_side(h, payload->span());
    } else {
      server_side(h.method, payload->span());
    }
  }
  return 0;
}
