#include "net/auth/api_keys.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>

namespace shoal::auth {

api_keys::api_keys(std::string_view read_write_key, std::string_view read_only_key) {
  if (!read_write_key.empty()) write_ = hash(read_write_key);
  if (!read_only_key.empty()) read_ = hash(read_only_key);
}

api_keys::digest api_keys::hash(std::string_view key) {
  digest d;
  SHA256(reinterpret_cast<const unsigned char*>(key.data()), key.size(), d.data());
  return d;
}

access api_keys::grant(std::string_view presented) const {
  if (!enabled()) return access::write;
  if (presented.empty()) return access::open;
  auto d = hash(presented);
  // Both comparisons always run, so the time does not tell which key matched.
  bool is_write = write_ && CRYPTO_memcmp(d.data(), write_->data(), d.size()) == 0;
  bool is_read = read_ && CRYPTO_memcmp(d.data(), read_->data(), d.size()) == 0;
  if (is_write) return access::write;
  if (is_read) return access::read;
  return access::open;
}

std::string_view api_keys::from_http(std::string_view api_key_header,
                                     std::string_view authorization_header) {
  if (!api_key_header.empty()) return api_key_header;
  auto a = authorization_header;
  while (!a.empty() && a.front() == ' ') a.remove_prefix(1);
  // The scheme is case-insensitive (RFC 9110 §11.1).
  constexpr std::string_view kBearer = "bearer ";
  if (a.size() <= kBearer.size()) return {};
  for (size_t i = 0; i < kBearer.size(); ++i) {
    char c = a[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != kBearer[i]) return {};
  }
  a.remove_prefix(kBearer.size());
  while (!a.empty() && a.front() == ' ') a.remove_prefix(1);
  while (!a.empty() && a.back() == ' ') a.remove_suffix(1);
  return a;
}

}  // namespace shoal::auth
