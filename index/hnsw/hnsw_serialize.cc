// HNSW snapshots. After the io/format.h header (params = {slot count, m, ef_construction,
// ef_search}) come six sections, always in this order (empty where they do not apply):
//   1 meta        u32 entry slot (0xffffffff when empty), u32 max level, u64 live points,
//                 u64 free slots, u8 quantizer trained, u64 quantization_train_size,
//                 f32 quantization quantile
//   2 level 0     slot count x stride bytes: the records exactly as in memory (hnsw_graph.h)
//   3 upper       for each slot with level > 0, in slot order: level x (1 + m) u32
//   4 vectors     int8 indexes: slot count x dim f32 (the rescoring copy)
//   5 quantizer   int8 indexes with a trained quantizer: f32 scale, f32 offsets[dim]
//   6 free slots  u32 x free count
// The loader re-derives every size from the header, verifies each checksum, then checks the
// structure (states, levels, link counts and targets, label uniqueness, free list, entry
// point) before returning the index, so a search can never run into a bad link.
#include <cmath>
#include <cstring>

#include "index/errc.h"
#include "index/hnsw/hnsw_index.h"

namespace shoal::index {
namespace {

enum section : uint32_t {
  kMeta = 1,
  kLevel0 = 2,
  kUpper = 3,
  kVectors = 4,
  kQuantizer = 5,
  kFree = 6,
};

template <typename T>
std::span<const std::byte> as_bytes_of(const T* p, size_t n) {
  return std::as_bytes(std::span<const T>(p, n));
}

}  // namespace

result<void> hnsw_index::save(byte_sink& sink) const {
  io::file_header h;
  h.kind = index_kind::hnsw;
  h.metric = config_.metric;
  h.quantization = config_.quantization;
  h.dim = static_cast<uint32_t>(config_.dim);
  h.section_count = 6;
  h.params[0] = graph_.slot_count();
  h.params[1] = config_.m;
  h.params[2] = config_.ef_construction;
  h.params[3] = config_.ef_search;
  if (auto r = io::write_header(sink, h); !r) return r;

  io::field_writer meta;
  meta.put<uint32_t>(entry_)
      .put<uint32_t>(max_level_)
      .put<uint64_t>(slots_.size())
      .put<uint64_t>(free_.size())
      .put<uint8_t>(quantizer_.trained() ? 1 : 0)
      .put<uint64_t>(config_.quantization_train_size)
      .put<float>(config_.quantization_quantile);
  std::span<const std::byte> meta_pieces[] = {meta.bytes()};
  if (auto r = io::write_section(sink, kMeta, meta_pieces); !r) return r;

  std::vector<std::span<const std::byte>> level0;
  for (size_t i = 0; i < graph_.used_chunks(); ++i) level0.push_back(graph_.chunk_bytes(i));
  if (auto r = io::write_section(sink, kLevel0, level0); !r) return r;

  std::vector<std::span<const std::byte>> upper;
  for (size_t s = 0; s < graph_.slot_count(); ++s) {
    const unsigned level = graph_.level(static_cast<slot_t>(s));
    if (level > 0 && graph_.is_live(static_cast<slot_t>(s))) {
      upper.push_back(as_bytes_of(graph_.upper(static_cast<slot_t>(s)), graph_.upper_words(level)));
    }
  }
  if (auto r = io::write_section(sink, kUpper, upper); !r) return r;

  std::span<const std::byte> vectors[] = {
      io::bytes_of(std::span<const float>(vectors_.data(), vectors_.size()))};
  if (auto r = io::write_section(sink, kVectors, vectors); !r) return r;

  io::field_writer quant;
  if (quantizer_.trained()) {
    quant.put<float>(quantizer_.scale());
    for (float o : quantizer_.offsets()) quant.put<float>(o);
  }
  std::span<const std::byte> quant_pieces[] = {quant.bytes()};
  if (auto r = io::write_section(sink, kQuantizer, quant_pieces); !r) return r;

  std::span<const std::byte> free_pieces[] = {io::bytes_of(free_)};
  return io::write_section(sink, kFree, free_pieces);
}

result<std::unique_ptr<hnsw_index>> hnsw_index::load_body(const io::file_header& h,
                                                          byte_source& source) {
  if (h.kind != index_kind::hnsw) return errc::wrong_index_kind;
  if (h.section_count != 6) return errc::corrupt_file;
  const uint64_t slot_count = h.params[0];
  if (slot_count >= invalid_slot - 1) return errc::corrupt_file;
  hnsw_config config;
  config.dim = h.dim;
  config.metric = h.metric;
  config.quantization = h.quantization;
  config.m = h.params[1];
  config.ef_construction = h.params[2];
  config.ef_search = h.params[3];
  if (!config.validate()) return errc::corrupt_file;

  std::vector<std::byte> meta_bytes;
  // The meta section has a fixed size: 4 + 4 + 8 + 8 + 1 + 8 + 4.
  if (auto r = io::read_section(source, kMeta, 37, meta_bytes); !r) return r.error();
  io::field_reader meta(meta_bytes);
  const auto entry = meta.get<uint32_t>();
  const auto max_level = meta.get<uint32_t>();
  const auto live = meta.get<uint64_t>();
  const auto free_count = meta.get<uint64_t>();
  const auto trained = meta.get<uint8_t>();
  config.quantization_train_size = meta.get<uint64_t>();
  config.quantization_quantile = meta.get<float>();
  if (!meta.ok() || !config.validate() || trained > 1) return errc::corrupt_file;
  if (live + free_count != slot_count || max_level > hnsw_graph::kMaxLevel) {
    return errc::corrupt_file;
  }
  if (trained && config.quantization != quantization_kind::int8) return errc::corrupt_file;

  std::unique_ptr<hnsw_index> index(new hnsw_index(config));
  hnsw_index& x = *index;
  hnsw_graph& g = x.graph_;
  const size_t d = config.dim;

  // Level 0: read straight into the block.
  {
    if (auto r = io::read_section_head(source, kLevel0, slot_count * g.stride()); !r) {
      return r.error();
    }
    uint32_t crc = 0;
    // Grow chunk by chunk as data arrives, so a truncated stream never forces a huge
    // allocation; each read stays inside one chunk.
    const size_t chunk_slots = g.chunk_slots();
    try {
      g.reset(0);
      for (size_t done = 0; done < slot_count;) {
        const size_t n = std::min<size_t>(chunk_slots - done % chunk_slots, slot_count - done);
        g.reserve(done + n);
        for (size_t i = 0; i < n; ++i) g.append_slot();
        auto r = io::read_payload(source, g.record(static_cast<slot_t>(done)), n * g.stride(), crc);
        if (!r) return r.error();
        done += n;
      }
    } catch (const std::bad_alloc&) {
      return errc::corrupt_file;
    }
    if (auto r = io::read_section_tail(source, crc); !r) return r.error();
  }

  // Records: states, levels, level-0 links, labels.
  uint64_t upper_words = 0;
  uint64_t live_seen = 0;
  unsigned tallest = 0;
  x.labels_.assign(slot_count, invalid_label);
  x.slots_.reserve(live);
  for (size_t s = 0; s < slot_count; ++s) {
    const auto slot = static_cast<slot_t>(s);
    const uint8_t state = static_cast<uint8_t>(g.state(slot));
    const unsigned level = g.level(slot);
    const uint32_t count = g.link_count(slot, 0);
    if (state > 1 || level > max_level) return errc::corrupt_file;
    if (state == 0) {
      if (level != 0 || count != 0) return errc::corrupt_file;
      continue;
    }
    if (count > g.max_links0()) return errc::corrupt_file;
    const slot_t* links = g.links(slot, 0);
    for (uint32_t i = 0; i < count; ++i) {
      if (links[i] >= slot_count) return errc::corrupt_file;
    }
    const label_t label = g.label(slot);
    if (label == invalid_label || !x.slots_.insert(label, slot)) return errc::corrupt_file;
    x.labels_[s] = label;
    upper_words += g.upper_words(level);
    tallest = std::max(tallest, level);
    ++live_seen;
  }
  if (live_seen != live) return errc::corrupt_file;

  // Upper levels.
  {
    if (auto r = io::read_section_head(source, kUpper, upper_words * sizeof(uint32_t)); !r) {
      return r.error();
    }
    uint32_t crc = 0;
    for (size_t s = 0; s < slot_count; ++s) {
      const auto slot = static_cast<slot_t>(s);
      const unsigned level = g.level(slot);
      if (level == 0 || !g.is_live(slot)) continue;
      const size_t words = g.upper_words(level);
      auto links = std::make_unique<uint32_t[]>(words);
      if (auto r = io::read_payload(source, links.get(), words * sizeof(uint32_t), crc); !r) {
        return r.error();
      }
      for (unsigned l = 0; l < level; ++l) {
        const uint32_t* block = links.get() + size_t{l} * (1 + config.m);
        if (block[0] > config.m) return errc::corrupt_file;
        for (uint32_t i = 1; i <= block[0]; ++i) {
          if (block[i] >= slot_count) return errc::corrupt_file;
        }
      }
      g.adopt_upper(slot, std::move(links));
    }
    if (auto r = io::read_section_tail(source, crc); !r) return r.error();
  }

  const bool int8 = config.quantization == quantization_kind::int8;
  if (auto r = io::read_section(source, kVectors, int8 ? slot_count * d : 0, x.vectors_); !r) {
    return r.error();
  }
  std::vector<float> quant;
  if (auto r = io::read_section(source, kQuantizer, trained ? 1 + d : 0, quant); !r) {
    return r.error();
  }
  if (trained) {
    for (float v : quant) {
      if (!std::isfinite(v)) return errc::corrupt_file;
    }
    if (!(quant[0] > 0)) return errc::corrupt_file;
    x.quantizer_.assign(quant[0], std::vector<float>(quant.begin() + 1, quant.end()));
  }
  if (auto r = io::read_section(source, kFree, free_count, x.free_); !r) return r.error();
  {
    std::vector<bool> listed(slot_count, false);
    for (slot_t s : x.free_) {
      if (s >= slot_count || listed[s] || g.is_live(s)) return errc::corrupt_file;
      listed[s] = true;
    }
  }

  if (live == 0) {
    if (entry != invalid_slot) return errc::corrupt_file;
  } else {
    if (entry >= slot_count || !g.is_live(entry) || g.level(entry) != max_level ||
        tallest != max_level) {
      return errc::corrupt_file;
    }
  }
  x.entry_ = live == 0 ? invalid_slot : entry;
  x.max_level_ = live == 0 ? 0 : max_level;
  x.level_rng_.seed(config.seed ^ slot_count);
  return index;
}

}  // namespace shoal::index
