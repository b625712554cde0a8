// Local-time rules over HTTP: DST days in Europe/Berlin (23 and 25 hours),
// special opening days, closures and public holidays.

#include <gtest/gtest.h>

#include "common/time.h"
#include "tests/e2e/harness.h"

namespace saalbuch::e2e {
namespace {

using nlohmann::json;

json AllDay(std::initializer_list<int> days) {
  json hours = json::array();
  for (int d : days) hours.push_back({{"weekday", d}, {"start", "00:00"}, {"end", "24:00"}});
  return hours;
}

class CalendarHttpTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::filesystem::path(FreshDir("calendar"));
    server_ = new Server(*dir_ / "data");
    server_->Start();
    auto t = CallJson(Port(), "POST", "/v1/tenants", {{"id", "kreis"}, {"name", "Kreis"}}, kOperatorKey);
    ASSERT_EQ(t.status, 201) << t.body;
    admin_ = t.json()["admin_key"]["key"];
    Room("tag", {{"opening_hours", AllDay({1, 2, 3, 4, 5, 6, 7})}});
    Room("sonntag", {{"opening_hours", AllDay({7})}});
    Room("buero", {{"opening_hours", {{{"weekday", "sunday"}, {"start", "08:00"}, {"end", "20:00"}}}}});
  }
  static void TearDownTestSuite() {
    delete server_;
    std::filesystem::remove_all(*dir_);
    delete dir_;
  }
  static int Port() { return server_->port(); }
  static void Room(const std::string& id, const json& rules) {
    auto r = CallJson(Port(), "POST", "/v1/tenants/kreis/resources",
                      {{"id", id}, {"name", id}, {"rules", rules}}, admin_);
    ASSERT_EQ(r.status, 201) << r.body << "\nrules: " << rules.dump();
    last_position_ = r.header("saalbuch-position");
  }
  static json Availability(const std::string& room, const std::string& from, const std::string& to) {
    auto r = Call(Port(), "GET",
                  "/v1/tenants/kreis/resources/" + room + "/availability?from=" + from + "&to=" + to +
                      "&min_position=" + last_position_);
    EXPECT_EQ(r.status, 200) << r.body;
    return r.json();
  }
  static TimeUs Length(const json& range) {
    return *ParseRfc3339(range["end"].get<std::string>()) - *ParseRfc3339(range["start"].get<std::string>());
  }

  static std::filesystem::path* dir_;
  static Server* server_;
  static std::string admin_;
  static std::string last_position_;
};

std::filesystem::path* CalendarHttpTest::dir_ = nullptr;
Server* CalendarHttpTest::server_ = nullptr;
std::string CalendarHttpTest::admin_;
std::string CalendarHttpTest::last_position_;

TEST_F(CalendarHttpTest, BookingAcrossTheSpringForwardSwitchIsTwoRealHours) {
  auto r = CallJson(
      Port(), "POST", "/v1/tenants/kreis/bookings",
      {{"resource", "tag"}, {"start", "2027-03-28T01:00:00+01:00"}, {"end", "2027-03-28T04:00:00+02:00"}});
  ASSERT_EQ(r.status, 201) << r.body;
  auto b = r.json();
  EXPECT_EQ(b["start"], "2027-03-28T00:00:00Z");
  EXPECT_EQ(b["end"], "2027-03-28T02:00:00Z");
  EXPECT_EQ(b["start_local"], "2027-03-28T01:00:00+01:00");
  EXPECT_EQ(b["end_local"], "2027-03-28T04:00:00+02:00");
}

TEST_F(CalendarHttpTest, WholeDaysAre23And25HoursLongOnTheSwitchDays) {
  auto spring = Availability("sonntag", "2027-03-22T00:00:00+01:00", "2027-03-29T00:00:00+02:00");
  ASSERT_EQ(spring["free"].size(), 1u) << spring.dump();
  EXPECT_EQ(spring["free"][0]["start_local"], "2027-03-28T00:00:00+01:00");
  EXPECT_EQ(spring["free"][0]["end_local"], "2027-03-29T00:00:00+02:00");
  EXPECT_EQ(Length(spring["free"][0]), 23 * 3600 * kUsPerSecond);
  auto autumn = Availability("sonntag", "2027-10-25T00:00:00+01:00", "2027-11-01T00:00:00+01:00");
  ASSERT_EQ(autumn["free"].size(), 1u) << autumn.dump();
  EXPECT_EQ(Length(autumn["free"][0]), 25 * 3600 * kUsPerSecond);
}

TEST_F(CalendarHttpTest, OfficeHoursFollowTheWallClockAcrossTheSwitch) {
  // 08:00–20:00 local: 07:00–19:00Z in winter, 06:00–18:00Z in summer.
  auto week = Availability("buero", "2027-03-21T00:00:00+01:00", "2027-03-29T00:00:00+02:00");
  ASSERT_EQ(week["free"].size(), 2u) << week.dump();
  EXPECT_EQ(week["free"][0]["start"], "2027-03-21T07:00:00Z");
  EXPECT_EQ(week["free"][0]["end"], "2027-03-21T19:00:00Z");
  EXPECT_EQ(week["free"][1]["start"], "2027-03-28T06:00:00Z");
  EXPECT_EQ(week["free"][1]["end"], "2027-03-28T18:00:00Z");
  auto fall = Availability("buero", "2027-10-31T00:00:00+02:00", "2027-11-01T00:00:00+01:00");
  ASSERT_EQ(fall["free"].size(), 1u);
  EXPECT_EQ(fall["free"][0]["start"], "2027-10-31T07:00:00Z");
  EXPECT_EQ(fall["free"][0]["end"], "2027-10-31T19:00:00Z");
}

TEST_F(CalendarHttpTest, SpecialDaysClosuresAndHolidaysShapeAvailability) {
  json rules = {{"opening_hours",
                 {{{"weekday", "mon"}, {"start", "09:00"}, {"end", "17:00"}},
                  {{"weekday", "tue"}, {"start", "09:00"}, {"end", "17:00"}},
                  {{"weekday", "wed"}, {"start", "09:00"}, {"end", "17:00"}}}},
                {"special_days",
                 {{{"date", "2027-05-03"}, {"opening_hours", {{{"start", "12:00"}, {"end", "14:00"}}}}}}},
                {"closures", {{{"from", "2027-05-04"}, {"to", "2027-05-04"}, {"reason", "Renovierung"}}}}};
  Room("amt", rules);
  auto holidays = CallJson(Port(), "PUT", "/v1/tenants/kreis/holidays",
                           {{"holidays", {{{"date", "2027-05-05"}, {"name", "Stadtfest"}}}}}, admin_);
  ASSERT_EQ(holidays.status, 200) << holidays.body;
  last_position_ = holidays.header("saalbuch-position");
  auto week = Availability("amt", "2027-05-03T00:00:00+02:00", "2027-05-10T00:00:00+02:00");
  ASSERT_EQ(week["free"].size(), 1u) << week.dump();  // only Monday's special hours
  EXPECT_EQ(week["free"][0]["start_local"], "2027-05-03T12:00:00+02:00");
  EXPECT_EQ(week["free"][0]["end_local"], "2027-05-03T14:00:00+02:00");
  auto refused = CallJson(
      Port(), "POST", "/v1/tenants/kreis/bookings",
      {{"resource", "amt"}, {"start", "2027-05-05T10:00:00+02:00"}, {"end", "2027-05-05T11:00:00+02:00"}});
  EXPECT_EQ(refused.status, 422);
  EXPECT_EQ(refused.json()["code"], "outside_opening_hours");
  // The catalog shows the rules and the holidays as entered.
  auto res = Call(Port(), "GET", "/v1/tenants/kreis/resources/amt?min_position=" + last_position_).json();
  EXPECT_EQ(res["rules"]["special_days"][0]["date"], "2027-05-03");
  EXPECT_EQ(res["rules"]["closures"][0]["reason"], "Renovierung");
  auto tenant = Call(Port(), "GET", "/v1/tenants/kreis?min_position=" + last_position_).json();
  EXPECT_EQ(tenant["holidays"][0]["name"], "Stadtfest");
}

TEST_F(CalendarHttpTest, BadDatesAre422WithTheField) {
  auto r = CallJson(Port(), "PUT", "/v1/tenants/kreis/holidays", {{"holidays", {{{"date", "2027-02-30"}}}}},
                    admin_);
  EXPECT_EQ(r.status, 422);
  EXPECT_EQ(r.json()["details"]["fields"][0]["field"], "holidays[0].date");
  auto s = CallJson(
      Port(), "PUT", "/v1/tenants/kreis/resources/amt/rules",
      {{"opening_hours", json::array()}, {"closures", {{{"from", "morgen"}, {"to", "2027-01-01"}}}}}, admin_);
  EXPECT_EQ(s.status, 422) << s.body;
}

TEST_F(CalendarHttpTest, PathIdsThatCannotExistAre404AndHarmless) {
  // Regression: a non-UTF-8 id used to reach an idempotency record and
  // abort the server when it was serialised.
  auto r = Call(Port(), "PUT", "/v1/tenants/kreis/resources/%FF/rules", "{\"opening_hours\":[]}",
                {{"Content-Type", "application/json"},
                 {"Authorization", "Bearer " + admin_},
                 {"Idempotency-Key", "regression-key-0123456789abcdef"}});
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(Call(Port(), "GET", "/healthz").status, 200);
  auto far =
      CallJson(Port(), "POST", "/v1/tenants/kreis/bookings",
               {{"resource", "tag"}, {"start", "2027-01-01T00:00:00Z"}, {"end", "9999-12-31T23:00:00Z"}});
  EXPECT_EQ(far.status, 422);
  EXPECT_EQ(far.json()["code"], "validation_failed");
}

}  // namespace
}  // namespace saalbuch::e2e
