// Usage statistics over HTTP against the real saalbuchd: the JSON and the
// CSV a clerk or the treasurer downloads, who may ask, and bad months
// refused with the field named.

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

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

// The public booking funnel: a citizen's views, attempts, refusals by code
// and bookings, counted without personal data, recorded in the log every
// second here and at a clean stop, and equal to a replay.
class FunnelHttpTest : public TenantServerTest {
 protected:
  std::vector<std::string> ServerArgs() const override { return {"--funnel-interval", "1"}; }
  // The month before and after now: the funnel counts in the tenant's zone.
  static std::string Month(int delta) {
    const auto now = std::chrono::system_clock::now() + std::chrono::hours(24 * 31 * delta);
    const TimeUs us = std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count();
    return FormatUtc(us).substr(0, 7);
  }
  // The funnel of "saal", summed over the months around now.
  json Saal(int port) {
    auto r = Call(
        port, "GET",
        "/v1/tenants/gemeinde/statistics/funnel?from=" + Month(-1) + "&to=" + Month(1) + "&resource=saal", "",
        {{"Authorization", "Bearer " + staff_}});
    EXPECT_EQ(r.status, 200) << r.body;
    json sum = {{"views", 0},  {"attempts", 0}, {"refused_total", 0},
                {"booked", 0}, {"paid", 0},     {"refused", json::object()}};
    const json funnel = r.json();
    for (const auto& item : funnel["items"]) {
      for (const char* k : {"views", "attempts", "refused_total", "booked", "paid"}) {
        sum[k] = sum[k].get<int>() + item[k].get<int>();
      }
      for (const auto& [code, n] : item["refused"].items()) sum["refused"][code] = n;
    }
    return sum;
  }
  json WaitFor(int port, int views) {
    json f;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
    while ((f = Saal(port))["views"] != views && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    return f;
  }
};

TEST_F(FunnelHttpTest, CitizensStepsAreCountedRecordedAndReplayEqual) {
  Must("POST", "/resources", {{"id", "saal"}, {"kind", "room"}, {"name", "Saal"}}, admin_);
  const std::string window =
      "/v1/tenants/gemeinde/resources/saal/availability?from=2027-03-01T00:00:00Z"
      "&to=2027-03-08T00:00:00Z&min_position=" +
      position_;
  for (int i = 0; i < 3; ++i) EXPECT_EQ(Call(Port(), "GET", window).status, 200);
  // Not views: a malformed window, an unknown resource, staff.
  EXPECT_EQ(Call(Port(), "GET", "/v1/tenants/gemeinde/resources/saal/availability?from=gestern").status, 400);
  EXPECT_EQ(Call(Port(), "GET",
                 "/v1/tenants/gemeinde/resources/nirgends/availability?from=2027-03-01T00:00:00Z"
                 "&to=2027-03-08T00:00:00Z")
                .status,
            404);
  EXPECT_EQ(Call(Port(), "GET", window, "", {{"Authorization", "Bearer " + staff_}}).status, 200);
  // Three attempts: booked, taken, end before start.
  const json slot = {
      {"resource", "saal"}, {"start", "2027-03-02T10:00:00Z"}, {"end", "2027-03-02T11:00:00Z"}};
  EXPECT_EQ(CallJson(Port(), "POST", "/v1/tenants/gemeinde/bookings", slot).status, 201);
  EXPECT_EQ(CallJson(Port(), "POST", "/v1/tenants/gemeinde/bookings", slot).status, 409);
  EXPECT_EQ(
      CallJson(Port(), "POST", "/v1/tenants/gemeinde/bookings",
               {{"resource", "saal"}, {"start", "2027-03-03T11:00:00Z"}, {"end", "2027-03-03T10:00:00Z"}})
          .status,
      422);
  // Staff's own bookings are not the citizens' funnel.
  Must("POST", "/bookings",
       {{"resource", "saal"}, {"start", "2027-03-04T10:00:00Z"}, {"end", "2027-03-04T11:00:00Z"}}, staff_);

  json f = WaitFor(Port(), 3);
  EXPECT_EQ(f["views"], 3) << f.dump();
  EXPECT_EQ(f["attempts"], 3) << f.dump();
  EXPECT_EQ(f["refused_total"], 2) << f.dump();
  EXPECT_EQ(f["refused"], json({{"booking_conflict", 1}, {"validation_failed", 1}})) << f.dump();
  EXPECT_EQ(f["booked"], 1) << f.dump();
  EXPECT_EQ(f["paid"], 0) << f.dump();

  // The CSV a clerk downloads.
  auto csv =
      Call(Port(), "GET", "/v1/tenants/gemeinde/statistics/funnel.csv?from=" + Month(-1) + "&to=" + Month(1),
           "", {{"Authorization", "Bearer " + staff_}});
  ASSERT_EQ(csv.status, 200) << csv.body;
  EXPECT_EQ(csv.body.rfind("month;resource;views;attempts;refused;booked;paid;refusals\r\n", 0), 0u)
      << csv.body;
  EXPECT_NE(csv.body.find(";saal;3;3;2;1;0;booking_conflict=1, validation_failed=1\r\n"), std::string::npos)
      << csv.body;
  // Bad months, and who may not ask.
  EXPECT_EQ(Fetch("/statistics/funnel?from=2027-13&to=2027-01", staff_).status, 400);
  EXPECT_EQ(Fetch("/statistics/funnel?from=2027-03", staff_).status, 400);
  EXPECT_EQ(Fetch("/statistics/funnel?from=2027-03&to=2027-03", "").status, 401);

  // What was counted after the last record is recorded at a clean stop.
  EXPECT_EQ(server_->Terminate(), 0);
  server_ = std::make_unique<Server>(dir_ / "data", std::vector<std::string>{"--funnel-interval", "0"});
  server_->Start();
  EXPECT_EQ(Call(Port(), "GET", window).status, 200);
  EXPECT_EQ(server_->Terminate(), 0);
  server_ = std::make_unique<Server>(dir_ / "data", std::vector<std::string>{"--funnel-interval", "0"});
  server_->Start();
  EXPECT_EQ(WaitFor(Port(), 4)["views"], 4);
  EXPECT_EQ(server_->Terminate(), 0);

  // The log holds counts only; the projection equals a replay of it.
  auto diff = Replay({"diff", "--data", (dir_ / "data").string()});
  EXPECT_EQ(diff.exit_code, 0) << diff.out << diff.err;
}

}  // namespace
}  // namespace saalbuch::e2e
