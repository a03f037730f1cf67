#pragma once
// Expected failures of the RPC layer itself (frames, payloads, connections), as values
// (engine/common/result.h). What travels on the wire is a `status` (status.h); these codes are
// what the frame and codec functions return and what the server turns into a status.

#include <string_view>

#include "engine/common/result.h"

namespace shoal::rpc {

enum class errc {
  bad_magic = 1,        // the first four bytes are not a Shoal RPC frame
  header_checksum,      // the header's CRC-32C does not match: the stream is out of step
  payload_checksum,     // the payload's CRC-32C does not match
  frame_too_large,      // payload (on the wire or decompressed) above the receiver's cap
  bad_flags,            // unknown flag bits, or sizes that contradict the flags
  unsupported_version,  // a protocol version this side does not speak
  unknown_method,       // no handler for the method id
  malformed,            // a payload that does not decode as the method's message
  decompress_failed,    // an LZ4 payload that does not decompress to its declared size
  connection_closed,    // the peer closed the connection
  timeout,              // a deadline passed
  shutting_down,        // the server or client is stopping
};

std::string_view error_message(errc e);
constexpr const char* error_category_name(errc) {
  return "shoal.rpc";
}
SHOAL_DECLARE_ERRC(errc)

}  // namespace shoal::rpc

SHOAL_REGISTER_ERRC(shoal::rpc::errc)
