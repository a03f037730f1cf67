#include "engine/common/file_io.h"

#include <array>
#include <atomic>
#include <cerrno>
#include <climits>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>
#include <vector>

namespace shoal::fileio {
namespace {

struct fault {
  std::atomic<int> remaining{0};
  std::atomic<int> errno_value{0};
};
std::array<fault, 7> g_faults;

error_code sys_error(int e) {
  return error_code(e, boost::system::system_category());
}

/// True (and sets errno) when a test asked this operation to fail.
bool injected(op o) {
  auto& f = g_faults[static_cast<size_t>(o)];
  int left = f.remaining.load(std::memory_order_relaxed);
  while (left > 0) {
    if (f.remaining.compare_exchange_weak(left, left - 1)) {
      errno = f.errno_value.load();
      return true;
    }
  }
  return false;
}

}  // namespace

void inject_fault(op o, int errno_value, int count) {
  auto& f = g_faults[static_cast<size_t>(o)];
  f.errno_value = errno_value;
  f.remaining = count;
}

void clear_faults() {
  for (auto& f : g_faults) f.remaining = 0;
}

void file::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

result<file> open_file(const std::filesystem::path& path, int flags, mode_t mode) {
  if (injected(op::open)) return sys_error(errno);
  int fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
  if (fd < 0) return sys_error(errno);
  return file(fd);
}

result<void> pwrite_all(const file& f, std::span<const std::byte> bytes, off_t offset) {
  size_t done = 0;
  while (done < bytes.size()) {
    if (injected(op::write)) return sys_error(errno);
    ssize_t n = ::pwrite(f.fd(), bytes.data() + done, bytes.size() - done,
                         offset + static_cast<off_t>(done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return sys_error(errno);
    }
    done += static_cast<size_t>(n);
  }
  return {};
}

result<void> pwritev_all(const file& f, std::span<const std::span<const std::byte>> parts,
                         off_t offset) {
  // At most IOV_MAX parts per call; a short write resumes inside the part it stopped in.
  std::vector<iovec> iov;
  size_t next = 0, skip = 0;  // the first part not yet written whole, and its bytes written
  while (next < parts.size()) {
    iov.clear();
    for (size_t i = next; i < parts.size() && iov.size() < IOV_MAX; ++i) {
      size_t from = i == next ? skip : 0;
      if (parts[i].size() == from) continue;
      iov.push_back({const_cast<std::byte*>(parts[i].data() + from), parts[i].size() - from});
    }
    if (iov.empty()) break;
    if (injected(op::write)) return sys_error(errno);
    ssize_t n = ::pwritev(f.fd(), iov.data(), static_cast<int>(iov.size()), offset);
    if (n < 0) {
      if (errno == EINTR) continue;
      return sys_error(errno);
    }
    offset += n;
    auto left = static_cast<size_t>(n);
    while (next < parts.size() && left >= parts[next].size() - skip) {
      left -= parts[next].size() - skip;
      skip = 0;
      ++next;
    }
    skip += left;
  }
  return {};
}

result<size_t> pread_full(const file& f, std::span<std::byte> bytes, off_t offset) {
  size_t done = 0;
  while (done < bytes.size()) {
    if (injected(op::read)) return sys_error(errno);
    ssize_t n = ::pread(f.fd(), bytes.data() + done, bytes.size() - done,
                        offset + static_cast<off_t>(done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return sys_error(errno);
    }
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  return done;
}

result<void> datasync(const file& f) {
  if (injected(op::sync)) return sys_error(errno);
  if (::fdatasync(f.fd()) != 0) return sys_error(errno);
  return {};
}

result<void> truncate(const file& f, off_t size) {
  if (injected(op::truncate)) return sys_error(errno);
  if (::ftruncate(f.fd(), size) != 0) return sys_error(errno);
  return {};
}

result<off_t> size_of(const file& f) {
  struct stat st {};
  if (::fstat(f.fd(), &st) != 0) return sys_error(errno);
  return st.st_size;
}

result<void> sync_dir(const std::filesystem::path& dir) {
  if (injected(op::sync)) return sys_error(errno);
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return sys_error(errno);
  int rc = ::fsync(fd);
  int e = errno;
  ::close(fd);
  if (rc != 0) return sys_error(e);
  return {};
}

result<void> remove_file(const std::filesystem::path& path) {
  if (injected(op::remove)) return sys_error(errno);
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) return sys_error(errno);
  return {};
}

result<void> rename_file(const std::filesystem::path& from, const std::filesystem::path& to) {
  if (injected(op::rename)) return sys_error(errno);
  if (::rename(from.c_str(), to.c_str()) != 0) return sys_error(errno);
  return {};
}

result<void> create_dirs(const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return sys_error(ec.value());
  return {};
}

result<std::vector<std::string>> list_files(const std::filesystem::path& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (!d) return sys_error(errno);
  std::vector<std::string> names;
  while (auto* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    if (e->d_type == DT_REG || e->d_type == DT_UNKNOWN) names.push_back(std::move(name));
  }
  ::closedir(d);
  return names;
}

result<void> write_file_atomic(const std::filesystem::path& path,
                               std::span<const std::byte> bytes) {
  auto tmp = path;
  tmp += ".tmp";
  {
    auto f = open_file(tmp, O_WRONLY | O_CREAT | O_TRUNC);
    if (!f) return f.error();
    if (auto r = pwrite_all(*f, bytes, 0); !r) return r;
    if (auto r = datasync(*f); !r) return r;
  }
  if (auto r = rename_file(tmp, path); !r) return r;
  return sync_dir(path.parent_path().empty() ? std::filesystem::path(".") : path.parent_path());
}

result<std::vector<std::byte>> read_file(const std::filesystem::path& path, size_t max_bytes) {
  auto f = open_file(path, O_RDONLY);
  if (!f) return f.error();
  auto size = size_of(*f);
  if (!size) return size.error();
  if (static_cast<size_t>(*size) > max_bytes) return sys_error(EFBIG);
  std::vector<std::byte> bytes(static_cast<size_t>(*size));
  auto n = pread_full(*f, bytes, 0);
  if (!n) return n.error();
  bytes.resize(*n);
  return bytes;
}

}  // namespace shoal::fileio
