#include "replication/wire.h"

#include "net/rpc/codec.h"
#include "net/rpc/errc.h"

namespace shoal::repl {
namespace {

constexpr uint8_t kV1 = 1;
constexpr uint8_t kV2 = 2;  // position answer: the term history appended; requests: the
                            // incarnation after version 1's fields
// The smallest encoded record: lsn, term, type, body size.
constexpr size_t kMinRecord = 8 + 8 + 1 + 4;

rpc::reader open(std::span<const std::byte> p) {
  return rpc::open_message(p, kV1);
}

/// A request: its envelope's version too (it says whether the incarnation is there).
rpc::reader open_request(std::span<const std::byte> p, uint8_t& version) {
  rpc::reader outer(p);
  auto body = outer.envelope(version);
  if (version < kV1) body.fail();
  return body;
}

/// Last in a request, after every field of version 1.
void put_incarnation(rpc::writer& w, const shard_ref& r) {
  w.u64(r.incarnation);
}

void get_incarnation(rpc::reader& r, uint8_t version, shard_ref& ref) {
  if (version >= kV2) ref.incarnation = r.u64();
}

template <typename T>
result<T> done(const rpc::reader& r, T value) {
  return rpc::decoded_value(r, std::move(value));
}

void put_ref(rpc::writer& w, const shard_ref& r) {
  w.str(r.collection);
  w.u32(r.shard);
  w.u64(r.leader_term);
}

shard_ref get_ref(rpc::reader& r) {
  shard_ref out;
  out.collection = std::string(r.str());
  out.shard = r.u32();
  out.leader_term = r.u64();
  return out;
}

/// u32 n, n x {u64 term, u64 start_lsn}.
void put_terms(rpc::writer& w, std::span<const shard::term_start> terms) {
  w.u32(static_cast<uint32_t>(terms.size()));
  for (auto& t : terms) {
    w.u64(t.term);
    w.u64(t.start_lsn);
  }
}

void put_terms(rpc::writer& w, uint64_t from, std::span<const shard::term_start> terms) {
  w.u64(from);
  put_terms(w, terms);
}

/// A term history: terms and start LSNs strictly increasing (it only grows), at most `max`.
std::vector<shard::term_start> get_terms(rpc::reader& r, size_t max) {
  std::vector<shard::term_start> out;
  uint32_t n = r.count(16);
  if (n > max) r.fail();
  if (r.failed()) return out;
  out.reserve(n);
  for (uint32_t i = 0; i < n; ++i) {
    uint64_t term = r.u64();
    uint64_t start = r.u64();
    if (!out.empty() && (term <= out.back().term || start <= out.back().start_lsn)) r.fail();
    out.push_back({term, start});
  }
  return out;
}

}  // namespace

rpc::bytes encode(const shard_ref& ref) {
  rpc::bytes out;
  rpc::writer w(out);
  auto m = w.begin_envelope(kV2);
  put_ref(w, ref);
  put_incarnation(w, ref);
  w.end_envelope(m);
  return out;
}

result<shard_ref> decode_shard_ref(std::span<const std::byte> p) {
  uint8_t version = 0;
  auto r = open_request(p, version);
  auto ref = get_ref(r);
  get_incarnation(r, version, ref);
  return done(r, std::move(ref));
}

rpc::bytes encode(const position_answer& a) {
  rpc::bytes out;
  rpc::writer w(out);
  auto m = w.begin_envelope(a.has_terms ? kV2 : kV1);
  w.u64(a.term);
  w.u8(a.leader ? 1 : 0);
  w.u64(a.last_lsn);
  w.u64(a.last_term);
  w.u64(a.durable_lsn);
  w.u64(a.first_lsn);
  w.u64(a.snapshot_lsn);
  if (a.has_terms) put_terms(w, a.terms_from, a.terms);
  w.end_envelope(m);
  return out;
}

void set_position_terms(position_answer& a, const shard::term_history& h) {
  auto& all = h.entries();
  size_t skip = all.size() > kMaxPositionTerms ? all.size() - kMaxPositionTerms : 0;
  a.terms.assign(all.begin() + static_cast<std::ptrdiff_t>(skip), all.end());
  a.terms_from = skip ? a.terms.front().start_lsn : 0;
  a.has_terms = true;
}

result<position_answer> decode_position(std::span<const std::byte> p) {
  rpc::reader outer(p);
  uint8_t version = 0;
  auto r = outer.envelope(version);
  if (version < kV1) r.fail();
  position_answer a;
  a.term = r.u64();
  a.leader = r.u8() != 0;
  a.last_lsn = r.u64();
  a.last_term = r.u64();
  a.durable_lsn = r.u64();
  a.first_lsn = r.u64();
  a.snapshot_lsn = r.u64();
  if (version >= kV2) {
    a.terms_from = r.u64();
    a.terms = get_terms(r, kMaxPositionTerms);
    a.has_terms = true;
  }
  return done(r, std::move(a));
}

rpc::bytes encode(const truncate_request& t) {
  rpc::bytes out;
  rpc::writer w(out);
  auto m = w.begin_envelope(kV2);
  put_ref(w, t.ref);
  w.u64(t.after_lsn);
  put_incarnation(w, t.ref);
  w.end_envelope(m);
  return out;
}

result<truncate_request> decode_truncate(std::span<const std::byte> p) {
  uint8_t version = 0;
  auto r = open_request(p, version);
  truncate_request t;
  t.ref = get_ref(r);
  t.after_lsn = r.u64();
  get_incarnation(r, version, t.ref);
  return done(r, std::move(t));
}

rpc::bytes encode(const fetch_request& f) {
  rpc::bytes out;
  rpc::writer w(out);
  auto m = w.begin_envelope(kV2);
  put_ref(w, f.ref);
  w.u64(f.after_lsn);
  w.u64(f.after_term);
  w.u32(f.max_bytes);
  put_incarnation(w, f.ref);
  w.end_envelope(m);
  return out;
}

result<fetch_request> decode_fetch(std::span<const std::byte> p) {
  uint8_t version = 0;
  auto r = open_request(p, version);
  fetch_request f;
  f.ref = get_ref(r);
  f.after_lsn = r.u64();
  f.after_term = r.u64();
  f.max_bytes = r.u32();
  get_incarnation(r, version, f.ref);
  return done(r, std::move(f));
}

rpc::bytes encode(const append_request& a) {
  rpc::bytes out;
  size_t body_bytes = 0;
  for (auto& rec : a.records) body_bytes += kMinRecord + rec.body.size();
  out.reserve(64 + a.ref.collection.size() + body_bytes);
  rpc::writer w(out);
  auto m = w.begin_envelope(kV2);
  put_ref(w, a.ref);
  w.u64(a.prev_lsn);
  w.u64(a.prev_term);
  w.u8(a.sync ? 1 : 0);
  w.u32(static_cast<uint32_t>(a.records.size()));
  for (auto& rec : a.records) {
    w.u64(rec.lsn);
    w.u64(rec.term);
    w.u8(rec.type);
    w.u32(static_cast<uint32_t>(rec.body.size()));
    w.raw(rec.body.data(), rec.body.size());
  }
  put_incarnation(w, a.ref);
  w.end_envelope(m);
  return out;
}

result<append_request> decode_append(std::span<const std::byte> p) {
  uint8_t version = 0;
  auto r = open_request(p, version);
  append_request a;
  a.ref = get_ref(r);
  a.prev_lsn = r.u64();
  a.prev_term = r.u64();
  uint8_t sync = r.u8();
  if (sync > 1) r.fail();
  a.sync = sync == 1;
  uint32_t n = r.count(kMinRecord);
  if (r.failed()) return rpc::errc::malformed;
  a.records.reserve(n);
  for (uint32_t i = 0; i < n && !r.failed(); ++i) {
    wal::log_record rec;
    rec.lsn = r.u64();
    rec.term = r.u64();
    rec.type = r.u8();
    uint32_t size = r.u32();
    if (size > wal::kMaxRecordBody) r.fail();
    auto body = r.raw(size);  // checked against what remains before anything is allocated
    rec.body.assign(body.begin(), body.end());
    a.records.push_back(std::move(rec));
  }
  get_incarnation(r, version, a.ref);
  return done(r, std::move(a));
}

rpc::bytes encode(const append_answer& a) {
  rpc::bytes out;
  rpc::writer w(out);
  auto m = w.begin_envelope(kV1);
  w.u64(a.durable_lsn);
  w.u64(a.last_lsn);
  w.end_envelope(m);
  return out;
}

result<append_answer> decode_append_answer(std::span<const std::byte> p) {
  auto r = open(p);
  append_answer a;
  a.durable_lsn = r.u64();
  a.last_lsn = r.u64();
  return done(r, a);
}

rpc::bytes encode(const snapshot_chunk& c) {
  rpc::bytes out;
  out.reserve(96 + c.ref.collection.size() + c.data.size() + c.terms.size() * 16);
  rpc::writer w(out);
  auto m = w.begin_envelope(kV2);
  put_ref(w, c.ref);
  w.u64(c.lsn);
  w.u64(c.total_size);
  w.u64(c.offset);
  w.u8(c.last ? 1 : 0);
  w.u32(static_cast<uint32_t>(c.data.size()));
  w.raw(c.data.data(), c.data.size());
  put_terms(w, c.terms);
  put_incarnation(w, c.ref);
  w.end_envelope(m);
  return out;
}

result<snapshot_chunk> decode_snapshot_chunk(std::span<const std::byte> p) {
  uint8_t version = 0;
  auto r = open_request(p, version);
  snapshot_chunk c;
  c.ref = get_ref(r);
  c.lsn = r.u64();
  c.total_size = r.u64();
  c.offset = r.u64();
  uint8_t last = r.u8();
  if (last > 1) r.fail();
  c.last = last == 1;
  uint32_t size = r.u32();
  auto data = r.raw(size);
  c.data.assign(data.begin(), data.end());
  c.terms = get_terms(r, SIZE_MAX);
  if (c.offset > c.total_size || c.data.size() > c.total_size - c.offset) r.fail();
  if (c.last && c.offset + c.data.size() != c.total_size) r.fail();
  get_incarnation(r, version, c.ref);
  return done(r, std::move(c));
}

rpc::bytes encode_received(uint64_t bytes) {
  rpc::bytes out;
  rpc::writer w(out);
  auto m = w.begin_envelope(kV1);
  w.u64(bytes);
  w.end_envelope(m);
  return out;
}

result<uint64_t> decode_received(std::span<const std::byte> p) {
  auto r = open(p);
  uint64_t v = r.u64();
  return done(r, v);
}

std::string tagged_error(std::string_view name, std::string_view message) {
  std::string out;
  out.reserve(name.size() + message.size() + 3);
  out += '[';
  out += name;
  out += "] ";
  out += message;
  return out;
}

std::string_view error_tag(std::string_view message) {
  if (message.empty() || message.front() != '[') return {};
  auto end = message.find(']');
  if (end == std::string_view::npos) return {};
  return message.substr(1, end - 1);
}

}  // namespace shoal::repl
