#include "index/filter.h"

namespace shoal::index {

allow_list_filter::allow_list_filter(std::vector<label_t> labels) {
  set_.reserve(labels.size());
  labels_.reserve(labels.size());
  for (label_t l : labels) {
    if (set_.insert(l).second) labels_.push_back(l);
  }
}

}  // namespace shoal::index
