#include "index/mapped_array.h"

#include <algorithm>
#include <cstdint>
#include <new>
#include <sys/mman.h>
#include <unistd.h>

namespace shoal::index::detail {
namespace {

size_t page_size() {
  static const size_t size = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  return size;
}

}  // namespace

size_t grown_mapping_bytes(size_t current, size_t bytes) {
  const size_t page = page_size();
  size_t want = std::max(bytes, current * 2);
  if (want > SIZE_MAX - page) throw std::bad_alloc();
  return (want + page - 1) / page * page;
}

void* remap_grow(void* old, size_t old_bytes, size_t new_bytes) {
  void* p = old == nullptr ? mmap(nullptr, new_bytes, PROT_READ | PROT_WRITE,
                                  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
                           : mremap(old, old_bytes, new_bytes, MREMAP_MAYMOVE);
  if (p == MAP_FAILED) throw std::bad_alloc();
  return p;
}

void unmap(void* p, size_t bytes) {
  (void)munmap(p, bytes);
}

}  // namespace shoal::index::detail
