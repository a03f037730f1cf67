#pragma once
// What a response says about its request: a status code on the wire (u16) and a message, plus
// the result type the client returns. Codes are grouped like HTTP classes so that the REST API
// and the RPC API report the same classes of errors for the same input (net/README.md, RPC).
//
// Engine errors are mapped to a status in exactly one place, net/rpc/api_status.cc (the RPC
// twin of net/rest/rest_io.cc); protocol errors (errc.h) in status_of() here.

#include <cstdint>
#include <string>
#include <string_view>

#include <boost/system/result.hpp>

#include "engine/common/result.h"

namespace shoal::rpc {

enum class status : uint16_t {
  ok = 0,
  // The frame could not be taken as a request (never retried as is).
  bad_frame = 1,            // corrupt header or payload, checksum mismatch, bad flags or sizes
  unsupported_version = 2,  // the frame's protocol version is not spoken here
  unknown_method = 3,       // no such method id
  frame_too_large = 4,      // above rpc.max-frame-size
  malformed = 5,            // the payload does not decode as the method's request
  // The request was understood and refused (the REST API's 4xx).
  format_error = 10,      // REST 400 "Format error"
  validation_error = 11,  // REST 422 "Validation error"
  wrong_input = 12,       // REST 400 "Wrong input" (dimension, non-finite floats, vector name)
  not_found = 13,         // REST 404 (collection)
  already_exists = 14,    // REST 409
  not_leader = 15,       // REST 421: this node follows the collection; the message names its leader
  unauthenticated = 16,  // REST 401: API keys are set and the connection has not presented one
  forbidden = 17,        // REST 403: the connection's key does not allow the method (read-only)
  // Try again later (the REST API's 408/503/507).
  timeout = 20,               // the request's deadline passed (408)
  overloaded = 21,            // no memory or in-flight room on the server, log backlog (503)
  unavailable = 22,           // starting, stopping, recovering, over a memory limit (503)
  insufficient_storage = 23,  // disk full (507); nothing was applied
  internal = 30,              // a bug or an unexpected error (500)
  // Local to the client; never sent on the wire.
  disconnected = 40,    // the connection broke with the request in flight (it may have run)
  connect_failed = 41,  // no connection could be made before the deadline
};

std::string_view status_name(status s);
/// True for the codes a caller may retry (timeout, overloaded, unavailable, disconnected,
/// connect_failed). A retried write may have been applied once already (upserts and deletes
/// are idempotent by id).
bool retryable(status s);
/// A code read from the wire: unknown numbers become `internal` (a newer server's code).
status status_from_wire(uint16_t v);

/// A failed call: its status and the server's (or the client's) message.
struct error {
  status code = status::internal;
  std::string message;
  std::string describe() const;
};

[[noreturn]] inline void throw_exception_from_error(const error& e, const boost::source_location&) {
  throw std::runtime_error(e.describe());
}

/// What client calls return: a value or an error with its status and message.
template <typename T>
using outcome = boost::system::result<T, error>;

/// The status of a protocol error (errc.h).
status status_of(const error_code& ec);

}  // namespace shoal::rpc
