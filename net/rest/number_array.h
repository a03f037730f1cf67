#pragma once
// A JSON array of numbers read straight into floats: the query vector of a search
// (search_body.h), without simdjson's tape in between.
//
// It reads exactly what simdjson's DOM parser followed by get_double() and a cast to float would
// give, or steps aside (returns false) where it cannot promise that; the caller then parses the
// ordinary way. So it never has its own errors:
// - the grammar is JSON's (RFC 8259 §6: no leading zeros, no `+`, no `1.` or `.5`, no NaN);
// - an integer is a 64-bit integer converted to double, as the DOM stores it: -0 reads as 0; one
//   beyond 64 bits steps aside (the DOM refuses it);
// - a number with a fraction or an exponent is the correctly rounded double, as the DOM gives,
//   then a float: exactly by Clinger's fast path when the mantissa has at most 53 bits and the
//   power of ten is within 10^±22 (both exact in a double, so one rounding); for up to 19
//   digits (a double printed in full) by the same arithmetic, off by at most a few units in the
//   double's last place, kept only when no float rounding boundary is that close, so the float
//   is the same; else by std::from_chars, which is correctly rounded; out of a double's range
//   steps aside;
// - a value that is not a finite float steps aside (the ordinary path names it in its error).

#include <cstddef>
#include <string_view>
#include <vector>

namespace shoal::rest {

/// One number token at `p`, which is advanced past it, as the float the DOM's get_double and a
/// cast give; false if no number starts there or it steps aside (above). The token ends at the
/// first character that cannot continue it.
bool read_json_number(const char*& p, const char* end, float& value);

/// `[ number , ... ]` (JSON whitespace allowed) at `text[pos]`: appends the numbers to `out` as
/// floats and moves `pos` past the `]`. False, with `pos` and `out` unspecified, for anything
/// else: another character, an empty array, a number that steps aside, or more than `max_count`
/// numbers.
bool read_float_array(std::string_view text, size_t& pos, std::vector<float>& out,
                      size_t max_count);

}  // namespace shoal::rest
