#pragma once
// Blocking file operations with errors as values. Every function here may block: call them only
// from the blocking pool (rt::blocking_pool) or before the runtime starts, never on a reactor.
// Errors are system error codes (ENOSPC, EIO, ...), so messages read "No space left on device".
//
// Tests can make the next N calls of one operation fail with a chosen errno (inject_fault), to
// exercise error paths that real disks rarely produce.

#include <cstddef>
#include <filesystem>
#include <span>
#include <string>
#include <sys/types.h>
#include <utility>
#include <vector>

#include "engine/common/result.h"

namespace shoal::fileio {

/// An owned file descriptor.
class file {
 public:
  file() = default;
  explicit file(int fd) : fd_(fd) {}
  file(file&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  file& operator=(file&& o) noexcept {
    if (this != &o) {
      close();
      fd_ = std::exchange(o.fd_, -1);
    }
    return *this;
  }
  ~file() { close(); }
  int fd() const { return fd_; }
  bool is_open() const { return fd_ >= 0; }
  void close();

 private:
  int fd_ = -1;
};

result<file> open_file(const std::filesystem::path& path, int flags, mode_t mode = 0644);
result<void> pwrite_all(const file& f, std::span<const std::byte> bytes, off_t offset);
/// Writes the parts one after another from offset, as one pwrite of their concatenation would.
result<void> pwritev_all(const file& f, std::span<const std::span<const std::byte>> parts,
                         off_t offset);
/// Reads up to bytes.size() at offset; fewer only at end of file.
result<size_t> pread_full(const file& f, std::span<std::byte> bytes, off_t offset);
result<void> datasync(const file& f);
result<void> truncate(const file& f, off_t size);
result<off_t> size_of(const file& f);
/// fsyncs a directory so that entries created, renamed or removed in it are durable.
result<void> sync_dir(const std::filesystem::path& dir);
result<void> remove_file(const std::filesystem::path& path);
result<void> rename_file(const std::filesystem::path& from, const std::filesystem::path& to);
result<void> create_dirs(const std::filesystem::path& dir);
/// Names (not paths) of the regular files in dir.
result<std::vector<std::string>> list_files(const std::filesystem::path& dir);
/// Writes a whole file durably: to `path`.tmp, fdatasync, rename over `path`, sync the directory.
result<void> write_file_atomic(const std::filesystem::path& path, std::span<const std::byte> bytes);
result<std::vector<std::byte>> read_file(const std::filesystem::path& path, size_t max_bytes);

enum class op { open, write, read, sync, truncate, remove, rename };
/// Tests: the next `count` calls of `o` fail with `errno_value`.
void inject_fault(op o, int errno_value, int count = 1);
void clear_faults();

}  // namespace shoal::fileio
