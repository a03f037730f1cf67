#pragma once
// Command-line options for shoal-perf subcommands: `--name value` or `--name=value`, flags
// without a value, `--help`. Anything wrong (unknown option, missing value, missing required
// option, a value that does not parse or is out of range) throws usage_error, which main()
// reports with the subcommand's usage and exit code 2.

#include <cstddef>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace shoal::perf {

struct usage_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class arg_parser {
 public:
  arg_parser(std::string command, std::string summary)
      : command_(std::move(command)), summary_(std::move(summary)) {}

  /// An option with a value; required unless it has a default.
  arg_parser& option(const std::string& name, const std::string& value_name,
                     const std::string& help, std::optional<std::string> default_value = {});
  /// A flag without a value.
  arg_parser& flag(const std::string& name, const std::string& help);

  /// Parses args (not including the program and subcommand names). Returns false when --help
  /// was given (usage already printed to stdout).
  bool parse(const std::vector<std::string>& args);
  std::string usage() const;

  bool has(const std::string& name) const;
  std::string get(const std::string& name) const;
  size_t get_size(const std::string& name, size_t min, size_t max) const;
  double get_double(const std::string& name, double min, double max) const;
  /// "10,20,40": each within [min, max]; at least one.
  std::vector<size_t> get_size_list(const std::string& name, size_t min, size_t max) const;
  /// The value must be one of `choices`.
  std::string get_choice(const std::string& name, const std::vector<std::string>& choices) const;

 private:
  struct spec {
    std::string value_name;  // empty: a flag
    std::string help;
    std::optional<std::string> default_value;
  };
  std::string command_;
  std::string summary_;
  std::vector<std::string> order_;
  std::map<std::string, spec> specs_;
  std::map<std::string, std::string> values_;
};

}  // namespace shoal::perf
