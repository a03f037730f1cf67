// A follower whose last term never reached the leader (issue #17 scenario 3, the case Kafka
// fixed with KIP-279), with real processes: etcd and three shoald hosts (etcd_cluster.h), one
// shard. Term 1 (leader A) writes records C never gets; C alone wins term 2 and writes its own;
// A or B wins term 3 holding all of term 1; C returns. The stream must find where C's log leaves
// the leader's from both term histories (log_shipper.cc, shard::common_point), cut C's term-2
// records and catch it up: C converges to the leader's points. Read-your-writes tokens answer
// by what each replica knows: C's term-2 token is 409 on the leader, and a term-1 token of a
// record C is about to receive waits on C and then succeeds.
#include <thread>

#include <gtest/gtest.h>
#include <simdjson.h>

#include "tests/integration/etcd_cluster.h"

namespace shoal {
namespace {

using namespace std::chrono_literals;
using namespace test::coordinated;
using boost::beast::http::verb;
using test::ids;
using test::points_body;

const char* kOneShard = R"({"vectors":{"size":4,"distance":"Cosine"},"shard_number":1})";

/// Writes point `id` on its own (one log record) and returns the write's token ("" if refused).
std::string write_one(const host& h, uint64_t id, const char* durability) {
  test::http_client c(h.http, 10s);
  auto r = c.request(verb::put,
                     std::string("/collections/docs/points?wait=true&durability=") + durability,
                     points_body(id, id + 1));
  EXPECT_EQ(r.status, 200u) << h.id << " refused point " << id << ": " << r.body;
  return r.status == 200 ? r.header("shoal-token") : std::string();
}

/// Every point the host holds with its vector and payload, as the scroll answers them.
std::string points_of(const host& h) {
  test::http_client c(h.http);
  auto r = c.request(verb::post, "/collections/docs/points/scroll",
                     R"({"limit":10000,"with_payload":true,"with_vector":true})");
  if (r.status != 200) return "status " + std::to_string(r.status) + ": " + r.body;
  simdjson::dom::parser p;
  simdjson::dom::element pts;
  if (p.parse(r.body)["result"]["points"].get(pts) != simdjson::SUCCESS) return r.body;
  return simdjson::minify(pts);
}

TEST(Divergence, AFollowerWhoseLastTermNeverReachedTheLeaderConverges) {
  ASSERT_FALSE(test::etcd_process::binary().empty()) << "make deps installs etcd-server";
  test::tmpdir dir;
  cluster cl(dir, 3, {"--replication.min-acks", "1"});
  host* a = cl.start_with("docs", kOneShard);
  ASSERT_NE(a, nullptr);
  host* b = nullptr;
  host* c = nullptr;
  for (auto& h : cl.hosts) {
    if (&h != a) (b ? c : b) = &h;
  }
  // Term 1: points 1..10 reach every host.
  for (uint64_t id = 1; id <= 10; ++id) ASSERT_FALSE(write_one(*a, id, "replicated").empty());
  ASSERT_TRUE(same_points(c->http, a->http, "docs")) << c->id << " did not get term 1's start";
  // Points 11..20 reach A and B only: C is frozen.
  c->proc->process()->signal(SIGSTOP);
  std::string term1_token;  // A's write of point 15: a term-1 record C never got
  for (uint64_t id = 11; id <= 20; ++id) {
    auto token = write_one(*a, id, "replicated");
    ASSERT_FALSE(token.empty());
    if (id == 15) term1_token = token;
  }
  // A dies, B goes down; C wakes alone and wins term 2 with only 1..10.
  a->proc->kill();
  a->up = false;
  b->proc->kill();
  b->up = false;
  c->proc->process()->signal(SIGCONT);
  ASSERT_EQ(cl.wait_leader("docs"), c) << c->proc->log();
  std::string term2_token;
  for (uint64_t id = 1001; id <= 1005; ++id) {
    auto token = write_one(*c, id, "local");
    ASSERT_FALSE(token.empty());
    if (id == 1003) term2_token = token;
  }
  // C dies; A and B return, and one of them wins term 3 holding 1..20.
  c->proc->kill();
  c->up = false;
  ASSERT_TRUE(cl.start(*a));
  ASSERT_TRUE(cl.start(*b));
  host* leader = cl.wait_leader("docs", 20s);
  ASSERT_NE(leader, nullptr);
  ASSERT_NE(leader, c);
  for (uint64_t id = 2001; id <= 2005; ++id) ASSERT_FALSE(write_one(*leader, id, "local").empty());
  {
    // C's term-2 record at that LSN was replaced: the leader says so at once.
    test::http_client lc(leader->http, 10s);
    auto r = lc.request(verb::post, "/collections/docs/points/count?timeout=5", "{}",
                        {{"shoal-read-after", term2_token}});
    EXPECT_EQ(r.status, 409u) << "token " << term2_token << ": " << r.body;
  }

  // C returns as a follower.
  ASSERT_TRUE(cl.start(*c));
  auto back = std::chrono::steady_clock::now();
  {
    // A term-1 token of a record C is about to receive (C still holds its own term-2 record at
    // that LSN until its leader cuts it): it waits, then sees the point.
    test::http_client cc(c->http, 15s);
    auto r = cc.request(verb::post, "/collections/docs/points?timeout=10", R"({"ids":[15]})",
                        {{"shoal-read-after", term1_token}});
    EXPECT_EQ(r.status, 200u) << "token " << term1_token << ": " << r.body;
    EXPECT_NE(r.body.find(R"("id":15)"), std::string::npos) << r.body;
  }
  bool converged = false;
  while (!converged && std::chrono::steady_clock::now() - back < 10s) {
    converged = points_of(*c) == points_of(*leader);
    if (!converged) std::this_thread::sleep_for(50ms);
  }
  EXPECT_TRUE(converged) << c->id << " did not converge to " << leader->id << " within 10 s; "
                         << c->id << "'s log:\n"
                         << c->proc->log() << "\n"
                         << leader->id << "'s log:\n"
                         << leader->proc->log();
  auto have = ids(c->http, "docs");
  for (uint64_t id = 1; id <= 20; ++id) EXPECT_TRUE(have.count(id)) << "term 1's point " << id;
  for (uint64_t id = 2001; id <= 2005; ++id) EXPECT_TRUE(have.count(id)) << "term 3's " << id;
  for (uint64_t id = 1001; id <= 1005; ++id) EXPECT_FALSE(have.count(id)) << "term 2's " << id;
  EXPECT_NE(leader->proc->log().find("this leader never had; cutting them"), std::string::npos);
}

}  // namespace
}  // namespace shoal
