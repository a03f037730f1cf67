#include "net/http/router.h"

#include "engine/common/assert.h"

namespace shoal::http {
namespace {

std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> parts;
  size_t i = 0;
  while (i < path.size()) {
    while (i < path.size() && path[i] == '/') ++i;
    if (i >= path.size()) break;
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    parts.push_back(path.substr(i, j - i));
    i = j;
  }
  return parts;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::optional<std::string> percent_decode(std::string_view in, bool plus_is_space) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size()) return std::nullopt;
      int hi = hex_value(in[i + 1]);
      int lo = hex_value(in[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

param_list parse_query(std::string_view query) {
  param_list params;
  size_t i = 0;
  while (i <= query.size()) {
    size_t amp = query.find('&', i);
    if (amp == std::string_view::npos) amp = query.size();
    auto pair = query.substr(i, amp - i);
    if (!pair.empty()) {
      auto eq = pair.find('=');
      auto raw_key = pair.substr(0, eq);
      auto raw_value = eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1);
      auto key = percent_decode(raw_key, true);
      auto value = percent_decode(raw_value, true);
      params.emplace_back(key ? *key : std::string(raw_key),
                          value ? *value : std::string(raw_value));
    }
    i = amp + 1;
  }
  return params;
}

void router::add(verb method, std::string_view pattern, handler fn, route_options opts) {
  route r;
  r.method = method;
  r.pattern = std::string(pattern);
  r.label = std::string(boost::beast::http::to_string(method)) + " " + r.pattern;
  r.fn = std::move(fn);
  r.options = opts;
  r.access = opts.access.value_or(
      method == verb::get || method == verb::head ? auth::access::read : auth::access::write);
  r.index = routes_.size();
  for (auto part : split_path(pattern)) {
    bool param = part.size() >= 2 && part.front() == '{' && part.back() == '}';
    r.segments.push_back({std::string(param ? part.substr(1, part.size() - 2) : part), param});
  }
  for (auto& existing : routes_) {
    SHOAL_ASSERT(!(existing.method == method && existing.pattern == r.pattern),
                 "route {} registered twice", r.label);
  }
  routes_.push_back(std::move(r));
}

route_match router::match(verb method, std::string_view path) const {
  auto parts = split_path(path);
  route_match m;
  size_t best_literals = 0;
  for (auto& r : routes_) {
    if (r.segments.size() != parts.size()) continue;
    // Literal segments first: most routes fail there, before any parameter is decoded (which
    // allocates).
    bool ok = true;
    for (size_t i = 0; i < parts.size() && ok; ++i) {
      ok = r.segments[i].is_param || r.segments[i].text == parts[i];
    }
    if (!ok) continue;
    param_list params;
    for (size_t i = 0; i < parts.size() && ok; ++i) {
      auto& seg = r.segments[i];
      if (!seg.is_param) continue;
      auto decoded = percent_decode(parts[i], false);
      if (!decoded) {
        ok = false;
      } else {
        params.emplace_back(seg.text, std::move(*decoded));
      }
    }
    if (!ok) continue;
    if (r.method != method) {
      if (m.result == route_match::outcome::not_found) {
        m.result = route_match::outcome::method_not_allowed;
      }
      continue;
    }
    // The most literal segments win: "/points/scroll" beats "/points/{id}".
    size_t literals = r.segments.size() - params.size();
    if (m.matched && literals <= best_literals) continue;
    best_literals = literals;
    m.result = route_match::outcome::found;
    m.matched = &r;
    m.path_params = std::move(params);
  }
  return m;
}

}  // namespace shoal::http
