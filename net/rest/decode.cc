#include "net/rest/decode.h"

#include <algorithm>
#include <cmath>
#include <unordered_map>

#include <fmt/format.h>

#include "engine/data/filter_json.h"
#include "engine/data/json_check.h"

namespace shoal::rest {

using data::input_error;
using simdjson::dom::element_type;

namespace {

std::string join(const std::string& where, const std::string& what) {
  return where.empty() ? what : where + "." + what;
}

}  // namespace

std::optional<element> member(element obj, std::string_view key) {
  element v;
  if (!obj.is_object() || obj.at_key(key).get(v) != simdjson::SUCCESS || v.is_null()) {
    return std::nullopt;
  }
  return v;
}

decoded<std::vector<float>> decode_dense(element v, uint32_t dim, const std::string& where,
                                         index::metric_kind metric) {
  if (!v.is_array()) return input_error::format(where + ": expected an array of numbers");
  std::vector<float> out;
  auto arr = v.get_array().value_unsafe();
  out.reserve(std::min<size_t>(arr.size(), 65536));
  for (auto x : arr) {
    double d;
    if (x.get_double().get(d) != simdjson::SUCCESS) {
      return input_error::format(where + ": expected an array of numbers");
    }
    auto f = static_cast<float>(d);
    if (!std::isfinite(f)) {
      return input_error::wrong_input(
          fmt::format("{}: value {} is not a finite 32-bit float", where, d));
    }
    out.push_back(f);
    if (out.size() > dim) break;
  }
  size_t count = out.size() > dim ? arr.size() : out.size();
  return check_dense(std::move(out), count, dim, where, metric);
}

decoded<std::vector<float>> check_dense(std::vector<float> values, size_t count, uint32_t dim,
                                        const std::string& where, index::metric_kind metric) {
  if (count != dim) {
    return input_error::wrong_input(
        fmt::format("Vector dimension error: expected dim: {}, got {}", dim, count));
  }
  if (metric == index::metric_kind::cosine &&
      std::all_of(values.begin(), values.end(), [](float f) { return f == 0.0f; })) {
    return input_error::wrong_input(
        where + ": a zero vector has no direction, so it cannot be used with Cosine distance");
  }
  return values;
}

namespace {

/// {"indices": [u32...], "values": [finite numbers...]} of equal length, indices unique.
std::optional<input_error> check_sparse(element v, const std::string& where) {
  auto ind = member(v, "indices");
  auto val = member(v, "values");
  if (!v.is_object() || !ind || !val || !ind->is_array() || !val->is_array()) {
    return input_error::format(where +
                               ": a sparse vector is {\"indices\": [...], \"values\": [...]}");
  }
  auto indices = ind->get_array().value_unsafe();
  auto values = val->get_array().value_unsafe();
  if (indices.size() != values.size()) {
    return input_error::validation(
        fmt::format("{}.values: must be the same length as indices ({} values, {} indices)", where,
                    values.size(), indices.size()));
  }
  std::vector<uint32_t> seen;
  seen.reserve(indices.size());
  for (auto i : indices) {
    uint64_t n;
    if (i.get_uint64().get(n) != simdjson::SUCCESS || n > UINT32_MAX) {
      return input_error::format(where + ".indices: expected unsigned 32-bit integers");
    }
    seen.push_back(static_cast<uint32_t>(n));
  }
  std::sort(seen.begin(), seen.end());
  if (std::adjacent_find(seen.begin(), seen.end()) != seen.end()) {
    return input_error::validation(where + ".indices: must be unique");
  }
  for (auto x : values) {
    double d;
    if (x.get_double().get(d) != simdjson::SUCCESS) {
      return input_error::format(where + ".values: expected numbers");
    }
    if (!std::isfinite(static_cast<float>(d))) {
      return input_error::wrong_input(where + ".values: not finite 32-bit floats");
    }
  }
  return std::nullopt;
}

}  // namespace

size_t largest_vector_size(const shard::collection_config& cfg) {
  size_t largest = 0;
  for (const auto& [name, p] : cfg.vectors) largest = std::max<size_t>(largest, p.size);
  return largest;
}

decoded<std::vector<shard::named_vector>> decode_vectors(element v,
                                                         const shard::collection_config& cfg,
                                                         const std::string& where,
                                                         std::string& sparse_json,
                                                         std::vector<float>* given) {
  std::vector<shard::named_vector> out;
  if (v.is_array()) {
    auto* p = cfg.find_vector("");
    if (!p) {
      return input_error::wrong_input(
          "Not existing vector name error: the collection has only named vectors");
    }
    size_t count = given ? given->size() : 0;
    auto values = given ? check_dense(std::move(*given), count, p->size, where, p->metric)
                        : decode_dense(v, p->size, where, p->metric);
    if (!values) return values.error();
    out.push_back({"", std::move(*values)});
    return out;
  }
  if (!v.is_object()) return input_error::format(where + ": expected an array or an object");
  std::string sparse;
  json_writer sw(sparse);
  bool any_sparse = false;
  for (auto field : simdjson::dom::object(v.get_object().value_unsafe())) {
    std::string name(field.key);
    if (field.value.is_null()) continue;
    if (auto* p = cfg.find_vector(name)) {
      auto values = decode_dense(field.value, p->size, join(where, name), p->metric);
      if (!values) return values.error();
      out.push_back({name, std::move(*values)});
    } else if (std::find(cfg.sparse_vectors.begin(), cfg.sparse_vectors.end(), name) !=
               cfg.sparse_vectors.end()) {
      if (auto e = check_sparse(field.value, join(where, name))) return *e;
      if (!any_sparse) sw.begin_object();
      any_sparse = true;
      sw.key(name).raw(simdjson::minify(field.value));
    } else {
      return input_error::wrong_input("Not existing vector name error: " + name);
    }
  }
  if (any_sparse) {
    sw.end_object();
    sparse_json = std::move(sparse);
  }
  return out;
}

namespace {

decoded<std::optional<data::json_value>> decode_payload(std::optional<element> p,
                                                        const data::input_limits& limits,
                                                        const std::string& where) {
  if (!p) return std::optional<data::json_value>{};
  auto v = decode_payload_object(*p, limits, where);
  if (!v) return v.error();
  return std::optional<data::json_value>(std::move(*v));
}

/// A point id given twice in one upsert: the last one wins (as in Qdrant), in the place of the
/// first, so the index never sees a label twice in one batch.
void keep_last_of_duplicates(std::vector<shard::point_write>& points) {
  if (points.size() < 2) return;
  std::unordered_map<data::point_id, size_t> first;
  first.reserve(points.size());
  std::vector<size_t> dropped;
  for (size_t i = 0; i < points.size(); ++i) {
    auto [it, inserted] = first.emplace(points[i].id, i);
    if (!inserted) {
      points[it->second] = std::move(points[i]);
      dropped.push_back(i);
    }
  }
  if (dropped.empty()) return;
  size_t w = 0, d = 0;
  for (size_t i = 0; i < points.size(); ++i) {
    if (d < dropped.size() && dropped[d] == i) {
      ++d;
      continue;
    }
    if (w != i) points[w] = std::move(points[i]);
    ++w;
  }
  points.resize(w);
}

}  // namespace

decoded<std::vector<shard::point_write>> decode_upsert(element body,
                                                       const shard::collection_config& cfg,
                                                       const rest_limits& limits,
                                                       given_vectors* given, upsert_form form) {
  std::vector<shard::point_write> out;
  if (auto points = member(body, "points")) {
    if (form != upsert_form::points) given = nullptr;
    if (!points->is_array()) return input_error::format("points: expected an array");
    auto arr = points->get_array().value_unsafe();
    if (arr.size() > limits.max_points_per_request) {
      return input_error::validation(
          fmt::format("points: {} points in one request, the limit is {}", arr.size(),
                      limits.max_points_per_request));
    }
    out.reserve(arr.size());
    // The fast path read the same array: one entry per element.
    if (given && given->size() != arr.size()) given = nullptr;
    size_t i = 0;
    for (auto item : arr) {
      auto* given_vector = given && (*given)[i] ? &*(*given)[i] : nullptr;
      auto where = fmt::format("points[{}]", i++);
      if (!item.is_object()) return input_error::format(where + ": expected an object");
      shard::point_write w;
      auto id_el = member(item, "id");
      if (!id_el) return input_error::format(where + ": missing field `id`");
      auto id = data::decode_point_id(*id_el, where + ".id");
      if (!id) return id.error();
      w.id = *id;
      if (auto v = member(item, "vector")) {
        auto vectors = decode_vectors(*v, cfg, where + ".vector", w.sparse_json, given_vector);
        if (!vectors) return vectors.error();
        w.vectors = std::move(*vectors);
      } else if (auto vs = member(item, "vectors")) {
        auto vectors = decode_vectors(*vs, cfg, where + ".vectors", w.sparse_json);
        if (!vectors) return vectors.error();
        w.vectors = std::move(*vectors);
      } else if (!cfg.named_vectors && cfg.find_vector("")) {
        return input_error::format(where + ": missing field `vector`");
      }
      auto payload = decode_payload(member(item, "payload"), limits, where + ".payload");
      if (!payload) return payload.error();
      w.payload = std::move(*payload);
      out.push_back(std::move(w));
    }
    keep_last_of_duplicates(out);
    return out;
  }
  if (form != upsert_form::batch) given = nullptr;
  auto batch = member(body, "batch");
  if (!batch) return input_error::format("expected `points` or `batch`");
  if (!batch->is_object()) return input_error::format("batch: expected an object");
  auto ids_el = member(*batch, "ids");
  if (!ids_el) return input_error::format("batch: missing field `ids`");
  auto ids = decode_ids(*ids_el, "batch.ids", limits.max_points_per_request);
  if (!ids) return ids.error();
  size_t n = ids->size();
  out.resize(n);
  for (size_t i = 0; i < n; ++i) out[i].id = (*ids)[i];
  if (auto vectors = member(*batch, "vectors")) {
    // Sparse vectors of each point, as "name":{...} members, joined into one object at the end.
    std::vector<std::string> sparse(n);
    auto per_name = [&](element list, const std::string& name) -> std::optional<input_error> {
      auto where = name.empty() ? std::string("batch.vectors") : "batch.vectors." + name;
      if (!list.is_array() || list.get_array().value_unsafe().size() != n) {
        return input_error::format(where + fmt::format(": expected an array of {} vectors", n));
      }
      auto* p = cfg.find_vector(name);
      bool is_sparse = !p && std::find(cfg.sparse_vectors.begin(), cfg.sparse_vectors.end(),
                                       name) != cfg.sparse_vectors.end();
      if (!p && !is_sparse)
        return input_error::wrong_input("Not existing vector name error: " + name);
      // The fast path read the unnamed column: one entry per element.
      auto* read = name.empty() && given && given->size() == n ? given : nullptr;
      size_t i = 0;
      for (auto v : simdjson::dom::array(list.get_array().value_unsafe())) {
        if (read && (*read)[i] && p) {
          auto& values = *(*read)[i];
          size_t count = values.size();
          auto checked = check_dense(std::move(values), count, p->size,
                                     fmt::format("{}[{}]", where, i), p->metric);
          if (!checked) return checked.error();
          out[i++].vectors.push_back({name, std::move(*checked)});
          continue;
        }
        if (v.is_null()) {
          ++i;
          continue;
        }
        if (is_sparse) {
          if (auto e = check_sparse(v, fmt::format("{}[{}]", where, i))) return e;
          if (!sparse[i].empty()) sparse[i] += ',';
          json_writer(sparse[i]).value(name);
          sparse[i] += ':';
          sparse[i] += simdjson::minify(v);
          ++i;
          continue;
        }
        auto values = decode_dense(v, p->size, fmt::format("{}[{}]", where, i), p->metric);
        if (!values) return values.error();
        out[i++].vectors.push_back({name, std::move(*values)});
      }
      return std::nullopt;
    };
    if (vectors->is_array()) {
      if (auto e = per_name(*vectors, "")) return *e;
    } else if (vectors->is_object()) {
      for (auto field : simdjson::dom::object(vectors->get_object().value_unsafe())) {
        if (auto e = per_name(field.value, std::string(field.key))) return *e;
      }
    } else {
      return input_error::format("batch.vectors: expected an array or an object");
    }
    for (size_t i = 0; i < n; ++i) {
      if (!sparse[i].empty()) out[i].sparse_json = "{" + sparse[i] + "}";
    }
  } else if (!cfg.named_vectors && cfg.find_vector("")) {
    return input_error::format("batch: missing field `vectors`");
  }
  if (auto payloads = member(*batch, "payloads")) {
    if (!payloads->is_array() || payloads->get_array().value_unsafe().size() != n) {
      return input_error::format(
          fmt::format("batch.payloads: expected an array of {} payloads", n));
    }
    size_t i = 0;
    for (auto p : simdjson::dom::array(payloads->get_array().value_unsafe())) {
      std::optional<element> pe;
      if (!p.is_null()) pe = p;
      auto payload = decode_payload(pe, limits, fmt::format("batch.payloads[{}]", i));
      if (!payload) return payload.error();
      out[i++].payload = std::move(*payload);
    }
  }
  keep_last_of_duplicates(out);
  return out;
}

decoded<std::vector<data::point_id>> decode_ids(element arr, const std::string& where, size_t max) {
  if (!arr.is_array()) return input_error::format(where + ": expected an array of point ids");
  auto a = arr.get_array().value_unsafe();
  if (a.size() > max) {
    return input_error::validation(
        fmt::format("{}: {} ids, the limit is {}", where, a.size(), max));
  }
  std::vector<data::point_id> ids;
  ids.reserve(a.size());
  size_t i = 0;
  for (auto e : a) {
    auto id = data::decode_point_id(e, fmt::format("{}[{}]", where, i++));
    if (!id) return id.error();
    ids.push_back(*id);
  }
  return ids;
}

decoded<shard::payload_selector> decode_with_payload(std::optional<element> e,
                                                     shard::payload_selector fallback,
                                                     const data::input_limits& limits) {
  if (!e) return fallback;
  auto paths = [&limits](element list, const char* where) -> decoded<std::vector<data::key_path>> {
    if (!list.is_array()) return input_error::format(std::string(where) + ": expected an array");
    std::vector<data::key_path> out;
    for (auto p : simdjson::dom::array(list.get_array().value_unsafe())) {
      std::string_view s;
      if (p.get_string().get(s) != simdjson::SUCCESS) {
        return input_error::format(std::string(where) + ": expected strings");
      }
      auto kp = decode_key_path(s, limits, where);
      if (!kp) return kp.error();
      out.push_back(std::move(*kp));
    }
    return out;
  };
  shard::payload_selector sel;
  if (e->is_bool()) {
    return e->get_bool().value_unsafe() ? shard::payload_selector::all()
                                        : shard::payload_selector::none();
  }
  if (e->is_array()) {
    auto p = paths(*e, "with_payload");
    if (!p) return p.error();
    sel.m = shard::payload_selector::mode::include;
    sel.paths = std::move(*p);
    return sel;
  }
  if (e->is_object()) {
    if (auto inc = member(*e, "include")) {
      auto p = paths(*inc, "with_payload.include");
      if (!p) return p.error();
      sel.m = shard::payload_selector::mode::include;
      sel.paths = std::move(*p);
      return sel;
    }
    if (auto exc = member(*e, "exclude")) {
      auto p = paths(*exc, "with_payload.exclude");
      if (!p) return p.error();
      sel.m = shard::payload_selector::mode::exclude;
      sel.paths = std::move(*p);
      return sel;
    }
  }
  return input_error::format(
      "with_payload: expected a boolean, a list of keys, or "
      "{\"include\": [...]} / {\"exclude\": [...]}");
}

decoded<shard::vector_selector> decode_with_vector(std::optional<element> e,
                                                   const shard::collection_config& cfg) {
  shard::vector_selector sel;
  if (!e) return sel;
  if (e->is_bool()) {
    sel.all = e->get_bool().value_unsafe();
    return sel;
  }
  if (!e->is_array())
    return input_error::format("with_vector: expected a boolean or a list of names");
  for (auto n : simdjson::dom::array(e->get_array().value_unsafe())) {
    std::string_view name;
    if (n.get_string().get(name) != simdjson::SUCCESS) {
      return input_error::format("with_vector: expected vector names");
    }
    bool sparse = std::find(cfg.sparse_vectors.begin(), cfg.sparse_vectors.end(), name) !=
                  cfg.sparse_vectors.end();
    if (!cfg.find_vector(name) && !sparse) {
      return input_error::wrong_input("Not existing vector name error: " + std::string(name));
    }
    // Shards return sparse vectors only with every vector; write_point keeps the names asked.
    if (sparse) sel.all = true;
    sel.names.emplace_back(name);
  }
  return sel;
}

decoded<shard::vector_selector> decode_with_vector_field(element body,
                                                         const shard::collection_config& cfg) {
  auto e = member(body, "with_vector");
  if (!e) e = member(body, "with_vectors");
  return decode_with_vector(e, cfg);
}

decoded<std::shared_ptr<const data::filter>> decode_filter_field(element body,
                                                                 const std::string& where,
                                                                 const data::input_limits& limits) {
  auto f = member(body, "filter");
  if (!f) return std::shared_ptr<const data::filter>{};
  auto decoded_filter =
      data::decode_filter(*f, where.empty() ? "filter" : where + ".filter", limits);
  if (!decoded_filter) return decoded_filter.error();
  if (decoded_filter->empty()) return std::shared_ptr<const data::filter>{};
  return std::shared_ptr<const data::filter>(
      std::make_shared<data::filter>(std::move(*decoded_filter)));
}

decoded<data::json_value> decode_payload_object(element p, const data::input_limits& limits,
                                                const std::string& where) {
  if (!p.is_object()) return input_error::format(where + ": a payload is a JSON object");
  // Counted on the parsed document first, so nothing is built for a payload over the limits.
  if (auto e = data::check_payload(p, limits, where)) return *e;
  auto v = data::json_value::from_dom(p);
  if (!v) return input_error::format(where + ": " + v.error().message());
  return std::move(*v);
}

decoded<data::key_path> decode_key_path(std::string_view text, const data::input_limits& limits,
                                        const std::string& where) {
  if (text.size() > limits.max_key_length) {
    return input_error::validation(
        fmt::format("{}: a key path of {} bytes is too long, {}", where, text.size(),
                    data::limit_note(limits.max_key_length, "rest.max-key-length", "bytes")));
  }
  auto kp = data::key_path::parse(text);
  if (!kp) return input_error::validation(fmt::format("{}: invalid key path \"{}\"", where, text));
  return std::move(*kp);
}

decoded<size_t> decode_count(element obj, const char* key, size_t fallback, size_t min, size_t max,
                             const std::string& where) {
  auto v = member(obj, key);
  if (!v) return fallback;
  auto path = join(where, key);
  if (v->is_int64() && v->get_int64().value_unsafe() < 0) {
    return input_error::format(path + ": expected a non-negative integer");
  }
  uint64_t n;
  if (v->get_uint64().get(n) != simdjson::SUCCESS) {
    return input_error::format(path + ": expected a non-negative integer");
  }
  if (n < min) {
    return input_error::validation(
        fmt::format("{}: value {} invalid, must be {} or larger", path, n, min));
  }
  // Larger values are not an error (clients send u64::MAX for "everything"): they are capped, so
  // no allocation is ever sized by a client's number.
  return static_cast<size_t>(std::min<uint64_t>(n, max));
}

}  // namespace shoal::rest
