#include "index/types.h"

#include "index/errc.h"

namespace shoal::index {

std::string_view to_string(metric_kind m) {
  switch (m) {
    case metric_kind::l2:
      return "l2";
    case metric_kind::ip:
      return "ip";
    case metric_kind::cosine:
      return "cosine";
    case metric_kind::manhattan:
      return "manhattan";
  }
  return "unknown";
}

std::string_view to_string(quantization_kind q) {
  switch (q) {
    case quantization_kind::none:
      return "none";
    case quantization_kind::int8:
      return "int8";
  }
  return "unknown";
}

std::string_view to_string(index_kind k) {
  switch (k) {
    case index_kind::flat:
      return "flat";
    case index_kind::hnsw:
      return "hnsw";
  }
  return "unknown";
}

result<metric_kind> parse_metric(std::string_view text) {
  if (text == "l2" || text == "euclid") return metric_kind::l2;
  if (text == "ip" || text == "dot") return metric_kind::ip;
  if (text == "cosine") return metric_kind::cosine;
  if (text == "manhattan") return metric_kind::manhattan;
  return errc::bad_parameter;
}

result<quantization_kind> parse_quantization(std::string_view text) {
  if (text == "none") return quantization_kind::none;
  if (text == "int8") return quantization_kind::int8;
  return errc::bad_parameter;
}

}  // namespace shoal::index
