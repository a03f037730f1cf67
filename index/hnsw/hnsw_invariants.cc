#include "index/hnsw/hnsw_invariants.h"

#include <algorithm>
#include <deque>

#include <fmt/format.h>

namespace shoal::index {

std::string hnsw_invariant_report::summary() const {
  std::string out =
      fmt::format("live={} reachable={} links={} one_way={} stale={} problems={}", live_nodes,
                  reachable_from_entry, links, one_way_links, stale_links, problems.size());
  for (size_t i = 0; i < std::min<size_t>(problems.size(), 10); ++i) out += "\n  " + problems[i];
  return out;
}

hnsw_invariant_report check_invariants(const hnsw_index& index) {
  hnsw_invariant_report report;
  const hnsw_graph& g = index.graph();
  const size_t slots = g.slot_count();
  auto problem = [&](std::string text) {
    if (report.problems.size() < 100) report.problems.push_back(std::move(text));
  };
  unsigned tallest = 0;
  for (size_t i = 0; i < slots; ++i) {
    const auto s = static_cast<slot_t>(i);
    if (!g.is_live(s)) {
      if (g.level(s) != 0 || g.link_count(s, 0) != 0)
        problem(fmt::format("free slot {} has links", s));
      continue;
    }
    ++report.live_nodes;
    tallest = std::max(tallest, g.level(s));
    if (!index.contains(g.label(s))) problem(fmt::format("slot {} label not in the map", s));
    if (g.level(s) > index.max_level()) problem(fmt::format("slot {} above max level", s));
    for (unsigned l = 0; l <= g.level(s); ++l) {
      const uint32_t n = g.link_count(s, l);
      if (n > g.max_links(l)) {
        problem(fmt::format("slot {} level {} has {} links", s, l, n));
        continue;
      }
      std::vector<slot_t> seen(g.links(s, l), g.links(s, l) + n);
      std::sort(seen.begin(), seen.end());
      if (std::adjacent_find(seen.begin(), seen.end()) != seen.end()) {
        problem(fmt::format("slot {} level {} repeats a link", s, l));
      }
      for (slot_t t : seen) {
        if (t >= slots) {
          problem(fmt::format("slot {} level {} links past the end ({})", s, l, t));
        } else if (t == s) {
          problem(fmt::format("slot {} level {} links to itself", s, l));
        } else if (!g.is_live(t) || g.level(t) < l) {
          ++report.stale_links;
        } else if (l == 0) {
          ++report.links;
          const slot_t* back = g.links(t, 0);
          if (std::find(back, back + g.link_count(t, 0), s) == back + g.link_count(t, 0)) {
            ++report.one_way_links;
          }
        }
      }
    }
  }
  if (report.live_nodes != index.size()) {
    problem(fmt::format("{} live slots but size() is {}", report.live_nodes, index.size()));
  }
  const slot_t entry = index.entry_point();
  if (report.live_nodes == 0) {
    if (entry != invalid_slot) problem("empty graph with an entry point");
    return report;
  }
  if (entry >= slots || !g.is_live(entry)) {
    problem("entry point is not a live node");
    return report;
  }
  if (g.level(entry) != index.max_level() || tallest != index.max_level()) {
    problem(fmt::format("entry level {} / max level {} / tallest {}", g.level(entry),
                        index.max_level(), tallest));
  }
  std::vector<bool> reached(slots, false);
  std::deque<slot_t> queue{entry};
  reached[entry] = true;
  while (!queue.empty()) {
    slot_t s = queue.front();
    queue.pop_front();
    ++report.reachable_from_entry;
    for (uint32_t i = 0; i < g.link_count(s, 0); ++i) {
      slot_t t = g.links(s, 0)[i];
      if (t < slots && !reached[t] && g.is_live(t)) {
        reached[t] = true;
        queue.push_back(t);
      }
    }
  }
  return report;
}

}  // namespace shoal::index
