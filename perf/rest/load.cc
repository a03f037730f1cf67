#include "perf/rest/load.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <numeric>
#include <stdexcept>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <fmt/format.h>

#include "perf/rest/cpu_time.h"

namespace shoal::perf {
namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using asio::ip::tcp;
using clock_type = std::chrono::steady_clock;

struct shared_state {
  const std::vector<std::string>* requests = nullptr;
  clock_type::time_point start, measure_from, end;
  double rate = 0;
  uint64_t next = 0;
  uint64_t answered = 0;
  uint64_t answered_all = 0;
  uint64_t errors = 0;
  std::vector<double> latency_us;
  std::vector<std::pair<float, float>> due_and_latency_us;
  std::exception_ptr failure;
};

asio::awaitable<void> worker(tcp::socket socket, shared_state& st) {
  boost::beast::flat_buffer buffer;
  asio::steady_timer timer(socket.get_executor());
  for (;;) {
    uint64_t i = st.next++;
    clock_type::time_point due;
    if (st.rate > 0) {
      due = st.start + std::chrono::duration_cast<clock_type::duration>(
                           std::chrono::duration<double>(double(i) / st.rate));
      if (due >= st.end) co_return;
      if (due > clock_type::now()) {
        timer.expires_at(due);
        co_await timer.async_wait(asio::use_awaitable);
      }
    } else {
      due = clock_type::now();
      if (due >= st.end) co_return;
    }
    auto& req = (*st.requests)[i % st.requests->size()];
    co_await asio::async_write(socket, asio::buffer(req), asio::use_awaitable);
    http::response_parser<http::string_body> parser;
    parser.body_limit(1ull << 30);
    co_await http::async_read(socket, buffer, parser, asio::use_awaitable);
    auto done = clock_type::now();
    ++st.answered_all;
    if (due >= st.measure_from && done <= st.end + std::chrono::seconds(5)) {
      ++st.answered;
      if (parser.get().result_int() != 200) ++st.errors;
      st.latency_us.push_back(std::chrono::duration<double, std::micro>(done - due).count());
      st.due_and_latency_us.emplace_back(
          float(std::chrono::duration<double>(due - st.start).count()),
          float(st.latency_us.back()));
    }
  }
}

}  // namespace

double load_result::percentile(double p) const {
  if (latency_us.empty()) return 0;
  auto idx = static_cast<size_t>(std::ceil(p / 100.0 * double(latency_us.size())));
  idx = std::clamp<size_t>(idx, 1, latency_us.size()) - 1;
  return latency_us[idx];
}

double load_result::mean() const {
  if (latency_us.empty()) return 0;
  return std::accumulate(latency_us.begin(), latency_us.end(), 0.0) / double(latency_us.size());
}

load_result::episodes load_result::slow_episodes(double over_us, double gap_s) const {
  std::vector<float> due;
  for (auto [d, l] : due_and_latency_us) {
    if (l > over_us) due.push_back(d);
  }
  std::sort(due.begin(), due.end());
  episodes e;
  e.slow = due.size();
  for (size_t i = 0; i < due.size();) {
    size_t j = i;
    while (j + 1 < due.size() && due[j + 1] - due[j] <= gap_s) ++j;
    ++e.count;
    e.longest_s = std::max(e.longest_s, double(due[j] - due[i]));
    i = j + 1;
  }
  return e;
}

load_result run_load(const load_options& o, const std::vector<std::string>& requests) {
  // The client shares the server's CPUs here; a higher priority (when allowed) lets it send on
  // time instead of waiting for a server core to yield, as a client on another machine would.
  auto tid = static_cast<id_t>(::syscall(SYS_gettid));
  int old_nice = ::getpriority(PRIO_PROCESS, tid);
  if (o.client_nice != 0) (void)::setpriority(PRIO_PROCESS, tid, o.client_nice);
  struct restore_nice {
    id_t tid;
    int value;
    ~restore_nice() { (void)::setpriority(PRIO_PROCESS, tid, value); }
  } restore{tid, old_nice};
  asio::io_context ioc(1);
  shared_state st;
  st.requests = &requests;
  st.rate = o.rate;
  std::vector<tcp::socket> sockets;
  tcp::endpoint ep(asio::ip::make_address(o.host), o.port);
  for (size_t c = 0; c < o.connections; ++c) {
    tcp::socket s(ioc);
    s.connect(ep);
    s.set_option(tcp::no_delay(true));
    sockets.push_back(std::move(s));
  }
  st.start = clock_type::now();
  st.measure_from = st.start + std::chrono::duration_cast<clock_type::duration>(
                                   std::chrono::duration<double>(o.warmup_seconds));
  st.end = st.measure_from + std::chrono::duration_cast<clock_type::duration>(
                                 std::chrono::duration<double>(o.seconds));
  st.latency_us.reserve(1 << 20);
  for (auto& s : sockets) {
    asio::co_spawn(ioc, worker(std::move(s), st), [&st](std::exception_ptr e) {
      if (e && !st.failure) st.failure = e;
    });
  }
  auto cpu_before = thread_cpu_ns();
  ioc.run();
  auto cpu_after = thread_cpu_ns();
  if (st.failure) std::rethrow_exception(st.failure);
  load_result r;
  r.requests = st.answered;
  r.errors = st.errors;
  r.seconds = o.seconds;
  r.qps = double(st.answered) / o.seconds;
  r.latency_us = std::move(st.latency_us);
  r.due_and_latency_us = std::move(st.due_and_latency_us);
  r.start_s = std::chrono::duration<double>(st.start.time_since_epoch()).count();
  r.answered_all = st.answered_all;
  r.client_cpu_ns = cpu_after - cpu_before;
  std::sort(r.latency_us.begin(), r.latency_us.end());
  return r;
}

std::string render_request(const std::string& method, const std::string& target,
                           const std::string& body) {
  return fmt::format(
      "{} {} HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\nContent-Length: "
      "{}\r\n\r\n{}",
      method, target, body.size(), body);
}

simple_reply http_call(const std::string& host, uint16_t port, const std::string& method,
                       const std::string& target, const std::string& body) {
  asio::io_context ioc;
  tcp::socket s(ioc);
  s.connect(tcp::endpoint(asio::ip::make_address(host), port));
  auto req = render_request(method, target, body);
  asio::write(s, asio::buffer(req));
  boost::beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(1ull << 30);
  http::read(s, buffer, parser);
  return {parser.get().result_int(), parser.get().body()};
}

}  // namespace shoal::perf
