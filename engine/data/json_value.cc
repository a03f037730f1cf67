#include "engine/data/json_value.h"

#include <algorithm>

#include <fmt/format.h>

#include "engine/data/errc.h"

namespace shoal::data {

result<json_value> json_value::from_dom(simdjson::dom::element e, int depth) {
  if (depth > kMaxDepth) return errc::json_too_deep;
  switch (e.type()) {
    case simdjson::dom::element_type::NULL_VALUE:
      return json_value();
    case simdjson::dom::element_type::BOOL:
      return json_value(bool(e.get_bool().value_unsafe()));
    case simdjson::dom::element_type::INT64:
      return json_value(e.get_int64().value_unsafe());
    case simdjson::dom::element_type::UINT64:
      return json_value(static_cast<double>(e.get_uint64().value_unsafe()));
    case simdjson::dom::element_type::DOUBLE:
      return json_value(e.get_double().value_unsafe());
    case simdjson::dom::element_type::STRING:
      return json_value(std::string(e.get_string().value_unsafe()));
    case simdjson::dom::element_type::ARRAY: {
      array a;
      for (auto child : simdjson::dom::array(e.get_array().value_unsafe())) {
        auto v = from_dom(child, depth + 1);
        if (!v) return v.error();
        a.push_back(std::move(*v));
      }
      return json_value(std::move(a));
    }
    case simdjson::dom::element_type::OBJECT: {
      auto obj = simdjson::dom::object(e.get_object().value_unsafe());
      object o;
      o.reserve(obj.size());  // counted by the parser: at most the document's size
      for (auto field : obj) {
        auto v = from_dom(field.value, depth + 1);
        if (!v) return v.error();
        o.emplace_back(std::string(field.key), std::move(*v));
      }
      // A repeated key is refused (json_check.h says why); sorted views keep this O(n log n)
      // where a lookup per key would be quadratic in a hostile object's size.
      if (o.size() > 1) {
        std::vector<std::string_view> keys;
        keys.reserve(o.size());
        for (auto& [k, v] : o) keys.push_back(k);
        std::sort(keys.begin(), keys.end());
        if (std::adjacent_find(keys.begin(), keys.end()) != keys.end()) return errc::duplicate_key;
      }
      return json_value(std::move(o));
    }
  }
  return errc::invalid_json;
}

result<json_value> json_value::parse(std::string_view text, std::string* error) {
  thread_local simdjson::dom::parser parser;
  simdjson::dom::element root;
  auto err = parser.parse(text.data(), text.size(), /*realloc_if_needed=*/true).get(root);
  if (err) {
    if (error) *error = simdjson::error_message(err);
    return errc::invalid_json;
  }
  auto v = from_dom(root);
  if (!v && error) *error = v.error().message();
  return v;
}

const json_value* json_value::find(std::string_view key) const {
  if (!is_object()) return nullptr;
  for (auto& [k, v] : as_object()) {
    if (k == key) return &v;
  }
  return nullptr;
}

json_value* json_value::find(std::string_view key) {
  return const_cast<json_value*>(std::as_const(*this).find(key));
}

json_value& json_value::set(std::string key, json_value value) {
  if (auto* existing = find(key)) {
    *existing = std::move(value);
    return *existing;
  }
  auto& o = as_object();
  o.emplace_back(std::move(key), std::move(value));
  return o.back().second;
}

bool json_value::erase(std::string_view key) {
  if (!is_object()) return false;
  auto& o = as_object();
  for (auto it = o.begin(); it != o.end(); ++it) {
    if (it->first == key) {
      o.erase(it);
      return true;
    }
  }
  return false;
}

void json_value::write(json_writer& w) const {
  switch (type()) {
    case kind::null:
      w.null();
      break;
    case kind::boolean:
      w.value(as_bool());
      break;
    case kind::integer:
      w.value(as_integer());
      break;
    case kind::floating:
      w.double_value(std::get<double>(v_));  // "5.0" stays a double when it is read back
      break;
    case kind::string:
      w.value(as_string());
      break;
    case kind::array:
      w.begin_array();
      for (auto& v : as_array()) v.write(w);
      w.end_array();
      break;
    case kind::object:
      w.begin_object();
      for (auto& [k, v] : as_object()) {
        w.key(k);
        v.write(w);
      }
      w.end_object();
      break;
  }
}

std::string json_value::to_json() const {
  std::string out;
  json_writer w(out);
  write(w);
  return out;
}

int json_value::depth() const {
  int deepest = 0;
  if (is_array()) {
    for (auto& v : as_array()) deepest = std::max(deepest, v.depth());
  } else if (is_object()) {
    for (auto& [k, v] : as_object()) deepest = std::max(deepest, v.depth());
  } else {
    return 0;
  }
  return deepest + 1;
}

size_t json_value::heap_bytes() const {
  switch (type()) {
    case kind::string:
      return as_string().capacity() > 15 ? as_string().capacity() : 0;
    case kind::array: {
      size_t n = as_array().capacity() * sizeof(json_value);
      for (auto& v : as_array()) n += v.heap_bytes();
      return n;
    }
    case kind::object: {
      size_t n = as_object().capacity() * sizeof(object::value_type);
      for (auto& [k, v] : as_object()) n += (k.capacity() > 15 ? k.capacity() : 0) + v.heap_bytes();
      return n;
    }
    default:
      return 0;
  }
}

}  // namespace shoal::data
