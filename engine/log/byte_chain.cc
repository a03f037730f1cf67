#include "engine/log/byte_chain.h"

#include <algorithm>

namespace shoal::wal {

void byte_chain::put(std::span<const std::byte> bytes) {
  if (bytes.empty()) return;
  if (!last_is_shared_ || pieces_.back().capacity() - pieces_.back().size() < bytes.size()) {
    // Shared pieces start small (a header between two adopted bodies is alone in its piece) and
    // double while small records keep coming, so both cases waste little.
    pieces_.emplace_back().reserve(std::max(bytes.size(), next_shared_capacity_));
    next_shared_capacity_ = std::min(next_shared_capacity_ * 2, kMaxSharedPiece);
    last_is_shared_ = true;
  }
  pieces_.back().insert(pieces_.back().end(), bytes.begin(), bytes.end());
  size_ += bytes.size();
}

void byte_chain::adopt(std::vector<std::byte>&& buffer) {
  if (buffer.empty()) return;
  size_ += buffer.size();
  pieces_.push_back(std::move(buffer));
  last_is_shared_ = false;
  next_shared_capacity_ = kFirstSharedPiece;
}

std::vector<std::span<const std::byte>> byte_chain::pieces() const {
  return {pieces_.begin(), pieces_.end()};
}

}  // namespace shoal::wal
