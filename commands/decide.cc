#include <algorithm>
#include <set>

#include "commands/commands.h"
#include "commands/decide_internal.h"
#include "common/crypto.h"
#include "common/time_json.h"

namespace saalbuch::commands {
namespace {

using nlohmann::json;

// Hard limits that hold whatever a resource's rules say, so that no single
// booking makes the writer walk years of opening hours.
constexpr TimeUs kMaxBookingDuration = 31LL * 24 * 3600 * kUsPerSecond;
constexpr TimeUs kMaxHorizon = 5LL * 366 * 24 * 3600 * kUsPerSecond;
constexpr std::size_t kMaxOccurrences = 200;

using detail::DocNumbers;
using detail::Draft;
using detail::Reject;

std::vector<std::uint8_t> HashBytes(std::string_view secret) {
  Sha256 h = Sha256Of(secret);
  return {h.begin(), h.end()};
}

std::optional<Rejection> ValidateRules(const Rules& r) {
  for (const auto& h : r.opening) {
    if (h.weekday < 1 || h.weekday > 7 || h.start_minute < 0 || h.end_minute > 24 * 60 ||
        h.start_minute >= h.end_minute) {
      return Reject(Refusal::kUnprocessable, "validation_failed",
                    "opening hours need weekday 1–7 and 0 ≤ start < end ≤ 1440 minutes",
                    {{"weekday", h.weekday}, {"start_minute", h.start_minute}, {"end_minute", h.end_minute}});
    }
  }
  for (const auto& [day, hours] : r.special_days) {
    for (const auto& h : hours) {
      if (h.start_minute < 0 || h.end_minute > 24 * 60 || h.start_minute >= h.end_minute) {
        return Reject(Refusal::kUnprocessable, "validation_failed",
                      "special day hours need 0 ≤ start < end ≤ 1440 minutes",
                      {{"date", FormatLocalDay(day)}});
      }
    }
  }
  for (const auto& c : r.closures) {
    if (c.last < c.first) {
      return Reject(Refusal::kUnprocessable, "validation_failed", "a closure must not end before it starts",
                    {{"from", FormatLocalDay(c.first)}, {"to", FormatLocalDay(c.last)}});
    }
  }
  if (r.special_days.size() > 1000 || r.closures.size() > 1000) {
    return Reject(Refusal::kUnprocessable, "validation_failed",
                  "at most 1000 special days and 1000 closures");
  }
  const TimeUs limits[] = {r.buffer_before, r.buffer_after, r.granularity, r.min_duration,
                           r.max_duration,  r.lead_time,    r.horizon};
  for (TimeUs v : limits) {
    // Ten years is far beyond any sensible rule and keeps arithmetic safe.
    if (v < 0 || v > 10LL * 366 * 24 * 3600 * kUsPerSecond) {
      return Reject(Refusal::kUnprocessable, "validation_failed",
                    "rule durations must be between 0 and ten years");
    }
  }
  // Archiving (TenantModel::kArchiveAfter) relies on this bound.
  constexpr TimeUs kMaxBuffer = 31LL * 24 * 3600 * kUsPerSecond;
  if (r.buffer_before > kMaxBuffer || r.buffer_after > kMaxBuffer) {
    return Reject(Refusal::kUnprocessable, "validation_failed", "buffers must be at most 31 days");
  }
  if (r.min_duration > 0 && r.max_duration > 0 && r.min_duration > r.max_duration) {
    return Reject(Refusal::kUnprocessable, "validation_failed", "min_duration must not exceed max_duration");
  }
  return std::nullopt;
}

schema::RulesSetT RulesEvent(const ResourceId& id, const Rules& r) {
  schema::RulesSetT e;
  e.resource_id = id.get();
  for (const auto& h : r.opening) {
    e.opening.emplace_back(static_cast<std::uint8_t>(h.weekday), static_cast<std::uint16_t>(h.start_minute),
                           static_cast<std::uint16_t>(h.end_minute));
  }
  e.buffer_before_s = static_cast<std::int32_t>(r.buffer_before / kUsPerSecond);
  e.buffer_after_s = static_cast<std::int32_t>(r.buffer_after / kUsPerSecond);
  e.granularity_s = static_cast<std::int32_t>(r.granularity / kUsPerSecond);
  e.min_duration_s = static_cast<std::int32_t>(r.min_duration / kUsPerSecond);
  e.max_duration_s = static_cast<std::int32_t>(r.max_duration / kUsPerSecond);
  e.lead_time_s = static_cast<std::int32_t>(r.lead_time / kUsPerSecond);
  e.horizon_s = r.horizon / kUsPerSecond;
  for (const auto& [day, hours] : r.special_days) {
    auto d = std::make_unique<schema::SpecialDayT>();
    d->day = day;
    for (const auto& h : hours) {
      d->opening.emplace_back(static_cast<std::uint16_t>(h.start_minute),
                              static_cast<std::uint16_t>(h.end_minute));
    }
    e.special_days.push_back(std::move(d));
  }
  for (const auto& c : r.closures) {
    auto cl = std::make_unique<schema::ClosureT>();
    cl->first_day = c.first;
    cl->last_day = c.last;
    cl->reason = c.reason;
    e.closures.push_back(std::move(cl));
  }
  return e;
}

Decision DecideCreateTenant(const TenantModel& m, const Context& ctx, const CreateTenant& c) {
  if (m.exists()) {
    return Reject(Refusal::kConflict, "tenant_exists", "a tenant with this id exists",
                  {{"tenant", c.id.get()}});
  }
  if (!IsValidSlug(c.id.get())) {
    return Reject(Refusal::kUnprocessable, "validation_failed",
                  "tenant id must be 1–64 characters of a–z, 0–9 and '-'");
  }
  if (c.name.empty() || c.name.size() > 200) {
    return Reject(Refusal::kUnprocessable, "validation_failed", "name must have 1–200 bytes");
  }
  if (FindZone(c.time_zone) == nullptr) {
    return Reject(Refusal::kUnprocessable, "unknown_time_zone",
                  "time_zone must be an IANA zone name such as Europe/Berlin", {{"time_zone", c.time_zone}});
  }
  Acceptance a;
  a.created = true;
  auto t = Draft(ctx, "tenant", 1);
  schema::TenantCreatedT tc;
  tc.name = c.name;
  tc.time_zone = c.time_zone;
  t.payload.Set(std::move(tc));
  a.events.push_back(std::move(t));
  auto k = Draft(ctx, "key/" + c.admin_key_id, 1);
  schema::ApiKeyCreatedT kc;
  kc.key_id = c.admin_key_id;
  kc.role = "admin";
  kc.key_hash = HashBytes(c.admin_key);
  kc.label = "first admin key";
  k.payload.Set(std::move(kc));
  a.events.push_back(std::move(k));
  a.reply = {{"id", c.id.get()},
             {"name", c.name},
             {"time_zone", c.time_zone},
             {"admin_key", {{"id", c.admin_key_id}, {"role", "admin"}, {"key", c.admin_key}}}};
  a.secrets = {"/admin_key/key"};
  return a;
}

Decision DecideCreateApiKey(const TenantModel&, const Context& ctx, const CreateApiKey& c) {
  if (!ParseRole(c.role)) {
    return Reject(Refusal::kUnprocessable, "validation_failed",
                  "role must be one of admin, staff, finance, auditor", {{"role", c.role}});
  }
  if (c.label.size() > 200) {
    return Reject(Refusal::kUnprocessable, "validation_failed", "label must have at most 200 bytes");
  }
  Acceptance a;
  a.created = true;
  auto d = Draft(ctx, "key/" + c.key_id, 1);
  schema::ApiKeyCreatedT e;
  e.key_id = c.key_id;
  e.role = c.role;
  e.key_hash = HashBytes(c.key);
  e.label = c.label;
  d.payload.Set(std::move(e));
  a.events.push_back(std::move(d));
  a.reply = {{"id", c.key_id}, {"role", c.role}, {"label", c.label}, {"key", c.key}};
  a.secrets = {"/key"};
  return a;
}

Decision DecideCreateResource(const TenantModel& m, const Context& ctx, const CreateResource& c) {
  if (!IsValidSlug(c.id.get())) {
    return Reject(Refusal::kUnprocessable, "validation_failed",
                  "resource id must be 1–64 characters of a–z, 0–9 and '-'");
  }
  if (m.FindResource(c.id) != nullptr) {
    return Reject(Refusal::kConflict, "resource_exists", "a resource with this id exists",
                  {{"resource", c.id.get()}});
  }
  const auto kind = ParseKind(c.kind);
  if (!kind) {
    return Reject(Refusal::kUnprocessable, "unsupported_kind", "kind must be room, device, pool or event",
                  {{"kind", c.kind}});
  }
  if (c.capacity < 1 || c.capacity > 100000 || (IsExclusive(*kind) && c.capacity != 1)) {
    return Reject(Refusal::kUnprocessable, "validation_failed",
                  "capacity must be 1 for rooms and devices and 1–100000 for pools and events",
                  {{"capacity", c.capacity}});
  }
  if (!c.parent.get().empty()) {
    const Resource* whole = m.FindResource(c.parent);
    if (whole == nullptr || !IsExclusive(whole->kind) || !IsExclusive(*kind) ||
        !whole->parent.get().empty()) {
      return Reject(Refusal::kUnprocessable, "invalid_parent",
                    "a part belongs to an existing room or device that is not itself a part",
                    {{"parent", c.parent.get()}});
    }
  }
  if (c.requires_qualification.size() > 64) {
    return Reject(Refusal::kUnprocessable, "validation_failed", "qualification names have at most 64 bytes");
  }
  if (c.name.empty() || c.name.size() > 200 || c.description.size() > 4000) {
    return Reject(Refusal::kUnprocessable, "validation_failed",
                  "name must have 1–200 bytes and description at most 4000");
  }
  if (c.rules) {
    if (auto r = ValidateRules(*c.rules)) return *r;
  }
  Acceptance a;
  a.created = true;
  const std::string stream = "resource/" + c.id.get();
  auto d = Draft(ctx, stream, 1);
  schema::ResourceCreatedT e;
  e.resource_id = c.id.get();
  e.kind = c.kind;
  e.name = c.name;
  e.description = c.description;
  e.capacity = c.capacity;
  e.parent_id = c.parent.get();
  e.requires_qualification = c.requires_qualification;
  d.payload.Set(std::move(e));
  a.events.push_back(std::move(d));
  const Rules rules = c.rules.value_or(Rules::AlwaysOpen());
  auto r = Draft(ctx, stream, 2);
  r.payload.Set(RulesEvent(c.id, rules));
  a.events.push_back(std::move(r));
  a.reply = {
      {"id", c.id.get()}, {"kind", c.kind}, {"name", c.name}, {"capacity", c.capacity}, {"version", 2}};
  if (!c.parent.get().empty()) a.reply["parent"] = c.parent.get();
  return a;
}

Decision DecideSetRules(const TenantModel& m, const Context& ctx, const SetRules& c) {
  const Resource* res = m.FindResource(c.id);
  if (res == nullptr) {
    return Reject(Refusal::kNotFound, "not_found", "no such resource", {{"resource", c.id.get()}});
  }
  if (c.if_match && *c.if_match != res->version) {
    return Reject(Refusal::kPrecondition, "version_mismatch", "the resource has changed",
                  {{"expected", *c.if_match}, {"current", res->version}});
  }
  if (auto r = ValidateRules(c.rules)) return *r;
  Acceptance a;
  auto d = Draft(ctx, "resource/" + c.id.get(), res->version + 1);
  d.payload.Set(RulesEvent(c.id, c.rules));
  a.events.push_back(std::move(d));
  a.reply = {{"id", c.id.get()}, {"version", res->version + 1}};
  return a;
}

// Who places a booking, resolved from the command.
struct Booker {
  bool staff = false;     // an internal staff booking (no customer)
  bool by_staff = false;  // placed through a staff key
  std::string customer;
  std::string group = "public";
};

std::variant<Booker, Rejection> ResolveBooker(const TenantModel& m, const PlaceBooking& c) {
  if (!c.by_staff && (!c.customer.empty() || c.hold)) {
    return Reject(Refusal::kUnprocessable, "validation_failed",
                  "only staff book on behalf of a customer or place bookings as held");
  }
  Booker who;
  who.by_staff = c.by_staff;
  if (!c.customer_token.empty()) {
    const Customer* cu = m.FindCustomerByToken(AsBytes(Sha256Of(c.customer_token)));
    if (cu == nullptr) {
      return Reject(Refusal::kUnauthorized, "invalid_customer_token", "the customer token is not valid here");
    }
    who.customer = cu->id;
    who.group = cu->group;
  } else if (c.by_staff && !c.customer.empty()) {
    const Customer* cu = m.FindCustomer(c.customer);
    if (cu == nullptr) {
      return Reject(Refusal::kUnprocessable, "unknown_customer", "no such customer",
                    {{"customer", c.customer}});
    }
    who.customer = cu->id;
    who.group = cu->group;
  } else if (c.by_staff) {
    who.staff = true;
    who.group.clear();
  }
  return who;
}

// Judges one booking (new, an occurrence, or a move of `exclude`) against
// the model plus the `pending` bookings this command already accepted.
// Returns the booking as it would be placed (number, version unset).
std::variant<Booking, Rejection> PlanBooking(const TenantModel& m, const Context& ctx, const PlaceBooking& c,
                                             const Booker& who, const BookingId& exclude,
                                             const std::vector<Booking>& pending) {
  const Resource* res = m.FindResource(c.resource);
  if (res == nullptr) {
    return Reject(Refusal::kNotFound, "not_found", "no such resource", {{"resource", c.resource.get()}});
  }
  if (c.personal.size() > std::size_t{16} * 1024 || (c.person.empty() != c.personal.empty())) {
    return Reject(Refusal::kUnprocessable, "validation_failed", "contact data is limited to 16 KiB");
  }
  if (auto p = m.persons().find(c.person); p != m.persons().end() && p->second) {
    return Reject(Refusal::kConflict, "person_erased", "this person's data was erased");
  }
  Booking b;
  b.id = c.id;
  b.resource = res->id;
  b.range = c.range;
  b.units = c.units;
  b.customer = who.customer;
  b.group = who.group;
  b.person = c.person;
  const Rules& r = res->rules;
  std::uint32_t capacity = 1;
  if (res->kind == Kind::kEvent) {
    if (c.session.empty()) {
      return Reject(Refusal::kUnprocessable, "session_required", "an event is booked by choosing a session",
                    {{"resource", res->id.get()}});
    }
    auto s = res->sessions.find(c.session);
    if (s == res->sessions.end()) {
      return Reject(Refusal::kNotFound, "not_found", "no such session", {{"session", c.session}});
    }
    b.session = c.session;
    b.range = s->second.range;
    capacity = s->second.seats;
  } else if (!c.session.empty()) {
    return Reject(Refusal::kUnprocessable, "validation_failed", "only event resources have sessions");
  } else if (res->kind == Kind::kPool) {
    capacity = res->capacity;
  }
  if (c.units < 1 || c.units > capacity) {
    return Reject(Refusal::kUnprocessable, "validation_failed",
                  IsExclusive(res->kind) ? "a room or device is booked whole: units must be 1"
                                         : "units (seats) must be between 1 and the capacity",
                  {{"capacity", capacity}});
  }
  const TimeRange& t = b.range;
  const TimeUs duration = t.end - t.start;
  if (t.empty()) {
    return Reject(Refusal::kUnprocessable, "validation_failed", "end must be after start");
  }
  if (t.start < ctx.now) {
    return Reject(Refusal::kUnprocessable, "starts_in_the_past", "the booking would start in the past",
                  {{"now", FormatUtc(ctx.now)}});
  }
  if (t.start < ctx.now + r.lead_time) {
    return Reject(Refusal::kUnprocessable, "lead_time_not_met", "this resource must be booked further ahead",
                  {{"earliest_start", FormatUtc(ctx.now + r.lead_time)}});
  }
  const TimeUs horizon = r.horizon > 0 ? std::min(r.horizon, kMaxHorizon) : kMaxHorizon;
  if (t.start > ctx.now + horizon) {
    return Reject(Refusal::kUnprocessable, "beyond_horizon", "this resource cannot be booked that far ahead",
                  {{"latest_start", FormatUtc(ctx.now + horizon)}});
  }
  if (res->kind != Kind::kEvent) {
    if (r.min_duration > 0 && duration < r.min_duration) {
      return Reject(Refusal::kUnprocessable, "duration_too_short", "the booking is shorter than allowed",
                    {{"min_duration_minutes", r.min_duration / kUsPerMinute}});
    }
    const TimeUs max_duration =
        r.max_duration > 0 ? std::min(r.max_duration, kMaxBookingDuration) : kMaxBookingDuration;
    if (duration > max_duration) {
      return Reject(Refusal::kUnprocessable, "duration_too_long", "the booking is longer than allowed",
                    {{"max_duration_minutes", max_duration / kUsPerMinute}});
    }
    if (r.granularity > 0) {
      // Slots are counted from local midnight, so that a 30-minute grid
      // means :00 and :30 on the wall clock, also in zones with odd offsets.
      auto local =
          m.zone()->to_local(date::sys_time<std::chrono::microseconds>(std::chrono::microseconds(t.start)));
      TimeUs since_midnight = (local - date::floor<date::days>(local)).count();
      if (since_midnight % r.granularity != 0 || duration % r.granularity != 0) {
        return Reject(Refusal::kUnprocessable, "not_on_slot_grid",
                      "start and duration must follow the resource's slot grid",
                      {{"granularity_minutes", r.granularity / kUsPerMinute}});
      }
    }
    auto open = OpeningRanges(m.Calendar(*res), m.zone(), t);
    if (open.size() != 1 || open.front() != t) {
      return Reject(Refusal::kUnprocessable, "outside_opening_hours",
                    "the resource is not open for the whole requested time",
                    {{"requested", RangeJson(t, m.zone())}});
    }
  }

  // Usage rights: internal staff bookings rely on the staff key; everyone
  // else on the right of their group in force now.
  if (who.staff) {
    b.right = "staff";
    b.status = c.hold ? BookingStatus::kHeld : BookingStatus::kConfirmed;
  } else {
    auto right = m.ApplicableRight(res->id, who.group, ctx.now);
    if (!right || !right->may_book) {
      return Reject(Refusal::kForbidden, "group_not_permitted",
                    "customers of this group may not book this resource",
                    {{"group", who.group}, {"resource", res->id.get()}});
    }
    b.right = right->id;
    if (right->quota > 0) {
      if (who.customer.empty()) {
        return Reject(Refusal::kForbidden, "customer_required",
                      "this resource has a quota per customer: book with a customer token");
      }
      auto period = CalendarPeriod(LocalDayOf(t.start, m.zone()), right->quota_period);
      if (period) {
        TimeUs used = m.UsedQuota(who.customer, res->id, period->first, period->second, exclude);
        for (const auto& p : pending) {
          const LocalDay d = LocalDayOf(p.range.start, m.zone());
          if (p.resource == res->id && d >= period->first && d <= period->second) {
            used += p.range.end - p.range.start;
          }
        }
        if (used + duration > right->quota) {
          return Reject(Refusal::kUnprocessable, "quota_exceeded",
                        "this booking would exceed the customer's quota for the period",
                        {{"quota_minutes", right->quota / kUsPerMinute},
                         {"used_minutes", used / kUsPerMinute},
                         {"period", right->quota_period},
                         {"period_from", FormatLocalDay(period->first)},
                         {"period_to", FormatLocalDay(period->second)}});
        }
      }
    }
    if (right->needs_approval && !who.by_staff) {
      b.status = BookingStatus::kRequested;
    } else if (right->hold || c.hold) {
      b.status = BookingStatus::kHeld;
    } else {
      b.status = BookingStatus::kConfirmed;
    }
  }
  if (b.status == BookingStatus::kHeld) b.hold_until = ctx.now + m.hold();

  if (!res->requires_qualification.empty() && !who.staff) {
    const Customer* cu = who.customer.empty() ? nullptr : m.FindCustomer(who.customer);
    const bool holds = cu != nullptr && cu->qualifications.count(res->requires_qualification) != 0;
    if (!holds) {
      return Reject(Refusal::kForbidden, "qualification_required",
                    "this device may only be booked by someone holding the qualification",
                    {{"qualification", res->requires_qualification}});
    }
    const auto q = cu->qualifications.find(res->requires_qualification);
    if (q->second != 0 && q->second < t.end) {
      return Reject(Refusal::kForbidden, "qualification_expired",
                    "the qualification is not valid for the whole booking",
                    {{"qualification", res->requires_qualification}, {"valid_until", FormatUtc(q->second)}});
    }
  }

  // Add-ons: each offered here, at most once; every mandatory one taken.
  std::set<std::string> seen;
  for (const auto& line : c.addons) {
    const Addon* a = m.FindAddon(line.addon);
    if (a == nullptr) {
      return Reject(Refusal::kUnprocessable, "unknown_addon", "no such add-on", {{"addon", line.addon}});
    }
    const bool offered = std::any_of(a->offers.begin(), a->offers.end(),
                                     [&](const AddonOffer& o) { return o.resource == res->id; });
    if (!offered || line.quantity < 1 || !seen.insert(line.addon).second) {
      return Reject(Refusal::kUnprocessable, "addon_not_offered",
                    "each add-on must be offered with this resource, listed once, with a quantity ≥ 1",
                    {{"addon", line.addon}});
    }
    b.addons.push_back(line);
  }
  for (const auto& [id, a] : m.addons()) {
    for (const auto& o : a.offers) {
      if (o.resource == res->id && o.mandatory && seen.count(id) == 0) {
        return Reject(Refusal::kUnprocessable, "addon_required",
                      "this resource must be booked with an add-on", {{"addon", id}});
      }
    }
  }

  b.blocked = res->kind == Kind::kEvent ? t : TimeRange{t.start - r.buffer_before, t.end + r.buffer_after};

  // Capacity, counting what this command already took.
  auto pending_usages = [&](const std::string& counter) {
    std::vector<Usage> out;
    for (const auto& p : pending) {
      for (const auto& [name, amount] : TenantModel::Takes(p)) {
        if (name == counter) out.push_back({p.blocked, amount, p.id});
      }
    }
    return out;
  };
  Usage clash;
  auto conflict = [&](const std::string& blocked_by) {
    return Reject(Refusal::kConflict, "booking_conflict",
                  "the resource is already booked (buffers included) for part of this time",
                  {{"conflict", RangeJson(clash.range, m.zone())},
                   {"requested_with_buffers", RangeJson(b.blocked, m.zone())},
                   {"blocked_by", blocked_by}});
  };
  const std::string own = b.session.empty() ? res->id.get() : TenantModel::SessionCounter(res->id, b.session);
  const std::uint32_t in_use = m.Peak(own, b.blocked, exclude, pending_usages(own), &clash);
  if (in_use + b.units > capacity) {
    if (IsExclusive(res->kind)) return conflict(res->id.get());
    return Reject(Refusal::kConflict, "capacity_exceeded", "not enough units or seats are left for this time",
                  {{"capacity", capacity},
                   {"available", in_use >= capacity ? 0 : capacity - in_use},
                   {"requested", b.units}});
  }
  // A whole and its parts block each other.
  std::vector<ResourceId> related = res->parts;
  if (!res->parent.get().empty()) related.push_back(res->parent);
  for (const auto& other : related) {
    if (m.Peak(other.get(), b.blocked, exclude, pending_usages(other.get()), &clash) > 0) {
      return conflict(other.get());
    }
  }
  for (const auto& line : b.addons) {
    const Addon* a = m.FindAddon(line.addon);
    if (a->stock == 0) continue;
    const std::string counter = TenantModel::AddonCounter(line.addon);
    const std::uint32_t used = m.Peak(counter, b.blocked, exclude, pending_usages(counter), nullptr);
    if (used + line.quantity > a->stock) {
      return Reject(Refusal::kConflict, "addon_unavailable", "not enough of an add-on is left for this time",
                    {{"addon", line.addon},
                     {"stock", a->stock},
                     {"available", used >= a->stock ? 0 : a->stock - used},
                     {"requested", line.quantity}});
    }
  }
  return b;
}

json AddonsJson(const std::vector<AddonLine>& lines) {
  json out = json::array();
  for (const auto& l : lines) out.push_back({{"addon", l.addon}, {"quantity", l.quantity}});
  return out;
}

// The reply describing a booking.
json BookingReply(const TenantModel& m, const Booking& b) {
  json j = {{"id", b.id.get()},
            {"number", b.number},
            {"resource", b.resource.get()},
            {"status", StatusName(b.status)},
            {"version", b.version},
            {"time_zone", m.zone()->name()},
            {"units", b.units},
            {"addons", AddonsJson(b.addons)},
            {"right", b.right}};
  j.update(RangeJson(b.range, m.zone()));
  if (!b.session.empty()) j["session"] = b.session;
  if (!b.customer.empty()) j["customer"] = b.customer;
  if (!b.series.empty()) j["series"] = b.series;
  if (b.status == BookingStatus::kHeld) j["hold_until"] = FormatUtc(b.hold_until);
  return j;
}

ledger::EventDraft PlacedEvent(const Context& ctx, const Booking& b, const PlaceBooking& c) {
  const std::string& manage_token = c.manage_token;
  const bool by_staff = c.by_staff;
  auto d = Draft(ctx, "booking/" + b.id.get(), 1);
  schema::BookingPlacedT e;
  e.booking_id = b.id.get();
  e.number = b.number;
  e.resource_id = b.resource.get();
  e.start_us = b.range.start;
  e.end_us = b.range.end;
  e.blocked_start_us = b.blocked.start;
  e.blocked_end_us = b.blocked.end;
  // An empty token must never become a valid one (SHA-256 of "").
  if (!manage_token.empty()) e.manage_token_hash = HashBytes(manage_token);
  e.channel = by_staff ? "staff" : "public";
  e.status = StatusName(b.status);
  e.units = b.units;
  e.session_id = b.session;
  e.customer_id = b.customer;
  e.group_id = b.group;
  e.right_id = b.right;
  for (const auto& l : b.addons) {
    auto line = std::make_unique<schema::AddonLineT>();
    line->addon_id = l.addon;
    line->quantity = l.quantity;
    e.addons.push_back(std::move(line));
  }
  e.hold_until_us = b.hold_until;
  e.series_id = b.series;
  e.person_id = c.person;
  e.personal.assign(c.personal.begin(), c.personal.end());
  e.placed_at_us = ctx.now;
  d.payload.Set(std::move(e));
  return d;
}

// Prices a planned booking. A priced booking of a booker (not through a
// staff key) that would be confirmed is held until it is paid.
std::vector<Line> PriceAndHold(const TenantModel& m, const Context& ctx, const PlaceBooking& c, Booking* b) {
  std::vector<Line> lines = detail::PriceBooking(m, *b, ctx.now);
  if (detail::NeedsPayment(lines, c.by_staff) && b->status == BookingStatus::kConfirmed) {
    b->status = BookingStatus::kHeld;
    b->hold_until = ctx.now + m.hold();
  }
  return lines;
}

// The invoice of a placed booking that is held or confirmed: due when the
// hold ends, or after the tenant's payment terms.
void InvoicePlaced(const TenantModel& m, const Context& ctx, const Booking& b, const std::vector<Line>& lines,
                   DocNumbers& numbers, Acceptance* a, json* reply) {
  if (Sum(lines).gross <= 0 || b.status == BookingStatus::kRequested) return;
  const TimeUs due = b.status == BookingStatus::kHeld
                         ? b.hold_until
                         : ctx.now + m.books().settings().payment_terms_days * 24LL * 3600 * kUsPerSecond;
  a->events.push_back(detail::InvoiceEvent(m, ctx, b, lines, due, numbers, reply));
}

Decision DecidePlaceBooking(const TenantModel& m, const Context& ctx, const PlaceBooking& c) {
  if (m.FindBooking(c.id) != nullptr) {
    return Reject(Refusal::kConflict, "booking_exists", "a booking with this id exists");
  }
  auto who = ResolveBooker(m, c);
  if (auto* r = std::get_if<Rejection>(&who)) return *r;
  auto plan = PlanBooking(m, ctx, c, std::get<Booker>(who), BookingId(), {});
  if (auto* r = std::get_if<Rejection>(&plan)) return *r;
  Booking& b = std::get<Booking>(plan);
  b.number = m.NextBookingNumber(LocalYear(ctx.now, m.zone()));
  b.version = 1;
  const std::vector<Line> price = PriceAndHold(m, ctx, c, &b);
  Acceptance a;
  a.created = true;
  a.events.push_back(PlacedEvent(ctx, b, c));
  a.reply = BookingReply(m, b);
  DocNumbers numbers(m.books(), LocalYear(ctx.now, m.zone()));
  InvoicePlaced(m, ctx, b, price, numbers, &a, &a.reply);
  if (!c.manage_token.empty()) {
    a.reply["manage_token"] = c.manage_token;
    a.secrets = {"/manage_token"};
  }
  return a;
}

Decision DecidePlaceSeries(const TenantModel& m, const Context& ctx, const PlaceSeries& c) {
  if (c.id.empty() || c.id.size() > 64) {
    return Reject(Refusal::kUnprocessable, "validation_failed", "invalid series id");
  }
  if (m.HasSeries(c.id)) return Reject(Refusal::kConflict, "series_exists", "a series with this id exists");
  if (c.occurrences.empty() || c.occurrences.size() > kMaxOccurrences ||
      c.ids.size() != c.occurrences.size()) {
    return Reject(Refusal::kUnprocessable, "validation_failed",
                  "a series needs 1–" + std::to_string(kMaxOccurrences) + " occurrences");
  }
  auto who = ResolveBooker(m, c.first);
  if (auto* r = std::get_if<Rejection>(&who)) return *r;
  const int year = LocalYear(ctx.now, m.zone());
  std::vector<Booking> accepted;
  std::vector<std::vector<Line>> prices;
  json outcomes = json::array();
  std::optional<Rejection> first_failure;
  for (std::size_t i = 0; i < c.occurrences.size(); ++i) {
    PlaceBooking p = c.first;
    p.id = c.ids[i];
    p.range = c.occurrences[i];
    json o = RangeJson(p.range, m.zone());
    auto plan = m.FindBooking(p.id) != nullptr
                    ? std::variant<Booking, Rejection>(
                          Reject(Refusal::kConflict, "booking_exists", "a booking with this id exists"))
                    : PlanBooking(m, ctx, p, std::get<Booker>(who), BookingId(), accepted);
    if (auto* r = std::get_if<Rejection>(&plan)) {
      o["outcome"] = "refused";
      o["code"] = r->code;
      o["detail"] = r->message;
      if (!r->details.empty()) o["details"] = r->details;
      if (!first_failure) first_failure = *r;
    } else {
      Booking& b = std::get<Booking>(plan);
      b.series = c.id;
      b.number = m.BookingNumberAfter(year, accepted.size());
      b.version = 1;
      prices.push_back(PriceAndHold(m, ctx, c.first, &b));
      o["outcome"] = "booked";
      o["booking"] = b.id.get();
      o["number"] = b.number;
      o["status"] = StatusName(b.status);
      accepted.push_back(std::move(b));
    }
    outcomes.push_back(std::move(o));
  }
  if (first_failure && (!c.skip_conflicts || accepted.empty())) {
    Rejection r = *first_failure;
    r.code = c.skip_conflicts ? "no_occurrence_bookable" : "series_conflict";
    r.message = c.skip_conflicts ? "no occurrence of the series can be booked"
                                 : "not every occurrence can be booked (all or nothing): nothing was booked";
    for (auto& o : outcomes) {
      if (o["outcome"] == "booked") o["outcome"] = "not_booked";
    }
    r.details = {{"occurrences", outcomes}};
    return r;
  }
  Acceptance a;
  a.created = true;
  auto s = Draft(ctx, "series/" + c.id, 1);
  schema::SeriesPlacedT e;
  e.series_id = c.id;
  e.resource_id = c.first.resource.get();
  e.rrule = c.rrule;
  e.first_start_us = c.occurrences.front().start;
  e.first_end_us = c.occurrences.front().end;
  e.exdates_us = c.exdates;
  e.mode = c.skip_conflicts ? "skip_conflicts" : "all_or_nothing";
  s.payload.Set(std::move(e));
  a.events.push_back(std::move(s));
  DocNumbers numbers(m.books(), year);
  for (std::size_t i = 0; i < accepted.size(); ++i) {
    a.events.push_back(PlacedEvent(ctx, accepted[i], c.first));
    json invoice;
    InvoicePlaced(m, ctx, accepted[i], prices[i], numbers, &a, &invoice);
    for (auto& o : outcomes) {
      if (o.value("booking", "") == accepted[i].id.get() && invoice.contains("invoice"))
        o["invoice"] = invoice["invoice"];
    }
  }
  a.reply = {{"id", c.id},
             {"resource", c.first.resource.get()},
             {"rrule", c.rrule},
             {"mode", c.skip_conflicts ? "skip_conflicts" : "all_or_nothing"},
             {"booked", accepted.size()},
             {"refused", c.occurrences.size() - accepted.size()},
             {"occurrences", outcomes},
             {"time_zone", m.zone()->name()}};
  if (!c.first.manage_token.empty()) {
    a.reply["manage_token"] = c.first.manage_token;
    a.secrets = {"/manage_token"};
  }
  return a;
}

// The booking `id` as its booker (manage token) or staff sees it; a wrong
// token looks exactly like an unknown booking.
const Booking* Accessible(const TenantModel& m, const BookingId& id, bool by_staff,
                          const std::string& token) {
  const Booking* b = m.FindBooking(id);
  if (b == nullptr || (!by_staff && !SecretMatches(token, b->manage_token_hash))) return nullptr;
  return b;
}

std::optional<Rejection> CheckVersion(const Booking& b, const std::optional<std::uint64_t>& if_match) {
  if (if_match && *if_match != b.version) {
    return Reject(Refusal::kPrecondition, "version_mismatch", "the booking has changed",
                  {{"expected", *if_match}, {"current", b.version}});
  }
  return std::nullopt;
}

Rejection InvalidTransition(const Booking& b, const char* to) {
  return Reject(Refusal::kConflict, "invalid_transition",
                std::string("a ") + StatusName(b.status) + " booking cannot become " + to,
                {{"status", StatusName(b.status)}, {"to", to}});
}

// What cancelling `b` now costs (basis points of its price): the tenant's
// tiers for confirmed bookings; nothing for a booking never confirmed (held
// awaiting payment, requested) or when staff waive the fee.
std::int32_t CancellationFee(const TenantModel& m, const Context& ctx, const Booking& b, bool waive) {
  if (waive || b.status != BookingStatus::kConfirmed) return 0;
  return m.books().settings().FeeFor(b.range.start - ctx.now);
}

ledger::EventDraft CancelledEvent(const Context& ctx, const Booking& b, const std::string& reason,
                                  bool by_staff) {
  auto d = Draft(ctx, "booking/" + b.id.get(), b.version + 1);
  schema::BookingCancelledT e;
  e.booking_id = b.id.get();
  e.reason = reason;
  e.by = by_staff ? "staff" : "booker";
  d.payload.Set(std::move(e));
  return d;
}

Decision DecideCancelBooking(const TenantModel& m, const Context& ctx, const CancelBooking& c) {
  const Booking* b = Accessible(m, c.id, c.by_staff, c.manage_token);
  if (b == nullptr) return Reject(Refusal::kNotFound, "not_found", "no such booking");
  if (auto r = CheckVersion(*b, c.if_match)) return *r;
  if (b->status == BookingStatus::kCancelled) {
    return Reject(Refusal::kConflict, "already_cancelled", "the booking is already cancelled");
  }
  if (!IsOpen(b->status)) return InvalidTransition(*b, "cancelled");
  if (!c.by_staff && ctx.now >= b->range.start) {
    return Reject(Refusal::kConflict, "booking_started",
                  "a booking that has started can only be cancelled by staff");
  }
  if (c.reason.size() > 1000) {
    return Reject(Refusal::kUnprocessable, "validation_failed", "reason must have at most 1000 bytes");
  }
  if (c.waive_fee && !c.by_staff) {
    return Reject(Refusal::kForbidden, "not_permitted", "only staff may waive the cancellation fee");
  }
  Acceptance a;
  a.events.push_back(CancelledEvent(ctx, *b, c.reason, c.by_staff));
  a.reply = {{"id", c.id.get()}, {"number", b->number}, {"status", "cancelled"}, {"version", b->version + 1}};
  DocNumbers numbers(m.books(), LocalYear(ctx.now, m.zone()));
  detail::EndBookingMoney(m, ctx, *b, CancellationFee(m, ctx, *b, c.waive_fee), c.reason, numbers, &a.events,
                          &a.reply);
  return a;
}

Decision DecideCancelSeries(const TenantModel& m, const Context& ctx, const CancelSeries& c) {
  auto bookings = m.SeriesBookings(c.id);
  const bool known = m.HasSeries(c.id) && !bookings.empty();
  // Every occurrence carries the series' manage token.
  if (!known || (!c.by_staff && !SecretMatches(c.manage_token, bookings.front()->manage_token_hash))) {
    return Reject(Refusal::kNotFound, "not_found", "no such series");
  }
  if (c.reason.size() > 1000) {
    return Reject(Refusal::kUnprocessable, "validation_failed", "reason must have at most 1000 bytes");
  }
  Acceptance a;
  json cancelled = json::array();
  DocNumbers numbers(m.books(), LocalYear(ctx.now, m.zone()));
  for (const Booking* b : bookings) {
    if (b->range.start < c.from || !IsOpen(b->status)) continue;
    if (!c.by_staff && ctx.now >= b->range.start) continue;  // started: staff only
    a.events.push_back(CancelledEvent(ctx, *b, c.reason, c.by_staff));
    json one = {{"id", b->id.get()}, {"number", b->number}, {"start", FormatUtc(b->range.start)}};
    detail::EndBookingMoney(m, ctx, *b, CancellationFee(m, ctx, *b, false), c.reason, numbers, &a.events,
                            &one);
    cancelled.push_back(std::move(one));
  }
  a.reply = {{"id", c.id}, {"cancelled", cancelled}};
  return a;
}

Decision DecideApprove(const TenantModel& m, const Context& ctx, const ApproveBooking& c) {
  const Booking* b = m.FindBooking(c.id);
  if (b == nullptr) return Reject(Refusal::kNotFound, "not_found", "no such booking");
  if (auto r = CheckVersion(*b, c.if_match)) return *r;
  if (b->status != BookingStatus::kRequested) return InvalidTransition(*b, "approved");
  if (c.note.size() > 1000) {
    return Reject(Refusal::kUnprocessable, "validation_failed", "note must have at most 1000 bytes");
  }
  const Right* right = m.FindRight(b->right);
  // Requested bookings come from bookers: a priced one is held until paid,
  // priced by the tariffs in force when it was placed.
  const std::vector<Line> price = detail::PriceBooking(m, *b, b->placed_at);
  const bool hold = (right != nullptr && right->hold) || Sum(price).gross > 0;
  Acceptance a;
  auto d = Draft(ctx, "booking/" + c.id.get(), b->version + 1);
  schema::BookingApprovedT e;
  e.booking_id = c.id.get();
  e.status = hold ? "held" : "confirmed";
  e.hold_until_us = hold ? ctx.now + m.hold() : 0;
  e.note = c.note;
  a.reply = {{"id", c.id.get()}, {"number", b->number}, {"status", e.status}, {"version", b->version + 1}};
  if (hold) a.reply["hold_until"] = FormatUtc(e.hold_until_us);
  Booking after = *b;
  after.status = hold ? BookingStatus::kHeld : BookingStatus::kConfirmed;
  after.hold_until = e.hold_until_us;
  d.payload.Set(std::move(e));
  a.events.push_back(std::move(d));
  DocNumbers numbers(m.books(), LocalYear(ctx.now, m.zone()));
  InvoicePlaced(m, ctx, after, price, numbers, &a, &a.reply);
  return a;
}

template <typename Event>
Decision Transition(const TenantModel& m, const Context& ctx, const BookingId& id,
                    const std::optional<std::uint64_t>& if_match, std::initializer_list<BookingStatus> from,
                    const char* to, Event event) {
  const Booking* b = m.FindBooking(id);
  if (b == nullptr) return Reject(Refusal::kNotFound, "not_found", "no such booking");
  if (auto r = CheckVersion(*b, if_match)) return *r;
  if (std::find(from.begin(), from.end(), b->status) == from.end()) return InvalidTransition(*b, to);
  Acceptance a;
  auto d = Draft(ctx, "booking/" + id.get(), b->version + 1);
  d.payload.Set(std::move(event));
  a.events.push_back(std::move(d));
  a.reply = {{"id", id.get()}, {"number", b->number}, {"status", to}, {"version", b->version + 1}};
  return a;
}

Decision DecideReject(const TenantModel& m, const Context& ctx, const RejectBooking& c) {
  if (c.reason.size() > 1000) {
    return Reject(Refusal::kUnprocessable, "validation_failed", "reason must have at most 1000 bytes");
  }
  schema::BookingRejectedT e;
  e.booking_id = c.id.get();
  e.reason = c.reason;
  return Transition(m, ctx, c.id, c.if_match, {BookingStatus::kRequested}, "rejected", std::move(e));
}

Decision DecideConfirm(const TenantModel& m, const Context& ctx, const ConfirmBooking& c) {
  schema::BookingConfirmedT e;
  e.booking_id = c.id.get();
  e.by = "staff";
  return Transition(m, ctx, c.id, c.if_match, {BookingStatus::kHeld}, "confirmed", std::move(e));
}

Decision DecideComplete(const TenantModel& m, const Context& ctx, const CompleteBooking& c) {
  const Booking* b = m.FindBooking(c.id);
  if (b != nullptr && b->status == BookingStatus::kConfirmed && ctx.now < b->range.start) {
    return Reject(Refusal::kConflict, "booking_not_started",
                  "a booking is completed or missed only once it began",
                  {{"start", FormatUtc(b->range.start)}});
  }
  schema::BookingCompletedT e;
  e.booking_id = c.id.get();
  e.outcome = c.no_show ? "no_show" : "completed";
  return Transition(m, ctx, c.id, c.if_match, {BookingStatus::kConfirmed},
                    c.no_show ? "no_show" : "completed", std::move(e));
}

Decision DecideReschedule(const TenantModel& m, const Context& ctx, const RescheduleBooking& c) {
  const Booking* b = Accessible(m, c.id, c.by_staff, c.manage_token);
  if (b == nullptr) return Reject(Refusal::kNotFound, "not_found", "no such booking");
  if (auto r = CheckVersion(*b, c.if_match)) return *r;
  if (!IsOpen(b->status)) return InvalidTransition(*b, "rescheduled");
  if (!c.by_staff && ctx.now >= b->range.start) {
    return Reject(Refusal::kConflict, "booking_started",
                  "a booking that has started can only be moved by staff");
  }
  // The same checks as a new booking by the same booker, leaving the
  // booking's own capacity out.
  Booker who;
  who.customer = b->customer;
  who.group = b->group;
  who.staff = b->right == "staff";
  who.by_staff = c.by_staff;
  PlaceBooking p;
  p.id = b->id;
  p.resource = b->resource;
  p.range = c.range;
  p.session = c.session;
  p.units = b->units;
  p.addons = b->addons;
  auto plan = PlanBooking(m, ctx, p, who, b->id, {});
  if (auto* r = std::get_if<Rejection>(&plan)) return *r;
  const Booking& moved = std::get<Booking>(plan);
  // An issued invoice never changes: a move may not change the price (an
  // hourly tariff and a longer slot). Cancel and book anew instead.
  if (const Invoice* inv = m.books().InvoiceOf(b->id)) {
    Booking priced = *b;
    priced.range = moved.range;
    const std::int64_t now_price = Sum(detail::PriceBooking(m, priced, b->placed_at)).gross;
    if (now_price != inv->totals.gross) {
      return Reject(Refusal::kConflict, "price_would_change",
                    "the new time has another price than the invoice; cancel and book anew",
                    {{"invoiced", inv->totals.gross}, {"new_price", now_price}});
    }
  }
  Acceptance a;
  auto d = Draft(ctx, "booking/" + c.id.get(), b->version + 1);
  schema::BookingRescheduledT e;
  e.booking_id = c.id.get();
  e.start_us = moved.range.start;
  e.end_us = moved.range.end;
  e.blocked_start_us = moved.blocked.start;
  e.blocked_end_us = moved.blocked.end;
  e.session_id = moved.session;
  e.by = c.by_staff ? "staff" : "booker";
  d.payload.Set(std::move(e));
  a.events.push_back(std::move(d));
  Booking after = *b;
  after.range = moved.range;
  after.blocked = moved.blocked;
  after.session = moved.session;
  after.version = b->version + 1;
  a.reply = BookingReply(m, after);
  return a;
}

Decision DecideExpireHolds(const TenantModel& m, const Context& ctx, const ExpireHolds&) {
  Acceptance a;
  json expired = json::array();
  DocNumbers numbers(m.books(), LocalYear(ctx.now, m.zone()));
  for (const auto& [until, id] : m.holds()) {
    if (until > ctx.now) break;
    const Booking* b = m.FindBooking(id);
    auto d = Draft(ctx, "booking/" + id.get(), b->version + 1);
    schema::BookingExpiredT e;
    e.booking_id = id.get();
    d.payload.Set(std::move(e));
    a.events.push_back(std::move(d));
    json money;
    detail::EndBookingMoney(m, ctx, *b, 0, "hold expired", numbers, &a.events, &money);
    expired.push_back(id.get());
  }
  a.reply = {{"expired", expired}};
  return a;
}

Decision DecideSetHolidays(const TenantModel& m, const Context& ctx, const SetHolidays& c) {
  if (c.holidays.size() > 1000) {
    return Reject(Refusal::kUnprocessable, "validation_failed", "at most 1000 holidays");
  }
  Acceptance a;
  auto d = Draft(ctx, "tenant/holidays", m.holidays_version() + 1);
  schema::HolidaysSetT e;
  nlohmann::json list = nlohmann::json::array();
  for (const auto& [day, name] : c.holidays) {
    if (name.size() > 200) {
      return Reject(Refusal::kUnprocessable, "validation_failed", "holiday names have at most 200 bytes");
    }
    auto h = std::make_unique<schema::HolidayT>();
    h->day = day;
    h->name = name;
    e.holidays.push_back(std::move(h));
    list.push_back({{"date", FormatLocalDay(day)}, {"name", name}});
  }
  d.payload.Set(std::move(e));
  a.events.push_back(std::move(d));
  a.reply = {{"holidays", list}, {"version", m.holidays_version() + 1}};
  return a;
}

Decision DecideScheduleSession(const TenantModel& m, const Context& ctx, const ScheduleSession& c) {
  const Resource* res = m.FindResource(c.resource);
  if (res == nullptr) {
    return Reject(Refusal::kNotFound, "not_found", "no such resource", {{"resource", c.resource.get()}});
  }
  if (res->kind != Kind::kEvent) {
    return Reject(Refusal::kUnprocessable, "not_an_event", "sessions belong to event resources");
  }
  if (!IsValidSlug(c.session_id)) {
    return Reject(Refusal::kUnprocessable, "validation_failed",
                  "session id must be 1–64 characters of a–z, 0–9 and '-'");
  }
  if (res->sessions.count(c.session_id) != 0) {
    return Reject(Refusal::kConflict, "session_exists", "a session with this id exists");
  }
  if (c.range.empty() || c.range.end - c.range.start > kMaxBookingDuration || c.title.size() > 200) {
    return Reject(
        Refusal::kUnprocessable, "validation_failed",
        "a session ends after it starts, lasts at most 31 days and has a title of at most 200 bytes");
  }
  const std::uint32_t seats = c.seats == 0 ? res->capacity : c.seats;
  if (seats > 100000) return Reject(Refusal::kUnprocessable, "validation_failed", "at most 100000 seats");
  Acceptance a;
  a.created = true;
  auto d = Draft(ctx, "resource/" + c.resource.get(), res->version + 1);
  schema::SessionScheduledT e;
  e.resource_id = c.resource.get();
  e.session_id = c.session_id;
  e.start_us = c.range.start;
  e.end_us = c.range.end;
  e.seats = seats;
  e.title = c.title;
  d.payload.Set(std::move(e));
  a.events.push_back(std::move(d));
  a.reply = {{"id", c.session_id}, {"resource", c.resource.get()}, {"seats", seats}, {"title", c.title}};
  a.reply.update(RangeJson(c.range, m.zone()));
  return a;
}

Decision DecideSetAddon(const TenantModel& m, const Context& ctx, const SetAddon& c) {
  if (!IsValidSlug(c.id)) {
    return Reject(Refusal::kUnprocessable, "validation_failed",
                  "add-on id must be 1–64 characters of a–z, 0–9 and '-'");
  }
  const Addon* old = m.FindAddon(c.id);
  const std::uint64_t version = old == nullptr ? 0 : old->version;
  if (c.if_match && *c.if_match != version) {
    return Reject(Refusal::kPrecondition, "version_mismatch", "the add-on has changed",
                  {{"expected", *c.if_match}, {"current", version}});
  }
  if (c.name.empty() || c.name.size() > 200 || c.offers.size() > 1000) {
    return Reject(Refusal::kUnprocessable, "validation_failed",
                  "name must have 1–200 bytes; at most 1000 offers");
  }
  schema::AddonSetT e;
  e.addon_id = c.id;
  e.name = c.name;
  e.stock = c.stock;
  json offers = json::array();
  std::set<ResourceId> seen;
  for (const auto& o : c.offers) {
    if (m.FindResource(o.resource) == nullptr || !seen.insert(o.resource).second) {
      return Reject(Refusal::kUnprocessable, "validation_failed",
                    "each offer names an existing resource, once", {{"resource", o.resource.get()}});
    }
    auto off = std::make_unique<schema::AddonOfferT>();
    off->resource_id = o.resource.get();
    off->mandatory = o.mandatory;
    e.offers.push_back(std::move(off));
    offers.push_back({{"resource", o.resource.get()}, {"mandatory", o.mandatory}});
  }
  Acceptance a;
  a.created = old == nullptr;
  auto d = Draft(ctx, "addon/" + c.id, version + 1);
  d.payload.Set(std::move(e));
  a.events.push_back(std::move(d));
  a.reply = {
      {"id", c.id}, {"name", c.name}, {"stock", c.stock}, {"offers", offers}, {"version", version + 1}};
  return a;
}

Decision DecideDefineGroup(const TenantModel& m, const Context& ctx, const DefineGroup& c) {
  if (!IsValidSlug(c.id) || c.name.empty() || c.name.size() > 200) {
    return Reject(Refusal::kUnprocessable, "validation_failed",
                  "group id must be a slug (a–z, 0–9, '-') and name 1–200 bytes");
  }
  if (m.HasGroup(c.id)) return Reject(Refusal::kConflict, "group_exists", "this group exists");
  Acceptance a;
  a.created = true;
  auto d = Draft(ctx, "group/" + c.id, 1);
  schema::GroupDefinedT e;
  e.group_id = c.id;
  e.name = c.name;
  d.payload.Set(std::move(e));
  a.events.push_back(std::move(d));
  a.reply = {{"id", c.id}, {"name", c.name}};
  return a;
}

Decision DecideRegisterCustomer(const TenantModel& m, const Context& ctx, const RegisterCustomer& c) {
  // A slug, or a generated "cu_<hex>".
  if (!IsValidSlug(c.id) && !(c.id.starts_with("cu_") && IsValidSlug(std::string_view(c.id).substr(3)))) {
    return Reject(Refusal::kUnprocessable, "validation_failed", "customer id must be a slug");
  }
  if (m.FindCustomer(c.id) != nullptr)
    return Reject(Refusal::kConflict, "customer_exists", "this customer exists");
  if (!m.HasGroup(c.group)) {
    return Reject(Refusal::kUnprocessable, "unknown_group", "no such customer group", {{"group", c.group}});
  }
  Acceptance a;
  a.created = true;
  auto d = Draft(ctx, "customer/" + c.id, 1);
  schema::CustomerRegisteredT e;
  e.customer_id = c.id;
  e.group_id = c.group;
  e.token_hash = HashBytes(c.token);
  d.payload.Set(std::move(e));
  a.events.push_back(std::move(d));
  a.reply = {{"id", c.id}, {"group", c.group}, {"customer_token", c.token}, {"version", 1}};
  a.secrets = {"/customer_token"};
  return a;
}

Decision DecideChangeCustomerGroup(const TenantModel& m, const Context& ctx, const ChangeCustomerGroup& c) {
  const Customer* cu = m.FindCustomer(c.id);
  if (cu == nullptr) return Reject(Refusal::kNotFound, "not_found", "no such customer");
  if (!m.HasGroup(c.group)) {
    return Reject(Refusal::kUnprocessable, "unknown_group", "no such customer group", {{"group", c.group}});
  }
  Acceptance a;
  auto d = Draft(ctx, "customer/" + c.id, cu->version + 1);
  schema::CustomerGroupChangedT e;
  e.customer_id = c.id;
  e.group_id = c.group;
  d.payload.Set(std::move(e));
  a.events.push_back(std::move(d));
  a.reply = {{"id", c.id}, {"group", c.group}, {"version", cu->version + 1}};
  return a;
}

Decision DecideGrantRight(const TenantModel& m, const Context& ctx, const GrantRight& c) {
  const Right& r = c.right;
  if (m.FindResource(r.resource) == nullptr) {
    return Reject(Refusal::kUnprocessable, "unknown_resource", "no such resource",
                  {{"resource", r.resource.get()}});
  }
  if (!m.HasGroup(r.group)) {
    return Reject(Refusal::kUnprocessable, "unknown_group", "no such customer group", {{"group", r.group}});
  }
  if (m.FindRight(r.id) != nullptr) return Reject(Refusal::kConflict, "right_exists", "this right exists");
  if (r.quota < 0 || r.quota > 366LL * 24 * 60 * kUsPerMinute ||
      (r.quota > 0 && !CalendarPeriod(0, r.quota_period))) {
    return Reject(Refusal::kUnprocessable, "validation_failed",
                  "a quota needs quota_period week, month or year and at most a year of minutes");
  }
  if (r.quota > 0 && r.group == "public") {
    return Reject(Refusal::kUnprocessable, "quota_needs_customers",
                  "quotas count per customer; anonymous public bookers have none");
  }
  if (r.valid_until != 0 && r.valid_until <= r.valid_from) {
    return Reject(Refusal::kUnprocessable, "validation_failed", "valid_until must be after valid_from");
  }
  if (r.basis.size() > 1000) {
    return Reject(Refusal::kUnprocessable, "validation_failed", "basis must have at most 1000 bytes");
  }
  Acceptance a;
  a.created = true;
  auto d = Draft(ctx, "right/" + r.id, 1);
  schema::RightGrantedT e;
  e.right_id = r.id;
  e.resource_id = r.resource.get();
  e.group_id = r.group;
  e.may_book = r.may_book;
  e.needs_approval = r.needs_approval;
  e.hold = r.hold;
  e.quota_minutes = static_cast<std::int32_t>(r.quota / kUsPerMinute);
  e.quota_period = r.quota > 0 ? r.quota_period : "";
  e.basis = r.basis;
  e.valid_from_us = r.valid_from;
  e.valid_until_us = r.valid_until;
  d.payload.Set(std::move(e));
  a.events.push_back(std::move(d));
  a.reply = {{"id", r.id}, {"resource", r.resource.get()}, {"group", r.group}, {"version", 1}};
  return a;
}

Decision DecideRevokeRight(const TenantModel& m, const Context& ctx, const RevokeRight& c) {
  const Right* r = m.FindRight(c.id);
  if (r == nullptr) return Reject(Refusal::kNotFound, "not_found", "no such right");
  if (r->revoked) return Reject(Refusal::kConflict, "already_revoked", "the right is already revoked");
  if (c.reason.size() > 1000) {
    return Reject(Refusal::kUnprocessable, "validation_failed", "reason must have at most 1000 bytes");
  }
  Acceptance a;
  auto d = Draft(ctx, "right/" + c.id, 2);
  schema::RightRevokedT e;
  e.right_id = c.id;
  e.reason = c.reason;
  d.payload.Set(std::move(e));
  a.events.push_back(std::move(d));
  a.reply = {{"id", c.id}, {"revoked", true}, {"version", 2}};
  return a;
}

Decision DecideGrantQualification(const TenantModel& m, const Context& ctx, const GrantQualification& c) {
  const Customer* cu = m.FindCustomer(c.customer);
  if (cu == nullptr) return Reject(Refusal::kNotFound, "not_found", "no such customer");
  if (!IsValidSlug(c.qualification) || c.basis.size() > 1000 || c.valid_until < 0) {
    return Reject(Refusal::kUnprocessable, "validation_failed",
                  "qualification must be a slug; basis at most 1000 bytes");
  }
  Acceptance a;
  auto d = Draft(ctx, "customer/" + c.customer, cu->version + 1);
  schema::QualificationGrantedT e;
  e.customer_id = c.customer;
  e.qualification = c.qualification;
  e.valid_until_us = c.valid_until;
  e.basis = c.basis;
  d.payload.Set(std::move(e));
  a.events.push_back(std::move(d));
  a.reply = {{"customer", c.customer},
             {"qualification", c.qualification},
             {"valid_until", c.valid_until == 0 ? json(nullptr) : json(FormatUtc(c.valid_until))},
             {"version", cu->version + 1}};
  return a;
}

Decision DecideRevokeQualification(const TenantModel& m, const Context& ctx, const RevokeQualification& c) {
  const Customer* cu = m.FindCustomer(c.customer);
  if (cu == nullptr || cu->qualifications.count(c.qualification) == 0) {
    return Reject(Refusal::kNotFound, "not_found", "the customer does not hold this qualification");
  }
  Acceptance a;
  auto d = Draft(ctx, "customer/" + c.customer, cu->version + 1);
  schema::QualificationRevokedT e;
  e.customer_id = c.customer;
  e.qualification = c.qualification;
  d.payload.Set(std::move(e));
  a.events.push_back(std::move(d));
  a.reply = {{"customer", c.customer}, {"qualification", c.qualification}, {"revoked", true}};
  return a;
}

Decision DecideErasePerson(const TenantModel& m, const Context& ctx, const ErasePerson& c) {
  auto p = m.persons().find(c.person);
  if (p == m.persons().end()) return Reject(Refusal::kNotFound, "not_found", "no such person");
  if (p->second) return Reject(Refusal::kConflict, "already_erased", "this person's data is already erased");
  if (c.reason.size() > 1000) {
    return Reject(Refusal::kUnprocessable, "validation_failed", "reason must have at most 1000 bytes");
  }
  Acceptance a;
  auto d = Draft(ctx, "person/" + c.person, 1);
  schema::PersonErasedT e;
  e.person_id = c.person;
  e.reason = c.reason;
  d.payload.Set(std::move(e));
  a.events.push_back(std::move(d));
  a.reply = {{"person", c.person}, {"erased", true}};
  return a;
}

Decision DecideRecordNotification(const TenantModel& m, const Context& ctx, const RecordNotification& c) {
  Acceptance a;
  a.reply = {{"notification", c.id}, {"recorded", !m.NotificationSent(c.id)}};
  if (m.NotificationSent(c.id)) return a;  // already recorded: nothing to add
  if (m.FindBooking(c.booking) == nullptr) return Reject(Refusal::kNotFound, "not_found", "no such booking");
  auto d = Draft(ctx, "notification/" + c.id, 1);
  schema::NotificationSentT e;
  e.notification_id = c.id;
  e.booking_id = c.booking.get();
  e.kind = c.kind;
  d.payload.Set(std::move(e));
  a.events.push_back(std::move(d));
  return a;
}

Decision DecideSignCheckpoint(const TenantModel& m, const Context& ctx, const SignCheckpoint& c) {
  // Any position up to the head: commands decided since the head was read
  // do not make the signed (position, hash) less true.
  if (c.position == 0 || c.position > m.position() || c.head_hash.size() != 32) {
    return Reject(Refusal::kUnprocessable, "invalid_checkpoint", "a checkpoint covers a position of the log",
                  {{"position", m.position()}});
  }
  Acceptance a;
  auto d = Draft(ctx, "checkpoint", m.checkpoints() + 1);
  schema::CheckpointSignedT e;
  e.position = c.position;
  e.head_hash.assign(c.head_hash.begin(), c.head_hash.end());
  e.note = c.note;
  e.verifier_key = c.verifier_key;
  d.payload.Set(std::move(e));
  a.events.push_back(std::move(d));
  a.reply = {{"position", c.position}, {"note", c.note}};
  return a;
}

Decision DecideSetSettings(const TenantModel& m, const Context& ctx, const SetSettings& c) {
  if (c.hold < kUsPerSecond || c.hold > 30LL * 24 * 3600 * kUsPerSecond) {
    return Reject(Refusal::kUnprocessable, "validation_failed", "hold_seconds must be between 1 and 30 days");
  }
  Acceptance a;
  auto d = Draft(ctx, "tenant/settings", m.settings_version() + 1);
  schema::TenantSettingsSetT e;
  e.hold_s = c.hold / kUsPerSecond;
  d.payload.Set(e);
  a.events.push_back(std::move(d));
  a.reply = {{"hold_seconds", c.hold / kUsPerSecond}, {"version", m.settings_version() + 1}};
  return a;
}

}  // namespace

const char* CommandName(const Command& c) {
  static constexpr const char* kNames[] = {"create_tenant",
                                           "create_api_key",
                                           "create_resource",
                                           "set_rules",
                                           "place_booking",
                                           "cancel_booking",
                                           "set_holidays",
                                           "schedule_session",
                                           "set_addon",
                                           "define_group",
                                           "register_customer",
                                           "change_customer_group",
                                           "grant_right",
                                           "revoke_right",
                                           "grant_qualification",
                                           "revoke_qualification",
                                           "set_settings",
                                           "place_series",
                                           "cancel_series",
                                           "approve_booking",
                                           "reject_booking",
                                           "confirm_booking",
                                           "complete_booking",
                                           "reschedule_booking",
                                           "expire_holds",
                                           "erase_person",
                                           "record_notification",
                                           "sign_checkpoint",
                                           "set_tariff",
                                           "set_finance_settings",
                                           "open_checkout",
                                           "record_provider_event",
                                           "record_payment",
                                           "refund_invoice",
                                           "record_refund_submitted",
                                           "complete_refund",
                                           "close_period",
                                           "import_settlement",
                                           "import_bank_statement"};
  static_assert(std::size(kNames) == std::variant_size_v<Command>);
  return kNames[c.index()];
}

Decision Decide(const TenantModel& m, const Context& ctx, const Command& cmd) {
  if (!m.exists() && !std::holds_alternative<CreateTenant>(cmd)) {
    return Reject(Refusal::kNotFound, "not_found", "no such tenant");
  }
  return std::visit(
      [&](const auto& c) -> Decision {
        using T = std::decay_t<decltype(c)>;
        if constexpr (std::is_same_v<T, CreateTenant>) return DecideCreateTenant(m, ctx, c);
        if constexpr (std::is_same_v<T, CreateApiKey>) return DecideCreateApiKey(m, ctx, c);
        if constexpr (std::is_same_v<T, CreateResource>) return DecideCreateResource(m, ctx, c);
        if constexpr (std::is_same_v<T, SetRules>) return DecideSetRules(m, ctx, c);
        if constexpr (std::is_same_v<T, PlaceBooking>) return DecidePlaceBooking(m, ctx, c);
        if constexpr (std::is_same_v<T, CancelBooking>) return DecideCancelBooking(m, ctx, c);
        if constexpr (std::is_same_v<T, SetHolidays>) return DecideSetHolidays(m, ctx, c);
        if constexpr (std::is_same_v<T, ScheduleSession>) return DecideScheduleSession(m, ctx, c);
        if constexpr (std::is_same_v<T, SetAddon>) return DecideSetAddon(m, ctx, c);
        if constexpr (std::is_same_v<T, DefineGroup>) return DecideDefineGroup(m, ctx, c);
        if constexpr (std::is_same_v<T, RegisterCustomer>) return DecideRegisterCustomer(m, ctx, c);
        if constexpr (std::is_same_v<T, ChangeCustomerGroup>) return DecideChangeCustomerGroup(m, ctx, c);
        if constexpr (std::is_same_v<T, GrantRight>) return DecideGrantRight(m, ctx, c);
        if constexpr (std::is_same_v<T, RevokeRight>) return DecideRevokeRight(m, ctx, c);
        if constexpr (std::is_same_v<T, GrantQualification>) return DecideGrantQualification(m, ctx, c);
        if constexpr (std::is_same_v<T, RevokeQualification>) return DecideRevokeQualification(m, ctx, c);
        if constexpr (std::is_same_v<T, SetSettings>) return DecideSetSettings(m, ctx, c);
        if constexpr (std::is_same_v<T, PlaceSeries>) return DecidePlaceSeries(m, ctx, c);
        if constexpr (std::is_same_v<T, CancelSeries>) return DecideCancelSeries(m, ctx, c);
        if constexpr (std::is_same_v<T, ApproveBooking>) return DecideApprove(m, ctx, c);
        if constexpr (std::is_same_v<T, RejectBooking>) return DecideReject(m, ctx, c);
        if constexpr (std::is_same_v<T, ConfirmBooking>) return DecideConfirm(m, ctx, c);
        if constexpr (std::is_same_v<T, CompleteBooking>) return DecideComplete(m, ctx, c);
        if constexpr (std::is_same_v<T, RescheduleBooking>) return DecideReschedule(m, ctx, c);
        if constexpr (std::is_same_v<T, ExpireHolds>) return DecideExpireHolds(m, ctx, c);
        if constexpr (std::is_same_v<T, ErasePerson>) return DecideErasePerson(m, ctx, c);
        if constexpr (std::is_same_v<T, RecordNotification>) return DecideRecordNotification(m, ctx, c);
        if constexpr (std::is_same_v<T, SignCheckpoint>) return DecideSignCheckpoint(m, ctx, c);
        if constexpr (std::is_same_v<T, SetTariff>) return detail::DecideSetTariff(m, ctx, c);
        if constexpr (std::is_same_v<T, SetFinanceSettings>)
          return detail::DecideSetFinanceSettings(m, ctx, c);
        if constexpr (std::is_same_v<T, OpenCheckout>) return detail::DecideOpenCheckout(m, ctx, c);
        if constexpr (std::is_same_v<T, RecordProviderEvent>) return detail::DecideProviderEvent(m, ctx, c);
        if constexpr (std::is_same_v<T, RecordPayment>) return detail::DecideRecordPayment(m, ctx, c);
        if constexpr (std::is_same_v<T, RefundInvoice>) return detail::DecideRefundInvoice(m, ctx, c);
        if constexpr (std::is_same_v<T, RecordRefundSubmitted>)
          return detail::DecideRefundSubmitted(m, ctx, c);
        if constexpr (std::is_same_v<T, CompleteRefund>) return detail::DecideCompleteRefund(m, ctx, c);
        if constexpr (std::is_same_v<T, ClosePeriod>) return detail::DecideClosePeriod(m, ctx, c);
        if constexpr (std::is_same_v<T, ImportSettlement>) return detail::DecideImportSettlement(m, ctx, c);
        if constexpr (std::is_same_v<T, ImportBankStatement>)
          return detail::DecideImportBankStatement(m, ctx, c);
      },
      cmd);
}

}  // namespace saalbuch::commands
