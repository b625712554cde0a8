#include "common/time.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <sstream>

namespace saalbuch {
namespace {

using std::chrono::microseconds;
using SysUs = date::sys_time<microseconds>;

int Digits(std::string_view s, std::size_t pos, std::size_t n, bool* ok) {
  int v = 0;
  if (pos + n > s.size()) {
    *ok = false;
    return 0;
  }
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') *ok = false;
    v = v * 10 + (s[i] - '0');
  }
  return v;
}

Status BadTime(std::string_view text) {
  return {StatusCode::kInvalidArgument, "not an RFC 3339 timestamp with offset: '" +
                                            std::string(text.substr(0, 64)) +
                                            "' (expected e.g. 2026-03-29T10:00:00+02:00)"};
}

}  // namespace

Result<TimeUs> ParseRfc3339(std::string_view s) {
  // YYYY-MM-DDTHH:MM:SS[.ffffff](Z|±HH:MM). Parsed by hand because date::parse
  // accepts more than RFC 3339 allows (missing offsets among them).
  bool ok = s.size() >= 20;
  int y = Digits(s, 0, 4, &ok), mo = Digits(s, 5, 2, &ok), d = Digits(s, 8, 2, &ok);
  int h = Digits(s, 11, 2, &ok), mi = Digits(s, 14, 2, &ok), se = Digits(s, 17, 2, &ok);
  if (!ok || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') || s[13] != ':' || s[16] != ':') {
    return BadTime(s);
  }
  std::size_t pos = 19;
  std::int64_t frac_us = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    std::size_t start = pos;
    std::int64_t scale = 100000;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (pos - start < 6) frac_us += (s[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
    if (pos == start) return BadTime(s);
  }
  std::int64_t offset_min = 0;
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
    ++pos;
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    int sign = s[pos] == '-' ? -1 : 1;
    int oh = Digits(s, pos + 1, 2, &ok), om = Digits(s, pos + 4, 2, &ok);
    if (!ok || pos + 6 > s.size() || s[pos + 3] != ':' || oh > 23 || om > 59) {
      return BadTime(s);
    }
    offset_min = std::int64_t{sign} * (oh * 60 + om);
    pos += 6;
  } else {
    return BadTime(s);
  }
  if (pos != s.size() || h > 23 || mi > 59 || se > 59 || y < kMinYear || y > kMaxYear) return BadTime(s);
  auto ymd = date::year{y} / mo / d;
  if (!ymd.ok()) return BadTime(s);
  auto t = date::sys_days{ymd} + std::chrono::hours{h} + std::chrono::minutes{mi} + std::chrono::seconds{se} -
           std::chrono::minutes{offset_min};
  return std::chrono::duration_cast<microseconds>(t.time_since_epoch()).count() + frac_us;
}

namespace {

void AppendDigits(std::string* out, std::int64_t v, int n) {
  char buf[8];
  for (int i = n - 1; i >= 0; --i) {
    buf[i] = static_cast<char>('0' + v % 10);
    v /= 10;
  }
  out->append(buf, static_cast<std::size_t>(n));
}

// Appends YYYY-MM-DDTHH:MM:SS, and .ffffff when `t` has a fraction of a
// second: what date::format("%FT%T") writes, without a stream and its
// locale (every JSON reply carries timestamps, availability dozens). False
// (nothing appended) for a year outside 0000–9999.
bool AppendDateTime(std::string* out, TimeUs t) {
  const SysUs tp{microseconds{t}};
  const auto day = date::floor<date::days>(tp);
  const date::year_month_day ymd{day};
  const int year = static_cast<int>(ymd.year());
  if (year < 0 || year > 9999) return false;
  const std::int64_t us = (tp - day).count();
  AppendDigits(out, year, 4);
  out->push_back('-');
  AppendDigits(out, static_cast<unsigned>(ymd.month()), 2);
  out->push_back('-');
  AppendDigits(out, static_cast<unsigned>(ymd.day()), 2);
  out->push_back('T');
  AppendDigits(out, us / (3600 * kUsPerSecond), 2);
  out->push_back(':');
  AppendDigits(out, us / (60 * kUsPerSecond) % 60, 2);
  out->push_back(':');
  AppendDigits(out, us / kUsPerSecond % 60, 2);
  if (us % kUsPerSecond != 0) {
    out->push_back('.');
    AppendDigits(out, us % kUsPerSecond, 6);
  }
  return true;
}

}  // namespace

std::string FormatUtc(TimeUs t) {
  std::string s;
  s.reserve(28);
  if (AppendDateTime(&s, t)) {
    s.push_back('Z');
    return s;
  }
  SysUs tp{microseconds{t}};
  if (t % kUsPerSecond == 0) {
    return date::format("%FT%TZ", date::floor<std::chrono::seconds>(tp));
  }
  return date::format("%FT%TZ", tp);
}

std::string FormatLocal(TimeUs t, const Zone* zone) {
  SysUs tp{microseconds{t}};
  const auto offset = zone->get_info(date::floor<std::chrono::seconds>(tp)).offset;
  std::string s;
  s.reserve(32);
  // Offsets of whole minutes (all since the 1890s) take the fast path.
  if (offset.count() % 60 == 0 && AppendDateTime(&s, t + offset.count() * kUsPerSecond)) {
    const auto minutes = offset.count() / 60;
    s.push_back(minutes < 0 ? '-' : '+');
    AppendDigits(&s, std::abs(minutes) / 60, 2);
    s.push_back(':');
    AppendDigits(&s, std::abs(minutes) % 60, 2);
    return s;
  }
  // Local mean time of the 19th century: seconds in the offset, which
  // ±hh:mm drops (as date/tz's %Ez does).
  const auto local = zone->to_local(tp);
  s = t % kUsPerSecond == 0 ? date::format("%FT%T", date::floor<std::chrono::seconds>(local))
                            : date::format("%FT%T", local);
  const auto magnitude = std::abs(offset.count());
  s.push_back(offset.count() < 0 ? '-' : '+');
  AppendDigits(&s, static_cast<int>(magnitude / 3600), 2);
  s.push_back(':');
  AppendDigits(&s, static_cast<int>(magnitude % 3600 / 60), 2);
  return s;
}

std::optional<LocalDay> ParseLocalDay(std::string_view s) {
  bool ok = s.size() == 10 && s[4] == '-' && s[7] == '-';
  int y = Digits(s, 0, 4, &ok), m = Digits(s, 5, 2, &ok), d = Digits(s, 8, 2, &ok);
  if (!ok || y < kMinYear || y > kMaxYear) return std::nullopt;
  auto ymd = date::year{y} / m / d;
  if (!ymd.ok()) return std::nullopt;
  return static_cast<LocalDay>(date::sys_days{ymd}.time_since_epoch().count());
}

std::optional<LocalDay> ParseLocalMonth(std::string_view s) {
  if (s.size() != 7) return std::nullopt;
  return ParseLocalDay(std::string(s) + "-01");
}

std::string FormatLocalDay(LocalDay day) { return date::format("%F", date::sys_days{date::days{day}}); }

std::vector<DayInterval> OpeningCalendar::HoursOn(LocalDay day, int iso_weekday) const {
  if (auto it = special_days.find(day); it != special_days.end()) return it->second;
  if (holidays.count(day) != 0) return {};
  for (const auto& [first, last] : closures) {
    if (first <= day && day <= last) return {};
  }
  std::vector<DayInterval> out;
  for (const auto& h : weekly) {
    if (h.weekday == iso_weekday) out.push_back({h.start_minute, h.end_minute});
  }
  return out;
}

std::vector<TimeRange> OpeningRanges(const OpeningCalendar& calendar, const Zone* zone, TimeRange window) {
  std::vector<TimeRange> out;
  if (window.empty()) return out;
  auto local_day = [&](TimeUs t) {
    auto lt = zone->to_local(SysUs{microseconds{t}});
    return date::floor<date::days>(lt);
  };
  auto to_us = [&](date::local_time<std::chrono::minutes> lt, date::choose c) {
    auto st = zone->to_sys(lt, c);
    return std::chrono::duration_cast<microseconds>(st.time_since_epoch()).count();
  };
  auto first = local_day(window.start) - date::days{1};
  auto last = local_day(window.end) + date::days{1};
  for (auto day = first; day <= last; day += date::days{1}) {
    const int iso = date::weekday{day}.iso_encoding();
    const auto n = static_cast<LocalDay>(day.time_since_epoch().count());
    for (const auto& h : calendar.HoursOn(n, iso)) {
      if (h.end_minute <= h.start_minute) continue;
      TimeRange r{to_us(day + std::chrono::minutes{h.start_minute}, date::choose::earliest),
                  to_us(day + std::chrono::minutes{h.end_minute}, date::choose::latest)};
      r.start = std::max(r.start, window.start);
      r.end = std::min(r.end, window.end);
      if (!r.empty()) out.push_back(r);
    }
  }
  std::sort(out.begin(), out.end());
  std::vector<TimeRange> merged;
  for (const auto& r : out) {
    if (!merged.empty() && r.start <= merged.back().end) {
      merged.back().end = std::max(merged.back().end, r.end);
    } else {
      merged.push_back(r);
    }
  }
  return merged;
}

std::vector<TimeRange> OpeningRanges(const std::vector<WeeklyInterval>& hours, const Zone* zone,
                                     TimeRange window) {
  OpeningCalendar calendar;
  calendar.weekly = hours;
  return OpeningRanges(calendar, zone, window);
}

std::vector<TimeRange> Subtract(const std::vector<TimeRange>& ranges, const std::vector<TimeRange>& busy) {
  std::vector<TimeRange> out;
  for (auto r : ranges) {
    for (const auto& b : busy) {
      if (b.end <= r.start) continue;
      if (b.start >= r.end) break;
      if (b.start > r.start) out.push_back({r.start, b.start});
      r.start = std::max(r.start, b.end);
      if (r.empty()) break;
    }
    if (!r.empty()) out.push_back(r);
  }
  return out;
}

int LocalYear(TimeUs t, const Zone* zone) {
  auto lt = zone->to_local(SysUs{microseconds{t}});
  return static_cast<int>(date::year_month_day{date::floor<date::days>(lt)}.year());
}

LocalDay LocalDayOf(TimeUs t, const Zone* zone) {
  auto lt = zone->to_local(SysUs{microseconds{t}});
  return static_cast<LocalDay>(date::floor<date::days>(lt).time_since_epoch().count());
}

TimeUs LocalDayStart(LocalDay day, const Zone* zone) {
  const date::local_time<microseconds> midnight{date::days{day}};
  return zone->to_sys(midnight, date::choose::earliest).time_since_epoch().count();
}

TimeUs LocalNoon(LocalDay day, const Zone* zone) {
  const date::local_time<microseconds> noon{date::days{day} + std::chrono::hours{12}};
  return zone->to_sys(noon, date::choose::earliest).time_since_epoch().count();
}

std::optional<std::pair<LocalDay, LocalDay>> CalendarPeriod(LocalDay day, std::string_view period) {
  const date::sys_days d{date::days{day}};
  auto count = [](date::sys_days s) { return static_cast<LocalDay>(s.time_since_epoch().count()); };
  if (period == "week") {
    const unsigned iso = date::weekday{d}.iso_encoding();  // 1 = Monday
    const LocalDay monday = day - static_cast<LocalDay>(iso - 1);
    return std::make_pair(monday, monday + 6);
  }
  const date::year_month_day ymd{d};
  if (period == "month") {
    const date::sys_days first{ymd.year() / ymd.month() / 1};
    const date::sys_days last{ymd.year() / ymd.month() / date::last};
    return std::make_pair(count(first), count(last));
  }
  if (period == "year") {
    return std::make_pair(count(date::sys_days{ymd.year() / 1 / 1}),
                          count(date::sys_days{ymd.year() / 12 / 31}));
  }
  return std::nullopt;
}

}  // namespace saalbuch
