#include "engine/data/key_path.h"

#include <charconv>

#include "engine/data/errc.h"

namespace shoal::data {

result<key_path> key_path::parse(std::string_view text) {
  key_path p;
  p.text_ = std::string(text);
  if (text.empty()) return errc::invalid_path;
  size_t i = 0;
  while (i < text.size()) {
    size_t start = i;
    while (i < text.size() && text[i] != '.' && text[i] != '[') ++i;
    if (i == start) return errc::invalid_path;  // empty key: "a..b", ".a", "[]x"
    p.steps_.push_back({step::kind::key, std::string(text.substr(start, i - start)), 0});
    while (i < text.size() && text[i] == '[') {
      auto close = text.find(']', i);
      if (close == std::string_view::npos) return errc::invalid_path;
      auto inside = text.substr(i + 1, close - i - 1);
      if (inside.empty()) {
        p.steps_.push_back({step::kind::every, {}, 0});
      } else {
        size_t n = 0;
        auto [ptr, ec] = std::from_chars(inside.data(), inside.data() + inside.size(), n);
        if (ec != std::errc{} || ptr != inside.data() + inside.size()) return errc::invalid_path;
        p.steps_.push_back({step::kind::index, {}, n});
      }
      i = close + 1;
    }
    if (i < text.size()) {
      if (text[i] != '.') return errc::invalid_path;
      ++i;
      if (i == text.size()) return errc::invalid_path;  // trailing dot
    }
  }
  return p;
}

void key_path::collect(const json_value& root, std::vector<const json_value*>& out,
                       bool flatten) const {
  walk(root, 0, out, flatten);
}

void key_path::walk(const json_value& v, size_t i, std::vector<const json_value*>& out,
                    bool flatten) const {
  if (i == steps_.size()) {
    if (flatten && v.is_array()) {
      for (auto& e : v.as_array()) out.push_back(&e);
    } else {
      out.push_back(&v);
    }
    return;
  }
  auto& s = steps_[i];
  switch (s.k) {
    case step::kind::key:
      if (auto* child = v.find(s.key)) walk(*child, i + 1, out, flatten);
      return;
    case step::kind::every:
      if (v.is_array()) {
        for (auto& e : v.as_array()) walk(e, i + 1, out, flatten);
      }
      return;
    case step::kind::index:
      if (v.is_array() && s.index < v.as_array().size())
        walk(v.as_array()[s.index], i + 1, out, flatten);
      return;
  }
}

}  // namespace shoal::data
