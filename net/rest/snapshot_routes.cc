// Snapshots (REST_API.md §8): collection snapshots (create, list, download, delete, recover from
// a file or URL, upload) and full-storage snapshots. A snapshot is a collection archive
// (engine/shard/archive.h) in <data>/snapshots/<collection>/, with its SHA-256 in a sidecar
// "<name>.sha256". Full-storage snapshots live in <data>/snapshots/ and nest one archive per
// collection.

#include <algorithm>
#include <chrono>
#include <random>
#include <sys/stat.h>

#include <fmt/chrono.h>
#include <fmt/format.h>

#include "engine/common/file_io.h"
#include "engine/common/logger.h"
#include "engine/runtime/blocking_pool.h"
#include "engine/runtime/smp.h"
#include "engine/shard/archive.h"
#include "engine/shard/collections.h"
#include "net/http/fetch.h"
#include "net/rest/decode.h"
#include "net/rest/rest_api.h"
#include "net/rest/rest_io.h"

namespace shoal::rest {
namespace {

namespace fs = std::filesystem;
using http::request_context;
using http::response;
using http::status;
using http::verb;

constexpr size_t kMaxDownload = size_t{2} << 30;  // snapshots served or fetched over HTTP

spdlog::logger& log() {
  static auto& l = logging::get("snapshots");
  return l;
}

rt::blocking_pool& pool() {
  return rt::runtime::current().blocking();
}

struct description {
  std::string name;
  std::string creation_time;
  uint64_t size = 0;
  std::string checksum;
};

void write_description(json_writer& w, const description& d) {
  w.begin_object().field("name", d.name).field("creation_time", d.creation_time);
  w.field("size", d.size);
  if (!d.checksum.empty()) w.field("checksum", d.checksum);
  w.end_object();
}

/// Blocking: describes one snapshot file.
description describe(const fs::path& file) {
  description d;
  d.name = file.filename().string();
  struct stat st {};
  if (::stat(file.c_str(), &st) == 0) {
    d.size = static_cast<uint64_t>(st.st_size);
    d.creation_time = fmt::format("{:%Y-%m-%dT%H:%M:%S}", fmt::gmtime(st.st_mtime));
  }
  auto side = file;
  side += ".sha256";
  if (auto sum = fileio::read_file(side, 128)) {
    d.checksum.assign(reinterpret_cast<const char*>(sum->data()), sum->size());
  }
  return d;
}

/// Blocking: the snapshots in `dir`, oldest first.
std::vector<description> list(const fs::path& dir) {
  std::vector<description> out;
  auto names = fileio::list_files(dir);
  if (!names) return out;
  std::sort(names->begin(), names->end());
  for (auto& n : *names) {
    if (n.ends_with(".snapshot") && n.front() != '.') out.push_back(describe(dir / n));
  }
  std::sort(out.begin(), out.end(),
            [](auto& a, auto& b) { return a.creation_time < b.creation_time; });
  return out;
}

/// A snapshot name from a URL is only a plain file name of an existing snapshot: no "/", no
/// "..", nothing hidden, no NUL or other control byte (a NUL would end the name the file system
/// sees early), at most 255 bytes, so "/etc/passwd", "../..", "%2F" and "x.snapshot%00.snapshot"
/// all come out as 404.
bool plain_name(std::string_view n) {
  return !n.empty() && n.size() <= 255 && n.find('/') == std::string_view::npos &&
         n.find('\\') == std::string_view::npos && n.front() != '.' && n.ends_with(".snapshot") &&
         std::none_of(n.begin(), n.end(),
                      [](char c) { return static_cast<unsigned char>(c) < 0x20; });
}

std::string new_snapshot_name(std::string_view prefix) {
  std::random_device rd;
  // At most 200 bytes of the (directory) name, so the file name with its date, suffix and
  // ".sha256" sidecar stays within the file system's 255 bytes.
  prefix = prefix.substr(0, 200);
  return fmt::format("{}-{:%Y-%m-%d-%H-%M-%S}-{:06x}.snapshot", prefix,
                     fmt::gmtime(std::time(nullptr)), rd() & 0xffffff);
}

/// Blocking: writes the sidecar checksum and returns the description.
result<description> seal(const fs::path& file) {
  auto sum = shard::sha256_file(file);
  if (!sum) return sum.error();
  auto side = file;
  side += ".sha256";
  if (auto r = fileio::write_file_atomic(side, std::as_bytes(std::span(*sum))); !r)
    return r.error();
  return describe(file);
}

response accepted(double t) {
  response r;
  r.code = status::accepted;
  json_writer w(r.body);
  w.begin_object().field("status", "accepted").field("time", t).end_object();
  return r;
}

/// Creates a collection snapshot; returns its description.
awaitable<result<description>> create_collection_snapshot(shard::coordinator& coord,
                                                          std::string name) {
  auto dir = coord.all().local().snapshots_dir(name);
  auto made =
      co_await pool().run(rt::blocking_reason::mkdir, [dir] { return fileio::create_dirs(dir); });
  if (!made) co_return made.error();
  auto file = dir / new_snapshot_name(shard::collection_dir_name(name));
  auto size = co_await coord.export_collection(name, file);
  if (!size) co_return size.error();
  co_return co_await pool().run(rt::blocking_reason::read, [file] { return seal(file); });
}

/// Checks, then restores the collection from an archive on this machine.
awaitable<response> recover_from(shard::coordinator& coord, std::string name, fs::path file,
                                 std::optional<std::string> checksum, bool wait, double t0,
                                 bool remove_after) {
  auto checked =
      co_await pool().run(rt::blocking_reason::read, [file, checksum]() -> std::optional<response> {
        if (checksum) {
          auto sum = shard::sha256_file(file);
          if (!sum) {
            return http::error_json(status::bad_request, "Bad request: cannot read the snapshot: " +
                                                             sum.error().message());
          }
          if (*sum != *checksum) {
            return http::error_json(status::bad_request,
                                    fmt::format("Bad request: Snapshot checksum mismatch: expected "
                                                "{}, got {}",
                                                *checksum, *sum));
          }
        }
        std::string problem;
        auto listing = shard::read_archive(file, &problem);
        if (!listing) {
          return http::error_json(status::bad_request,
                                  "Bad request: not a valid Shoal snapshot: " +
                                      (problem.empty() ? listing.error().message() : problem));
        }
        return std::nullopt;
      });
  if (checked) {
    if (remove_after)
      co_await pool().run(rt::blocking_reason::unlink, [file] { (void)fileio::remove_file(file); });
    co_return std::move(*checked);
  }
  auto* all = &coord.all();
  auto work = [all, name, file, remove_after]() -> awaitable<result<void>> {
    auto r =
        co_await rt::submit_to(core_id(0),
                               [all, name, file]() -> awaitable<result<void>> {
                                 co_return co_await shard::collections::restore(*all, name, file);
                               },
                               {.group = rt::service_group::admin});
    if (remove_after) {
      co_await rt::runtime::current().blocking().run(rt::blocking_reason::unlink,
                                                     [file] { (void)fileio::remove_file(file); });
    }
    if (!r)
      log().error("recovering {} from {} failed: {}", name, file.string(), r.error().message());
    co_return r;
  };
  if (!wait) {
    asio::co_spawn(co_await asio::this_coro::executor, work(), asio::detached);
    co_return accepted(t0);
  }
  auto r = co_await work();
  if (!r) co_return error_response(r.error(), name, t0);
  co_return ok("true", t0);
}

/// The bytes of part "snapshot" of a multipart/form-data body, or the body itself.
std::optional<std::string_view> upload_bytes(const request_context& req) {
  auto type = std::string_view(req.req[boost::beast::http::field::content_type]);
  const std::string& body = req.body();
  if (!type.starts_with("multipart/form-data")) return std::string_view(body);
  auto b = type.find("boundary=");
  if (b == std::string_view::npos) return std::nullopt;
  auto boundary = std::string("--") + std::string(type.substr(b + 9));
  if (boundary.size() > 2 && boundary[2] == '"')
    boundary = "--" + boundary.substr(3, boundary.size() - 4);
  size_t at = 0;
  while ((at = body.find(boundary, at)) != std::string::npos) {
    at += boundary.size();
    auto headers_end = body.find("\r\n\r\n", at);
    if (headers_end == std::string::npos) return std::nullopt;
    auto headers = std::string_view(body).substr(at, headers_end - at);
    auto start = headers_end + 4;
    auto end = body.find("\r\n" + boundary, start);
    if (end == std::string::npos) return std::nullopt;
    if (headers.find("name=\"snapshot\"") != std::string_view::npos) {
      return std::string_view(body).substr(start, end - start);
    }
    at = end;
  }
  return std::nullopt;
}

}  // namespace

void add_snapshot_routes(http::router& r, rest_context ctx) {
  auto* coord = ctx.coordinator;

  r.add(verb::get, "/collections/{name}/snapshots",
        [coord](request_context& req) -> awaitable<response> {
          auto name = std::string(*req.path_param("name"));
          auto cfg = coord->config(name);
          if (!cfg) co_return error_response(cfg.error(), name, req.elapsed_seconds());
          auto dir = coord->all().local().snapshots_dir(name);
          auto items = co_await pool().run(rt::blocking_reason::stat, [dir] { return list(dir); });
          std::string out;
          json_writer w(out);
          w.begin_array();
          for (auto& d : items) write_description(w, d);
          w.end_array();
          co_return ok(out, req.elapsed_seconds());
        });

  r.add(verb::post, "/collections/{name}/snapshots",
        [coord](request_context& req) -> awaitable<response> {
          auto name = std::string(*req.path_param("name"));
          auto params = read_write_params(req);
          if (!params) co_return input_error_response(params.error(), req.elapsed_seconds());
          auto cfg = coord->config(name);
          if (!cfg) co_return error_response(cfg.error(), name, req.elapsed_seconds());
          if (!params->wait) {
            asio::co_spawn(
                co_await asio::this_coro::executor,
                [coord, name]() -> awaitable<void> {
                  auto d = co_await create_collection_snapshot(*coord, name);
                  if (!d) log().error("snapshot of {} failed: {}", name, d.error().message());
                },
                asio::detached);
            co_return accepted(req.elapsed_seconds());
          }
          auto d = co_await create_collection_snapshot(*coord, name);
          if (!d) co_return error_response(d.error(), name, req.elapsed_seconds());
          std::string out;
          json_writer w(out);
          write_description(w, *d);
          co_return ok(out, req.elapsed_seconds());
        });

  r.add(verb::get, "/collections/{name}/snapshots/{snap}",
        [coord](request_context& req) -> awaitable<response> {
          auto name = std::string(*req.path_param("name"));
          auto snap = std::string(*req.path_param("snap"));
          auto missing = http::error_json(status::not_found,
                                          fmt::format("Not found: Snapshot {} not found", snap),
                                          req.elapsed_seconds());
          if (!plain_name(snap) || !coord->all().local().find(name)) co_return missing;
          auto file = coord->all().local().snapshots_dir(name) / snap;
          auto bytes = co_await pool().run(
              rt::blocking_reason::read, [file] { return fileio::read_file(file, kMaxDownload); });
          if (!bytes) co_return missing;
          response res;
          res.content_type = "application/octet-stream";
          res.body.assign(reinterpret_cast<const char*>(bytes->data()), bytes->size());
          co_return res;
        });

  r.add(verb::delete_, "/collections/{name}/snapshots/{snap}",
        [coord](request_context& req) -> awaitable<response> {
          auto name = std::string(*req.path_param("name"));
          auto snap = std::string(*req.path_param("snap"));
          auto params = read_write_params(req);
          if (!params) co_return input_error_response(params.error(), req.elapsed_seconds());
          if (!plain_name(snap) || !coord->all().local().find(name)) {
            co_return http::error_json(status::not_found,
                                       fmt::format("Not found: Snapshot {} not found", snap),
                                       req.elapsed_seconds());
          }
          auto file = coord->all().local().snapshots_dir(name) / snap;
          auto removed = co_await pool().run(rt::blocking_reason::unlink, [file]() -> bool {
            if (!fs::exists(file)) return false;
            auto side = file;
            side += ".sha256";
            (void)fileio::remove_file(side);
            return static_cast<bool>(fileio::remove_file(file));
          });
          if (!removed) {
            co_return http::error_json(status::not_found,
                                       fmt::format("Not found: Snapshot {} not found", snap),
                                       req.elapsed_seconds());
          }
          if (!params->wait) co_return accepted(req.elapsed_seconds());
          co_return ok("true", req.elapsed_seconds());
        });

  r.add(
      verb::put, "/collections/{name}/snapshots/recover",
      [coord](request_context& req) -> awaitable<response> {
        auto name = std::string(*req.path_param("name"));
        double t = req.elapsed_seconds();
        auto params = read_write_params(req);
        if (!params) co_return input_error_response(params.error(), t);
        if (auto problem = shard::validate_collection_name(name)) {
          co_return http::error_json(status::unprocessable_entity,
                                     "Validation error in path parameters: [" + *problem + "]", t);
        }
        std::string location;
        std::optional<std::string> checksum;
        {
          auto body = parse_body(req);
          if (!body) co_return input_error_response(body.error(), t);
          auto loc = member(*body, "location");
          std::string_view ls;
          if (!loc || loc->get_string().get(ls) != simdjson::SUCCESS) {
            co_return input_error_response(data::input_error::format("missing field `location`"),
                                           t);
          }
          location = std::string(ls);
          if (auto c = member(*body, "checksum")) {
            std::string_view cs;
            if (c->get_string().get(cs) != simdjson::SUCCESS) {
              co_return input_error_response(
                  data::input_error::format("checksum: expected a string"), t);
            }
            checksum = std::string(cs);
          }
        }
        auto root = coord->all().local().snapshots_root();
        if (location.starts_with("http://") || location.starts_with("https://")) {
          auto got = co_await http::fetch(location, kMaxDownload, std::chrono::seconds(600));
          if (!got || got->status != 200) {
            co_return http::error_json(
                status::bad_request,
                fmt::format("Bad request: cannot download {}: {}", location,
                            got ? fmt::format("HTTP {}", got->status) : got.error().message()),
                t);
          }
          auto file = root / fmt::format(".download-{}", new_snapshot_name("recover"));
          auto body = std::make_shared<std::string>(std::move(got->body));
          auto saved =
              co_await pool().run(rt::blocking_reason::write, [root, file, body]() -> result<void> {
                if (auto r = fileio::create_dirs(root); !r) return r;
                return fileio::write_file_atomic(file, std::as_bytes(std::span(*body)));
              });
          if (!saved) co_return error_response(saved.error(), name, t);
          co_return co_await recover_from(*coord, name, file, checksum, params->wait, t, true);
        }
        if (!location.starts_with("file://")) {
          co_return http::error_json(
              status::bad_request, "Bad request: Invalid snapshot URI, expected file:// or http://",
              t);
        }
        auto path = location.substr(7);
        if (path.starts_with("localhost/")) path = path.substr(9);
        if (path.empty() || path.front() != '/') {
          co_return http::error_json(
              status::bad_request,
              "Bad request: Invalid snapshot URI, file path must be absolute or on localhost", t);
        }
        auto verdict = co_await pool().run(rt::blocking_reason::stat, [path, root]() -> int {
          std::error_code ec;
          if (!fs::is_regular_file(path, ec)) return 1;
          auto real = fs::canonical(path, ec);
          auto real_root = fs::weakly_canonical(root, ec);
          auto rel = real.lexically_relative(real_root);
          if (rel.empty() || rel.native().starts_with("..")) return 2;
          return 0;
        });
        if (verdict == 1) {
          co_return http::error_json(
              status::bad_request,
              fmt::format("Bad request: Snapshot file \"{}\" does not exist", path), t);
        }
        if (verdict == 2) {
          co_return http::error_json(
              status::forbidden,
              fmt::format("Forbidden: Snapshot file path must be inside the snapshots directory {}",
                          root.string()),
              t);
        }
        co_return co_await recover_from(*coord, name, path, checksum, params->wait, t, false);
      });

  r.add(verb::post, "/collections/{name}/snapshots/upload",
        [coord](request_context& req) -> awaitable<response> {
          auto name = std::string(*req.path_param("name"));
          double t = req.elapsed_seconds();
          auto params = read_write_params(req);
          if (!params) co_return input_error_response(params.error(), t);
          if (auto problem = shard::validate_collection_name(name)) {
            co_return http::error_json(status::unprocessable_entity,
                                       "Validation error in path parameters: [" + *problem + "]",
                                       t);
          }
          auto bytes = upload_bytes(req);
          if (!bytes) {
            co_return http::error_json(status::bad_request,
                                       "Bad request: expected a multipart field \"snapshot\"", t);
          }
          std::optional<std::string> checksum;
          if (auto c = req.query("checksum")) checksum = std::string(*c);
          auto root = coord->all().local().snapshots_root();
          auto file = root / fmt::format(".upload-{}", new_snapshot_name("upload"));
          auto data = std::make_shared<std::string>(*bytes);
          auto saved =
              co_await pool().run(rt::blocking_reason::write, [root, file, data]() -> result<void> {
                if (auto r = fileio::create_dirs(root); !r) return r;
                return fileio::write_file_atomic(file, std::as_bytes(std::span(*data)));
              });
          if (!saved) co_return error_response(saved.error(), name, t);
          co_return co_await recover_from(*coord, name, file, checksum, params->wait, t, true);
        },
        {.body_limit = kMaxDownload});

  // Full-storage snapshots: every collection, each as a nested archive.
  r.add(verb::get, "/snapshots", [coord](request_context& req) -> awaitable<response> {
    auto root = coord->all().local().snapshots_root();
    auto items = co_await pool().run(rt::blocking_reason::stat, [root] { return list(root); });
    std::string out;
    json_writer w(out);
    w.begin_array();
    for (auto& d : items) write_description(w, d);
    w.end_array();
    co_return ok(out, req.elapsed_seconds());
  });

  r.add(verb::post, "/snapshots", [coord](request_context& req) -> awaitable<response> {
    auto params = read_write_params(req);
    if (!params) co_return input_error_response(params.error(), req.elapsed_seconds());
    auto work = [coord]() -> awaitable<result<description>> {
      auto root = coord->all().local().snapshots_root();
      auto staging = root / (".full-" + new_snapshot_name("staging"));
      auto made = co_await pool().run(rt::blocking_reason::mkdir,
                                      [staging] { return fileio::create_dirs(staging); });
      if (!made) co_return made.error();
      std::vector<shard::archive_entry> entries;
      for (auto& name : coord->all().local().names()) {
        auto part = staging / (shard::collection_dir_name(name) + ".arc");
        auto size = co_await coord->export_collection(name, part);
        if (!size) continue;  // a failed collection is left out, not the whole snapshot
        entries.push_back({"collections/" + shard::collection_dir_name(name) + ".arc", part});
      }
      auto file = root / new_snapshot_name("full-snapshot");
      auto done = co_await pool().run(rt::blocking_reason::write,
                                      [file, entries, staging]() -> result<description> {
                                        auto w = shard::write_archive(file, entries);
                                        std::error_code ec;
                                        fs::remove_all(staging, ec);
                                        if (!w) return w.error();
                                        return seal(file);
                                      });
      co_return done;
    };
    if (!params->wait) {
      asio::co_spawn(
          co_await asio::this_coro::executor,
          [work]() -> awaitable<void> { (void)co_await work(); }, asio::detached);
      co_return accepted(req.elapsed_seconds());
    }
    auto d = co_await work();
    if (!d) co_return error_response(d.error(), "", req.elapsed_seconds());
    std::string out;
    json_writer w(out);
    write_description(w, *d);
    co_return ok(out, req.elapsed_seconds());
  });

  r.add(verb::get, "/snapshots/{snap}", [coord](request_context& req) -> awaitable<response> {
    auto snap = std::string(*req.path_param("snap"));
    auto missing =
        http::error_json(status::not_found, fmt::format("Not found: Snapshot {} not found", snap),
                         req.elapsed_seconds());
    if (!plain_name(snap)) co_return missing;
    auto file = coord->all().local().snapshots_root() / snap;
    auto bytes = co_await pool().run(rt::blocking_reason::read,
                                     [file] { return fileio::read_file(file, kMaxDownload); });
    if (!bytes) co_return missing;
    response res;
    res.content_type = "application/octet-stream";
    res.body.assign(reinterpret_cast<const char*>(bytes->data()), bytes->size());
    co_return res;
  });

  r.add(verb::delete_, "/snapshots/{snap}", [coord](request_context& req) -> awaitable<response> {
    auto snap = std::string(*req.path_param("snap"));
    auto params = read_write_params(req);
    if (!params) co_return input_error_response(params.error(), req.elapsed_seconds());
    auto missing =
        http::error_json(status::not_found, fmt::format("Not found: Snapshot {} not found", snap),
                         req.elapsed_seconds());
    if (!plain_name(snap)) co_return missing;
    auto file = coord->all().local().snapshots_root() / snap;
    auto removed = co_await pool().run(rt::blocking_reason::unlink, [file]() -> bool {
      if (!fs::exists(file)) return false;
      auto side = file;
      side += ".sha256";
      (void)fileio::remove_file(side);
      return static_cast<bool>(fileio::remove_file(file));
    });
    if (!removed) co_return missing;
    if (!params->wait) co_return accepted(req.elapsed_seconds());
    co_return ok("true", req.elapsed_seconds());
  });
}

}  // namespace shoal::rest
