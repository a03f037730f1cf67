#include "perf/shoal_perf/args.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <sstream>

namespace shoal::perf {

arg_parser& arg_parser::option(const std::string& name, const std::string& value_name,
                               const std::string& help, std::optional<std::string> default_value) {
  order_.push_back(name);
  specs_[name] = {value_name, help, std::move(default_value)};
  return *this;
}

arg_parser& arg_parser::flag(const std::string& name, const std::string& help) {
  order_.push_back(name);
  specs_[name] = {"", help, std::nullopt};
  return *this;
}

std::string arg_parser::usage() const {
  std::ostringstream out;
  out << "usage: shoal-perf " << command_;
  for (const auto& name : order_) {
    const spec& s = specs_.at(name);
    bool optional = s.value_name.empty() || s.default_value.has_value();
    out << ' ' << (optional ? "[" : "") << "--" << name;
    if (!s.value_name.empty()) out << ' ' << s.value_name;
    if (optional) out << ']';
  }
  out << "\n\n" << summary_ << "\n\n";
  for (const auto& name : order_) {
    const spec& s = specs_.at(name);
    std::string left = "--" + name + (s.value_name.empty() ? "" : " " + s.value_name);
    out << "  " << left << std::string(left.size() < 28 ? 28 - left.size() : 1, ' ') << s.help;
    if (s.default_value && !s.default_value->empty())
      out << " (default " << *s.default_value << ")";
    out << '\n';
  }
  return out.str();
}

bool arg_parser::parse(const std::vector<std::string>& args) {
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "-h" || a == "--help") {
      std::fputs(usage().c_str(), stdout);
      return false;
    }
    if (a.rfind("--", 0) != 0) throw usage_error("unexpected argument '" + a + "'");
    std::string name = a.substr(2), value;
    bool inline_value = false;
    if (auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      inline_value = true;
    }
    auto it = specs_.find(name);
    if (it == specs_.end()) throw usage_error("unknown option --" + name);
    if (it->second.value_name.empty()) {
      if (inline_value) throw usage_error("--" + name + " takes no value");
      values_[name] = "1";
      continue;
    }
    if (!inline_value) {
      if (i + 1 >= args.size()) throw usage_error("--" + name + " needs a value");
      value = args[++i];
    }
    values_[name] = value;
  }
  for (const auto& [name, s] : specs_) {
    if (!s.value_name.empty() && !s.default_value && values_.count(name) == 0) {
      throw usage_error("missing required option --" + name);
    }
  }
  return true;
}

bool arg_parser::has(const std::string& name) const {
  return values_.count(name) != 0;
}

std::string arg_parser::get(const std::string& name) const {
  if (auto it = values_.find(name); it != values_.end()) return it->second;
  const spec& s = specs_.at(name);
  return s.default_value.value_or("");
}

size_t arg_parser::get_size(const std::string& name, size_t min, size_t max) const {
  const std::string text = get(name);
  size_t v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size()) {
    throw usage_error("--" + name + ": '" + text + "' is not a non-negative integer");
  }
  if (v < min || v > max) {
    throw usage_error("--" + name + ": " + text + " is outside [" + std::to_string(min) + ", " +
                      std::to_string(max) + "]");
  }
  return v;
}

double arg_parser::get_double(const std::string& name, double min, double max) const {
  const std::string text = get(name);
  size_t used = 0;
  double v = 0;
  try {
    v = std::stod(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != text.size() || text.empty() || !std::isfinite(v)) {
    throw usage_error("--" + name + ": '" + text + "' is not a number");
  }
  if (v < min || v > max) {
    throw usage_error("--" + name + ": " + text + " is outside [" + std::to_string(min) + ", " +
                      std::to_string(max) + "]");
  }
  return v;
}

std::vector<size_t> arg_parser::get_size_list(const std::string& name, size_t min,
                                              size_t max) const {
  std::vector<size_t> out;
  std::stringstream in(get(name));
  std::string item;
  while (std::getline(in, item, ',')) {
    size_t v = 0;
    auto [p, ec] = std::from_chars(item.data(), item.data() + item.size(), v);
    if (ec != std::errc() || p != item.data() + item.size() || v < min || v > max) {
      throw usage_error("--" + name + ": '" + item + "' is not an integer in [" +
                        std::to_string(min) + ", " + std::to_string(max) + "]");
    }
    out.push_back(v);
  }
  if (out.empty()) throw usage_error("--" + name + " needs at least one value");
  return out;
}

std::string arg_parser::get_choice(const std::string& name,
                                   const std::vector<std::string>& choices) const {
  std::string v = get(name);
  for (const auto& c : choices) {
    if (c == v) return v;
  }
  std::string all;
  for (const auto& c : choices) all += (all.empty() ? "" : "|") + c;
  throw usage_error("--" + name + ": '" + v + "' is not one of " + all);
}

}  // namespace shoal::perf
