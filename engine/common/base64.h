#pragma once
// Base64 (RFC 4648, standard alphabet, padded): etcd's JSON gateway carries keys and values as
// base64 strings.

#include <optional>
#include <string>
#include <string_view>

namespace shoal {

std::string base64_encode(std::string_view bytes);
/// nullopt for anything that is not canonical padded base64 (wrong length, characters outside
/// the alphabet, padding in the middle, non-zero bits after the last character).
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace shoal
