// The route table and the OpenAPI document cannot drift: every method and
// path in one is in the other, and who may call it is the same.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>

#include "http/edge.h"
#include "http/router.h"

namespace saalbuch::http {
namespace {

using nlohmann::json;

json LoadOpenApi() {
  std::ifstream in(std::string(SAALBUCH_TESTS_DIR) + "/../http/openapi.json");
  std::stringstream ss;
  ss << in.rdbuf();
  return json::parse(ss.str());
}

std::set<std::string> AccessNames(unsigned access) {
  static const std::pair<Access, const char*> kNames[] = {{kPublic, "public"},
                                                          {kOperator, "operator"},
                                                          {kAdmin, "admin"},
                                                          {kStaff, "staff"},
                                                          {kFinance, "finance"},
                                                          {kAuditor, "auditor"},
                                                          {kManageToken, "manage_token"},
                                                          {kCustomerToken, "customer_token"},
                                                          {kWebhookSignature, "webhook_signature"}};
  std::set<std::string> out;
  for (auto [bit, name] : kNames) {
    if ((access & bit) != 0) out.insert(name);
  }
  return out;
}

std::string Key(beast_http::verb m, std::string_view path) {
  return std::string(beast_http::to_string(m)) + " " + std::string(path);
}

TEST(RouteTableTest, EveryRouteIsDocumentedAndEveryDocumentedOperationIsRouted) {
  const json doc = LoadOpenApi();
  std::map<std::string, std::set<std::string>> documented;
  for (const auto& [path, item] : doc.at("paths").items()) {
    for (const auto& [method, op] : item.items()) {
      // OPTIONS (the CORS preflight) is answered by the router for every
      // path under a tenant, HEAD for every GET route: neither is a row.
      static const std::set<std::string> kMethods = {"get", "put", "post", "delete", "patch"};
      if (kMethods.count(method) == 0) continue;
      std::string upper = method;
      for (char& ch : upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
      std::set<std::string> access;
      if (op.contains("x-saalbuch-access")) {
        for (const auto& a : op["x-saalbuch-access"]) access.insert(a.get<std::string>());
      }
      documented[upper + " " + path] = access;
    }
  }
  std::set<std::string> routed;
  for (const Route& r : AllRoutes()) {
    const std::string key = Key(r.method, r.pattern);
    routed.insert(key);
    auto it = documented.find(key);
    if (it == documented.end()) {
      ADD_FAILURE() << key << " is routed but not in http/openapi.json";
      continue;
    }
    std::set<std::string> want = AccessNames(r.access);
    EXPECT_EQ(it->second, want) << key << ": x-saalbuch-access differs from the route table";
  }
  for (const auto& [key, access] : documented) {
    EXPECT_EQ(routed.count(key), 1U) << key << " is documented but has no route";
  }
}

TEST(RouteTableTest, EveryOperationDocumentsWhoMayCallIt) {
  const json doc = LoadOpenApi();
  for (const auto& [path, item] : doc.at("paths").items()) {
    for (const auto& [method, op] : item.items()) {
      if (!op.is_object() || !op.contains("responses")) continue;
      ASSERT_TRUE(op.contains("x-saalbuch-access")) << method << " " << path;
      EXPECT_FALSE(op["x-saalbuch-access"].empty()) << method << " " << path;
    }
  }
}

TEST(RouteTableTest, NoRouteIsDeclaredTwice) {
  EXPECT_NO_THROW(Router router(AllRoutes()));
  std::set<std::string> seen;
  for (const Route& r : AllRoutes()) EXPECT_TRUE(seen.insert(Key(r.method, r.pattern)).second) << r.pattern;
}

TEST(IfNoneMatchTest, WeakComparisonListsAndStar) {
  EXPECT_TRUE(IfNoneMatchHits("\"abc\"", "\"abc\""));
  EXPECT_TRUE(IfNoneMatchHits("W/\"abc\"", "\"abc\""));  // nginx's gzip weakens ETags
  EXPECT_TRUE(IfNoneMatchHits("\"x\", W/\"abc\"", "\"abc\""));
  EXPECT_TRUE(IfNoneMatchHits("\"x\",\"abc\"", "\"abc\""));
  EXPECT_TRUE(IfNoneMatchHits("*", "\"abc\""));
  EXPECT_TRUE(IfNoneMatchHits(" \"abc\" ", "W/\"abc\""));
  EXPECT_FALSE(IfNoneMatchHits("\"abd\"", "\"abc\""));
  EXPECT_FALSE(IfNoneMatchHits("abc", "\"abc\""));
  EXPECT_FALSE(IfNoneMatchHits("", "\"abc\""));
  EXPECT_FALSE(IfNoneMatchHits(",,", "\"abc\""));
}

TEST(ParseTargetTest, SegmentsAndQueryArePercentDecoded) {
  Target t = ParseTarget("/v1/tenants/a%2Db//bookings?from=2027-01-01T00:00:00+01:00&x=%41&flag");
  ASSERT_EQ(t.segments.size(), 4U);
  EXPECT_EQ(t.segments[2], "a-b");
  EXPECT_EQ(t.query["from"], "2027-01-01T00:00:00+01:00");
  EXPECT_EQ(t.query["x"], "A");
  EXPECT_EQ(t.query.count("flag"), 1U);
}

// The Leitweg-ID's check digits (ISO 7064 MOD 97-10) and parts.
TEST(LeitwegIdTest, ChecksDigitsAndParts) {
  for (const char* good :
       {"04011000-1234512345-06", "991-33333TEST-33", "04011000-12345-03", "05315000-55"}) {
    EXPECT_TRUE(IsLeitwegId(good)) << good;
  }
  for (const char* bad : {"04011000-1234512345-07", "991-01234-44", "04011000", "0401100012345-03-",
                          "4-12345-03", "04011000-12345-3", "0A011000-12345-03", "04011000--03",
                          "04011000-123 45-03", "04011000-1234512345123451234512345123456-06", ""}) {
    EXPECT_FALSE(IsLeitwegId(bad)) << bad;
  }
}

}  // namespace
}  // namespace saalbuch::http
