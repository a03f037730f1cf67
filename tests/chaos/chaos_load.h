#pragma once
// The load of a chaos round and the record it keeps: writer threads upserting single points
// at durability=replicated or local, each write a new version of one of the writer's own ids
// (payload {"n": id, "v": version}; versions increase per writer, so per id), and a reader
// that re-reads recently written points on another host with the write's shoal-token as
// shoal-read-after and flags a 200 that lacks the written version.

#include <atomic>
#include <deque>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <simdjson.h>

#include "tests/support/http_client.h"

namespace shoal::test::chaos {

using namespace std::chrono_literals;
using boost::beast::http::verb;

enum class durability { replicated, local };
inline const char* name(durability d) {
  return d == durability::replicated ? "replicated" : "local";
}

/// What each id was written with: every version tried, and what was acknowledged.
struct id_record {
  uint64_t attempted = 0;      // the newest version sent (acknowledged or not)
  uint64_t required = 0;       // the newest version every replica must hold (or a newer one)
  uint64_t local_pending = 0;  // the newest `local` acknowledgement not yet promised
  durability kind = durability::replicated;
};

class ledger {
 public:
  void attempt(uint64_t id, uint64_t v, durability d) {
    std::lock_guard l(mu_);
    auto& r = ids_[id];
    r.attempted = std::max(r.attempted, v);
    r.kind = d;
  }
  void acked(uint64_t id, uint64_t v, durability d) {
    std::lock_guard l(mu_);
    auto& r = ids_[id];
    if (d == durability::replicated) {
      r.required = std::max(r.required, v);
      ++replicated_acks_;
    } else {
      r.local_pending = std::max(r.local_pending, v);
      ++local_acks_;
    }
  }
  /// The round's `local` acknowledgements: kept (they must survive from now on) or forgotten.
  size_t settle_local(bool promised) {
    std::lock_guard l(mu_);
    size_t n = 0;
    for (auto& [id, r] : ids_) {
      if (!r.local_pending) continue;
      if (promised) {
        r.required = std::max(r.required, r.local_pending);
        ++n;
      }
      r.local_pending = 0;
    }
    return n;
  }
  std::map<uint64_t, id_record> snapshot() const {
    std::lock_guard l(mu_);
    return ids_;
  }
  std::pair<size_t, size_t> acks() const {
    std::lock_guard l(mu_);
    return {replicated_acks_, local_acks_};
  }

 private:
  mutable std::mutex mu_;
  std::map<uint64_t, id_record> ids_;
  size_t replicated_acks_ = 0, local_acks_ = 0;
};

/// One point, its vector derived from (id, version).
inline std::string point_body(uint64_t id, uint64_t v) {
  return R"({"points":[{"id":)" + std::to_string(id) + R"(,"vector":[)" +
         std::to_string(1 + id % 7) + "," + std::to_string(v % 13) + R"(,1,0.5],"payload":{"n":)" +
         std::to_string(id) + R"(,"v":)" + std::to_string(v) + "}}]}";
}

struct written {
  uint64_t id, version;
  std::string token;
  size_t host;
};

/// Writers and a token reader against the hosts' HTTP ports, between start() and stop().
class load {
 public:
  load(std::vector<uint16_t> ports, ledger& book, uint64_t seed)
      : ports_(std::move(ports)), book_(book), seed_(seed) {}
  ~load() { stop(); }

  void start(int round) {
    stop_ = false;
    const durability kinds[] = {durability::replicated, durability::replicated, durability::local};
    for (size_t w = 0; w < std::size(kinds); ++w)
      threads_.emplace_back([this, w, d = kinds[w], round] { write_loop(w, d, round); });
    threads_.emplace_back([this, round] { read_loop(round); });
  }
  void stop() {
    stop_ = true;
    for (auto& t : threads_) t.join();
    threads_.clear();
  }
  /// Token reads that came back 200 without the written version (each a violation).
  std::vector<std::string> stale_reads() const {
    std::lock_guard l(mu_);
    return stale_;
  }
  size_t reads_ok() const { return reads_ok_; }
  size_t reads_refused() const { return reads_refused_; }

 private:
  static constexpr uint64_t kIdsPerWriter = 300;

  void write_loop(size_t w, durability d, int round) {
    std::mt19937_64 rng(seed_ * 1000 + round * 10 + w);
    size_t at = rng() % ports_.size();
    uint64_t& version = versions_[w];
    const std::string target =
        std::string("/collections/docs/points?wait=true&durability=") + name(d);
    while (!stop_) {
      const uint64_t id = (w + 1) * 1'000'000 + rng() % kIdsPerWriter;
      const uint64_t v = ++version;
      book_.attempt(id, v, d);
      bool ok = false;
      try {
        http_client c(ports_[at], 3s);
        auto r = c.request(verb::put, target, point_body(id, v));
        if (r.status == 200) {
          ok = true;
          book_.acked(id, v, d);
          std::lock_guard l(mu_);
          recent_.push_back({id, v, r.header("shoal-token"), at});
          if (recent_.size() > 256) recent_.pop_front();
        }
      } catch (const std::exception&) {
      }
      if (!ok) {  // 421, 503, a timeout, a refused connection: try the next host
        at = (at + 1) % ports_.size();
        std::this_thread::sleep_for(20ms);
      }
    }
  }

  void read_loop(int round) {
    std::mt19937_64 rng(seed_ * 1000 + round * 10 + 9);
    while (!stop_) {
      std::optional<written> w;
      {
        std::lock_guard l(mu_);
        if (!recent_.empty()) {
          w = std::move(recent_.back());
          recent_.pop_back();
        }
      }
      if (!w || w->token.empty()) {
        std::this_thread::sleep_for(10ms);
        continue;
      }
      const size_t other = (w->host + 1 + rng() % (ports_.size() - 1)) % ports_.size();
      try {
        http_client c(ports_[other], 4s);
        auto r = c.request(verb::post, "/collections/docs/points?timeout=2",
                           R"({"ids":[)" + std::to_string(w->id) + R"(],"with_payload":true})",
                           {{"shoal-read-after", w->token}});
        if (r.status != 200) {
          ++reads_refused_;  // 504, 409, 503, 421: allowed answers
          continue;
        }
        simdjson::dom::parser p;
        simdjson::dom::array pts;
        uint64_t seen = 0;
        if (p.parse(r.body)["result"].get(pts) == simdjson::SUCCESS) {
          for (auto pt : pts) {
            uint64_t v = 0;
            if (pt["payload"]["v"].get(v) == simdjson::SUCCESS) seen = v;
          }
        }
        if (seen < w->version) {
          std::lock_guard l(mu_);
          stale_.push_back("id " + std::to_string(w->id) + " written as version " +
                           std::to_string(w->version) + " (token " + w->token + ") through port " +
                           std::to_string(ports_[w->host]) + ", read after it on port " +
                           std::to_string(ports_[other]) + ": " +
                           (seen ? "version " + std::to_string(seen) : "missing") + " — " +
                           r.body.substr(0, 300));
        } else {
          ++reads_ok_;
        }
      } catch (const std::exception&) {
        ++reads_refused_;  // a stopped or killed host
      }
    }
  }

  std::vector<uint16_t> ports_;
  ledger& book_;
  uint64_t seed_;
  uint64_t versions_[3] = {0, 0, 0};  // per writer, kept across rounds
  std::atomic<bool> stop_{false};
  std::vector<std::thread> threads_;
  mutable std::mutex mu_;
  std::deque<written> recent_;
  std::vector<std::string> stale_;
  std::atomic<size_t> reads_ok_{0}, reads_refused_{0};
};

}  // namespace shoal::test::chaos
