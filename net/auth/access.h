#pragma once
// What a request needs, and what an API key grants (api_keys.h). Ordered: a grant covers every
// lower need.

#include <cstdint>

namespace shoal::auth {

enum class access : uint8_t { open = 0, read = 1, write = 2 };

}  // namespace shoal::auth
