#pragma once
// Helpers for mutation-log tests: open a log with sensible test settings, make bodies, read all.

#include <random>
#include <string>
#include <vector>

#include "engine/log/mutation_log.h"
#include "tests/support/runtime_fixture.h"
#include "tests/support/tmpdir.h"

namespace shoal::wal::test {

inline std::vector<std::byte> body_of(const std::string& s) {
  std::vector<std::byte> b(s.size());
  if (!s.empty()) std::memcpy(b.data(), s.data(), s.size());
  return b;
}

inline std::string text_of(const std::vector<std::byte>& b) {
  return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}

/// Deterministic body for an LSN: compressible text for even LSNs, random bytes for odd ones.
inline std::string body_for(uint64_t lsn, size_t size) {
  std::string s;
  if (lsn % 2 == 0) {
    while (s.size() < size) s += "lsn " + std::to_string(lsn) + " payload; ";
    s.resize(size);
  } else {
    std::mt19937_64 rng(lsn);
    s.resize(size);
    for (auto& c : s) c = static_cast<char>(rng());
  }
  return s;
}

inline log_config config_in(const std::filesystem::path& dir, size_t segment_bytes = 1 << 20) {
  log_config cfg;
  cfg.dir = dir;
  cfg.segment_bytes = segment_bytes;
  cfg.compress_threshold = 64;
  return cfg;
}

/// Opens the log, collecting every replayed record into `replayed`.
inline awaitable<result<std::unique_ptr<mutation_log>>> open_collecting(
    log_config cfg, std::vector<log_record>& replayed, uint64_t from = 1, uint64_t min_next = 1,
    recovery_report* report = nullptr) {
  replay_options r;
  r.from = from;
  r.min_next_lsn = min_next;
  r.batch_bytes = 4096;
  r.apply = [&replayed](std::vector<log_record>& batch) -> awaitable<result<void>> {
    for (auto& rec : batch) replayed.push_back(std::move(rec));
    co_return result<void>{};
  };
  co_return co_await mutation_log::open(std::move(cfg), std::move(r), report);
}

}  // namespace shoal::wal::test
