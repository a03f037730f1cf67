#include "engine/shard/shard_snapshot.h"

#include <charconv>
#include <chrono>
#include <cstring>
#include <fcntl.h>

#include <fmt/format.h>

#include "engine/common/crc32c.h"
#include "engine/common/file_io.h"
#include "engine/common/logger.h"
#include "engine/shard/errc.h"
#include "engine/shard/shard.h"
#include "index/errc.h"
#include "index/io/byte_stream.h"
#include "index/vector_index.h"

namespace shoal::shard {
namespace {

constexpr uint32_t kTagPoints = 1;
constexpr uint32_t kTagIndex = 2;
constexpr uint32_t kTagEnd = 15;
constexpr size_t kHeaderSize = 64;
constexpr size_t kBuffer = 1 << 20;
// A version 1 points section has no free-slot list, so nothing in the file pays for its slot
// space: it may use at most this many more slots than it has points (40 MiB of records).
constexpr uint64_t kV1SpareSlots = 1 << 20;

spdlog::logger& log() {
  static auto& l = logging::get("snapshot");
  return l;
}

template <typename T>
void put(std::vector<std::byte>& out, T v) {
  auto at = out.size();
  out.resize(at + sizeof v);
  std::memcpy(out.data() + at, &v, sizeof v);
}
void put_str(std::vector<std::byte>& out, std::string_view s) {
  put<uint32_t>(out, static_cast<uint32_t>(s.size()));
  auto at = out.size();
  out.resize(at + s.size());
  if (!s.empty()) std::memcpy(out.data() + at, s.data(), s.size());
}

/// Buffered writes to a file with the offset known, so section lengths can be patched in.
class file_writer final : public index::byte_sink {
 public:
  explicit file_writer(fileio::file& f) : f_(f) { buffer_.reserve(kBuffer); }
  result<void> write(const void* data, size_t size) override {
    auto* p = static_cast<const std::byte*>(data);
    section_crc_ = crc32c(section_crc_, p, size);
    section_bytes_ += size;
    while (size > 0) {
      size_t n = std::min(size, kBuffer - buffer_.size());
      buffer_.insert(buffer_.end(), p, p + n);
      p += n;
      size -= n;
      if (buffer_.size() == kBuffer) {
        if (auto r = flush(); !r) return r;
      }
    }
    return {};
  }
  result<void> flush() {
    if (buffer_.empty()) return {};
    auto r = fileio::pwrite_all(f_, buffer_, static_cast<off_t>(offset_));
    offset_ += buffer_.size();
    buffer_.clear();
    return r;
  }
  /// Writes raw bytes outside any section checksum.
  result<void> raw(std::span<const std::byte> b) {
    if (auto r = flush(); !r) return r;
    auto r = fileio::pwrite_all(f_, b, static_cast<off_t>(offset_));
    offset_ += b.size();
    return r;
  }
  uint64_t offset() const { return offset_ + buffer_.size(); }
  void begin_section() {
    section_crc_ = 0;
    section_bytes_ = 0;
  }
  uint32_t section_crc() const { return section_crc_; }
  uint64_t section_bytes() const { return section_bytes_; }
  result<void> patch(uint64_t at, std::span<const std::byte> b) {
    if (auto r = flush(); !r) return r;
    return fileio::pwrite_all(f_, b, static_cast<off_t>(at));
  }

 private:
  fileio::file& f_;
  std::vector<std::byte> buffer_;
  uint64_t offset_ = 0;
  uint32_t section_crc_ = 0;
  uint64_t section_bytes_ = 0;
};

/// Reads one section's payload, checksumming as it goes, never past its end.
class section_reader final : public index::byte_source {
 public:
  section_reader(const fileio::file& f, uint64_t offset, uint64_t length)
      : f_(f), offset_(offset), left_(length) {}
  result<void> read(void* data, size_t size) override {
    if (size > left_) return index::errc::truncated_file;
    auto* out = static_cast<std::byte*>(data);
    if (pos_ == buffer_.size() && size >= kBuffer) {
      // A large read (an index's vectors): straight into the destination, no staging copy.
      auto n = fileio::pread_full(f_, std::span(out, size), static_cast<off_t>(offset_));
      if (!n) return n.error();
      if (*n < size) return index::errc::truncated_file;
      crc_ = crc32c(crc_, out, size);
      offset_ += size;
      left_ -= size;
      return {};
    }
    while (size > 0) {
      if (pos_ == buffer_.size()) {
        buffer_.resize(static_cast<size_t>(std::min<uint64_t>(kBuffer, left_total())));
        auto n = fileio::pread_full(f_, buffer_, static_cast<off_t>(offset_));
        if (!n) return n.error();
        if (*n < buffer_.size()) return index::errc::truncated_file;
        offset_ += *n;
        pos_ = 0;
      }
      size_t n = std::min(size, buffer_.size() - pos_);
      std::memcpy(out, buffer_.data() + pos_, n);
      crc_ = crc32c(crc_, out, n);
      pos_ += n;
      out += n;
      size -= n;
      left_ -= n;
    }
    return {};
  }
  std::optional<uint64_t> remaining() const override { return left_; }
  uint32_t crc() const { return crc_; }
  bool get_u32(uint32_t& v) { return static_cast<bool>(read(&v, 4)); }
  bool get_u64(uint64_t& v) { return static_cast<bool>(read(&v, 8)); }
  bool get_str(std::string& s, size_t max) {
    uint32_t n;
    if (!get_u32(n) || n > max || n > left_) return false;
    s.resize(n);
    return n == 0 || static_cast<bool>(read(s.data(), n));
  }

 private:
  uint64_t left_total() const { return left_ - (buffer_.size() - pos_); }
  const fileio::file& f_;
  uint64_t offset_;
  uint64_t left_;
  std::vector<std::byte> buffer_;
  size_t pos_ = 0;
  uint32_t crc_ = 0;
};

struct section_header {
  uint32_t tag = 0;
  uint64_t length = 0;
};

result<void> begin_section(file_writer& w, uint32_t tag, uint64_t& header_at) {
  header_at = w.offset();
  std::vector<std::byte> h;
  put<uint32_t>(h, tag);
  put<uint32_t>(h, 0);
  put<uint64_t>(h, 0);  // patched in end_section
  if (auto r = w.raw(h); !r) return r;
  w.begin_section();
  return {};
}

result<void> end_section(file_writer& w, uint64_t header_at) {
  uint64_t length = w.section_bytes();
  uint32_t crc = w.section_crc();
  if (auto r = w.flush(); !r) return r;
  std::vector<std::byte> c;
  put<uint32_t>(c, crc);
  if (auto r = w.raw(c); !r) return r;
  std::vector<std::byte> len;
  put<uint64_t>(len, length);
  return w.patch(header_at + 8, len);
}

std::vector<std::byte> make_header(uint64_t lsn, uint64_t points, uint32_t sections) {
  std::vector<std::byte> h(kHeaderSize);
  std::memcpy(h.data(), kSnapshotMagic, 8);
  uint16_t version = kSnapshotVersion, flags = 0;
  uint64_t created = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                               std::chrono::system_clock::now().time_since_epoch())
                                               .count());
  std::memcpy(h.data() + 8, &version, 2);
  std::memcpy(h.data() + 10, &flags, 2);
  std::memcpy(h.data() + 12, &sections, 4);
  std::memcpy(h.data() + 16, &lsn, 8);
  std::memcpy(h.data() + 24, &created, 8);
  std::memcpy(h.data() + 32, &points, 8);
  uint32_t crc = crc32c(0, h.data(), 60);
  std::memcpy(h.data() + 60, &crc, 4);
  return h;
}

struct parsed_header {
  uint64_t lsn = 0, created = 0, points = 0;
  uint32_t sections = 0;
  uint16_t version = 0;
};

result<parsed_header> read_header(const fileio::file& f, std::string& problem) {
  std::vector<std::byte> h(kHeaderSize);
  auto n = fileio::pread_full(f, h, 0);
  if (!n) return n.error();
  if (*n < kHeaderSize) {
    problem = "shorter than its header";
    return errc::corrupt_snapshot;
  }
  if (std::memcmp(h.data(), kSnapshotMagic, 8) != 0) {
    problem = "not a Shoal snapshot (bad magic)";
    return errc::corrupt_snapshot;
  }
  uint32_t crc;
  std::memcpy(&crc, h.data() + 60, 4);
  if (crc != crc32c(0, h.data(), 60)) {
    problem = "header checksum mismatch";
    return errc::corrupt_snapshot;
  }
  uint16_t version;
  std::memcpy(&version, h.data() + 8, 2);
  if (version < 1 || version > kSnapshotVersion) {
    problem =
        fmt::format("format version {} (this build reads 1 to {})", version, kSnapshotVersion);
    return errc::corrupt_snapshot;
  }
  parsed_header p;
  p.version = version;
  std::memcpy(&p.sections, h.data() + 12, 4);
  std::memcpy(&p.lsn, h.data() + 16, 8);
  std::memcpy(&p.created, h.data() + 24, 8);
  std::memcpy(&p.points, h.data() + 32, 8);
  return p;
}

result<section_header> read_section_header(const fileio::file& f, uint64_t at, uint64_t file_size,
                                           std::string& problem) {
  std::vector<std::byte> h(16);
  auto n = fileio::pread_full(f, h, static_cast<off_t>(at));
  if (!n) return n.error();
  if (*n < 16) {
    problem = fmt::format("section header at offset {} cut short", at);
    return errc::corrupt_snapshot;
  }
  section_header s;
  std::memcpy(&s.tag, h.data(), 4);
  std::memcpy(&s.length, h.data() + 8, 8);
  if (s.length > file_size || at + 16 + s.length + 4 > file_size) {
    problem =
        fmt::format("section at offset {} claims {} bytes, past the end of the file", at, s.length);
    return errc::corrupt_snapshot;
  }
  return s;
}

result<void> check_crc(const fileio::file& f, uint64_t at, uint32_t computed,
                       std::string& problem) {
  uint32_t stored = 0;
  std::vector<std::byte> b(4);
  auto n = fileio::pread_full(f, b, static_cast<off_t>(at));
  if (!n) return n.error();
  std::memcpy(&stored, b.data(), 4);
  if (*n < 4 || stored != computed) {
    problem = fmt::format("section checksum mismatch at offset {}", at);
    return errc::corrupt_snapshot;
  }
  return {};
}

}  // namespace

std::string snapshot_file_name(uint64_t lsn) {
  return fmt::format("snapshot-{:020}.snap", lsn);
}

std::optional<uint64_t> parse_snapshot_file_name(const std::string& name) {
  if (!name.starts_with("snapshot-") || !name.ends_with(".snap") || name.size() != 9 + 20 + 5) {
    return std::nullopt;
  }
  uint64_t lsn = 0;
  auto [p, ec] = std::from_chars(name.data() + 9, name.data() + 29, lsn);
  if (ec != std::errc{} || p != name.data() + 29) return std::nullopt;
  return lsn;
}

result<std::filesystem::path> write_snapshot(const shard& s, const std::filesystem::path& dir,
                                             uint64_t lsn) {
  auto final_path = dir / snapshot_file_name(lsn);
  auto tmp = final_path;
  tmp += ".tmp";
  auto f = fileio::open_file(tmp, O_WRONLY | O_CREAT | O_TRUNC);
  if (!f) return f.error();
  file_writer w(*f);
  uint32_t sections = 2 + static_cast<uint32_t>(s.indexes_.size());
  if (auto r = w.raw(make_header(lsn, s.store_.size(), sections)); !r) return r.error();

  // Points.
  uint64_t at = 0;
  if (auto r = begin_section(w, kTagPoints, at); !r) return r.error();
  std::vector<std::byte> buf;
  buf.reserve(1 << 16);
  put<uint64_t>(buf, s.store_.size());
  const uint64_t slots = s.store_.slot_count();
  put<uint64_t>(buf, slots);
  for (auto& [id, slot] : s.store_) {
    auto& rec = s.store_.at(slot);
    put<uint32_t>(buf, slot);
    put<uint8_t>(buf, id.is_uuid() ? 1 : 0);
    if (id.is_uuid()) put<uint64_t>(buf, id.hi());
    put<uint64_t>(buf, id.lo());
    put<uint64_t>(buf, rec.version);
    put<uint32_t>(buf, rec.vector_mask);
    put_str(buf, rec.payload ? rec.payload->to_json() : std::string());
    const std::string* sparse = s.store_.sparse(slot);
    put_str(buf, sparse ? *sparse : std::string());
    if (buf.size() >= (1 << 16)) {
      if (auto r = w.write(buf.data(), buf.size()); !r) return r.error();
      buf.clear();
    }
  }
  for (uint64_t slot = 0; slot < slots; ++slot) {
    if (s.store_.live(static_cast<uint32_t>(slot))) continue;
    put<uint32_t>(buf, static_cast<uint32_t>(slot));
    if (buf.size() >= (1 << 16)) {
      if (auto r = w.write(buf.data(), buf.size()); !r) return r.error();
      buf.clear();
    }
  }
  if (auto r = w.write(buf.data(), buf.size()); !r) return r.error();
  if (auto r = end_section(w, at); !r) return r.error();

  // One section per vector index.
  for (size_t i = 0; i < s.indexes_.size(); ++i) {
    if (auto r = begin_section(w, kTagIndex, at); !r) return r.error();
    buf.clear();
    put_str(buf, s.config_->vectors[i].first);
    if (auto r = w.write(buf.data(), buf.size()); !r) return r.error();
    if (auto r = s.indexes_[i]->save(w); !r) return r.error();
    if (auto r = end_section(w, at); !r) return r.error();
  }
  if (auto r = begin_section(w, kTagEnd, at); !r) return r.error();
  if (auto r = end_section(w, at); !r) return r.error();
  if (auto r = w.flush(); !r) return r.error();
  if (auto r = fileio::datasync(*f); !r) return r.error();
  f->close();
  if (auto r = fileio::rename_file(tmp, final_path); !r) return r.error();
  if (auto r = fileio::sync_dir(dir); !r) return r.error();
  return final_path;
}

result<uint64_t> load_snapshot(shard& s, const std::filesystem::path& file) {
  return load_snapshot(snapshot_target{*s.config_, s.store_, s.indexes_}, file);
}

result<uint64_t> load_snapshot(snapshot_target into, const std::filesystem::path& file) {
  std::string problem;
  auto fail = [&](error_code ec) -> result<uint64_t> {
    log().error("snapshot {} is unusable: {}", file.string(),
                problem.empty() ? ec.message() : problem);
    return ec;
  };
  auto f = fileio::open_file(file, O_RDONLY);
  if (!f) return f.error();
  auto size = fileio::size_of(*f);
  if (!size) return size.error();
  auto file_size = static_cast<uint64_t>(*size);
  auto header = read_header(*f, problem);
  if (!header) return fail(header.error());
  uint64_t at = kHeaderSize;
  bool ended = false;
  size_t next_index = 0;
  for (uint32_t i = 0; i < header->sections; ++i) {
    auto sh = read_section_header(*f, at, file_size, problem);
    if (!sh) return fail(sh.error());
    if (sh->tag == kTagPoints) {
      // Checksum the whole section before trusting any count or slot in it.
      section_reader pre(*f, at + 16, sh->length);
      std::vector<std::byte> sink(kBuffer);
      while (pre.remaining().value_or(0) > 0) {
        size_t n = static_cast<size_t>(std::min<uint64_t>(sink.size(), *pre.remaining()));
        if (auto rr = pre.read(sink.data(), n); !rr) return fail(rr.error());
      }
      if (auto c = check_crc(*f, at + 16 + sh->length, pre.crc(), problem); !c) {
        return fail(c.error());
      }
    }
    section_reader r(*f, at + 16, sh->length);
    if (sh->tag == kTagPoints) {
      uint64_t count;
      if (!r.get_u64(count) || count > sh->length / 17) {
        problem = "points section: bad count";
        return fail(errc::corrupt_snapshot);
      }
      // The slot space the store will allocate (a slot is the point's label in every index).
      // Version 2 lists its free slots, so the file pays 4 bytes for each slot not in use.
      uint64_t slots = 0;
      if (header->version >= 2) {
        if (!r.get_u64(slots) || slots < count || slots > UINT32_MAX ||
            slots - count > sh->length / 4) {
          problem = "points section: bad slot count";
          return fail(errc::corrupt_snapshot);
        }
      } else {
        slots = std::min<uint64_t>(count + kV1SpareSlots, UINT32_MAX);
      }
      for (uint64_t p = 0; p < count; ++p) {
        uint32_t slot, mask;
        uint8_t kind = 0;
        uint64_t hi = 0, lo = 0, version;
        std::string payload, sparse;
        if (!r.get_u32(slot) || !r.read(&kind, 1) || kind > 1 || (kind == 1 && !r.get_u64(hi)) ||
            !r.get_u64(lo) || !r.get_u64(version) || !r.get_u32(mask) ||
            !r.get_str(payload, 64u << 20) || !r.get_str(sparse, 64u << 20)) {
          problem = fmt::format("points section: record {} does not decode", p);
          return fail(errc::corrupt_snapshot);
        }
        if (slot >= slots) {
          problem = fmt::format("points section: slot {} of record {} is outside the {} slots",
                                slot, p, slots);
          return fail(errc::corrupt_snapshot);
        }
        point_record rec;
        const auto id = kind ? data::point_id::uuid(hi, lo) : data::point_id::number(lo);
        rec.set_id(id);
        rec.version = version;
        rec.vector_mask = mask;
        if (!payload.empty()) {
          auto v = data::json_value::parse(payload);
          if (!v) {
            problem =
                fmt::format("points section: payload of point {} is not JSON", id.to_string());
            return fail(errc::corrupt_snapshot);
          }
          rec.payload = std::make_unique<data::json_value>(std::move(*v));
        }
        if (into.store.live(slot) || !into.store.insert_at(slot, std::move(rec))) {
          problem = fmt::format("points section: slot {} or point {} appears twice", slot,
                                id.to_string());
          return fail(errc::corrupt_snapshot);
        }
        into.store.set_sparse(slot, std::move(sparse));
      }
      if (header->version >= 2) {
        // Exactly the slots no point holds, each once.
        std::vector<bool> listed(static_cast<size_t>(slots), false);
        for (uint64_t i = 0; i < slots - count; ++i) {
          uint32_t slot;
          if (!r.get_u32(slot) || slot >= slots || into.store.live(slot) || listed[slot]) {
            problem = fmt::format("points section: free slot {} is invalid or repeated", i);
            return fail(errc::corrupt_snapshot);
          }
          listed[slot] = true;
        }
      }
    } else if (sh->tag == kTagIndex) {
      std::string name;
      if (!r.get_str(name, 4096)) {
        problem = "index section: bad vector name";
        return fail(errc::corrupt_snapshot);
      }
      if (next_index >= into.config.vectors.size() ||
          into.config.vectors[next_index].first != name) {
        problem =
            fmt::format("index section for vector \"{}\" does not match the collection", name);
        return fail(errc::corrupt_snapshot);
      }
      auto idx = index::load_index(r);
      if (!idx) {
        problem = fmt::format("index of vector \"{}\": {}", name, idx.error().message());
        return fail(errc::corrupt_snapshot);
      }
      into.indexes[next_index++] = std::move(*idx);
    } else if (sh->tag == kTagEnd) {
      ended = true;
    } else {
      problem = fmt::format("unknown section tag {}", sh->tag);
      return fail(errc::corrupt_snapshot);
    }
    if (r.remaining() != 0u) {
      std::vector<std::byte> rest(static_cast<size_t>(*r.remaining()));
      (void)r.read(rest.data(), rest.size());
      problem = fmt::format("section at offset {} has {} unread bytes", at, rest.size());
      return fail(errc::corrupt_snapshot);
    }
    if (auto c = check_crc(*f, at + 16 + sh->length, r.crc(), problem); !c) return fail(c.error());
    at += 16 + sh->length + 4;
  }
  if (!ended || next_index != into.indexes.size() || at != file_size) {
    problem = "incomplete: sections missing or trailing bytes";
    return fail(errc::corrupt_snapshot);
  }
  if (into.store.size() != header->points) {
    problem = "point count differs from the header";
    return fail(errc::corrupt_snapshot);
  }
  into.store.finish_loading();
  // The checksum the shard then keeps up to date with every apply (replica_digest.h).
  into.store.checksum() = compute_checksum(into.config, into.store, into.indexes);
  return header->lsn;
}

result<snapshot_summary> inspect_snapshot(const std::filesystem::path& file,
                                          std::string* problem_out) {
  std::string problem;
  auto fail = [&](error_code ec) -> result<snapshot_summary> {
    if (problem_out) *problem_out = problem.empty() ? ec.message() : problem;
    return ec;
  };
  auto f = fileio::open_file(file, O_RDONLY);
  if (!f) return fail(f.error());
  auto size = fileio::size_of(*f);
  if (!size) return fail(size.error());
  auto header = read_header(*f, problem);
  if (!header) return fail(header.error());
  snapshot_summary out;
  out.lsn = header->lsn;
  out.created_ms = header->created;
  out.points = header->points;
  uint64_t at = kHeaderSize;
  bool ended = false;
  for (uint32_t i = 0; i < header->sections; ++i) {
    auto sh = read_section_header(*f, at, static_cast<uint64_t>(*size), problem);
    if (!sh) return fail(sh.error());
    section_reader r(*f, at + 16, sh->length);
    std::string name = sh->tag == kTagPoints ? "points" : sh->tag == kTagEnd ? "end" : "index";
    if (sh->tag == kTagIndex) {
      std::string vname;
      if (!r.get_str(vname, 4096)) {
        problem = "index section: bad vector name";
        return fail(errc::corrupt_snapshot);
      }
      name += " \"" + vname + "\"";
    }
    std::vector<std::byte> sink(64 * 1024);
    while (r.remaining().value_or(0) > 0) {
      size_t n = static_cast<size_t>(std::min<uint64_t>(sink.size(), *r.remaining()));
      if (auto rr = r.read(sink.data(), n); !rr) return fail(rr.error());
    }
    if (auto c = check_crc(*f, at + 16 + sh->length, r.crc(), problem); !c) return fail(c.error());
    out.sections.emplace_back(name, sh->length);
    if (sh->tag == kTagEnd) ended = true;
    at += 16 + sh->length + 4;
  }
  if (!ended || at != static_cast<uint64_t>(*size)) {
    problem = "incomplete: no end section or trailing bytes";
    return fail(errc::corrupt_snapshot);
  }
  return out;
}

}  // namespace shoal::shard
