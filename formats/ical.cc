#include "formats/ical.h"

#include <libical/ical.h>

#include <algorithm>
#include <cstdlib>
#include <memory>

#include "common/crypto.h"
#include "common/time.h"

namespace saalbuch::formats {
namespace {

struct ComponentFree {
  void operator()(icalcomponent* c) const { icalcomponent_free(c); }
};
using Component = std::unique_ptr<icalcomponent, ComponentFree>;

icaltimetype Utc(TimeUs t) {
  return icaltime_from_timet_with_zone(static_cast<time_t>(t / kUsPerSecond), 0,
                                       icaltimezone_get_utc_timezone());
}

Component Calendar(const std::string& name) {
  Component cal(icalcomponent_new_vcalendar());
  icalcomponent_add_property(cal.get(), icalproperty_new_version("2.0"));
  icalcomponent_add_property(cal.get(), icalproperty_new_prodid("-//Saalbuch//Saalbuch 0.1//DE"));
  icalcomponent_add_property(cal.get(), icalproperty_new_calscale("GREGORIAN"));
  icalcomponent_add_property(cal.get(), icalproperty_new_method(ICAL_METHOD_PUBLISH));
  icalproperty* x = icalproperty_new_x(name.c_str());
  icalproperty_set_x_name(x, "X-WR-CALNAME");
  icalcomponent_add_property(cal.get(), x);
  return cal;
}

// RFC 5545 § 3.1 folding of `text`'s content lines, done here: libical's
// own folding put the fold between the CR and the LF of a line that ends
// exactly at 75 octets ("…\r\r\n \n", a bare CR and LF; found by
// tests/fuzz/fuzz_ical: a resource name of the wrong length was enough).
// Its folds are undone first — removing every "\r\n " also mends that
// case — then each line is folded at 75 octets, never inside a UTF-8
// character.
std::string Refold(std::string text) {
  std::string unfolded;
  unfolded.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text.compare(i, 3, "\r\n ") == 0) {
      i += 2;
      continue;
    }
    unfolded.push_back(text[i]);
  }
  std::string out;
  out.reserve(unfolded.size() + unfolded.size() / 64);
  std::size_t start = 0;
  while (start < unfolded.size()) {
    std::size_t end = unfolded.find("\r\n", start);
    if (end == std::string::npos) end = unfolded.size();
    std::size_t width = 75;  // octets of the first line; 74 after the space
    std::size_t at = start;
    while (end - at > width) {
      std::size_t cut = at + width;
      while (cut > at + 1 && (static_cast<unsigned char>(unfolded[cut]) & 0xC0) == 0x80) --cut;
      out.append(unfolded, at, cut - at).append("\r\n ");
      at = cut;
      width = 74;
    }
    out.append(unfolded, at, end - at).append("\r\n");
    start = end + 2;
  }
  return out;
}

std::string Text(const Component& cal) {
  char* raw = icalcomponent_as_ical_string_r(cal.get());
  std::string out(raw == nullptr ? "" : raw);
  std::free(raw);  // NOLINT: libical hands out malloc'ed strings
  return Refold(std::move(out));
}

}  // namespace

std::string BusyFeedIcs(const TenantId& tenant, const std::string& resource_name,
                        const std::vector<BusySlot>& busy, TimeUs now) {
  Component cal = Calendar(resource_name + " – belegt");
  for (const auto& b : busy) {
    icalcomponent* ev = icalcomponent_new_vevent();
    // A stable UID that does not reveal the booking id.
    const std::string uid =
        ToHex(Sha256Of(tenant.get() + "/" + b.booking.get())).substr(0, 32) + "@busy.saalbuch";
    icalcomponent_add_property(ev, icalproperty_new_uid(uid.c_str()));
    icalcomponent_add_property(ev, icalproperty_new_dtstamp(Utc(now)));
    icalcomponent_add_property(ev, icalproperty_new_dtstart(Utc(b.range.start)));
    icalcomponent_add_property(ev, icalproperty_new_dtend(Utc(b.range.end)));
    icalcomponent_add_property(ev, icalproperty_new_summary("Belegt / Busy"));
    icalcomponent_add_property(ev, icalproperty_new_transp(ICAL_TRANSP_OPAQUE));
    icalcomponent_add_property(ev, icalproperty_new_class(ICAL_CLASS_PUBLIC));
    icalcomponent_add_component(cal.get(), ev);
  }
  return Text(cal);
}

std::string BookingIcs(const TenantId& tenant, const std::string& tenant_name,
                       const std::string& resource_name, const IcsBooking& booking, TimeUs now) {
  Component cal = Calendar(tenant_name);
  icalcomponent* ev = icalcomponent_new_vevent();
  const std::string uid = booking.id + "@" + tenant.get() + ".saalbuch";
  const std::string summary = resource_name + " (" + booking.number + ")";
  icalcomponent_add_property(ev, icalproperty_new_uid(uid.c_str()));
  icalcomponent_add_property(ev, icalproperty_new_dtstamp(Utc(now)));
  icalcomponent_add_property(ev, icalproperty_new_dtstart(Utc(booking.range.start)));
  icalcomponent_add_property(ev, icalproperty_new_dtend(Utc(booking.range.end)));
  icalcomponent_add_property(ev, icalproperty_new_summary(summary.c_str()));
  icalcomponent_add_property(ev, icalproperty_new_location((resource_name + ", " + tenant_name).c_str()));
  icalcomponent_add_property(ev, icalproperty_new_sequence(booking.version));
  icalcomponent_add_property(
      ev, icalproperty_new_status(booking.cancelled ? ICAL_STATUS_CANCELLED : ICAL_STATUS_CONFIRMED));
  icalcomponent_add_component(cal.get(), ev);
  return Text(cal);
}

Result<std::vector<TimeRange>> ExpandRRule(const std::string& rrule, TimeRange first, const Zone* zone,
                                           const std::vector<TimeUs>& exdates,
                                           const std::vector<LocalDay>& exdays, std::size_t max) {
  using std::chrono::microseconds;
  using std::chrono::seconds;
  if (rrule.empty() || rrule.size() > 500)
    return Status(StatusCode::kInvalidArgument, "rrule must have 1–500 bytes");
  icalerror_clear_errno();
  struct icalrecurrencetype recur = icalrecurrencetype_from_string(rrule.c_str());
  // libical 3.0 gives RSCALE's value to the caller to free (found by
  // fuzz_rrule as a leak). Bookings follow the civil (Gregorian) calendar.
  const std::unique_ptr<char, void (*)(void*)> rscale(recur.rscale, std::free);
  recur.rscale = nullptr;
  if (rscale) return Status(StatusCode::kInvalidArgument, "rrule RSCALE is not supported");
  if (recur.freq == ICAL_NO_RECURRENCE || icalerrno != ICAL_NO_ERROR) {
    icalerror_clear_errno();
    return Status(StatusCode::kInvalidArgument, "rrule is not a valid RFC 5545 recurrence rule");
  }
  if (recur.count == 0 && icaltime_is_null_time(recur.until)) {
    return Status(StatusCode::kInvalidArgument, "rrule must end: give COUNT or UNTIL");
  }
  if (recur.freq == ICAL_SECONDLY_RECURRENCE || recur.freq == ICAL_MINUTELY_RECURRENCE) {
    return Status(StatusCode::kInvalidArgument, "rrule FREQ must be HOURLY or longer");
  }
  const auto local_start = zone->to_local(date::sys_time<microseconds>(microseconds(first.start)));
  const auto local_end = zone->to_local(date::sys_time<microseconds>(microseconds(first.end)));
  const auto length = local_end - local_start;  // wall-clock length
  const auto day = date::floor<date::days>(local_start);
  const date::year_month_day ymd{day};
  const date::hh_mm_ss<microseconds> hms{local_start - day};
  icaltimetype dtstart = icaltime_null_time();
  dtstart.year = static_cast<int>(ymd.year());
  dtstart.month = static_cast<int>(static_cast<unsigned>(ymd.month()));
  dtstart.day = static_cast<int>(static_cast<unsigned>(ymd.day()));
  dtstart.hour = static_cast<int>(hms.hours().count());
  dtstart.minute = static_cast<int>(hms.minutes().count());
  dtstart.second = static_cast<int>(hms.seconds().count());
  dtstart.is_date = 0;

  std::unique_ptr<icalrecur_iterator, void (*)(icalrecur_iterator*)> it(
      icalrecur_iterator_new(recur, dtstart), icalrecur_iterator_free);
  if (!it) return Status(StatusCode::kInvalidArgument, "rrule cannot be expanded from this start");
  std::vector<TimeRange> out;
  const auto sub_second = local_start - date::floor<seconds>(local_start);
  for (std::size_t steps = 0;; ++steps) {
    icaltimetype next = icalrecur_iterator_next(it.get());
    if (icaltime_is_null_time(next)) break;
    if (steps > 100 * max)
      return Status(StatusCode::kInvalidArgument, "rrule yields too few dates to expand");
    const date::local_days d = date::local_days{date::year{next.year} / next.month / next.day};
    const auto lt = d + std::chrono::hours(next.hour) + std::chrono::minutes(next.minute) +
                    seconds(next.second) + sub_second;
    // A start in a DST gap moves to the end of the gap; a repeated hour
    // takes its first instance.
    const TimeUs start = zone->to_sys(lt, date::choose::earliest).time_since_epoch().count();
    const TimeUs end = zone->to_sys(lt + length, date::choose::latest).time_since_epoch().count();
    const LocalDay local_day = static_cast<LocalDay>(d.time_since_epoch().count());
    if (std::find(exdates.begin(), exdates.end(), start) != exdates.end() ||
        std::find(exdays.begin(), exdays.end(), local_day) != exdays.end()) {
      continue;
    }
    if (out.size() == max) {
      return Status(StatusCode::kInvalidArgument,
                    "the rule yields more than " + std::to_string(max) + " occurrences");
    }
    out.push_back({start, end});
  }
  if (out.empty()) return Status(StatusCode::kInvalidArgument, "the rule yields no occurrence");
  return out;
}

}  // namespace saalbuch::formats
