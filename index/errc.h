#pragma once
// The index library's expected failures (PRACTICES A7). Bugs are SHOAL_ASSERTs, never these.

#include <string_view>

#include "engine/common/result.h"

namespace shoal::index {

enum class errc {
  bad_parameter = 1,    // a config or per-call parameter outside its documented range
  dimension_mismatch,   // a vector's length differs from the index dimension
  non_finite_value,     // NaN or infinity in a vector
  zero_vector,          // cosine metric: a vector of norm 0 cannot be normalised
  duplicate_label,      // a label appears twice in one batch
  label_not_found,      // remove/get of a label the index does not hold
  capacity_exceeded,    // the index would grow past its configured or addressable limit
  corrupt_file,         // bad magic, checksum mismatch or inconsistent structure
  truncated_file,       // the input ended before the sizes it declared
  unsupported_version,  // a format version this build cannot read
  wrong_index_kind,     // e.g. an HNSW loader given a flat index file
  io_error,             // the operating system refused a read or write
};

std::string_view error_message(errc e);
constexpr const char* error_category_name(errc) {
  return "shoal.index";
}
SHOAL_DECLARE_ERRC(errc)

}  // namespace shoal::index
SHOAL_REGISTER_ERRC(shoal::index::errc)
