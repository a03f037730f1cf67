// GET /collections/{name}/shards/{id}/digest (net/rest/shard_routes.cc): the shape of the answer,
// the same checksums for the same points written differently, a change after a delete, and the
// errors (unknown collection, shard out of range, a shard id that is not a number).

#include "tests/unit/rest/rest_test_util.h"

namespace shoal::test {
namespace {

constexpr const char* kTwoShards = R"({"vectors":{"size":4,"distance":"Dot"},"shard_number":2})";

struct digest_row {
  uint64_t term = 0, lsn = 0, points = 0;
  std::string checksum;
};

digest_row digest(rest_server& s, const std::string& name, int shard) {
  auto r = s.get("/collections/" + name + "/shards/" + std::to_string(shard) + "/digest");
  EXPECT_TRUE(is_ok(r));
  digest_row d;
  if (r.status != 200) return d;
  auto res = result(r);
  d.term = uint64_t(res["term"]);
  d.lsn = uint64_t(res["lsn"]);
  d.points = uint64_t(res["points"]);
  d.checksum = std::string(std::string_view(res["checksum"]));
  return d;
}

std::string point(int id, int tweak = 0) {
  return fmt::format(R"({{"id":{},"vector":[{},1,2,3],"payload":{{"n":{},"s":"x{}"}}}})", id,
                     id + tweak, id, id);
}

TEST(RestDigest, SameChecksumsForTheSamePointsAndErrorsNamingTheProblem) {
  rest_server s;
  ASSERT_TRUE(is_ok(s.put("/collections/c", kTwoShards)));
  ASSERT_TRUE(is_ok(s.put("/collections/d", kTwoShards)));
  auto empty = digest(s, "c", 0);
  EXPECT_EQ(empty.lsn, 0u);
  EXPECT_EQ(empty.points, 0u);
  EXPECT_EQ(empty.checksum, std::string(32, '0'));

  // c: points 0..19 in one request. d: 19..0 one by one, some first written otherwise.
  std::string all;
  for (int i = 0; i < 20; ++i) all += (i ? "," : "") + point(i);
  ASSERT_TRUE(is_ok(s.put("/collections/c/points?wait=true", R"({"points":[)" + all + "]}")));
  for (int i = 19; i >= 0; --i) {
    if (i % 4 == 0) {
      ASSERT_TRUE(
          is_ok(s.put("/collections/d/points?wait=true", R"({"points":[)" + point(i, 5) + "]}")));
    }
    ASSERT_TRUE(
        is_ok(s.put("/collections/d/points?wait=true", R"({"points":[)" + point(i) + "]}")));
  }
  uint64_t points = 0;
  for (int shard = 0; shard < 2; ++shard) {
    auto c = digest(s, "c", shard), d = digest(s, "d", shard);
    EXPECT_EQ(c.term, 0u) << "a single node leads in term 0";
    EXPECT_EQ(c.checksum.size(), 32u);
    EXPECT_EQ(c.checksum.find_first_not_of("0123456789abcdef"), std::string::npos) << c.checksum;
    EXPECT_EQ(c.checksum, d.checksum) << "shard " << shard;
    EXPECT_EQ(c.points, d.points);
    EXPECT_GT(d.lsn, c.lsn) << "d took more writes";
    points += c.points;
  }
  EXPECT_EQ(points, 20u);

  // A delete changes the checksum of the shard that held the point, and only that one.
  auto before0 = digest(s, "c", 0), before1 = digest(s, "c", 1);
  ASSERT_TRUE(is_ok(s.post("/collections/c/points/delete?wait=true", R"({"points":[3]})")));
  auto after0 = digest(s, "c", 0), after1 = digest(s, "c", 1);
  EXPECT_NE(before0.checksum == after0.checksum, before1.checksum == after1.checksum);
  EXPECT_EQ(after0.points + after1.points, 19u);
  EXPECT_EQ(after0.lsn + after1.lsn, before0.lsn + before1.lsn + 1);

  EXPECT_TRUE(is_error(s.get("/collections/nope/shards/0/digest"), 404, "`nope` doesn't exist"));
  EXPECT_TRUE(is_error(s.get("/collections/c/shards/2/digest"), 404, "has no shard 2"));
  EXPECT_TRUE(is_error(s.get("/collections/c/shards/x/digest"), 400, "shard id `x`"));
  EXPECT_TRUE(is_error(s.get("/collections/c/shards/-1/digest"), 400, "shard id `-1`"));
  EXPECT_TRUE(is_error(s.get("/collections/c/shards/4294967296/digest"), 400, "4294967296"));
  EXPECT_TRUE(is_error(s.get("/collections/c/shards/1x/digest"), 400, "`1x`"));
}

}  // namespace
}  // namespace shoal::test
