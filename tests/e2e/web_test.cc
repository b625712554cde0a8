// The browser side as HTTP sees it (http/routes_web.cc), over real HTTP:
// the widget script with its caching, gzip and CORS, the pages with their
// Content-Security-Policy, escaping of what a URL carries into a page, and
// HTML (not JSON) for a person who mistyped an address. What the pages do
// in a browser is tested in tests/web (headless Chromium).

#include <gtest/gtest.h>

#include <regex>
#include <string>

#include "tests/e2e/harness.h"

namespace saalbuch::e2e {
namespace {

class WebTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::filesystem::path(FreshDir("web"));
    server_ = new Server(*dir_ / "data");
    server_->Start();
    port_ = server_->port();
    auto r = CallJson(port_, "POST", "/v1/tenants", {{"id", "stadt"}, {"name", "Stadt"}}, kOperatorKey);
    ASSERT_EQ(r.status, 201) << r.body;
  }
  static void TearDownTestSuite() {
    delete server_;
    std::filesystem::remove_all(*dir_);
    delete dir_;
  }
  static std::filesystem::path* dir_;
  static Server* server_;
  static int port_;
};
std::filesystem::path* WebTest::dir_ = nullptr;
Server* WebTest::server_ = nullptr;
int WebTest::port_ = 0;

TEST_F(WebTest, TheSnippetsScriptIsCachedForADayRevalidatedAndReadableFromAnyOrigin) {
  auto js = Call(port_, "GET", "/widget/v1/saalbuch.js", "", {{"Origin", "https://www.musterstadt.de"}});
  ASSERT_EQ(js.status, 200);
  EXPECT_EQ(js.header("content-type"), "text/javascript; charset=utf-8");
  EXPECT_EQ(js.header("cache-control"), "public, max-age=86400");
  EXPECT_EQ(js.header("x-content-type-options"), "nosniff");
  // A module script from another origin is fetched with CORS.
  EXPECT_FALSE(js.header("access-control-allow-origin").empty());
  EXPECT_NE(js.body.find("customElements.define"), std::string::npos);
  const std::string etag = js.header("etag");
  ASSERT_FALSE(etag.empty());
  EXPECT_EQ(Call(port_, "GET", "/widget/v1/saalbuch.js", "", {{"If-None-Match", etag}}).status, 304);
  EXPECT_EQ(Call(port_, "GET", "/widget/v1/saalbuch.js", "", {{"If-None-Match", "W/" + etag}}).status, 304);
  auto head = Call(port_, "HEAD", "/widget/v1/saalbuch.js");
  EXPECT_EQ(head.status, 200);
  EXPECT_TRUE(head.body.empty());
  EXPECT_EQ(head.header("content-length"), std::to_string(js.body.size()));
}

TEST_F(WebTest, GzipOnlyWhenAccepted) {
  auto plain = Call(port_, "GET", "/widget/v1/saalbuch.js");
  auto gz = Call(port_, "GET", "/widget/v1/saalbuch.js", "", {{"Accept-Encoding", "br, gzip;q=0.8"}});
  ASSERT_EQ(gz.status, 200);
  EXPECT_EQ(gz.header("content-encoding"), "gzip");
  EXPECT_EQ(gz.header("vary"), "Accept-Encoding");
  ASSERT_GE(gz.body.size(), 2U);
  EXPECT_EQ(static_cast<unsigned char>(gz.body[0]), 0x1f);  // the gzip magic
  EXPECT_EQ(static_cast<unsigned char>(gz.body[1]), 0x8b);
  EXPECT_LT(gz.body.size(), plain.body.size() / 2);
  EXPECT_EQ(gz.header("etag"), plain.header("etag"));
  auto refused = Call(port_, "GET", "/widget/v1/saalbuch.js", "", {{"Accept-Encoding", "gzip;q=0"}});
  EXPECT_TRUE(refused.header("content-encoding").empty());
  EXPECT_EQ(refused.body, plain.body);
}

TEST_F(WebTest, PagesLoadTheWidgetUnderItsContentHashWhichIsImmutable) {
  auto page = Call(port_, "GET", "/book/stadt");
  ASSERT_EQ(page.status, 200);
  EXPECT_EQ(page.header("content-type"), "text/html; charset=utf-8");
  EXPECT_EQ(page.header("cache-control"), "no-cache");
  const std::string csp = page.header("content-security-policy");
  EXPECT_NE(csp.find("script-src 'self'"), std::string::npos) << csp;
  EXPECT_NE(csp.find("frame-ancestors 'none'"), std::string::npos) << csp;
  EXPECT_EQ(csp.find("unsafe-inline"), std::string::npos) << csp;
  EXPECT_EQ(page.header("referrer-policy"), "no-referrer");
  EXPECT_NE(page.body.find("<saalbuch-catalog tenant=\"stadt\""), std::string::npos);
  std::smatch m;
  ASSERT_TRUE(
      std::regex_search(page.body, m, std::regex(R"re(src="(/widget/v1/saalbuch-[0-9a-f]{16}\.js)")re")))
      << page.body;
  auto versioned = Call(port_, "GET", m[1].str());
  EXPECT_EQ(versioned.status, 200);
  EXPECT_EQ(versioned.header("cache-control"), "public, max-age=31536000, immutable");
  EXPECT_EQ(versioned.body, Call(port_, "GET", "/widget/v1/saalbuch.js").body);
  ASSERT_TRUE(
      std::regex_search(page.body, m, std::regex(R"re(href="(/widget/v1/page-[0-9a-f]{16}\.css)")re")));
  EXPECT_EQ(Call(port_, "GET", m[1].str()).header("content-type"), "text/css; charset=utf-8");
  // A hash that is not the current one does not exist.
  EXPECT_EQ(Call(port_, "GET", "/widget/v1/saalbuch-0123456789abcdef.js").status, 404);
  EXPECT_EQ(Call(port_, "GET", "/widget/v1/nothing.js").status, 404);
  // Pages are revalidated: an unchanged page is 304.
  EXPECT_EQ(Call(port_, "GET", "/book/stadt", "", {{"If-None-Match", page.header("etag")}}).status, 304);
}

TEST_F(WebTest, EveryHostedPageAnswersForAnExistingTenant) {
  for (const char* target : {"/book/stadt/saal", "/manage/stadt/bk_0123456789abcdef0123",
                             "/pay/stadt/inv-bk_0123456789abcdef0123", "/book/stadt?lang=en"}) {
    auto r = Call(port_, "GET", target);
    EXPECT_EQ(r.status, 200) << target;
    EXPECT_EQ(r.header("content-type"), "text/html; charset=utf-8") << target;
    EXPECT_FALSE(r.header("content-security-policy").empty()) << target;
  }
  EXPECT_NE(Call(port_, "GET", "/book/stadt?lang=en").body.find("<html lang=\"en\">"), std::string::npos);
  EXPECT_NE(Call(port_, "GET", "/book/stadt?lang=xx").body.find("<html lang=\"de\">"), std::string::npos);
}

TEST_F(WebTest, WhatTheUrlCarriesIsEscapedInThePage) {
  auto r = Call(port_, "GET", "/book/stadt?kind=%22%3E%3Cscript%3Ealert(1)%3C%2Fscript%3E");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.body.find("<script>alert"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos) << r.body;
}

TEST_F(WebTest, UnknownTenantsAndMistypedAddressesGetAPageNotJson) {
  auto r = Call(port_, "GET", "/book/nirgendwo", "", {{"Accept", "text/html"}});
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.header("content-type"), "text/html; charset=utf-8");
  EXPECT_NE(r.body.find("Diese Seite gibt es nicht"), std::string::npos);
  EXPECT_EQ(Call(port_, "GET", "/manage/nirgendwo/bk_1").status, 404);
  // No demo tenant on this server: no demo page.
  EXPECT_EQ(Call(port_, "GET", "/demo").status, 404);
  auto typo = Call(port_, "GET", "/bookk/stadt", "", {{"Accept", "text/html,application/xhtml+xml"}});
  EXPECT_EQ(typo.status, 404);
  EXPECT_EQ(typo.header("content-type"), "text/html; charset=utf-8");
  // Programs keep their problem documents, also under /v1 for a browser.
  auto program = Call(port_, "GET", "/bookk/stadt");
  EXPECT_EQ(program.status, 404);
  EXPECT_EQ(program.json()["code"], "no_route");
  auto api = Call(port_, "GET", "/v1/nothing", "", {{"Accept", "text/html"}});
  EXPECT_EQ(api.header("content-type").rfind("application/problem+json", 0), 0U);
}

TEST_F(WebTest, PagesAreReadOnly) {
  auto r = Call(port_, "POST", "/book/stadt", "x=1", {{"Content-Type", "application/x-www-form-urlencoded"}});
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.header("allow"), "GET, HEAD");
  auto home = Call(port_, "GET", "/");
  EXPECT_EQ(home.status, 200);
  EXPECT_EQ(home.body.find("/demo/"), std::string::npos) << "no demo link without the demo tenant";
}

}  // namespace
}  // namespace saalbuch::e2e
