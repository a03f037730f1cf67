#include "replication/election.h"

#include <charconv>

#include <fmt/format.h>
#include <simdjson.h>

#include "engine/common/json_writer.h"

namespace shoal::repl {
namespace {

std::optional<uint64_t> parse_u64(std::string_view s) {
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

}  // namespace

std::string encode_leadership(const leadership& l) {
  std::string out;
  json_writer w(out);
  w.begin_object().field("node", l.node).field("term", l.term).end_object();
  return out;
}

std::optional<leadership> decode_leadership(std::string_view json) {
  simdjson::dom::parser p;
  simdjson::padded_string padded(json);
  simdjson::dom::element doc;
  if (p.parse(padded).get(doc)) return std::nullopt;
  std::string_view node;
  uint64_t term = 0;
  if (doc["node"].get(node) || doc["term"].get(term) || node.empty() || term == 0) {
    return std::nullopt;
  }
  return leadership{std::string(node), term, 0};
}

election::election(etcd::client& c, std::string prefix, std::string collection, std::string node_id,
                   etcd::lease_keeper& lease)
    : client_(c),
      node_(std::move(node_id)),
      leader_key_(fmt::format("{}/leaders/{}", prefix, collection)),
      term_key_(fmt::format("{}/terms/{}", prefix, collection)),
      lease_(lease) {}

awaitable<result<leadership>> election::current() {
  // One transaction reads both at one revision.
  auto r = co_await client_.txn({}, {etcd::txn_op::get(leader_key_), etcd::txn_op::get(term_key_)});
  if (!r) co_return r.error();
  leadership out;
  if (r->ranges.size() == 2 && !r->ranges[1].kvs.empty()) {
    out.term = parse_u64(r->ranges[1].kvs[0].value).value_or(0);
  }
  if (r->ranges.size() >= 1 && !r->ranges[0].kvs.empty()) {
    auto& kv = r->ranges[0].kvs[0];
    if (auto l = decode_leadership(kv.value)) {
      out.node = l->node;
      out.term = l->term;
      out.revision = kv.mod_revision;
    }
  }
  co_return out;
}

awaitable<result<std::optional<uint64_t>>> election::campaign(uint64_t at_least) {
  auto terms = co_await client_.get(term_key_);
  if (!terms) co_return terms.error();
  uint64_t last = 0;
  std::vector<etcd::compare> when = {etcd::compare::absent(leader_key_)};
  if (terms->kvs.empty()) {
    when.push_back(etcd::compare::absent(term_key_));
  } else {
    auto parsed = parse_u64(terms->kvs[0].value);
    if (!parsed) co_return etcd::errc::bad_response;  // not written by Shoal
    last = *parsed;
    when.push_back(etcd::compare::mod_revision_is(term_key_, terms->kvs[0].mod_revision));
  }
  co_return co_await grant(std::move(when), std::max(last + 1, at_least));
}

awaitable<result<std::optional<uint64_t>>> election::campaign_in(uint64_t vacancy,
                                                                 uint64_t at_least,
                                                                 std::vector<etcd::compare> also) {
  std::vector<etcd::compare> when = {etcd::compare::absent(leader_key_)};
  when.push_back(vacancy == 0 ? etcd::compare::absent(term_key_)
                              : etcd::compare::value_is(term_key_, std::to_string(vacancy)));
  when.insert(when.end(), std::make_move_iterator(also.begin()),
              std::make_move_iterator(also.end()));
  co_return co_await grant(std::move(when), std::max(vacancy + 1, at_least));
}

awaitable<result<std::optional<uint64_t>>> election::grant(std::vector<etcd::compare> when,
                                                           uint64_t term) {
  auto r = co_await client_.txn(
      std::move(when),
      {etcd::txn_op::put(leader_key_, encode_leadership({node_, term, 0}), lease_.id()),
       etcd::txn_op::put(term_key_, std::to_string(term))});
  if (!r) co_return r.error();
  if (!r->succeeded) co_return std::optional<uint64_t>{};
  co_return std::optional<uint64_t>{term};
}

awaitable<result<void>> election::resign(uint64_t term) {
  auto r = co_await client_.txn(
      {etcd::compare::value_is(leader_key_, encode_leadership({node_, term, 0}))},
      {etcd::txn_op::erase(leader_key_)});
  if (!r) co_return r.error();
  co_return result<void>{};
}

std::string encode_positions(const published_position& p) {
  std::string out = fmt::format("{}|", p.vacancy);
  for (size_t i = 0; i < p.shards.size(); ++i) {
    out += fmt::format("{}{}:{}", i ? "," : "", p.shards[i].first, p.shards[i].second);
  }
  return out;
}

std::optional<published_position> decode_positions(std::string_view s) {
  published_position out;
  if (auto bar = s.find('|'); bar != std::string_view::npos) {
    auto v = parse_u64(s.substr(0, bar));
    if (!v) return std::nullopt;
    out.vacancy = *v;
    s = s.substr(bar + 1);
  }
  while (!s.empty()) {
    auto comma = s.find(',');
    auto item = s.substr(0, comma);
    auto colon = item.find(':');
    if (colon == std::string_view::npos) return std::nullopt;
    auto t = parse_u64(item.substr(0, colon)), l = parse_u64(item.substr(colon + 1));
    if (!t || !l) return std::nullopt;
    out.shards.emplace_back(*t, *l);
    s = comma == std::string_view::npos ? std::string_view() : s.substr(comma + 1);
  }
  return out;
}

}  // namespace shoal::repl
