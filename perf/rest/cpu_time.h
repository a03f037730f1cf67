#pragma once
// CPU time for the benchmarks' cost accounting. A client on this machine shares the server's CPUs
// (and here even its physical core), and the VM loses whole milliseconds to its host, so queries/s
// alone mixes the server's cost with the client's and with the host's noise. CPU time does not:
// the server's CPU time per query, against the in-process index's CPU time per query, is what the
// protocol and the serving path cost, whoever else runs on the machine. Time stolen by the host
// is counted by neither, and reported on its own (steal_ticks).

#include <cstdint>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <string>

namespace shoal::perf {

/// CPU time of every thread of process `pid` so far, in nanoseconds (each thread's
/// /proc/PID/task/TID/schedstat: time on a CPU). 0 when the process cannot be read.
inline uint64_t process_cpu_ns(long pid) {
  uint64_t total = 0;
  std::error_code ec;
  auto dir = std::filesystem::path("/proc") / std::to_string(pid) / "task";
  for (const auto& task : std::filesystem::directory_iterator(dir, ec)) {
    std::ifstream in(task.path() / "schedstat");
    uint64_t on_cpu = 0;
    if (in >> on_cpu) total += on_cpu;
  }
  return total;
}

/// CPU time of the calling thread, in nanoseconds.
inline uint64_t thread_cpu_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return uint64_t(ts.tv_sec) * 1'000'000'000u + uint64_t(ts.tv_nsec);
}

/// Ticks (USER_HZ) the host took from this VM's CPUs, all CPUs together (/proc/stat "steal").
inline uint64_t steal_ticks() {
  std::ifstream in("/proc/stat");
  std::string cpu;
  uint64_t field[8] = {};
  if (!(in >> cpu) || cpu != "cpu") return 0;
  for (auto& f : field) in >> f;
  return field[7];
}

}  // namespace shoal::perf
