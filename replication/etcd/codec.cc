#include "replication/etcd/codec.h"

#include <charconv>

#include <simdjson.h>

#include "engine/common/base64.h"
#include "engine/common/json_writer.h"
#include "replication/etcd/errc.h"

namespace shoal::etcd {

std::string prefix_end(const std::string& prefix) {
  // The smallest key greater than every key with this prefix: drop trailing 0xff bytes, then
  // increment the last byte. All 0xff (or empty): "\0", which etcd reads as "to the end".
  std::string end = prefix;
  while (!end.empty() && static_cast<unsigned char>(end.back()) == 0xff) end.pop_back();
  if (end.empty()) return std::string(1, '\0');
  end.back() = static_cast<char>(static_cast<unsigned char>(end.back()) + 1);
  return end;
}

namespace codec {
namespace {

using simdjson::SUCCESS;
using simdjson::dom::element;

// --- writing ---

void field_bytes(json_writer& w, std::string_view name, std::string_view bytes) {
  w.key(name).value(base64_encode(bytes));
}
void field_int(json_writer& w, std::string_view name, int64_t v) {
  w.key(name).value(std::to_string(v));  // the gateway's int64 convention: a string
}

void write_op(json_writer& w, const txn_op& op) {
  w.begin_object();
  switch (op.k) {
    case txn_op::kind::put:
      w.key("request_put").begin_object();
      field_bytes(w, "key", op.key);
      field_bytes(w, "value", op.value);
      if (op.lease != 0) field_int(w, "lease", op.lease);
      w.end_object();
      break;
    case txn_op::kind::erase:
      w.key("request_delete_range").begin_object();
      field_bytes(w, "key", op.key);
      if (!op.range_end.empty()) field_bytes(w, "range_end", op.range_end);
      w.end_object();
      break;
    case txn_op::kind::range:
      w.key("request_range").begin_object();
      field_bytes(w, "key", op.key);
      if (!op.range_end.empty()) field_bytes(w, "range_end", op.range_end);
      w.end_object();
      break;
  }
  w.end_object();
}

std::string_view target_name(compare::target t) {
  switch (t) {
    case compare::target::version:
      return "VERSION";
    case compare::target::create_revision:
      return "CREATE";
    case compare::target::mod_revision:
      return "MOD";
    case compare::target::value:
      return "VALUE";
    case compare::target::lease:
      return "LEASE";
  }
  return "VERSION";
}
std::string_view result_name(compare::op o) {
  switch (o) {
    case compare::op::equal:
      return "EQUAL";
    case compare::op::greater:
      return "GREATER";
    case compare::op::less:
      return "LESS";
    case compare::op::not_equal:
      return "NOT_EQUAL";
  }
  return "EQUAL";
}
std::string_view value_field(compare::target t) {
  switch (t) {
    case compare::target::version:
      return "version";
    case compare::target::create_revision:
      return "create_revision";
    case compare::target::mod_revision:
      return "mod_revision";
    case compare::target::value:
      return "value";
    case compare::target::lease:
      return "lease";
  }
  return "version";
}

// --- reading ---

error_code bad() {
  return make_error_code(errc::bad_response);
}

/// An int64 the gateway wrote as a string (or, tolerated, as a number); absent = 0.
bool get_int(element obj, std::string_view name, int64_t& out) {
  out = 0;
  element e;
  if (obj[name].get(e) != SUCCESS) return true;
  if (e.is_int64()) {
    out = e.get_int64().value_unsafe();
    return true;
  }
  std::string_view s;
  if (e.get(s) != SUCCESS) return false;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc{} && end == s.data() + s.size();
}

/// Base64 bytes; absent = "".
bool get_bytes(element obj, std::string_view name, std::string& out) {
  out.clear();
  element e;
  if (obj[name].get(e) != SUCCESS) return true;
  std::string_view s;
  if (e.get(s) != SUCCESS) return false;
  auto decoded = base64_decode(s);
  if (!decoded) return false;
  out = std::move(*decoded);
  return true;
}

bool get_bool(element obj, std::string_view name, bool& out) {
  out = false;
  element e;
  if (obj[name].get(e) != SUCCESS) return true;
  return e.get(out) == SUCCESS;
}

bool header_revision(element obj, int64_t& out, bool required = true) {
  out = 0;
  element header;
  if (obj["header"].get(header) != SUCCESS) return !required;
  return get_int(header, "revision", out);
}

bool parse_kv(element e, key_value& kv) {
  return e.is_object() && get_bytes(e, "key", kv.key) && get_bytes(e, "value", kv.value) &&
         get_int(e, "create_revision", kv.create_revision) &&
         get_int(e, "mod_revision", kv.mod_revision) && get_int(e, "version", kv.version) &&
         get_int(e, "lease", kv.lease);
}

bool parse_range_body(element obj, range_result& out) {
  if (!header_revision(obj, out.revision) || !get_int(obj, "count", out.count) ||
      !get_bool(obj, "more", out.more))
    return false;
  simdjson::dom::array kvs;
  if (obj["kvs"].get(kvs) == SUCCESS) {
    for (element item : kvs) {
      key_value kv;
      if (!parse_kv(item, kv)) return false;
      out.kvs.push_back(std::move(kv));
    }
  }
  return true;
}

/// Parses `json` into an object element owned by `parser`.
bool parse_object(simdjson::dom::parser& parser, std::string_view json, element& out) {
  simdjson::padded_string padded(json);
  if (parser.parse(padded).get(out) != SUCCESS) return false;
  return out.is_object();
}

thread_local simdjson::dom::parser t_parser;

}  // namespace

std::string range_request(std::string_view key, std::string_view range_end, int64_t revision,
                          int64_t limit) {
  std::string out;
  json_writer w(out);
  w.begin_object();
  field_bytes(w, "key", key);
  if (!range_end.empty()) field_bytes(w, "range_end", range_end);
  if (revision > 0) field_int(w, "revision", revision);
  if (limit > 0) field_int(w, "limit", limit);
  w.end_object();
  return out;
}

std::string put_request(std::string_view key, std::string_view value, int64_t lease) {
  std::string out;
  json_writer w(out);
  w.begin_object();
  field_bytes(w, "key", key);
  field_bytes(w, "value", value);
  if (lease != 0) field_int(w, "lease", lease);
  w.end_object();
  return out;
}

std::string delete_request(std::string_view key, std::string_view range_end) {
  std::string out;
  json_writer w(out);
  w.begin_object();
  field_bytes(w, "key", key);
  if (!range_end.empty()) field_bytes(w, "range_end", range_end);
  w.end_object();
  return out;
}

std::string txn_request(const std::vector<compare>& compares, const std::vector<txn_op>& success,
                        const std::vector<txn_op>& failure) {
  std::string out;
  json_writer w(out);
  w.begin_object();
  w.key("compare").begin_array();
  for (auto& c : compares) {
    w.begin_object();
    field_bytes(w, "key", c.key);
    w.key("target").value(target_name(c.what));
    w.key("result").value(result_name(c.how));
    if (c.what == compare::target::value) {
      field_bytes(w, "value", c.value);
    } else {
      field_int(w, value_field(c.what), c.number);
    }
    w.end_object();
  }
  w.end_array();
  w.key("success").begin_array();
  for (auto& op : success) write_op(w, op);
  w.end_array();
  w.key("failure").begin_array();
  for (auto& op : failure) write_op(w, op);
  w.end_array();
  w.end_object();
  return out;
}

std::string lease_grant_request(std::chrono::seconds ttl) {
  std::string out;
  json_writer w(out);
  w.begin_object();
  field_int(w, "TTL", ttl.count());
  w.end_object();
  return out;
}

std::string lease_id_request(int64_t id) {
  std::string out;
  json_writer w(out);
  w.begin_object();
  field_int(w, "ID", id);
  w.end_object();
  return out;
}

std::string watch_create_request(std::string_view key, std::string_view range_end,
                                 int64_t start_revision) {
  std::string out;
  json_writer w(out);
  w.begin_object();
  w.key("create_request").begin_object();
  field_bytes(w, "key", key);
  if (!range_end.empty()) field_bytes(w, "range_end", range_end);
  if (start_revision > 0) field_int(w, "start_revision", start_revision);
  w.end_object();
  w.end_object();
  return out;
}

result<range_result> parse_range(std::string_view json) {
  element obj;
  range_result out;
  if (!parse_object(t_parser, json, obj) || !parse_range_body(obj, out)) return bad();
  return out;
}

result<int64_t> parse_revision(std::string_view json) {
  element obj;
  int64_t rev = 0;
  if (!parse_object(t_parser, json, obj) || !header_revision(obj, rev)) return bad();
  return rev;
}

result<txn_result> parse_txn(std::string_view json) {
  element obj;
  txn_result out;
  if (!parse_object(t_parser, json, obj) || !header_revision(obj, out.revision) ||
      !get_bool(obj, "succeeded", out.succeeded))
    return bad();
  simdjson::dom::array responses;
  if (obj["responses"].get(responses) == SUCCESS) {
    for (element r : responses) {
      element range;
      if (r["response_range"].get(range) != SUCCESS) continue;
      range_result rr;
      // A nested range answer's header carries only the revision.
      if (!parse_range_body(range, rr)) return bad();
      out.ranges.push_back(std::move(rr));
    }
  }
  return out;
}

result<lease_grant> parse_lease_grant(std::string_view json) {
  element obj;
  int64_t id = 0, ttl = 0;
  if (!parse_object(t_parser, json, obj) || !get_int(obj, "ID", id) || !get_int(obj, "TTL", ttl) ||
      id == 0 || ttl <= 0)
    return bad();
  return lease_grant{id, std::chrono::seconds(ttl)};
}

result<std::chrono::seconds> parse_keepalive(std::string_view json) {
  element obj, res;
  int64_t ttl = 0;
  if (!parse_object(t_parser, json, obj)) return bad();
  // A streamed answer: {"result": {...}} (or {"error": {...}}).
  if (obj["result"].get(res) != SUCCESS) return bad();
  if (!get_int(res, "TTL", ttl)) return bad();
  if (ttl <= 0) return make_error_code(errc::lease_not_found);
  return std::chrono::seconds(ttl);
}

result<watch_message> parse_watch_message(std::string_view line) {
  element obj, res;
  if (!parse_object(t_parser, line, obj)) return bad();
  if (obj["result"].get(res) != SUCCESS) {
    element err;
    if (obj["error"].get(err) == SUCCESS) {
      std::string_view msg;
      watch_canceled c;
      if (err["message"].get(msg) == SUCCESS) c.reason = std::string(msg);
      return watch_message(std::move(c));
    }
    return bad();
  }
  int64_t revision = 0;
  if (!header_revision(res, revision, /*required=*/false)) return bad();
  bool created = false, canceled = false;
  if (!get_bool(res, "created", created) || !get_bool(res, "canceled", canceled)) return bad();
  if (canceled) {
    watch_canceled c;
    if (!get_int(res, "compact_revision", c.compact_revision)) return bad();
    std::string_view reason;
    if (res["cancel_reason"].get(reason) == SUCCESS) c.reason = std::string(reason);
    return watch_message(std::move(c));
  }
  if (created) return watch_message(watch_created{revision});
  watch_batch batch;
  batch.revision = revision;
  simdjson::dom::array events;
  if (res["events"].get(events) == SUCCESS) {
    for (element e : events) {
      watch_event ev;
      element kv;
      std::string_view type;
      if (e["type"].get(type) == SUCCESS && type == "DELETE") ev.k = watch_event::kind::erase;
      if (e["kv"].get(kv) != SUCCESS || !parse_kv(kv, ev.kv)) return bad();
      batch.events.push_back(std::move(ev));
    }
  }
  return watch_message(std::move(batch));
}

gateway_error parse_error(unsigned status, std::string_view body) {
  gateway_error out;
  element obj;
  int64_t code = 0;
  std::string_view message;
  if (parse_object(t_parser, body, obj)) {
    element inner = obj, streamed;
    if (obj["error"].get(streamed) == SUCCESS && streamed.is_object()) inner = streamed;
    (void)get_int(inner, "code", code);
    if (inner["message"].get(message) == SUCCESS || inner["error"].get(message) == SUCCESS)
      out.message = std::string(message);
  }
  if (out.message.empty())
    out.message = "HTTP " + std::to_string(status) + ": " + std::string(body.substr(0, 200));
  // gRPC status codes (google.golang.org/grpc/codes).
  switch (code) {
    case 4:
      out.code = errc::timeout;
      break;  // DEADLINE_EXCEEDED
    case 5:
      out.code = errc::lease_not_found;
      break;  // NOT_FOUND: etcd's only one is a lease
    case 8:
      out.code = errc::request_too_large;
      break;  // RESOURCE_EXHAUSTED
    case 11:
      out.code = errc::compacted;
      break;  // OUT_OF_RANGE
    case 14:
      out.code = errc::unavailable;
      break;  // UNAVAILABLE (no leader, stopping)
    default:
      out.code = status >= 500 ? errc::unavailable : errc::rejected;
      break;
  }
  return out;
}

}  // namespace codec
}  // namespace shoal::etcd
