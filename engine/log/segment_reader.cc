#include "engine/log/segment_reader.h"

#include <algorithm>
#include <fcntl.h>

#include <fmt/format.h>

#include "engine/log/errc.h"

namespace shoal::wal {

result<segment_reader> segment_reader::open(const std::filesystem::path& path, uint64_t limit) {
  segment_reader r;
  auto f = fileio::open_file(path, O_RDONLY);
  if (!f) return f.error();
  r.file_ = std::move(*f);
  auto size = fileio::size_of(r.file_);
  if (!size) return size.error();
  r.file_size_ = static_cast<uint64_t>(*size);
  if (limit && limit < r.file_size_) r.file_size_ = limit;
  std::array<std::byte, kSegmentHeaderSize> head{};
  auto n = fileio::pread_full(r.file_, head, 0);
  if (!n) return n.error();
  if (*n < kSegmentHeaderSize) return errc::corrupt_segment;
  auto h = decode_segment_header(head);
  if (!h) return h.error();
  r.header_ = *h;
  r.offset_ = kSegmentHeaderSize;
  r.next_lsn_ = h->base_lsn;
  r.last_indexed_ = 0;
  return r;
}

void segment_reader::seek(uint64_t offset, uint64_t lsn) {
  offset_ = offset;
  next_lsn_ = lsn;
  buffer_.clear();
  buffer_offset_ = offset;
  at_end_ = false;
  stop_.reset();
}

bool segment_reader::fill(size_t need) {
  uint64_t have_from = offset_ - buffer_offset_;
  if (buffer_offset_ <= offset_ && buffer_.size() >= have_from + need) return true;
  if (offset_ + need > file_size_) return false;
  // Keep reads large: at least 1 MiB, or the whole record when it is bigger.
  size_t want = std::max<size_t>(need, 1 << 20);
  want = static_cast<size_t>(std::min<uint64_t>(want, file_size_ - offset_));
  buffer_.resize(want);
  buffer_offset_ = offset_;
  auto n = fileio::pread_full(file_, buffer_, static_cast<off_t>(offset_));
  if (!n) {
    io_error_ = n.error();
    return false;
  }
  buffer_.resize(*n);
  return *n >= need;
}

result<std::vector<log_record>> segment_reader::next(size_t max_bytes, uint64_t skip_below,
                                                     uint64_t stop_before) {
  std::vector<log_record> out;
  size_t collected = 0;
  while (!at_end_ && !stop_ && next_lsn_ < stop_before) {
    if (offset_ == file_size_) {
      at_end_ = true;
      break;
    }
    if (!fill(kRecordHeaderSize)) {
      if (io_error_) return io_error_;
      stop_ = read_stop{offset_, "record header cut short by the end of the file", true};
      break;
    }
    const std::byte* p = buffer_.data() + (offset_ - buffer_offset_);
    auto h =
        decode_record_header(std::span<const std::byte, kRecordHeaderSize>(p, kRecordHeaderSize));
    if (h.stored_len > kMaxRecordBody || h.raw_len > kMaxRecordBody || (h.flags & ~kFlagLz4)) {
      stop_ = read_stop{
          offset_,
          fmt::format("implausible record header (length {}, flags {})", h.stored_len, h.flags),
          false};
      break;
    }
    size_t total = kRecordHeaderSize + h.stored_len;
    if (!fill(total)) {
      if (io_error_) return io_error_;
      stop_ = read_stop{offset_, "record cut short by the end of the file", true};
      break;
    }
    p = buffer_.data() + (offset_ - buffer_offset_);
    if (!record_checksum_ok({p, total})) {
      stop_ = read_stop{offset_, fmt::format("checksum mismatch in the record at LSN {}", h.lsn),
                        false};
      break;
    }
    if (h.lsn != next_lsn_) {
      stop_ =
          read_stop{offset_, fmt::format("LSN {} where {} was expected", h.lsn, next_lsn_), false};
      break;
    }
    if (offset_ - last_indexed_ >= index_every_ || last_indexed_ == 0) {
      index_.emplace_back(h.lsn, offset_);
      last_indexed_ = offset_;
    }
    if (h.lsn >= skip_below) {
      auto body = decode_body(h, {p + kRecordHeaderSize, h.stored_len});
      if (!body) {
        stop_ =
            read_stop{offset_, fmt::format("the body of LSN {} does not decompress", h.lsn), false};
        break;
      }
      collected += body->size() + kRecordHeaderSize;
      out.push_back(log_record{h.lsn, h.term, h.type, std::move(*body)});
    }
    offset_ += total;
    ++next_lsn_;
    if (collected >= max_bytes && !out.empty()) break;
  }
  return out;
}

result<bool> segment_reader::valid_record_follows() {
  if (!stop_) return false;
  uint64_t from = stop_->offset + 1;
  if (from + kRecordHeaderSize > file_size_) return false;
  std::vector<std::byte> rest(static_cast<size_t>(file_size_ - from));
  auto n = fileio::pread_full(file_, rest, static_cast<off_t>(from));
  if (!n) return error_result<bool>(n.error());
  rest.resize(*n);
  for (size_t i = 0; i + kRecordHeaderSize <= rest.size(); ++i) {
    auto h = decode_record_header(
        std::span<const std::byte, kRecordHeaderSize>(rest.data() + i, kRecordHeaderSize));
    // Cheap plausibility first: garbage almost never gets past these.
    if (h.lsn < next_lsn_ || h.lsn > next_lsn_ + (1ull << 32)) continue;
    if (h.stored_len > kMaxRecordBody || (h.flags & ~kFlagLz4)) continue;
    if (i + kRecordHeaderSize + h.stored_len > rest.size()) continue;
    if (record_checksum_ok({rest.data() + i, kRecordHeaderSize + h.stored_len})) return true;
  }
  return false;
}

std::vector<std::pair<uint64_t, uint64_t>> segment_reader::take_index_entries() {
  return std::exchange(index_, {});
}

}  // namespace shoal::wal
