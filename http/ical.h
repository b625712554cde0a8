// iCalendar (RFC 5545) documents, written with libical: a public busy feed
// per resource (no personal data: every event is "Belegt / Busy") and an
// .ics of one booking for its booker.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/time.h"
#include "projections/projections.h"

namespace saalbuch::http {

// `now` stamps DTSTAMP. Times are written in UTC.
std::string BusyFeedIcs(const TenantId& tenant, const std::string& resource_name,
                        const std::vector<projections::BusyRange>& busy, TimeUs now);

// `booking` is a bookings-projection document (start, end, number, status,
// version); nullopt-free: missing fields are an error of the caller.
std::string BookingIcs(const TenantId& tenant, const std::string& tenant_name,
                       const std::string& resource_name, const nlohmann::json& booking, TimeUs now);

// The occurrences of a recurring booking: `rrule` (an RFC 5545 RRULE value
// such as "FREQ=WEEKLY;BYDAY=TU;UNTIL=20270630T000000Z", expanded by libical)
// from the first occurrence `first`, in local time of `zone`, so that a
// weekly 18:00 stays 18:00 across DST changes. Occurrences whose start is in
// `exdates` (instants) or on one of `exdays` (local days) are left out. The
// rule must end (COUNT or UNTIL) within `max` occurrences.
Result<std::vector<TimeRange>> ExpandRRule(const std::string& rrule, TimeRange first,
                                           const date::time_zone* zone, const std::vector<TimeUs>& exdates,
                                           const std::vector<LocalDay>& exdays, std::size_t max);

}  // namespace saalbuch::http
