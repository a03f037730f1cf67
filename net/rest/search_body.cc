#include "net/rest/search_body.h"

#include <algorithm>
#include <string>

#include "net/rest/number_array.h"
#include "net/rest/rest_io.h"

namespace shoal::rest {
namespace {

bool json_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/// Walks the top level of an object, `{ "key" : value , ... }`, strictly: only JSON whitespace
/// between the tokens. Values are stepped over, not validated (the DOM parse of the rest does
/// that), but strings are delimited exactly as JSON delimits them and brackets must pair up, so
/// a top-level key found here is one a JSON parser finds too.
class top_level {
 public:
  explicit top_level(std::string_view text) : text_(text) {}

  size_t pos() const { return at_; }
  void move_to(size_t pos) { at_ = pos; }
  bool at_end() const { return at_ == text_.size(); }
  char peek() const { return at_ < text_.size() ? text_[at_] : '\0'; }

  void skip_space() {
    while (at_ < text_.size() && json_space(text_[at_])) ++at_;
  }
  /// Whitespace, then `c`.
  bool punct(char c) {
    skip_space();
    if (peek() != c) return false;
    ++at_;
    return true;
  }
  /// Whitespace, then a string; its text between the quotes, escapes as written.
  std::optional<std::string_view> string() {
    skip_space();
    if (peek() != '"') return std::nullopt;
    size_t open = at_;
    if (!skip_string()) return std::nullopt;
    return text_.substr(open + 1, at_ - open - 2);
  }
  /// Whitespace, then one value of any kind.
  bool skip_value() {
    skip_space();
    char c = peek();
    if (c == '"') return skip_string();
    if (c == '{' || c == '[') return skip_container();
    size_t begin = at_;  // a scalar: up to the next delimiter
    while (at_ < text_.size() && !json_space(text_[at_]) && text_[at_] != ',' &&
           text_[at_] != '}' && text_[at_] != ']' && text_[at_] != '"' && text_[at_] != ':') {
      ++at_;
    }
    return at_ > begin;
  }

 private:
  /// At a '"': past the closing quote.
  bool skip_string() {
    for (++at_; at_ < text_.size(); ++at_) {
      if (text_[at_] == '\\') {
        ++at_;  // the escaped character, whatever it is
      } else if (text_[at_] == '"') {
        ++at_;
        return true;
      }
    }
    return false;
  }
  /// At a '{' or '[': past its partner, strings stepped over.
  bool skip_container() {
    std::string open;  // the brackets still open, innermost last
    while (at_ < text_.size()) {
      char c = text_[at_];
      if (c == '"') {
        if (!skip_string()) return false;
        continue;
      }
      if (c == '{' || c == '[') {
        if (open.size() == kMaxDepth) return false;
        open += c;
      } else if (c == '}' || c == ']') {
        if (open.empty() || open.back() != (c == '}' ? '{' : '[')) return false;
        open.pop_back();
        if (open.empty()) {
          ++at_;
          return true;
        }
      }
      ++at_;
    }
    return false;
  }

  static constexpr size_t kMaxDepth = 1024;  // deeper: the ordinary parse (and its limit)
  std::string_view text_;
  size_t at_ = 0;
};

/// The text the DOM parses on the fast path: the body with `[]` in place of the vector, with
/// simdjson's padding after it. One per core, reused.
std::string& core_rest() {
  thread_local std::string rest;
  return rest;
}

}  // namespace

std::optional<search_body> parse_search_body_fast(std::string_view text,
                                                  std::string_view vector_field,
                                                  size_t max_dimensions) {
  top_level body(text);
  if (!body.punct('{')) return std::nullopt;
  std::vector<float> vector;
  size_t vector_begin = 0, vector_end = 0;
  bool found = false;
  if (!body.punct('}')) {
    for (;;) {
      auto key = body.string();
      if (!key || !body.punct(':')) return std::nullopt;
      body.skip_space();
      if (!found && *key == vector_field && body.peek() == '[') {
        // The first such field; a repeated one is stepped over here and refused by the DOM.
        vector_begin = body.pos();
        size_t pos = vector_begin;
        if (!read_float_array(text, pos, vector, max_dimensions)) return std::nullopt;
        vector_end = pos;
        body.move_to(pos);
        found = true;
      } else if (!body.skip_value()) {
        return std::nullopt;
      }
      if (body.punct(',')) continue;
      if (body.punct('}')) break;
      return std::nullopt;
    }
  }
  body.skip_space();
  if (!body.at_end() || !found) return std::nullopt;  // no vector: nothing to gain
  // The rest differs from the body only where a valid value (the array) became another (`[]`),
  // so it is valid JSON exactly when the body is, with the same keys at every level.
  auto& rest = core_rest();
  rest.clear();
  rest.reserve(text.size() - (vector_end - vector_begin) + 2 + simdjson::SIMDJSON_PADDING);
  rest.append(text.substr(0, vector_begin)).append("[]").append(text.substr(vector_end));
  auto parsed = parse_json(rest, rest.capacity() - rest.size());
  if (!parsed) return std::nullopt;  // the ordinary parse names the error
  return search_body{*parsed, std::move(vector)};
}

data::decoded<search_body> parse_search_body(const http::request_context& ctx,
                                             std::string_view vector_field, size_t max_dimensions) {
  const auto& body = ctx.body();
  if (auto fast = parse_search_body_fast(body, vector_field, max_dimensions)) {
    return std::move(*fast);
  }
  auto parsed = parse_body(ctx);
  if (!parsed) return parsed.error();
  return search_body{*parsed, std::nullopt};
}

void release_search_body_memory(size_t keep_bytes) {
  auto& rest = core_rest();
  if (rest.capacity() > keep_bytes) std::string().swap(rest);
}

}  // namespace shoal::rest
