#pragma once
// Payload filters (REST_API.md §7): must / should / must_not over conditions on payload fields,
// point ids, and nested filters. evaluate() is the reference semantics; payload indexes only
// narrow the candidates and never change a result.
//
//   match value    any value at the key equals v (string, integer or bool; arrays flattened)
//   match any      any value is in the list; an empty list matches nothing
//   match except   some value is not in the list; an empty list matches every point that has
//                  the key; values of another type are "not in the list"
//   range          some numeric value satisfies every bound given
//   is_empty       the key is missing, null, or []
//   is_null        the key exists and is null
//   has_id         the point's id is in the list
//   nested         a filter as a condition

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "engine/data/json_value.h"
#include "engine/data/key_path.h"
#include "engine/data/point_id.h"

namespace shoal::data {

struct filter;

/// A scalar a match compares with.
using match_scalar = std::variant<std::string, int64_t, bool>;

struct range_bounds {
  std::optional<double> gt, gte, lt, lte;
  bool contains(double v) const {
    return (!gt || v > *gt) && (!gte || v >= *gte) && (!lt || v < *lt) && (!lte || v <= *lte);
  }
};

struct condition {
  enum class kind {
    match_value,
    match_any,
    match_except,
    range,
    is_empty,
    is_null,
    has_id,
    nested
  };
  kind k = kind::match_value;
  key_path key;                      // field conditions
  match_scalar value;                // match_value
  std::vector<match_scalar> values;  // match_any, match_except
  range_bounds range;                // range
  std::vector<point_id> ids;         // has_id, sorted and unique
  std::shared_ptr<const filter> nested;
};

struct filter {
  std::vector<condition> must;
  std::vector<condition> should;
  std::vector<condition> must_not;
  bool empty() const { return must.empty() && should.empty() && must_not.empty(); }
};

/// True if the point (id, payload; payload may be null for none) passes the filter.
bool evaluate(const filter& f, const point_id& id, const json_value* payload);
bool evaluate(const condition& c, const point_id& id, const json_value* payload);

/// True if `v` is of the scalar's type and equal to it.
bool scalar_equals(const json_value& v, const match_scalar& s);

}  // namespace shoal::data
