#pragma once
// Everything shoald is configured with, after the config file and flags are merged and
// validated (options.cc). Defaults live in the member initializers.

#include <string>

#include <boost/asio/ip/tcp.hpp>

#include "engine/runtime/runtime.h"
#include "net/http/http_config.h"

namespace shoal::app {

struct listen_address {
  std::string text;  // as given, for messages ("127.0.0.1:6333")
  boost::asio::ip::tcp::endpoint endpoint;
};

struct server_config {
  std::string data_dir = "./shoal-data";
  listen_address http_addr;
  listen_address rpc_addr;
  std::string log_level = "info";
  std::string log_file;  // empty: stderr
  rt::runtime_config runtime;
  http::http_config http;
  std::string effective_settings;  // "name=value ..." as applied, for the startup log
};

}  // namespace shoal::app
