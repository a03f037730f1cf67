#include "net/rpc/errc.h"

namespace shoal::rpc {

std::string_view error_message(errc e) {
  switch (e) {
    case errc::bad_magic:
      return "not a Shoal RPC frame (bad magic)";
    case errc::header_checksum:
      return "frame header checksum mismatch";
    case errc::payload_checksum:
      return "frame payload checksum mismatch";
    case errc::frame_too_large:
      return "frame larger than the limit";
    case errc::bad_flags:
      return "invalid frame flags or sizes";
    case errc::unsupported_version:
      return "unsupported protocol version";
    case errc::unknown_method:
      return "unknown method";
    case errc::malformed:
      return "malformed payload";
    case errc::decompress_failed:
      return "LZ4 payload does not decompress to its declared size";
    case errc::connection_closed:
      return "connection closed";
    case errc::timeout:
      return "timed out";
    case errc::shutting_down:
      return "shutting down";
  }
  return "unknown rpc error";
}

}  // namespace shoal::rpc
