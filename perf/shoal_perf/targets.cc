#include "perf/shoal_perf/targets.h"

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <deque>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <fmt/format.h>
#include <simdjson.h>

#include "engine/common/json_writer.h"
#include "engine/runtime/semaphore.h"
#include "net/rpc/client.h"
#include "net/rpc/messages.h"
#include "net/rpc/stream.h"
#include "perf/shoal_perf/args.h"

namespace shoal::perf {
namespace {

namespace http = boost::beast::http;
using tcp = asio::ip::tcp;

std::string distance_name(const std::string& metric) {
  if (metric == "ip") return "Dot";
  if (metric == "cosine") return "Cosine";
  return "Euclid";
}

rpc::durability_level durability_of(const std::string& d) {
  if (d == "memory") return rpc::durability_level::memory;
  if (d == "local") return rpc::durability_level::local;
  if (d == "replicated") return rpc::durability_level::replicated;
  return rpc::durability_level::collection_default;
}

// ---- RPC ----

class rpc_target final : public target {
 public:
  rpc_target(const target_address& a, asio::any_io_executor ex, size_t connections,
             size_t in_flight)
      : ex_(std::move(ex)), wanted_(connections), in_flight_(std::max<size_t>(in_flight, 1)) {
    o_.host = a.host;
    o_.port = a.port;
    o_.max_in_flight = in_flight_;
    o_.request_timeout = std::chrono::seconds(120);
    o_.security.api_key = a.api_key;
    if (a.tls) {
      auto ctx = tls::make_client_context(a.ca_file);
      if (ctx) {
        o_.security.tls = *ctx;
      } else {
        setup_error_ = ctx.error();
      }
    }
  }

  awaitable<std::string> open() override {
    if (!setup_error_.empty()) co_return setup_error_;
    // The kernel spreads connections over the server's cores (SO_REUSEPORT) by a hash: open
    // them one by one and keep those that land on a core with the fewest so far, so every core
    // gets its share of decoding and merging.
    auto first = std::make_unique<rpc::client>(ex_, o_);
    auto p = co_await first->call(rpc::method::ping, rpc::encode_ping_request(),
                                  std::chrono::seconds(10));
    if (!p) co_return p.error().describe();
    auto info = rpc::decode_ping_response(p->span());
    if (!info || info->cores == 0) co_return std::string("the ping response does not decode");
    size_t cores = info->cores;
    size_t n = wanted_ ? wanted_ : std::min(in_flight_, cores);
    std::vector<size_t> per_core(cores, 0);
    per_core[info->core % cores]++;
    clients_.push_back(std::move(first));
    for (size_t attempt = 0; clients_.size() < n && attempt < 16 * n; ++attempt) {
      auto c = std::make_unique<rpc::client>(ex_, o_);
      auto r = co_await c->ping();
      if (!r) co_return r.error().describe();
      size_t core = r->core % cores;
      size_t fewest = *std::min_element(per_core.begin(), per_core.end());
      if (per_core[core] > fewest && attempt + 1 < 16 * n) {
        c->close();  // try again: another source port hashes elsewhere
        continue;
      }
      per_core[core]++;
      clients_.push_back(std::move(c));
    }
    co_return std::string();
  }

  size_t connections() const override { return clients_.size(); }

  awaitable<send_result> ensure_collection(const collection_spec& spec) override {
    auto json = create_config_json(spec);
    // A short deadline: a server that is not there should fail the run quickly.
    auto r = co_await clients_[0]->call(
        rpc::method::create_collection,
        rpc::encode(rpc::create_collection_request{spec.name, json, /*if_missing=*/true}),
        std::chrono::seconds(10));
    co_return r ? ok() : failed(r.error());
  }

  prepared prepare_upsert(const std::string& collection, uint64_t first_id, size_t n,
                          const float* vectors, size_t dim,
                          const std::string& durability) override {
    std::vector<data::point_id> ids(n);
    for (size_t i = 0; i < n; ++i) ids[i] = data::point_id::number(first_id + i);
    prepared p;
    p.payload = rpc::encode(rpc::upsert_request{.collection = collection,
                                                .durability = durability_of(durability),
                                                .dim = static_cast<uint32_t>(dim),
                                                .ids = ids,
                                                .vectors = {vectors, n * dim}});
    return p;
  }

  awaitable<send_result> upsert(prepared p) override {
    auto r = co_await next().call(rpc::method::upsert, std::move(p.payload));
    co_return r ? ok() : failed(r.error());
  }

  prepared prepare_search(const std::string& collection, const float* query, size_t dim, size_t k,
                          size_t ef) override {
    prepared p;
    p.payload = rpc::encode(rpc::search_request{.collection = collection,
                                                .k = static_cast<uint32_t>(k),
                                                .ef = static_cast<uint32_t>(ef),
                                                .dim = static_cast<uint32_t>(dim),
                                                .queries = {query, dim}});
    return p;
  }

  awaitable<send_result> search(const prepared& p) override {
    auto r = co_await next().call(rpc::method::search, p.payload);
    if (!r) co_return failed(r.error());
    auto results = rpc::decode_search_results(r->span());
    if (!results || results->queries() != 1) {
      co_return send_result{false, false, "the search response does not decode", {}};
    }
    send_result out = ok();
    out.ids.reserve(results->of(0).size());
    for (auto& h : results->of(0)) {
      out.ids.push_back(h.id.is_uuid() ? -1 : static_cast<int64_t>(h.id.number_value()));
    }
    co_return out;
  }

  void close() override {
    for (auto& c : clients_) c->close();
  }

 private:
  static send_result ok() { return {true, false, {}, {}}; }
  static send_result failed(const rpc::error& e) {
    return {false, rpc::retryable(e.code), e.describe(), {}};
  }
  rpc::client& next() {
    auto& c = *clients_[next_ % clients_.size()];
    ++next_;
    return c;
  }

  asio::any_io_executor ex_;
  rpc::client_options o_;
  std::string setup_error_;
  size_t wanted_;
  size_t in_flight_;
  std::vector<std::unique_ptr<rpc::client>> clients_;
  size_t next_ = 0;
};

// ---- HTTP ----

/// One keep-alive HTTP/1.1 connection with one request in flight.
class http_connection {
 public:
  http_connection(asio::any_io_executor ex, std::string host, uint16_t port, tls::context_ptr tls)
      : ex_(std::move(ex)), host_(std::move(host)), port_(port), tls_(std::move(tls)) {}

  struct reply {
    bool transport_ok = false;
    unsigned status = 0;
    std::string body;
    std::string error;
  };

  awaitable<reply> request(const std::string& raw) {
    reply out;
    for (int attempt = 0; attempt < 2; ++attempt) {
      if (!stream_ || !stream_->lower().is_open()) {
        boost::system::error_code ec;
        auto addr = asio::ip::make_address(host_, ec);
        tcp::endpoint ep;
        if (!ec) {
          ep = tcp::endpoint(addr, port_);
        } else {
          tcp::resolver resolver(ex_);
          auto [rec, results] =
              co_await resolver.async_resolve(host_, std::to_string(port_), use_nothrow_awaitable);
          if (rec || results.empty()) {
            out.error = "cannot resolve " + host_;
            co_return out;
          }
          ep = results.begin()->endpoint();
        }
        tcp::socket socket(ex_);
        auto [cec] = co_await socket.async_connect(ep, use_nothrow_awaitable);
        if (cec) {
          out.error = "cannot connect: " + cec.message();
          co_return out;
        }
        socket.set_option(tcp::no_delay(true), ec);
        // A new TLS session each time: one that ended cannot be taken up again.
        stream_ = std::make_unique<rpc::transport>(std::move(socket), tls_);
        if (auto hec = co_await stream_->handshake_as_client(host_)) {
          stream_.reset();
          out.error = "TLS handshake failed: " + hec.message();
          co_return out;
        }
        buffer_.clear();
        fresh_ = true;
      }
      bool was_fresh = fresh_;
      fresh_ = false;
      auto [wec, wn] =
          co_await asio::async_write(*stream_, asio::buffer(raw), use_nothrow_awaitable);
      http::response_parser<http::string_body> parser;
      parser.body_limit(1u << 30);
      boost::system::error_code rec = wec;
      if (!wec) {
        auto [e, n] = co_await http::async_read(*stream_, buffer_, parser, use_nothrow_awaitable);
        rec = e;
      }
      if (rec) {
        close();
        // A kept-alive connection the server closed meanwhile: try once on a new one.
        if (!was_fresh) continue;
        out.error = "connection lost: " + rec.message();
        co_return out;
      }
      auto res = parser.release();
      out.transport_ok = true;
      out.status = res.result_int();
      out.body = std::move(res.body());
      if (!res.keep_alive()) close();
      co_return out;
    }
    co_return out;
  }

  void close() {
    boost::system::error_code ignored;
    if (stream_) stream_->lower().close(ignored);
  }

 private:
  asio::any_io_executor ex_;
  std::unique_ptr<rpc::transport> stream_;  // plain or TLS; made per connection
  boost::beast::flat_buffer buffer_;
  std::string host_;
  uint16_t port_;
  tls::context_ptr tls_;
  bool fresh_ = false;
};

class http_target final : public target {
 public:
  http_target(const target_address& a, asio::any_io_executor ex, size_t connections)
      : host_(a.host), port_(a.port), free_(std::max<size_t>(connections, 1)) {
    if (!a.api_key.empty()) auth_header_ = "api-key: " + a.api_key + "\r\n";
    tls::context_ptr tls;
    if (a.tls) {
      auto ctx = tls::make_client_context(a.ca_file);
      if (ctx) {
        tls = *ctx;
      } else {
        setup_error_ = ctx.error();
      }
    }
    for (size_t i = 0; i < std::max<size_t>(connections, 1); ++i) {
      conns_.push_back(std::make_unique<http_connection>(ex, a.host, a.port, tls));
      idle_.push_back(conns_.back().get());
    }
  }

  awaitable<std::string> open() override { co_return setup_error_; }  // connects lazily
  size_t connections() const override { return conns_.size(); }

  awaitable<send_result> ensure_collection(const collection_spec& spec) override {
    auto r = co_await send(render("PUT", "/collections/" + spec.name, create_config_json(spec)));
    if (r.transport_ok && (r.status == 200 || r.status == 409)) co_return ok();
    co_return from(r);
  }

  prepared prepare_upsert(const std::string& collection, uint64_t first_id, size_t n,
                          const float* vectors, size_t dim,
                          const std::string& durability) override {
    std::string body;
    body.reserve(64 + n * (dim * 12 + 16));
    json_writer w(body);
    w.begin_object().key("batch").begin_object().key("ids").begin_array();
    for (size_t i = 0; i < n; ++i) w.value(first_id + i);
    w.end_array().key("vectors").begin_array();
    for (size_t i = 0; i < n; ++i) {
      w.begin_array();
      for (size_t j = 0; j < dim; ++j) w.value(vectors[i * dim + j]);
      w.end_array();
    }
    w.end_array().end_object().end_object();
    std::string target = "/collections/" + collection + "/points?wait=true";
    if (!durability.empty()) target += "&durability=" + durability;
    prepared p;
    p.http = render("PUT", target, body);
    return p;
  }

  awaitable<send_result> upsert(prepared p) override {
    auto r = co_await send(p.http);
    if (r.transport_ok && r.status == 200) co_return ok();
    co_return from(r);
  }

  prepared prepare_search(const std::string& collection, const float* query, size_t dim, size_t k,
                          size_t ef) override {
    std::string body;
    json_writer w(body);
    w.begin_object().key("vector").begin_array();
    for (size_t j = 0; j < dim; ++j) w.value(query[j]);
    w.end_array().field("limit", k);
    if (ef) w.key("params").begin_object().field("hnsw_ef", ef).end_object();
    w.field("with_payload", false).end_object();
    prepared p;
    p.http = render("POST", "/collections/" + collection + "/points/search", body);
    return p;
  }

  awaitable<send_result> search(const prepared& p) override {
    auto r = co_await send(p.http);
    if (!r.transport_ok || r.status != 200) co_return from(r);
    send_result out = ok();
    simdjson::dom::element root;
    if (parser_.parse(r.body).get(root) != simdjson::SUCCESS) {
      co_return send_result{false, false, "the search response is not JSON", {}};
    }
    simdjson::dom::array result;
    if (root["result"].get_array().get(result) != simdjson::SUCCESS) {
      co_return send_result{false, false, "the search response has no result array", {}};
    }
    for (auto hit : result) {
      uint64_t id = 0;
      if (hit["id"].get_uint64().get(id) != simdjson::SUCCESS) {
        out.ids.push_back(-1);
      } else {
        out.ids.push_back(static_cast<int64_t>(id));
      }
    }
    co_return out;
  }

  void close() override {
    for (auto& c : conns_) c->close();
  }

 private:
  std::string render(const std::string& method, const std::string& target,
                     const std::string& body) {
    return fmt::format(
        "{} {} HTTP/1.1\r\nHost: {}:{}\r\n{}Content-Type: application/json\r\n"
        "Content-Length: {}\r\n\r\n{}",
        method, target, host_, port_, auth_header_, body.size(), body);
  }

  awaitable<http_connection::reply> send(const std::string& raw) {
    auto unit = co_await free_.acquire(1);
    if (!unit) co_return http_connection::reply{false, 0, {}, "no connection"};
    auto* c = idle_.back();
    idle_.pop_back();
    auto r = co_await c->request(raw);
    idle_.push_back(c);
    co_return r;
  }

  static send_result ok() { return {true, false, {}, {}}; }
  static send_result from(const http_connection::reply& r) {
    if (!r.transport_ok) return {false, true, r.error, {}};
    bool retry = r.status == 503 || r.status == 408 || r.status == 429;
    return {false, retry, fmt::format("HTTP {}: {}", r.status, r.body.substr(0, 300)), {}};
  }

  std::string host_;
  uint16_t port_;
  std::string auth_header_;  // "api-key: KEY\r\n" or empty
  std::string setup_error_;
  rt::semaphore free_;
  std::vector<std::unique_ptr<http_connection>> conns_;
  std::vector<http_connection*> idle_;
  simdjson::dom::parser parser_;
};

}  // namespace

void add_target_options(arg_parser& p, const std::string& schemes) {
  p.option("target", schemes, "the server (https:// and rpcs:// over TLS)")
      .option("api-key", "KEY", "API key of the server (default: $SHOAL_API_KEY)", "")
      .option("tls-ca", "FILE",
              "TLS: the CA the server's certificate must chain to (default: the system's)", "");
}

target_address target_from(const arg_parser& p) {
  std::string error;
  auto t = parse_target(p.get("target"), error);
  if (!t) throw usage_error("--target: " + error);
  t->api_key = p.get("api-key");
  if (const char* env = std::getenv("SHOAL_API_KEY"); t->api_key.empty() && env) t->api_key = env;
  t->ca_file = p.get("tls-ca");
  return *t;
}

std::optional<target_address> parse_target(const std::string& text, std::string& error) {
  target_address a;
  a.text = text;
  std::string rest;
  // scheme -> (rpc, tls)
  static const std::pair<std::string_view, std::pair<bool, bool>> kSchemes[] = {
      {"rpc://", {true, false}},
      {"rpcs://", {true, true}},
      {"http://", {false, false}},
      {"https://", {false, true}}};
  bool known = false;
  for (auto& [scheme, kind] : kSchemes) {
    if (text.starts_with(scheme)) {
      std::tie(a.rpc, a.tls) = kind;
      rest = text.substr(scheme.size());
      known = true;
    }
  }
  if (!known) {
    error = "expected rpc://, rpcs://, http:// or https:// HOST:PORT, got '" + text + "'";
    return std::nullopt;
  }
  while (!rest.empty() && rest.back() == '/') rest.pop_back();
  auto colon = rest.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == rest.size()) {
    error = "expected HOST:PORT in '" + text + "'";
    return std::nullopt;
  }
  a.host = rest.substr(0, colon);
  if (a.host.size() > 2 && a.host.front() == '[' && a.host.back() == ']') {
    a.host = a.host.substr(1, a.host.size() - 2);
  }
  auto port_text = rest.substr(colon + 1);
  unsigned port = 0;
  auto [p, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || p != port_text.data() + port_text.size() || port == 0 || port > 65535) {
    error = "bad port '" + port_text + "' in '" + text + "'";
    return std::nullopt;
  }
  a.port = static_cast<uint16_t>(port);
  return a;
}

std::string create_config_json(const collection_spec& spec) {
  std::string out;
  json_writer w(out);
  w.begin_object().key("vectors").begin_object();
  w.field("size", spec.dim)
      .field("distance", distance_name(spec.metric))
      .field("index", spec.index);
  w.key("hnsw_config").begin_object().field("m", spec.m).field("ef_construct", spec.ef_construct);
  w.end_object().end_object();
  if (spec.shards) w.field("shard_number", spec.shards);
  w.end_object();
  return out;
}

std::unique_ptr<target> make_target(const target_address& a, asio::any_io_executor ex,
                                    size_t connections, size_t in_flight) {
  if (a.rpc) return std::make_unique<rpc_target>(a, std::move(ex), connections, in_flight);
  return std::make_unique<http_target>(a, std::move(ex), connections ? connections : in_flight);
}

}  // namespace shoal::perf
