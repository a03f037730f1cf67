#pragma once
// Walking JSON text without parsing it: the fast paths that read query and point vectors
// straight from a body (search_body.h, vector_list_body.h) find their arrays with it.
//
// Strict where it matters: only JSON whitespace between tokens, strings delimited exactly as
// JSON delimits them (escapes stepped over), brackets paired. Values that are stepped over are
// not validated; the fast paths parse the rest of the body as a DOM, which does that. So a key
// found here at some level is one a JSON parser finds there too.

#include <optional>
#include <string>
#include <string_view>

namespace shoal::rest {

inline bool json_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/// A position in the text and the steps a fast path takes from it.
class json_walker {
 public:
  explicit json_walker(std::string_view text) : text_(text) {}

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
  /// What a field's reader did with its value (object()).
  enum class field { taken, skip, fail };

  /// Whitespace, then `{ "key" : value , ... }`: for each field, with the position at its value,
  /// `on_field(key)` reads the value itself (taken), has it stepped over (skip) or gives up
  /// (fail). False on a step that is not JSON, or when a field's reader gave up.
  template <typename OnField>
  bool object(OnField&& on_field) {
    if (!punct('{')) return false;
    if (punct('}')) return true;
    for (;;) {
      auto key = string();
      if (!key || !punct(':')) return false;
      skip_space();
      auto done = on_field(*key);
      if (done == field::fail || (done == field::skip && !skip_value())) return false;
      if (punct(',')) continue;
      return punct('}');
    }
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

}  // namespace shoal::rest
