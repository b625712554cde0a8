// iCalendar (RFC 5545) documents, written with libical: a public busy feed
// per resource (no personal data: every event is "Belegt / Busy") and an
// .ics of one booking for its booker.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "projections/projections.h"

namespace saalbuch::http {

// `now` stamps DTSTAMP. Times are written in UTC.
std::string BusyFeedIcs(const TenantId& tenant, const std::string& resource_name,
                        const std::vector<projections::BusyRange>& busy, TimeUs now);

// `booking` is a bookings-projection document (start, end, number, status,
// version); nullopt-free: missing fields are an error of the caller.
std::string BookingIcs(const TenantId& tenant, const std::string& tenant_name,
                       const std::string& resource_name, const nlohmann::json& booking, TimeUs now);

}  // namespace saalbuch::http
