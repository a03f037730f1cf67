#pragma once
// The table of shoald's settings (settings.cc): one row per flag and config-file key, with its
// default, its help and how it is applied to a server_config. options.cc reads flags, the file and
// the environment through it.

#include <charconv>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/app/options.h"

namespace shoal::app {

// One row per setting: its name (flag --name, or `name = ` in the file; "a.b" is key b of
// section [a]), its default as text, its help, and how it is applied to the config.
struct setting {
  const char* name;
  const char* default_value;
  const char* help;
  std::function<std::optional<std::string>(const std::string&, server_config&)> apply;
  const char* env = nullptr;  // an environment variable read when neither flag nor file sets it
  bool secret = false;        // never logged
};

/// Every setting, in the order `--help` lists them.
std::vector<setting> settings();

/// A whole number and nothing else, or nullopt.
template <typename T>
std::optional<T> parse_number(std::string_view text) {
  T v{};
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc{} || p != text.data() + text.size()) return std::nullopt;
  return v;
}

}  // namespace shoal::app
