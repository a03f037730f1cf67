#pragma once
// API keys: one read-write key and one read-only key (Qdrant's `api_key` and
// `read_only_api_key`). Built once at startup, then shared read-only by every core.
//
// A presented key is compared with each configured key in constant time: both are hashed with
// SHA-256 and the digests compared with CRYPTO_memcmp, so neither the key's length nor the
// position of the first wrong byte shows in the time taken.

#include <array>
#include <optional>
#include <string>
#include <string_view>

#include "net/auth/access.h"

namespace shoal::auth {

class api_keys {
 public:
  api_keys() = default;  // no keys: everything is allowed
  api_keys(std::string_view read_write_key, std::string_view read_only_key);

  /// True when at least one key is configured (requests must then present one).
  bool enabled() const { return write_.has_value() || read_.has_value(); }

  /// What `presented` grants: write for the read-write key, read for the read-only key,
  /// open for anything else (including no key). Everything is `write` when no key is set.
  access grant(std::string_view presented) const;

  /// The key from an HTTP request: the `api-key` header, else `Authorization: Bearer KEY`.
  static std::string_view from_http(std::string_view api_key_header,
                                    std::string_view authorization_header);

 private:
  using digest = std::array<unsigned char, 32>;
  static digest hash(std::string_view key);
  std::optional<digest> write_;
  std::optional<digest> read_;
};

}  // namespace shoal::auth
