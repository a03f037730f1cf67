#pragma once
// An owned JSON value: the in-memory form of point payloads. Objects keep their keys in
// insertion order (an object with a repeated key is refused: errc::duplicate_key); integers
// that fit int64 stay integers, other numbers are doubles.
//
// Built from text with simdjson (parse()) or from a simdjson DOM element (from_dom(), used by
// the request decoders); written back with the common json_writer. Nesting is limited to
// kMaxDepth so hostile input cannot exhaust the stack.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include <simdjson.h>

#include "engine/common/json_writer.h"
#include "engine/common/result.h"

namespace shoal::data {

class json_value {
 public:
  using array = std::vector<json_value>;
  using object = std::vector<std::pair<std::string, json_value>>;
  enum class kind : uint8_t { null, boolean, integer, floating, string, array, object };
  static constexpr int kMaxDepth = 64;

  json_value() = default;
  json_value(std::nullptr_t) {}
  json_value(bool b) : v_(b) {}
  json_value(int64_t i) : v_(i) {}
  json_value(int i) : v_(int64_t{i}) {}
  json_value(double d) : v_(d) {}
  json_value(std::string s) : v_(std::move(s)) {}
  json_value(const char* s) : v_(std::string(s)) {}
  json_value(array a) : v_(std::move(a)) {}
  json_value(object o) : v_(std::move(o)) {}

  /// Parses JSON text; errors say what is wrong and where possible.
  static result<json_value> parse(std::string_view text, std::string* error = nullptr);
  /// Converts a simdjson DOM element (depth counts nesting already consumed).
  static result<json_value> from_dom(simdjson::dom::element e, int depth = 0);

  kind type() const { return static_cast<kind>(v_.index()); }
  bool is_null() const { return type() == kind::null; }
  bool is_bool() const { return type() == kind::boolean; }
  bool is_integer() const { return type() == kind::integer; }
  bool is_double() const { return type() == kind::floating; }
  bool is_number() const { return is_integer() || is_double(); }
  bool is_string() const { return type() == kind::string; }
  bool is_array() const { return type() == kind::array; }
  bool is_object() const { return type() == kind::object; }

  bool as_bool() const { return std::get<bool>(v_); }
  int64_t as_integer() const { return std::get<int64_t>(v_); }
  double as_double() const {
    return is_integer() ? static_cast<double>(as_integer()) : std::get<double>(v_);
  }
  const std::string& as_string() const { return std::get<std::string>(v_); }
  const array& as_array() const { return std::get<array>(v_); }
  array& as_array() { return std::get<array>(v_); }
  const object& as_object() const { return std::get<object>(v_); }
  object& as_object() { return std::get<object>(v_); }

  /// Objects: the value of `key`, or nullptr.
  const json_value* find(std::string_view key) const;
  json_value* find(std::string_view key);
  /// Objects: sets `key` (replacing, keeping its position) and returns the stored value.
  json_value& set(std::string key, json_value value);
  /// Objects: removes `key`; false if absent.
  bool erase(std::string_view key);

  void write(json_writer& w) const;
  std::string to_json() const;
  /// Approximate heap bytes held, for memory accounting.
  size_t heap_bytes() const;
  /// Levels of nesting: 0 for a scalar, 1 for an object or array of scalars, and so on. A value
  /// from from_dom() or parse() has at most kMaxDepth + 1.
  int depth() const;

  friend bool operator==(const json_value&, const json_value&) = default;

 private:
  std::variant<std::monostate, bool, int64_t, double, std::string, array, object> v_;
};

}  // namespace shoal::data
