// Storage benchmarks for issue #4 (make bench runs them through perf/benches/storage.sh).
//
//   storage-bench log      [--dir D] [--seconds S]   mutation-log append + group commit, several
//                          record sizes and writer counts, beside the raw write+fdatasync rate of
//                          the same disk measured in the same run
//   storage-bench upserts  [--dir D] [--seconds S]   1-point upserts with `local` durability into a
//                          flat shard on one core, many writers at once
//   storage-bench restart  [--dir D] [--points N] [--dim D]   build an HNSW shard, snapshot it,
//                          reopen it: restart time against the build (= rebuild) time, and memory
//                          per vector beyond the raw floats
//   --json OUT writes the results.

#include <chrono>
#include <cstdio>
#include <fcntl.h>
#include <fstream>
#include <malloc.h>
#include <random>
#include <string>
#include <unistd.h>
#include <vector>

#include <fmt/format.h>

#include "engine/common/file_io.h"
#include "engine/common/json_writer.h"
#include "engine/common/logger.h"
#include "engine/log/mutation_log.h"
#include "engine/runtime/blocking_pool.h"
#include "engine/runtime/smp.h"
#include "engine/shard/shard.h"
#include "index/hnsw/hnsw_graph.h"

namespace {

using namespace shoal;
using clock_type = std::chrono::steady_clock;
namespace fs = std::filesystem;

struct options {
  std::string command;
  fs::path dir = "/tmp/shoal-storage-bench";
  double seconds = 3;
  size_t points = 1'000'000;
  uint32_t dim = 128;
  std::string json;
  bool reuse = false;  // restart: reopen an existing shard instead of building one (profiling)
};

// malloc's allocated bytes (as measured for hnswlib) plus the HNSW chunks mapped directly.
size_t heap_bytes() {
  auto m = mallinfo2();
  return m.uordblks + m.hblkhd + index::hnsw_graph::mapped_bytes();
}

double secs_since(clock_type::time_point t0) {
  return std::chrono::duration<double>(clock_type::now() - t0).count();
}

// ---- raw disk reference: write 1 MiB, fdatasync, repeat ----
double raw_disk_mb_per_s(const fs::path& dir, double seconds) {
  auto path = dir / "raw.bin";
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  std::vector<char> buf(1 << 20, 'r');
  size_t written = 0;
  auto t0 = clock_type::now();
  while (secs_since(t0) < seconds) {
    if (::write(fd, buf.data(), buf.size()) != static_cast<ssize_t>(buf.size())) break;
    ::fdatasync(fd);
    written += buf.size();
  }
  double s = secs_since(t0);
  ::close(fd);
  fs::remove(path);
  return static_cast<double>(written) / s / 1e6;
}

struct log_row {
  size_t record_bytes, writers;
  double mb_per_s, records_per_s, flushes_per_s;
};

log_row bench_log(const fs::path& dir, size_t record_bytes, size_t writers, double seconds) {
  log_row row{record_bytes, writers, 0, 0, 0};
  fs::remove_all(dir);
  rt::runtime_config cfg;
  cfg.cores = 1;
  rt::runtime runtime(cfg);
  runtime.run([&]() -> awaitable<void> {
    wal::log_config lc;
    lc.dir = dir;
    lc.compress_threshold = 0;  // random bodies: measure the log, not LZ4
    auto opened = co_await wal::mutation_log::open(lc, {});
    if (!opened) co_return;
    auto& log = **opened;
    std::vector<std::byte> body(record_bytes);
    std::mt19937 rng(1);
    for (auto& b : body) b = static_cast<std::byte>(rng());
    uint64_t records = 0;
    auto& fsyncs = metrics::local().make_counter("shoal_log_fsyncs_total", "");
    auto f0 = fsyncs.value();
    auto t0 = clock_type::now();
    co_await rt::parallel_for(writers, [&](size_t) -> awaitable<void> {
      while (secs_since(t0) < seconds) {
        auto lsn = log.append(1, 1, body);
        if (!lsn) {
          // Backlog full: let the flush catch up.
          (void)co_await log.sync(log.last_lsn());
          continue;
        }
        if (!co_await log.sync(*lsn)) co_return;
        ++records;
      }
    });
    double s = secs_since(t0);
    row.records_per_s = static_cast<double>(records) / s;
    row.mb_per_s = static_cast<double>(records * (record_bytes + wal::kRecordHeaderSize)) / s / 1e6;
    row.flushes_per_s = static_cast<double>(fsyncs.value() - f0) / s;
    co_await log.close();
  });
  return row;
}

shard::shard_options flat_shard(const fs::path& dir, uint32_t dim, index::index_kind kind) {
  auto cfg = std::make_shared<shard::collection_config>();
  cfg->name = "bench";
  shard::vector_params p;
  p.size = dim;
  p.metric = index::metric_kind::l2;
  p.kind = kind;
  p.m = 16;
  p.ef_construct = 100;
  cfg->vectors.emplace_back("", p);
  shard::shard_options o;
  o.dir = dir;
  o.config = cfg;
  o.snapshot_on_close = false;
  o.snapshot_log_bytes = 1ull << 40;
  return o;
}

struct upsert_result {
  size_t writers;
  double upserts_per_s;
};

upsert_result bench_upserts(const fs::path& dir, size_t writers, double seconds) {
  upsert_result out{writers, 0};
  fs::remove_all(dir);
  rt::runtime_config cfg;
  cfg.cores = 1;
  rt::runtime runtime(cfg);
  runtime.run([&]() -> awaitable<void> {
    auto s = co_await shard::shard::open(flat_shard(dir, 128, index::index_kind::flat));
    if (!s) co_return;
    uint64_t done = 0, next = 0;
    std::mt19937 rng(7);
    std::normal_distribution<float> d;
    std::vector<std::vector<float>> vectors(1024);
    for (auto& v : vectors) {
      v.resize(128);
      for (auto& x : v) x = d(rng);
    }
    auto t0 = clock_type::now();
    co_await rt::parallel_for(writers, [&](size_t) -> awaitable<void> {
      while (secs_since(t0) < seconds) {
        shard::upsert_mutation u;
        shard::point_write w;
        uint64_t id = next++;
        w.id = data::point_id::number(id);
        w.vectors.push_back({"", vectors[id % vectors.size()]});
        data::json_value payload{data::json_value::object{}};
        payload.set("n", static_cast<int64_t>(id));
        w.payload = std::move(payload);
        u.points.push_back(std::move(w));
        auto r = co_await (*s)->write(std::move(u), {});
        if (!r) co_return;
        ++done;
      }
    });
    out.upserts_per_s = static_cast<double>(done) / secs_since(t0);
    co_await (*s)->close();
  });
  return out;
}

struct restart_result {
  size_t points;
  double build_s = 0, snapshot_s = 0, restart_s = 0;
  double bytes_per_vector = 0, overhead_per_vector = 0;      // the shard's own accounting
  double heap_per_vector = 0, heap_overhead_per_vector = 0;  // malloc's view, as for hnswlib
  uint64_t snapshot_bytes = 0;
};

restart_result bench_restart(const fs::path& dir, size_t points, uint32_t dim, bool reuse) {
  restart_result out{points};
  bool build = !reuse || !fs::exists(dir);
  if (build) fs::remove_all(dir);
  rt::runtime_config cfg;
  cfg.cores = 1;
  rt::runtime runtime(cfg);
  runtime.run([&]() -> awaitable<void> {
    auto opts = flat_shard(dir, dim, index::index_kind::hnsw);
    if (build) {
      auto heap0 = heap_bytes();
      auto s = co_await shard::shard::open(opts);
      if (!s) co_return;
      // Clustered data: 1,000 gaussian clusters.
      std::mt19937 rng(42);
      std::normal_distribution<float> d;
      std::vector<std::vector<float>> centres(1000, std::vector<float>(dim));
      for (auto& c : centres) {
        for (auto& x : c) x = d(rng) * 4;
      }
      auto t0 = clock_type::now();
      for (size_t at = 0; at < points; at += 1000) {
        shard::upsert_mutation u;
        for (size_t i = at; i < std::min(points, at + 1000); ++i) {
          shard::point_write w;
          w.id = data::point_id::number(i);
          std::vector<float> v(dim);
          auto& c = centres[rng() % centres.size()];
          for (uint32_t j = 0; j < dim; ++j) v[j] = c[j] + d(rng);
          w.vectors.push_back({"", std::move(v)});
          u.points.push_back(std::move(w));
        }
        auto r = co_await (*s)->write(std::move(u), {.level = shard::durability::memory});
        if (!r) co_return;
        if (at % 100000 == 0) std::fprintf(stderr, "\r  built %zu / %zu", at, points);
      }
      out.build_s = secs_since(t0);
      (void)co_await (*s)->write(shard::delete_mutation{}, {});  // flushes the log backlog
      out.heap_per_vector = static_cast<double>(heap_bytes() - heap0) / static_cast<double>(points);
      out.heap_overhead_per_vector = out.heap_per_vector - dim * sizeof(float);
      std::fprintf(stderr, "\r  built %zu points in %.1f s\n", points, out.build_s);
      auto st = (*s)->stats();
      out.bytes_per_vector = static_cast<double>(st.memory_bytes) / static_cast<double>(st.points);
      out.overhead_per_vector = out.bytes_per_vector - dim * sizeof(float);
      auto t1 = clock_type::now();
      (void)co_await (*s)->snapshot_now();
      out.snapshot_s = secs_since(t1);
      co_await (*s)->close();
    }
    for (auto& e : fs::directory_iterator(dir)) {
      if (e.path().extension() == ".snap") out.snapshot_bytes = fs::file_size(e.path());
    }
    auto t2 = clock_type::now();
    shard::recovery_info info;
    auto again = co_await shard::shard::open(opts, &info);
    out.restart_s = secs_since(t2);
    if (again) co_await (*again)->close();
  });
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  options o;
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) {
    std::fputs(
        "usage: storage-bench log|upserts|restart [--dir D] [--seconds S] [--points N] "
        "[--dim D] [--json OUT]\n",
        stderr);
    return 2;
  }
  o.command = args[0];
  for (size_t i = 1; i + 1 < args.size(); i += 2) {
    if (args[i] == "--dir")
      o.dir = args[i + 1];
    else if (args[i] == "--seconds")
      o.seconds = std::stod(args[i + 1]);
    else if (args[i] == "--points")
      o.points = std::stoul(args[i + 1]);
    else if (args[i] == "--dim")
      o.dim = static_cast<uint32_t>(std::stoul(args[i + 1]));
    else if (args[i] == "--json")
      o.json = args[i + 1];
    else if (args[i] == "--reuse")
      o.reuse = args[i + 1] == "true";
    else {
      std::fprintf(stderr, "storage-bench: unknown option %s\n", args[i].c_str());
      return 2;
    }
  }
  logging::init({.level = "warn"});
  fs::create_directories(o.dir);
  std::string out;
  json_writer w(out);
  w.begin_object().field("command", o.command);
  if (o.command == "log") {
    double raw = raw_disk_mb_per_s(o.dir, o.seconds);
    std::printf("raw disk, 1 MiB writes + fdatasync: %.0f MB/s\n", raw);
    std::printf("%-12s %-8s %12s %14s %12s %10s\n", "record bytes", "writers", "MB/s", "records/s",
                "flushes/s", "vs raw");
    w.field("raw_mb_per_s", raw).key("runs").begin_array();
    for (size_t bytes : {256u, 4096u, 65536u}) {
      for (size_t writers : {1u, 64u}) {
        auto r = bench_log(o.dir / "log", bytes, writers, o.seconds);
        std::printf("%-12zu %-8zu %12.1f %14.0f %12.0f %9.2fx\n", r.record_bytes, r.writers,
                    r.mb_per_s, r.records_per_s, r.flushes_per_s, r.mb_per_s / raw);
        w.begin_object().field("record_bytes", r.record_bytes).field("writers", r.writers);
        w.field("mb_per_s", r.mb_per_s).field("records_per_s", r.records_per_s);
        w.field("flushes_per_s", r.flushes_per_s).end_object();
      }
    }
    w.end_array();
  } else if (o.command == "upserts") {
    std::printf("%-8s %16s\n", "writers", "upserts/s/core");
    w.key("runs").begin_array();
    for (size_t writers : {1u, 64u, 512u}) {
      auto r = bench_upserts(o.dir / "shard", writers, o.seconds);
      std::printf("%-8zu %16.0f\n", r.writers, r.upserts_per_s);
      w.begin_object()
          .field("writers", r.writers)
          .field("upserts_per_s", r.upserts_per_s)
          .end_object();
    }
    w.end_array();
  } else if (o.command == "restart") {
    auto r = bench_restart(o.dir / "restart", o.points, o.dim, o.reuse);
    std::printf(
        "%zu x %u HNSW (m 16, ef_construct 100): build %.1f s, snapshot %.2f s (%.0f MB), "
        "restart %.2f s (%.1fx faster than rebuilding)\n",
        r.points, o.dim, r.build_s, r.snapshot_s, static_cast<double>(r.snapshot_bytes) / 1e6,
        r.restart_s, r.build_s / r.restart_s);
    std::printf(
        "memory: %.0f bytes per vector, %.0f beyond the raw floats (heap allocated: %.0f, "
        "%.0f beyond the floats)\n",
        r.bytes_per_vector, r.overhead_per_vector, r.heap_per_vector, r.heap_overhead_per_vector);
    w.field("points", r.points).field("dim", o.dim).field("build_seconds", r.build_s);
    w.field("snapshot_seconds", r.snapshot_s).field("snapshot_bytes", r.snapshot_bytes);
    w.field("restart_seconds", r.restart_s).field("bytes_per_vector", r.bytes_per_vector);
    w.field("overhead_bytes_per_vector", r.overhead_per_vector);
    w.field("heap_bytes_per_vector", r.heap_per_vector);
    w.field("heap_overhead_bytes_per_vector", r.heap_overhead_per_vector);
  } else {
    std::fprintf(stderr, "storage-bench: unknown command %s\n", o.command.c_str());
    return 2;
  }
  w.end_object();
  if (!o.json.empty()) std::ofstream(o.json) << out << "\n";
  if (!o.reuse) fs::remove_all(o.dir);
  logging::shutdown();
  return 0;
}
