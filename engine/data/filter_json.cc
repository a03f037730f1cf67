#include "engine/data/filter_json.h"

#include <algorithm>

#include <fmt/format.h>

namespace shoal::data {
namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;

/// What one filter's decoding has used of its limits.
struct budget {
  const input_limits& limits;
  size_t conditions = 0;
};

input_error format_error(const std::string& where, const std::string& what) {
  return input_error::format(fmt::format("{}: {}", where, what));
}

decoded<match_scalar> decode_scalar(element e, const std::string& where) {
  switch (e.type()) {
    case element_type::STRING:
      return match_scalar(std::string(e.get_string().value_unsafe()));
    case element_type::INT64:
      return match_scalar(e.get_int64().value_unsafe());
    case element_type::UINT64:
      return format_error(where, "integer out of the signed 64-bit range");
    case element_type::BOOL:
      return match_scalar(bool(e.get_bool().value_unsafe()));
    default:
      return format_error(where, "expected a string, an integer or a boolean");
  }
}

decoded<std::vector<match_scalar>> decode_scalar_list(element e, const std::string& where) {
  if (!e.is_array()) return format_error(where, "expected an array");
  std::vector<match_scalar> out;
  size_t i = 0;
  for (auto item : simdjson::dom::array(e.get_array().value_unsafe())) {
    auto s = decode_scalar(item, fmt::format("{}[{}]", where, i++));
    if (!s) return s.error();
    out.push_back(std::move(*s));
  }
  return out;
}

decoded<std::optional<double>> decode_bound(element obj, const char* name,
                                            const std::string& where) {
  element v;
  if (obj.at_key(name).get(v) != simdjson::SUCCESS || v.is_null()) return std::optional<double>{};
  if (!v.is_number()) return format_error(where + "." + name, "expected a number");
  double d;
  if (v.is_int64())
    d = static_cast<double>(v.get_int64().value_unsafe());
  else if (v.is_uint64())
    d = static_cast<double>(v.get_uint64().value_unsafe());
  else
    d = v.get_double().value_unsafe();
  return std::optional<double>(d);
}

decoded<key_path> decode_key(element e, const std::string& where, const input_limits& limits) {
  if (!e.is_string()) return format_error(where, "expected a string");
  if (auto text = e.get_string().value_unsafe(); text.size() > limits.max_key_length) {
    return input_error::validation(
        fmt::format("{}: a key path of {} bytes is too long, {}", where, text.size(),
                    limit_note(limits.max_key_length, "rest.max-key-length", "bytes")));
  }
  auto p = key_path::parse(e.get_string().value_unsafe());
  if (!p) {
    return input_error::validation(fmt::format("{}: invalid key path \"{}\"", where,
                                               std::string(e.get_string().value_unsafe())));
  }
  return *p;
}

decoded<condition> decode_condition(element e, const std::string& where, size_t depth, budget& b);
decoded<filter> decode_filter_at(element e, const std::string& where, size_t depth, budget& b);

/// Counts one more condition against rest.max-filter-conditions.
std::optional<input_error> count_condition(const std::string& where, budget& b) {
  if (++b.conditions <= b.limits.max_filter_conditions) return std::nullopt;
  return input_error::validation(
      fmt::format("{}: too many conditions in one filter (nested ones included), {}", where,
                  limit_note(b.limits.max_filter_conditions, "rest.max-filter-conditions")));
}

decoded<std::vector<condition>> decode_clause(element e, const std::string& where, size_t depth,
                                              budget& b) {
  std::vector<condition> out;
  if (e.is_null()) return out;
  if (e.is_array()) {
    size_t i = 0;
    for (auto item : simdjson::dom::array(e.get_array().value_unsafe())) {
      auto c = decode_condition(item, fmt::format("{}[{}]", where, i++), depth, b);
      if (!c) return c.error();
      out.push_back(std::move(*c));
    }
    return out;
  }
  auto c = decode_condition(e, where, depth, b);
  if (!c) return c.error();
  out.push_back(std::move(*c));
  return out;
}

bool has(element obj, const char* key) {
  element v;
  return obj.at_key(key).get(v) == simdjson::SUCCESS && !v.is_null();
}

decoded<condition> decode_field_condition(element obj, const std::string& where,
                                          const input_limits& limits) {
  condition c;
  auto key = decode_key(obj["key"].value_unsafe(), where + ".key", limits);
  if (!key) return key.error();
  c.key = std::move(*key);
  for (auto field : simdjson::dom::object(obj.get_object().value_unsafe())) {
    auto name = field.key;
    if (name == "key" || field.value.is_null()) continue;
    if (name == "match" || name == "range" || name == "is_empty" || name == "is_null") continue;
    return format_error(where,
                        fmt::format("unsupported field condition \"{}\"", std::string(name)));
  }
  element m;
  if (obj.at_key("match").get(m) == simdjson::SUCCESS && !m.is_null()) {
    if (!m.is_object()) return format_error(where + ".match", "expected an object");
    element v;
    if (m.at_key("value").get(v) == simdjson::SUCCESS) {
      auto s = decode_scalar(v, where + ".match.value");
      if (!s) return s.error();
      c.k = condition::kind::match_value;
      c.value = std::move(*s);
    } else if (m.at_key("any").get(v) == simdjson::SUCCESS) {
      auto l = decode_scalar_list(v, where + ".match.any");
      if (!l) return l.error();
      c.k = condition::kind::match_any;
      c.values = std::move(*l);
    } else if (m.at_key("except").get(v) == simdjson::SUCCESS) {
      auto l = decode_scalar_list(v, where + ".match.except");
      if (!l) return l.error();
      c.k = condition::kind::match_except;
      c.values = std::move(*l);
    } else {
      return format_error(where + ".match",
                          "expected one of value, any or except (text and phrase matching are "
                          "not supported)");
    }
    return c;
  }
  element r;
  if (obj.at_key("range").get(r) == simdjson::SUCCESS && !r.is_null()) {
    if (!r.is_object()) return format_error(where + ".range", "expected an object");
    c.k = condition::kind::range;
    for (auto [name, slot] : {std::pair{"gt", &c.range.gt}, std::pair{"gte", &c.range.gte},
                              std::pair{"lt", &c.range.lt}, std::pair{"lte", &c.range.lte}}) {
      auto b = decode_bound(r, name, where + ".range");
      if (!b) return b.error();
      *slot = *b;
    }
    return c;
  }
  for (auto [name, kind] : {std::pair{"is_empty", condition::kind::is_empty},
                            std::pair{"is_null", condition::kind::is_null}}) {
    element v;
    if (obj.at_key(name).get(v) == simdjson::SUCCESS && !v.is_null()) {
      if (!v.is_bool()) return format_error(where + "." + name, "expected a boolean");
      c.k = kind;
      if (!v.get_bool().value_unsafe()) {
        // {"key": k, "is_empty": false} means "not empty": a nested must_not.
        auto inner = std::make_shared<filter>();
        condition positive = c;
        inner->must_not.push_back(std::move(positive));
        condition wrapper;
        wrapper.k = condition::kind::nested;
        wrapper.nested = std::move(inner);
        return wrapper;
      }
      return c;
    }
  }
  return input_error::validation(
      fmt::format("{}: At least one field condition must be specified", where));
}

decoded<condition> decode_condition(element e, const std::string& where, size_t depth, budget& b) {
  if (!e.is_object()) return format_error(where, "expected a condition object");
  if (auto over = count_condition(where, b)) return *over;
  if (has(e, "key")) return decode_field_condition(e, where, b.limits);
  element v;
  if (e.at_key("has_id").get(v) == simdjson::SUCCESS) {
    if (!v.is_array()) return format_error(where + ".has_id", "expected an array of point ids");
    condition c;
    c.k = condition::kind::has_id;
    size_t i = 0;
    for (auto item : simdjson::dom::array(v.get_array().value_unsafe())) {
      auto id = decode_point_id(item, fmt::format("{}.has_id[{}]", where, i++));
      if (!id) return id.error();
      c.ids.push_back(*id);
    }
    std::sort(c.ids.begin(), c.ids.end());
    c.ids.erase(std::unique(c.ids.begin(), c.ids.end()), c.ids.end());
    return c;
  }
  for (auto [name, kind] : {std::pair{"is_empty", condition::kind::is_empty},
                            std::pair{"is_null", condition::kind::is_null}}) {
    if (e.at_key(name).get(v) == simdjson::SUCCESS) {
      element key;
      if (!v.is_object() || v.at_key("key").get(key) != simdjson::SUCCESS) {
        return format_error(where + "." + name, "expected {\"key\": \"...\"}");
      }
      auto p = decode_key(key, where + "." + name + ".key", b.limits);
      if (!p) return p.error();
      condition c;
      c.k = kind;
      c.key = std::move(*p);
      return c;
    }
  }
  if (has(e, "must") || has(e, "should") || has(e, "must_not") || has(e, "min_should")) {
    auto f = decode_filter_at(e, where, depth + 1, b);
    if (!f) return f.error();
    condition c;
    c.k = condition::kind::nested;
    c.nested = std::make_shared<filter>(std::move(*f));
    return c;
  }
  auto obj = e.get_object().value_unsafe();
  if (obj.begin() != obj.end()) {
    return format_error(
        where, fmt::format("unsupported condition \"{}\"", std::string((*obj.begin()).key)));
  }
  // {} as a condition: a filter with no clauses, which every point passes.
  condition c;
  c.k = condition::kind::nested;
  c.nested = std::make_shared<filter>();
  return c;
}

}  // namespace

decoded<point_id> decode_point_id(element e, const std::string& where) {
  if (e.is_uint64() || e.is_int64()) {
    if (e.is_int64() && e.get_int64().value_unsafe() < 0) {
      return format_error(where, "a point id is a non-negative integer or a UUID");
    }
    return point_id::number(e.get_uint64().value_unsafe());
  }
  if (e.is_string()) {
    auto text = e.get_string().value_unsafe();
    auto id = point_id::parse_uuid(text);
    if (!id) {
      // Echoed only as far as a UUID could go: the message never grows with the input.
      if (text.size() > 48) {
        return format_error(where,
                            fmt::format("a string of {} bytes is not a valid UUID", text.size()));
      }
      return format_error(where, fmt::format("\"{}\" is not a valid UUID", text));
    }
    return *id;
  }
  return format_error(where, "a point id is a non-negative integer or a UUID");
}

namespace {

decoded<filter> decode_filter_at(element e, const std::string& where, size_t depth, budget& b) {
  if (depth > b.limits.max_filter_depth) {
    return format_error(
        where, "filters nested too deeply, " +
                   limit_note(b.limits.max_filter_depth, "rest.max-filter-depth", "levels"));
  }
  filter f;
  if (e.is_null()) return f;
  if (!e.is_object()) return format_error(where, "expected an object");
  for (auto field : simdjson::dom::object(e.get_object().value_unsafe())) {
    auto name = field.key;
    std::vector<condition>* clause = nullptr;
    if (name == "must")
      clause = &f.must;
    else if (name == "should")
      clause = &f.should;
    else if (name == "must_not")
      clause = &f.must_not;
    else if (name == "min_should") {
      if (field.value.is_null()) continue;
      return format_error(where, "min_should is not supported");
    } else {
      return format_error(where, fmt::format("unknown field \"{}\"", std::string(name)));
    }
    auto conditions = decode_clause(field.value, where + "." + std::string(name), depth, b);
    if (!conditions) return conditions.error();
    for (auto& c : *conditions) clause->push_back(std::move(c));
  }
  return f;
}

}  // namespace

decoded<filter> decode_filter(element e, const std::string& where, const input_limits& limits) {
  budget b{limits};
  return decode_filter_at(e, where, 1, b);
}

}  // namespace shoal::data
