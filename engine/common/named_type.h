#pragma once
// Strong typedefs for the identifiers that must never be mixed up: a core is not a shard, an LSN
// is not a term. Each is a distinct type over an integer with comparisons, hashing and formatting.

#include <compare>
#include <cstdint>
#include <functional>

#include <fmt/format.h>

namespace shoal {

template <typename T, typename Tag>
class named_type {
 public:
  using value_type = T;
  constexpr named_type() = default;
  constexpr explicit named_type(T v) : value_(v) {}
  constexpr T value() const { return value_; }
  constexpr explicit operator T() const { return value_; }
  constexpr auto operator<=>(const named_type&) const = default;

 private:
  T value_{};
};

using core_id = named_type<unsigned, struct core_id_tag>;
using shard_id = named_type<uint32_t, struct shard_id_tag>;
using lsn_t = named_type<uint64_t, struct lsn_tag>;
using term_t = named_type<uint64_t, struct term_tag>;

}  // namespace shoal

template <typename T, typename Tag>
struct std::hash<shoal::named_type<T, Tag>> {
  size_t operator()(const shoal::named_type<T, Tag>& v) const noexcept {
    return std::hash<T>{}(v.value());
  }
};

template <typename T, typename Tag>
struct fmt::formatter<shoal::named_type<T, Tag>> : fmt::formatter<T> {
  auto format(const shoal::named_type<T, Tag>& v, format_context& ctx) const {
    return fmt::formatter<T>::format(v.value(), ctx);
  }
};
