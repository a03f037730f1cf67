// Applying mutations to a shard's memory: points, vector indexes, payloads, payload indexes.
// Runs both for new writes and for log replay, so it must be deterministic and must not fail:
// everything that could make it fail was validated before the mutation was logged.
// Every change to a point also moves the store's checksum (replica_digest.h): the point's hash
// is subtracted before the change and added after it.

#include "engine/common/logger.h"
#include "engine/shard/shard.h"

namespace shoal::shard {
namespace {

spdlog::logger& log() {
  static auto& l = logging::get("shard");
  return l;
}

/// The object at `path` inside `root`, created along the way when keys are missing. For "[]"
/// steps, every element; for "[n]", that element. Non-object values in the way are replaced by
/// objects only for plain keys (as Qdrant's set_payload with `key` does).
void objects_at(data::json_value& root, const data::key_path& path, size_t step,
                std::vector<data::json_value*>& out) {
  if (step == path.steps().size()) {
    if (!root.is_object()) root = data::json_value(data::json_value::object{});
    out.push_back(&root);
    return;
  }
  auto& s = path.steps()[step];
  using kind = data::key_path::step::kind;
  if (s.k == kind::key) {
    if (!root.is_object()) root = data::json_value(data::json_value::object{});
    auto* child = root.find(s.key);
    if (!child) child = &root.set(s.key, data::json_value(data::json_value::object{}));
    objects_at(*child, path, step + 1, out);
  } else if (root.is_array()) {
    auto& arr = root.as_array();
    if (s.k == kind::every) {
      for (auto& e : arr) objects_at(e, path, step + 1, out);
    } else if (s.index < arr.size()) {
      objects_at(arr[s.index], path, step + 1, out);
    }
  }
}

/// Removes the value at `path` (every match for "[]").
void erase_at(data::json_value& root, const data::key_path& path, size_t step) {
  auto& s = path.steps()[step];
  using kind = data::key_path::step::kind;
  bool last = step + 1 == path.steps().size();
  if (s.k == kind::key) {
    if (!root.is_object()) return;
    if (last) {
      root.erase(s.key);
    } else if (auto* child = root.find(s.key)) {
      erase_at(*child, path, step + 1);
    }
    return;
  }
  if (!root.is_array()) return;
  auto& arr = root.as_array();
  if (s.k == kind::every) {
    if (last) {
      arr.clear();
    } else {
      for (auto& e : arr) erase_at(e, path, step + 1);
    }
  } else if (s.index < arr.size()) {
    if (last) {
      arr.erase(arr.begin() + static_cast<ptrdiff_t>(s.index));
    } else {
      erase_at(arr[s.index], path, step + 1);
    }
  }
}

size_t payload_cost(const data::json_value& v) {
  return v.heap_bytes() + sizeof(data::json_value);
}

}  // namespace

void shard::index_payload(uint32_t slot, const data::json_value& payload) {
  for (auto& [field, idx] : payload_indexes_) idx->add(slot, payload);
}

void shard::unindex_payload(uint32_t slot, const data::json_value& payload) {
  for (auto& [field, idx] : payload_indexes_) idx->remove(slot, payload);
}

uint64_t shard::hash_of(uint32_t slot) {
  return point_hash(*config_, store_, indexes_, slot, digest_scratch_);
}

void shard::apply(mutation&& m, uint64_t lsn) {
  if (auto* u = std::get_if<upsert_mutation>(&m)) {
    apply_upsert(std::move(*u), lsn);
  } else if (auto* d = std::get_if<delete_mutation>(&m)) {
    apply_delete(*d);
  } else {
    apply_payload(std::move(std::get<payload_mutation>(m)), lsn);
  }
}

void shard::apply_upsert(upsert_mutation&& u, uint64_t lsn) {
  auto& vectors = config_->vectors;
  for (auto& p : u.points) {
    bool inserted = false;
    uint32_t slot = store_.find_or_insert(p.id, inserted);
    if (!inserted) store_.checksum().remove(hash_of(slot));
    auto& rec = store_.at(slot);
    uint32_t mask = 0;
    for (size_t i = 0; i < vectors.size(); ++i) {
      const named_vector* given = nullptr;
      for (auto& v : p.vectors) {
        if (v.name == vectors[i].first) given = &v;
      }
      if (given) {
        if (auto r = indexes_[i]->add(slot, given->values); r) {
          mask |= 1u << i;
        } else {
          log().error("point {} vector \"{}\": {} (skipped)", p.id.to_string(), vectors[i].first,
                      r.error().message());
          if (rec.vector_mask & (1u << i)) (void)indexes_[i]->remove(slot);
        }
      } else if (rec.vector_mask & (1u << i)) {
        (void)indexes_[i]->remove(slot);
      }
    }
    rec.vector_mask = mask;
    if (rec.payload) {
      unindex_payload(slot, *rec.payload);
      store_.payload_bytes() -= std::min(store_.payload_bytes(), payload_cost(*rec.payload));
      rec.payload.reset();
    }
    if (p.payload && p.payload->is_object() && !p.payload->as_object().empty()) {
      rec.payload = std::make_unique<data::json_value>(std::move(*p.payload));
      store_.payload_bytes() += payload_cost(*rec.payload);
      index_payload(slot, *rec.payload);
    }
    store_.set_sparse(slot, std::move(p.sparse_json));
    rec.version = lsn;
    store_.checksum().add(hash_of(slot));
  }
}

void shard::apply_delete(const delete_mutation& d) {
  for (auto& id : d.ids) {
    auto slot = store_.find(id);
    if (!slot) continue;
    store_.checksum().remove(hash_of(*slot));
    auto& rec = store_.at(*slot);
    for (size_t i = 0; i < indexes_.size(); ++i) {
      if (rec.vector_mask & (1u << i)) (void)indexes_[i]->remove(*slot);
    }
    if (rec.payload) unindex_payload(*slot, *rec.payload);
    store_.erase(*slot);
  }
}

void shard::apply_payload(payload_mutation&& pm, uint64_t lsn) {
  std::optional<data::key_path> key;
  if (pm.key) {
    auto k = data::key_path::parse(*pm.key);
    if (k) key = std::move(*k);
  }
  std::vector<data::key_path> delete_paths;
  for (auto& k : pm.keys) {
    if (auto p = data::key_path::parse(k)) delete_paths.push_back(std::move(*p));
  }
  for (auto& id : pm.ids) {
    auto slot = store_.find(id);
    if (!slot) continue;
    store_.checksum().remove(hash_of(*slot));
    auto& rec = store_.at(*slot);
    if (rec.payload) {
      unindex_payload(*slot, *rec.payload);
      store_.payload_bytes() -= std::min(store_.payload_bytes(), payload_cost(*rec.payload));
    }
    data::json_value next =
        rec.payload ? std::move(*rec.payload) : data::json_value(data::json_value::object{});
    switch (pm.type) {
      case mutation_type::set_payload: {
        std::vector<data::json_value*> targets;
        if (key) {
          objects_at(next, *key, 0, targets);
        } else {
          targets.push_back(&next);
        }
        for (auto* t : targets) {
          for (auto& [k, v] : pm.payload.as_object()) t->set(k, v);
        }
        break;
      }
      case mutation_type::overwrite_payload:
        if (key) {
          std::vector<data::json_value*> targets;
          objects_at(next, *key, 0, targets);
          for (auto* t : targets) *t = pm.payload;
        } else {
          next = pm.payload;
        }
        break;
      case mutation_type::delete_payload_keys:
        for (auto& path : delete_paths) erase_at(next, path, 0);
        break;
      case mutation_type::clear_payload:
        next = data::json_value(data::json_value::object{});
        break;
      default:
        break;
    }
    if (next.is_object() && !next.as_object().empty()) {
      rec.payload = std::make_unique<data::json_value>(std::move(next));
      store_.payload_bytes() += payload_cost(*rec.payload);
      index_payload(*slot, *rec.payload);
    } else {
      rec.payload.reset();
    }
    rec.version = lsn;
    store_.checksum().add(hash_of(*slot));
  }
}

}  // namespace shoal::shard
