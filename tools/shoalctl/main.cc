// shoalctl: the admin command line for a running shoald, over its HTTP API.
//
//   shoalctl [--addr HOST:PORT] [--timeout DURATION] COMMAND
//
//   health     liveness and readiness; exit 0 when ready, 1 when not, 3 when unreachable
//   version    what the server reports at GET /
//   metrics    the Prometheus metrics; --filter PREFIX keeps the lines that start with it
//
// Later issues add collections, snapshots, backups and cluster commands here.

#include <chrono>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

struct reply {
  unsigned status = 0;
  std::string body;
};

struct options {
  std::string host = "127.0.0.1";
  std::string port = "6333";
  std::chrono::milliseconds timeout{5000};
  std::string command;
  std::string filter;
};

constexpr int kUnreachable = 3;

std::optional<reply> get(const options& o, const std::string& target, std::string& error) {
  try {
    asio::io_context ioc;
    asio::ip::tcp::resolver resolver(ioc);
    beast::tcp_stream stream(ioc);
    stream.expires_after(o.timeout);
    stream.connect(resolver.resolve(o.host, o.port));
    http::request<http::empty_body> req{http::verb::get, target, 11};
    req.set(http::field::host, o.host);
    req.set(http::field::user_agent, "shoalctl");
    http::write(stream, req);
    beast::flat_buffer buffer;
    http::response<http::string_body> res;
    http::read(stream, buffer, res);
    beast::error_code ec;
    stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ec);
    return reply{res.result_int(), res.body()};
  } catch (const std::exception& e) {
    error = e.what();
    return std::nullopt;
  }
}

int usage(int code) {
  std::fputs(
      "Usage: shoalctl [--addr HOST:PORT] [--timeout DURATION] COMMAND\n\n"
      "Commands:\n"
      "  health              liveness and readiness (exit 0 ready, 1 not ready, 3 unreachable)\n"
      "  version             the server's version and compatible Qdrant API version\n"
      "  metrics [--filter PREFIX]   Prometheus metrics, optionally only lines with PREFIX\n\n"
      "Options:\n"
      "  --addr HOST:PORT    shoald's HTTP address (default 127.0.0.1:6333)\n"
      "  --timeout DURATION  per request, e.g. 500ms or 5s (default 5s)\n",
      code == 0 ? stdout : stderr);
  return code;
}

std::optional<std::chrono::milliseconds> parse_timeout(const std::string& t) {
  try {
    size_t pos = 0;
    long v = std::stol(t, &pos);
    auto unit = t.substr(pos);
    if (v <= 0) return std::nullopt;
    if (unit == "ms") return std::chrono::milliseconds(v);
    if (unit == "s") return std::chrono::milliseconds(v * 1000);
  } catch (...) {
  }
  return std::nullopt;
}

}  // namespace

int main(int argc, char** argv) {
  options o;
  std::vector<std::string> args(argv + 1, argv + argc);
  for (size_t i = 0; i < args.size(); ++i) {
    auto& a = args[i];
    auto value = [&]() -> std::optional<std::string> {
      if (i + 1 >= args.size()) return std::nullopt;
      return args[++i];
    };
    if (a == "-h" || a == "--help") return usage(0);
    if (a == "--addr") {
      auto v = value();
      auto colon = v ? v->rfind(':') : std::string::npos;
      if (!v || colon == std::string::npos || colon == 0) {
        std::fprintf(stderr, "shoalctl: --addr expects HOST:PORT\n");
        return 2;
      }
      o.host = v->substr(0, colon);
      o.port = v->substr(colon + 1);
    } else if (a == "--timeout") {
      auto v = value();
      auto t = v ? parse_timeout(*v) : std::nullopt;
      if (!t) {
        std::fprintf(stderr, "shoalctl: --timeout expects a duration such as 500ms or 5s\n");
        return 2;
      }
      o.timeout = *t;
    } else if (a == "--filter") {
      auto v = value();
      if (!v) {
        std::fprintf(stderr, "shoalctl: --filter expects a prefix\n");
        return 2;
      }
      o.filter = *v;
    } else if (o.command.empty() && !a.starts_with("-")) {
      o.command = a;
    } else {
      std::fprintf(stderr, "shoalctl: unexpected argument '%s'\n", a.c_str());
      return usage(2);
    }
  }
  if (o.command.empty()) return usage(2);

  std::string error;
  auto addr = o.host + ":" + o.port;
  if (o.command == "health") {
    auto live = get(o, "/livez", error);
    if (!live) {
      std::fprintf(stderr, "shoalctl: cannot reach shoald at %s: %s\n", addr.c_str(), error.c_str());
      return kUnreachable;
    }
    auto ready = get(o, "/readyz", error);
    bool is_ready = ready && ready->status == 200;
    std::printf("%s: live (%u), %s: %s\n", addr.c_str(), live->status,
                is_ready ? "ready" : "not ready", ready ? ready->body.c_str() : error.c_str());
    return is_ready ? 0 : 1;
  }
  if (o.command == "version" || o.command == "metrics") {
    auto r = get(o, o.command == "version" ? "/" : "/metrics", error);
    if (!r) {
      std::fprintf(stderr, "shoalctl: cannot reach shoald at %s: %s\n", addr.c_str(), error.c_str());
      return kUnreachable;
    }
    if (r->status != 200) {
      std::fprintf(stderr, "shoalctl: %s answered %u: %s\n", addr.c_str(), r->status,
                   r->body.c_str());
      return 1;
    }
    if (o.filter.empty()) {
      std::fputs(r->body.c_str(), stdout);
      if (!r->body.empty() && r->body.back() != '\n') std::fputc('\n', stdout);
    } else {
      size_t start = 0;
      while (start < r->body.size()) {
        auto end = r->body.find('\n', start);
        if (end == std::string::npos) end = r->body.size();
        auto line = r->body.substr(start, end - start);
        if (line.starts_with(o.filter)) std::printf("%s\n", line.c_str());
        start = end + 1;
      }
    }
    return 0;
  }
  std::fprintf(stderr, "shoalctl: unknown command '%s'\n", o.command.c_str());
  return usage(2);
}
