// iCalendar over HTTP, read back by an independent parser: Debian's
// python3-icalendar. The busy feed carries no personal data; the booking's
// .ics has its times (also across a DST switch), number and status.

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "tests/e2e/harness.h"

namespace saalbuch::e2e {
namespace {

using nlohmann::json;

// Parses an .ics with python3-icalendar; returns its events as JSON.
json ParseIcs(const std::filesystem::path& dir, const std::string& ics) {
  const auto file = dir / "in.ics";
  const auto script = dir / "parse.py";
  std::ofstream(file, std::ios::binary) << ics;
  std::ofstream(script) << R"PY(
import json, sys
import icalendar
cal = icalendar.Calendar.from_ical(open(sys.argv[1], 'rb').read())
out = {"version": str(cal.get('VERSION')), "prodid": str(cal.get('PRODID')), "events": []}
for ev in cal.walk('VEVENT'):
    out["events"].append({
        "uid": str(ev.get('UID')),
        "summary": str(ev.get('SUMMARY')),
        "status": str(ev.get('STATUS')) if ev.get('STATUS') else None,
        "start": ev.decoded('DTSTART').isoformat(),
        "end": ev.decoded('DTEND').isoformat(),
        "has_dtstamp": ev.get('DTSTAMP') is not None,
        "fields": sorted(ev.keys()),
    })
print(json.dumps(out))
)PY";
  const std::string cmd = "/usr/bin/python3 " + script.string() + " " + file.string() + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  std::string out;
  char buf[4096];
  while (p != nullptr && fgets(buf, sizeof buf, p) != nullptr) out += buf;
  const int rc = p == nullptr ? -1 : pclose(p);
  EXPECT_EQ(rc, 0) << "python3-icalendar could not parse:\n" << ics << "\n" << out;
  auto j = json::parse(out, nullptr, false);
  if (j.is_discarded()) ADD_FAILURE() << out;
  return j;
}

TEST(IcalTest, BusyFeedAndBookingIcsParseWithTheRightTimes) {
  const auto dir = FreshDir("ical");
  Server server(dir / "data");
  server.Start();
  const int port = server.port();
  auto t = CallJson(port, "POST", "/v1/tenants", {{"id", "ics"}, {"name", "Bürgerhaus"}}, kOperatorKey);
  ASSERT_EQ(t.status, 201);
  const std::string admin = t.json()["admin_key"]["key"];
  ASSERT_EQ(
      CallJson(port, "POST", "/v1/tenants/ics/resources",
               {{"id", "saal"},
                {"name", "Großer Saal"},
                {"rules",
                 {{"opening_hours", json::array({{{"weekday", 7}, {"start", "00:00"}, {"end", "24:00"}},
                                                 {{"weekday", 1}, {"start", "00:00"}, {"end", "24:00"}}})},
                  {"buffer_after_minutes", 30}}}},
               admin)
          .status,
      201);
  // Across the spring-forward switch, and on an ordinary Monday.
  auto dst = CallJson(
      port, "POST", "/v1/tenants/ics/bookings",
      {{"resource", "saal"}, {"start", "2027-03-28T01:00:00+01:00"}, {"end", "2027-03-28T04:00:00+02:00"}});
  ASSERT_EQ(dst.status, 201) << dst.body;
  auto mon = CallJson(
      port, "POST", "/v1/tenants/ics/bookings",
      {{"resource", "saal"}, {"start", "2027-03-29T10:00:00+02:00"}, {"end", "2027-03-29T12:00:00+02:00"}});
  ASSERT_EQ(mon.status, 201) << mon.body;
  const std::string pos = mon.header("saalbuch-position");

  auto feed = Call(port, "GET",
                   "/v1/tenants/ics/resources/saal/"
                   "busy.ics?from=2027-03-01T00:00:00Z&to=2027-04-30T00:00:00Z&min_position=" +
                       pos);
  ASSERT_EQ(feed.status, 200) << feed.body;
  EXPECT_EQ(feed.header("content-type"), "text/calendar; charset=utf-8");
  EXPECT_NE(feed.body.find("\r\n"), std::string::npos) << "RFC 5545 lines end in CRLF";
  auto cal = ParseIcs(dir, feed.body);
  EXPECT_EQ(cal["version"], "2.0");
  ASSERT_EQ(cal["events"].size(), 2u) << feed.body;
  // Busy ranges include the 30-minute buffer; times are UTC.
  EXPECT_EQ(cal["events"][0]["start"], "2027-03-28T00:00:00+00:00");
  EXPECT_EQ(cal["events"][0]["end"], "2027-03-28T02:30:00+00:00");
  EXPECT_EQ(cal["events"][1]["start"], "2027-03-29T08:00:00+00:00");
  EXPECT_EQ(cal["events"][1]["end"], "2027-03-29T10:30:00+00:00");
  for (const auto& ev : cal["events"]) {
    EXPECT_EQ(ev["summary"], "Belegt / Busy");
    EXPECT_TRUE(ev["has_dtstamp"].get<bool>());
    // No personal data and no booking ids in the public feed.
    EXPECT_EQ(ev["uid"].get<std::string>().find("bk_"), std::string::npos);
  }
  EXPECT_EQ(feed.body.find(dst.json()["id"].get<std::string>()), std::string::npos);
  // Unchanged feed → 304 with the ETag.
  EXPECT_EQ(Call(port, "GET",
                 "/v1/tenants/ics/resources/saal/busy.ics?from=2027-03-01T00:00:00Z&to=2027-04-30T00:00:00Z",
                 "", {{"If-None-Match", feed.header("etag")}})
                .status,
            304);

  // The booker's .ics, with the manage token.
  const auto booking = dst.json();
  auto ics = Call(port, "GET",
                  "/v1/tenants/ics/bookings/" + booking["id"].get<std::string>() + "/calendar.ics?token=" +
                      booking["manage_token"].get<std::string>() + "&min_position=" + pos);
  ASSERT_EQ(ics.status, 200) << ics.body;
  auto one = ParseIcs(dir, ics.body);
  ASSERT_EQ(one["events"].size(), 1u);
  EXPECT_EQ(one["events"][0]["start"], "2027-03-28T00:00:00+00:00");
  EXPECT_EQ(one["events"][0]["end"], "2027-03-28T02:00:00+00:00");  // two real hours
  EXPECT_EQ(one["events"][0]["status"], "CONFIRMED");
  EXPECT_NE(one["events"][0]["summary"].get<std::string>().find(booking["number"].get<std::string>()),
            std::string::npos);
  EXPECT_NE(one["events"][0]["summary"].get<std::string>().find("Großer Saal"), std::string::npos);
  EXPECT_EQ(Call(port, "GET",
                 "/v1/tenants/ics/bookings/" + booking["id"].get<std::string>() + "/calendar.ics?token=sbm_x")
                .status,
            404);

  // After cancelling, the booking's .ics says CANCELLED and the feed drops it.
  auto cancel =
      CallJson(port, "POST", "/v1/tenants/ics/bookings/" + booking["id"].get<std::string>() + "/cancel",
               json::object(), admin);
  ASSERT_EQ(cancel.status, 200);
  const std::string pos2 = cancel.header("saalbuch-position");
  auto again = Call(
      port, "GET",
      "/v1/tenants/ics/bookings/" + booking["id"].get<std::string>() + "/calendar.ics?min_position=" + pos2,
      "", {{"Authorization", "Bearer " + admin}});
  ASSERT_EQ(again.status, 200);
  EXPECT_EQ(ParseIcs(dir, again.body)["events"][0]["status"], "CANCELLED");
  auto feed2 = Call(port, "GET",
                    "/v1/tenants/ics/resources/saal/"
                    "busy.ics?from=2027-03-01T00:00:00Z&to=2027-04-30T00:00:00Z&min_position=" +
                        pos2);
  EXPECT_EQ(ParseIcs(dir, feed2.body)["events"].size(), 1u);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace saalbuch::e2e
