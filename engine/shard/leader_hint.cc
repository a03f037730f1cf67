#include "engine/shard/leader_hint.h"

namespace shoal::shard {
namespace {

std::function<std::string(std::string_view)>& hint() {
  static std::function<std::string(std::string_view)> fn;
  return fn;
}

}  // namespace

void set_leader_hint(std::function<std::string(std::string_view collection)> fn) {
  hint() = std::move(fn);
}

std::string leader_hint(std::string_view collection) {
  return hint() ? hint()(collection) : std::string();
}

}  // namespace shoal::shard
