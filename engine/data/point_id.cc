#include "engine/data/point_id.h"

#include <charconv>

#include <fmt/format.h>

namespace shoal::data {
namespace {

uint64_t splitmix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

int hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::optional<point_id> point_id::parse_uuid(std::string_view t) {
  if (t.starts_with("urn:uuid:")) t.remove_prefix(9);
  if (t.size() == 38 && t.front() == '{' && t.back() == '}') t = t.substr(1, 36);
  std::string digits;
  if (t.size() == 36) {
    for (size_t i = 0; i < 36; ++i) {
      bool dash_pos = i == 8 || i == 13 || i == 18 || i == 23;
      if (dash_pos != (t[i] == '-')) return std::nullopt;
      if (!dash_pos) digits += t[i];
    }
  } else if (t.size() == 32) {
    digits = std::string(t);
  } else {
    return std::nullopt;
  }
  uint64_t hi = 0, lo = 0;
  for (size_t i = 0; i < 32; ++i) {
    int v = hex(digits[i]);
    if (v < 0) return std::nullopt;
    uint64_t& half = i < 16 ? hi : lo;
    half = (half << 4) | static_cast<uint64_t>(v);
  }
  return uuid(hi, lo);
}

std::optional<point_id> point_id::parse(std::string_view text) {
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec == std::errc{} && p == text.data() + text.size() && !text.empty()) return number(v);
  return parse_uuid(text);
}

std::string point_id::to_string() const {
  if (!uuid_) return std::to_string(lo_);
  auto s = fmt::format("{:016x}{:016x}", hi_, lo_);
  return s.substr(0, 8) + "-" + s.substr(8, 4) + "-" + s.substr(12, 4) + "-" + s.substr(16, 4) +
         "-" + s.substr(20);
}

void point_id::write_json(json_writer& w) const {
  if (uuid_) {
    w.value(to_string());
  } else {
    w.value(lo_);
  }
}

uint64_t point_id::route_hash() const {
  return uuid_ ? splitmix64(hi_ ^ splitmix64(lo_)) : splitmix64(lo_);
}

}  // namespace shoal::data
