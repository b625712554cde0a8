// Bad input over real HTTP: every failure is a clear RFC 9457 problem and
// nothing is stored (the tenant's log head does not move).

#include <gtest/gtest.h>

#include <set>

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

// Every date and period parameter is checked: a query parameter that is
// not one is 400 invalid_query, a body field 422 validation_failed, each
// naming the field; dates outside the years 1900–9000 are not dates.
TEST_F(BadInputTest, BadDatesAndPeriodsAreRefusedNamingTheField) {
  const auto head = Head("eins", admin1_);
  const std::map<std::string, std::string> auth = {{"Authorization", "Bearer " + admin1_}};
  auto expect_query = [&](const std::string& target, const std::string& field) {
    auto r = Call(port_, "GET", "/v1/tenants/eins" + target, "", auth);
    ExpectProblem(r, 400, "invalid_query");
    std::set<std::string> named;
    const json j = json::parse(r.body, nullptr, false);
    if (j.is_object() && j.contains("details")) {
      for (const auto& f : j["details"]["fields"]) named.insert(f["field"].get<std::string>());
    }
    EXPECT_EQ(named, std::set<std::string>{field}) << target << ": " << r.body;
  };
  expect_query("/journal?from=garbage", "from");
  expect_query("/journal?from=2027-01-01&to=2027-13-45", "to");
  expect_query("/journal?from=0000-01-01", "from");
  expect_query("/journal?to=2027-02-30", "to");
  expect_query("/journal?from=2027-01", "from");
  expect_query("/revenue?from=garbage", "from");
  expect_query("/revenue?to=2027-13", "to");
  expect_query("/revenue?from=2027-01-01", "from");
  expect_query("/revenue?from=0000-01", "from");
  expect_query("/exports/journal.csv?from=0000-01-01&to=2027-01-01", "from");
  expect_query("/exports/journal.csv?from=2027-01-01&to=2027-13-45", "to");
  // Well-formed dates and months still answer.
  EXPECT_EQ(Call(port_, "GET", "/v1/tenants/eins/journal?from=2027-01-01&to=2027-12-31", "", auth).status,
            200);
  EXPECT_EQ(Call(port_, "GET", "/v1/tenants/eins/revenue?from=2027-01&to=2027-12", "", auth).status, 200);

  auto expect_body = [&](const std::string& method, const std::string& path, const json& body,
                         const std::string& field) {
    auto r = CallJson(port_, method, "/v1/tenants/eins" + path, body, admin1_);
    ExpectProblem(r, 422, "validation_failed");
    std::set<std::string> named;
    const json j = json::parse(r.body, nullptr, false);
    if (j.is_object() && j.contains("details")) {
      for (const auto& f : j["details"]["fields"]) named.insert(f["field"].get<std::string>());
    }
    EXPECT_EQ(named, std::set<std::string>{field}) << path << ": " << r.body;
  };
  for (const char* day : {"0000-01-01", "1899-12-31", "9001-01-01", "2027-13-45"}) {
    expect_body("PUT", "/holidays", {{"holidays", {{{"date", day}, {"name", "Neujahr"}}}}},
                "holidays[0].date");
    expect_body("PUT", "/resources/raum/rules",
                {{"opening_hours", json::array()}, {"closures", {{{"from", day}, {"to", "2027-01-02"}}}}},
                "closures[0].from");
    expect_body("PUT", "/resources/raum/rules",
                {{"opening_hours", json::array()},
                 {"special_days", {{{"date", day}, {"opening_hours", json::array()}}}}},
                "special_days[0].date");
    expect_body("POST", "/periods/close", {{"through", day}}, "through");
  }
  EXPECT_EQ(Head("eins", admin1_), head) << "nothing was stored";
}

TEST_F(BadInputTest, MalformedHttpIsAnsweredAndTheServerStaysUp) {
  ExpectProblem(Call(port_, "DELETE", "/v1/tenants"), 405, "method_not_allowed");
  EXPECT_EQ(Call(port_, "GET", "/healthz").status, 200);
}

}  // namespace
}  // namespace saalbuch::e2e
