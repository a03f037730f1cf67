#pragma once
// What a route handler sees: the parsed request, its path parameters ({name} segments of the
// route pattern) and decoded query parameters. Lives on the core that accepted the connection,
// for the duration of one handler call.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include "net/http/padded_body.h"

namespace shoal::http {

namespace beast_http = boost::beast::http;
// The body keeps spare capacity after its content so JSON can be parsed in place (padded_body.h).
using beast_request = beast_http::request<padded_string_body>;
using param_list = std::vector<std::pair<std::string, std::string>>;

struct request_context {
  beast_request& req;
  param_list path_params;
  param_list query_params;
  std::chrono::steady_clock::time_point received;

  std::string_view method() const { return req.method_string(); }
  const std::string& body() const { return req.body(); }

  std::optional<std::string_view> path_param(std::string_view name) const {
    return find(path_params, name);
  }
  std::optional<std::string_view> query(std::string_view name) const {
    return find(query_params, name);
  }
  /// Seconds since the request was read, for the `time` field of replies.
  double elapsed_seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - received).count();
  }

 private:
  static std::optional<std::string_view> find(const param_list& l, std::string_view name) {
    for (auto& [k, v] : l) {
      if (k == name) return std::string_view(v);
    }
    return std::nullopt;
  }
};

}  // namespace shoal::http
