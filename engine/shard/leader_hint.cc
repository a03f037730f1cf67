#include "engine/shard/leader_hint.h"

namespace shoal::shard {
namespace {

std::function<std::optional<leader_info>(std::string_view)>& lookup() {
  static std::function<std::optional<leader_info>(std::string_view)> fn;
  return fn;
}

std::function<std::vector<std::string>()>& remote() {
  static std::function<std::vector<std::string>()> fn;
  return fn;
}

std::function<std::string(std::string_view)>& replicas() {
  static std::function<std::string(std::string_view)> fn;
  return fn;
}

}  // namespace

void set_replica_lookup(std::function<std::string(std::string_view)> fn) {
  replicas() = std::move(fn);
}

std::string replicas_of(std::string_view collection) {
  return replicas() ? replicas()(collection) : std::string();
}

void set_remote_collections(std::function<std::vector<std::string>()> fn) {
  remote() = std::move(fn);
}

std::vector<std::string> remote_collections() {
  return remote() ? remote()() : std::vector<std::string>{};
}

void set_leader_lookup(std::function<std::optional<leader_info>(std::string_view)> fn) {
  lookup() = std::move(fn);
}

std::optional<leader_info> leader_of(std::string_view collection) {
  return lookup() ? lookup()(collection) : std::nullopt;
}

}  // namespace shoal::shard
