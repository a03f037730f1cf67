#pragma once
// Bytes appended in order and kept as a list of pieces, so that nothing already appended is ever
// copied again: small appends are copied into a shared piece (whose capacity is reserved once,
// so it never reallocates), and a large buffer is adopted whole as a piece of its own. The log's
// backlog holds its encoded records this way and writes them with one pwritev: a record body
// built by the shard goes to the kernel without a copy in between, its header in a shared piece
// before it.

#include <cstddef>
#include <span>
#include <vector>

namespace shoal::wal {

class byte_chain {
 public:
  /// Copies bytes to the end.
  void put(std::span<const std::byte> bytes);
  /// Takes buffer as the next piece, without copying it.
  void adopt(std::vector<std::byte>&& buffer);

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  /// The pieces in order; together they are the bytes appended.
  std::vector<std::span<const std::byte>> pieces() const;

 private:
  static constexpr size_t kFirstSharedPiece = 512;
  static constexpr size_t kMaxSharedPiece = 256 << 10;

  std::vector<std::vector<std::byte>> pieces_;
  size_t size_ = 0;
  bool last_is_shared_ = false;  // put() may add to the last piece
  size_t next_shared_capacity_ = kFirstSharedPiece;
};

}  // namespace shoal::wal
