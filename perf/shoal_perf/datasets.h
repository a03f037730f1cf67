#pragma once
// TEXMEX vector files (little-endian): each record is <int32 dim><dim values>, with float32
// values in .fvecs, int32 in .ivecs and uint8 in .bvecs. Every record of a file must have the
// same dim. Readers return false with a message on a missing, empty, ragged or truncated file.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace shoal::perf {

template <typename T>
struct vec_file {
  size_t rows = 0;
  size_t dim = 0;
  std::vector<T> data;  // rows x dim, row-major

  const T* row(size_t i) const { return data.data() + i * dim; }
};

/// .fvecs, or .bvecs converted to float (chosen by the file extension). limit > 0 reads at
/// most that many rows.
bool read_vectors(const std::string& path, vec_file<float>& out, std::string& error,
                  size_t limit = 0);
bool read_fvecs(const std::string& path, vec_file<float>& out, std::string& error,
                size_t limit = 0);
bool read_bvecs(const std::string& path, vec_file<float>& out, std::string& error,
                size_t limit = 0);
bool read_ivecs(const std::string& path, vec_file<int32_t>& out, std::string& error,
                size_t limit = 0);

bool write_fvecs(const std::string& path, const vec_file<float>& in, std::string& error);
bool write_ivecs(const std::string& path, const vec_file<int32_t>& in, std::string& error);

}  // namespace shoal::perf
