#include "engine/data/filter.h"

#include <algorithm>
#include <cmath>

namespace shoal::data {
namespace {

const json_value& empty_object() {
  static const json_value v{json_value::object{}};
  return v;
}

}  // namespace

bool scalar_equals(const json_value& v, const match_scalar& s) {
  if (auto* str = std::get_if<std::string>(&s)) return v.is_string() && v.as_string() == *str;
  if (auto* b = std::get_if<bool>(&s)) return v.is_bool() && v.as_bool() == *b;
  // An integer matches integers only, as in Qdrant (a float 5.0 is not the integer 5).
  return v.is_integer() && v.as_integer() == std::get<int64_t>(s);
}

bool evaluate(const condition& c, const point_id& id, const json_value* payload) {
  const json_value& root = payload ? *payload : empty_object();
  std::vector<const json_value*> found;
  switch (c.k) {
    case condition::kind::match_value:
      c.key.collect(root, found);
      return std::any_of(found.begin(), found.end(),
                         [&](auto* v) { return scalar_equals(*v, c.value); });
    case condition::kind::match_any:
      c.key.collect(root, found);
      return std::any_of(found.begin(), found.end(), [&](auto* v) {
        return std::any_of(c.values.begin(), c.values.end(),
                           [&](auto& s) { return scalar_equals(*v, s); });
      });
    case condition::kind::match_except:
      c.key.collect(root, found);
      return std::any_of(found.begin(), found.end(), [&](auto* v) {
        return !v->is_null() && std::none_of(c.values.begin(), c.values.end(),
                                             [&](auto& s) { return scalar_equals(*v, s); });
      });
    case condition::kind::range:
      c.key.collect(root, found);
      return std::any_of(found.begin(), found.end(), [&](auto* v) {
        return v->is_number() && !std::isnan(v->as_double()) && c.range.contains(v->as_double());
      });
    case condition::kind::is_empty:
      c.key.collect(root, found, /*flatten=*/false);
      return std::all_of(found.begin(), found.end(), [](auto* v) {
        return v->is_null() || (v->is_array() && v->as_array().empty());
      });
    case condition::kind::is_null:
      c.key.collect(root, found, /*flatten=*/false);
      return std::any_of(found.begin(), found.end(), [](auto* v) { return v->is_null(); });
    case condition::kind::has_id:
      return std::binary_search(c.ids.begin(), c.ids.end(), id);
    case condition::kind::nested:
      return c.nested && evaluate(*c.nested, id, payload);
  }
  return false;
}

bool evaluate(const filter& f, const point_id& id, const json_value* payload) {
  for (auto& c : f.must) {
    if (!evaluate(c, id, payload)) return false;
  }
  for (auto& c : f.must_not) {
    if (evaluate(c, id, payload)) return false;
  }
  if (!f.should.empty()) {
    return std::any_of(f.should.begin(), f.should.end(),
                       [&](auto& c) { return evaluate(c, id, payload); });
  }
  return true;
}

}  // namespace shoal::data
