#include "index/topk.h"

#include <algorithm>

#include "engine/common/assert.h"

namespace shoal::index {

bool topk_collector::push(float distance, label_t label) {
  if (k_ == 0) return false;
  neighbor hit{distance, label};
  if (heap_.size() < k_) {
    heap_.push_back(hit);
    std::push_heap(heap_.begin(), heap_.end());
    return true;
  }
  if (!(hit < heap_.front())) return false;
  std::pop_heap(heap_.begin(), heap_.end());
  heap_.back() = hit;
  std::push_heap(heap_.begin(), heap_.end());
  return true;
}

size_t topk_collector::extract_sorted(std::span<neighbor> out) {
  SHOAL_ASSERT(out.size() >= heap_.size(), "topk output holds {} of {} hits", out.size(),
               heap_.size());
  std::sort_heap(heap_.begin(), heap_.end());
  size_t n = heap_.size();
  std::copy(heap_.begin(), heap_.end(), out.begin());
  heap_.clear();
  return n;
}

size_t merge_topk(std::span<const std::span<const neighbor>> lists, size_t k,
                  std::span<neighbor> out) {
  k = std::min(k, out.size());
  // A small linear-scan merge: shard fan-outs are tens of lists, and k is small.
  std::vector<size_t> pos(lists.size(), 0);
  size_t written = 0;
  while (written < k) {
    size_t best = lists.size();
    for (size_t i = 0; i < lists.size(); ++i) {
      while (pos[i] < lists[i].size() && lists[i][pos[i]].label == invalid_label) ++pos[i];
      if (pos[i] == lists[i].size()) continue;
      if (best == lists.size() || lists[i][pos[i]] < lists[best][pos[best]]) best = i;
    }
    if (best == lists.size()) break;
    out[written++] = lists[best][pos[best]++];
  }
  return written;
}

}  // namespace shoal::index
