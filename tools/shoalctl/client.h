#pragma once
// A blocking HTTP client for shoalctl (it is a command-line tool, not a reactor).

#include <chrono>
#include <optional>
#include <string>

namespace shoal::ctl {

struct target {
  std::string host = "127.0.0.1";
  std::string port = "6333";
  std::chrono::milliseconds timeout{5000};
  bool tls = false;     // https://
  std::string ca_file;  // TLS: the CA the server's certificate must chain to (empty: system's)
  std::string api_key;  // sent as the `api-key` header when set
  std::string address() const { return host + ":" + port; }
};

struct reply {
  unsigned status = 0;
  std::string body;
};

/// One request; nullopt (with `error` set) when the server cannot be reached.
std::optional<reply> call(const target& t, const std::string& method, const std::string& path,
                          const std::string& body, std::string& error,
                          const std::string& content_type = "application/json");

}  // namespace shoal::ctl
