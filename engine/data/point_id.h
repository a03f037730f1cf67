#pragma once
// A point's id: an unsigned 64-bit integer or a UUID (REST_API.md §1.4). Integers order before
// UUIDs; integers by value, UUIDs by their bytes. A UUID is written back in lowercase hyphenated
// form whatever form it arrived in.
//
// route_hash() decides which shard a point lives on. It is part of the on-disk layout (a
// collection's points are spread by it), so it must never change: splitmix64 of the integer, or
// of the two halves of the UUID combined.

#include <array>
#include <compare>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "engine/common/json_writer.h"
#include "engine/common/result.h"

namespace shoal::data {

class point_id {
 public:
  point_id() = default;
  static point_id number(uint64_t v) { return point_id(0, v, false); }
  static point_id uuid(uint64_t hi, uint64_t lo) { return point_id(hi, lo, true); }
  /// "550e8400-e29b-41d4-a716-446655440000", the 32-hex "simple" form, "{...}" and
  /// "urn:uuid:..."; hex digits in either case.
  static std::optional<point_id> parse_uuid(std::string_view text);
  /// A decimal integer (path parameters) or a UUID.
  static std::optional<point_id> parse(std::string_view text);

  bool is_uuid() const { return uuid_; }
  uint64_t number_value() const { return lo_; }
  uint64_t hi() const { return hi_; }
  uint64_t lo() const { return lo_; }

  std::string to_string() const;
  /// A JSON number for integers, a JSON string for UUIDs.
  void write_json(json_writer& w) const;
  uint64_t route_hash() const;

  friend bool operator==(const point_id&, const point_id&) = default;
  friend std::strong_ordering operator<=>(const point_id& a, const point_id& b) {
    if (a.uuid_ != b.uuid_)
      return a.uuid_ ? std::strong_ordering::greater : std::strong_ordering::less;
    if (auto c = a.hi_ <=> b.hi_; c != 0) return c;
    return a.lo_ <=> b.lo_;
  }

 private:
  point_id(uint64_t hi, uint64_t lo, bool uuid) : hi_(hi), lo_(lo), uuid_(uuid) {}
  uint64_t hi_ = 0;
  uint64_t lo_ = 0;
  bool uuid_ = false;
};

}  // namespace shoal::data

template <>
struct std::hash<shoal::data::point_id> {
  size_t operator()(const shoal::data::point_id& p) const noexcept { return p.route_hash(); }
};
