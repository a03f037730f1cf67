#include "tools/shoalctl/table.h"

#include <algorithm>
#include <cstdio>

namespace shoal::ctl {

void print_table(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width;
  for (auto& row : rows) {
    if (width.size() < row.size()) width.resize(row.size(), 0);
    for (size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
  }
  for (auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(width[i] - row[i].size() + 2, ' ');
    }
    while (line.ends_with(' ')) line.pop_back();
    std::printf("%s\n", line.c_str());
  }
}

std::string text_of(simdjson::dom::element e) {
  std::string_view s;
  if (e.get(s) == simdjson::SUCCESS) return std::string(s);
  uint64_t u;
  if (e.get(u) == simdjson::SUCCESS) return std::to_string(u);
  double d;
  if (e.get(d) == simdjson::SUCCESS) return std::to_string(static_cast<uint64_t>(d + 0.5));
  bool b;
  if (e.get(b) == simdjson::SUCCESS) return b ? "yes" : "no";
  return "-";
}

}  // namespace shoal::ctl
