#include "engine/app/settings.h"

#include <fmt/format.h>

#include "engine/common/logger.h"

namespace shoal::app {
namespace {

using apply_fn = std::function<std::optional<std::string>(const std::string&, server_config&)>;

apply_fn size_setting(size_t http::http_config::*field, size_t min) {
  return [field, min](const std::string& v, server_config& c) -> std::optional<std::string> {
    auto n = parse_size(v);
    if (!n) return "expected a size such as 65536, 512KiB or 64MiB";
    if (*n < min) return fmt::format("must be at least {}", min);
    c.http.*field = *n;
    return std::nullopt;
  };
}

apply_fn duration_setting(std::chrono::milliseconds http::http_config::*field) {
  return [field](const std::string& v, server_config& c) -> std::optional<std::string> {
    auto d = parse_duration(v);
    if (!d || d->count() <= 0) return "expected a positive duration such as 250ms, 10s or 2m";
    c.http.*field = *d;
    return std::nullopt;
  };
}

template <typename T, typename Owner>
apply_fn count_setting(T Owner::*field, Owner server_config::*owner, T min, T max) {
  return [=](const std::string& v, server_config& c) -> std::optional<std::string> {
    auto n = parse_number<T>(v);
    if (!n || *n < min || *n > max)
      return fmt::format("expected a whole number from {} to {}", min, max);
    (c.*owner).*field = *n;
    return std::nullopt;
  };
}

// Keys travel in HTTP headers: printable ASCII without spaces, long enough to resist guessing.
std::optional<std::string> check_api_key(const std::string& v) {
  if (v.empty()) return std::nullopt;
  if (v.size() < 16 || v.size() > 512) return "expected 16 to 512 characters";
  for (char ch : v) {
    if (ch <= ' ' || ch > '~') return "expected printable ASCII without spaces";
  }
  return std::nullopt;
}

/// A limit of data::input_limits (rest.*), applied to REST and the RPC client API alike.
apply_fn input_limit_setting(size_t data::input_limits::*field, size_t min, size_t max) {
  return [=](const std::string& v, server_config& c) -> std::optional<std::string> {
    auto n = parse_number<size_t>(v);
    if (!n || *n < min || *n > max)
      return fmt::format("expected a whole number from {} to {}", min, max);
    c.rest.*field = *n;
    return std::nullopt;
  };
}

}  // namespace

std::vector<setting> settings() {
  return {
      {"data-dir", "./shoal-data", "directory for this node's data (created if missing)",
       [](const std::string& v, server_config& c) -> std::optional<std::string> {
         if (v.empty()) return "must not be empty";
         c.data_dir = v;
         return std::nullopt;
       }},
      {"http-addr", "127.0.0.1:6333", "HTTP/JSON API listen address HOST:PORT",
       [](const std::string& v, server_config& c) -> std::optional<std::string> {
         std::string err;
         auto a = parse_address(v, err);
         if (!a) return err;
         c.http_addr = *a;
         return std::nullopt;
       }},
      {"rpc-addr", "127.0.0.1:6335", "binary RPC listen address HOST:PORT",
       [](const std::string& v, server_config& c) -> std::optional<std::string> {
         std::string err;
         auto a = parse_address(v, err);
         if (!a) return err;
         c.rpc_addr = *a;
         return std::nullopt;
       }},
      {"cores", "0", "reactor cores (threads); 0 = one per CPU this process may use",
       [](const std::string& v, server_config& c) -> std::optional<std::string> {
         auto n = parse_number<unsigned>(v);
         unsigned cpus = rt::runtime::available_cpus();
         if (!n || *n > cpus) {
           return fmt::format(
               "expected 0 (all) or a number of cores from 1 to {} (the CPUs this "
               "process may use)",
               cpus);
         }
         c.runtime.cores = *n;
         return std::nullopt;
       }},
      {"pin-threads", "true", "pin each core's thread to its own CPU",
       [](const std::string& v, server_config& c) -> std::optional<std::string> {
         if (v != "true" && v != "false") return "expected true or false";
         c.runtime.pin_threads = v == "true";
         return std::nullopt;
       }},
      {"log-level", "info", "trace, debug, info, warn, error, critical or off",
       [](const std::string& v, server_config& c) -> std::optional<std::string> {
         if (!logging::parse_level(v)) {
           return "expected trace, debug, info, warn, error, critical or off";
         }
         c.log_level = v;
         return std::nullopt;
       }},
      {"log-file", "", "write logs to this file instead of stderr",
       [](const std::string& v, server_config& c) -> std::optional<std::string> {
         c.log_file = v;
         return std::nullopt;
       }},
      {"http.header-limit", "16KiB", "largest request line plus headers",
       size_setting(&http::http_config::header_limit, 1024)},
      {"http.body-limit", "1MiB", "largest request body for endpoints without their own limit",
       size_setting(&http::http_config::default_body_limit, 1024)},
      {"http.max-body-limit", "256MiB", "largest request body of any endpoint (bulk upserts)",
       size_setting(&http::http_config::max_body_limit, 1024)},
      {"http.header-timeout", "10s", "time to receive a request's headers",
       duration_setting(&http::http_config::header_timeout)},
      {"http.body-timeout", "60s", "time to receive a request's body",
       duration_setting(&http::http_config::body_timeout)},
      {"http.idle-timeout", "60s", "keep-alive connection idle time before it is closed",
       duration_setting(&http::http_config::idle_timeout)},
      {"http.write-timeout", "30s", "time to write one response",
       duration_setting(&http::http_config::write_timeout)},
      {"http.drain-timeout", "10s", "at shutdown, time to finish requests already read",
       duration_setting(&http::http_config::drain_timeout)},
      {"http.pipeline-limit", "16", "requests read ahead of their responses on one connection",
       count_setting<size_t>(&http::http_config::pipeline_limit, &server_config::http, 1, 1024)},
      {"http.max-connections-per-core", "10000", "open HTTP connections per core",
       count_setting<size_t>(&http::http_config::max_connections_per_core, &server_config::http, 1,
                             1'000'000)},
      {"storage.snapshot-log-bytes", "256MiB",
       "a shard snapshots itself after this much log since its last snapshot",
       [](const std::string& v, server_config& c) -> std::optional<std::string> {
         auto n = parse_size(v);
         if (!n || *n < 4096) return "expected a size of at least 4KiB";
         c.storage.snapshot_log_bytes = *n;
         return std::nullopt;
       }},
      {"storage.log-retention-bytes", "1GiB",
       "a leader keeps its log back to the oldest record a follower lacks while the log is at "
       "most this large (past it, that follower is sent a snapshot)",
       [](const std::string& v, server_config& c) -> std::optional<std::string> {
         auto n = parse_size(v);
         if (!n) return "expected a size such as 1GiB";
         c.storage.log_retention_bytes = *n;
         return std::nullopt;
       }},
      {"storage.snapshot-interval", "10m",
       "a shard with new writes snapshots itself at least this often",
       [](const std::string& v, server_config& c) -> std::optional<std::string> {
         auto d = parse_duration(v);
         if (!d || d->count() < 1000) return "expected a duration of at least 1s";
         c.storage.snapshot_interval = std::chrono::duration_cast<std::chrono::seconds>(*d);
         return std::nullopt;
       }},
      {"storage.snapshot-on-shutdown", "true",
       "snapshot shards with new writes at shutdown, so the next start replays little",
       [](const std::string& v, server_config& c) -> std::optional<std::string> {
         if (v != "true" && v != "false") return "expected true or false";
         c.storage.snapshot_on_close = v == "true";
         return std::nullopt;
       }},
      {"storage.shard-memory-limit", "0",
       "a shard over this many bytes refuses writes (0: no limit)",
       [](const std::string& v, server_config& c) -> std::optional<std::string> {
         auto n = parse_size(v);
         if (!n) return "expected a size such as 0, 512MiB or 8GiB";
         c.storage.shard_memory_limit = *n;
         return std::nullopt;
       }},
      {"storage.log-segment-bytes", "64MiB", "mutation-log segment size",
       [](const std::string& v, server_config& c) -> std::optional<std::string> {
         auto n = parse_size(v);
         if (!n || *n < 4096 || *n > (size_t{1} << 32)) return "expected a size from 4KiB to 4GiB";
         c.storage.log_segment_bytes = *n;
         return std::nullopt;
       }},
      {"rest.max-points-per-request", "100000", "points or ids in one request",
       count_setting<size_t>(&rest::rest_limits::max_points_per_request, &server_config::rest, 1,
                             100'000'000)},
      {"rest.max-batch-searches", "1000", "searches (or operations) in one batch request",
       count_setting<size_t>(&rest::rest_limits::max_batch_searches, &server_config::rest, 1,
                             1'000'000)},
      {"rest.max-limit", "100000",
       "largest limit and offset of a search or scroll (larger is capped)",
       count_setting<size_t>(&rest::rest_limits::max_limit, &server_config::rest, 1, 100'000'000)},
      {"rest.max-ef", "100000", "largest params.hnsw_ef of a search (larger is capped)",
       count_setting<size_t>(&rest::rest_limits::max_ef, &server_config::rest, 1, 100'000'000)},
      {"rest.upsert-body-limit", "32MiB",
       "largest body of the upsert and batch-update endpoints (parsing takes about 14 times "
       "the body in memory); at most http.max-body-limit",
       [](const std::string& v, server_config& c) -> std::optional<std::string> {
         auto n = parse_size(v);
         if (!n || *n < 1024) return "expected a size of at least 1KiB, such as 32MiB";
         c.rest.points_body_limit = *n;
         return std::nullopt;
       }},
      {"rest.json-parser-keep", "4MiB",
       "a core's JSON parser gives its memory back after a body larger than this",
       [](const std::string& v, server_config& c) -> std::optional<std::string> {
         auto n = parse_size(v);
         if (!n) return "expected a size such as 4MiB";
         c.rest.parser_keep_bytes = *n;
         return std::nullopt;
       }},
      {"rest.max-json-depth", "64",
       "deepest nesting of objects and arrays in a JSON body, payload, filter or config (deeper: "
       "400)",
       input_limit_setting(&data::input_limits::max_json_depth, 8, 1024)},
      {"rest.max-filter-conditions", "1024",
       "conditions in one filter, nested filters included (more: 422)",
       input_limit_setting(&data::input_limits::max_filter_conditions, 1, 1'000'000)},
      {"rest.max-filter-depth", "32", "filters nested in filters, the top one counting 1 (400)",
       input_limit_setting(&data::input_limits::max_filter_depth, 1, 256)},
      {"rest.max-payload-bytes", "64KiB",
       "largest payload of one point, as compact JSON (larger: 422)",
       [](const std::string& v, server_config& c) -> std::optional<std::string> {
         auto n = parse_size(v);
         if (!n || *n < 64 || *n > (size_t{1} << 30)) return "expected a size from 64 to 1GiB";
         c.rest.max_payload_bytes = *n;
         return std::nullopt;
       }},
      {"rest.max-payload-keys", "1024",
       "keys in one point's payload, nested objects included (more: 422)",
       input_limit_setting(&data::input_limits::max_payload_keys, 1, 1'000'000)},
      {"rest.max-key-length", "1024", "bytes of a payload key or key path (longer: 422)",
       input_limit_setting(&data::input_limits::max_key_length, 1, 1'000'000)},
      {"rest.max-vector-size", "65536",
       "largest dimension of a dense vector when a collection is created (larger: 422)",
       input_limit_setting(&data::input_limits::max_vector_size, 1, 1u << 20)},
      {"rest.max-named-vectors", "64",
       "dense plus sparse vectors of one collection when it is created (more: 422)",
       input_limit_setting(&data::input_limits::max_named_vectors, 1, 4096)},
      {"rpc.max-frame-size", "64MiB",
       "largest RPC frame payload, as sent and decompressed (larger frames are refused)",
       [](const std::string& v, server_config& c) -> std::optional<std::string> {
         auto n = parse_size(v);
         if (!n || *n < 4096 || *n > (size_t{1} << 31)) return "expected a size from 4KiB to 2GiB";
         c.rpc.max_frame_size = *n;
         return std::nullopt;
       }},
      {"rpc.max-memory-per-core", "256MiB",
       "request bytes one core holds at once; a connection waits for room before it reads a "
       "payload (at least rpc.max-frame-size)",
       [](const std::string& v, server_config& c) -> std::optional<std::string> {
         auto n = parse_size(v);
         if (!n || *n < 4096) return "expected a size of at least 4KiB, such as 256MiB";
         c.rpc.max_memory_per_core = *n;
         return std::nullopt;
       }},
      {"rpc.max-in-flight-per-connection", "128",
       "RPC requests read and not yet answered on one connection; beyond it reading pauses",
       count_setting<size_t>(&rpc::server_config::max_in_flight_per_connection, &server_config::rpc,
                             1, 1'000'000)},
      {"rpc.max-connections-per-core", "10000", "open RPC connections per core",
       count_setting<size_t>(&rpc::server_config::max_connections_per_core, &server_config::rpc, 1,
                             1'000'000)},
      {"rpc.request-timeout", "60s",
       "deadline of an RPC request that gives none, and the longest one a client may ask for",
       [](const std::string& v, server_config& c) -> std::optional<std::string> {
         auto d = parse_duration(v);
         if (!d || d->count() <= 0) return "expected a positive duration such as 60s";
         c.rpc.request_timeout = *d;
         return std::nullopt;
       }},
      {"rpc.idle-timeout", "5m", "an RPC connection with nothing in flight this long is closed",
       [](const std::string& v, server_config& c) -> std::optional<std::string> {
         auto d = parse_duration(v);
         if (!d || d->count() <= 0) return "expected a positive duration such as 5m";
         c.rpc.idle_timeout = *d;
         return std::nullopt;
       }},
      {"rpc.body-timeout", "60s", "time to receive an RPC frame's payload after its header",
       [](const std::string& v, server_config& c) -> std::optional<std::string> {
         auto d = parse_duration(v);
         if (!d || d->count() <= 0) return "expected a positive duration such as 60s";
         c.rpc.body_timeout = *d;
         return std::nullopt;
       }},
      {"rpc.write-timeout", "30s", "time to write queued RPC responses",
       [](const std::string& v, server_config& c) -> std::optional<std::string> {
         auto d = parse_duration(v);
         if (!d || d->count() <= 0) return "expected a positive duration such as 30s";
         c.rpc.write_timeout = *d;
         return std::nullopt;
       }},
      {"rpc.drain-timeout", "10s", "at shutdown, time to answer RPC requests already read",
       [](const std::string& v, server_config& c) -> std::optional<std::string> {
         auto d = parse_duration(v);
         if (!d || d->count() <= 0) return "expected a positive duration such as 10s";
         c.rpc.drain_timeout = *d;
         return std::nullopt;
       }},
      {"rpc.compress-threshold", "64KiB",
       "RPC responses at least this large are sent LZ4-compressed when that saves an eighth "
       "(0: never)",
       [](const std::string& v, server_config& c) -> std::optional<std::string> {
         auto n = parse_size(v);
         if (!n) return "expected a size such as 0, 4KiB or 64KiB";
         c.rpc.compress_threshold = *n;
         return std::nullopt;
       }},
      {"tls-cert", "",
       "PEM certificate chain: serve HTTP and RPC over TLS (with tls-key; net/tls/README.md)",
       [](const std::string& v, server_config& c) -> std::optional<std::string> {
         c.security.tls_cert = v;
         return std::nullopt;
       }},
      {"tls-key", "", "PEM private key of tls-cert",
       [](const std::string& v, server_config& c) -> std::optional<std::string> {
         c.security.tls_key = v;
         return std::nullopt;
       }},
      {"tls-ca", "",
       "PEM CA certificates this host trusts when it connects to other hosts over TLS "
       "(empty: the system's trust store)",
       [](const std::string& v, server_config& c) -> std::optional<std::string> {
         c.security.tls_ca = v;
         return std::nullopt;
       }},
      {"api-key", "",
       "read-write API key; when set, requests need it (header api-key or Authorization: "
       "Bearer) and hosts present it to each other. Prefer the file or SHOAL_API_KEY to a flag",
       [](const std::string& v, server_config& c) -> std::optional<std::string> {
         if (auto e = check_api_key(v)) return e;
         c.security.api_key = v;
         return std::nullopt;
       },
       "SHOAL_API_KEY", true},
      {"read-only-api-key", "", "API key that may only read (searches, scrolls, GETs)",
       [](const std::string& v, server_config& c) -> std::optional<std::string> {
         if (auto e = check_api_key(v)) return e;
         c.security.read_only_api_key = v;
         return std::nullopt;
       },
       "SHOAL_READ_ONLY_API_KEY", true},
      {"node-id", "", "this host's id in a cluster (with --peers); empty: a single node",
       [](const std::string& v, server_config& c) -> std::optional<std::string> {
         for (char ch : v) {
           if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '-' && ch != '_' &&
               ch != '.') {
             return "expected letters, digits, '-', '_' or '.'";
           }
         }
         c.cluster.node_id = v;
         return std::nullopt;
       }},
      {"peers", "",
       "a static cluster: every host as ID=HOST:RPC_PORT[/HTTP_PORT], comma-separated, this one "
       "included (replication/README.md)",
       [](const std::string& v, server_config& c) -> std::optional<std::string> {
         if (v.empty()) return std::nullopt;
         auto p = repl::parse_peers(v);
         if (!p) return p.error();
         c.cluster.peers = std::move(*p);
         return std::nullopt;
       }},
      {"etcd", "",
       "a coordinated cluster: etcd endpoints http://HOST:PORT, comma-separated "
       "(replication/README.md)",
       [](const std::string& v, server_config& c) -> std::optional<std::string> {
         c.cluster.etcd_endpoints.clear();
         std::string_view rest = v;
         while (!rest.empty()) {
           auto comma = rest.find(',');
           auto item = rest.substr(0, comma);
           if (!item.starts_with("http://")) return "expected http://HOST:PORT[,http://...]";
           c.cluster.etcd_endpoints.emplace_back(item);
           rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
         }
         return std::nullopt;
       }},
      {"etcd-prefix", "/shoal", "prefix of this cluster's keys in etcd",
       [](const std::string& v, server_config& c) -> std::optional<std::string> {
         if (v.empty() || v.front() != '/' || v.back() == '/') {
           return "expected a path such as /shoal (leading '/', no trailing '/')";
         }
         c.cluster.etcd_prefix = v;
         return std::nullopt;
       }},
      {"advertise", "", "with --etcd: HOST:PORT other hosts reach this one's binary RPC at",
       [](const std::string& v, server_config& c) -> std::optional<std::string> {
         if (v.empty()) return std::nullopt;
         auto colon = v.rfind(':');
         auto port = colon == std::string::npos ? std::nullopt
                                                : parse_number<uint16_t>(v.substr(colon + 1));
         if (colon == 0 || !port || *port == 0) return "expected HOST:PORT";
         c.cluster.advertise_host = v.substr(0, colon);
         c.cluster.advertise_port = *port;
         return std::nullopt;
       }},
      {"replication.lease-ttl", "2s",
       "with --etcd: a leader's lease; a dead leader is replaced after about this long",
       [](const std::string& v, server_config& c) -> std::optional<std::string> {
         auto d = parse_duration(v);
         if (!d || *d < std::chrono::seconds(1) || d->count() % 1000 != 0) {
           return "expected whole seconds, at least 1s";
         }
         c.cluster.lease_ttl = std::chrono::duration_cast<std::chrono::seconds>(*d);
         return std::nullopt;
       }},
      {"replication.min-acks", "1",
       "followers that must hold a write durably before durability=replicated acknowledges it",
       [](const std::string& v, server_config& c) -> std::optional<std::string> {
         auto n = parse_number<size_t>(v);
         if (!n || *n < 1 || *n > 64) return "expected a whole number from 1 to 64";
         c.cluster.min_acks = *n;
         return std::nullopt;
       }},
      {"replication.ack-timeout", "10s",
       "durability=replicated: how long a write waits for followers before it fails",
       [](const std::string& v, server_config& c) -> std::optional<std::string> {
         auto d = parse_duration(v);
         if (!d || d->count() <= 0) return "expected a positive duration such as 10s";
         c.cluster.ack_timeout = *d;
         return std::nullopt;
       }},
      {"replication.heartbeat", "250ms",
       "a leader with nothing to ship sends each follower an empty batch this often",
       [](const std::string& v, server_config& c) -> std::optional<std::string> {
         auto d = parse_duration(v);
         if (!d || d->count() <= 0) return "expected a positive duration such as 250ms";
         c.cluster.heartbeat = *d;
         return std::nullopt;
       }},
      {"replication.stop-wait", "5s",
       "with etcd: on a graceful stop, how long a leader waits for a follower to hold its whole "
       "log before it gives the leadership up (writes acknowledged at `local` survive)",
       [](const std::string& v, server_config& c) -> std::optional<std::string> {
         auto d = parse_duration(v);
         if (!d || d->count() < 0) return "expected a duration such as 5s";
         c.cluster.stop_wait = *d;
         return std::nullopt;
       }},
      {"runtime.channel-depth", "128", "cross-core messages in flight per pair of cores",
       count_setting<size_t>(&rt::runtime_config::channel_depth, &server_config::runtime, 1,
                             1 << 20)},
      {"runtime.group-limit", "256", "remote requests of one class running on a core at once",
       count_setting<size_t>(&rt::runtime_config::group_limit, &server_config::runtime, 1,
                             1 << 20)},
      {"runtime.blocking-threads", "2", "threads for blocking system calls (fsync, open, ...)",
       count_setting<unsigned>(&rt::runtime_config::blocking_threads, &server_config::runtime, 1,
                               256)},
      {"runtime.blocking-per-core", "64", "blocking jobs one core may have queued at once",
       count_setting<size_t>(&rt::runtime_config::blocking_per_core, &server_config::runtime, 1,
                             1 << 16)},
      {"runtime.idle-poll", "50us",
       "an idle core awaiting a reply polls its cross-core channels up to this long before "
       "sleeping, and adapts its poll for requests within it (0us: never polls)",
       [](const std::string& v, server_config& c) -> std::optional<std::string> {
         std::optional<std::chrono::microseconds> us;
         if (v.ends_with("us")) {
           if (auto n = parse_number<int64_t>(std::string_view(v).substr(0, v.size() - 2))) {
             us = std::chrono::microseconds(*n);
           }
         } else if (auto d = parse_duration(v)) {
           us = std::chrono::duration_cast<std::chrono::microseconds>(*d);
         }
         if (!us || us->count() < 0 || *us > std::chrono::milliseconds(10)) {
           return "expected a duration from 0us to 10ms, such as 50us";
         }
         c.runtime.idle_poll = *us;
         return std::nullopt;
       }},
      {"runtime.stall-threshold", "200ms", "report a core that runs one task longer than this",
       [](const std::string& v, server_config& c) -> std::optional<std::string> {
         auto d = parse_duration(v);
         if (!d || d->count() <= 0) return "expected a positive duration such as 200ms";
         c.runtime.stall_threshold = *d;
         return std::nullopt;
       }},
  };
}

}  // namespace shoal::app
