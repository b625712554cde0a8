#include "projections/availability.h"

#include <algorithm>
#include <charconv>
#include <iterator>
#include <mutex>
#include <optional>

#include <fmt/format.h>

#include "common/time_json.h"
#include "projections/keys_internal.h"

namespace saalbuch::projections {

using nlohmann::json;

namespace {

constexpr TimeUs kMaxWindow = 62LL * 24 * 3600 * kUsPerSecond;

Status NotFound(std::string what) { return {StatusCode::kNotFound, "no such " + std::move(what)}; }

// The parts of an availability key: tenant, kind ('t', 'h', 'r', …) and
// what follows it.
struct KeyParts {
  std::string_view tenant;
  char kind = 0;
  std::string_view name;
};

KeyParts Split(std::string_view key) {
  const std::size_t len = static_cast<unsigned char>(key[0]);
  return {key.substr(1, len), key[len + 2], key.substr(len + 3)};
}

// "<name>/<8-byte time><id>" (usages and sessions): ok = false when the key
// has another shape.
struct Timed {
  bool ok = false;
  std::string_view name;
  TimeUs start = 0;
  std::string_view id;
};

Timed SplitTimed(std::string_view rest) {
  const auto slash = rest.find('/');
  if (slash == std::string_view::npos || rest.size() < slash + 9) return {};
  return {true, rest.substr(0, slash), ReadTime(rest.substr(slash + 1, 8)), rest.substr(slash + 9)};
}

// A timed record ('x' usage, 's' session; "<name>/<start><id>"): erased
// when `value` is null, else decoded by `decode` (nullopt: not what the
// fold writes) into the map `of(name)` returns. False: a damaged record.
template <typename Of, typename Decode>
bool PutTimed(std::string_view name, const std::string* value, Of of, Decode decode) {
  const Timed tk = SplitTimed(name);
  if (!tk.ok) return false;
  auto& entries = of(std::string(tk.name));
  std::pair<TimeUs, std::string> at{tk.start, std::string(tk.id)};
  if (value == nullptr) {
    entries.erase(at);
    return true;
  }
  const json j = json::parse(*value, nullptr, false);
  auto decoded = j.is_object() ? decode(j) : std::nullopt;
  if (!decoded) return false;
  entries[std::move(at)] = std::move(*decoded);
  return true;
}

}  // namespace

// The queries, with the index's types (friend of AvailabilityIndex).
class AvailabilityQuery {
 public:
  using Index = AvailabilityIndex;

  struct UsageRow {
    TimeRange range;
    std::uint32_t amount = 0;
    std::string_view booking;  // valid while the index is locked
  };

  // What bookings take from `counter` during `window`.
  static std::vector<UsageRow> Usages(const Index::Tenant& t, const std::string& counter, TimeRange window) {
    std::vector<UsageRow> out;
    auto c = t.counters.find(counter);
    if (c == t.counters.end() || c->second.longest < 0) return out;  // never used
    const auto& usages = c->second.usages;
    for (auto it = usages.lower_bound({window.start - c->second.longest, std::string()});
         it != usages.end() && it->first.first < window.end; ++it) {
      UsageRow u{{it->first.first, it->second.end}, it->second.amount, it->first.second};
      if (u.range.Overlaps(window)) out.push_back(u);
    }
    return out;
  }

  // The level of use over `window` as contiguous segments.
  static std::vector<std::pair<TimeRange, std::uint32_t>> Levels(const std::vector<UsageRow>& usages,
                                                                 TimeRange window) {
    std::map<TimeUs, std::int64_t> delta;
    for (const auto& u : usages) {
      delta[std::max(u.range.start, window.start)] += u.amount;
      delta[std::min(u.range.end, window.end)] -= u.amount;
    }
    std::vector<std::pair<TimeRange, std::uint32_t>> out;
    TimeUs at = window.start;
    std::int64_t level = 0;
    for (const auto& [time, d] : delta) {
      if (time > at) out.push_back({{at, time}, static_cast<std::uint32_t>(level)});
      level += d;
      at = std::max(at, time);
    }
    if (at < window.end) out.push_back({{at, window.end}, static_cast<std::uint32_t>(level)});
    return out;
  }

  struct SessionRow {
    std::string_view id;
    TimeRange range;
    const Index::Session* session = nullptr;
  };

  // Sessions of an event resource starting before window.end and ending
  // after window.start (sessions last at most 31 days).
  static std::vector<SessionRow> Sessions(const Index::Tenant& t, const std::string& resource,
                                          TimeRange window) {
    constexpr TimeUs kMaxSession = 31LL * 24 * 3600 * kUsPerSecond;
    std::vector<SessionRow> out;
    auto s = t.sessions.find(resource);
    if (s == t.sessions.end()) return out;
    for (auto it = s->second.lower_bound({window.start - kMaxSession, std::string()});
         it != s->second.end() && it->first.first < window.end; ++it) {
      SessionRow row{it->first.second, {it->first.first, it->second.end}, &it->second};
      if (row.range.Overlaps(window)) out.push_back(row);
    }
    return out;
  }

  // Seats taken in a session.
  static std::uint32_t Taken(const Index::Tenant& t, const std::string& resource, const SessionRow& se) {
    std::uint32_t taken = 0;
    for (const auto& r : Usages(t, Cat(resource + "@", se.id), se.range)) taken += r.amount;
    return taken;
  }

  // Calls fn(tenant, resource) under the index's shared lock, once both are
  // found and the tenant's records decode.
  template <typename F>
  static auto Locked(const Index& index, const TenantId& tenant, const ResourceId& resource, F&& fn)
      -> decltype(fn(std::declval<const Index::Tenant&>(), std::declval<const Index::Resource&>())) {
    std::shared_lock lock(index.mu_);
    auto t = FindTenant(index, tenant);
    if (!t.ok()) return t.status();
    auto res = FindResource(**t, resource);
    if (!res.ok()) return res.status();
    return fn(**t, **res);
  }

  // The tenant, once its records decode; kNotFound for an unknown one.
  static Result<const Index::Tenant*> FindTenant(const Index& index, const TenantId& tenant) {
    auto it = index.tenants_.find(tenant.get());
    if (it == index.tenants_.end() || it->second.zone.empty()) return NotFound("tenant");
    if (!it->second.corrupt.empty()) {
      return Status(StatusCode::kCorruption,
                    "an availability record of the tenant is not what the fold writes (" +
                        *it->second.corrupt.begin() + ")");
    }
    return &it->second;
  }

  static Result<const Index::Resource*> FindResource(const Index::Tenant& t, const ResourceId& resource) {
    if (!IsValidSlug(resource.get())) return NotFound("resource");
    auto it = t.resources.find(resource.get());
    if (it == t.resources.end()) return NotFound("resource");
    return &it->second;
  }

  static Result<OpenTime> Open(const Index::Tenant& t, const ResourceId& resource, const Index::Resource& res,
                               TimeRange window) {
    OpenTime out;
    out.kind = res.kind;
    if (res.kind == "event") {
      for (const auto& se : Sessions(t, resource.get(), window)) {
        const std::int64_t minutes = (se.range.end - se.range.start) / kUsPerMinute;
        out.minutes += minutes;
        out.seat_minutes += minutes * se.session->seats;
      }
      return out;
    }
    const Zone* zone = ZoneOf(t.zone);
    if (zone == nullptr) zone = UtcZone();
    OpeningCalendar calendar = res.calendar;
    calendar.holidays = t.holidays;
    for (const auto& o : OpeningRanges(calendar, zone, window))
      out.minutes += (o.end - o.start) / kUsPerMinute;
    out.capacity = res.kind == "pool" ? res.capacity : 1u;
    return out;
  }

  static Result<std::vector<BusyRange>> Busy(const Index::Tenant& t, const ResourceId& resource,
                                             const Index::Resource& res, TimeRange window) {
    std::vector<BusyRange> busy;
    if (res.kind == "event") {
      // Full sessions are busy.
      for (const auto& se : Sessions(t, resource.get(), window)) {
        if (Taken(t, resource.get(), se) >= se.session->seats) {
          busy.push_back({se.range, BookingId(Cat("session-", se.id))});
        }
      }
      return busy;
    }
    const auto own = Usages(t, resource.get(), window);
    if (res.kind == "pool") {
      // Ranges in which every unit is taken.
      for (const auto& [range, level] : Levels(own, window)) {
        if (level < res.capacity) continue;
        if (!busy.empty() && busy.back().range.end == range.start) {
          busy.back().range.end = range.end;
        } else {
          busy.push_back({range, BookingId("full-" + std::to_string(range.start))});
        }
      }
      return busy;
    }
    // Rooms and devices: every usage, also those of a whole or its parts.
    for (const auto& u : own) busy.push_back({u.range, BookingId(std::string(u.booking))});
    for (const auto& other : res.related) {
      for (const auto& u : Usages(t, other, window))
        busy.push_back({u.range, BookingId(std::string(u.booking))});
    }
    std::sort(busy.begin(), busy.end(),
              [](const BusyRange& a, const BusyRange& b) { return a.range < b.range; });
    return busy;
  }

  static Result<json> Availability(const Index::Tenant& t, const ResourceId& resource,
                                   const Index::Resource& res, TimeRange window) {
    const Zone* zone = ZoneOf(t.zone);
    if (zone == nullptr) zone = UtcZone();
    json out = {{"resource", resource.get()},  {"kind", res.kind},
                {"time_zone", zone->name()},   {"from", FormatUtc(window.start)},
                {"to", FormatUtc(window.end)}, {"capacity", res.kind == "pool" ? res.capacity : 1u}};

    if (res.kind == "event") {
      json list = json::array(), free = json::array(), busy = json::array();
      for (const auto& se : Sessions(t, resource.get(), window)) {
        const std::uint32_t taken = Taken(t, resource.get(), se);
        const std::uint32_t seats = se.session->seats;
        const std::uint32_t remaining = taken >= seats ? 0 : seats - taken;
        json j = RangeJson(se.range, zone);
        j["session"] = se.id;
        j["title"] = se.session->title;
        j["seats"] = seats;
        j["remaining"] = remaining;
        list.push_back(j);
        (remaining > 0 ? free : busy).push_back(std::move(j));
      }
      out["capacity"] = nullptr;  // per session
      out["sessions"] = std::move(list);
      out["free"] = std::move(free);
      out["busy"] = std::move(busy);
      return out;
    }

    OpeningCalendar calendar = res.calendar;
    calendar.holidays = t.holidays;
    const auto open = OpeningRanges(calendar, zone, window);

    json free = json::array(), busy_json = json::array();
    if (res.kind == "pool") {
      // Free: open segments with units left, split where the number changes.
      for (const auto& [range, level] : Levels(Usages(t, resource.get(), window), window)) {
        if (level >= res.capacity) {
          busy_json.push_back(RangeJson(range, zone));
          continue;
        }
        for (const auto& o : open) {
          TimeRange part{std::max(o.start, range.start), std::min(o.end, range.end)};
          if (part.empty()) continue;
          json j = RangeJson(part, zone);
          j["remaining"] = res.capacity - level;
          free.push_back(std::move(j));
        }
      }
      out["free"] = std::move(free);
      out["busy"] = std::move(busy_json);
      return out;
    }

    auto live = Busy(t, resource, res, window);
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
    out["free"] = std::move(free);
    out["busy"] = std::move(busy_json);
    return out;
  }
};

bool AvailabilityIndex::Mine(std::string_view key) {
  if (key.empty()) return false;
  const std::size_t len = static_cast<unsigned char>(key[0]);
  if (len == 0 || key.size() < len + 3 || key[1 + len] != 'A') return false;
  const char kind = key[2 + len];
  return kind == 't' || kind == 'h' || kind == 'r' || kind == 'm' || kind == 'x' || kind == 's';
}

Status AvailabilityIndex::Load(const KvView& from, const TenantId& tenant) {
  std::string prefix = ledger::keys::TenantPrefix(tenant.get());
  prefix.push_back('A');
  std::unique_lock lock(mu_);
  return from.Scan(prefix, PrefixEnd(prefix), [&](std::string_view k, std::string_view v) {
    if (Mine(k)) {
      const std::string value(v);
      Put(k, &value);
    }
    return true;
  });
}

void AvailabilityIndex::Apply(const Txn& txn) {
  std::unique_lock lock(mu_);
  for (const auto& [k, v] : txn.changes()) {
    if (Mine(k)) Put(k, v ? &*v : nullptr);
  }
}

void AvailabilityIndex::Drop(const TenantId& tenant) {
  std::unique_lock lock(mu_);
  tenants_.erase(tenant.get());
}

std::size_t AvailabilityIndex::usages() const {
  std::shared_lock lock(mu_);
  std::size_t n = 0;
  for (const auto& [id, t] : tenants_) {
    for (const auto& [name, c] : t.counters) n += c.usages.size();
  }
  return n;
}

void AvailabilityIndex::Put(std::string_view key, const std::string* value) {
  const KeyParts k = Split(key);
  Tenant& t = tenants_[std::string(k.tenant)];
  const std::string key_text(key.substr(k.tenant.size() + 2));  // for the corrupt list
  t.corrupt.erase(key_text);
  bool ok = true;
  switch (k.kind) {
    case 't':
      t.zone = value != nullptr ? *value : "";
      break;
    case 'h': {
      t.holidays.clear();
      if (value == nullptr) break;
      const json days = json::parse(*value, nullptr, false);
      ok = days.is_array() &&
           std::all_of(days.begin(), days.end(), [](const json& d) { return d.is_number(); });
      if (ok) {
        for (const auto& d : days) t.holidays.insert(d.get<LocalDay>());
      }
      break;
    }
    case 'r': {
      const std::string id(k.name);
      if (value == nullptr) {
        t.resources.erase(id);
        break;
      }
      Resource r;
      try {
        const json doc = json::parse(*value);
        r.kind = doc.value("kind", "room");
        r.capacity = doc.value("capacity", 1u);
        for (const auto& other : doc.value("related", json::array()))
          r.related.push_back(other.get<std::string>());
        for (const auto& h : doc.value("opening", json::array())) {
          r.calendar.weekly.push_back({h.at(0).get<int>(), h.at(1).get<int>(), h.at(2).get<int>()});
        }
        const json special = doc.value("special", json::object());  // named: items() must not outlive it
        for (const auto& [day, hours] : special.items()) {
          auto& list = r.calendar.special_days[static_cast<LocalDay>(std::stol(day))];
          for (const auto& h : hours) list.push_back({h.at(0).get<int>(), h.at(1).get<int>()});
        }
        for (const auto& c : doc.value("closures", json::array())) {
          r.calendar.closures.emplace_back(c.at(0).get<LocalDay>(), c.at(1).get<LocalDay>());
        }
      } catch (const std::exception&) {
        ok = false;
      }
      if (ok) t.resources[id] = std::move(r);
      break;
    }
    case 'm': {
      Counter& c = t.counters[std::string(k.name)];
      c.longest = -1;
      if (value == nullptr) break;
      const auto [end, ec] = std::from_chars(value->data(), value->data() + value->size(), c.longest);
      ok = ec == std::errc() && end == value->data() + value->size() && c.longest >= 0;
      if (!ok) c.longest = -1;
      break;
    }
    case 'x':
      ok = PutTimed(
          k.name, value, [&t](std::string name) -> auto& { return t.counters[std::move(name)].usages; },
          [](const json& j) -> std::optional<Usage> {
            if (!j.value("end", json()).is_number_integer() || !j.value("amount", json()).is_number()) {
              return std::nullopt;
            }
            return Usage{j["end"].get<TimeUs>(), j["amount"].get<std::uint32_t>()};
          });
      break;
    case 's':
      ok = PutTimed(
          k.name, value, [&t](std::string name) -> auto& { return t.sessions[std::move(name)]; },
          [](const json& j) -> std::optional<Session> {
            if (!j.value("end", json()).is_number_integer() || !j.value("seats", json()).is_number()) {
              return std::nullopt;
            }
            return Session{j["end"].get<TimeUs>(), j["seats"].get<std::uint32_t>(), j.value("title", "")};
          });
      break;
    default:
      break;
  }
  if (!ok) t.corrupt.insert(key_text);
}

std::string AvailabilityIndex::Describe(const TenantId& tenant) const {
  std::shared_lock lock(mu_);
  auto found = tenants_.find(tenant.get());
  if (found == tenants_.end()) return "";
  const Tenant& t = found->second;
  std::string out;
  auto line = std::back_inserter(out);
  const Zone* zone = ZoneOf(t.zone);
  fmt::format_to(line, "zone {}\n", zone != nullptr ? zone->name() : t.zone);
  for (const auto& key : t.corrupt) fmt::format_to(line, "corrupt {}\n", key);
  for (LocalDay d : t.holidays) fmt::format_to(line, "holiday {}\n", FormatLocalDay(d));
  // Unordered maps, listed by name.
  auto sorted = [](const auto& map) {
    std::map<std::string_view, const typename std::decay_t<decltype(map)>::mapped_type*> m;
    for (const auto& [name, v] : map) m.emplace(name, &v);
    return m;
  };
  for (const auto& [id, r] : sorted(t.resources)) {
    fmt::format_to(line, "resource {} {} capacity {}", id, r->kind, r->capacity);
    for (const auto& other : r->related) fmt::format_to(line, " related {}", other);
    for (const auto& w : r->calendar.weekly) {
      fmt::format_to(line, " weekly {}:{}-{}", w.weekday, w.start_minute, w.end_minute);
    }
    for (const auto& [day, hours] : r->calendar.special_days) {
      fmt::format_to(line, " special {}", FormatLocalDay(day));
      for (const auto& h : hours) fmt::format_to(line, ":{}-{}", h.start_minute, h.end_minute);
    }
    for (const auto& [first, last] : r->calendar.closures) {
      fmt::format_to(line, " closed {}..{}", FormatLocalDay(first), FormatLocalDay(last));
    }
    out += "\n";
  }
  for (const auto& [name, c] : sorted(t.counters)) {
    fmt::format_to(line, "counter {} longest {}\n", name, c->longest);
    for (const auto& [at, u] : c->usages) {
      fmt::format_to(line, "  usage {} {} until {} amount {}\n", FormatUtc(at.first), at.second,
                     FormatUtc(u.end), u.amount);
    }
  }
  for (const auto& [name, list] : sorted(t.sessions)) {
    for (const auto& [at, se] : *list) {
      fmt::format_to(line, "session {} {} {} until {} seats {} {}\n", name, at.second, FormatUtc(at.first),
                     FormatUtc(se.end), se.seats, se.title);
    }
  }
  return out;
}

Result<json> QueryAvailability(const AvailabilityIndex& index, const TenantId& tenant,
                               const ResourceId& resource, TimeRange window) {
  if (window.empty() || window.end - window.start > kMaxWindow) {
    return Status(StatusCode::kInvalidArgument, "'to' must be after 'from' and at most 62 days later");
  }
  return AvailabilityQuery::Locked(index, tenant, resource, [&](const auto& t, const auto& res) {
    return AvailabilityQuery::Availability(t, resource, res, window);
  });
}

Result<OpenTime> QueryOpenTime(const AvailabilityIndex& index, const TenantId& tenant,
                               const ResourceId& resource, TimeRange window) {
  return AvailabilityQuery::Locked(index, tenant, resource, [&](const auto& t, const auto& res) {
    return AvailabilityQuery::Open(t, resource, res, window);
  });
}

Result<std::vector<BusyRange>> QueryBusy(const AvailabilityIndex& index, const TenantId& tenant,
                                         const ResourceId& resource, TimeRange window) {
  return AvailabilityQuery::Locked(index, tenant, resource, [&](const auto& t, const auto& res) {
    return AvailabilityQuery::Busy(t, resource, res, window);
  });
}

}  // namespace saalbuch::projections
