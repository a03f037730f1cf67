#include "net/rpc/messages.h"

#include <cstdio>

#include "net/rpc/errc.h"

namespace shoal::rpc {
namespace {

constexpr uint8_t kV1 = 1;

reader open(std::span<const std::byte> p) {
  return open_message(p, kV1);
}

void write_ids(writer& w, std::span<const data::point_id> ids) {
  bool any_uuid = false, any_int = false;
  for (auto& id : ids) (id.is_uuid() ? any_uuid : any_int) = true;
  uint8_t form = any_uuid && any_int ? 2 : any_uuid ? 1 : 0;
  w.u8(form);
  w.u32(static_cast<uint32_t>(ids.size()));
  w.reserve_more(ids.size() * (form == 0 ? 8 : 17));
  for (auto& id : ids) {
    if (form == 2) w.u8(id.is_uuid() ? 1 : 0);
    if (id.is_uuid()) {
      w.u64(id.hi());
      w.u64(id.lo());
    } else {
      w.u64(id.number_value());
    }
  }
}

data::point_id read_one_id(reader& r, uint8_t kind) {
  if (kind == 0) return data::point_id::number(r.u64());
  if (kind != 1) {
    r.fail();
    return {};
  }
  uint64_t hi = r.u64();
  uint64_t lo = r.u64();
  return data::point_id::uuid(hi, lo);
}

std::vector<data::point_id> read_ids(reader& r) {
  uint8_t form = r.u8();
  if (form > 2) {
    r.fail();
    return {};
  }
  uint32_t n = r.count(form == 0 ? 8 : form == 1 ? 16 : 9);
  std::vector<data::point_id> ids;
  if (r.failed()) return ids;
  ids.reserve(n);
  for (uint32_t i = 0; i < n && !r.failed(); ++i) {
    uint8_t kind = form == 2 ? r.u8() : form;
    ids.push_back(read_one_id(r, kind));
  }
  return ids;
}

void write_id(writer& w, const data::point_id& id) {
  w.u8(id.is_uuid() ? 1 : 0);
  if (id.is_uuid()) {
    w.u64(id.hi());
    w.u64(id.lo());
  } else {
    w.u64(id.number_value());
  }
}

template <typename T>
result<T> done(const reader& r, T value) {
  return decoded_value(r, std::move(value));
}

float float_at(std::span<const std::byte> s, size_t index) {
  float f;
  std::memcpy(&f, s.data() + index * sizeof(float), sizeof f);
  return f;
}

bool valid_durability(uint8_t d) {
  return d <= static_cast<uint8_t>(durability_level::replicated);
}

}  // namespace

std::string method_name(uint16_t id) {
  switch (id) {
    case method::ping:
      return "ping";
    case method::authenticate:
      return "authenticate";
    case method::create_collection:
      return "create_collection";
    case method::drop_collection:
      return "drop_collection";
    case method::collection_info:
      return "collection_info";
    case method::upsert:
      return "upsert";
    case method::delete_points:
      return "delete_points";
    case method::search:
      return "search";
    default:
      break;
  }
  char buf[8];
  std::snprintf(buf, sizeof buf, "0x%04x", id);
  return buf;
}

bytes encode_error(status s, std::string_view message) {
  bytes out;
  writer w(out);
  auto m = w.begin_envelope(kV1);
  w.u16(static_cast<uint16_t>(s));
  w.str(message);
  w.end_envelope(m);
  return out;
}

error decode_error(std::span<const std::byte> payload) {
  reader r = open(payload);
  uint16_t code = r.u16();
  auto message = r.str();
  if (r.failed()) return {status::malformed, "the server's error response does not decode"};
  return {status_from_wire(code), std::string(message)};
}

bytes encode_ping_request() {
  bytes out;
  writer w(out);
  w.end_envelope(w.begin_envelope(kV1));
  return out;
}

bytes encode(const ping_response& r) {
  bytes out;
  writer w(out);
  auto m = w.begin_envelope(kV1);
  w.u32(r.core);
  w.u32(r.cores);
  w.str(r.version);
  w.end_envelope(m);
  return out;
}

result<ping_response> decode_ping_response(std::span<const std::byte> p) {
  reader r = open(p);
  ping_response out;
  out.core = r.u32();
  out.cores = r.u32();
  out.version = std::string(r.str());
  return done(r, std::move(out));
}

bytes encode(const create_collection_request& r) {
  bytes out;
  writer w(out);
  auto m = w.begin_envelope(kV1);
  w.str(r.name);
  w.str(r.config_json);
  w.u8(r.if_missing ? 1 : 0);
  w.end_envelope(m);
  return out;
}

result<create_collection_request> decode_create_collection(std::span<const std::byte> p) {
  reader r = open(p);
  create_collection_request out;
  out.name = r.str();
  out.config_json = r.str();
  uint8_t f = r.u8();
  if (f & ~1u) r.fail();
  out.if_missing = f & 1;
  return done(r, out);
}

bytes encode_name_request(std::string_view name) {
  bytes out;
  writer w(out);
  auto m = w.begin_envelope(kV1);
  w.str(name);
  w.end_envelope(m);
  return out;
}

result<std::string_view> decode_name_request(std::span<const std::byte> p) {
  reader r = open(p);
  auto name = r.str();
  return done(r, name);
}

bytes encode_bool_response(bool v) {
  bytes out;
  writer w(out);
  auto m = w.begin_envelope(kV1);
  w.u8(v ? 1 : 0);
  w.end_envelope(m);
  return out;
}

result<bool> decode_bool_response(std::span<const std::byte> p) {
  reader r = open(p);
  uint8_t v = r.u8();
  if (v > 1) r.fail();
  return done(r, v == 1);
}

bytes encode(const collection_info& i) {
  bytes out;
  writer w(out);
  auto m = w.begin_envelope(kV1);
  w.u64(i.points);
  w.u64(i.indexed_vectors);
  w.u32(i.shards);
  w.str(i.config_json);
  w.end_envelope(m);
  return out;
}

result<collection_info> decode_collection_info(std::span<const std::byte> p) {
  reader r = open(p);
  collection_info out;
  out.points = r.u64();
  out.indexed_vectors = r.u64();
  out.shards = r.u32();
  out.config_json = std::string(r.str());
  return done(r, std::move(out));
}

bytes encode(const upsert_request& r) {
  bytes out;
  size_t payload_bytes = 0;
  for (auto p : r.payloads) payload_bytes += 4 + p.size();
  out.reserve(64 + r.collection.size() + r.vector_name.size() + r.ids.size() * 17 +
              r.vectors.size() * sizeof(float) + payload_bytes);
  writer w(out);
  auto m = w.begin_envelope(kV1);
  w.str(r.collection);
  w.str(r.vector_name);
  w.u8(static_cast<uint8_t>(r.durability));
  w.u32(r.dim);
  write_ids(w, r.ids);
  w.raw(r.vectors.data(), r.vectors.size() * sizeof(float));
  w.u8(r.payloads.empty() ? 0 : 1);
  for (auto p : r.payloads) w.str(p);
  w.end_envelope(m);
  return out;
}

float upsert_view::value(size_t point, size_t j) const {
  return float_at(vectors, point * dim + j);
}

result<upsert_view> decode_upsert(std::span<const std::byte> p) {
  reader r = open(p);
  upsert_view v;
  v.collection = r.str();
  v.vector_name = r.str();
  uint8_t d = r.u8();
  if (!valid_durability(d)) r.fail();
  v.durability = static_cast<durability_level>(d);
  v.dim = r.u32();
  v.ids = read_ids(r);
  if (r.failed()) return errc::malformed;
  // n x dim x 4 must fit in what is left; computed in 64 bits (n, dim < 2^32).
  uint64_t vector_bytes = uint64_t{v.dim} * v.ids.size() * sizeof(float);
  if (vector_bytes > r.remaining()) return errc::malformed;
  v.vectors = r.raw(static_cast<size_t>(vector_bytes));
  uint8_t has_payloads = r.u8();
  if (has_payloads > 1) r.fail();
  if (has_payloads == 1 && !r.failed()) {
    if (v.ids.size() > r.remaining() / 4) return errc::malformed;
    v.payloads.reserve(v.ids.size());
    for (size_t i = 0; i < v.ids.size() && !r.failed(); ++i) v.payloads.push_back(r.str());
  }
  return done(r, std::move(v));
}

bytes encode(const delete_request& r) {
  bytes out;
  writer w(out);
  auto m = w.begin_envelope(kV1);
  w.str(r.collection);
  w.u8(static_cast<uint8_t>(r.durability));
  write_ids(w, r.ids);
  w.end_envelope(m);
  return out;
}

result<delete_view> decode_delete(std::span<const std::byte> p) {
  reader r = open(p);
  delete_view v;
  v.collection = r.str();
  uint8_t d = r.u8();
  if (!valid_durability(d)) r.fail();
  v.durability = static_cast<durability_level>(d);
  v.ids = read_ids(r);
  return done(r, std::move(v));
}

bytes encode(const write_result& wr) {
  bytes out;
  writer w(out);
  auto m = w.begin_envelope(kV1);
  w.u64(wr.operation_id);
  w.u32(wr.points);
  w.end_envelope(m);
  return out;
}

result<write_result> decode_write_result(std::span<const std::byte> p) {
  reader r = open(p);
  write_result out;
  out.operation_id = r.u64();
  out.points = r.u32();
  return done(r, out);
}

bytes encode(const search_request& s) {
  bytes out;
  out.reserve(64 + s.collection.size() + s.vector_name.size() + s.filter_json.size() +
              s.queries.size() * sizeof(float));
  writer w(out);
  auto m = w.begin_envelope(kV1);
  w.str(s.collection);
  w.str(s.vector_name);
  w.u32(s.k);
  w.u32(s.ef);
  uint8_t f = (s.exact ? 1 : 0) | (s.with_payload ? 2 : 0) | (s.score_threshold ? 4 : 0);
  w.u8(f);
  w.f32(s.score_threshold.value_or(0.0f));
  w.str(s.filter_json);
  w.u32(s.dim);
  w.u32(s.dim ? static_cast<uint32_t>(s.queries.size() / s.dim) : 0);
  w.raw(s.queries.data(), s.queries.size() * sizeof(float));
  w.end_envelope(m);
  return out;
}

float search_view::value(size_t query, size_t j) const {
  return float_at(queries, query * dim + j);
}

result<search_view> decode_search(std::span<const std::byte> p) {
  reader r = open(p);
  search_view v;
  v.collection = r.str();
  v.vector_name = r.str();
  v.k = r.u32();
  v.ef = r.u32();
  uint8_t f = r.u8();
  if (f & ~7u) r.fail();
  v.exact = f & 1;
  v.with_payload = f & 2;
  float threshold = r.f32();
  if (f & 4) v.score_threshold = threshold;
  v.filter_json = r.str();
  v.dim = r.u32();
  v.nq = r.u32();
  if (r.failed()) return errc::malformed;
  // Queries of no dimension take no bytes, so nothing would bound their count: the encoder
  // never writes any (nq is 0 when dim is), and a reader must not loop over 2^32 of them.
  if (v.dim == 0 && v.nq != 0) return errc::malformed;
  uint64_t query_bytes = uint64_t{v.dim} * v.nq * sizeof(float);
  if (query_bytes > r.remaining()) return errc::malformed;
  v.queries = r.raw(static_cast<size_t>(query_bytes));
  return done(r, v);
}

search_response_encoder::search_response_encoder(bytes& out, uint32_t nq, bool with_payload)
    : w_(out), with_payload_(with_payload) {
  mark_ = w_.begin_envelope(kV1);
  w_.u8(with_payload ? 1 : 0);
  w_.u32(nq);
}

void search_response_encoder::begin_query(uint32_t hits) {
  w_.u32(hits);
}

void search_response_encoder::hit(const data::point_id& id, float score,
                                  std::string_view payload_json) {
  write_id(w_, id);
  w_.f32(score);
  if (with_payload_) w_.str(payload_json);
}

void search_response_encoder::finish() {
  w_.end_envelope(mark_);
}

result<search_results> decode_search_results(std::span<const std::byte> p) {
  reader r = open(p);
  search_results out;
  uint8_t f = r.u8();
  if (f > 1) r.fail();
  bool payloads = f & 1;
  uint32_t nq = r.count(4);
  if (r.failed()) return errc::malformed;
  out.offsets.reserve(nq + 1);
  out.offsets.push_back(0);
  for (uint32_t q = 0; q < nq && !r.failed(); ++q) {
    // The smallest hit: kind + u64 + score (+ an empty payload string).
    uint32_t n = r.count(13 + (payloads ? 4 : 0));
    for (uint32_t i = 0; i < n && !r.failed(); ++i) {
      search_hit h;
      h.id = read_one_id(r, r.u8());
      h.score = r.f32();
      if (payloads) h.payload_json = std::string(r.str());
      out.hits.push_back(std::move(h));
    }
    out.offsets.push_back(static_cast<uint32_t>(out.hits.size()));
  }
  return done(r, std::move(out));
}

auth::access required_access(uint16_t id) {
  if (id == method::ping || id == method::authenticate) return auth::access::open;
  if (id == method::collection_info || id == method::search) return auth::access::read;
  if (id >= method::node_search_first && id <= method::node_search_last) {
    return auth::access::read;
  }
  return auth::access::write;
}

}  // namespace shoal::rpc
