#pragma once
// A small streaming JSON writer that appends to a std::string. It writes integers without a
// fraction, floats in their shortest round-trip form (std::to_chars), non-finite numbers as null
// (JSON has no NaN), and escapes strings per RFC 8259, writing any byte that is not part of
// well-formed UTF-8 as U+FFFD (the output is always valid JSON). Commas are handled by the writer,
// so callers only say what comes next.
//
//   std::string out; json_writer w(out);
//   w.begin_object(); w.key("result"); w.value(true); w.end_object();

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>

#include "engine/common/assert.h"

namespace shoal {

class json_writer {
 public:
  explicit json_writer(std::string& out) : out_(out) {}

  json_writer& begin_object() {
    open('{');
    return *this;
  }
  json_writer& end_object() {
    close('}');
    return *this;
  }
  json_writer& begin_array() {
    open('[');
    return *this;
  }
  json_writer& end_array() {
    close(']');
    return *this;
  }

  json_writer& key(std::string_view k) {
    separate();
    write_string(k);
    out_ += ':';
    after_key_ = true;
    return *this;
  }

  json_writer& value(std::string_view s) {
    separate();
    write_string(s);
    return *this;
  }
  json_writer& value(const char* s) { return value(std::string_view(s)); }
  json_writer& value(bool b) {
    separate();
    out_ += b ? "true" : "false";
    return *this;
  }
  json_writer& null() {
    separate();
    out_ += "null";
    return *this;
  }
  template <typename I>
  requires(std::is_integral_v<I> && !std::is_same_v<I, bool>) json_writer& value(I v) {
    separate();
    char buf[24];
    auto r = std::to_chars(buf, buf + sizeof buf, v);
    out_.append(buf, r.ptr);
    return *this;
  }
  json_writer& value(double v) {
    separate();
    write_floating(v);
    return *this;
  }
  json_writer& value(float v) {
    separate();
    write_floating(v);
    return *this;
  }

  /// A double that a reader takes for a double again: an integral value keeps a fraction
  /// ("5.0", "-0.0"), where value() writes "5", which reads back as the integer 5. Payload values
  /// are written this way, so a stored payload means the same after a restart (a filter matches
  /// the integer 5, not the float 5.0).
  json_writer& double_value(double v) {
    separate();
    write_floating(v, /*keep_type=*/true);
    return *this;
  }

  /// Inserts already-serialized JSON (e.g. a stored payload) as one value.
  json_writer& raw(std::string_view json) {
    separate();
    out_ += json;
    return *this;
  }

  /// Key-value shorthand.
  template <typename T>
  json_writer& field(std::string_view k, const T& v) {
    key(k);
    return value(v);
  }

  bool complete() const { return depth_ == 0; }

 private:
  template <typename F>
  void write_floating(F v, bool keep_type = false) {
    if (!std::isfinite(v)) {
      out_ += "null";
      return;
    }
    char buf[32];
    auto r = std::to_chars(buf, buf + sizeof buf, v);
    // The shortest form of a large integral value can be all digits ("18446744073709551616"
    // for 2^64); readers take that for an integer, and one beyond 64 bits does not parse
    // (simdjson), so a stored payload could not be loaded again. Beyond int64 such a value is
    // written with an exponent.
    if (std::abs(v) >= F(9223372036854775808.0) &&
        std::find_if(buf, r.ptr, [](char c) { return c == '.' || c == 'e'; }) == r.ptr) {
      r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
    }
    out_.append(buf, r.ptr);
    if (keep_type &&
        std::find_if(buf, r.ptr, [](char c) { return c == '.' || c == 'e'; }) == r.ptr) {
      out_ += ".0";
    }
  }

  void open(char c) {
    separate();
    out_ += c;
    SHOAL_ASSERT(depth_ < kMaxDepth, "json_writer nesting deeper than {}", kMaxDepth);
    first_[++depth_] = true;
  }
  void close(char c) {
    SHOAL_ASSERT(depth_ > 0, "json_writer: close without open");
    --depth_;
    out_ += c;
  }
  void separate() {
    if (after_key_) {
      after_key_ = false;
      return;
    }
    if (depth_ == 0) return;
    if (!first_[depth_]) out_ += ',';
    first_[depth_] = false;
  }
  void write_string(std::string_view s);

  static constexpr int kMaxDepth = 128;
  std::string& out_;
  int depth_ = 0;
  bool after_key_ = false;
  bool first_[kMaxDepth + 1] = {};
};

}  // namespace shoal
