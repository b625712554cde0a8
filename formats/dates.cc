#include "formats/dates.h"

#include <array>
#include <chrono>

namespace saalbuch::formats {

namespace {

struct Local {
  date::year_month_day day;
  unsigned weekday = 0;  // 0 = Sunday
  int hour = 0;
  int minute = 0;
};

Local ToLocal(TimeUs t, const Zone* zone) {
  const date::sys_time<std::chrono::microseconds> sys{std::chrono::microseconds(t)};
  const auto local = zone->to_local(sys);
  const auto days = date::floor<date::days>(local);
  const auto minutes = std::chrono::duration_cast<std::chrono::minutes>(local - days).count();
  return {date::year_month_day(days), date::weekday(days).c_encoding(), static_cast<int>(minutes / 60),
          static_cast<int>(minutes % 60)};
}

std::string Two(int n) {
  std::string out(n < 10 ? "0" : "");
  out += std::to_string(n);
  return out;
}

std::string Day(const Local& l, Language language) {
  static constexpr std::array<const char*, 7> kWeekdaysDe = {"So.", "Mo.", "Di.", "Mi.", "Do.", "Fr.", "Sa."};
  static constexpr std::array<const char*, 7> kWeekdaysEn = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr std::array<const char*, 12> kMonthsDe = {"Januar",    "Februar", "März",     "April",
                                                            "Mai",       "Juni",    "Juli",     "August",
                                                            "September", "Oktober", "November", "Dezember"};
  static constexpr std::array<const char*, 12> kMonthsEn = {"January",   "February", "March",    "April",
                                                            "May",       "June",     "July",     "August",
                                                            "September", "October",  "November", "December"};
  const unsigned month = static_cast<unsigned>(l.day.month()) - 1;
  const std::string day = std::to_string(static_cast<unsigned>(l.day.day()));
  const std::string year = std::to_string(static_cast<int>(l.day.year()));
  if (language == Language::kGerman) {
    return std::string(kWeekdaysDe[l.weekday]) + ", " + day + ". " + kMonthsDe[month] + " " + year;
  }
  return std::string(kWeekdaysEn[l.weekday]) + ", " + day + " " + kMonthsEn[month] + " " + year;
}

// "18:00" in German; "6:00" in English (the am/pm comes from Half).
std::string Clock(const Local& l, Language language) {
  if (language == Language::kGerman) return Two(l.hour) + ":" + Two(l.minute);
  const int h12 = l.hour % 12 == 0 ? 12 : l.hour % 12;
  return std::to_string(h12) + ":" + Two(l.minute);
}

const char* Half(const Local& l) { return l.hour < 12 ? "am" : "pm"; }

}  // namespace

std::string FormatDateTime(TimeUs t, const Zone* zone, Language language) {
  const Local l = ToLocal(t, zone);
  if (language == Language::kGerman) return Day(l, language) + ", " + Clock(l, language) + " Uhr";
  return Day(l, language) + ", " + Clock(l, language) + " " + Half(l);
}

std::string FormatTimeRange(TimeUs start, TimeUs end, const Zone* zone, Language language) {
  const Local a = ToLocal(start, zone);
  const Local b = ToLocal(end, zone);
  if (a.day != b.day) {
    return FormatDateTime(start, zone, language) + " – " + FormatDateTime(end, zone, language);
  }
  if (language == Language::kGerman) {
    return Day(a, language) + ", " + Clock(a, language) + "–" + Clock(b, language) + " Uhr";
  }
  if (std::string_view(Half(a)) != Half(b)) {
    return Day(a, language) + ", " + Clock(a, language) + " " + Half(a) + " – " + Clock(b, language) + " " +
           Half(b);
  }
  return Day(a, language) + ", " + Clock(a, language) + "–" + Clock(b, language) + " " + Half(b);
}

}  // namespace saalbuch::formats
