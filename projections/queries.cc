#include <algorithm>

#include "common/crypto.h"
#include "common/time.h"
#include "common/time_json.h"
#include "projections/keys_internal.h"
#include "projections/projections.h"

namespace saalbuch::projections {

using nlohmann::json;

namespace {

constexpr TimeUs kMaxWindow = 62LL * 24 * 3600 * kUsPerSecond;

Status NotFound(std::string what) { return {StatusCode::kNotFound, "no such " + std::move(what)}; }

Result<json> GetDoc(const KvView& kv, const std::string& key, const char* what) {
  auto v = kv.Get(key);
  if (!v.ok()) return v.status();
  if (!v->has_value()) return NotFound(what);
  auto j = json::parse(**v, nullptr, false);
  if (j.is_discarded()) return Status(StatusCode::kCorruption, std::string(what) + " document is not JSON");
  return j;
}

std::string HexDecode(std::string_view hex) {
  auto nib = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
  std::string out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>((nib(hex[i]) << 4) | nib(hex[i + 1])));
  }
  return out;
}

}  // namespace

Result<json> QueryTenant(const KvView& kv, const TenantId& tenant) {
  return GetDoc(kv, Key(tenant, 'C', "t"), "tenant");
}

Result<json> QueryResources(const KvView& kv, const TenantId& tenant, std::size_t limit,
                            std::string_view cursor) {
  auto t = QueryTenant(kv, tenant);
  if (!t.ok()) return t.status();
  json items = json::array();
  const std::string prefix = Key(tenant, 'C', "r");
  std::string from = prefix;
  if (!cursor.empty()) {
    // The cursor is the last resource id of the previous page.
    if (!IsValidSlug(cursor)) return Status(StatusCode::kInvalidArgument, "malformed cursor");
    from = prefix + std::string(cursor) + '\0';
  }
  bool corrupt = false, more = false;
  std::string last;
  Status s = kv.Scan(from, PrefixEnd(prefix), [&](std::string_view k, std::string_view v) {
    if (items.size() == limit) {
      more = true;
      return false;
    }
    auto j = json::parse(v, nullptr, false);
    corrupt = corrupt || j.is_discarded();
    if (!j.is_discarded()) items.push_back(std::move(j));
    last.assign(k.substr(prefix.size()));
    return true;
  });
  if (!s.ok()) return s;
  if (corrupt) return Status(StatusCode::kCorruption, "resource document is not JSON");
  return json{{"items", items}, {"next_cursor", more ? json(last) : json(nullptr)}};
}

Result<json> QueryResource(const KvView& kv, const TenantId& tenant, const ResourceId& id) {
  if (!IsValidSlug(id.get())) return NotFound("resource");
  return GetDoc(kv, Key(tenant, 'C', "r" + id.get()), "resource");
}

Result<std::vector<BusyRange>> QueryBusy(const KvView& kv, const TenantId& tenant, const ResourceId& resource,
                                         TimeRange window) {
  // Live busy ranges are keyed by their end; on an exclusive resource they
  // never overlap, so they are also ordered by start and the scan can stop
  // at the first one starting at or after the window.
  std::vector<BusyRange> busy;
  const std::string prefix = BusyPrefix(tenant, resource.get());
  std::string from = prefix;
  AppendTime(&from, window.start + 1);
  bool corrupt = false;
  Status s = kv.Scan(from, PrefixEnd(prefix), [&](std::string_view k, std::string_view v) {
    auto j = json::parse(v, nullptr, false);
    if (j.is_discarded() || k.size() < prefix.size() + 8) {
      corrupt = true;
      return false;
    }
    TimeRange r{j.at("start").get<TimeUs>(), j.at("end").get<TimeUs>()};
    if (r.start >= window.end) return false;
    busy.push_back({r, BookingId(std::string(k.substr(prefix.size() + 8)))});
    return true;
  });
  if (!s.ok()) return s;
  if (corrupt) return Status(StatusCode::kCorruption, "busy range is not JSON");
  return busy;
}

Result<json> QueryAvailability(const KvView& kv, const TenantId& tenant, const ResourceId& resource,
                               TimeRange window) {
  if (window.empty() || window.end - window.start > kMaxWindow) {
    return Status(StatusCode::kInvalidArgument, "'to' must be after 'from' and at most 62 days later");
  }
  if (!IsValidSlug(resource.get())) return NotFound("resource");
  auto zone_name = kv.Get(Key(tenant, 'A', "t"));
  if (!zone_name.ok()) return zone_name.status();
  if (!zone_name->has_value()) return NotFound("tenant");
  const date::time_zone* zone = FindZone(**zone_name);
  if (zone == nullptr) zone = date::locate_zone("UTC");
  auto res = GetDoc(kv, Key(tenant, 'A', "r" + resource.get()), "resource");
  if (!res.ok()) return res.status();
  OpeningCalendar calendar;
  for (const auto& h : res->at("opening")) {
    calendar.weekly.push_back({h.at(0).get<int>(), h.at(1).get<int>(), h.at(2).get<int>()});
  }
  const json special = res->value("special", json::object());  // a named copy: items() must not outlive it
  for (const auto& [day, hours] : special.items()) {
    auto& list = calendar.special_days[static_cast<LocalDay>(std::stol(day))];
    for (const auto& h : hours) list.push_back({h.at(0).get<int>(), h.at(1).get<int>()});
  }
  const json closures = res->value("closures", json::array());
  for (const auto& c : closures) {
    calendar.closures.emplace_back(c.at(0).get<LocalDay>(), c.at(1).get<LocalDay>());
  }
  auto holidays = kv.Get(Key(tenant, 'A', "h"));
  if (!holidays.ok()) return holidays.status();
  if (holidays->has_value()) {
    auto days = json::parse(**holidays, nullptr, false);
    if (days.is_discarded()) return Status(StatusCode::kCorruption, "holiday list is not JSON");
    for (const auto& d : days) calendar.holidays.insert(d.get<LocalDay>());
  }

  auto live = QueryBusy(kv, tenant, resource, window);
  if (!live.ok()) return live.status();
  std::vector<TimeRange> busy;
  for (const auto& b : *live)
    busy.push_back({std::max(b.range.start, window.start), std::min(b.range.end, window.end)});

  json free = json::array(), busy_json = json::array();
  for (const auto& r : Subtract(OpeningRanges(calendar, zone, window), busy)) {
    json j = RangeJson(r, zone);
    j["remaining"] = 1;
    free.push_back(std::move(j));
  }
  for (const auto& r : busy) busy_json.push_back(RangeJson(r, zone));
  return json{{"resource", resource.get()},
              {"time_zone", zone->name()},
              {"from", FormatUtc(window.start)},
              {"to", FormatUtc(window.end)},
              {"capacity", 1},
              {"free", free},
              {"busy", busy_json}};
}

Result<BookingView> QueryBooking(const KvView& kv, const TenantId& tenant, const BookingId& id) {
  if (id.get().empty() || id.get().size() > 64) return NotFound("booking");
  auto rec = GetDoc(kv, Key(tenant, 'B', "b" + id.get()), "booking");
  if (!rec.ok()) return rec.status();
  return BookingView{rec->at("doc"), HexDecode(rec->value("mth", ""))};
}

Result<json> QueryResourceBookings(const KvView& kv, const TenantId& tenant, const ResourceId& resource,
                                   TimeRange window, std::size_t limit, std::string_view cursor) {
  if (window.empty()) return Status(StatusCode::kInvalidArgument, "'to' must be after 'from'");
  auto res = QueryResource(kv, tenant, resource);
  if (!res.ok()) return res.status();
  const std::string prefix = ByResourcePrefix(tenant, resource.get());
  std::string from = prefix, to = prefix;
  AppendTime(&from, window.start);
  AppendTime(&to, window.end);
  if (!cursor.empty()) {
    // The cursor is the hex of the last key's suffix; continue after it.
    std::string after = prefix + HexDecode(cursor);
    if (after.size() <= prefix.size() + 8 || after < from) {
      return Status(StatusCode::kInvalidArgument, "malformed cursor");
    }
    from = after + '\0';
  }
  json items = json::array();
  std::string last;
  bool more = false;
  Status failure;
  Status s = kv.Scan(from, to, [&](std::string_view k, std::string_view) {
    if (items.size() == limit) {
      more = true;
      return false;
    }
    std::string id(k.substr(prefix.size() + 8));
    auto b = QueryBooking(kv, tenant, BookingId(id));
    if (!b.ok()) {
      failure = b.status();
      return false;
    }
    items.push_back(std::move(b->doc));
    last.assign(k.substr(prefix.size()));
    return true;
  });
  if (!s.ok()) return s;
  if (!failure.ok()) return failure;
  return json{{"items", items}, {"next_cursor", more ? json(ToHex(last)) : json(nullptr)}};
}

}  // namespace saalbuch::projections
