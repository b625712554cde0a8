// common/time.h: weekly opening hours in a real zone turned into UTC ranges,
// across daylight saving switches; subtraction of busy ranges.

#include <gtest/gtest.h>

#include <iterator>
#include <random>
#include <vector>

#include "tests/commands/decide_fixture.h"

namespace saalbuch {
namespace {

using commands::kDay;
using commands::kHour;
using commands::T;

const Zone* Berlin() {
  const Zone* z = FindZone("Europe/Berlin");
  EXPECT_NE(z, nullptr);
  return z;
}

TEST(OpeningRangesTest, SundayEightToTwentyOnTheSpringForwardDayIsSixToEighteenUtc) {
  auto ranges =
      OpeningRanges({{7, 8 * 60, 20 * 60}}, Berlin(), {T("2026-03-27T00:00:00Z"), T("2026-04-01T00:00:00Z")});
  ASSERT_EQ(ranges.size(), 1u);
  EXPECT_EQ(FormatUtc(ranges[0].start), "2026-03-29T06:00:00Z");
  EXPECT_EQ(FormatUtc(ranges[0].end), "2026-03-29T18:00:00Z");
}

TEST(OpeningRangesTest, SundayEightToTwentyOnTheFallBackDayIsSevenToNineteenUtc) {
  auto ranges =
      OpeningRanges({{7, 8 * 60, 20 * 60}}, Berlin(), {T("2026-10-23T00:00:00Z"), T("2026-10-28T00:00:00Z")});
  ASSERT_EQ(ranges.size(), 1u);
  EXPECT_EQ(FormatUtc(ranges[0].start), "2026-10-25T07:00:00Z");
  EXPECT_EQ(FormatUtc(ranges[0].end), "2026-10-25T19:00:00Z");
}

TEST(OpeningRangesTest, WholeDayIsTwentyThreeHoursOnSpringForwardAndTwentyFiveOnFallBack) {
  auto march =
      OpeningRanges({{7, 0, 1440}}, Berlin(), {T("2026-03-27T00:00:00Z"), T("2026-04-01T00:00:00Z")});
  ASSERT_EQ(march.size(), 1u);
  EXPECT_EQ(FormatUtc(march[0].start), "2026-03-28T23:00:00Z");
  EXPECT_EQ(FormatUtc(march[0].end), "2026-03-29T22:00:00Z");
  EXPECT_EQ(march[0].end - march[0].start, 23 * kHour);

  auto october =
      OpeningRanges({{7, 0, 1440}}, Berlin(), {T("2026-10-23T00:00:00Z"), T("2026-10-28T00:00:00Z")});
  ASSERT_EQ(october.size(), 1u);
  EXPECT_EQ(FormatUtc(october[0].start), "2026-10-24T22:00:00Z");
  EXPECT_EQ(FormatUtc(october[0].end), "2026-10-25T23:00:00Z");
  EXPECT_EQ(october[0].end - october[0].start, 25 * kHour);
}

TEST(OpeningRangesTest, StartInsideTheSpringForwardGapBeginsWhenTheGapEnds) {
  // 02:30 does not exist on 2026-03-29 in Berlin; 03:00 CEST (01:00Z) does.
  auto ranges = OpeningRanges({{7, 2 * 60 + 30, 5 * 60}}, Berlin(),
                              {T("2026-03-28T00:00:00Z"), T("2026-03-30T00:00:00Z")});
  ASSERT_EQ(ranges.size(), 1u);
  EXPECT_EQ(FormatUtc(ranges[0].start), "2026-03-29T01:00:00Z");
  EXPECT_EQ(FormatUtc(ranges[0].end), "2026-03-29T03:00:00Z");
}

TEST(OpeningRangesTest, RepeatedHourOnFallBackStartsEarlyAndEndsLate) {
  // 02:30 happens twice on 2026-10-25: 00:30Z (CEST) and 01:30Z (CET).
  auto ends_in_repeat =
      OpeningRanges({{7, 60, 2 * 60 + 30}}, Berlin(), {T("2026-10-24T00:00:00Z"), T("2026-10-26T00:00:00Z")});
  ASSERT_EQ(ends_in_repeat.size(), 1u);
  EXPECT_EQ(FormatUtc(ends_in_repeat[0].start), "2026-10-24T23:00:00Z");
  EXPECT_EQ(FormatUtc(ends_in_repeat[0].end), "2026-10-25T01:30:00Z");

  auto starts_in_repeat = OpeningRanges({{7, 2 * 60 + 30, 4 * 60}}, Berlin(),
                                        {T("2026-10-24T00:00:00Z"), T("2026-10-26T00:00:00Z")});
  ASSERT_EQ(starts_in_repeat.size(), 1u);
  EXPECT_EQ(FormatUtc(starts_in_repeat[0].start), "2026-10-25T00:30:00Z");
  EXPECT_EQ(FormatUtc(starts_in_repeat[0].end), "2026-10-25T03:00:00Z");
}

TEST(OpeningRangesTest, AdjacentDaysMergeAndTheWindowClips) {
  std::vector<WeeklyInterval> always;
  for (int d = 1; d <= 7; ++d) always.push_back({d, 0, 1440});
  const TimeRange window{T("2026-03-25T10:17:00Z"), T("2026-04-02T03:00:00Z")};  // across the switch
  auto ranges = OpeningRanges(always, Berlin(), window);
  ASSERT_EQ(ranges.size(), 1u);
  EXPECT_EQ(ranges[0], window);

  // Monday 22:00–24:00 and Tuesday 00:00–02:00 form one night.
  auto night = OpeningRanges({{1, 22 * 60, 1440}, {2, 0, 2 * 60}}, Berlin(),
                             {T("2026-03-01T00:00:00Z"), T("2026-03-08T00:00:00Z")});
  ASSERT_EQ(night.size(), 1u);
  EXPECT_EQ(FormatUtc(night[0].start), "2026-03-02T21:00:00Z");
  EXPECT_EQ(FormatUtc(night[0].end), "2026-03-03T01:00:00Z");
}

TEST(OpeningRangesTest, WeekOfWeekdayHoursGivesOneSortedRangePerDay) {
  std::vector<WeeklyInterval> hours;
  for (int d = 1; d <= 5; ++d) hours.push_back({d, 8 * 60, 18 * 60});
  auto ranges = OpeningRanges(hours, Berlin(), {T("2026-03-02T00:00:00Z"), T("2026-03-09T00:00:00Z")});
  ASSERT_EQ(ranges.size(), 5u);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(ranges[i].start, T("2026-03-02T07:00:00Z") + i * kDay) << i;
    EXPECT_EQ(ranges[i].end - ranges[i].start, 10 * kHour) << i;
  }
  EXPECT_TRUE(OpeningRanges(std::vector<WeeklyInterval>{}, Berlin(), {0, kDay}).empty());
  EXPECT_TRUE(OpeningRanges(hours, Berlin(), {kDay, kDay}).empty());
}

TEST(SubtractTest, BusyRangesCutHolesIncludingOverlappingOnes) {
  const std::vector<TimeRange> open = {{0, 100}, {200, 300}};
  auto free = Subtract(open, {{10, 20}, {15, 30}, {90, 210}, {250, 260}});
  EXPECT_EQ(free, (std::vector<TimeRange>{{0, 10}, {30, 90}, {210, 250}, {260, 300}}));
  EXPECT_EQ(Subtract(open, {}), open);
  EXPECT_TRUE(Subtract(open, {{-5, 400}}).empty());
}

TEST(TimeFormatTest, LocalAndUtcRenderingsNameTheSameInstant) {
  const TimeUs t = T("2026-03-29T04:00:00+02:00");
  EXPECT_EQ(FormatUtc(t), "2026-03-29T02:00:00Z");
  EXPECT_EQ(FormatLocal(t, Berlin()), "2026-03-29T04:00:00+02:00");
  EXPECT_EQ(FormatLocal(T("2026-03-29T01:59:00Z"), Berlin()), "2026-03-29T03:59:00+02:00");
  EXPECT_EQ(LocalYear(T("2026-12-31T23:30:00Z"), Berlin()), 2027);
  EXPECT_FALSE(ParseRfc3339("2026-03-29T04:00:00").ok()) << "an offset is required";
  EXPECT_EQ(FindZone("Nowhere/Special"), nullptr);
}

// FormatUtc and FormatLocal write timestamps by hand (no stream): they must
// agree with date::format byte for byte, at any instant and in any zone,
// whole seconds or not, before and after the epoch and across offsets.
TEST(TimeFormatTest, FastFormattingEqualsDateFormatAtRandomInstants) {
  std::mt19937_64 rng(20261206);
  const char* zones[] = {"Europe/Berlin",      "UTC",
                         "America/St_Johns",   "Asia/Kathmandu",
                         "Pacific/Chatham",    "America/Los_Angeles",
                         "Australia/Lord_Howe"};
  std::uniform_int_distribution<TimeUs> instant(T("1900-01-01T00:00:00Z"), T("2200-01-01T00:00:00Z"));
  for (int i = 0; i < 20000; ++i) {
    TimeUs t = instant(rng);
    if (i % 2 == 0) t -= t % kUsPerSecond;  // half of them whole seconds
    const date::sys_time<std::chrono::microseconds> tp{std::chrono::microseconds{t}};
    const auto secs = date::floor<std::chrono::seconds>(tp);
    const bool whole = t % kUsPerSecond == 0;
    ASSERT_EQ(FormatUtc(t), whole ? date::format("%FT%TZ", secs) : date::format("%FT%TZ", tp)) << t;
    const Zone* zone = FindZone(zones[i % std::size(zones)]);
    ASSERT_NE(zone, nullptr);
    const date::time_zone* host = date::locate_zone(zones[i % std::size(zones)]);
    ASSERT_EQ(FormatLocal(t, zone), whole ? date::format("%FT%T%Ez", date::make_zoned(host, secs))
                                          : date::format("%FT%T%Ez", date::make_zoned(host, tp)))
        << t << " " << zone->name();
  }
}

// A Zone (common/zone.h) is the host's zone as a table of offsets: for the
// years 1900–2199 it answers to_local and to_sys (both choices, on the
// repeated and in the skipped hour) exactly as date/tz does, at random
// instants and at every change of offset; its rules text round-trips.
TEST(ZoneTest, TheTableAnswersAsDateTzDoesAndRoundTrips) {
  using namespace std::chrono;
  std::mt19937_64 rng(20261207);
  const char* zones[] = {"Europe/Berlin",    "UTC",          "America/St_Johns",    "Asia/Kathmandu",
                         "Pacific/Chatham",  "Pacific/Apia", "Australia/Lord_Howe", "America/Sao_Paulo",
                         "Antarctica/Troll", "Europe/Dublin"};
  std::uniform_int_distribution<TimeUs> instant(T("1900-01-01T00:00:00Z"), T("2199-12-30T00:00:00Z"));
  for (const char* name : zones) {
    const date::time_zone* host = date::locate_zone(name);
    const Zone* zone = FindZone(name);
    ASSERT_NE(zone, nullptr) << name;
    EXPECT_EQ(zone->name(), name);
    EXPECT_EQ(ZoneFromRules(zone->Rules()), zone);
    const auto check_local = [&](date::local_time<microseconds> lt) {
      for (auto c : {date::choose::earliest, date::choose::latest}) {
        ASSERT_EQ(zone->to_sys(lt, c), host->to_sys(lt, c))
            << name << " " << date::format("%F %T", lt)
            << (c == date::choose::latest ? " latest" : " earliest");
      }
    };
    for (int i = 0; i < 5000; ++i) {
      const date::sys_time<microseconds> tp{microseconds{instant(rng)}};
      ASSERT_EQ(zone->to_local(tp), host->to_local(tp)) << name << " " << date::format("%F %T", tp);
      ASSERT_EQ(zone->get_info(date::floor<seconds>(tp)).offset,
                host->get_info(date::floor<seconds>(tp)).offset);
      check_local(date::local_time<microseconds>{tp.time_since_epoch()});
    }
    // Every change of offset: the local minutes around it (the gap or the
    // repeated hour) and the instants around it.
    auto info = host->get_info(date::sys_seconds{date::sys_days{date::year{1900} / 1 / 1}});
    const date::sys_seconds end{date::sys_days{date::year{2199} / 12 / 1}};
    for (auto t = info.end; t < end; t = info.end) {
      const auto before = info.offset;
      info = host->get_info(t);
      for (auto d = -minutes(90); d <= minutes(90); d += minutes(15)) {
        const date::sys_time<microseconds> at{t + d};
        ASSERT_EQ(zone->to_local(at), host->to_local(at)) << name;
        check_local(date::local_time<microseconds>{(t + before + d).time_since_epoch()});
        check_local(date::local_time<microseconds>{(t + info.offset + d).time_since_epoch()});
      }
    }
  }
  // Not rules: nullptr, nothing interned.
  EXPECT_EQ(ZoneFromRules(""), nullptr);
  EXPECT_EQ(ZoneFromRules("sbz1 X\n3600\n10 7200\n5 3600\n"), nullptr);  // not ascending
  EXPECT_EQ(ZoneFromRules("sbz1 X\n999999\n"), nullptr);                 // no such offset
  EXPECT_EQ(ZoneFromRules("sbz1 X\n3600"), nullptr);                     // no final newline
  EXPECT_EQ(ZoneFromRules("sbz1 X Y\n3600\n"), nullptr);                 // a name with a space
  const Zone* fixed = ZoneFromRules("sbz1 Test/Fixed\n18000\n");
  ASSERT_NE(fixed, nullptr);
  EXPECT_EQ(FormatLocal(T("2026-12-05T20:00:00Z"), fixed), "2026-12-06T01:00:00+05:00");
}

}  // namespace
}  // namespace saalbuch
