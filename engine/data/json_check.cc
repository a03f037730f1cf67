#include "engine/data/json_check.h"

#include <algorithm>
#include <vector>

#include <fmt/format.h>

#include "engine/common/json_writer.h"

namespace shoal::data {
namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;

bool is_container(element e) {
  auto t = e.type();
  return t == element_type::ARRAY || t == element_type::OBJECT;
}

/// A key as messages quote it: at most 64 bytes, cut on a character boundary.
std::string quoted(std::string_view key) {
  constexpr size_t kShown = 64;
  if (key.size() <= kShown) return fmt::format("\"{}\"", key);
  size_t cut = kShown;
  while (cut > 0 && (static_cast<unsigned char>(key[cut]) & 0xC0) == 0x80) --cut;
  return fmt::format("\"{}...\" ({} bytes)", key.substr(0, cut), key.size());
}

/// Depth-first over containers; on a repeated key, `path` is filled on the way back up (innermost
/// step first).
class duplicate_finder {
 public:
  bool walk(element e) {
    if (e.type() == element_type::ARRAY) {
      size_t i = 0;
      for (auto child : simdjson::dom::array(e.get_array().value_unsafe())) {
        if (is_container(child) && walk(child)) {
          path_.push_back(fmt::format("[{}]", i));
          return true;
        }
        ++i;
      }
      return false;
    }
    if (e.type() != element_type::OBJECT) return false;
    auto obj = simdjson::dom::object(e.get_object().value_unsafe());
    size_t base = keys_.size();
    for (auto field : obj) keys_.push_back(field.key);
    auto first = keys_.begin() + static_cast<ptrdiff_t>(base);
    size_t n = keys_.size() - base;
    std::optional<std::string_view> repeated;
    if (n <= 8) {
      for (size_t i = 1; i < n && !repeated; ++i) {
        for (size_t j = 0; j < i; ++j) {
          if (first[i] == first[j]) {
            repeated = first[i];
            break;
          }
        }
      }
    } else {
      std::sort(first, keys_.end());
      if (auto it = std::adjacent_find(first, keys_.end()); it != keys_.end()) repeated = *it;
    }
    keys_.resize(base);
    if (repeated) {
      key_ = *repeated;
      return true;
    }
    for (auto field : obj) {
      if (is_container(field.value) && walk(field.value)) {
        path_.push_back(fmt::format(".{}", field.key));
        return true;
      }
    }
    return false;
  }

  std::string message(std::string_view where) const {
    std::string at(where);
    for (auto it = path_.rbegin(); it != path_.rend(); ++it) {
      if (at.empty() && it->front() == '.') {
        at += it->substr(1);
      } else {
        at += *it;
      }
    }
    return fmt::format("duplicate key {} in {}", quoted(key_),
                       at.empty() ? std::string("the top-level object") : at);
  }

 private:
  std::vector<std::string_view> keys_;  // the keys of the objects being checked, as a stack
  std::string_view key_;
  std::vector<std::string> path_;
};

size_t escaped_size(std::string_view s) {
  size_t n = s.size() + 2;
  for (unsigned char c : s) {
    if (c == '"' || c == '\\' || c == '\n' || c == '\r' || c == '\t' || c == '\b' || c == '\f') {
      n += 1;
    } else if (c < 0x20) {
      n += 5;
    }
  }
  return n;
}

/// Bytes of a number as json_value writes it.
size_t number_size(element e) {
  thread_local std::string text;
  text.clear();
  json_writer w(text);
  if (e.type() == element_type::INT64) {
    w.value(e.get_int64().value_unsafe());
  } else if (e.type() == element_type::UINT64) {
    w.double_value(static_cast<double>(e.get_uint64().value_unsafe()));  // kept as a double
  } else {
    w.double_value(e.get_double().value_unsafe());
  }
  return text.size();
}

/// Counts the bytes, keys and the longest key of a payload, stopping at the first limit broken.
struct payload_walker {
  explicit payload_walker(const input_limits& l, size_t byte_limit)
      : limits(l), byte_limit(byte_limit) {}
  const input_limits& limits;
  size_t byte_limit;
  size_t bytes = 0;
  size_t keys = 0;
  std::string_view long_key;

  bool over() const {
    return bytes > byte_limit || keys > limits.max_payload_keys || !long_key.empty();
  }

  void walk(element e) {
    switch (e.type()) {
      case element_type::NULL_VALUE:
      case element_type::BOOL:
        bytes += e.is_null() ? 4 : e.get_bool().value_unsafe() ? 4 : 5;
        return;
      case element_type::INT64:
      case element_type::UINT64:
      case element_type::DOUBLE:
        bytes += number_size(e);
        return;
      case element_type::STRING:
        bytes += escaped_size(e.get_string().value_unsafe());
        return;
      case element_type::ARRAY: {
        auto a = simdjson::dom::array(e.get_array().value_unsafe());
        bytes += 2;
        bool first = true;
        for (auto child : a) {
          if (!first) ++bytes;
          first = false;
          walk(child);
          if (over()) return;
        }
        return;
      }
      case element_type::OBJECT: {
        auto o = simdjson::dom::object(e.get_object().value_unsafe());
        bytes += 2;
        bool first = true;
        for (auto field : o) {
          if (!first) ++bytes;
          first = false;
          ++keys;
          if (field.key.size() > limits.max_key_length) long_key = field.key;
          bytes += escaped_size(field.key) + 1;
          if (over()) return;
          walk(field.value);
          if (over()) return;
        }
        return;
      }
    }
  }
};

}  // namespace

std::optional<std::string> find_duplicate_key(element e, std::string_view where) {
  if (!is_container(e)) return std::nullopt;
  duplicate_finder f;
  if (!f.walk(e)) return std::nullopt;
  return f.message(where);
}

size_t compact_json_size(element v, size_t stop_after) {
  input_limits unlimited;
  unlimited.max_payload_keys = SIZE_MAX;
  unlimited.max_key_length = SIZE_MAX;
  payload_walker w(unlimited, stop_after);
  w.walk(v);
  return w.bytes;
}

std::optional<input_error> check_payload(element payload, const input_limits& limits,
                                         const std::string& where) {
  payload_walker w(limits, limits.max_payload_bytes);
  w.walk(payload);
  if (!w.long_key.empty()) {
    return input_error::validation(
        fmt::format("{}: the key {} is too long, {}", where, quoted(w.long_key),
                    limit_note(limits.max_key_length, "rest.max-key-length", "bytes")));
  }
  if (w.keys > limits.max_payload_keys) {
    return input_error::validation(
        fmt::format("{}: too many keys (nested objects included), {}", where,
                    limit_note(limits.max_payload_keys, "rest.max-payload-keys")));
  }
  if (w.bytes > limits.max_payload_bytes) {
    return input_error::validation(
        fmt::format("{}: too large as compact JSON, {}", where,
                    limit_note(limits.max_payload_bytes, "rest.max-payload-bytes", "bytes")));
  }
  return std::nullopt;
}

std::string depth_error_message(size_t max_depth) {
  return fmt::format("objects and arrays nested too deeply, {}",
                     limit_note(max_depth, "rest.max-json-depth", "levels"));
}

}  // namespace shoal::data
