#pragma once
// What the shoal-rest-bench subcommands share: arguments, .fvecs/.ivecs reading, request bodies,
// CPU pinning and the JSON result file.

#include <charconv>
#include <cstdint>
#include <fstream>
#include <map>
#include <pthread.h>
#include <sched.h>
#include <span>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <simdjson.h>

#include "perf/rest/load.h"

namespace shoal::perf {

using clock_type = std::chrono::steady_clock;

// ---- arguments --------------------------------------------------------------------------------

struct args {
  std::map<std::string, std::string> kv;
  std::string get(const std::string& k, const std::string& d = {}) const {
    auto it = kv.find(k);
    return it == kv.end() ? d : it->second;
  }
  double num(const std::string& k, double d) const {
    auto it = kv.find(k);
    return it == kv.end() ? d : std::stod(it->second);
  }
  size_t count(const std::string& k, size_t d) const {
    return static_cast<size_t>(num(k, double(d)));
  }
};

inline args parse_args(int argc, char** argv, int from) {
  args a;
  for (int i = from; i < argc; ++i) {
    std::string k = argv[i];
    if (!k.starts_with("--")) throw std::runtime_error("unexpected argument " + k);
    k = k.substr(2);
    if (i + 1 < argc && !std::string(argv[i + 1]).starts_with("--")) {
      a.kv[k] = argv[++i];
    } else {
      a.kv[k] = "1";
    }
  }
  return a;
}

// ---- data -------------------------------------------------------------------------------------

template <typename T>
std::vector<std::vector<T>> read_vecs(const std::string& path, size_t limit = 0) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::vector<std::vector<T>> rows;
  int32_t dim = 0;
  while (in.read(reinterpret_cast<char*>(&dim), 4)) {
    if (dim <= 0 || dim > 65536) throw std::runtime_error("bad record in " + path);
    std::vector<T> row(static_cast<size_t>(dim));
    if (!in.read(reinterpret_cast<char*>(row.data()), std::streamsize(dim * sizeof(T)))) {
      throw std::runtime_error("truncated " + path);
    }
    rows.push_back(std::move(row));
    if (limit && rows.size() == limit) break;
  }
  return rows;
}

inline std::string vector_json(std::span<const float> v) {
  std::string out = "[";
  char buf[32];
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) out += ',';
    auto r = std::to_chars(buf, buf + sizeof buf, v[i]);
    out.append(buf, r.ptr);
  }
  out += ']';
  return out;
}

inline void pin_to_cpu(unsigned cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu % std::max(1u, std::thread::hardware_concurrency()), &set);
  pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

/// "1,3" -> {1, 3}; empty -> {0, 1, ..., n-1}: the CPUs the reference's threads are pinned to,
/// which should be the server's (the reference then runs where the server ran).
inline std::vector<unsigned> cpu_list(const std::string& text, size_t n) {
  std::vector<unsigned> cpus;
  for (size_t at = 0; at < text.size();) {
    auto comma = std::min(text.find(',', at), text.size());
    cpus.push_back(static_cast<unsigned>(std::stoul(text.substr(at, comma - at))));
    at = comma + 1;
  }
  if (cpus.empty()) {
    for (size_t i = 0; i < std::max<size_t>(n, 1); ++i) cpus.push_back(unsigned(i));
  }
  return cpus;
}

inline void expect_ok(const simple_reply& r, const std::string& what) {
  if (r.status != 200)
    throw std::runtime_error(fmt::format("{}: HTTP {}: {}", what, r.status, r.body));
}

/// The number of cores of the server (from /telemetry), which is its default shard count.
inline size_t server_cores(const std::string& host, uint16_t port) {
  auto r = http_call(host, port, "GET", "/telemetry?details_level=1");
  expect_ok(r, "telemetry");
  simdjson::dom::parser p;
  return size_t(uint64_t(p.parse(r.body)["result"]["app"]["system"]["cores"]));
}

struct json_out {
  std::string text = "{";
  void field(const std::string& k, double v) {
    sep();
    text += fmt::format("\"{}\":{}", k, v);
  }
  void field(const std::string& k, const std::string& v) {
    sep();
    text += fmt::format("\"{}\":\"{}\"", k, v);
  }
  void sep() {
    if (text.size() > 1) text += ',';
  }
  void write(const std::string& path) {
    if (path.empty()) return;
    std::ofstream(path) << text << "}\n";
  }
};

/// The load options every subcommand takes: --host, --port, --connections, --seconds,
/// --warmup, --client-nice (the defaults differ by subcommand).
inline load_options load_options_from(const args& a, size_t connections, double seconds,
                                      double warmup) {
  load_options lo;
  lo.host = a.get("host", "127.0.0.1");
  lo.port = static_cast<uint16_t>(a.count("port", 6333));
  lo.connections = a.count("connections", connections);
  lo.seconds = a.num("seconds", seconds);
  lo.warmup_seconds = a.num("warmup", warmup);
  lo.client_nice = static_cast<int>(a.num("client-nice", -10));
  return lo;
}

int cmd_search(const args& a);  // search_bench.cc

}  // namespace shoal::perf
