#pragma once
// LZ4 block compression of frame payloads. The decompressed size is declared in the frame
// header (raw_size, capped by the receiver's max frame size before anything is allocated), so
// decompression allocates exactly that and fails on any other outcome.

#include <cstddef>
#include <optional>
#include <span>

#include "engine/common/result.h"
#include "net/rpc/buffer.h"

namespace shoal::rpc {

/// LZ4 of `in`, or nullopt when it would not save at least an eighth (vectors of float32
/// rarely do; JSON payloads do).
std::optional<bytes> lz4_compress(std::span<const std::byte> in);

/// Exactly `raw_size` bytes from an LZ4 block, or errc::decompress_failed.
result<buffer> lz4_decompress(std::span<const std::byte> in, size_t raw_size);

}  // namespace shoal::rpc
