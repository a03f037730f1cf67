#pragma once
// A payload key path (REST_API.md §1.4): "a.b.c" walks nested objects, "arr[]" visits every
// element of an array, "arr[0]" one element. Without "[]" a path that meets an array of objects
// does not go into it: "country.cities.population" finds nothing when cities is an array.

#include <string>
#include <string_view>
#include <vector>

#include "engine/common/result.h"
#include "engine/data/json_value.h"

namespace shoal::data {

class key_path {
 public:
  struct step {
    enum class kind { key, every, index } k;
    std::string key;   // kind::key
    size_t index = 0;  // kind::index
  };

  /// errc::invalid_path for "", "a..b", "a[x]", unbalanced brackets.
  static result<key_path> parse(std::string_view text);

  /// The values at this path. With `flatten`, an array found at the end contributes its
  /// elements (how match and range see arrays); without, the array itself (is_empty, is_null).
  void collect(const json_value& root, std::vector<const json_value*>& out,
               bool flatten = true) const;

  /// The value at a path made only of keys, or nullptr (payload index bookkeeping).
  const std::string& text() const { return text_; }
  const std::vector<step>& steps() const { return steps_; }
  friend bool operator==(const key_path& a, const key_path& b) { return a.text_ == b.text_; }

 private:
  void walk(const json_value& v, size_t i, std::vector<const json_value*>& out, bool flatten) const;
  std::string text_;
  std::vector<step> steps_;
};

}  // namespace shoal::data
