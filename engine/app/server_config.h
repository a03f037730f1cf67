#pragma once
// Everything shoald is configured with, after the config file and flags are merged and
// validated (options.cc). Defaults live in the member initializers.

#include <string>

#include <boost/asio/ip/tcp.hpp>

#include "engine/runtime/runtime.h"
#include "engine/shard/collections.h"
#include "net/http/http_config.h"
#include "net/rest/rest_context.h"
#include "net/rpc/server_config.h"
#include "replication/static_cluster.h"

namespace shoal::app {

struct listen_address {
  std::string text;  // as given, for messages ("127.0.0.1:6333")
  boost::asio::ip::tcp::endpoint endpoint;
};

/// TLS files and API keys as configured (options.cc turns them into the contexts and key
/// checkers in http, rpc and cluster.security).
struct security_settings {
  std::string tls_cert;
  std::string tls_key;
  std::string tls_ca;
  std::string api_key;
  std::string read_only_api_key;
};

struct server_config {
  std::string data_dir = "./shoal-data";
  listen_address http_addr;
  listen_address rpc_addr;
  std::string log_level = "info";
  std::string log_file;  // empty: stderr
  rt::runtime_config runtime;
  http::http_config http;
  shard::node_options storage;  // data_dir is filled from data_dir
  rest::rest_limits rest;
  rpc::server_config rpc;
  repl::cluster_settings cluster;  // node_id empty: a single node
  security_settings security;
  std::string effective_settings;  // "name=value ..." as applied, for the startup log
};

}  // namespace shoal::app
