#include "engine/data/payload_index.h"

#include <algorithm>
#include <array>
#include <cmath>

namespace shoal::data {

std::optional<payload_type> parse_payload_type(std::string_view text) {
  static constexpr std::array<std::pair<std::string_view, payload_type>, 8> names = {{
      {"keyword", payload_type::keyword},
      {"integer", payload_type::integer},
      {"float", payload_type::floating},
      {"bool", payload_type::boolean},
      {"uuid", payload_type::uuid},
      {"datetime", payload_type::datetime},
      {"text", payload_type::text},
      {"geo", payload_type::geo},
  }};
  for (auto& [n, t] : names) {
    if (n == text) return t;
  }
  return std::nullopt;
}

std::string_view to_string(payload_type t) {
  switch (t) {
    case payload_type::keyword:
      return "keyword";
    case payload_type::integer:
      return "integer";
    case payload_type::floating:
      return "float";
    case payload_type::boolean:
      return "bool";
    case payload_type::uuid:
      return "uuid";
    case payload_type::datetime:
      return "datetime";
    case payload_type::text:
      return "text";
    case payload_type::geo:
      return "geo";
  }
  return "keyword";
}

bool indexable(payload_type t) {
  return t == payload_type::keyword || t == payload_type::integer || t == payload_type::floating ||
         t == payload_type::boolean || t == payload_type::uuid || t == payload_type::text;
}

template <typename Fn>
size_t payload_index::for_each_value(const json_value& payload, Fn&& fn) const {
  std::vector<const json_value*> values;
  path_.collect(payload, values);
  size_t n = 0;
  for (auto* v : values) {
    switch (type_) {
      case payload_type::keyword:
      case payload_type::uuid:
      case payload_type::text:
        if (v->is_string()) fn(*v), ++n;
        break;
      case payload_type::integer:
        if (v->is_integer()) fn(*v), ++n;
        break;
      case payload_type::floating:
        if (v->is_number() && !std::isnan(v->as_double())) fn(*v), ++n;
        break;
      case payload_type::boolean:
        if (v->is_bool()) fn(*v), ++n;
        break;
      default:
        break;
    }
  }
  return n;
}

void payload_index::add(uint32_t slot, const json_value& payload) {
  size_t n = for_each_value(payload, [&](const json_value& v) {
    switch (type_) {
      case payload_type::integer:
        integers_[v.as_integer()].insert(slot);
        break;
      case payload_type::floating:
        numbers_[v.as_double()].insert(slot);
        break;
      case payload_type::boolean:
        bools_[v.as_bool()].insert(slot);
        break;
      default:
        strings_[v.as_string()].insert(slot);
        break;
    }
  });
  if (n) ++points_;
}

void payload_index::remove(uint32_t slot, const json_value& payload) {
  auto erase_from = [slot](auto& map, const auto& key) {
    auto it = map.find(key);
    if (it == map.end()) return;
    it->second.erase(slot);
    if (it->second.empty()) map.erase(it);
  };
  size_t n = for_each_value(payload, [&](const json_value& v) {
    switch (type_) {
      case payload_type::integer:
        erase_from(integers_, v.as_integer());
        break;
      case payload_type::floating:
        erase_from(numbers_, v.as_double());
        break;
      case payload_type::boolean:
        bools_[v.as_bool()].erase(slot);
        break;
      default:
        erase_from(strings_, v.as_string());
        break;
    }
  });
  if (n && points_) --points_;
}

void payload_index::append(std::vector<uint32_t>& out, const posting* p) {
  if (p) out.insert(out.end(), p->begin(), p->end());
}

std::optional<std::vector<uint32_t>> payload_index::candidates(const condition& c) const {
  std::vector<uint32_t> out;
  auto lookup = [&](const match_scalar& s) -> bool {  // false: this index cannot answer
    switch (type_) {
      case payload_type::keyword:
      case payload_type::uuid:
      case payload_type::text:
        // Only strings are in a string index; an integer or boolean match is answered by
        // evaluation (a point may hold such values at this key too).
        if (auto* str = std::get_if<std::string>(&s)) {
          auto it = strings_.find(*str);
          append(out, it == strings_.end() ? nullptr : &it->second);
          return true;
        }
        return false;
      case payload_type::integer:
        if (auto* i = std::get_if<int64_t>(&s)) {
          auto it = integers_.find(*i);
          append(out, it == integers_.end() ? nullptr : &it->second);
          return true;
        }
        return false;
      case payload_type::boolean:
        if (auto* b = std::get_if<bool>(&s)) {
          append(out, &bools_[*b]);
          return true;
        }
        return false;
      default:
        return false;
    }
  };
  switch (c.k) {
    case condition::kind::match_value:
      if (!lookup(c.value)) return std::nullopt;
      break;
    case condition::kind::match_any:
      for (auto& s : c.values) {
        if (!lookup(s)) return std::nullopt;
      }
      break;
    case condition::kind::range: {
      auto& r = c.range;
      if (type_ == payload_type::floating) {
        auto lo = r.gte  ? numbers_.lower_bound(*r.gte)
                  : r.gt ? numbers_.upper_bound(*r.gt)
                         : numbers_.begin();
        for (auto it = lo; it != numbers_.end(); ++it) {
          if (!r.contains(it->first)) {
            if ((r.lt && it->first >= *r.lt) || (r.lte && it->first > *r.lte)) break;
            continue;
          }
          append(out, &it->second);
        }
      } else {
        // An integer index does not see float values at its key, so it cannot answer a range
        // exactly; a float index (every number) can.
        return std::nullopt;
      }
      break;
    }
    default:
      return std::nullopt;
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

size_t payload_index::memory_usage() const {
  size_t per_entry = sizeof(uint32_t) + 2 * sizeof(void*);
  size_t n = 0;
  for (auto& [k, p] : strings_) n += k.capacity() + 64 + p.size() * per_entry;
  n += integers_.size() * 64;
  for (auto& [k, p] : integers_) n += p.size() * per_entry;
  n += numbers_.size() * 64;
  for (auto& [k, p] : numbers_) n += p.size() * per_entry;
  n += (bools_[0].size() + bools_[1].size()) * per_entry;
  return n;
}

}  // namespace shoal::data
