// Bad input over real HTTP: every failure is a clear RFC 9457 problem and
// nothing is stored (the tenant's log head does not move).

#include <gtest/gtest.h>

#include "tests/e2e/harness.h"

namespace saalbuch::e2e {
namespace {

using nlohmann::json;

class BadInputTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::filesystem::path(FreshDir("bad-input"));
    server_ = new Server(*dir_ / "data", {"--max-body-bytes", "4096"});
    server_->Start();
    port_ = server_->port();
    for (const char* t : {"eins", "zwei"}) {
      auto r = CallJson(port_, "POST", "/v1/tenants", {{"id", t}, {"name", t}}, kOperatorKey);
      ASSERT_EQ(r.status, 201) << r.body;
      (std::string(t) == "eins" ? admin1_ : admin2_) = r.json()["admin_key"]["key"];
    }
    ASSERT_EQ(
        CallJson(port_, "POST", "/v1/tenants/eins/resources", {{"id", "raum"}, {"name", "Raum"}}, admin1_)
            .status,
        201);
    auto staff = CallJson(port_, "POST", "/v1/tenants/eins/keys", {{"role", "staff"}}, admin1_);
    ASSERT_EQ(staff.status, 201) << staff.body;
    staff1_ = staff.json()["key"];
  }
  static void TearDownTestSuite() {
    delete server_;
    std::filesystem::remove_all(*dir_);
    delete dir_;
  }

  static std::uint64_t Head(const std::string& tenant, const std::string& key) {
    auto r = Call(port_, "GET", "/v1/tenants/" + tenant + "/events?limit=1", "",
                  {{"Authorization", "Bearer " + key}});
    EXPECT_EQ(r.status, 200) << r.body;
    return r.json()["head"].get<std::uint64_t>();
  }

  // Expects a problem document with `status` and `code`, and no new record.
  static void ExpectProblem(const HttpResult& r, int status, const std::string& code) {
    EXPECT_EQ(r.status, status) << r.body;
    EXPECT_EQ(r.header("content-type"), "application/problem+json") << r.body;
    auto j = json::parse(r.body, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << r.body;
    EXPECT_EQ(j["code"], code) << r.body;
    EXPECT_EQ(j["status"], status);
    EXPECT_TRUE(j.contains("type") && j.contains("title") && j.contains("detail"));
  }

  static std::filesystem::path* dir_;
  static Server* server_;
  static int port_;
  static std::string admin1_, admin2_, staff1_;
};

std::filesystem::path* BadInputTest::dir_ = nullptr;
Server* BadInputTest::server_ = nullptr;
int BadInputTest::port_ = 0;
std::string BadInputTest::admin1_, BadInputTest::admin2_, BadInputTest::staff1_;

TEST_F(BadInputTest, MalformedJsonIs400AndStoresNothing) {
  const auto head = Head("eins", admin1_);
  ExpectProblem(Call(port_, "POST", "/v1/tenants/eins/bookings",
                     "{\"resource\": ", {{"Content-Type", "application/json"}}),
                400, "malformed_json");
  ExpectProblem(
      Call(port_, "POST", "/v1/tenants/eins/bookings", "[1,2]", {{"Content-Type", "application/json"}}), 400,
      "malformed_json");
  ExpectProblem(Call(port_, "POST", "/v1/tenants/eins/resources", "\xff\xfe",
                     {{"Content-Type", "application/json"}, {"Authorization", "Bearer " + admin1_}}),
                400, "malformed_json");
  EXPECT_EQ(Head("eins", admin1_), head);
}

TEST_F(BadInputTest, WrongTypesAndUnknownFieldsAre422WithFields) {
  const auto head = Head("eins", admin1_);
  auto r = CallJson(port_, "POST", "/v1/tenants/eins/bookings",
                    {{"resource", 7}, {"start", "tomorrow"}, {"end", true}, {"colour", "red"}});
  ExpectProblem(r, 422, "validation_failed");
  auto fields = json::parse(r.body)["details"]["fields"];
  std::set<std::string> named;
  for (const auto& f : fields) named.insert(f["field"].get<std::string>());
  EXPECT_EQ(named, (std::set<std::string>{"resource", "start", "end", "colour"}));
  ExpectProblem(CallJson(port_, "PUT", "/v1/tenants/eins/resources/raum/rules",
                         {{"opening_hours", {{{"weekday", 8}, {"start", "25:00"}, {"end", "07:00"}}}},
                          {"buffer_after_minutes", -5}},
                         admin1_),
                422, "validation_failed");
  ExpectProblem(CallJson(port_, "POST", "/v1/tenants", {{"id", "Bad Id!"}, {"name", "x"}}, kOperatorKey), 422,
                "validation_failed");
  ExpectProblem(CallJson(port_, "POST", "/v1/tenants",
                         {{"id", "drei"}, {"name", "x"}, {"time_zone", "Mars/Olympus"}}, kOperatorKey),
                422, "unknown_time_zone");
  EXPECT_EQ(Head("eins", admin1_), head);
}

TEST_F(BadInputTest, HugeBodyIs413) {
  std::string big(64 * 1024, 'x');
  auto r = Call(port_, "POST", "/v1/tenants/eins/bookings", "{\"resource\":\"" + big + "\"}",
                {{"Content-Type", "application/json"}});
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(json::parse(r.body)["code"], "body_too_large");
  // The server is still well.
  EXPECT_EQ(Call(port_, "GET", "/healthz").status, 200);
}

TEST_F(BadInputTest, HugeHeadersAre431) {
  auto r = Call(port_, "GET", "/healthz", "", {{"X-Filler", std::string(16 * 1024, 'y')}});
  EXPECT_EQ(r.status, 431);
}

TEST_F(BadInputTest, UnknownTenantIs404) {
  ExpectProblem(Call(port_, "GET", "/v1/tenants/gibtsnicht/resources"), 404, "not_found");
  ExpectProblem(CallJson(port_, "POST", "/v1/tenants/gibtsnicht/bookings", {{"resource", "raum"}}), 404,
                "not_found");
  ExpectProblem(Call(port_, "GET", "/v1/tenants/eins/bookings/bk_unknown", "",
                     {{"Authorization", "Bearer " + admin1_}}),
                404, "not_found");
  ExpectProblem(Call(port_, "GET", "/v1/nothing"), 404, "no_route");
}

TEST_F(BadInputTest, AnotherTenantsKeyIsRefused) {
  const auto head = Head("eins", admin1_);
  ExpectProblem(
      CallJson(port_, "POST", "/v1/tenants/eins/resources", {{"id", "fremd"}, {"name", "x"}}, admin2_), 401,
      "invalid_key");
  ExpectProblem(Call(port_, "GET", "/v1/tenants/eins/events", "", {{"Authorization", "Bearer " + admin2_}}),
                401, "invalid_key");
  EXPECT_EQ(Head("eins", admin1_), head);
}

TEST_F(BadInputTest, MissingKeyAndWrongRoleAre401And403) {
  ExpectProblem(CallJson(port_, "POST", "/v1/tenants/eins/resources", {{"id", "x"}, {"name", "x"}}), 401,
                "unauthenticated");
  ExpectProblem(CallJson(port_, "POST", "/v1/tenants/eins/resources", {{"id", "x"}, {"name", "x"}}, staff1_),
                403, "not_permitted");
  ExpectProblem(CallJson(port_, "POST", "/v1/tenants", {{"id", "x"}, {"name", "x"}}, admin1_), 401,
                "unauthenticated");
  ExpectProblem(Call(port_, "GET", "/v1/tenants/eins/events", "", {{"Authorization", "Bearer " + staff1_}}),
                403, "not_permitted");
}

TEST_F(BadInputTest, BadQueriesAre400) {
  ExpectProblem(Call(port_, "GET", "/v1/tenants/eins/resources/raum/availability?from=2026-01-01"), 400,
                "invalid_query");
  ExpectProblem(
      Call(port_, "GET",
           "/v1/tenants/eins/resources/raum/availability?from=2026-01-01T00:00:00Z&to=2027-01-01T00:00:00Z"),
      400, "invalid_query");
  ExpectProblem(
      Call(port_, "GET",
           "/v1/tenants/eins/resources/raum/availability?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z"),
      400, "invalid_query");
  ExpectProblem(Call(port_, "GET", "/v1/tenants/eins/resources/raum?min_position=abc"), 400, "invalid_query");
  // A position far ahead is waited for, then 503 with Retry-After.
  auto r = Call(port_, "GET", "/v1/tenants/eins/resources/raum?min_position=999999");
  ExpectProblem(r, 503, "position_not_reached");
  EXPECT_FALSE(r.header("retry-after").empty());
}

TEST_F(BadInputTest, MalformedHttpIsAnsweredAndTheServerStaysUp) {
  ExpectProblem(Call(port_, "DELETE", "/v1/tenants"), 405, "method_not_allowed");
  EXPECT_EQ(Call(port_, "GET", "/healthz").status, 200);
}

}  // namespace
}  // namespace saalbuch::e2e
