#include "index/errc.h"

namespace shoal::index {

std::string_view error_message(errc e) {
  switch (e) {
    case errc::bad_parameter:
      return "parameter out of range";
    case errc::dimension_mismatch:
      return "vector dimension does not match the index";
    case errc::non_finite_value:
      return "vector contains NaN or infinity";
    case errc::zero_vector:
      return "zero vector cannot be normalised for the cosine metric";
    case errc::duplicate_label:
      return "label appears more than once in the batch";
    case errc::label_not_found:
      return "label not found in the index";
    case errc::capacity_exceeded:
      return "index capacity exceeded";
    case errc::corrupt_file:
      return "index file is corrupt (bad magic, checksum or structure)";
    case errc::truncated_file:
      return "index file is truncated";
    case errc::unsupported_version:
      return "index file format version is not supported";
    case errc::wrong_index_kind:
      return "index file holds a different kind of index";
    case errc::io_error:
      return "I/O error while reading or writing an index file";
  }
  return "unknown index error";
}

}  // namespace shoal::index
