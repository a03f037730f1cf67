#pragma once
// Command line and config file for shoald. Flags override the file; the file overrides the
// defaults. The file is INI-style (`key = value`, `[section]`, `#` comments);
// conf/shoald.example.conf lists every key with its default and unit.

#include <string>
#include <variant>
#include <vector>

#include "engine/app/server_config.h"

namespace shoal::app {

/// What to do after parsing: run with a config, or exit with a code after printing `text`
/// (--help/--version go to stdout with code 0; errors to stderr with code 2).
struct parse_outcome {
  std::variant<server_config, int> what;
  std::string text;
};

parse_outcome parse_options(const std::vector<std::string>& args);

/// "64MiB", "512KiB", "1048576" -> bytes. Exposed for tests.
std::optional<size_t> parse_size(std::string_view text);
/// "250ms", "10s", "2m", "1h" -> milliseconds. Exposed for tests.
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text);
/// "127.0.0.1:6333", "[::1]:6333", "localhost:6333" -> endpoint (names are resolved: call only
/// before the runtime starts).
std::optional<listen_address> parse_address(std::string_view text, std::string& error);

}  // namespace shoal::app
