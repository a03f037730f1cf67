#include "net/rpc/compression.h"

#include <lz4.h>

#include "net/rpc/errc.h"

namespace shoal::rpc {

std::optional<bytes> lz4_compress(std::span<const std::byte> in) {
  if (in.empty() || in.size() > static_cast<size_t>(LZ4_MAX_INPUT_SIZE)) return std::nullopt;
  // Anything larger than 7/8 of the input is not worth it: stop there.
  const int budget = static_cast<int>(in.size() - in.size() / 8);
  bytes out(static_cast<size_t>(budget));
  int n = LZ4_compress_default(reinterpret_cast<const char*>(in.data()),
                               reinterpret_cast<char*>(out.data()), static_cast<int>(in.size()),
                               budget);
  if (n <= 0) return std::nullopt;
  out.resize(static_cast<size_t>(n));
  return out;
}

result<buffer> lz4_decompress(std::span<const std::byte> in, size_t raw_size) {
  if (in.empty() || raw_size == 0 || raw_size > static_cast<size_t>(INT32_MAX) ||
      in.size() > static_cast<size_t>(INT32_MAX)) {
    return errc::decompress_failed;
  }
  buffer out(raw_size);
  int n = LZ4_decompress_safe(reinterpret_cast<const char*>(in.data()),
                              reinterpret_cast<char*>(out.data()), static_cast<int>(in.size()),
                              static_cast<int>(raw_size));
  if (n < 0 || static_cast<size_t>(n) != raw_size) return errc::decompress_failed;
  return out;
}

}  // namespace shoal::rpc
