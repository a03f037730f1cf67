#include "engine/shard/term_history.h"

#include <algorithm>
#include <cstring>

#include "engine/common/crc32c.h"
#include "engine/common/file_io.h"
#include "engine/shard/errc.h"

namespace shoal::shard {
namespace {

constexpr char kMagic[8] = {'S', 'H', 'T', 'E', 'R', 'M', 'S', '1'};
constexpr size_t kHeader = 16;
constexpr size_t kEntry = 16;
constexpr size_t kMaxEntries = 1u << 20;  // a term per failover: far beyond any real history

template <typename T>
void put(std::vector<std::byte>& out, T v) {
  auto at = out.size();
  out.resize(at + sizeof v);
  std::memcpy(out.data() + at, &v, sizeof v);
}

template <typename T>
T get(std::span<const std::byte> in, size_t at) {
  T v;
  std::memcpy(&v, in.data() + at, sizeof v);
  return v;
}

}  // namespace

uint64_t term_history::term_at(uint64_t lsn) const {
  // The last entry starting at or before lsn.
  auto it = std::upper_bound(entries_.begin(), entries_.end(), lsn,
                             [](uint64_t l, const term_start& e) { return l < e.start_lsn; });
  return it == entries_.begin() ? 0 : std::prev(it)->term;
}

uint64_t term_history::end_of(uint64_t term, uint64_t last_lsn) const {
  // The first entry with a newer term starts right after `term` (or the newest older term) ends.
  auto it = std::upper_bound(entries_.begin(), entries_.end(), term,
                             [](uint64_t t, const term_start& e) { return t < e.term; });
  if (it == entries_.end()) return last_lsn;
  return it->start_lsn - 1;
}

bool term_history::begin(uint64_t term, uint64_t start_lsn) {
  if (!entries_.empty() &&
      (term <= entries_.back().term || start_lsn < entries_.back().start_lsn)) {
    return false;
  }
  if (!entries_.empty() && entries_.back().start_lsn == start_lsn) {
    entries_.back().term = term;  // the previous term wrote nothing: it has no range to keep
    return true;
  }
  entries_.push_back({term, start_lsn});
  return true;
}

void term_history::truncate_after(uint64_t lsn) {
  while (!entries_.empty() && entries_.back().start_lsn > lsn) entries_.pop_back();
}

std::vector<std::byte> term_history::encode() const {
  std::vector<std::byte> out;
  out.reserve(kHeader + entries_.size() * kEntry);
  out.resize(8);
  std::memcpy(out.data(), kMagic, 8);
  put(out, static_cast<uint32_t>(entries_.size()));
  put(out, uint32_t{0});
  for (auto& e : entries_) {
    put(out, e.term);
    put(out, e.start_lsn);
  }
  uint32_t crc = crc32c(std::span<const std::byte>(out).subspan(kHeader));
  std::memcpy(out.data() + 12, &crc, 4);
  return out;
}

result<term_history> term_history::decode(std::span<const std::byte> in) {
  if (in.size() < kHeader || std::memcmp(in.data(), kMagic, 8) != 0) return errc::corrupt_terms;
  auto count = get<uint32_t>(in, 8);
  if (count > kMaxEntries || in.size() != kHeader + size_t{count} * kEntry) {
    return errc::corrupt_terms;
  }
  if (get<uint32_t>(in, 12) != crc32c(in.subspan(kHeader))) return errc::corrupt_terms;
  std::vector<term_start> entries(count);
  for (size_t i = 0; i < count; ++i) {
    entries[i] = {get<uint64_t>(in, kHeader + i * kEntry),
                  get<uint64_t>(in, kHeader + i * kEntry + 8)};
    if (i > 0 && (entries[i].term <= entries[i - 1].term ||
                  entries[i].start_lsn <= entries[i - 1].start_lsn)) {
      return errc::corrupt_terms;
    }
  }
  return term_history(std::move(entries));
}

result<term_history> term_history::load(const std::filesystem::path& shard_dir) {
  std::error_code ec;
  auto path = shard_dir / "terms";
  if (!std::filesystem::exists(path, ec)) return term_history{};
  auto bytes = fileio::read_file(path, kHeader + kMaxEntries * kEntry);
  if (!bytes) return bytes.error();
  return decode(*bytes);
}

result<void> term_history::save(const std::filesystem::path& shard_dir) const {
  auto bytes = encode();
  return fileio::write_file_atomic(shard_dir / "terms", bytes);
}

}  // namespace shoal::shard
