#include "engine/shard/collection_config.h"

#include <algorithm>
#include <chrono>

#include <fmt/format.h>
#include <openssl/evp.h>

namespace shoal::shard {
namespace {

using data::decoded;
using data::input_error;
using simdjson::dom::element;

input_error too_many_vectors(const data::input_limits& limits) {
  return input_error::validation(
      fmt::format("vectors: too many vectors in one collection (dense and sparse), {}",
                  data::limit_note(limits.max_named_vectors, "rest.max-named-vectors")));
}

bool present(element obj, const char* key, element& out) {
  return obj.at_key(key).get(out) == simdjson::SUCCESS && !out.is_null();
}

/// An unsigned integer field in [min, max]; absent or null leaves `out` unchanged.
std::optional<input_error> read_u32(element obj, const char* key, const std::string& where,
                                    uint32_t min, uint32_t max, uint32_t& out) {
  element v;
  if (!present(obj, key, v)) return std::nullopt;
  auto path = where.empty() ? std::string(key) : where + "." + key;
  if (v.is_int64() && v.get_int64().value_unsafe() < 0) {
    return input_error::format(fmt::format("{}: invalid value {}, expected an unsigned integer",
                                           path, v.get_int64().value_unsafe()));
  }
  if (!v.is_uint64()) {
    return input_error::format(fmt::format("{}: invalid type, expected an unsigned integer", path));
  }
  uint64_t n = v.get_uint64().value_unsafe();
  if (n < min || n > max) {
    if (max == UINT32_MAX) {
      return input_error::validation(
          fmt::format("{}: value {} invalid, must be {} or larger", path, n, min));
    }
    return input_error::validation(
        fmt::format("{}: value {} invalid, must be from {} to {}", path, n, min, max));
  }
  out = static_cast<uint32_t>(n);
  return std::nullopt;
}

std::optional<input_error> read_bool(element obj, const char* key, const std::string& where,
                                     bool& out) {
  element v;
  if (!present(obj, key, v)) return std::nullopt;
  if (!v.is_bool()) {
    return input_error::format(fmt::format("{}{}{}: invalid type, expected a boolean", where,
                                           where.empty() ? "" : ".", key));
  }
  out = v.get_bool().value_unsafe();
  return std::nullopt;
}

std::optional<input_error> read_hnsw(element obj, const std::string& where, uint32_t& m,
                                     uint32_t& ef_construct, uint32_t* full_scan) {
  element h;
  if (!present(obj, "hnsw_config", h)) return std::nullopt;
  auto at = where.empty() ? std::string("hnsw_config") : where + ".hnsw_config";
  if (!h.is_object()) return input_error::format(at + ": invalid type, expected an object");
  if (auto e = read_u32(h, "m", at, 0, 128, m)) return e;
  if (m == 1)
    return input_error::validation(at + ".m: value 1 invalid, must be 0 or from 2 to 128");
  if (auto e = read_u32(h, "ef_construct", at, 4, 100000, ef_construct)) return e;
  uint32_t fst = full_scan ? *full_scan : 10000;
  if (auto e = read_u32(h, "full_scan_threshold", at, 10, UINT32_MAX, fst)) return e;
  if (full_scan) *full_scan = fst;
  uint32_t ignored = 0;
  if (auto e = read_u32(h, "max_indexing_threads", at, 0, UINT32_MAX, ignored)) return e;
  if (auto e = read_u32(h, "payload_m", at, 0, UINT32_MAX, ignored)) return e;
  return std::nullopt;
}

std::optional<input_error> read_quantization(element obj, const std::string& where,
                                             index::quantization_kind& q) {
  element v;
  if (!present(obj, "quantization_config", v)) return std::nullopt;
  auto at = where.empty() ? std::string("quantization_config") : where + ".quantization_config";
  element scalar;
  if (!v.is_object() || !present(v, "scalar", scalar)) {
    return input_error::wrong_input(
        at + ": only scalar quantization ({\"scalar\": {\"type\": \"int8\"}}) is supported");
  }
  element type;
  if (present(scalar, "type", type) &&
      (!type.is_string() || type.get_string().value_unsafe() != "int8")) {
    return input_error::format(at + ".scalar.type: unknown variant, expected `int8`");
  }
  q = index::quantization_kind::int8;
  return std::nullopt;
}

decoded<vector_params> decode_vector_params(element v, const std::string& where,
                                            const collection_config& defaults,
                                            index::quantization_kind default_quantization,
                                            const data::input_limits& limits) {
  if (!v.is_object()) return input_error::format(where + ": invalid type, expected an object");
  vector_params p;
  p.m = defaults.hnsw_m;
  p.ef_construct = defaults.hnsw_ef_construct;
  p.quantization = default_quantization;
  element size;
  if (!present(v, "size", size)) return input_error::format(where + ": missing field `size`");
  uint32_t max_size = static_cast<uint32_t>(std::min<size_t>(limits.max_vector_size, UINT32_MAX));
  if (auto e = read_u32(v, "size", where, 1, max_size, p.size)) {
    if (e->k == input_error::kind::validation) e->message += " (rest.max-vector-size)";
    return *e;
  }
  element dist;
  if (!present(v, "distance", dist))
    return input_error::format(where + ": missing field `distance`");
  if (!dist.is_string())
    return input_error::format(where + ".distance: invalid type, expected a string");
  auto metric = parse_distance(dist.get_string().value_unsafe());
  if (!metric) {
    return input_error::format(fmt::format(
        "{}.distance: unknown variant `{}`, expected one of `Cosine`, `Euclid`, `Dot`, `Manhattan`",
        where, std::string(dist.get_string().value_unsafe())));
  }
  p.metric = *metric;
  if (auto e = read_bool(v, "on_disk", where, p.on_disk)) return *e;
  if (auto e = read_hnsw(v, where, p.m, p.ef_construct, nullptr)) return *e;
  if (auto e = read_quantization(v, where, p.quantization)) return *e;
  element x;
  if (present(v, "datatype", x) && (!x.is_string() || x.get_string().value_unsafe() != "float32")) {
    return input_error::wrong_input(where + ".datatype: only float32 vectors are supported");
  }
  if (present(v, "multivector_config", x)) {
    return input_error::wrong_input(where + ".multivector_config: multivectors are not supported");
  }
  if (present(v, "index", x)) {
    if (!x.is_string()) return input_error::format(where + ".index: expected \"hnsw\" or \"flat\"");
    auto s = x.get_string().value_unsafe();
    if (s == "flat")
      p.kind = index::index_kind::flat;
    else if (s != "hnsw")
      return input_error::format(where + ".index: expected \"hnsw\" or \"flat\"");
  }
  if (p.m == 0) p.kind = index::index_kind::flat;
  return p;
}

void write_params(json_writer& w, const vector_params& p) {
  w.begin_object()
      .field("size", p.size)
      .field("distance", distance_name(p.metric))
      .field("index", index::to_string(p.kind))
      .field("m", p.m)
      .field("ef_construct", p.ef_construct)
      .field("quantization", index::to_string(p.quantization))
      .field("on_disk", p.on_disk)
      .end_object();
}

}  // namespace

std::optional<durability> parse_durability(std::string_view text) {
  if (text == "memory") return durability::memory;
  if (text == "local") return durability::local;
  if (text == "replicated") return durability::replicated;
  return std::nullopt;
}

std::string_view to_string(durability d) {
  switch (d) {
    case durability::memory:
      return "memory";
    case durability::local:
      return "local";
    case durability::replicated:
      return "replicated";
  }
  return "local";
}

std::optional<index::metric_kind> parse_distance(std::string_view n) {
  if (n == "Cosine") return index::metric_kind::cosine;
  if (n == "Dot") return index::metric_kind::ip;
  if (n == "Euclid") return index::metric_kind::l2;
  if (n == "Manhattan") return index::metric_kind::manhattan;
  return std::nullopt;
}

std::string_view distance_name(index::metric_kind m) {
  switch (m) {
    case index::metric_kind::cosine:
      return "Cosine";
    case index::metric_kind::ip:
      return "Dot";
    case index::metric_kind::l2:
      return "Euclid";
    case index::metric_kind::manhattan:
      return "Manhattan";
  }
  return "Cosine";
}

const vector_params* collection_config::find_vector(std::string_view n) const {
  for (auto& [name, p] : vectors) {
    if (name == n) return &p;
  }
  return nullptr;
}

std::optional<std::string> validate_collection_name(std::string_view name) {
  if (name.empty() || name.size() > 255) {
    return "collection_name: length must be from 1 to 255";
  }
  if (name == "." || name == "..") return "collection_name: \".\" and \"..\" are not allowed";
  for (unsigned char c : name) {
    if (c == '/' || c < 0x20 || c == 0x7f) {
      return "collection_name: must not contain '/' or control characters";
    }
  }
  if (!simdjson::validate_utf8(name.data(), name.size())) {
    return "collection_name: must be valid UTF-8";
  }
  return std::nullopt;
}

std::string collection_dir_name(std::string_view name) {
  std::string out;
  for (unsigned char c : name) {
    bool safe = std::isalnum(c) || c == '-' || c == '_' || c == '.';
    if (safe && !(out.empty() && c == '.')) {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  if (out.size() > kMaxDirName) {
    // A long name (most bytes of a 255-byte non-ASCII name take three) keeps a prefix and 128
    // bits of its SHA-256: within the file system's 255-byte names, and no name can be made to
    // share another's directory. '~' never comes out of the encoding above, so these never meet
    // a short name's directory.
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_Digest(name.data(), name.size(), digest, &len, EVP_sha256(), nullptr);
    out.resize(kMaxDirName - 33);
    out += '~';
    for (unsigned i = 0; i < 16; ++i) out += fmt::format("{:02x}", digest[i]);
  }
  return out;
}

decoded<collection_config> collection_config::decode_create(std::string name, element body,
                                                            uint32_t default_shards,
                                                            const data::input_limits& limits) {
  collection_config c;
  c.name = std::move(name);
  c.shard_number = default_shards;
  c.created_ms = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                           std::chrono::system_clock::now().time_since_epoch())
                                           .count());
  if (!body.is_object()) return input_error::format("expected a JSON object");
  if (auto e = read_u32(body, "shard_number", "", 1, 1024, c.shard_number)) return *e;
  if (auto e = read_u32(body, "replication_factor", "", 1, 16, c.replication_factor)) return *e;
  c.replication_factor_given = body["replication_factor"].error() == simdjson::SUCCESS;
  if (auto e = read_u32(body, "write_consistency_factor", "", 1, 16, c.write_consistency_factor)) {
    return *e;
  }
  if (auto e = read_bool(body, "on_disk_payload", "", c.on_disk_payload)) return *e;
  if (auto e = read_hnsw(body, "", c.hnsw_m, c.hnsw_ef_construct, &c.full_scan_threshold))
    return *e;
  auto default_quantization = index::quantization_kind::none;
  if (auto e = read_quantization(body, "", default_quantization)) return *e;
  element d;
  if (present(body, "durability", d)) {
    auto parsed = d.is_string() ? parse_durability(d.get_string().value_unsafe()) : std::nullopt;
    if (!parsed)
      return input_error::format("durability: expected \"memory\", \"local\" or \"replicated\"");
    c.default_durability = *parsed;
  }
  for (auto key : {"wal_config", "optimizers_config", "strict_mode_config", "metadata",
                   "sharding_method", "init_from"}) {
    element v;
    if (present(body, key, v) && !v.is_object() && !v.is_string()) {
      return input_error::format(fmt::format("{}: invalid type", key));
    }
  }
  element vectors;
  if (present(body, "vectors", vectors)) {
    if (!vectors.is_object())
      return input_error::format("vectors: invalid type, expected an object");
    element size;
    if (vectors.at_key("size").get(size) == simdjson::SUCCESS) {
      auto p = decode_vector_params(vectors, "vectors", c, default_quantization, limits);
      if (!p) return p.error();
      c.vectors.emplace_back("", *p);
    } else {
      c.named_vectors = true;
      auto named = simdjson::dom::object(vectors.get_object().value_unsafe());
      if (named.size() > limits.max_named_vectors) {
        return too_many_vectors(limits);
      }
      for (auto field : named) {
        std::string vname(field.key);
        if (vname.empty() || vname.size() > 255) {
          return input_error::validation("vectors: a vector name must be 1 to 255 bytes");
        }
        auto p =
            decode_vector_params(field.value, "vectors." + vname, c, default_quantization, limits);
        if (!p) return p.error();
        c.vectors.emplace_back(vname, *p);
      }
    }
  }
  element sparse;
  if (present(body, "sparse_vectors", sparse)) {
    if (!sparse.is_object())
      return input_error::format("sparse_vectors: invalid type, expected an object");
    auto named = simdjson::dom::object(sparse.get_object().value_unsafe());
    if (named.size() + c.vectors.size() > limits.max_named_vectors) {
      return too_many_vectors(limits);
    }
    for (auto field : named) {
      if (field.key.empty() || field.key.size() > 255) {
        return input_error::validation("sparse_vectors: a vector name must be 1 to 255 bytes");
      }
      if (c.find_vector(field.key)) {
        return input_error::format("sparse_vectors: " + std::string(field.key) +
                                   " is also a dense vector");
      }
      c.sparse_vectors.emplace_back(field.key);
    }
    auto sorted = c.sparse_vectors;
    std::sort(sorted.begin(), sorted.end());
    if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end()) {
      return input_error::format("sparse_vectors: duplicate vector name");
    }
  }
  std::sort(c.vectors.begin(), c.vectors.end(), [](auto& a, auto& b) { return a.first < b.first; });
  for (size_t i = 1; i < c.vectors.size(); ++i) {
    if (c.vectors[i].first == c.vectors[i - 1].first) {
      return input_error::format("vectors: duplicate vector name " + c.vectors[i].first);
    }
  }
  if (c.vectors.empty() && c.sparse_vectors.empty()) {
    return input_error::format("missing field `vectors`");
  }
  return c;
}

void collection_config::write_vectors_info(json_writer& w) const {
  auto one = [&](const vector_params& p) {
    w.begin_object().field("size", p.size).field("distance", distance_name(p.metric));
    w.key("hnsw_config").begin_object().field("m", p.kind == index::index_kind::flat ? 0u : p.m);
    w.field("ef_construct", p.ef_construct).end_object();
    if (p.quantization == index::quantization_kind::int8) {
      w.key("quantization_config").begin_object().key("scalar").begin_object();
      w.field("type", "int8").end_object().end_object();
    }
    w.field("on_disk", p.on_disk).end_object();
  };
  if (!named_vectors && vectors.size() == 1 && vectors[0].first.empty()) {
    one(vectors[0].second);
    return;
  }
  w.begin_object();
  for (auto& [name, p] : vectors) {
    w.key(name);
    one(p);
  }
  w.end_object();
}

std::string collection_config::to_json() const {
  std::string out;
  json_writer w(out);
  w.begin_object().field("format", 1).field("name", name);
  w.key("vectors").begin_object();
  for (auto& [n, p] : vectors) {
    w.key(n);
    write_params(w, p);
  }
  w.end_object();
  w.field("named_vectors", named_vectors);
  w.key("sparse_vectors").begin_array();
  for (auto& s : sparse_vectors) w.value(s);
  w.end_array();
  w.field("shard_number", shard_number)
      .field("replication_factor", replication_factor)
      .field("write_consistency_factor", write_consistency_factor)
      .field("on_disk_payload", on_disk_payload)
      .field("durability", to_string(default_durability));
  w.key("hnsw").begin_object().field("m", hnsw_m).field("ef_construct", hnsw_ef_construct);
  w.field("full_scan_threshold", full_scan_threshold).end_object();
  w.key("payload_indexes").begin_object();
  for (auto& [field, def] : payload_indexes) {
    w.key(field).begin_object().field("type", data::to_string(def.type));
    if (!def.params_json.empty()) w.key("params").raw(def.params_json);
    w.end_object();
  }
  w.end_object();
  w.field("created_ms", created_ms);
  if (incarnation) w.field("incarnation", incarnation);
  w.end_object();
  return out;
}

result<collection_config> collection_config::from_json(std::string_view text) {
  simdjson::dom::parser parser;
  element root;
  auto bad = boost::system::errc::make_error_code(boost::system::errc::bad_message);
  if (parser.parse(text.data(), text.size(), true).get(root) != simdjson::SUCCESS) return bad;
  collection_config c;
  try {
    if (int64_t(root["format"]) != 1) return bad;
    c.name = std::string(std::string_view(root["name"]));
    for (auto field : root["vectors"].get_object()) {
      vector_params p;
      auto v = field.value;
      p.size = static_cast<uint32_t>(uint64_t(v["size"]));
      auto metric = parse_distance(std::string_view(v["distance"]));
      auto kind = std::string_view(v["index"]);
      auto q = index::parse_quantization(std::string_view(v["quantization"]));
      if (!metric || !q) return bad;
      p.metric = *metric;
      p.kind = kind == "flat" ? index::index_kind::flat : index::index_kind::hnsw;
      p.m = static_cast<uint32_t>(uint64_t(v["m"]));
      p.ef_construct = static_cast<uint32_t>(uint64_t(v["ef_construct"]));
      p.quantization = *q;
      p.on_disk = bool(v["on_disk"]);
      c.vectors.emplace_back(std::string(field.key), p);
    }
    c.named_vectors = bool(root["named_vectors"]);
    for (auto s : root["sparse_vectors"].get_array())
      c.sparse_vectors.emplace_back(std::string_view(s));
    c.shard_number = static_cast<uint32_t>(uint64_t(root["shard_number"]));
    c.replication_factor = static_cast<uint32_t>(uint64_t(root["replication_factor"]));
    c.write_consistency_factor = static_cast<uint32_t>(uint64_t(root["write_consistency_factor"]));
    c.on_disk_payload = bool(root["on_disk_payload"]);
    auto d = parse_durability(std::string_view(root["durability"]));
    if (!d) return bad;
    c.default_durability = *d;
    c.hnsw_m = static_cast<uint32_t>(uint64_t(root["hnsw"]["m"]));
    c.hnsw_ef_construct = static_cast<uint32_t>(uint64_t(root["hnsw"]["ef_construct"]));
    c.full_scan_threshold = static_cast<uint32_t>(uint64_t(root["hnsw"]["full_scan_threshold"]));
    for (auto field : root["payload_indexes"].get_object()) {
      payload_index_def def;
      auto t = data::parse_payload_type(std::string_view(field.value["type"]));
      if (!t) return bad;
      def.type = *t;
      element params;
      if (field.value.at_key("params").get(params) == simdjson::SUCCESS) {
        def.params_json = simdjson::minify(params);
      }
      c.payload_indexes.emplace(std::string(field.key), def);
    }
    c.created_ms = uint64_t(root["created_ms"]);
    element incarnation;
    if (root.at_key("incarnation").get(incarnation) == simdjson::SUCCESS) {
      c.incarnation = uint64_t(incarnation);
    }
  } catch (const simdjson::simdjson_error&) {
    return bad;
  }
  if (c.shard_number == 0) return bad;
  return c;
}

}  // namespace shoal::shard
