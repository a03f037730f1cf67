#include "net/rest/number_array.h"

#include <algorithm>
#include <array>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <optional>
#include <string>

namespace shoal::rest {
namespace {

bool is_digit(char c) {
  return static_cast<unsigned char>(c - '0') < 10;
}

bool is_space(char c) {
  return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

/// '.', 'e' and 'E': what turns an integer into a float. One table lookup per number.
constexpr std::array<bool, 256> kFloatMark = [] {
  std::array<bool, 256> t{};
  t['.'] = t['e'] = t['E'] = true;
  return t;
}();

/// Eight ASCII digits at `p` (readable), as one 64-bit word: checked and converted together, a
/// few instructions instead of eight rounds of the digit loop (the SWAR technique of simdjson
/// and fast_float). A query vector's floats have 8-9 digits after the point.
uint64_t load8(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, sizeof v);
  return v;  // p[0] in the low byte
}
static_assert(std::endian::native == std::endian::little, "load8 expects p[0] in the low byte");

bool eight_digits(uint64_t v) {
  // Each byte 0x30..0x39: its high nibble is 3, and adding 6 keeps it 3.
  return ((v & 0xF0F0F0F0F0F0F0F0) | (((v + 0x0606060606060606) & 0xF0F0F0F0F0F0F0F0) >> 4)) ==
         0x3333333333333333;
}

uint64_t eight_digits_value(uint64_t v) {
  v -= 0x3030303030303030;                     // bytes d0..d7 (d0 the most significant digit)
  v = (v * 10) + (v >> 8);                     // pairs: 10*d0+d1 in byte 0, 10*d2+d3 in byte 2...
  uint64_t pairs_lo = v & 0x000000FF000000FF;  // pairs 0 and 2 (bytes 0 and 4)
  uint64_t pairs_hi = (v >> 16) & 0x000000FF000000FF;  // pairs 1 and 3
  // In the high half: pair0*10^6 + pair2*10^2 + pair1*10^4 + pair3.
  return ((pairs_lo * (100 + (uint64_t(1000000) << 32))) +
          (pairs_hi * (1 + (uint64_t(10000) << 32)))) >>
         32;
}

/// Powers of ten a double holds exactly (5^22 < 2^53).
constexpr double kExactPowers[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                   1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                   1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/// float(a) when that is sure to be float(d) for every double d within 4 units in the last place
/// of `a`; nullopt when a rounding boundary of float (halfway between two floats, or the edge of
/// float's range) lies within 8.
std::optional<float> float_if_unambiguous(double a) {
  double magnitude = std::abs(a);
  auto f = static_cast<float>(magnitude);
  uint32_t bits;
  std::memcpy(&bits, &f, sizeof bits);
  if (bits >= 0x7F7FFFFFu) return std::nullopt;  // FLT_MAX or beyond: near the overflow edge
  auto neighbour = [](uint32_t b) {
    float g;
    std::memcpy(&g, &b, sizeof g);
    return static_cast<double>(g);
  };
  // Halfway to each neighbour; exact in a double (two adjacent floats sum to at most 26 bits).
  double down = bits == 0 ? -1.0 : (double(f) + neighbour(bits - 1)) / 2;
  double up = (double(f) + neighbour(bits + 1)) / 2;
  double margin = magnitude * 0x1p-49;  // 8 units in the last place of a double, or more
  if (magnitude - down <= margin || up - magnitude <= margin) return std::nullopt;
  return a < 0 ? -f : f;
}

/// read_json_number's work. The text must go on after the number with a character that cannot
/// continue it (a sentinel such as the array's `]`): the loops stop there without checking for
/// the end. `stop`: how far the text may be read in blocks of eight (the array's `]`).
[[gnu::always_inline]] inline bool read_number(const char*& p, const char* stop, float& out) {
  double value;
  const char* start = p;
  const char* at = p;
  bool negative = *at == '-';
  at += negative ? 1 : 0;
  if (!is_digit(*at)) return false;
  uint64_t mantissa = 0;  // all digits, integer and fraction; exact while there are at most 19
  const char* digits = at;
  if (*at == '0') {
    ++at;  // JSON: a leading zero stands alone
  } else {
    do {
      mantissa = mantissa * 10 + uint64_t(*at++ - '0');
    } while (is_digit(*at));
  }
  auto integer_digits = at - digits;
  if (!kFloatMark[static_cast<unsigned char>(*at)]) [[likely]] {
    // An integer, as the DOM stores it: a 64-bit integer (signed if it fits, else unsigned),
    // then get_double. Up to 18 digits it fits either way.
    if (integer_digits <= 18) [[likely]] {
      auto i = static_cast<int64_t>(mantissa);
      value = static_cast<double>(negative ? -i : i);  // -0 is the integer 0
    } else {
      uint64_t magnitude = 0;
      auto [q, ec] = std::from_chars(digits, at, magnitude);
      if (ec != std::errc{} || q != at) return false;  // beyond 64 bits
      if (negative) {
        if (magnitude > uint64_t(std::numeric_limits<int64_t>::max()) + 1) return false;
        value = static_cast<double>(int64_t(0 - magnitude));
      } else if (magnitude <= uint64_t(std::numeric_limits<int64_t>::max())) {
        value = static_cast<double>(int64_t(magnitude));
      } else {
        value = static_cast<double>(magnitude);
      }
    }
    out = static_cast<float>(value);
    p = at;
    return true;
  }
  ptrdiff_t fraction_digits = 0;
  if (*at == '.') {
    const char* fraction = ++at;
    // Floats printed in full have 8-9 digits after the point, doubles 16-17.
    if (stop - at >= 8 && eight_digits(load8(at))) {
      mantissa = mantissa * 100000000 + eight_digits_value(load8(at));
      at += 8;
      if (stop - at >= 8 && eight_digits(load8(at))) {
        mantissa = mantissa * 100000000 + eight_digits_value(load8(at));
        at += 8;
      }
    }
    while (is_digit(*at)) mantissa = mantissa * 10 + uint64_t(*at++ - '0');
    fraction_digits = at - fraction;
    if (fraction_digits == 0) return false;
  }
  // Digits that count against the 19 a 64-bit mantissa holds: not the zeros before the first
  // significant one (0.000123 has 3), which added nothing to it.
  ptrdiff_t significant_digits = integer_digits + fraction_digits;
  if (significant_digits > 19) {
    for (const char* q = digits; *q == '0' || *q == '.'; ++q) significant_digits -= *q == '0';
  }
  int64_t exponent = 0;
  if ((*at | 0x20) == 'e') {
    ++at;
    bool exponent_negative = *at == '-';
    if (*at == '+' || *at == '-') ++at;
    if (!is_digit(*at)) return false;
    do {
      if (exponent < 100000) exponent = exponent * 10 + (*at - '0');
      ++at;
    } while (is_digit(*at));
    if (exponent_negative) exponent = -exponent;
  }
  int64_t power = exponent - fraction_digits;
  bool exact_powers = power >= -22 && power <= 22;
  if (significant_digits <= 19 && mantissa <= (uint64_t(1) << 53) && exact_powers) [[likely]] {
    // Clinger's fast path: both operands exact, so the one rounding is the correct one.
    auto m = static_cast<double>(mantissa);
    value = power < 0 ? m / kExactPowers[-power] : m * kExactPowers[power];
    if (negative) value = -value;
  } else if (significant_digits <= 19 && exact_powers) {
    // Up to 19 digits, more than 53 bits: a double printed in full (JavaScript, Python). The
    // mantissa's conversion and the product round once each, so `approx` is within 3 units in the
    // last place of the correct double; unless a float's rounding boundary is that close
    // (about once in 10^7 numbers), both give the same float, which is all that is kept.
    auto m = static_cast<double>(mantissa);
    double approx = power < 0 ? m / kExactPowers[-power] : m * kExactPowers[power];
    if (auto f = float_if_unambiguous(negative ? -approx : approx)) {
      out = *f;
      p = at;
      return true;
    }
    auto [q, ec] = std::from_chars(start, at, value);
    if (ec != std::errc{} || q != at) return false;
  } else {
    auto [q, ec] = std::from_chars(start, at, value);
    if (ec != std::errc{} || q != at) return false;  // out of a double's range
  }
  out = static_cast<float>(value);
  p = at;
  return true;
}

}  // namespace

bool read_json_number(const char*& p, const char* end, float& value) {
  std::string token(p, end);  // with a sentinel after it: read_number reads up to a non-number
  token.push_back(']');
  const char* at = token.data();
  if (!read_number(at, token.data() + token.size(), value)) return false;
  p += at - token.data();
  return true;
}

bool read_float_array(std::string_view text, size_t& pos, std::vector<float>& out,
                      size_t max_count) {
  const char* at = text.data() + pos;
  const char* end = text.data() + text.size();
  if (at == end || *at != '[') return false;
  ++at;
  // Numbers, commas and whitespace up to the first ']', which is the sentinel of every loop
  // below; anything else in between (a string, a nested array) fails the number grammar.
  const auto* close = static_cast<const char*>(std::memchr(at, ']', size_t(end - at)));
  if (close == nullptr) return false;
  // At most one number per two characters ("1,"), and at most max_count: written in place.
  size_t first = out.size();
  size_t room = std::min<size_t>(max_count, size_t(close - at) / 2 + 1);
  out.resize(first + room);
  float* dst = out.data() + first;
  float* limit = dst + room;
  for (;;) {
    while (is_space(*at)) ++at;
    float f;
    if (dst == limit || !read_number(at, close, f)) return false;
    if (!std::isfinite(f)) return false;
    *dst++ = f;
    while (is_space(*at)) ++at;
    if (at == close) break;
    if (*at != ',') return false;
    ++at;
  }
  out.resize(static_cast<size_t>(dst - out.data()));
  pos = static_cast<size_t>(close + 1 - text.data());
  return true;
}

}  // namespace shoal::rest
