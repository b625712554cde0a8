// Queries of the usage projection ('U'; keys in usage_fold.cc).
#include <cmath>

#include "common/time.h"
#include "projections/fold_internal.h"
#include "projections/projections.h"

namespace saalbuch::projections {

using nlohmann::json;

namespace {

std::int64_t Int(const json& row, const char* field) { return row.value(field, std::int64_t{0}); }

// x rounded to `places` decimals; null when there is nothing to divide by.
json Ratio(std::int64_t part, std::int64_t whole, int places) {
  if (whole <= 0) return nullptr;
  const double scale = std::pow(10.0, places);
  return std::round(static_cast<double>(part) / static_cast<double>(whole) * scale) / scale;
}

// The tenant's zone for a query of months [from, to] of the usage
// projection: kInvalidArgument for bad months, kNotFound for an unknown
// tenant.
Result<const Zone*> MonthsZone(const KvView& kv, const TenantId& tenant, const std::string& from,
                               const std::string& to) {
  const auto first = ParseLocalMonth(from), last = ParseLocalMonth(to);
  if (!first || !last || *last < *first) {
    return Status(StatusCode::kInvalidArgument,
                  "'from' and 'to' must be months (YYYY-MM), 'to' not before 'from'");
  }
  auto zone_name = kv.Get(Key(tenant, 'U', "t"));
  if (!zone_name.ok()) return zone_name.status();
  if (!zone_name->has_value()) return Status(StatusCode::kNotFound, "tenant not found");
  const Zone* zone = ZoneOf(**zone_name);
  return zone != nullptr ? zone : UtcZone();
}

}  // namespace

Result<json> QueryUsage(const KvView& kv, const AvailabilityIndex& index, const TenantId& tenant,
                        const std::string& from, const std::string& to, const std::string& resource) {
  auto zone_or = MonthsZone(kv, tenant, from, to);
  if (!zone_or.ok()) return zone_or.status();
  const Zone* zone = *zone_or;

  // The open time of each (month, resource) named by a row, asked once.
  std::map<std::pair<std::string, std::string>, Result<OpenTime>> open;
  auto open_time = [&](const std::string& month, const std::string& res) -> const Result<OpenTime>& {
    auto it = open.find({month, res});
    if (it != open.end()) return it->second;
    const LocalDay day = *ParseLocalMonth(month);
    const LocalDay next = CalendarPeriod(day, "month")->second + 1;
    return open
        .emplace(std::pair{month, res}, QueryOpenTime(index, tenant, ResourceId(res),
                                                      {LocalDayStart(day, zone), LocalDayStart(next, zone)}))
        .first->second;
  };

  json items = json::array();
  const std::string prefix = Key(tenant, 'U', "m");
  Status s = kv.Scan(prefix + from, prefix + to + "0", [&](std::string_view k, std::string_view v) {
    // "<YYYY-MM>/<resource>/<group>"
    const std::string rest(k.substr(prefix.size()));
    const std::size_t a = rest.find('/'), b = rest.find('/', a + 1);
    const std::string month = rest.substr(0, a), res = rest.substr(a + 1, b - a - 1),
                      group = rest.substr(b + 1);
    if (!resource.empty() && res != resource) return true;
    const json row = json::parse(v, nullptr, false);
    if (!row.is_object()) return true;
    json item = {{"month", month},
                 {"resource", res},
                 {"group", group},
                 {"placed", Int(row, "placed")},
                 {"bookings", Int(row, "bookings")},
                 {"booked_minutes", Int(row, "booked_minutes")},
                 {"unit_minutes", Int(row, "unit_minutes")},
                 {"approved", Int(row, "approved")},
                 {"rejected", Int(row, "rejected")},
                 {"expired", Int(row, "expired")},
                 {"cancelled", Int(row, "cancelled")},
                 {"no_show", Int(row, "no_show")},
                 {"revenue",
                  {{"net", Int(row, "net")},
                   {"gross", Int(row, "gross")},
                   {"currency", row.value("currency", "EUR")}}}};
    const Result<OpenTime>& o = open_time(month, res);
    if (o.ok()) {
      item["open_minutes"] = o->minutes;
      item["capacity"] = o->kind == "event" ? json(nullptr) : json(o->capacity);
      // The share of the open time (of a pool's units, of an event's seats) booked.
      item["utilisation"] = o->kind == "event"  ? Ratio(Int(row, "unit_minutes"), o->seat_minutes, 4)
                            : o->kind == "pool" ? Ratio(Int(row, "unit_minutes"), o->minutes * o->capacity, 4)
                                                : Ratio(Int(row, "booked_minutes"), o->minutes, 4);
    } else {
      item["open_minutes"] = nullptr;  // a resource no longer known
      item["capacity"] = nullptr;
      item["utilisation"] = nullptr;
    }
    items.push_back(std::move(item));
    return true;
  });
  if (!s.ok()) return s;
  return json{{"time_zone", zone->name()}, {"from", from}, {"to", to}, {"items", std::move(items)}};
}

Result<json> QueryFunnel(const KvView& kv, const TenantId& tenant, const std::string& from,
                         const std::string& to, const std::string& resource) {
  auto zone_or = MonthsZone(kv, tenant, from, to);
  if (!zone_or.ok()) return zone_or.status();
  const Zone* zone = *zone_or;
  json items = json::array();
  const std::string prefix = Key(tenant, 'U', "f");
  Status s = kv.Scan(prefix + from, prefix + to + "0", [&](std::string_view k, std::string_view v) {
    // "<YYYY-MM>/<resource>"
    const std::string rest(k.substr(prefix.size()));
    const std::size_t a = rest.find('/');
    const std::string month = rest.substr(0, a), res = rest.substr(a + 1);
    if (!resource.empty() && res != resource) return true;
    const json row = json::parse(v, nullptr, false);
    if (!row.is_object()) return true;
    const json refused = row.value("refused", json::object());
    std::int64_t refused_total = 0;
    for (const auto& [code, n] : refused.items()) refused_total += n.get<std::int64_t>();
    items.push_back({{"month", month},
                     {"resource", res},
                     {"views", Int(row, "views")},
                     {"attempts", Int(row, "attempts")},
                     {"refused", refused},
                     {"refused_total", refused_total},
                     {"booked", Int(row, "booked")},
                     {"paid", Int(row, "paid")}});
    return true;
  });
  if (!s.ok()) return s;
  return json{{"time_zone", zone->name()}, {"from", from}, {"to", to}, {"items", std::move(items)}};
}

}  // namespace saalbuch::projections
