#include "engine/shard/consistency_token.h"

#include <charconv>

namespace shoal::shard {
namespace {

template <typename T>
bool take_number(std::string_view& s, char stop, T& out) {
  auto end = s.find(stop);
  auto part = s.substr(0, end);
  if (part.empty()) return false;
  auto [p, ec] = std::from_chars(part.data(), part.data() + part.size(), out);
  if (ec != std::errc() || p != part.data() + part.size()) return false;
  s = end == std::string_view::npos ? std::string_view() : s.substr(end + 1);
  return true;
}

}  // namespace

std::string encode_token(const std::vector<token_entry>& entries) {
  std::string out;
  for (auto& e : entries) {
    if (!out.empty()) out += ',';
    out += std::to_string(e.shard);
    out += ':';
    out += std::to_string(e.term);
    out += ':';
    out += std::to_string(e.lsn);
  }
  return out;
}

std::optional<std::vector<token_entry>> parse_token(std::string_view text) {
  std::vector<token_entry> out;
  if (text.empty()) return out;
  while (true) {
    auto comma = text.find(',');
    auto item = text.substr(0, comma);
    token_entry e;
    if (!take_number(item, ':', e.shard) || !take_number(item, ':', e.term) ||
        !take_number(item, ',', e.lsn) || !item.empty()) {
      return std::nullopt;
    }
    if (out.size() == kMaxTokenEntries) return std::nullopt;
    out.push_back(e);
    if (comma == std::string_view::npos) break;
    text = text.substr(comma + 1);
  }
  return out;
}

}  // namespace shoal::shard
