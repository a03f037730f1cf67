// Fuzz target: the mutation log's record decoder — a segment file read as recovery and log
// shipping read it (engine/log/segment_reader.h, format.h) and each record's body decoded as
// the shard decodes it on replay (engine/shard/mutation.h).
//
// Input: the bytes of one segment file ("<base_lsn>-<term>.log"). It is written to a scratch
// file and read with segment_reader::open and next() in small batches until the end or the
// first bad record; after a stop, valid_record_follows() scans the rest (what decides between
// a torn tail and corruption). Every record whose body decodes must encode again and decode to
// the same encoding (a record replayed, snapshotted or shipped stays the same mutation); a
// difference aborts.
//
// A structure-aware mutator repairs the segment header's CRC, each record's CRC and, most of
// the time, the LSN sequence, so mutated records reach the body decoders.

#include <cstdlib>
#include <vector>

#include "engine/log/format.h"
#include "engine/log/segment_reader.h"
#include "engine/shard/mutation.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

using namespace shoal;

void check_mutation(const wal::log_record& rec) {
  auto m = shard::decode_mutation(rec.type, rec.body);
  if (!m) return;
  auto once = shard::encode_mutation(*m);
  auto again = shard::decode_mutation(static_cast<uint8_t>(shard::type_of(*m)), once);
  if (!again) std::abort();  // an encoded mutation that does not decode
  if (shard::encode_mutation(*again) != once) std::abort();  // not stable
}

void repair(uint8_t* data, size_t size, fuzz::coin& coin) {
  if (size < wal::kSegmentHeaderSize) return;
  fuzz::store<uint32_t>(data + 12, 0);
  fuzz::set_crc(data + 12, data, wal::kSegmentHeaderSize);
  uint64_t lsn = fuzz::load<uint64_t>(data + 16);
  const bool fix_lsns = !coin.one_in(4);
  size_t at = wal::kSegmentHeaderSize;
  while (size - at >= wal::kRecordHeaderSize) {
    uint8_t* r = data + at;
    const uint32_t stored = fuzz::load<uint32_t>(r + 4);
    if (stored > size - at - wal::kRecordHeaderSize) break;
    if (fix_lsns) fuzz::store<uint64_t>(r + 16, lsn++);
    fuzz::set_crc(r, r + 4, wal::kRecordHeaderSize - 4 + stored);
    at += wal::kRecordHeaderSize + stored;
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  shoal::fuzz::quiet_logs();
  return 0;
}

extern "C" size_t LLVMFuzzerCustomMutator(uint8_t* data, size_t size, size_t max_size,
                                          unsigned int seed) {
  fuzz::coin coin(seed);
  size = LLVMFuzzerMutate(data, size, max_size);
  if (!coin.one_in(8)) repair(data, size, coin);
  return size;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static fuzz::scratch_file file("shoal-fuzz-segment");
  auto reader = wal::segment_reader::open(file.write(data, size));
  if (!reader) return 0;
  reader->set_index_every(256);
  for (int batches = 0; batches < 10000; ++batches) {
    auto records = reader->next(4096);
    if (!records) return 0;
    for (const auto& rec : *records) check_mutation(rec);
    if (reader->at_end() || reader->stop() || records->empty()) break;
  }
  (void)reader->take_index_entries();
  if (reader->stop()) (void)reader->valid_record_follows();
  return 0;
}
