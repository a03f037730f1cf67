// The etcd gateway's JSON, as etcd 3.4 sends it (the literals below were captured from
// Debian's etcd-server), and the requests we send, read back.
#include "replication/etcd/codec.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include "engine/common/base64.h"

namespace shoal::etcd {
namespace {

using namespace codec;

constexpr const char* kHeader =
    R"("header":{"cluster_id":"324952591200643719","member_id":"3319814642761637952","revision":"3","raft_term":"2"})";

std::string with_header(const std::string& rest) {
  return std::string("{") + kHeader + rest + "}";
}

TEST(EtcdCodec, PrefixEnd) {
  EXPECT_EQ(prefix_end("abc"), "abd");
  EXPECT_EQ(prefix_end(std::string("a\xff", 2)), "b");
  EXPECT_EQ(prefix_end(std::string("\xff\xff", 2)), std::string(1, '\0'));
  EXPECT_EQ(prefix_end(""), std::string(1, '\0'));
}

TEST(EtcdCodec, RangeAnswers) {
  auto r = parse_range(with_header(
      R"(,"kvs":[{"key":"Zm9v","create_revision":"2","mod_revision":"3","version":"2","value":"YmF6","lease":"77"}],"count":"1")"));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->revision, 3);
  EXPECT_EQ(r->count, 1);
  EXPECT_FALSE(r->more);
  ASSERT_EQ(r->kvs.size(), 1u);
  EXPECT_EQ(r->kvs[0].key, "foo");
  EXPECT_EQ(r->kvs[0].value, "baz");
  EXPECT_EQ(r->kvs[0].create_revision, 2);
  EXPECT_EQ(r->kvs[0].mod_revision, 3);
  EXPECT_EQ(r->kvs[0].version, 2);
  EXPECT_EQ(r->kvs[0].lease, 77);

  // Nothing found: etcd omits kvs and count.
  auto empty = parse_range(with_header(""));
  ASSERT_TRUE(empty.has_value());
  EXPECT_TRUE(empty->kvs.empty());
  EXPECT_EQ(empty->count, 0);
}

TEST(EtcdCodec, MalformedAnswersAreErrors) {
  for (const char* bad :
       {"", "not json", "[]", R"({"kvs":[]})",  // no header
        R"({"header":{"revision":"x"}})", R"({"header":{"revision":"1"},"kvs":[{"key":"!!"}]})",
        R"({"header":{"revision":"1"},"kvs":[{"key":7}]})"}) {
    auto r = parse_range(bad);
    ASSERT_FALSE(r.has_value()) << bad;
    EXPECT_EQ(r.error(), errc::bad_response) << bad;
  }
}

TEST(EtcdCodec, TxnAnswers) {
  auto ok = parse_txn(with_header(
      R"(,"succeeded":true,"responses":[{"response_put":{"header":{"revision":"3"}}}])"));
  ASSERT_TRUE(ok.has_value());
  EXPECT_TRUE(ok->succeeded);
  EXPECT_TRUE(ok->ranges.empty());

  // A failed compare (succeeded omitted) whose failure branch read the key.
  auto failed = parse_txn(with_header(
      R"(,"responses":[{"response_range":{"header":{"revision":"3"},"kvs":[{"key":"Zm9v","create_revision":"2","mod_revision":"3","version":"2","value":"YmF6"}],"count":"1"}}])"));
  ASSERT_TRUE(failed.has_value());
  EXPECT_FALSE(failed->succeeded);
  ASSERT_EQ(failed->ranges.size(), 1u);
  ASSERT_EQ(failed->ranges[0].kvs.size(), 1u);
  EXPECT_EQ(failed->ranges[0].kvs[0].value, "baz");
}

TEST(EtcdCodec, LeaseAnswers) {
  auto g = parse_lease_grant(with_header(R"(,"ID":"2324035538711595782","TTL":"5")"));
  ASSERT_TRUE(g.has_value());
  EXPECT_EQ(g->id, 2324035538711595782);
  EXPECT_EQ(g->ttl, std::chrono::seconds(5));

  auto alive = parse_keepalive(std::string(R"({"result":{)") + kHeader +
                               R"(,"ID":"2324035538711595782","TTL":"5"}})");
  ASSERT_TRUE(alive.has_value());
  EXPECT_EQ(*alive, std::chrono::seconds(5));

  // An unknown or expired lease: etcd answers without a TTL.
  auto gone = parse_keepalive(std::string(R"({"result":{)") + kHeader + R"(,"ID":"12345"}})");
  ASSERT_FALSE(gone.has_value());
  EXPECT_EQ(gone.error(), errc::lease_not_found);
}

TEST(EtcdCodec, WatchMessages) {
  auto created =
      parse_watch_message(std::string(R"({"result":{)") + kHeader + R"(,"created":true}})");
  ASSERT_TRUE(created.has_value());
  ASSERT_TRUE(std::holds_alternative<watch_created>(*created));
  EXPECT_EQ(std::get<watch_created>(*created).revision, 3);

  auto events = parse_watch_message(
      std::string(R"({"result":{)") + kHeader +
      R"(,"events":[{"kv":{"key":"Zm9v","create_revision":"2","mod_revision":"3","version":"2","value":"YmF6"}},{"type":"DELETE","kv":{"key":"Zm9v","mod_revision":"4"}}]}})");
  ASSERT_TRUE(events.has_value());
  auto& b = std::get<watch_batch>(*events);
  ASSERT_EQ(b.events.size(), 2u);
  EXPECT_EQ(b.events[0].k, watch_event::kind::put);
  EXPECT_EQ(b.events[0].kv.value, "baz");
  EXPECT_EQ(b.events[1].k, watch_event::kind::erase);
  EXPECT_EQ(b.events[1].kv.key, "foo");
  EXPECT_EQ(b.events[1].kv.mod_revision, 4);

  // A start revision that was compacted: the header has no revision.
  auto canceled = parse_watch_message(
      R"({"result":{"header":{"cluster_id":"1","member_id":"2","raft_term":"2"},"canceled":true,"compact_revision":"5"}})");
  ASSERT_TRUE(canceled.has_value());
  EXPECT_EQ(std::get<watch_canceled>(*canceled).compact_revision, 5);

  auto error =
      parse_watch_message(R"({"error":{"grpc_code":14,"http_code":503,"message":"no leader"}})");
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(std::get<watch_canceled>(*error).reason, "no leader");

  EXPECT_FALSE(parse_watch_message(R"({"result":{"events":[{"kv":{"key":"%%"}}]}})").has_value());
}

TEST(EtcdCodec, ErrorAnswersMapOntoErrc) {
  auto lease = parse_error(
      404,
      R"({"error":"etcdserver: requested lease not found","message":"etcdserver: requested lease not found","code":5})");
  EXPECT_EQ(lease.code, errc::lease_not_found);
  EXPECT_EQ(lease.message, "etcdserver: requested lease not found");
  EXPECT_EQ(
      parse_error(
          400, R"({"error":"x","message":"mvcc: required revision has been compacted","code":11})")
          .code,
      errc::compacted);
  EXPECT_EQ(parse_error(503, R"({"message":"etcdserver: no leader","code":14})").code,
            errc::unavailable);
  auto key = parse_error(400, R"({"error":"etcdserver: key is not provided","code":3})");
  EXPECT_EQ(key.code, errc::rejected);
  EXPECT_EQ(key.message, "etcdserver: key is not provided");
  auto html = parse_error(502, "<html>bad gateway</html>");
  EXPECT_EQ(html.code, errc::unavailable);
  EXPECT_NE(html.message.find("502"), std::string::npos);
}

// Requests read back with a JSON parser: base64 bytes, int64 as strings, defaults omitted.
TEST(EtcdCodec, RequestsAreWhatTheGatewayExpects) {
  simdjson::dom::parser parser;
  auto field = [&](const std::string& json, const char* path) {
    simdjson::padded_string p(json);
    simdjson::dom::element doc = parser.parse(p).value();
    std::string_view v;
    if (doc.at_pointer(path).get(v) != simdjson::SUCCESS) return std::string("<absent>");
    return std::string(v);
  };
  const std::string bytes("k\0\xff", 3);
  auto put = put_request(bytes, "v", 42);
  EXPECT_EQ(base64_decode(field(put, "/key")), bytes);
  EXPECT_EQ(field(put, "/value"), base64_encode("v"));
  EXPECT_EQ(field(put, "/lease"), "42");
  EXPECT_EQ(field(put_request("k", "v", 0), "/lease"), "<absent>");

  auto range = range_request("a", "b", 7, 10);
  EXPECT_EQ(field(range, "/range_end"), base64_encode("b"));
  EXPECT_EQ(field(range, "/revision"), "7");
  EXPECT_EQ(field(range, "/limit"), "10");
  EXPECT_EQ(field(range_request("a", "", 0, 0), "/range_end"), "<absent>");

  auto txn = txn_request({compare::absent("leader"), compare::value_is("x", "1")},
                         {txn_op::put("leader", "me", 9)}, {txn_op::get("leader")});
  EXPECT_EQ(field(txn, "/compare/0/target"), "VERSION");
  EXPECT_EQ(field(txn, "/compare/0/result"), "EQUAL");
  EXPECT_EQ(field(txn, "/compare/0/version"), "0");
  EXPECT_EQ(field(txn, "/compare/1/target"), "VALUE");
  EXPECT_EQ(field(txn, "/compare/1/value"), base64_encode("1"));
  EXPECT_EQ(field(txn, "/success/0/request_put/lease"), "9");
  EXPECT_EQ(field(txn, "/failure/0/request_range/key"), base64_encode("leader"));

  auto watch = watch_create_request("p/", prefix_end("p/"), 12);
  EXPECT_EQ(field(watch, "/create_request/start_revision"), "12");
  EXPECT_EQ(field(watch, "/create_request/range_end"), base64_encode("p0"));
  EXPECT_EQ(field(lease_grant_request(std::chrono::seconds(3)), "/TTL"), "3");
  EXPECT_EQ(field(lease_id_request(-5), "/ID"), "-5");
}

}  // namespace
}  // namespace shoal::etcd
