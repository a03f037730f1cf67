#include "index/io/byte_stream.h"

#include <cstring>
#include <sys/stat.h>

#include "index/errc.h"

namespace shoal::index {

result<void> memory_sink::write(const void* data, size_t size) {
  const auto* p = static_cast<const std::byte*>(data);
  out_.insert(out_.end(), p, p + size);
  return {};
}

result<void> memory_source::read(void* data, size_t size) {
  if (size > in_.size() - pos_) {
    pos_ = in_.size();
    return errc::truncated_file;
  }
  if (size > 0) std::memcpy(data, in_.data() + pos_, size);
  pos_ += size;
  return {};
}

result<file_sink> file_sink::open(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) return errc::io_error;
  return file_sink(f);
}

file_sink::~file_sink() {
  if (file_ != nullptr) std::fclose(file_);
}

result<void> file_sink::write(const void* data, size_t size) {
  if (file_ == nullptr) return errc::io_error;
  if (size > 0 && std::fwrite(data, 1, size, file_) != size) return errc::io_error;
  return {};
}

result<void> file_sink::close() {
  if (file_ == nullptr) return errc::io_error;
  int rc = std::fclose(file_);
  file_ = nullptr;
  if (rc != 0) return errc::io_error;
  return {};
}

result<file_source> file_source::open(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return errc::io_error;
  struct stat st {};
  if (::fstat(::fileno(f), &st) != 0) {
    std::fclose(f);
    return errc::io_error;
  }
  return file_source(f, static_cast<uint64_t>(st.st_size));
}

file_source::~file_source() {
  if (file_ != nullptr) std::fclose(file_);
}

result<void> file_source::read(void* data, size_t size) {
  if (file_ == nullptr) return errc::io_error;
  if (size > left_) {
    left_ = 0;
    return errc::truncated_file;
  }
  size_t got = size > 0 ? std::fread(data, 1, size, file_) : 0;
  left_ -= got;
  if (got != size) return std::ferror(file_) ? errc::io_error : errc::truncated_file;
  return {};
}

}  // namespace shoal::index
