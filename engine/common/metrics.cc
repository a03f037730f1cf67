#include "engine/common/metrics.h"

#include <algorithm>
#include <array>

#include <fmt/format.h>

namespace shoal::metrics {
namespace {

constexpr std::array<double, 18> kLatencyBuckets = {0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025,
                                                    0.005,   0.01,   0.025,   0.05,   0.1,   0.25,
                                                    0.5,     1.0,    2.5,     5.0,    10.0,  30.0};

const char* type_name(kind k) {
  switch (k) {
    case kind::counter:
      return "counter";
    case kind::gauge:
      return "gauge";
    case kind::histogram:
      return "histogram";
  }
  return "untyped";
}

void append_escaped(std::string& out, std::string_view v) {
  for (char c : v) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
}

std::string format_number(double v) {
  if (v == static_cast<double>(static_cast<int64_t>(v)) && v < 9e15 && v > -9e15) {
    return fmt::format("{}", static_cast<int64_t>(v));
  }
  return fmt::format("{}", v);
}

labels sorted(labels l) {
  std::sort(l.begin(), l.end());
  return l;
}

}  // namespace

std::span<const double> latency_buckets() {
  return kLatencyBuckets;
}

histogram::histogram(std::span<const double> bounds)
    : bounds_(bounds), counts_(bounds.size() + 1, 0) {}

void histogram::observe(double v) {
  auto it = std::lower_bound(bounds_.begin(), bounds_.end(), v);
  ++counts_[static_cast<size_t>(it - bounds_.begin())];
  sum_ += v;
  ++count_;
}

std::string render_labels(const labels& l) {
  if (l.empty()) return {};
  std::string out = "{";
  for (size_t i = 0; i < l.size(); ++i) {
    if (i) out += ',';
    out += l[i].first;
    out += "=\"";
    append_escaped(out, l[i].second);
    out += '"';
  }
  out += '}';
  return out;
}

void snapshot::add(const std::string& name, const std::string& help, kind type, sample s) {
  auto& fam = families_[name];
  if (fam.help.empty()) fam.help = help;
  fam.type = type;
  auto key = render_labels(s.label_set);
  auto [it, inserted] = fam.samples.try_emplace(key, std::move(s));
  if (inserted) return;
  auto& dst = it->second;
  dst.value += s.value;
  dst.sum += s.sum;
  dst.count += s.count;
  if (dst.buckets.size() == s.buckets.size()) {
    for (size_t i = 0; i < s.buckets.size(); ++i) dst.buckets[i] += s.buckets[i];
  }
}

void snapshot::merge(snapshot&& other) {
  for (auto& [name, fam] : other.families_) {
    for (auto& [key, s] : fam.samples) add(name, fam.help, fam.type, std::move(s));
  }
}

double snapshot::total(const std::string& name, const labels& match) const {
  auto it = families_.find(name);
  if (it == families_.end()) return 0;
  double sum = 0;
  for (auto& [key, s] : it->second.samples) {
    bool ok = std::all_of(match.begin(), match.end(), [&](auto& m) {
      return std::find(s.label_set.begin(), s.label_set.end(), m) != s.label_set.end();
    });
    if (ok) sum += it->second.type == kind::histogram ? static_cast<double>(s.count) : s.value;
  }
  return sum;
}

std::string snapshot::to_prometheus() const {
  std::string out;
  out.reserve(4096);
  for (auto& [name, fam] : families_) {
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, fam.help, name, type_name(fam.type));
    for (auto& [key, s] : fam.samples) {
      if (fam.type != kind::histogram) {
        out += name + key + ' ' + format_number(s.value) + '\n';
        continue;
      }
      uint64_t cumulative = 0;
      for (size_t i = 0; i < s.buckets.size(); ++i) {
        cumulative += s.buckets[i];
        labels with_le = s.label_set;
        with_le.emplace_back("le", i < s.bounds.size() ? format_number(s.bounds[i]) : "+Inf");
        out += name + "_bucket" + render_labels(with_le) + ' ' + std::to_string(cumulative) + '\n';
      }
      out += name + "_sum" + key + ' ' + format_number(s.sum) + '\n';
      out += name + "_count" + key + ' ' + std::to_string(s.count) + '\n';
    }
  }
  return out;
}

registry::entry& registry::find_or_add(const std::string& name, const std::string& help, kind type,
                                       labels l) {
  l = sorted(std::move(l));
  auto key = name + render_labels(l);
  auto [it, inserted] = entries_.try_emplace(key);
  if (inserted) {
    it->second.name = name;
    it->second.help = help;
    it->second.type = type;
    it->second.label_set = std::move(l);
  }
  return it->second;
}

counter& registry::make_counter(const std::string& name, const std::string& help, labels l) {
  auto& e = find_or_add(name, help, kind::counter, std::move(l));
  if (!e.c) e.c = std::make_unique<counter>();
  return *e.c;
}

gauge& registry::make_gauge(const std::string& name, const std::string& help, labels l) {
  auto& e = find_or_add(name, help, kind::gauge, std::move(l));
  if (!e.g) e.g = std::make_unique<gauge>();
  return *e.g;
}

histogram& registry::make_histogram(const std::string& name, const std::string& help, labels l,
                                    std::span<const double> bounds) {
  auto& e = find_or_add(name, help, kind::histogram, std::move(l));
  if (!e.h) e.h = std::make_unique<histogram>(bounds);
  return *e.h;
}

void registry::make_gauge_fn(const std::string& name, const std::string& help, labels l,
                             std::function<double()> fn) {
  auto& e = find_or_add(name, help, kind::gauge, std::move(l));
  e.fn = std::move(fn);
}

void registry::remove(const std::string& name, labels l) {
  entries_.erase(name + render_labels(sorted(std::move(l))));
}

snapshot registry::take_snapshot() const {
  snapshot snap;
  for (auto& [key, e] : entries_) {
    sample s;
    s.label_set = e.label_set;
    if (e.c) {
      s.value = static_cast<double>(e.c->value());
    } else if (e.g) {
      s.value = e.g->value();
    } else if (e.fn) {
      s.value = e.fn();
    } else if (e.h) {
      s.bounds.assign(e.h->bounds().begin(), e.h->bounds().end());
      s.buckets.assign(e.h->counts().begin(), e.h->counts().end());
      s.sum = e.h->sum();
      s.count = e.h->count();
    }
    snap.add(e.name, e.help, e.type, std::move(s));
  }
  return snap;
}

registry& local() {
  static thread_local registry r;
  return r;
}

}  // namespace shoal::metrics
