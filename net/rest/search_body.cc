#include "net/rest/search_body.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <string>

#include "net/rest/rest_io.h"

namespace shoal::rest {
namespace {

namespace od = simdjson::ondemand;

od::parser& core_ondemand() {
  thread_local od::parser parser;
  return parser;
}

/// A key that can be written back between quotes as it is (no escapes needed).
bool plain_key(std::string_view key) {
  return std::none_of(key.begin(), key.end(), [](char c) {
    return c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20;
  });
}

bool json_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/// On-Demand does not validate what it is not asked about: it can step over a missing comma or
/// a stray colon between the tokens it hands back. So the text between those tokens is checked
/// here, left to right: the body must be exactly `{ "key" : value , ... }` with JSON whitespace
/// only, each value where On-Demand says it is. The values other than the vector are checked by
/// the DOM parse of the rest; the vector's numbers by get_number.
class layout {
 public:
  explicit layout(std::string_view text) : at_(text.data()), end_(text.data() + text.size()) {}
  /// Whitespace, then `c`.
  bool punct(char c) {
    skip_space();
    if (at_ == end_ || *at_ != c) return false;
    ++at_;
    return true;
  }
  /// Whitespace, then `"key"` as written (a plain key).
  bool key(std::string_view k) {
    skip_space();
    if (size_t(end_ - at_) < k.size() + 2 || at_[0] != '"' || at_[k.size() + 1] != '"' ||
        std::string_view(at_ + 1, k.size()) != k) {
      return false;
    }
    at_ += k.size() + 2;
    return true;
  }
  /// Whitespace, then `token`, which must be where it lies in the text.
  bool token(std::string_view token) {
    skip_space();
    while (!token.empty() && json_space(token.back())) token.remove_suffix(1);
    if (token.empty() || token.data() != at_ || size_t(end_ - at_) < token.size()) return false;
    at_ += token.size();
    return true;
  }
  /// Only whitespace left.
  bool finished() {
    skip_space();
    return at_ == end_;
  }

 private:
  void skip_space() {
    while (at_ != end_ && json_space(*at_)) ++at_;
  }
  const char* at_;
  const char* end_;
};

/// The value's JSON text as it lies in the body.
std::optional<std::string_view> raw_text(od::value v) {
  od::json_type type;
  if (v.type().get(type)) return std::nullopt;
  std::string_view text;
  if (type == od::json_type::object) {
    od::object o;
    if (v.get_object().get(o) || o.raw_json().get(text)) return std::nullopt;
  } else if (type == od::json_type::array) {
    od::array a;
    if (v.get_array().get(a) || a.raw_json().get(text)) return std::nullopt;
  } else {
    text = v.raw_json_token();
  }
  return text;
}

/// A number token read as the DOM parser reads it; false where the fast path must step aside.
/// - An integer is read as a 64-bit integer, as the DOM does: -0 is 0, and one beyond 64 bits is
///   refused (get_double would take it).
/// - A float keeps get_double's `d`, unless its mantissa has more than 19 digits: simdjson
///   3.0.1's On-Demand (built into this portable binary as its scalar fallback) misreads those
///   (0.911111191100002116577526 comes out as 8.05e-06; found by the fuzzer), so they go the
///   ordinary way. Clients print at most 17 significant digits for a double.
bool read_like_dom(std::string_view token, double& d) {
  if (token.find_first_of(".eE") != std::string_view::npos) {
    auto mantissa = token.substr(0, token.find_first_of("eE"));
    return std::count_if(mantissa.begin(), mantissa.end(),
                         [](char c) { return c >= '0' && c <= '9'; }) <= 19;
  }
  const char* end = token.data() + token.size();
  int64_t i;
  if (std::from_chars(token.data(), end, i).ec == std::errc{}) {
    d = static_cast<double>(i);
    return true;
  }
  uint64_t u;
  if (std::from_chars(token.data(), end, u).ec != std::errc{}) return false;
  d = static_cast<double>(u);
  return true;
}

/// The array's numbers as finite floats, each where the layout expects it; nullopt for anything
/// else. (Not get_number: in simdjson 3.0.1 it reads a float with more than 19 digits as 0.)
std::optional<std::vector<float>> finite_floats(od::value v, layout& text) {
  od::array arr;
  if (v.get_array().get(arr) || !text.punct('[')) return std::nullopt;
  std::vector<float> out;
  for (auto element : arr) {
    od::value x;
    if (element.get(x)) return std::nullopt;
    if (!out.empty() && !text.punct(',')) return std::nullopt;
    auto token = x.raw_json_token();
    while (!token.empty() && json_space(token.back())) token.remove_suffix(1);
    if (!text.token(token)) return std::nullopt;
    double d;
    // get_double checks the number's syntax (it refuses 01, 1., -) before read_like_dom.
    if (x.get_double().get(d) || !read_like_dom(token, d)) return std::nullopt;
    auto f = static_cast<float>(d);
    if (!std::isfinite(f)) return std::nullopt;
    out.push_back(f);
  }
  if (!text.punct(']')) return std::nullopt;
  return out;
}

}  // namespace

std::optional<search_body> parse_search_body_fast(std::string_view text, size_t spare,
                                                  std::string_view vector_field) {
  if (spare < simdjson::SIMDJSON_PADDING) return std::nullopt;
  od::document doc;
  if (core_ondemand()
          .iterate(simdjson::padded_string_view(text.data(), text.size(), text.size() + spare))
          .get(doc)) {
    return std::nullopt;
  }
  od::object obj;
  layout body(text);
  if (doc.get_object().get(obj) || !body.punct('{')) return std::nullopt;
  std::optional<std::vector<float>> vector;
  std::string rest = "{";
  for (auto field : obj) {
    std::string_view key;
    if (field.unescaped_key().get(key) || !plain_key(key)) return std::nullopt;
    if (rest.size() > 1 && !body.punct(',')) return std::nullopt;
    if (!body.key(key) || !body.punct(':')) return std::nullopt;
    od::value value;
    if (field.value().get(value)) return std::nullopt;
    if (rest.size() > 1) rest += ',';
    rest += '"';
    rest += key;
    rest += "\":";
    od::json_type type;
    if (key == vector_field && !value.type().get(type) && type == od::json_type::array) {
      vector = finite_floats(value, body);
      if (!vector) return std::nullopt;
      rest += "[]";
    } else {
      auto raw = raw_text(value);
      if (!raw || !body.token(*raw)) return std::nullopt;
      rest += *raw;
    }
  }
  if (!body.punct('}') || !body.finished()) return std::nullopt;
  rest += '}';
  if (!vector) return std::nullopt;  // nothing gained: parse it the ordinary way
  // parse_json validates the other values and refuses repeated keys, at the top level (a
  // repeated vector field is a repeated `[]` here) and below.
  auto parsed = parse_json(rest, 0);
  if (!parsed) return std::nullopt;
  return search_body{*parsed, std::move(vector)};
}

data::decoded<search_body> parse_search_body(const http::request_context& ctx,
                                             std::string_view vector_field) {
  const auto& body = ctx.body();
  if (auto fast = parse_search_body_fast(body, body.capacity() - body.size(), vector_field)) {
    return std::move(*fast);
  }
  auto parsed = parse_body(ctx);
  if (!parsed) return parsed.error();
  return search_body{*parsed, std::nullopt};
}

void release_search_parser_memory(size_t keep_bytes) {
  auto& parser = core_ondemand();
  if (parser.capacity() > keep_bytes) parser = od::parser{};
}

}  // namespace shoal::rest
