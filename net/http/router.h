#pragma once
// Method + path template -> handler. Patterns are literal segments and `{name}` parameters:
// "/collections/{name}/points/{id}". Trailing slashes are ignored (as Qdrant does), parameter
// values and query parameters are percent-decoded. Built once at startup and then only read, so
// every core may share one router.

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/beast/http/verb.hpp>

#include "engine/runtime/asio.h"
#include "net/auth/access.h"
#include "net/http/request.h"
#include "net/http/response.h"

namespace shoal::http {

using verb = boost::beast::http::verb;
using handler = std::function<awaitable<response>(request_context&)>;

struct route_options {
  size_t body_limit = 0;  // bytes; 0 = http_config::default_body_limit
  /// The API key a request needs when keys are configured (net/auth). Unset: GET and HEAD
  /// need the read-only key, every other method the read-write key; searches sent by POST
  /// say `read`, health probes `open`.
  std::optional<auth::access> access;
};

struct route {
  verb method;
  std::string pattern;
  std::string label;  // "GET /collections/{name}": the metrics label
  handler fn;
  route_options options;
  auth::access access = auth::access::write;  // options.access, or the method's default
  size_t index = 0;

  struct segment {
    std::string text;
    bool is_param;
  };
  std::vector<segment> segments;
};

struct route_match {
  enum class outcome { found, not_found, method_not_allowed } result = outcome::not_found;
  const route* matched = nullptr;
  param_list path_params;
};

class router {
 public:
  void add(verb method, std::string_view pattern, handler fn, route_options opts = {});
  route_match match(verb method, std::string_view path) const;
  size_t size() const { return routes_.size(); }
  const route& at(size_t i) const { return routes_[i]; }

 private:
  std::vector<route> routes_;
};

/// "%41b+c" -> "Ab c" when `plus_is_space`; nullopt for a malformed escape.
std::optional<std::string> percent_decode(std::string_view in, bool plus_is_space);
/// "a=1&b=x%20y&flag" -> {{"a","1"},{"b","x y"},{"flag",""}}; malformed escapes are kept raw.
param_list parse_query(std::string_view query);

}  // namespace shoal::http
