#pragma once
// A handler's answer, and the envelopes of REST_API.md §1.1:
//   success  {"result": R, "status": "ok", "time": s}
//   error    {"status": {"error": "message"}, "time": s}
// Errors are values a handler returns, never exceptions; an exception that escapes a handler is
// a bug and becomes a 500.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/beast/http/status.hpp>

#include "engine/common/json_writer.h"

namespace shoal::http {

using status = boost::beast::http::status;

struct response {
  status code = status::ok;
  std::string body;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
};

/// {"result": <raw JSON>, "status": "ok", "time": t}
inline response ok_json(std::string_view result_json, double seconds) {
  response r;
  r.body.reserve(result_json.size() + 48);
  json_writer w(r.body);
  w.begin_object().key("result").raw(result_json).field("status", "ok").field("time", seconds);
  w.end_object();
  return r;
}

/// {"status": {"error": message}, "time": t}
inline response error_json(status code, std::string_view message, double seconds = 0) {
  response r;
  r.code = code;
  json_writer w(r.body);
  w.begin_object().key("status").begin_object().field("error", message).end_object();
  w.field("time", seconds).end_object();
  return r;
}

inline response plain_text(status code, std::string body) {
  response r;
  r.code = code;
  r.body = std::move(body);
  r.content_type = "text/plain; charset=utf-8";
  return r;
}

}  // namespace shoal::http
