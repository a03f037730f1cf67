#include "tools/shoalctl/offline.h"

#include <cstdio>
#include <filesystem>
#include <map>

#include <fmt/format.h>

#include "engine/common/file_io.h"
#include "engine/log/format.h"
#include "engine/log/segment_reader.h"
#include "engine/shard/archive.h"
#include "engine/shard/mutation.h"
#include "engine/shard/shard_snapshot.h"

namespace shoal::ctl {

namespace fs = std::filesystem;

namespace {

const char* type_name(uint8_t t) {
  switch (static_cast<shard::mutation_type>(t)) {
    case shard::mutation_type::upsert:
      return "upsert";
    case shard::mutation_type::delete_points:
      return "delete";
    case shard::mutation_type::set_payload:
      return "set_payload";
    case shard::mutation_type::overwrite_payload:
      return "overwrite_payload";
    case shard::mutation_type::delete_payload_keys:
      return "delete_payload_keys";
    case shard::mutation_type::clear_payload:
      return "clear_payload";
  }
  return "unknown";
}

std::string describe_record(const wal::log_record& r) {
  auto m = shard::decode_mutation(r.type, r.body);
  if (!m) return "body does not decode";
  if (auto* u = std::get_if<shard::upsert_mutation>(&*m)) {
    return fmt::format("{} points, first id {}", u->points.size(),
                       u->points.empty() ? std::string("-") : u->points[0].id.to_string());
  }
  if (auto* d = std::get_if<shard::delete_mutation>(&*m))
    return fmt::format("{} ids", d->ids.size());
  return fmt::format("{} ids", std::get<shard::payload_mutation>(*m).ids.size());
}

}  // namespace

int log_dump(const std::vector<std::string>& args) {
  if (args.empty()) {
    std::fputs("usage: shoalctl log-dump DIR [--records]\n", stderr);
    return 2;
  }
  fs::path dir = args[0];
  bool records = args.size() > 1 && args[1] == "--records";
  if (fs::is_directory(dir / "log")) dir /= "log";
  auto names = fileio::list_files(dir);
  if (!names) {
    std::fprintf(stderr, "shoalctl: cannot list %s: %s\n", dir.c_str(),
                 names.error().message().c_str());
    return 2;
  }
  std::map<uint64_t, std::string> segments;
  for (auto& n : *names) {
    if (auto h = wal::parse_segment_file_name(n)) segments.emplace(h->base_lsn, n);
  }
  if (segments.empty()) {
    std::printf("%s: no log segments\n", dir.c_str());
    return 0;
  }
  int rc = 0;
  uint64_t expected = 0, total = 0;
  std::map<std::string, uint64_t> by_type;
  for (auto it = segments.begin(); it != segments.end(); ++it) {
    bool last = std::next(it) == segments.end();
    auto path = dir / it->second;
    auto reader = wal::segment_reader::open(path);
    if (!reader) {
      std::printf("%s: unreadable header: %s\n", it->second.c_str(),
                  reader.error().message().c_str());
      rc = 1;
      continue;
    }
    if (expected && reader->header().base_lsn != expected) {
      std::printf("%s: starts at LSN %lu, expected %lu (gap)\n", it->second.c_str(),
                  reader->header().base_lsn, expected);
      rc = 1;
    }
    uint64_t count = 0;
    for (;;) {
      auto batch = reader->next(8u << 20);
      if (!batch) {
        std::printf("%s: read error: %s\n", it->second.c_str(), batch.error().message().c_str());
        rc = 1;
        break;
      }
      for (auto& r : *batch) {
        ++count;
        by_type[type_name(r.type)]++;
        if (records) {
          std::printf("  lsn %lu term %lu %s %zu bytes: %s\n", r.lsn, r.term, type_name(r.type),
                      r.body.size(), describe_record(r).c_str());
        }
      }
      if (reader->at_end() || reader->stop()) break;
    }
    std::printf("%s: base LSN %lu, term %lu, %lu records, %lu bytes\n", it->second.c_str(),
                reader->header().base_lsn, reader->header().term, count, reader->file_size());
    if (auto& stop = reader->stop()) {
      bool torn = last && stop->incomplete;
      std::printf("  %s at offset %lu: %s\n", torn ? "torn tail (recovery cuts it)" : "CORRUPT",
                  stop->offset, stop->reason.c_str());
      if (!torn) rc = 1;
    }
    expected = reader->next_lsn();
    total += count;
  }
  std::printf("total: %lu records", total);
  for (auto& [t, n] : by_type) std::printf(", %s %lu", t.c_str(), n);
  std::printf("; next LSN %lu\n", expected);
  return rc;
}

int snapshot_inspect(const std::vector<std::string>& args) {
  if (args.empty()) {
    std::fputs("usage: shoalctl snapshot-inspect FILE\n", stderr);
    return 2;
  }
  fs::path file = args[0];
  std::string problem;
  if (file.extension() == ".snap") {
    auto s = shard::inspect_snapshot(file, &problem);
    if (!s) {
      std::printf("%s: INVALID: %s\n", file.c_str(), problem.c_str());
      return 1;
    }
    std::printf("%s: shard snapshot at LSN %lu, %lu points, created %lu ms\n", file.c_str(), s->lsn,
                s->points, s->created_ms);
    for (auto& [name, bytes] : s->sections) std::printf("  %s: %lu bytes\n", name.c_str(), bytes);
    std::printf("all checksums valid\n");
    return 0;
  }
  auto a = shard::read_archive(file, &problem);
  if (!a) {
    std::printf("%s: INVALID: %s\n", file.c_str(),
                problem.empty() ? a.error().message().c_str() : problem.c_str());
    return 1;
  }
  std::printf("%s: collection archive, %zu entries\n", file.c_str(), a->entries.size());
  for (auto& [name, bytes] : a->entries) std::printf("  %s: %lu bytes\n", name.c_str(), bytes);
  if (auto sum = shard::sha256_file(file)) std::printf("sha256 %s\n", sum->c_str());
  std::printf("all checksums valid\n");
  return 0;
}

}  // namespace shoal::ctl
