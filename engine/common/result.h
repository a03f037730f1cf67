#pragma once
// Expected failures are values (PRACTICES A7): functions that can fail in an expected way return
// result<T>, which holds either a T or an error_code from a module's own errc enum. Bugs are
// asserts (common/assert.h), never error codes.
//
// A module declares its errors like this (see engine/runtime/errc.h for a real one):
//
//   namespace shoal::rt {
//   enum class errc { timeout = 1, ... };
//   std::string_view error_message(errc);          // one message per value
//   constexpr const char* error_category_name(errc) { return "shoal.runtime"; }
//   SHOAL_DECLARE_ERRC(errc)                       // make_error_code + the category
//   }
//   SHOAL_REGISTER_ERRC(shoal::rt::errc)           // at global scope

#include <string>
#include <string_view>
#include <type_traits>

#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

namespace shoal {

using error_code = boost::system::error_code;

template <typename T = void>
using result = boost::system::result<T, error_code>;

/// An error result in generic code, where T may itself be constructible from an error_code
/// (result<bool> is), which makes the implicit conversion ambiguous.
template <typename T>
result<T> error_result(error_code ec) {
  return result<T>(boost::system::in_place_error, ec);
}

/// A value result in generic code. Needed when T is itself a result: result<result<U>> built
/// from a failed result<U> would otherwise take the converting constructor and become a failed
/// outer result.
template <typename T, typename V>
result<T> value_result(V&& v) {
  return result<T>(boost::system::in_place_value, std::forward<V>(v));
}

/// The category of a module's errc enum; its name and messages come from functions found by ADL.
template <typename E>
class enum_error_category final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return error_category_name(E{}); }
  std::string message(int v) const override {
    return std::string(error_message(static_cast<E>(v)));
  }
};

template <typename E>
const boost::system::error_category& category_of() {
  static const enum_error_category<E> category;
  return category;
}

/// "message (category:value)" for logs.
inline std::string describe(const error_code& ec) {
  return ec.message() + " (" + ec.category().name() + ":" + std::to_string(ec.value()) + ")";
}

}  // namespace shoal

#define SHOAL_DECLARE_ERRC(E)                                                   \
  inline ::shoal::error_code make_error_code(E e) {                             \
    return ::shoal::error_code(static_cast<int>(e), ::shoal::category_of<E>()); \
  }

#define SHOAL_REGISTER_ERRC(E) \
  template <>                  \
  struct boost::system::is_error_code_enum<E> : std::true_type {};
