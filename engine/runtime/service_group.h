#pragma once
// Classes of cross-core work (PRACTICES A4, P8). Each core caps how many remote requests of each
// class run on it at once, so fan-in from N cores cannot swamp one core with one kind of work.
//
// Nesting rule (to avoid A-calls-B-calls-A deadlocks on bounded units): a handler running in a
// group may only submit work in a group that comes later in this list, never the same or an
// earlier one:  admin -> search -> write -> replication -> unlimited.
// `unlimited` is for leaf calls that do not submit further work (metrics, lookups).

#include <array>
#include <cstdint>
#include <string_view>

namespace shoal::rt {

enum class service_group : uint8_t { admin, search, write, replication, unlimited };
inline constexpr size_t kServiceGroups = 5;

inline std::string_view service_group_name(service_group g) {
  static constexpr std::array<std::string_view, kServiceGroups> names = {
      "admin", "search", "write", "replication", "unlimited"};
  return names[static_cast<size_t>(g)];
}

}  // namespace shoal::rt
