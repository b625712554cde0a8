// Dates and times for people: a booking's time range in the tenant's zone,
// written out in German or English as a letter would give it.
//
//   German:  "Mi., 20. Januar 2027, 18:00–20:00 Uhr"
//            "Fr., 31. Dezember 2027, 22:00 Uhr – Sa., 1. Januar 2028, 02:00 Uhr"
//   English: "Wed, 20 January 2027, 6:00–8:00 pm"
//            "Wed, 20 January 2027, 10:00 am – 2:00 pm"
//            "Fri, 31 December 2027, 10:00 pm – Sat, 1 January 2028, 2:00 am"
//
// The wall-clock time is the one in `zone` at each instant (date/tz), so a
// range across a DST change shows each end as the clock on the wall shows
// it. A range that ends on another local day names both days. Minutes are
// always shown; seconds never.
#pragma once

#include <date/tz.h>

#include <string>

#include "common/types.h"

namespace saalbuch::formats {

enum class Language { kGerman, kEnglish };

// One instant: "Mi., 20. Januar 2027, 18:00 Uhr" / "Wed, 20 January 2027, 6:00 pm".
// REQUIRES: zone != nullptr.
std::string FormatDateTime(TimeUs t, const Zone* zone, Language language);

// [start, end) as above. REQUIRES: zone != nullptr, start <= end.
std::string FormatTimeRange(TimeUs start, TimeUs end, const Zone* zone, Language language);

}  // namespace saalbuch::formats
