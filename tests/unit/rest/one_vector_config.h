#pragma once
// A collection with one unnamed dense vector, for the decoders' unit tests.

#include "engine/shard/collection_config.h"

namespace shoal::rest {

inline shard::collection_config one_vector_config(uint32_t size, index::metric_kind metric) {
  shard::collection_config cfg;
  cfg.name = "c";
  shard::vector_params p;
  p.size = size;
  p.metric = metric;
  cfg.vectors.emplace_back("", p);
  return cfg;
}

}  // namespace shoal::rest
