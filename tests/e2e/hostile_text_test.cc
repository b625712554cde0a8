// Ambiguous or hostile text over real HTTP (issue 17, part 9): a key given
// twice is 400 malformed_json naming it, at any depth; control characters
// in free text are 422 naming the field (tab and newline only in multi-line
// fields). Nothing refused is stored: the tenant's log head does not move.

#include <gtest/gtest.h>

#include <string>

#include "tests/e2e/harness.h"

namespace saalbuch::e2e {
namespace {

using nlohmann::json;

class HostileTextTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::filesystem::path(FreshDir("hostile-text"));
    server_ = new Server(*dir_ / "data");
    server_->Start();
    port_ = server_->port();
    auto r = CallJson(port_, "POST", "/v1/tenants", {{"id", "stadt"}, {"name", "Stadt"}}, kOperatorKey);
    ASSERT_EQ(r.status, 201) << r.body;
    admin_ = r.json()["admin_key"]["key"];
    for (const char* id : {"grosser-saal", "seminarraum"}) {
      ASSERT_EQ(
          CallJson(port_, "POST", "/v1/tenants/stadt/resources", {{"id", id}, {"name", id}}, admin_).status,
          201);
    }
  }
  static void TearDownTestSuite() {
    delete server_;
    std::filesystem::remove_all(*dir_);
    delete dir_;
  }

  static std::uint64_t LogHead() {
    auto r =
        Call(port_, "GET", "/v1/tenants/stadt/events?limit=1", "", {{"Authorization", "Bearer " + admin_}});
    EXPECT_EQ(r.status, 200) << r.body;
    return r.json()["head"].get<std::uint64_t>();
  }
  static HttpResult Raw(const std::string& method, const std::string& path, const std::string& body,
                        const std::string& key = "") {
    std::map<std::string, std::string> headers{{"Content-Type", "application/json"}};
    if (!key.empty()) headers["Authorization"] = "Bearer " + key;
    return Call(port_, method, "/v1/tenants/stadt" + path, body, headers);
  }
  // The problem's code and, for a duplicate key, details.field; for 422 the
  // fields named.
  static json ProblemOf(const HttpResult& r, int status, const std::string& code) {
    EXPECT_EQ(r.status, status) << r.body;
    EXPECT_EQ(r.header("content-type"), "application/problem+json") << r.body;
    json j = json::parse(r.body, nullptr, false);
    EXPECT_EQ(j.value("code", ""), code) << r.body;
    return j;
  }
  static std::string FirstField(const json& problem) {
    const json fields = problem["details"]["fields"];
    return fields.empty() ? "" : fields[0]["field"].get<std::string>();
  }

  static std::filesystem::path* dir_;
  static Server* server_;
  static int port_;
  static std::string admin_;
};

std::filesystem::path* HostileTextTest::dir_ = nullptr;
Server* HostileTextTest::server_ = nullptr;
int HostileTextTest::port_ = 0;
std::string HostileTextTest::admin_;

const char* const kSlot = R"("start": "2027-04-01T10:00:00Z", "end": "2027-04-01T11:00:00Z")";

TEST_F(HostileTextTest, DuplicateKeyIsMalformedAndBooksNothing) {
  const auto head = LogHead();
  auto r = Raw("POST", "/bookings",
               std::string(R"({"resource":"grosser-saal","resource":"seminarraum",)") + kSlot + "}");
  json p = ProblemOf(r, 400, "malformed_json");
  EXPECT_EQ(p["details"]["key"], "resource") << r.body;
  EXPECT_NE(p.value("detail", "").find("\"resource\""), std::string::npos) << r.body;
  // In a nested object …
  r = Raw("POST", "/bookings",
          std::string(R"({"resource":"seminarraum",)") + kSlot +
              R"(, "contact": {"name": "Eva", "email": "eva@example.org", "name": "Mallory"}})");
  EXPECT_EQ(ProblemOf(r, 400, "malformed_json")["details"]["field"], "contact.name") << r.body;
  // … and in an array of objects.
  r = Raw("PUT", "/resources/grosser-saal/rules",
          R"({"opening_hours": [{"weekday": 1, "start": "08:00", "end": "20:00"},
                                {"weekday": 2, "start": "08:00", "end": "20:00", "end": "09:00"}]})",
          admin_);
  EXPECT_EQ(ProblemOf(r, 400, "malformed_json")["details"]["field"], "opening_hours[1].end") << r.body;
  EXPECT_EQ(LogHead(), head);
  // The same body without the duplicate is accepted: the refusal was the key.
  r = Raw("POST", "/bookings", std::string(R"({"resource":"seminarraum",)") + kSlot + "}");
  EXPECT_EQ(r.status, 201) << r.body;
  EXPECT_GT(LogHead(), head);
}

TEST_F(HostileTextTest, ControlCharactersInFreeTextAre422NamingTheField) {
  const auto head = LogHead();
  const std::string booking = std::string(R"({"resource":"grosser-saal",)") + kSlot + R"(, "contact": )";
  struct Case {
    std::string path, body, field;
  };
  const Case cases[] = {
      {"/bookings", booking + R"({"name": "Eva\u0000", "email": "eva@example.org"}})", "contact.name"},
      {"/bookings", booking + R"({"name": "Eva", "notes": "bitte \u001b[2J"}})", "contact.notes"},
      {"/bookings", booking + R"({"name": "Eva\nBcc: x@y.de"}})", "contact.name"},  // one line
      {"/bookings", booking + R"({"name": "Eva\r"}})", "contact.name"},
      {"/bookings", booking + "{\"name\": \"Eva\x7f\"}}", "contact.name"},        // DEL, raw
      {"/bookings", booking + "{\"notes\": \"a\xc2\x85 b\"}}", "contact.notes"},  // C1 NEL, raw
      {"/bookings", booking + R"({"name": "Eva", "notes": "x\u009b"}})", "contact.notes"},
      {"/resources", R"({"id": "werkraum", "name": "Werk\u0007raum"})", "name"},
      {"/resources", R"({"id": "werkraum", "name": "Werkraum", "description": "a\u0000"})", "description"},
      {"/keys", R"({"role": "staff", "label": "Empfang\t2"})", "label"},
  };
  for (const Case& c : cases) {
    auto r = Raw("POST", c.path, c.body, c.path == "/bookings" ? "" : admin_);
    EXPECT_EQ(FirstField(ProblemOf(r, 422, "validation_failed")), c.field) << c.body << " → " << r.body;
  }
  // Invalid UTF-8 is not JSON.
  ProblemOf(Raw("POST", "/bookings", booking + "{\"name\": \"Eva\xc3\x28\"}}"), 400, "malformed_json");
  EXPECT_EQ(LogHead(), head);
  EXPECT_EQ(Call(port_, "GET", "/v1/tenants/stadt/resources/werkraum").status, 404);

  // Tab and newline are text where a field has several lines.
  auto ok = Raw("POST", "/bookings", booking + R"({"name": "Eva", "notes": "Beamer\n\tund Leinwand"}})");
  ASSERT_EQ(ok.status, 201) << ok.body;
  auto shown = Call(port_, "GET",
                    "/v1/tenants/stadt/bookings/" + ok.json()["id"].get<std::string>() +
                        "?token=" + ok.json()["manage_token"].get<std::string>() +
                        "&min_position=" + std::to_string(ok.json()["position"].get<std::uint64_t>()));
  EXPECT_EQ(shown.json()["contact"]["notes"], "Beamer\n\tund Leinwand") << shown.body;
}

}  // namespace
}  // namespace saalbuch::e2e
