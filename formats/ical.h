// iCalendar (RFC 5545) with libical: a public busy feed per resource (no
// personal data: every event is "Belegt / Busy"), an .ics of one booking for
// its booker, and the expansion of a recurrence rule (RRULE) into
// occurrences. Pure: plain values in, text out; `now` comes from the caller.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/time.h"
#include "common/types.h"

namespace saalbuch::formats {

// One busy range of a resource. `booking` only seeds the event's UID, which
// is a hash and does not reveal it.
struct BusySlot {
  TimeRange range;
  BookingId booking;
};

// VCALENDAR named "<resource_name> – belegt" with one opaque VEVENT per slot,
// in the given order. `now` stamps DTSTAMP. Times are written in UTC.
std::string BusyFeedIcs(const TenantId& tenant, const std::string& resource_name,
                        const std::vector<BusySlot>& busy, TimeUs now);

// What a booker's .ics shows of their booking.
struct IcsBooking {
  std::string id;          // UID "<id>@<tenant>.saalbuch", stable across changes
  std::string number;      // the booking's human number, in SUMMARY
  TimeRange range;         // DTSTART/DTEND, written in UTC
  int version = 0;         // SEQUENCE: a calendar replaces an older copy of the event
  bool cancelled = false;  // STATUS:CANCELLED instead of CONFIRMED
};

// VCALENDAR named `tenant_name` with one VEVENT: SUMMARY "<resource_name>
// (<number>)", LOCATION "<resource_name>, <tenant_name>". `now` stamps DTSTAMP.
std::string BookingIcs(const TenantId& tenant, const std::string& tenant_name,
                       const std::string& resource_name, const IcsBooking& booking, TimeUs now);

// The occurrences of a recurring booking: `rrule` (an RFC 5545 RRULE value
// such as "FREQ=WEEKLY;BYDAY=TU;UNTIL=20270630T000000Z", expanded by libical)
// from the first occurrence `first`, in local time of `zone`, so that a
// weekly 18:00 stays 18:00 across DST changes. Occurrences whose start is in
// `exdates` (instants) or on one of `exdays` (local days) are left out. The
// rule must end (COUNT or UNTIL) within `max` occurrences.
// REQUIRES: zone != nullptr.
// Errors (kInvalidArgument, the message fit for the booker): an empty rule or
// one over 500 bytes, not a valid RRULE, no COUNT or UNTIL, FREQ shorter than
// HOURLY, more than `max` occurrences, none at all.
Result<std::vector<TimeRange>> ExpandRRule(const std::string& rrule, TimeRange first, const Zone* zone,
                                           const std::vector<TimeUs>& exdates,
                                           const std::vector<LocalDay>& exdays, std::size_t max);

}  // namespace saalbuch::formats
