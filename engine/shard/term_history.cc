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

std::optional<uint64_t> term_history::start_of(uint64_t term) const {
  if (term == 0) return 1;  // records before any term begin the log
  auto it = std::lower_bound(entries_.begin(), entries_.end(), term,
                             [](const term_start& e, uint64_t t) { return e.term < t; });
  if (it == entries_.end() || it->term != term) return std::nullopt;
  return it->start_lsn;
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

namespace {

/// The LSNs [lo, hi] a term covers in one log (empty when lo > hi).
struct term_range {
  uint64_t term, lo, hi;
};

/// A log's terms as ranges within [1, last], from its first known LSN, in term order (which is
/// also LSN order).
std::vector<term_range> ranges_of(const log_view& v) {
  std::vector<term_range> out;
  out.reserve(v.terms.size() + 1);
  const bool whole = v.known_from <= 1;
  const uint64_t floor = std::max<uint64_t>(v.known_from, 1);
  // Term 0 covers whatever precedes the first entry (term_at); an entry of term 0 continues it.
  bool zero_first = !v.terms.empty() && v.terms.front().term == 0;
  if (whole && !zero_first) {
    uint64_t first_start = v.terms.empty() ? v.last_lsn + 1 : v.terms.front().start_lsn;
    out.push_back({0, 1, std::min(first_start - 1, v.last_lsn)});
  }
  for (size_t i = 0; i < v.terms.size(); ++i) {
    uint64_t lo = i == 0 && zero_first && whole ? 1 : std::max(v.terms[i].start_lsn, floor);
    uint64_t end = i + 1 < v.terms.size() ? v.terms[i + 1].start_lsn - 1 : v.last_lsn;
    out.push_back({v.terms[i].term, lo, std::min(end, v.last_lsn)});
  }
  return out;
}

}  // namespace

uint64_t common_point(const log_view& a, const log_view& b) {
  const uint64_t limit = std::min(a.last_lsn, b.last_lsn);
  auto ra = ranges_of(a);
  auto rb = ranges_of(b);
  uint64_t best = 0;
  // Merge by term: the LSNs where both logs hold term t are the overlap of its two ranges.
  for (size_t i = 0, j = 0; i < ra.size() && j < rb.size();) {
    if (ra[i].term < rb[j].term) {
      ++i;
    } else if (rb[j].term < ra[i].term) {
      ++j;
    } else {
      uint64_t lo = std::max(ra[i].lo, rb[j].lo);
      uint64_t hi = std::min({ra[i].hi, rb[j].hi, limit});
      if (lo <= hi) best = std::max(best, hi);
      ++i;
      ++j;
    }
  }
  return best;
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
