#include "net/rest/rest_stats.h"

#include <random>

#include <fmt/format.h>

#include "engine/common/assert.h"
#include "engine/runtime/smp.h"

namespace shoal::rest {

void response_stats::add(double seconds, int64_t now_ms) {
  if (count == 0 || seconds < min_seconds) min_seconds = seconds;
  if (count == 0 || seconds > max_seconds) max_seconds = seconds;
  ++count;
  sum_seconds += seconds;
  last_unix_ms = now_ms;
}

void response_stats::merge(const response_stats& o) {
  if (o.count == 0) return;
  if (count == 0 || o.min_seconds < min_seconds) min_seconds = o.min_seconds;
  if (count == 0 || o.max_seconds > max_seconds) max_seconds = o.max_seconds;
  count += o.count;
  sum_seconds += o.sum_seconds;
  last_unix_ms = std::max(last_unix_ms, o.last_unix_ms);
}

namespace {

void merge_into(status_stats& into, const status_stats& from) {
  for (auto& [code, s] : from) into[code].merge(s);
}

std::string random_uuid() {
  std::random_device rd;
  std::mt19937_64 gen((uint64_t{rd()} << 32) ^ rd());
  uint64_t hi = gen(), lo = gen();
  hi = (hi & ~0xf000ull) | 0x4000ull;                         // version 4
  lo = (lo & 0x3fffffffffffffffull) | 0x8000000000000000ull;  // RFC 4122 variant
  auto s = fmt::format("{:016x}{:016x}", hi, lo);
  return s.substr(0, 8) + "-" + s.substr(8, 4) + "-" + s.substr(12, 4) + "-" + s.substr(16, 4) +
         "-" + s.substr(20);
}

}  // namespace

void stats_copy::merge(stats_copy&& o) {
  if (by_route.size() < o.by_route.size()) by_route.resize(o.by_route.size());
  for (size_t i = 0; i < o.by_route.size(); ++i) merge_into(by_route[i], o.by_route[i]);
  for (auto& [key, s] : o.by_collection) merge_into(by_collection[key], s);
}

std::string qdrant_endpoint(std::string_view pattern) {
  std::string out(pattern);
  for (auto [ours, theirs] :
       {std::pair{"{name}", "{collection_name}"}, std::pair{"{field}", "{field_name}"},
        std::pair{"{snap}", "{snapshot_name}"}}) {
    std::string_view o = ours;
    for (size_t at = out.find(o); at != std::string::npos; at = out.find(o, at)) {
      out.replace(at, o.size(), theirs);
      at += std::string_view(theirs).size();
    }
  }
  return out;
}

rest_stats::rest_stats(unsigned cores)
    : cores_(cores), startup_(std::chrono::system_clock::now()), id_(random_uuid()) {}

size_t rest_stats::add_route(std::string_view method, std::string_view pattern) {
  routes_.push_back({std::string(method), qdrant_endpoint(pattern)});
  for (auto& c : cores_) c.counts.by_route.resize(routes_.size());
  return routes_.size() - 1;
}

void rest_stats::record(size_t route, std::string_view collection, unsigned status,
                        double seconds) {
  auto core = rt::this_core().value();
  SHOAL_ASSERT(core < cores_.size(), "rest_stats::record on core {} of {}", core, cores_.size());
  auto& slot = cores_[core];
  auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
  slot.counts.by_route[route][status].add(seconds, now_ms);
  if (collection.empty()) return;
  auto it = slot.names.find(collection);
  if (it == slot.names.end()) {
    if (slot.names.size() >= kMaxCollections) return;
    it = slot.names.emplace(collection).first;
  }
  slot.counts.by_collection[{route, *it}][status].add(seconds, now_ms);
}

awaitable<stats_copy> rest_stats::gather() const {
  const auto* self = this;
  co_return co_await rt::map_reduce([self] { return self->cores_[rt::this_core().value()].counts; },
                                    stats_copy{},
                                    [](stats_copy acc, stats_copy one) {
                                      acc.merge(std::move(one));
                                      return acc;
                                    });
}

}  // namespace shoal::rest
