#include "http/ical.h"

#include <libical/ical.h>

#include <cstdlib>
#include <memory>

#include "common/crypto.h"
#include "common/time.h"

namespace saalbuch::http {
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

std::string Text(const Component& cal) {
  char* raw = icalcomponent_as_ical_string_r(cal.get());
  std::string out(raw == nullptr ? "" : raw);
  std::free(raw);  // NOLINT: libical hands out malloc'ed strings
  return out;
}

}  // namespace

std::string BusyFeedIcs(const TenantId& tenant, const std::string& resource_name,
                        const std::vector<projections::BusyRange>& busy, TimeUs now) {
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
                       const std::string& resource_name, const nlohmann::json& booking, TimeUs now) {
  Component cal = Calendar(tenant_name);
  icalcomponent* ev = icalcomponent_new_vevent();
  const std::string uid = booking.at("id").get<std::string>() + "@" + tenant.get() + ".saalbuch";
  const std::string summary = resource_name + " (" + booking.at("number").get<std::string>() + ")";
  icalcomponent_add_property(ev, icalproperty_new_uid(uid.c_str()));
  icalcomponent_add_property(ev, icalproperty_new_dtstamp(Utc(now)));
  icalcomponent_add_property(
      ev, icalproperty_new_dtstart(Utc(*ParseRfc3339(booking.at("start").get<std::string>()))));
  icalcomponent_add_property(
      ev, icalproperty_new_dtend(Utc(*ParseRfc3339(booking.at("end").get<std::string>()))));
  icalcomponent_add_property(ev, icalproperty_new_summary(summary.c_str()));
  icalcomponent_add_property(ev, icalproperty_new_location((resource_name + ", " + tenant_name).c_str()));
  icalcomponent_add_property(ev, icalproperty_new_sequence(booking.at("version").get<int>()));
  icalcomponent_add_property(
      ev, icalproperty_new_status(booking.at("status") == "cancelled" ? ICAL_STATUS_CANCELLED
                                                                      : ICAL_STATUS_CONFIRMED));
  icalcomponent_add_component(cal.get(), ev);
  return Text(cal);
}

}  // namespace saalbuch::http
