// Usage statistics over HTTP against the real saalbuchd: the JSON and the
// CSV a clerk or the treasurer downloads, who may ask, and bad months
// refused with the field named.

#include <gtest/gtest.h>

#include "tests/e2e/tenant_fixture.h"

namespace saalbuch::e2e {
namespace {

using nlohmann::json;

using UsageHttpTest = TenantServerTest;

TEST_F(UsageHttpTest, StaffAndFinanceReadUsageAsJsonAndCsv) {
  Must("POST", "/resources", {{"id", "saal"}, {"kind", "room"}, {"name", "Saal"}}, admin_);
  json hours = json::array();
  for (int d = 1; d <= 5; ++d) hours.push_back({{"weekday", d}, {"start", "08:00"}, {"end", "18:00"}});
  Must("PUT", "/resources/saal/rules", {{"opening_hours", hours}}, admin_);
  // March 2027 has 23 weekdays: 230 open hours.
  Must("POST", "/bookings",
       {{"resource", "saal"}, {"start", "2027-03-02T10:00:00+01:00"}, {"end", "2027-03-02T12:00:00+01:00"}},
       staff_);
  Must("POST", "/bookings",
       {{"resource", "saal"}, {"start", "2027-03-03T09:00:00+01:00"}, {"end", "2027-03-03T10:30:00+01:00"}},
       "");
  const json gone = Must(
      "POST", "/bookings",
      {{"resource", "saal"}, {"start", "2027-03-04T09:00:00+01:00"}, {"end", "2027-03-04T10:00:00+01:00"}},
      staff_);
  Must("POST", "/bookings/" + gone["id"].get<std::string>() + "/cancel", json::object(), staff_);

  auto r = Fetch("/statistics/usage?from=2027-03&to=2027-03", staff_);
  ASSERT_EQ(r.status, 200) << r.body;
  const json usage = r.json();
  EXPECT_EQ(usage["time_zone"], "Europe/Berlin");
  ASSERT_EQ(usage["items"].size(), 2u) << usage.dump(1);
  const json& internal = usage["items"][0];
  EXPECT_EQ(internal["group"], "internal");
  EXPECT_EQ(internal["placed"], 2);
  EXPECT_EQ(internal["bookings"], 1);
  EXPECT_EQ(internal["cancelled"], 1);
  EXPECT_EQ(internal["booked_minutes"], 120);
  EXPECT_EQ(internal["open_minutes"], 230 * 60);
  EXPECT_DOUBLE_EQ(internal["utilisation"].get<double>(), 0.0087);  // 120 / 13800
  const json& pub = usage["items"][1];
  EXPECT_EQ(pub["group"], "public");
  EXPECT_EQ(pub["booked_minutes"], 90);

  auto csv = Fetch("/statistics/usage.csv?from=2027-01&to=2027-12", finance_);
  ASSERT_EQ(csv.status, 200) << csv.body;
  EXPECT_EQ(csv.header("content-type"), "text/csv; charset=utf-8");
  EXPECT_NE(csv.header("content-disposition").find("usage-2027-01-2027-12.csv"), std::string::npos);
  EXPECT_EQ(
      csv.body,
      "month;resource;group;placed;bookings;booked_hours;unit_hours;open_hours;capacity;utilisation;approved;"
      "rejected;expired;cancelled;no_show;net;gross;currency\r\n"
      "2027-03;saal;internal;2;1;2.00;2.00;230.00;1;0.0087;0;0;0;1;0;0.00;0.00;EUR\r\n"
      "2027-03;saal;public;1;1;1.50;1.50;230.00;1;0.0065;0;0;0;0;0;0.00;0.00;EUR\r\n");

  // Only this resource; another month has no rows.
  EXPECT_EQ(Fetch("/statistics/usage?from=2027-03&to=2027-03&resource=keller", staff_).json()["items"].size(),
            0u);
  EXPECT_EQ(Fetch("/statistics/usage?from=2027-04&to=2027-04", staff_).json()["items"].size(), 0u);

  // Bad months: 400 naming the field; the public may not ask.
  for (const char* q : {"?to=2027-03", "?from=2027-03", "?from=2027-3&to=2027-03", "?from=2027-04&to=2027-03",
                        "?from=2000-01&to=2027-03"}) {
    auto bad = Fetch(std::string("/statistics/usage") + q, staff_);
    EXPECT_EQ(bad.status, 400) << q << ": " << bad.body;
    EXPECT_EQ(bad.json()["code"], "invalid_query") << q;
    EXPECT_FALSE(bad.json()["details"]["fields"].empty()) << q << ": " << bad.body;
  }
  EXPECT_EQ(Fetch("/statistics/usage?from=2027-03&to=2027-03", "").status, 401);
}

}  // namespace
}  // namespace saalbuch::e2e
