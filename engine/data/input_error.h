#pragma once
// What a request decoder says about bad input, in the three classes the REST API distinguishes
// (REST_API.md §1.2): malformed or mistyped JSON (400 "Format error in JSON body: ..."), a value
// that breaks a validation rule (422 "Validation error in JSON body: [...]"), and input that is
// well-formed but wrong for this collection (400 "Wrong input: ...").

#include <stdexcept>
#include <string>

#include <boost/system/result.hpp>

namespace shoal::data {

struct input_error {
  enum class kind { format, validation, wrong_input, not_found } k = kind::format;
  std::string message;  // without the class prefix

  static input_error format(std::string m) { return {kind::format, std::move(m)}; }
  static input_error validation(std::string m) { return {kind::validation, std::move(m)}; }
  static input_error wrong_input(std::string m) { return {kind::wrong_input, std::move(m)}; }
  static input_error not_found(std::string m) { return {kind::not_found, std::move(m)}; }
};

[[noreturn]] inline void throw_exception_from_error(const input_error& e,
                                                    const boost::source_location&) {
  throw std::invalid_argument(e.message);
}

template <typename T>
using decoded = boost::system::result<T, input_error>;

}  // namespace shoal::data
