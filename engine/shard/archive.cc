#include "engine/shard/archive.h"

#include <array>
#include <cstring>
#include <fcntl.h>
#include <memory>

#include <fmt/format.h>
#include <openssl/evp.h>

#include "engine/common/crc32c.h"
#include "engine/common/file_io.h"
#include "engine/shard/errc.h"

namespace shoal::shard {
namespace {

constexpr char kMagic[8] = {'S', 'H', 'O', 'A', 'L', 'A', 'R', 'C'};
constexpr size_t kHeader = 32;
constexpr size_t kChunk = 1 << 20;
constexpr size_t kMaxName = 4096;

template <typename T>
void put(std::vector<std::byte>& b, T v) {
  auto at = b.size();
  b.resize(at + sizeof v);
  std::memcpy(b.data() + at, &v, sizeof v);
}

struct entry_pos {
  std::string name;
  uint64_t offset = 0;  // of the bytes
  uint64_t size = 0;
};

/// Walks the entries, checking each checksum; calls on_entry(pos) after each is validated.
result<std::vector<entry_pos>> scan(const fileio::file& f, std::string& problem) {
  auto size = fileio::size_of(f);
  if (!size) return size.error();
  auto file_size = static_cast<uint64_t>(*size);
  std::vector<std::byte> h(kHeader);
  auto n = fileio::pread_full(f, h, 0);
  if (!n) return n.error();
  if (*n < kHeader || std::memcmp(h.data(), kMagic, 8) != 0) {
    problem = "not a Shoal collection archive";
    return errc::corrupt_snapshot;
  }
  uint32_t crc;
  std::memcpy(&crc, h.data() + 28, 4);
  if (crc != crc32c(0, h.data(), 28)) {
    problem = "archive header checksum mismatch";
    return errc::corrupt_snapshot;
  }
  uint16_t version;
  std::memcpy(&version, h.data() + 8, 2);
  if (version != 1) {
    problem = fmt::format("archive format version {} is not supported", version);
    return errc::corrupt_snapshot;
  }
  uint32_t count;
  std::memcpy(&count, h.data() + 12, 4);
  std::vector<entry_pos> out;
  uint64_t at = kHeader;
  std::vector<std::byte> buf(kChunk);
  for (uint32_t i = 0; i < count; ++i) {
    uint32_t name_len = 0;
    std::array<std::byte, 4> nl{};
    if (at + 4 > file_size || !fileio::pread_full(f, nl, static_cast<off_t>(at))) {
      problem = fmt::format("entry {} cut short", i);
      return errc::corrupt_snapshot;
    }
    std::memcpy(&name_len, nl.data(), 4);
    if (name_len == 0 || name_len > kMaxName || at + 4 + name_len + 8 > file_size) {
      problem = fmt::format("entry {} has a bad name length", i);
      return errc::corrupt_snapshot;
    }
    std::string name(name_len, '\0');
    std::vector<std::byte> nb(name_len + 8);
    auto got = fileio::pread_full(f, nb, static_cast<off_t>(at + 4));
    if (!got || *got != nb.size()) {
      problem = fmt::format("entry {} cut short", i);
      return errc::corrupt_snapshot;
    }
    std::memcpy(name.data(), nb.data(), name_len);
    uint64_t len;
    std::memcpy(&len, nb.data() + name_len, 8);
    uint64_t data_at = at + 4 + name_len + 8;
    if (len > file_size || data_at + len + 4 > file_size) {
      problem = fmt::format("entry \"{}\" claims {} bytes, past the end of the file", name, len);
      return errc::corrupt_snapshot;
    }
    uint32_t c = crc32c(0, name.data(), name.size());
    for (uint64_t done = 0; done < len;) {
      size_t want = static_cast<size_t>(std::min<uint64_t>(kChunk, len - done));
      auto r =
          fileio::pread_full(f, std::span(buf.data(), want), static_cast<off_t>(data_at + done));
      if (!r) return r.error();
      if (*r != want) {
        problem = fmt::format("entry \"{}\" cut short", name);
        return errc::corrupt_snapshot;
      }
      c = crc32c(c, buf.data(), want);
      done += want;
    }
    std::array<std::byte, 4> stored{};
    if (!fileio::pread_full(f, stored, static_cast<off_t>(data_at + len))) {
      problem = fmt::format("entry \"{}\" has no checksum", name);
      return errc::corrupt_snapshot;
    }
    uint32_t want_crc;
    std::memcpy(&want_crc, stored.data(), 4);
    if (want_crc != c) {
      problem = fmt::format("entry \"{}\" checksum mismatch", name);
      return errc::corrupt_snapshot;
    }
    out.push_back({name, data_at, len});
    at = data_at + len + 4;
  }
  if (at != file_size) {
    problem = "trailing bytes after the last entry";
    return errc::corrupt_snapshot;
  }
  return out;
}

}  // namespace

result<uint64_t> write_archive(const std::filesystem::path& out,
                               const std::vector<archive_entry>& entries) {
  auto tmp = out;
  tmp += ".tmp";
  auto f = fileio::open_file(tmp, O_WRONLY | O_CREAT | O_TRUNC);
  if (!f) return f.error();
  std::vector<std::byte> h(kHeader);
  std::memcpy(h.data(), kMagic, 8);
  uint16_t version = 1;
  uint32_t count = static_cast<uint32_t>(entries.size());
  std::memcpy(h.data() + 8, &version, 2);
  std::memcpy(h.data() + 12, &count, 4);
  uint32_t hcrc = crc32c(0, h.data(), 28);
  std::memcpy(h.data() + 28, &hcrc, 4);
  uint64_t at = 0;
  if (auto r = fileio::pwrite_all(*f, h, 0); !r) return r.error();
  at += kHeader;
  std::vector<std::byte> buf(kChunk);
  for (auto& e : entries) {
    auto src = fileio::open_file(e.source, O_RDONLY);
    if (!src) return src.error();
    auto size = fileio::size_of(*src);
    if (!size) return size.error();
    std::vector<std::byte> head;
    put<uint32_t>(head, static_cast<uint32_t>(e.name.size()));
    auto name_at = head.size();
    head.resize(name_at + e.name.size());
    std::memcpy(head.data() + name_at, e.name.data(), e.name.size());
    put<uint64_t>(head, static_cast<uint64_t>(*size));
    if (auto r = fileio::pwrite_all(*f, head, static_cast<off_t>(at)); !r) return r.error();
    at += head.size();
    uint32_t c = crc32c(0, e.name.data(), e.name.size());
    for (uint64_t done = 0; done < static_cast<uint64_t>(*size);) {
      auto n = fileio::pread_full(*src, buf, static_cast<off_t>(done));
      if (!n) return n.error();
      if (*n == 0) break;
      c = crc32c(c, buf.data(), *n);
      if (auto r = fileio::pwrite_all(*f, std::span(buf.data(), *n), static_cast<off_t>(at)); !r) {
        return r.error();
      }
      at += *n;
      done += *n;
    }
    std::vector<std::byte> tail;
    put<uint32_t>(tail, c);
    if (auto r = fileio::pwrite_all(*f, tail, static_cast<off_t>(at)); !r) return r.error();
    at += 4;
  }
  if (auto r = fileio::datasync(*f); !r) return r.error();
  f->close();
  if (auto r = fileio::rename_file(tmp, out); !r) return r.error();
  if (auto r = fileio::sync_dir(out.parent_path()); !r) return r.error();
  return at;
}

result<archive_listing> read_archive(const std::filesystem::path& file, std::string* problem) {
  std::string why;
  auto f = fileio::open_file(file, O_RDONLY);
  if (!f) return f.error();
  auto entries = scan(*f, why);
  if (!entries) {
    if (problem) *problem = why;
    return entries.error();
  }
  archive_listing out;
  for (auto& e : *entries) out.entries.emplace_back(e.name, e.size);
  return out;
}

result<void> extract_entry(const std::filesystem::path& file, const std::string& name,
                           const std::filesystem::path& to) {
  std::string why;
  auto f = fileio::open_file(file, O_RDONLY);
  if (!f) return f.error();
  auto entries = scan(*f, why);
  if (!entries) return entries.error();
  for (auto& e : *entries) {
    if (e.name != name) continue;
    auto out = fileio::open_file(to, O_WRONLY | O_CREAT | O_TRUNC);
    if (!out) return out.error();
    std::vector<std::byte> buf(kChunk);
    for (uint64_t done = 0; done < e.size;) {
      size_t want = static_cast<size_t>(std::min<uint64_t>(kChunk, e.size - done));
      auto n =
          fileio::pread_full(*f, std::span(buf.data(), want), static_cast<off_t>(e.offset + done));
      if (!n) return n.error();
      if (auto r = fileio::pwrite_all(*out, std::span(buf.data(), *n), static_cast<off_t>(done));
          !r) {
        return r;
      }
      done += *n;
    }
    return fileio::datasync(*out);
  }
  return errc::corrupt_snapshot;
}

result<std::string> read_entry(const std::filesystem::path& file, const std::string& name,
                               size_t max_bytes) {
  std::string why;
  auto f = fileio::open_file(file, O_RDONLY);
  if (!f) return f.error();
  auto entries = scan(*f, why);
  if (!entries) return entries.error();
  for (auto& e : *entries) {
    if (e.name != name) continue;
    if (e.size > max_bytes) return errc::corrupt_snapshot;
    std::string out(static_cast<size_t>(e.size), '\0');
    auto n = fileio::pread_full(*f, std::as_writable_bytes(std::span(out)),
                                static_cast<off_t>(e.offset));
    if (!n) return n.error();
    return out;
  }
  return errc::corrupt_snapshot;
}

result<std::string> sha256_file(const std::filesystem::path& file) {
  auto f = fileio::open_file(file, O_RDONLY);
  if (!f) return f.error();
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr);
  std::vector<std::byte> buf(kChunk);
  for (off_t at = 0;;) {
    auto n = fileio::pread_full(*f, buf, at);
    if (!n) return n.error();
    if (*n == 0) break;
    EVP_DigestUpdate(ctx.get(), buf.data(), *n);
    at += static_cast<off_t>(*n);
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx.get(), digest, &len);
  std::string hex;
  for (unsigned i = 0; i < len; ++i) hex += fmt::format("{:02x}", digest[i]);
  return hex;
}

}  // namespace shoal::shard
