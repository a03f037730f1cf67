// Cross-core round trips: Shoal's submit_to (bounded SPSC channels + doorbell) against the plain
// Asio way (two threads, one io_context each, asio::post there and asio::post back), measured in
// the same process, on the same two CPUs, one after the other.
//
//   smp-bench [--seconds S] [--window W] [--json OUT]
//
// latency:    one message in flight; the mean and percentiles of a full round trip.
// throughput: W messages in flight from core 0 to core 1; round trips completed per second.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <pthread.h>
#include <sched.h>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <fmt/format.h>

#include "engine/common/json_writer.h"
#include "engine/common/logger.h"
#include "engine/runtime/smp.h"

namespace {

using namespace shoal;
using clock_type = std::chrono::steady_clock;

struct latency_stats {
  double mean_us = 0, p50_us = 0, p99_us = 0, p999_us = 0;
  size_t samples = 0;
};

latency_stats summarize(std::vector<double>& us) {
  latency_stats s;
  if (us.empty()) return s;
  std::sort(us.begin(), us.end());
  double sum = 0;
  for (double v : us) sum += v;
  s.samples = us.size();
  s.mean_us = sum / static_cast<double>(us.size());
  auto at = [&](double q) {
    return us[std::min(us.size() - 1, static_cast<size_t>(q * static_cast<double>(us.size())))];
  };
  s.p50_us = at(0.50);
  s.p99_us = at(0.99);
  s.p999_us = at(0.999);
  return s;
}

struct result_row {
  std::string name;
  latency_stats latency;
  double round_trips_per_second = 0;
};

void pin(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  ::pthread_setaffinity_np(::pthread_self(), sizeof set, &set);
}

// ---- Shoal runtime ----

result_row bench_shoal(double seconds, size_t window) {
  result_row row{.name = "shoal submit_to"};
  rt::runtime_config cfg;
  cfg.cores = 2;
  cfg.pin_threads = true;
  cfg.channel_depth = std::max<size_t>(window, 128);
  rt::runtime runtime(cfg);
  runtime.run([&]() -> awaitable<void> {
    // Latency: strictly one at a time.
    std::vector<double> us;
    us.reserve(1 << 20);
    auto end = clock_type::now() + std::chrono::duration<double>(seconds);
    for (int i = 0; i < 1000; ++i) co_await rt::submit_to(core_id(1), [] { return 1; });  // warm
    while (clock_type::now() < end) {
      auto t0 = clock_type::now();
      co_await rt::submit_to(core_id(1), [] { return 1; });
      us.push_back(std::chrono::duration<double, std::micro>(clock_type::now() - t0).count());
    }
    row.latency = summarize(us);

    // Throughput: `window` senders on core 0 each looping round trips.
    uint64_t done = 0;
    auto t0 = clock_type::now();
    auto stop_at = t0 + std::chrono::duration<double>(seconds);
    co_await rt::parallel_for(window, [&](size_t) -> awaitable<void> {
      while (clock_type::now() < stop_at) {
        co_await rt::submit_to(core_id(1), [] { return 1; });
        ++done;
      }
    });
    double elapsed = std::chrono::duration<double>(clock_type::now() - t0).count();
    row.round_trips_per_second = static_cast<double>(done) / elapsed;
  });
  return row;
}

// ---- Plain Asio: two threads, post there, post back ----

result_row bench_asio_post(double seconds, size_t window) {
  result_row row{.name = "asio::post two threads"};
  boost::asio::io_context a(1), b(1);
  auto guard_a = boost::asio::make_work_guard(a);
  auto guard_b = boost::asio::make_work_guard(b);
  std::thread tb([&] {
    pin(1);
    b.run();
  });
  std::atomic<bool> finished{false};
  std::thread ta([&] {
    pin(0);
    // Latency.
    std::vector<double> us;
    us.reserve(1 << 20);
    auto end = clock_type::now() + std::chrono::duration<double>(seconds);
    clock_type::time_point sent;
    std::function<void()> ping;
    int warm = 1000;
    ping = [&] {
      sent = clock_type::now();
      boost::asio::post(b, [&] {
        boost::asio::post(a, [&] {
          if (warm > 0) {
            --warm;
          } else {
            us.push_back(
                std::chrono::duration<double, std::micro>(clock_type::now() - sent).count());
          }
          if (clock_type::now() < end || warm > 0) {
            ping();
          } else {
            a.stop();
          }
        });
      });
    };
    boost::asio::post(a, ping);
    a.run_for(std::chrono::milliseconds(static_cast<int64_t>((seconds + 5) * 1000)));
    a.restart();
    row.latency = summarize(us);

    // Throughput with `window` in flight.
    uint64_t done = 0;
    auto t0 = clock_type::now();
    auto stop_at = t0 + std::chrono::duration<double>(seconds);
    size_t active = window;
    std::function<void()> send_one;
    send_one = [&] {
      boost::asio::post(b, [&] {
        boost::asio::post(a, [&] {
          ++done;
          if (clock_type::now() < stop_at) {
            send_one();
          } else if (--active == 0) {
            a.stop();
          }
        });
      });
    };
    boost::asio::post(a, [&] {
      for (size_t i = 0; i < window; ++i) send_one();
    });
    a.run();
    double elapsed = std::chrono::duration<double>(clock_type::now() - t0).count();
    row.round_trips_per_second = static_cast<double>(done) / elapsed;
    finished = true;
  });
  ta.join();
  guard_b.reset();
  b.stop();
  tb.join();
  return row;
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = 3;
  size_t window = 64;
  std::string json_out;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "smp-bench: %s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--seconds")
      seconds = std::stod(next());
    else if (a == "--window")
      window = std::stoul(next());
    else if (a == "--json")
      json_out = next();
    else {
      std::fprintf(stderr, "usage: smp-bench [--seconds S] [--window W] [--json OUT]\n");
      return 2;
    }
  }
  if (rt::runtime::available_cpus() < 2) {
    std::fprintf(stderr, "smp-bench: needs at least 2 CPUs\n");
    return 2;
  }
  logging::init({.level = "warn"});
  std::vector<result_row> rows;
  rows.push_back(bench_shoal(seconds, window));
  rows.push_back(bench_asio_post(seconds, window));

  std::printf("%-24s %10s %10s %10s %10s %16s\n", "cross-core round trip", "mean us", "p50 us",
              "p99 us", "p99.9 us", "round trips/s");
  for (auto& r : rows) {
    std::printf("%-24s %10.2f %10.2f %10.2f %10.2f %16.0f\n", r.name.c_str(), r.latency.mean_us,
                r.latency.p50_us, r.latency.p99_us, r.latency.p999_us, r.round_trips_per_second);
  }
  std::printf("ratio shoal/asio: latency p50 %.2fx, throughput %.2fx (window %zu)\n",
              rows[0].latency.p50_us / rows[1].latency.p50_us,
              rows[0].round_trips_per_second / rows[1].round_trips_per_second, window);
  if (!json_out.empty()) {
    std::string out;
    json_writer w(out);
    w.begin_object().field("window", window).field("seconds", seconds).key("results").begin_array();
    for (auto& r : rows) {
      w.begin_object()
          .field("name", r.name)
          .field("mean_us", r.latency.mean_us)
          .field("p50_us", r.latency.p50_us)
          .field("p99_us", r.latency.p99_us)
          .field("p999_us", r.latency.p999_us)
          .field("round_trips_per_second", r.round_trips_per_second)
          .end_object();
    }
    w.end_array().end_object();
    std::ofstream(json_out) << out << "\n";
  }
  logging::shutdown();
  return 0;
}
