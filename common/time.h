// Time on the wire and in local rules.
//
// Inside Saalbuch time is UTC microseconds (TimeUs). People state rules in
// local time; those are evaluated in the tenant's IANA zone with Howard
// Hinnant's date/tz against the system tz database, so that DST days are 23
// or 25 hours long and nothing breaks.
#pragma once

#include <date/tz.h>

#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "common/types.h"
#include "common/zone.h"

namespace saalbuch {

// The calendar years Saalbuch takes in, for timestamps and dates alike:
// others are never meant, and refusing them keeps every later computation
// (and formatting) far from overflow. What is stored lies within them.
inline constexpr int kMinYear = 1900;
inline constexpr int kMaxYear = 9000;

// Parses an RFC 3339 timestamp that carries an offset ("Z" or ±hh:mm), with
// optional fractional seconds (up to microseconds), in the years
// kMinYear–kMaxYear.
Result<TimeUs> ParseRfc3339(std::string_view text);

// "2026-03-29T08:00:00Z" (fraction only when non-zero).
std::string FormatUtc(TimeUs t);

// "2026-03-29T10:00:00+02:00", the wall-clock time in `zone`.
std::string FormatLocal(TimeUs t, const Zone* zone);

// One weekly opening interval in local time: ISO weekday (1 = Monday … 7 =
// Sunday), minutes since local midnight, end exclusive and ≤ 1440.
struct WeeklyInterval {
  int weekday = 1;
  int start_minute = 0;
  int end_minute = 0;
  auto operator<=>(const WeeklyInterval&) const = default;
};

// Opening minutes on one local day: [start, end), end ≤ 1440.
struct DayInterval {
  int start_minute = 0;
  int end_minute = 0;
  auto operator<=>(const DayInterval&) const = default;
};

// A local calendar day, counted from 1970-01-01 (day 0).
using LocalDay = std::int32_t;

// "YYYY-MM-DD" → LocalDay; nullopt when it is not a real date of the years
// kMinYear–kMaxYear.
std::optional<LocalDay> ParseLocalDay(std::string_view text);

// "YYYY-MM" → the month's first day; nullopt when it is not a month of the
// years kMinYear–kMaxYear.
std::optional<LocalDay> ParseLocalMonth(std::string_view text);
std::string FormatLocalDay(LocalDay day);

// When a resource is open, in local time: weekly hours, overridden on some
// days. Precedence per local day: a special day's hours (empty = closed),
// else closed during a closure or on a tenant holiday, else the weekly hours.
struct OpeningCalendar {
  std::vector<WeeklyInterval> weekly;
  std::map<LocalDay, std::vector<DayInterval>> special_days;
  std::vector<std::pair<LocalDay, LocalDay>> closures;  // inclusive ranges
  std::set<LocalDay> holidays;

  // The hours of `day`, whose ISO weekday is `iso_weekday`.
  std::vector<DayInterval> HoursOn(LocalDay day, int iso_weekday) const;
};

// The UTC ranges within `window` during which `calendar` is open in `zone`;
// same conventions as the weekly overload below.
std::vector<TimeRange> OpeningRanges(const OpeningCalendar& calendar, const Zone* zone, TimeRange window);

// The UTC ranges within `window` during which weekly `hours` are open in
// `zone`: sorted, non-overlapping, adjacent ranges merged (so Monday 00:00–
// 24:00 and Tuesday 00:00–08:00 form one range). A local start that falls
// into a DST gap begins when the gap ends; on the repeated hour of a
// fall-back day a start takes the earlier and an end the later instant.
std::vector<TimeRange> OpeningRanges(const std::vector<WeeklyInterval>& hours, const Zone* zone,
                                     TimeRange window);

// Subtracts `busy` (sorted by start, may overlap) from sorted,
// non-overlapping `ranges`.
std::vector<TimeRange> Subtract(const std::vector<TimeRange>& ranges, const std::vector<TimeRange>& busy);

// The calendar year of `t` in `zone`.
int LocalYear(TimeUs t, const Zone* zone);

// The local calendar day of `t` in `zone`.
LocalDay LocalDayOf(TimeUs t, const Zone* zone);

// The first instant of a local day in `zone` as UTC (a day that begins in
// a DST gap begins when the gap ends).
TimeUs LocalDayStart(LocalDay day, const Zone* zone);

// Noon of a local day in `zone` as UTC: an instant safely inside the day,
// used for dates without a time (bank booking dates, payment dates).
TimeUs LocalNoon(LocalDay day, const Zone* zone);

// The local days [first, last] of the calendar period ("week": ISO, Monday
// to Sunday; "month"; "year") that contains `day`. nullopt for another
// period name.
std::optional<std::pair<LocalDay, LocalDay>> CalendarPeriod(LocalDay day, std::string_view period);

}  // namespace saalbuch
