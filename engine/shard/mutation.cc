#include "engine/shard/mutation.h"

#include <cstring>

namespace shoal::shard {
namespace {

class writer {
 public:
  explicit writer(std::vector<std::byte>& out) : out_(out) {}
  template <typename T>
  void put(T v) {
    auto at = out_.size();
    out_.resize(at + sizeof v);
    std::memcpy(out_.data() + at, &v, sizeof v);
  }
  void bytes(const void* p, size_t n) {
    auto* b = static_cast<const std::byte*>(p);
    out_.insert(out_.end(), b, b + n);  // not resize + memcpy: that writes every byte twice
  }
  void str(std::string_view s) {
    put<uint32_t>(static_cast<uint32_t>(s.size()));
    bytes(s.data(), s.size());
  }
  void id(const data::point_id& p) {
    put<uint8_t>(p.is_uuid() ? 1 : 0);
    if (p.is_uuid()) put<uint64_t>(p.hi());
    put<uint64_t>(p.lo());
  }
  void ids(const std::vector<data::point_id>& v) {
    put<uint32_t>(static_cast<uint32_t>(v.size()));
    for (auto& p : v) id(p);
  }

 private:
  std::vector<std::byte>& out_;
};

class reader {
 public:
  explicit reader(std::span<const std::byte> in) : in_(in) {}
  template <typename T>
  bool get(T& v) {
    if (in_.size() - pos_ < sizeof v) return false;
    std::memcpy(&v, in_.data() + pos_, sizeof v);
    pos_ += sizeof v;
    return true;
  }
  bool str(std::string& s) {
    uint32_t n;
    if (!get(n) || in_.size() - pos_ < n) return false;
    s.assign(reinterpret_cast<const char*>(in_.data() + pos_), n);
    pos_ += n;
    return true;
  }
  bool id(data::point_id& p) {
    uint8_t kind;
    if (!get(kind) || kind > 1) return false;
    uint64_t hi = 0, lo = 0;
    if (kind == 1 && !get(hi)) return false;
    if (!get(lo)) return false;
    p = kind ? data::point_id::uuid(hi, lo) : data::point_id::number(lo);
    return true;
  }
  bool count(uint32_t& n, size_t min_item_bytes) {
    // A count larger than the bytes left could hold is corrupt: never allocate for it.
    return get(n) && static_cast<size_t>(n) * min_item_bytes <= in_.size() - pos_;
  }
  bool ids(std::vector<data::point_id>& v) {
    uint32_t n;
    if (!count(n, 9)) return false;
    v.resize(n);
    for (auto& p : v) {
      if (!id(p)) return false;
    }
    return true;
  }
  bool floats(std::vector<float>& v, uint32_t n) {
    if ((in_.size() - pos_) / sizeof(float) < n) return false;
    v.resize(n);
    if (n) std::memcpy(v.data(), in_.data() + pos_, n * sizeof(float));
    pos_ += n * sizeof(float);
    return true;
  }
  bool done() const { return pos_ == in_.size(); }

 private:
  std::span<const std::byte> in_;
  size_t pos_ = 0;
};

error_code bad() {
  return boost::system::errc::make_error_code(boost::system::errc::bad_message);
}

bool read_json(reader& r, std::optional<data::json_value>& out) {
  std::string text;
  if (!r.str(text)) return false;
  if (text.empty()) {
    out.reset();
    return true;
  }
  auto v = data::json_value::parse(text);
  if (!v) return false;
  out = std::move(*v);
  return true;
}

}  // namespace

mutation_type type_of(const mutation& m) {
  if (std::holds_alternative<upsert_mutation>(m)) return mutation_type::upsert;
  if (std::holds_alternative<delete_mutation>(m)) return mutation_type::delete_points;
  return std::get<payload_mutation>(m).type;
}

std::vector<std::byte> encode_mutation(const mutation& m) {
  std::vector<std::byte> out;
  writer w(out);
  if (auto* u = std::get_if<upsert_mutation>(&m)) {
    size_t estimate = 8;
    for (auto& p : u->points) {
      estimate += 32 + p.sparse_json.size();
      for (auto& v : p.vectors) estimate += 8 + v.name.size() + v.values.size() * sizeof(float);
    }
    out.reserve(estimate);
    w.put<uint32_t>(static_cast<uint32_t>(u->points.size()));
    for (auto& p : u->points) {
      w.id(p.id);
      w.put<uint32_t>(static_cast<uint32_t>(p.vectors.size()));
      for (auto& v : p.vectors) {
        w.str(v.name);
        w.put<uint32_t>(static_cast<uint32_t>(v.values.size()));
        w.bytes(v.values.data(), v.values.size() * sizeof(float));
      }
      w.str(p.payload ? p.payload->to_json() : std::string());
      w.str(p.sparse_json);
    }
  } else if (auto* d = std::get_if<delete_mutation>(&m)) {
    w.ids(d->ids);
  } else {
    auto& pm = std::get<payload_mutation>(m);
    w.ids(pm.ids);
    switch (pm.type) {
      case mutation_type::set_payload:
      case mutation_type::overwrite_payload:
        w.str(pm.payload.to_json());
        w.put<uint8_t>(pm.key ? 1 : 0);
        if (pm.key) w.str(*pm.key);
        break;
      case mutation_type::delete_payload_keys:
        w.put<uint32_t>(static_cast<uint32_t>(pm.keys.size()));
        for (auto& k : pm.keys) w.str(k);
        break;
      default:
        break;
    }
  }
  return out;
}

result<mutation> decode_mutation(uint8_t type, std::span<const std::byte> body) {
  reader r(body);
  switch (static_cast<mutation_type>(type)) {
    case mutation_type::upsert: {
      upsert_mutation u;
      uint32_t n;
      if (!r.count(n, 9 + 4 + 8)) return bad();
      u.points.resize(n);
      for (auto& p : u.points) {
        uint32_t nv;
        if (!r.id(p.id) || !r.count(nv, 8)) return bad();
        p.vectors.resize(nv);
        for (auto& v : p.vectors) {
          uint32_t dim;
          if (!r.str(v.name) || !r.get(dim) || !r.floats(v.values, dim)) return bad();
        }
        if (!read_json(r, p.payload) || !r.str(p.sparse_json)) return bad();
      }
      if (!r.done()) return bad();
      return mutation(std::move(u));
    }
    case mutation_type::delete_points: {
      delete_mutation d;
      if (!r.ids(d.ids) || !r.done()) return bad();
      return mutation(std::move(d));
    }
    case mutation_type::set_payload:
    case mutation_type::overwrite_payload:
    case mutation_type::delete_payload_keys:
    case mutation_type::clear_payload: {
      payload_mutation pm;
      pm.type = static_cast<mutation_type>(type);
      if (!r.ids(pm.ids)) return bad();
      if (pm.type == mutation_type::set_payload || pm.type == mutation_type::overwrite_payload) {
        std::optional<data::json_value> payload;
        uint8_t has_key;
        if (!read_json(r, payload) || !payload || !r.get(has_key) || has_key > 1) return bad();
        pm.payload = std::move(*payload);
        if (has_key) {
          std::string k;
          if (!r.str(k)) return bad();
          pm.key = std::move(k);
        }
      } else if (pm.type == mutation_type::delete_payload_keys) {
        uint32_t n;
        if (!r.count(n, 4)) return bad();
        pm.keys.resize(n);
        for (auto& k : pm.keys) {
          if (!r.str(k)) return bad();
        }
      }
      if (!r.done()) return bad();
      return mutation(std::move(pm));
    }
  }
  return bad();
}

}  // namespace shoal::shard
