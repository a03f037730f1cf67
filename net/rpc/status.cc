#include "net/rpc/status.h"

#include "net/rpc/errc.h"

namespace shoal::rpc {

std::string_view status_name(status s) {
  switch (s) {
    case status::ok:
      return "ok";
    case status::bad_frame:
      return "bad_frame";
    case status::unsupported_version:
      return "unsupported_version";
    case status::unknown_method:
      return "unknown_method";
    case status::frame_too_large:
      return "frame_too_large";
    case status::malformed:
      return "malformed";
    case status::format_error:
      return "format_error";
    case status::validation_error:
      return "validation_error";
    case status::wrong_input:
      return "wrong_input";
    case status::not_found:
      return "not_found";
    case status::already_exists:
      return "already_exists";
    case status::not_leader:
      return "not_leader";
    case status::unauthenticated:
      return "unauthenticated";
    case status::forbidden:
      return "forbidden";
    case status::timeout:
      return "timeout";
    case status::overloaded:
      return "overloaded";
    case status::unavailable:
      return "unavailable";
    case status::insufficient_storage:
      return "insufficient_storage";
    case status::internal:
      return "internal";
    case status::disconnected:
      return "disconnected";
    case status::connect_failed:
      return "connect_failed";
  }
  return "unknown";
}

bool retryable(status s) {
  switch (s) {
    case status::timeout:
    case status::overloaded:
    case status::unavailable:
    case status::disconnected:
    case status::connect_failed:
      return true;
    default:
      return false;
  }
}

status status_from_wire(uint16_t v) {
  auto s = static_cast<status>(v);
  if (status_name(s) == "unknown" || s == status::disconnected || s == status::connect_failed) {
    return status::internal;
  }
  return s;
}

std::string error::describe() const {
  return std::string(status_name(code)) + ": " + message;
}

status status_of(const error_code& ec) {
  if (ec.category() == category_of<errc>()) {
    switch (static_cast<errc>(ec.value())) {
      case errc::bad_magic:
      case errc::header_checksum:
      case errc::payload_checksum:
      case errc::bad_flags:
      case errc::decompress_failed:
        return status::bad_frame;
      case errc::frame_too_large:
        return status::frame_too_large;
      case errc::unsupported_version:
        return status::unsupported_version;
      case errc::unknown_method:
        return status::unknown_method;
      case errc::malformed:
        return status::malformed;
      case errc::timeout:
        return status::timeout;
      case errc::connection_closed:
        return status::disconnected;
      case errc::shutting_down:
        return status::unavailable;
    }
  }
  return status::internal;
}

}  // namespace shoal::rpc
