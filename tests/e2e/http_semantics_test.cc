// HTTP semantics clients and proxies rely on, over real HTTP: HEAD on every
// GET route, If-None-Match with weak comparison, lists and "*", 405 with
// Allow from the route table.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "http/router.h"
#include "tests/e2e/harness.h"

namespace saalbuch::e2e {
namespace {

using nlohmann::json;

class HttpSemanticsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::filesystem::path(FreshDir("http-semantics"));
    server_ = new Server(*dir_ / "data");
    server_->Start();
    port_ = server_->port();
    auto r = CallJson(port_, "POST", "/v1/tenants", {{"id", "stadt"}, {"name", "Stadt"}}, kOperatorKey);
    ASSERT_EQ(r.status, 201) << r.body;
    admin_ = r.json()["admin_key"]["key"];
    auto saal =
        CallJson(port_, "POST", "/v1/tenants/stadt/resources", {{"id", "saal"}, {"name", "Saal"}}, admin_);
    ASSERT_EQ(saal.status, 201) << saal.body;
    // The tests read it without naming a position: wait until the
    // projections have it (CI saw a 404 from a test that ran at once).
    auto seen = Call(port_, "GET",
                     "/v1/tenants/stadt/resources/saal?min_position=" + saal.header("saalbuch-position"));
    ASSERT_EQ(seen.status, 200) << seen.body;
  }
  static void TearDownTestSuite() {
    delete server_;
    std::filesystem::remove_all(*dir_);
    delete dir_;
  }
  static std::filesystem::path* dir_;
  static Server* server_;
  static int port_;
  static std::string admin_;
};
std::filesystem::path* HttpSemanticsTest::dir_ = nullptr;
Server* HttpSemanticsTest::server_ = nullptr;
int HttpSemanticsTest::port_ = 0;
std::string HttpSemanticsTest::admin_;

TEST_F(HttpSemanticsTest, HeadAnswersLikeGetWithoutTheBody) {
  for (const std::string& target : std::vector<std::string>{
           "/v1/tenants/stadt", "/v1/tenants/stadt/resources/saal",
           "/v1/tenants/stadt/resources/saal/busy.ics", "/v1/openapi.json", "/healthz"}) {
    auto get = Call(port_, "GET", target);
    auto head = Call(port_, "HEAD", target);
    ASSERT_EQ(get.status, 200) << target << get.body;
    EXPECT_EQ(head.status, 200) << target;
    EXPECT_TRUE(head.body.empty()) << target;
    EXPECT_EQ(head.header("content-length"), std::to_string(get.body.size())) << target;
    EXPECT_EQ(head.header("content-type"), get.header("content-type")) << target;
    if (target.find(".ics") == std::string::npos) {
      EXPECT_EQ(head.header("etag"), get.header("etag")) << target;
    }
  }
  // A HEAD needing a key is refused like the GET.
  EXPECT_EQ(Call(port_, "HEAD", "/v1/tenants/stadt/bookings").status, 401);
}

TEST_F(HttpSemanticsTest, EveryGetRouteAlsoAnswersHead) {
  for (const auto& r : http::AllRoutes()) {
    if (r.method != boost::beast::http::verb::get) continue;
    std::string path(r.pattern);
    for (auto open = path.find('{'); open != std::string::npos; open = path.find('{')) {
      const auto close = path.find('}', open);
      const std::string name = path.substr(open + 1, close - open - 1);
      path.replace(open, close - open + 1, name == "tenant" ? "stadt" : "x");
    }
    auto head = Call(port_, "HEAD", path);
    EXPECT_NE(head.status, 405) << path;
    EXPECT_TRUE(head.body.empty()) << path;
  }
}

TEST_F(HttpSemanticsTest, IfNoneMatchComparesWeaklyAndTakesListsAndStar) {
  auto first = Call(port_, "GET", "/v1/tenants/stadt/resources/saal");
  ASSERT_EQ(first.status, 200);
  const std::string tag = first.header("etag");
  ASSERT_FALSE(tag.empty());
  for (const std::string& inm : std::vector<std::string>{tag, "W/" + tag, "\"other\", W/" + tag, "*"}) {
    auto r = Call(port_, "GET", "/v1/tenants/stadt/resources/saal", "", {{"If-None-Match", inm}});
    EXPECT_EQ(r.status, 304) << inm;
    EXPECT_TRUE(r.body.empty());
    EXPECT_EQ(r.header("etag"), tag);
  }
  for (const std::string& inm : std::vector<std::string>{"\"other\"", "W/\"other\", \"nope\""}) {
    auto r = Call(port_, "GET", "/v1/tenants/stadt/resources/saal", "", {{"If-None-Match", inm}});
    EXPECT_EQ(r.status, 200) << inm;
  }
  // The busy feed's ETag (behind nginx with gzip: weakened) too.
  auto ics = Call(port_, "GET", "/v1/tenants/stadt/resources/saal/busy.ics");
  ASSERT_EQ(ics.status, 200);
  auto again = Call(port_, "GET", "/v1/tenants/stadt/resources/saal/busy.ics", "",
                    {{"If-None-Match", "W/" + ics.header("etag")}});
  EXPECT_EQ(again.status, 304);
}

TEST_F(HttpSemanticsTest, WrongMethodAnswers405WithAllowFromTheTable) {
  auto r = Call(port_, "DELETE", "/v1/tenants/stadt/bookings");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.header("allow"), "GET, HEAD, POST");
  EXPECT_EQ(r.json()["code"], "method_not_allowed");
  auto put = Call(port_, "POST", "/v1/tenants/stadt/tariffs/t1");
  EXPECT_EQ(put.status, 405);
  EXPECT_EQ(put.header("allow"), "GET, HEAD, PUT");
  auto health = Call(port_, "POST", "/healthz");
  EXPECT_EQ(health.status, 405);
  EXPECT_EQ(health.header("allow"), "GET, HEAD");
}

TEST_F(HttpSemanticsTest, UnknownPathsAndIdsAnswer404) {
  EXPECT_EQ(Call(port_, "GET", "/v1/tenants/stadt/nothing").json()["code"], "no_route");
  EXPECT_EQ(Call(port_, "GET", "/v1/tenants/nirgends/resources").json()["code"], "not_found");
  EXPECT_EQ(Call(port_, "GET", "/v1/tenants/stadt/resources/b%20d").json()["code"], "not_found");
  EXPECT_EQ(
      Call(port_, "GET", "/v1/tenants/stadt/exports/secrets.csv", "", {{"Authorization", "Bearer " + admin_}})
          .status,
      404);
}

}  // namespace
}  // namespace saalbuch::e2e
