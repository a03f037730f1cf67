#include "index/vector_index.h"

#include "index/errc.h"
#include "index/flat/flat_index.h"
#include "index/hnsw/hnsw_index.h"
#include "index/io/format.h"

namespace shoal::index {

result<void> vector_index::save(const std::string& path) const {
  auto sink = file_sink::open(path);
  if (!sink) return sink.error();
  if (auto r = save(*sink); !r) return r;
  return sink->close();
}

result<std::unique_ptr<vector_index>> load_index(byte_source& source) {
  auto header = io::read_header(source);
  if (!header) return header.error();
  switch (header->kind) {
    case index_kind::flat: {
      auto f = flat_index::load_body(*header, source);
      if (!f) return f.error();
      return std::unique_ptr<vector_index>(std::move(*f));
    }
    case index_kind::hnsw: {
      auto h = hnsw_index::load_body(*header, source);
      if (!h) return h.error();
      return std::unique_ptr<vector_index>(std::move(*h));
    }
  }
  return errc::corrupt_file;
}

result<std::unique_ptr<vector_index>> load_index(const std::string& path) {
  auto source = file_source::open(path);
  if (!source) return source.error();
  return load_index(*source);
}

}  // namespace shoal::index
