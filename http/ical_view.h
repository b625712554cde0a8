// Projection values read into formats/ical.h's plain values: a resource's
// busy ranges and a bookings-projection document become iCalendar text.
// Also brings formats::ExpandRRule into saalbuch::http.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/time.h"
#include "common/types.h"
#include "formats/ical.h"
#include "projections/projections.h"

namespace saalbuch::http {

using formats::ExpandRRule;

// formats::BusyFeedIcs of `busy` (QueryBusy). `now` stamps DTSTAMP.
std::string BusyFeedIcs(const TenantId& tenant, const std::string& resource_name,
                        const std::vector<projections::BusyRange>& busy, TimeUs now);

// formats::BookingIcs of `booking`, a bookings-projection document (id,
// number, start, end, version, status). REQUIRES: those fields are present
// and start/end are RFC 3339 (a missing field throws, as json::at does).
std::string BookingIcs(const TenantId& tenant, const std::string& tenant_name,
                       const std::string& resource_name, const nlohmann::json& booking, TimeUs now);

}  // namespace saalbuch::http
