#include <algorithm>
#include <map>

#include "common/crypto.h"
#include "common/time.h"
#include "common/time_json.h"
#include "projections/fold_internal.h"
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

}  // namespace

Result<json> QueryTenant(const KvView& kv, const TenantId& tenant) {
  auto doc = GetDoc(kv, Key(tenant, 'C', "t"), "tenant");
  // The document gets `public` with the first PublicSettingsSet; before,
  // the defaults (kept out of the stored document, which therefore stays
  // what older builds folded: no rebuild of the catalog).
  if (doc.ok() && !doc->contains("public")) (*doc)["public"] = PublicJson(nullptr, 0);
  return doc;
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
  auto doc = GetDoc(kv, Key(tenant, 'C', "r" + id.get()), "resource");
  if (!doc.ok()) return doc;
  auto addons = QueryList(kv, tenant, 'a');
  if (!addons.ok()) return addons.status();
  json offered = json::array();
  for (const auto& a : *addons) {
    for (const auto& o : a.at("offers")) {
      if (o.at("resource") == id.get()) {
        offered.push_back({{"id", a.at("id")}, {"name", a.at("name")}, {"mandatory", o.at("mandatory")}});
      }
    }
  }
  (*doc)["addons"] = offered;
  return doc;
}

Result<json> QueryList(const KvView& kv, const TenantId& tenant, char kind) {
  json items = json::array();
  const std::string prefix = Key(tenant, 'C', std::string(1, kind));
  bool corrupt = false;
  Status s = kv.Scan(prefix, PrefixEnd(prefix), [&](std::string_view, std::string_view v) {
    auto j = json::parse(v, nullptr, false);
    corrupt = corrupt || j.is_discarded();
    if (!j.is_discarded()) items.push_back(std::move(j));
    return items.size() < 10000;
  });
  if (!s.ok()) return s;
  if (corrupt) return Status(StatusCode::kCorruption, "catalog document is not JSON");
  return items;
}

Result<std::vector<json>> QueryOutbox(const KvView& kv, const TenantId& tenant, TimeUs now,
                                      std::size_t limit) {
  std::vector<json> out;
  const std::string prefix = Key(tenant, 'O', "q");
  bool corrupt = false;
  Status s = kv.Scan(prefix, PrefixEnd(prefix), [&](std::string_view, std::string_view v) {
    auto j = json::parse(v, nullptr, false);
    if (j.is_discarded()) {
      corrupt = true;
      return false;
    }
    if (j.value("due", TimeUs{0}) <= now) out.push_back(std::move(j));
    return out.size() < limit;
  });
  if (!s.ok()) return s;
  if (corrupt) return Status(StatusCode::kCorruption, "outbox entry is not JSON");
  return out;
}

Result<json> QueryCheckpoint(const KvView& kv, const TenantId& tenant) {
  return GetDoc(kv, Key(tenant, 'C', "k"), "checkpoint");
}

Result<json> QueryCustomer(const KvView& kv, const TenantId& tenant, const std::string& id) {
  if (id.empty() || id.size() > 64 || id.find('/') != std::string::npos) return NotFound("customer");
  return GetDoc(kv, Key(tenant, 'C', "u" + id), "customer");
}

namespace {

struct UsageRow {
  TimeRange range;
  std::uint32_t amount = 0;
  std::string booking;
};

// What bookings take from `counter` during `window`.
Result<std::vector<UsageRow>> Usages(const KvView& kv, const TenantId& t, const std::string& counter,
                                     TimeRange window) {
  std::vector<UsageRow> out;
  auto max = kv.Get(Key(t, 'A', "m" + counter));
  if (!max.ok()) return max.status();
  if (!max->has_value()) return out;  // never used
  const std::string prefix = UsagePrefix(t, counter);
  std::string from = prefix, to = prefix;
  AppendTime(&from, window.start - std::stoll(**max));
  AppendTime(&to, window.end);
  bool corrupt = false;
  Status s = kv.Scan(from, to, [&](std::string_view k, std::string_view v) {
    auto j = json::parse(v, nullptr, false);
    if (j.is_discarded() || k.size() < prefix.size() + 8) {
      corrupt = true;
      return false;
    }
    UsageRow u{{j.at("start").get<TimeUs>(), j.at("end").get<TimeUs>()},
               j.at("amount").get<std::uint32_t>(),
               std::string(k.substr(prefix.size() + 8))};
    if (u.range.Overlaps(window)) out.push_back(std::move(u));
    return true;
  });
  if (!s.ok()) return s;
  if (corrupt) return Status(StatusCode::kCorruption, "usage record is not JSON");
  return out;
}

// The level of use over `window` as contiguous segments.
std::vector<std::pair<TimeRange, std::uint32_t>> Levels(const std::vector<UsageRow>& usages,
                                                        TimeRange window) {
  std::map<TimeUs, std::int64_t> delta;
  for (const auto& u : usages) {
    delta[std::max(u.range.start, window.start)] += u.amount;
    delta[std::min(u.range.end, window.end)] -= u.amount;
  }
  std::vector<std::pair<TimeRange, std::uint32_t>> out;
  TimeUs at = window.start;
  std::int64_t level = 0;
  for (const auto& [t, d] : delta) {
    if (t > at) out.push_back({{at, t}, static_cast<std::uint32_t>(level)});
    level += d;
    at = std::max(at, t);
  }
  if (at < window.end) out.push_back({{at, window.end}, static_cast<std::uint32_t>(level)});
  return out;
}

struct Session {
  std::string id;
  TimeRange range;
  std::uint32_t seats = 0;
  std::string title;
};

// Sessions of an event resource starting before window.end and ending after
// window.start (sessions last at most 31 days).
Result<std::vector<Session>> Sessions(const KvView& kv, const TenantId& t, const std::string& resource,
                                      TimeRange window) {
  constexpr TimeUs kMaxSession = 31LL * 24 * 3600 * kUsPerSecond;
  std::vector<Session> out;
  const std::string prefix = SessionPrefix(t, resource);
  std::string from = prefix, to = prefix;
  AppendTime(&from, window.start - kMaxSession);
  AppendTime(&to, window.end);
  bool corrupt = false;
  Status s = kv.Scan(from, to, [&](std::string_view, std::string_view v) {
    auto j = json::parse(v, nullptr, false);
    if (j.is_discarded()) {
      corrupt = true;
      return false;
    }
    Session se{j.at("id").get<std::string>(),
               {j.at("start").get<TimeUs>(), j.at("end").get<TimeUs>()},
               j.at("seats").get<std::uint32_t>(),
               j.value("title", "")};
    if (se.range.Overlaps(window)) out.push_back(std::move(se));
    return true;
  });
  if (!s.ok()) return s;
  if (corrupt) return Status(StatusCode::kCorruption, "session record is not JSON");
  return out;
}

// Seats taken in a session.
Result<std::uint32_t> Taken(const KvView& kv, const TenantId& t, const std::string& resource,
                            const Session& se) {
  auto u = Usages(kv, t, resource + "@" + se.id, se.range);
  if (!u.ok()) return u.status();
  std::uint32_t taken = 0;
  for (const auto& r : *u) taken += r.amount;
  return taken;
}

}  // namespace

Result<std::vector<BusyRange>> QueryBusy(const KvView& kv, const TenantId& tenant, const ResourceId& resource,
                                         TimeRange window) {
  if (!IsValidSlug(resource.get())) return NotFound("resource");
  auto res = GetDoc(kv, Key(tenant, 'A', "r" + resource.get()), "resource");
  if (!res.ok()) return res.status();
  const std::string kind = res->value("kind", "room");
  std::vector<BusyRange> busy;
  if (kind == "event") {
    // Full sessions are busy.
    auto sessions = Sessions(kv, tenant, resource.get(), window);
    if (!sessions.ok()) return sessions.status();
    for (const auto& se : *sessions) {
      auto taken = Taken(kv, tenant, resource.get(), se);
      if (!taken.ok()) return taken.status();
      if (*taken >= se.seats) busy.push_back({se.range, BookingId("session-" + se.id)});
    }
    return busy;
  }
  auto own = Usages(kv, tenant, resource.get(), window);
  if (!own.ok()) return own.status();
  if (kind == "pool") {
    // Ranges in which every unit is taken.
    const auto capacity = res->value("capacity", 1u);
    for (const auto& [range, level] : Levels(*own, window)) {
      if (level < capacity) continue;
      if (!busy.empty() && busy.back().range.end == range.start) {
        busy.back().range.end = range.end;
      } else {
        busy.push_back({range, BookingId("full-" + std::to_string(range.start))});
      }
    }
    return busy;
  }
  // Rooms and devices: every usage, also those of a whole or its parts.
  for (const auto& u : *own) busy.push_back({u.range, BookingId(u.booking)});
  for (const auto& other : res->value("related", json::array())) {
    auto theirs = Usages(kv, tenant, other.get<std::string>(), window);
    if (!theirs.ok()) return theirs.status();
    for (const auto& u : *theirs) busy.push_back({u.range, BookingId(u.booking)});
  }
  std::sort(busy.begin(), busy.end(),
            [](const BusyRange& a, const BusyRange& b) { return a.range < b.range; });
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
  const std::string kind = res->value("kind", "room");
  const auto capacity = res->value("capacity", 1u);
  json out = {{"resource", resource.get()},  {"kind", kind},
              {"time_zone", zone->name()},   {"from", FormatUtc(window.start)},
              {"to", FormatUtc(window.end)}, {"capacity", kind == "pool" ? capacity : 1u}};

  if (kind == "event") {
    auto sessions = Sessions(kv, tenant, resource.get(), window);
    if (!sessions.ok()) return sessions.status();
    json list = json::array(), free = json::array(), busy = json::array();
    for (const auto& se : *sessions) {
      auto taken = Taken(kv, tenant, resource.get(), se);
      if (!taken.ok()) return taken.status();
      const std::uint32_t remaining = *taken >= se.seats ? 0 : se.seats - *taken;
      json j = RangeJson(se.range, zone);
      j["session"] = se.id;
      j["title"] = se.title;
      j["seats"] = se.seats;
      j["remaining"] = remaining;
      list.push_back(j);
      (remaining > 0 ? free : busy).push_back(std::move(j));
    }
    out["capacity"] = nullptr;  // per session
    out["sessions"] = list;
    out["free"] = free;
    out["busy"] = busy;
    return out;
  }

  OpeningCalendar calendar;
  for (const auto& h : res->value("opening", json::array())) {
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
  const auto open = OpeningRanges(calendar, zone, window);

  json free = json::array(), busy_json = json::array();
  if (kind == "pool") {
    auto own = Usages(kv, tenant, resource.get(), window);
    if (!own.ok()) return own.status();
    // Free: open segments with units left, split where the number changes.
    for (const auto& [range, level] : Levels(*own, window)) {
      if (level >= capacity) {
        busy_json.push_back(RangeJson(range, zone));
        continue;
      }
      for (const auto& o : open) {
        TimeRange part{std::max(o.start, range.start), std::min(o.end, range.end)};
        if (part.empty()) continue;
        json j = RangeJson(part, zone);
        j["remaining"] = capacity - level;
        free.push_back(std::move(j));
      }
    }
    out["free"] = free;
    out["busy"] = busy_json;
    return out;
  }

  auto live = QueryBusy(kv, tenant, resource, window);
  if (!live.ok()) return live.status();
  std::vector<TimeRange> busy;
  for (const auto& b : *live) {
    TimeRange r{std::max(b.range.start, window.start), std::min(b.range.end, window.end)};
    if (!busy.empty() && r.start < busy.back().end) {
      busy.back().end = std::max(busy.back().end, r.end);  // a whole and its parts may overlap
    } else {
      busy.push_back(r);
    }
  }
  for (const auto& r : Subtract(open, busy)) {
    json j = RangeJson(r, zone);
    j["remaining"] = 1;
    free.push_back(std::move(j));
  }
  for (const auto& r : busy) busy_json.push_back(RangeJson(r, zone));
  out["free"] = free;
  out["busy"] = busy_json;
  return out;
}

Result<BookingView> QueryBooking(const KvView& kv, const TenantId& tenant, const BookingId& id) {
  if (id.get().empty() || id.get().size() > 64) return NotFound("booking");
  auto rec = GetDoc(kv, Key(tenant, 'B', "b" + id.get()), "booking");
  if (!rec.ok()) return rec.status();
  return BookingView{rec->at("doc"), FromHex(rec->value("mth", "")).value_or("")};
}

Result<json> QueryBookings(const KvView& kv, const TenantId& tenant, const BookingFilter& f,
                           std::size_t limit, std::string_view cursor) {
  constexpr std::size_t kMaxScanned = 5000;  // per page, so a rare filter cannot make a page unbounded
  if (f.window.empty()) return Status(StatusCode::kInvalidArgument, "'to' must be after 'from'");
  std::string prefix;
  if (!f.customer.empty()) {
    if (f.customer.size() > 64 || f.customer.find('/') != std::string::npos) return NotFound("customer");
    prefix = ByCustomerPrefix(tenant, f.customer);
  } else if (!f.resource.empty()) {
    auto res = QueryResource(kv, tenant, ResourceId(f.resource));
    if (!res.ok()) return res.status();
    prefix = ByResourcePrefix(tenant, f.resource);
  } else {
    prefix = Key(tenant, 'B', "s");
  }
  std::string from = prefix, to = prefix;
  AppendTime(&from, f.window.start);
  AppendTime(&to, f.window.end);
  if (!cursor.empty()) {
    // The cursor is the hex of the last scanned key's suffix; continue after it.
    auto suffix = FromHex(cursor);
    if (!suffix) return Status(StatusCode::kInvalidArgument, "malformed cursor");
    std::string after = prefix + *suffix;
    if (after.size() <= prefix.size() + 8 || after < from) {
      return Status(StatusCode::kInvalidArgument, "malformed cursor");
    }
    from = after + '\0';
  }
  json items = json::array();
  std::string last;
  bool more = false;
  std::size_t scanned = 0;
  Status failure;
  Status s = kv.Scan(from, to, [&](std::string_view k, std::string_view) {
    if (items.size() == limit || scanned == kMaxScanned) {
      more = true;
      return false;
    }
    ++scanned;
    last.assign(k.substr(prefix.size()));
    std::string id(k.substr(prefix.size() + 8));
    auto b = QueryBooking(kv, tenant, BookingId(id));
    if (!b.ok()) {
      failure = b.status();
      return false;
    }
    const json& d = b->doc;
    if ((!f.status.empty() && d.value("status", "") != f.status) ||
        (!f.resource.empty() && d.value("resource", "") != f.resource) ||
        (!f.customer.empty() && d.value("customer", "") != f.customer)) {
      return true;
    }
    items.push_back(std::move(b->doc));
    return true;
  });
  if (!s.ok()) return s;
  if (!failure.ok()) return failure;
  return json{{"items", items}, {"next_cursor", more ? json(ToHex(last)) : json(nullptr)}};
}

Result<json> QueryResourceBookings(const KvView& kv, const TenantId& tenant, const ResourceId& resource,
                                   TimeRange window, std::size_t limit, std::string_view cursor) {
  BookingFilter f;
  f.resource = resource.get();
  f.window = window;
  return QueryBookings(kv, tenant, f, limit, cursor);
}

}  // namespace saalbuch::projections
