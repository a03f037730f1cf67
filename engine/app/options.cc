#include "engine/app/options.h"

#include <charconv>
#include <fstream>
#include <functional>
#include <sstream>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/program_options.hpp>
#include <fmt/format.h>

#include "engine/app/settings.h"
#include "engine/common/logger.h"
#include "engine/common/version.h"
#include "net/auth/api_keys.h"
#include "net/tls/context.h"

namespace shoal::app {
namespace po = boost::program_options;

namespace {

std::string usage(const po::options_description& desc) {
  std::ostringstream out;
  out << "shoald " << version::kShoal << " — the Shoal vector search server\n\n"
      << "Usage: shoald [--config FILE] [options]\n\n"
      << "With no options: a single node, data in ./shoal-data, HTTP on 127.0.0.1:6333, "
         "binary RPC on 127.0.0.1:6335, all cores.\n"
      << "Flags override the config file; the file overrides the defaults below.\n"
      << "Sizes take KiB/MiB/GiB suffixes, durations ms/s/m/h.\n\n"
      << desc;
  return out.str();
}

}  // namespace

std::optional<size_t> parse_size(std::string_view text) {
  size_t digits = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) ++digits;
  if (digits == 0) return std::nullopt;
  auto n = parse_number<size_t>(text.substr(0, digits));
  if (!n) return std::nullopt;
  auto unit = text.substr(digits);
  size_t mult = 1;
  if (unit.empty() || unit == "B")
    mult = 1;
  else if (unit == "KiB")
    mult = size_t{1} << 10;
  else if (unit == "MiB")
    mult = size_t{1} << 20;
  else if (unit == "GiB")
    mult = size_t{1} << 30;
  else
    return std::nullopt;
  if (*n > SIZE_MAX / mult) return std::nullopt;
  return *n * mult;
}

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text) {
  size_t digits = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) ++digits;
  if (digits == 0) return std::nullopt;
  auto n = parse_number<int64_t>(text.substr(0, digits));
  if (!n) return std::nullopt;
  auto unit = text.substr(digits);
  int64_t mult;
  if (unit == "ms")
    mult = 1;
  else if (unit == "s")
    mult = 1000;
  else if (unit == "m")
    mult = 60'000;
  else if (unit == "h")
    mult = 3'600'000;
  else
    return std::nullopt;
  if (*n > INT64_MAX / mult) return std::nullopt;
  return std::chrono::milliseconds(*n * mult);
}

std::optional<listen_address> parse_address(std::string_view text, std::string& error) {
  std::string_view host, port_text;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      error = "expected [IPV6]:PORT";
      return std::nullopt;
    }
    host = text.substr(1, close - 1);
    port_text = text.substr(close + 2);
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string_view::npos || colon == 0) {
      error = "expected HOST:PORT, e.g. 127.0.0.1:6333";
      return std::nullopt;
    }
    host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
  }
  auto port = parse_number<uint16_t>(port_text);
  if (!port) {
    error = fmt::format("port '{}' is not a number from 0 to 65535", port_text);
    return std::nullopt;
  }
  boost::system::error_code ec;
  auto ip = boost::asio::ip::make_address(std::string(host), ec);
  if (ec) {
    // A host name: resolved once here, before any reactor runs (DNS blocks).
    boost::asio::io_context ioc;
    boost::asio::ip::tcp::resolver resolver(ioc);
    auto results = resolver.resolve(std::string(host), std::string(port_text), ec);
    if (ec || results.empty()) {
      error = fmt::format("cannot resolve host '{}': {}", host, ec ? ec.message() : "no address");
      return std::nullopt;
    }
    return listen_address{std::string(text), results.begin()->endpoint()};
  }
  return listen_address{std::string(text), {ip, *port}};
}

namespace {

// TLS contexts and key checkers from the files and keys; an error names the setting. Reading
// the files blocks, which is fine here: no reactor runs yet.
std::optional<std::string> apply_security(server_config& cfg) {
  const auto& s = cfg.security;
  if (!s.tls_cert.empty() || !s.tls_key.empty()) {
    auto server = tls::make_server_context({s.tls_cert, s.tls_key});
    if (!server) return "tls-cert/tls-key: " + server.error();
    cfg.http.tls = *server;
    cfg.rpc.tls = *server;
    // Hosts of one cluster serve TLS alike: connections to peers use it too.
    auto client = tls::make_client_context(s.tls_ca);
    if (!client) return "tls-ca: " + client.error();
    cfg.cluster.security.tls = *client;
  } else if (!s.tls_ca.empty()) {
    return "tls-ca is the trust store for TLS between hosts: set tls-cert and tls-key too";
  }
  if (!s.api_key.empty() || !s.read_only_api_key.empty()) {
    if (s.api_key == s.read_only_api_key) return "api-key and read-only-api-key must differ";
    if (s.api_key.empty() && !cfg.cluster.node_id.empty()) {
      return "read-only-api-key without api-key: hosts of a cluster authenticate to each other "
             "with api-key";
    }
    auto keys = std::make_shared<const auth::api_keys>(s.api_key, s.read_only_api_key);
    cfg.http.keys = keys;
    cfg.rpc.keys = keys;
    cfg.cluster.security.api_key = s.api_key;
  }
  return std::nullopt;
}

}  // namespace

parse_outcome parse_options(const std::vector<std::string>& args) {
  auto table = settings();
  po::options_description general("General");
  general.add_options()("help,h", "print this help and exit")("version",
                                                              "print the version and exit")(
      "config", po::value<std::string>()->value_name("FILE"), "read settings from FILE");
  po::options_description server(
      "Settings (flag --NAME or `NAME = value` in the config file; "
      "a.b is key b in section [a])");
  for (auto& s : table) {
    server.add_options()(s.name, po::value<std::string>()->default_value(s.default_value), s.help);
  }
  po::options_description all;
  all.add(general).add(server);

  po::variables_map vm;
  try {
    std::vector<const char*> argv{"shoald"};
    for (auto& a : args) argv.push_back(a.c_str());
    po::store(
        po::command_line_parser(static_cast<int>(argv.size()), argv.data()).options(all).run(), vm);
    if (vm.count("help")) return {0, usage(all)};
    if (vm.count("version")) {
      return {0, fmt::format("shoald {} (Qdrant REST API {} compatible, commit {})\n",
                             version::kShoal, version::kQdrantApi, version::kCommit)};
    }
    if (vm.count("config")) {
      auto path = vm["config"].as<std::string>();
      std::ifstream in(path);
      if (!in) return {2, fmt::format("shoald: cannot read config file '{}'\n", path)};
      try {
        po::store(po::parse_config_file(in, server, /*allow_unregistered=*/false), vm);
      } catch (const po::error& e) {
        return {2, fmt::format("shoald: config file '{}': {}\n", path, e.what())};
      }
    }
    po::notify(vm);
  } catch (const po::error& e) {
    return {2, fmt::format("shoald: {}\nTry 'shoald --help'.\n", e.what())};
  }

  server_config cfg;
  std::string effective;
  for (auto& s : table) {
    auto value = vm[s.name].as<std::string>();
    const char* from_env = s.env && vm[s.name].defaulted() ? std::getenv(s.env) : nullptr;
    if (from_env) value = from_env;
    if (auto err = s.apply(value, cfg)) {
      return {2, fmt::format("shoald: invalid value {} for {}: {}\n",
                             s.secret ? "(secret)" : "'" + value + "'",
                             from_env ? std::string(s.env) : std::string(s.name), *err)};
    }
    effective += fmt::format("{}{}={}", effective.empty() ? "" : " ", s.name,
                             s.secret && !value.empty() ? "(set)" : value);
  }
  cfg.effective_settings = std::move(effective);
  cfg.storage.data_dir = cfg.data_dir;
  if (cfg.rest.points_body_limit > cfg.http.max_body_limit) {
    return {2, fmt::format(
                   "shoald: rest.upsert-body-limit ({}) must not exceed http.max-body-limit ({})\n",
                   cfg.rest.points_body_limit, cfg.http.max_body_limit)};
  }
  if (cfg.rpc.max_memory_per_core < cfg.rpc.max_frame_size) {
    return {2,
            fmt::format(
                "shoald: rpc.max-memory-per-core ({}) must be at least rpc.max-frame-size ({})\n",
                cfg.rpc.max_memory_per_core, cfg.rpc.max_frame_size)};
  }
  if (!cfg.cluster.node_id.empty() || !cfg.cluster.peers.empty() ||
      !cfg.cluster.etcd_endpoints.empty()) {
    if (auto err = repl::validate(cfg.cluster)) {
      return {2, fmt::format("shoald: cluster settings: {}\n", *err)};
    }
  }
  if (auto err = apply_security(cfg)) return {2, fmt::format("shoald: {}\n", *err)};
  if (cfg.http.default_body_limit > cfg.http.max_body_limit) {
    return {2,
            fmt::format("shoald: http.body-limit ({}) must not exceed http.max-body-limit ({})\n",
                        cfg.http.default_body_limit, cfg.http.max_body_limit)};
  }
  return {std::move(cfg), {}};
}

}  // namespace shoal::app
