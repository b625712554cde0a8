// Special opening days, closures and public holidays, decided in the
// tenant's zone; and the hard limits that hold whatever the rules say.

#include <gtest/gtest.h>

#include "tests/commands/decide_fixture.h"

namespace saalbuch::commands {
namespace {

LocalDay Day(const char* ymd) { return *ParseLocalDay(ymd); }

class CalendarTest : public DecideFixture {
 protected:
  void SetUp() override {
    MakeTenant("Europe/Berlin", now_);
    Rules r = OpenDays(1, 7, 8 * 60, 20 * 60);
    r.special_days[Day("2026-12-24")] = {{8 * 60, 12 * 60}};  // Christmas Eve: mornings only
    r.special_days[Day("2026-12-31")] = {};                   // New Year's Eve: closed
    r.closures.push_back({Day("2027-01-04"), Day("2027-01-08"), "Betriebsferien"});
    MakeRoom("saal", r, now_);
  }
  const TimeUs now_ = T("2026-12-01T09:00:00+01:00");
};

TEST_F(CalendarTest, SpecialDayReplacesTheWeeklyHours) {
  Accept(Place("morning", "saal", T("2026-12-24T09:00:00+01:00"), T("2026-12-24T11:00:00+01:00")), now_);
  auto r = Refuse(Place("afternoon", "saal", T("2026-12-24T13:00:00+01:00"), T("2026-12-24T15:00:00+01:00")),
                  now_);
  EXPECT_EQ(r.code, "outside_opening_hours");
}

TEST_F(CalendarTest, SpecialDayWithoutHoursClosesTheDay) {
  EXPECT_EQ(
      Refuse(Place("nye", "saal", T("2026-12-31T09:00:00+01:00"), T("2026-12-31T10:00:00+01:00")), now_).code,
      "outside_opening_hours");
}

TEST_F(CalendarTest, ClosureIncludesBothEnds) {
  for (const char* day : {"2027-01-04", "2027-01-06", "2027-01-08"}) {
    auto start = T((std::string(day) + "T10:00:00+01:00").c_str());
    EXPECT_EQ(Refuse(Place(std::string("c") + day, "saal", start, start + kHour), now_).code,
              "outside_opening_hours")
        << day;
  }
  Accept(Place("after", "saal", T("2027-01-09T10:00:00+01:00"), T("2027-01-09T11:00:00+01:00")), now_);
  Accept(Place("before", "saal", T("2027-01-03T10:00:00+01:00"), T("2027-01-03T11:00:00+01:00")), now_);
}

TEST_F(CalendarTest, HolidayClosesEveryResourceUnlessASpecialDayOpensIt) {
  SetHolidays h;
  h.holidays[Day("2026-12-25")] = "1. Weihnachtstag";
  h.holidays[Day("2026-12-24")] = "Heiligabend (hier: Feiertag)";
  Accept(h, now_);
  EXPECT_EQ(model_.holidays().size(), 2u);
  EXPECT_EQ(
      Refuse(Place("xmas", "saal", T("2026-12-25T10:00:00+01:00"), T("2026-12-25T11:00:00+01:00")), now_)
          .code,
      "outside_opening_hours");
  // The 24th has special hours, which win over the holiday.
  Accept(Place("eve", "saal", T("2026-12-24T09:00:00+01:00"), T("2026-12-24T10:00:00+01:00")), now_);
  // Replacing the list removes the 25th again.
  SetHolidays none;
  Accept(none, now_);
  Accept(Place("xmas2", "saal", T("2026-12-25T10:00:00+01:00"), T("2026-12-25T11:00:00+01:00")), now_);
}

TEST_F(CalendarTest, ClosureEndingBeforeItStartsIsRefused) {
  SetRules s;
  s.id = ResourceId("saal");
  s.rules = OpenDays(1, 5, 8 * 60, 18 * 60);
  s.rules.closures.push_back({Day("2027-02-10"), Day("2027-02-01"), ""});
  EXPECT_EQ(Refuse(s, now_).code, "validation_failed");
}

TEST_F(CalendarTest, NoBookingIsLongerThan31DaysWhateverTheRules) {
  MakeRoom("open", std::nullopt, now_);  // always open, no maximum
  auto r = Refuse(Place("long", "open", T("2027-01-01T00:00:00Z"), T("2027-02-02T00:00:00Z")), now_);
  EXPECT_EQ(r.code, "duration_too_long");
  EXPECT_EQ(r.details["max_duration_minutes"], 31 * 24 * 60);
  Accept(Place("month", "open", T("2027-01-01T00:00:00Z"), T("2027-01-31T00:00:00Z")), now_);
}

TEST_F(CalendarTest, NoBookingStartsMoreThanFiveYearsAhead) {
  MakeRoom("open", std::nullopt, now_);
  EXPECT_EQ(Refuse(Place("far", "open", T("2033-01-01T10:00:00Z"), T("2033-01-01T11:00:00Z")), now_).code,
            "beyond_horizon");
}

TEST(LocalDayTest, ParsesRealDatesOnly) {
  EXPECT_EQ(ParseLocalDay("1970-01-01"), 0);
  EXPECT_EQ(ParseLocalDay("2026-12-24"), Day("2026-12-24"));
  EXPECT_EQ(FormatLocalDay(*ParseLocalDay("2028-02-29")), "2028-02-29");
  EXPECT_FALSE(ParseLocalDay("2027-02-29"));
  EXPECT_FALSE(ParseLocalDay("2026-1-01"));
  EXPECT_FALSE(ParseLocalDay("2026-01-01T"));
}

// Dates share the timestamps' years (kMinYear–kMaxYear): a holiday dated
// 0000-01-01 is no date.
TEST(LocalDayTest, YearsOutside1900To9000AreRefused) {
  EXPECT_FALSE(ParseLocalDay("0000-01-01"));
  EXPECT_FALSE(ParseLocalDay("1899-12-31"));
  EXPECT_FALSE(ParseLocalDay("9001-01-01"));
  EXPECT_FALSE(ParseLocalDay("9999-12-31"));
  EXPECT_EQ(FormatLocalDay(*ParseLocalDay("1900-01-01")), "1900-01-01");
  EXPECT_EQ(FormatLocalDay(*ParseLocalDay("9000-12-31")), "9000-12-31");
  EXPECT_EQ(ParseLocalMonth("2027-02"), ParseLocalDay("2027-02-01"));
  EXPECT_FALSE(ParseLocalMonth("2027-13"));
  EXPECT_FALSE(ParseLocalMonth("0000-01"));
  EXPECT_FALSE(ParseLocalMonth("2027-02-01"));
  EXPECT_FALSE(ParseLocalMonth("garbage"));
}

TEST(Rfc3339Test, YearsOutside1900To9000AreRefused) {
  EXPECT_FALSE(ParseRfc3339("9999-12-31T23:00:00Z").ok());
  EXPECT_FALSE(ParseRfc3339("0001-01-01T00:00:00Z").ok());
  EXPECT_TRUE(ParseRfc3339("9000-12-31T23:00:00Z").ok());
}

}  // namespace
}  // namespace saalbuch::commands
