#pragma once
// An index over one payload field of one shard (REST_API.md §4): value -> the slots (the shard's
// internal point numbers) that hold it. It only narrows candidates: every candidate is still
// checked against the whole filter, so results are the same with or without it.
//
// keyword, uuid and text index strings exactly; integer indexes integers; float indexes every
// number (ranges); bool indexes booleans. Values are read with the field's key path, arrays
// flattened. Postings are hash sets, so adding and removing a point is O(values it holds).

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "engine/common/result.h"
#include "engine/data/filter.h"
#include "engine/data/json_value.h"
#include "engine/data/key_path.h"

namespace shoal::data {

enum class payload_type { keyword, integer, floating, boolean, uuid, datetime, text, geo };

std::optional<payload_type> parse_payload_type(std::string_view text);
std::string_view to_string(payload_type t);
/// Types Shoal can index; the others are accepted and kept as schema only (filters still work,
/// by evaluation).
bool indexable(payload_type t);

class payload_index {
 public:
  payload_index(key_path path, payload_type type) : path_(std::move(path)), type_(type) {}

  void add(uint32_t slot, const json_value& payload);
  /// `payload` must be what add() saw for this slot.
  void remove(uint32_t slot, const json_value& payload);

  /// Sorted slots that can match `c`, or nullopt when this index cannot answer `c`.
  std::optional<std::vector<uint32_t>> candidates(const condition& c) const;

  const key_path& path() const { return path_; }
  payload_type type() const { return type_; }
  /// Points with at least one indexed value.
  size_t points() const { return points_; }
  size_t memory_usage() const;

 private:
  using posting = std::unordered_set<uint32_t>;
  /// Applies fn(slot, value) to each indexable value at the path; returns how many.
  template <typename Fn>
  size_t for_each_value(const json_value& payload, Fn&& fn) const;
  static void append(std::vector<uint32_t>& out, const posting* p);

  key_path path_;
  payload_type type_;
  size_t points_ = 0;
  std::unordered_map<std::string, posting> strings_;
  std::map<int64_t, posting> integers_;
  std::map<double, posting> numbers_;
  posting bools_[2];
};

}  // namespace shoal::data
