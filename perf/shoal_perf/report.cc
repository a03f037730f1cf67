#include "perf/shoal_perf/report.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <unistd.h>

#include <fmt/format.h>

namespace shoal::perf {

progress_line::progress_line(bool force) : active_(force || ::isatty(STDERR_FILENO) == 1) {}

progress_line::~progress_line() {
  finish();
}

void progress_line::show(const std::string& text) {
  if (!active_) return;
  std::fprintf(stderr, "\r\033[K%s", text.c_str());
  std::fflush(stderr);
  shown_ = true;
}

void progress_line::finish() {
  if (active_ && shown_) std::fputc('\n', stderr);
  shown_ = false;
}

std::string human_count(double v) {
  if (v >= 1e9) return fmt::format("{:.2f}G", v / 1e9);
  if (v >= 1e6) return fmt::format("{:.2f}M", v / 1e6);
  if (v >= 1e4) return fmt::format("{:.1f}k", v / 1e3);
  return fmt::format("{:.0f}", v);
}

std::string human_eta(double s) {
  if (!std::isfinite(s) || s < 0) return "-";
  auto t = static_cast<long>(std::ceil(s));
  if (t < 60) return fmt::format("{}s", t);
  if (t < 3600) return fmt::format("{}m{:02}s", t / 60, t % 60);
  return fmt::format("{}h{:02}m", t / 3600, (t / 60) % 60);
}

void time_series::record(uint64_t latency_ns, bool ok) {
  if (ok) {
    current_.record(latency_ns);
  } else {
    ++errors_;
  }
}

void time_series::roll(double now) {
  window_stats w;
  w.start_seconds = started_;
  w.seconds = std::max(now - started_, 1e-9);
  w.requests = current_.count();
  w.errors = errors_;
  w.p50_ms = current_.value_at(0.5) / 1e6;
  w.p90_ms = current_.value_at(0.9) / 1e6;
  w.p99_ms = current_.value_at(0.99) / 1e6;
  w.max_ms = current_.max() / 1e6;
  windows_.push_back(w);
  current_.reset();
  errors_ = 0;
  started_ = now;
}

namespace {

std::string esc(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

/// A "nice" step near range/ticks: 1, 2 or 5 times a power of ten.
double nice_step(double range, int ticks) {
  double raw = range / std::max(ticks, 1);
  double p = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0, 10.0}) {
    if (raw <= m * p) return m * p;
  }
  return 10 * p;
}

std::string number(double v) {
  if (v >= 1e6) return fmt::format("{:g}M", v / 1e6);
  if (v >= 1e3) return fmt::format("{:g}k", v / 1e3);
  return fmt::format("{:g}", v);
}

}  // namespace

bool write_svg_plot(const std::string& path, const std::string& title,
                    const std::vector<window_stats>& windows, std::string& error) {
  const double W = 960, H = 640, left = 80, right = 150, top = 50, gap = 60;
  const double panel_h = (H - top - gap - 50) / 2;
  const double plot_w = W - left - right;
  double t_end = 0;
  for (auto& w : windows) t_end = std::max(t_end, w.start_seconds + w.seconds);
  if (t_end <= 0) t_end = 1;
  auto x_of = [&](double t) { return left + plot_w * t / t_end; };

  // Latency panel: log10 scale over the decades the data spans.
  double lo = 1e300, hi = 0;
  for (auto& w : windows) {
    if (w.requests == 0) continue;
    for (double v : {w.p50_ms, w.p90_ms, w.p99_ms, w.max_ms}) {
      if (v > 0) {
        lo = std::min(lo, v);
        hi = std::max(hi, v);
      }
    }
  }
  if (hi <= 0) {
    lo = 0.1;
    hi = 10;
  }
  double dlo = std::floor(std::log10(lo)), dhi = std::ceil(std::log10(hi));
  if (dhi <= dlo) dhi = dlo + 1;
  const double lat_top = top, lat_bottom = top + panel_h;
  auto y_lat = [&](double ms) {
    double l = std::log10(std::max(ms, std::pow(10.0, dlo)));
    return lat_bottom - panel_h * (l - dlo) / (dhi - dlo);
  };
  // Throughput panel: linear from 0.
  double qmax = 0;
  for (auto& w : windows) qmax = std::max(qmax, static_cast<double>(w.requests) / w.seconds);
  if (qmax <= 0) qmax = 1;
  double qstep = nice_step(qmax, 5);
  double qtop = std::ceil(qmax / qstep) * qstep;
  const double thr_top = lat_bottom + gap, thr_bottom = thr_top + panel_h;
  auto y_thr = [&](double q) { return thr_bottom - panel_h * q / qtop; };

  std::string s;
  s += fmt::format(
      R"(<svg xmlns="http://www.w3.org/2000/svg" width="{}" height="{}" viewBox="0 0 {} {}" )"
      R"(font-family="sans-serif" font-size="12">)"
      "\n",
      W, H, W, H);
  s += fmt::format(R"(<rect width="{}" height="{}" fill="white"/>)"
                   "\n",
                   W, H);
  s += fmt::format(R"(<text x="{}" y="24" font-size="15" font-weight="bold">{}</text>)"
                   "\n",
                   left, esc(title));
  // Frames, grid and axis labels.
  for (auto [y0, y1] : {std::pair{lat_top, lat_bottom}, std::pair{thr_top, thr_bottom}}) {
    s += fmt::format(R"(<rect x="{}" y="{}" width="{}" height="{}" fill="none" stroke="#444"/>)"
                     "\n",
                     left, y0, plot_w, y1 - y0);
  }
  for (double d = dlo; d <= dhi + 1e-9; d += 1) {
    double y = y_lat(std::pow(10.0, d));
    s += fmt::format(R"(<line x1="{}" y1="{:.1f}" x2="{}" y2="{:.1f}" stroke="#ddd"/>)"
                     "\n",
                     left, y, left + plot_w, y);
    s += fmt::format(R"(<text x="{}" y="{:.1f}" text-anchor="end">{} ms</text>)"
                     "\n",
                     left - 6, y + 4, number(std::pow(10.0, d)));
  }
  for (double q = 0; q <= qtop + 1e-9; q += qstep) {
    double y = y_thr(q);
    s += fmt::format(R"(<line x1="{}" y1="{:.1f}" x2="{}" y2="{:.1f}" stroke="#ddd"/>)"
                     "\n",
                     left, y, left + plot_w, y);
    s += fmt::format(R"(<text x="{}" y="{:.1f}" text-anchor="end">{}/s</text>)"
                     "\n",
                     left - 6, y + 4, number(q));
  }
  double tstep = nice_step(t_end, 8);
  for (double t = 0; t <= t_end + 1e-9; t += tstep) {
    for (double y : {lat_bottom, thr_bottom}) {
      s += fmt::format(R"(<text x="{:.1f}" y="{:.1f}" text-anchor="middle">{:g}s</text>)"
                       "\n",
                       x_of(t), y + 16, t);
    }
  }
  s += fmt::format(R"(<text x="{}" y="{}" font-weight="bold">latency (log scale)</text>)"
                   "\n",
                   left, lat_top - 8);
  s += fmt::format(R"(<text x="{}" y="{}" font-weight="bold">throughput (requests/s)</text>)"
                   "\n",
                   left, thr_top - 8);

  auto polyline = [&](auto value, auto y_of, const char* color) {
    std::string pts;
    for (auto& w : windows) {
      if (w.requests == 0) continue;
      pts += fmt::format("{:.1f},{:.1f} ", x_of(w.start_seconds + w.seconds / 2), y_of(value(w)));
    }
    if (!pts.empty()) {
      s += fmt::format(R"(<polyline fill="none" stroke="{}" stroke-width="1.6" points="{}"/>)"
                       "\n",
                       color, pts);
    }
  };
  struct series {
    const char* name;
    double window_stats::*field;
    const char* color;
  };
  const series lat[] = {{"p50", &window_stats::p50_ms, "#1f77b4"},
                        {"p90", &window_stats::p90_ms, "#2ca02c"},
                        {"p99", &window_stats::p99_ms, "#ff7f0e"},
                        {"max", &window_stats::max_ms, "#d62728"}};
  double ly = lat_top + 10;
  for (auto& l : lat) {
    polyline([&](const window_stats& w) { return w.*(l.field); }, y_lat, l.color);
    s += fmt::format(R"(<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{}" stroke-width="3"/>)"
                     R"(<text x="{}" y="{}">{}</text>)"
                     "\n",
                     left + plot_w + 12, ly, left + plot_w + 34, ly, l.color, left + plot_w + 40,
                     ly + 4, l.name);
    ly += 18;
  }
  polyline([](const window_stats& w) { return static_cast<double>(w.requests) / w.seconds; }, y_thr,
           "#333");
  polyline([](const window_stats& w) { return static_cast<double>(w.errors) / w.seconds; }, y_thr,
           "#d62728");
  s += fmt::format(R"(<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#333" stroke-width="3"/>)"
                   R"(<text x="{}" y="{}">answered</text>)"
                   R"(<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#d62728" stroke-width="3"/>)"
                   R"(<text x="{}" y="{}">errors</text>)"
                   "\n",
                   left + plot_w + 12, thr_top + 10, left + plot_w + 34, thr_top + 10,
                   left + plot_w + 40, thr_top + 14, left + plot_w + 12, thr_top + 28,
                   left + plot_w + 34, thr_top + 28, left + plot_w + 40, thr_top + 32);
  s += "</svg>\n";

  std::ofstream out(path, std::ios::binary);
  out << s;
  if (!out) {
    error = "cannot write " + path;
    return false;
  }
  return true;
}

}  // namespace shoal::perf
