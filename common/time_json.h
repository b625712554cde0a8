// The wire shape of a time range (API.md: UTC plus the tenant's zone where a
// person reads it), shared by command replies and query results.
#pragma once

#include <nlohmann/json.hpp>

#include "common/time.h"

namespace saalbuch {

// {"start", "end"} in UTC and {"start_local", "end_local"} in `zone`.
inline nlohmann::json RangeJson(const TimeRange& r, const Zone* zone) {
  return {{"start", FormatUtc(r.start)},
          {"end", FormatUtc(r.end)},
          {"start_local", FormatLocal(r.start, zone)},
          {"end_local", FormatLocal(r.end, zone)}};
}

}  // namespace saalbuch
