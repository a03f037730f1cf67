#pragma once
// The parts of etcd's v3 data model Shoal uses: keys and values (bytes), revisions, leases,
// transactions with compares, and watch events.

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace shoal::etcd {

struct key_value {
  std::string key;
  std::string value;
  int64_t create_revision = 0;
  int64_t mod_revision = 0;
  int64_t version = 0;  // writes since creation; 0 = the key does not exist
  int64_t lease = 0;    // 0 = none
};

struct range_result {
  std::vector<key_value> kvs;
  int64_t revision = 0;  // of the store when read
  int64_t count = 0;     // keys in the range (may exceed kvs.size() under a limit)
  bool more = false;     // a limit cut the answer
};

/// The key range of everything starting with `prefix` (etcd's range_end convention).
std::string prefix_end(const std::string& prefix);

/// One condition of a transaction on a key.
struct compare {
  enum class target { version, create_revision, mod_revision, value, lease };
  enum class op { equal, greater, less, not_equal };
  std::string key;
  target what = target::version;
  op how = op::equal;
  int64_t number = 0;  // version, revisions, lease
  std::string value;   // target::value

  static compare version_is(std::string key, int64_t v) {
    return {std::move(key), target::version, op::equal, v, {}};
  }
  /// The key does not exist.
  static compare absent(std::string key) { return version_is(std::move(key), 0); }
  static compare mod_revision_is(std::string key, int64_t rev) {
    return {std::move(key), target::mod_revision, op::equal, rev, {}};
  }
  static compare value_is(std::string key, std::string v) {
    return {std::move(key), target::value, op::equal, 0, std::move(v)};
  }
};

/// One operation of a transaction branch.
struct txn_op {
  enum class kind { put, erase, range };
  kind k = kind::range;
  std::string key;
  std::string value;      // put
  int64_t lease = 0;      // put
  std::string range_end;  // erase, range: "" = the single key

  static txn_op put(std::string key, std::string value, int64_t lease = 0) {
    return {kind::put, std::move(key), std::move(value), lease, {}};
  }
  static txn_op erase(std::string key) { return {kind::erase, std::move(key), {}, 0, {}}; }
  static txn_op get(std::string key) { return {kind::range, std::move(key), {}, 0, {}}; }
};

struct txn_result {
  bool succeeded = false;
  int64_t revision = 0;
  /// The answers of the branch's range operations, in order (puts and erases give none).
  std::vector<range_result> ranges;
};

struct lease_grant {
  int64_t id = 0;
  std::chrono::seconds ttl{0};  // as granted (etcd may raise a small TTL)
};

struct watch_event {
  enum class kind { put, erase };
  kind k = kind::put;
  key_value kv;  // for an erase: the key and the revision of the deletion
};

struct watch_batch {
  int64_t revision = 0;  // the store's revision when etcd sent the batch
  std::vector<watch_event> events;
};

}  // namespace shoal::etcd
