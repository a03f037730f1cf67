#include "perf/shoal_perf/datasets.h"

#include <cstdio>
#include <cstring>
#include <memory>

namespace shoal::perf {
namespace {

struct file_closer {
  void operator()(std::FILE* f) const {
    if (f != nullptr) std::fclose(f);
  }
};
using file_ptr = std::unique_ptr<std::FILE, file_closer>;

bool ends_with(const std::string& s, const char* suffix) {
  size_t n = std::strlen(suffix);
  return s.size() >= n && s.compare(s.size() - n, n, suffix) == 0;
}

// Reads records of Stored values, converting each to Out.
template <typename Stored, typename Out>
bool read_records(const std::string& path, vec_file<Out>& out, std::string& error, size_t limit) {
  file_ptr f(std::fopen(path.c_str(), "rb"));
  if (!f) {
    error = "cannot open " + path;
    return false;
  }
  std::fseek(f.get(), 0, SEEK_END);
  const long bytes = std::ftell(f.get());
  std::fseek(f.get(), 0, SEEK_SET);
  int32_t dim = 0;
  if (bytes < 4 || std::fread(&dim, 4, 1, f.get()) != 1 || dim <= 0 || dim > (1 << 20)) {
    error = path + ": empty file or bad dimension";
    return false;
  }
  const size_t record = 4 + sizeof(Stored) * static_cast<size_t>(dim);
  if (static_cast<size_t>(bytes) % record != 0) {
    error = path + ": size is not a whole number of " + std::to_string(dim) + "-d records";
    return false;
  }
  size_t rows = static_cast<size_t>(bytes) / record;
  if (limit > 0 && limit < rows) rows = limit;
  out.rows = rows;
  out.dim = static_cast<size_t>(dim);
  out.data.resize(rows * out.dim);
  std::fseek(f.get(), 0, SEEK_SET);
  std::vector<Stored> buf(out.dim);
  for (size_t i = 0; i < rows; ++i) {
    int32_t d = 0;
    if (std::fread(&d, 4, 1, f.get()) != 1 || d != dim ||
        std::fread(buf.data(), sizeof(Stored), out.dim, f.get()) != out.dim) {
      error = path + ": record " + std::to_string(i) + " is truncated or has another dimension";
      return false;
    }
    for (size_t j = 0; j < out.dim; ++j) out.data[i * out.dim + j] = static_cast<Out>(buf[j]);
  }
  return true;
}

template <typename T>
bool write_records(const std::string& path, const vec_file<T>& in, std::string& error) {
  file_ptr f(std::fopen(path.c_str(), "wb"));
  if (!f) {
    error = "cannot create " + path;
    return false;
  }
  const auto dim = static_cast<int32_t>(in.dim);
  for (size_t i = 0; i < in.rows; ++i) {
    if (std::fwrite(&dim, 4, 1, f.get()) != 1 ||
        std::fwrite(in.row(i), sizeof(T), in.dim, f.get()) != in.dim) {
      error = "write failed: " + path;
      return false;
    }
  }
  if (std::fclose(f.release()) != 0) {
    error = "write failed: " + path;
    return false;
  }
  return true;
}

}  // namespace

bool read_fvecs(const std::string& path, vec_file<float>& out, std::string& error, size_t limit) {
  return read_records<float>(path, out, error, limit);
}
bool read_bvecs(const std::string& path, vec_file<float>& out, std::string& error, size_t limit) {
  return read_records<uint8_t>(path, out, error, limit);
}
bool read_ivecs(const std::string& path, vec_file<int32_t>& out, std::string& error, size_t limit) {
  return read_records<int32_t>(path, out, error, limit);
}
bool read_vectors(const std::string& path, vec_file<float>& out, std::string& error, size_t limit) {
  if (ends_with(path, ".bvecs")) return read_bvecs(path, out, error, limit);
  return read_fvecs(path, out, error, limit);
}

bool write_fvecs(const std::string& path, const vec_file<float>& in, std::string& error) {
  return write_records(path, in, error);
}
bool write_ivecs(const std::string& path, const vec_file<int32_t>& in, std::string& error) {
  return write_records(path, in, error);
}

}  // namespace shoal::perf
