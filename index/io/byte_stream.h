#pragma once
// Where index snapshots go and come from. A shard embeds an index inside its own snapshot file
// by implementing these two small interfaces over it; save(path)/load(path) use the file ones.
// Both are synchronous: the caller decides which thread does the I/O (PRACTICES P2).

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "engine/common/result.h"

namespace shoal::index {

class byte_sink {
 public:
  virtual ~byte_sink() = default;
  /// Appends `size` bytes; errc::io_error when the destination refuses them.
  virtual result<void> write(const void* data, size_t size) = 0;
};

class byte_source {
 public:
  virtual ~byte_source() = default;
  /// Reads exactly `size` bytes; errc::truncated_file when the input ends first.
  virtual result<void> read(void* data, size_t size) = 0;
  /// Bytes left, when known. Loaders use it to refuse a declared size larger than the input
  /// before allocating for it.
  virtual std::optional<uint64_t> remaining() const { return std::nullopt; }
};

/// Appends to a byte vector.
class memory_sink final : public byte_sink {
 public:
  explicit memory_sink(std::vector<std::byte>& out) : out_(out) {}
  result<void> write(const void* data, size_t size) override;

 private:
  std::vector<std::byte>& out_;
};

/// Reads from a byte span it does not own.
class memory_source final : public byte_source {
 public:
  explicit memory_source(std::span<const std::byte> in) : in_(in) {}
  result<void> read(void* data, size_t size) override;
  std::optional<uint64_t> remaining() const override { return in_.size() - pos_; }

 private:
  std::span<const std::byte> in_;
  size_t pos_ = 0;
};

/// Writes a file (created or truncated). close() flushes and reports late write errors; it does
/// not fsync (durability is the caller's policy).
class file_sink final : public byte_sink {
 public:
  static result<file_sink> open(const std::string& path);
  file_sink(file_sink&& other) noexcept : file_(other.file_) { other.file_ = nullptr; }
  file_sink& operator=(file_sink&&) = delete;
  ~file_sink() override;
  result<void> write(const void* data, size_t size) override;
  result<void> close();

 private:
  explicit file_sink(std::FILE* f) : file_(f) {}
  std::FILE* file_;
};

class file_source final : public byte_source {
 public:
  static result<file_source> open(const std::string& path);
  file_source(file_source&& other) noexcept : file_(other.file_), left_(other.left_) {
    other.file_ = nullptr;
  }
  file_source& operator=(file_source&&) = delete;
  ~file_source() override;
  result<void> read(void* data, size_t size) override;
  std::optional<uint64_t> remaining() const override { return left_; }

 private:
  file_source(std::FILE* f, uint64_t size) : file_(f), left_(size) {}
  std::FILE* file_;
  uint64_t left_;
};

}  // namespace shoal::index
