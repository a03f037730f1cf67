#pragma once
// Read-your-writes (issue #7): every write answers with a token naming, per shard it changed,
// the LSN of its last record and the term that wrote it; a read that presents the token
// (REST header `shoal-read-after`) is answered by a replica only once that replica holds those
// records — on any host, leader or follower.
//
// Text form (the `shoal-token` header): comma-separated `SHARD:TERM:LSN`, decimal, e.g.
// "0:1:57,2:1:80". The term makes a token safe across failovers: a replica whose record at LSN
// has a newer term than the token's holds a different history there — the write was lost with
// the leader that took it (possible unless it was written with durability=replicated).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace shoal::shard {

struct token_entry {
  uint32_t shard = 0;
  uint64_t term = 0;
  uint64_t lsn = 0;
  bool operator==(const token_entry&) const = default;
};

inline constexpr size_t kMaxTokenEntries = 4096;  // shards per collection are far fewer

std::string encode_token(const std::vector<token_entry>& entries);
/// nullopt if malformed or longer than kMaxTokenEntries.
std::optional<std::vector<token_entry>> parse_token(std::string_view text);

}  // namespace shoal::shard
