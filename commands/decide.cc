#include <algorithm>

#include "commands/commands.h"
#include "common/crypto.h"
#include "common/time_json.h"

namespace saalbuch::commands {
namespace {

using nlohmann::json;

// Hard limits that hold whatever a resource's rules say, so that no single
// booking makes the writer walk years of opening hours.
constexpr TimeUs kMaxBookingDuration = 31LL * 24 * 3600 * kUsPerSecond;
constexpr TimeUs kMaxHorizon = 5LL * 366 * 24 * 3600 * kUsPerSecond;

Rejection Reject(Refusal r, std::string code, std::string message, json details = json::object()) {
  return Rejection{r, std::move(code), std::move(message), std::move(details)};
}

std::vector<std::uint8_t> HashBytes(std::string_view secret) {
  Sha256 h = Sha256Of(secret);
  return {h.begin(), h.end()};
}

ledger::EventDraft Draft(const Context& ctx, std::string stream, std::uint64_t version) {
  ledger::EventDraft d;
  d.stream_id = std::move(stream);
  d.stream_version = version;
  d.recorded_at = ctx.now;
  d.actor = ctx.actor;
  d.command_id = ctx.command_id;
  d.correlation_id = ctx.correlation_id;
  return d;
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
  if (c.kind != "room" && c.kind != "device") {
    return Reject(Refusal::kUnprocessable, "unsupported_kind", "kind must be 'room' or 'device'",
                  {{"kind", c.kind}});
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
  e.capacity = 1;
  d.payload.Set(std::move(e));
  a.events.push_back(std::move(d));
  const Rules rules = c.rules.value_or(Rules::AlwaysOpen());
  auto r = Draft(ctx, stream, 2);
  r.payload.Set(RulesEvent(c.id, rules));
  a.events.push_back(std::move(r));
  a.reply = {{"id", c.id.get()}, {"kind", c.kind}, {"name", c.name}, {"version", 2}};
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

Decision DecidePlaceBooking(const TenantModel& m, const Context& ctx, const PlaceBooking& c) {
  const Resource* res = m.FindResource(c.resource);
  if (res == nullptr) {
    return Reject(Refusal::kNotFound, "not_found", "no such resource", {{"resource", c.resource.get()}});
  }
  if (m.FindBooking(c.id) != nullptr) {
    return Reject(Refusal::kConflict, "booking_exists", "a booking with this id exists");
  }
  const Rules& r = res->rules;
  const TimeRange& t = c.range;
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
    // Slots are counted from local midnight, so that a 30-minute grid means
    // :00 and :30 on the wall clock, also in zones with odd offsets.
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
  const TimeRange blocked{t.start - r.buffer_before, t.end + r.buffer_after};
  if (const Booking* clash = m.FindClash(c.resource, blocked)) {
    return Reject(Refusal::kConflict, "booking_conflict",
                  "the resource is already booked (buffers included) for part of this time",
                  {{"conflict", RangeJson(clash->blocked, m.zone())},
                   {"requested_with_buffers", RangeJson(blocked, m.zone())}});
  }
  Acceptance a;
  a.created = true;
  auto d = Draft(ctx, "booking/" + c.id.get(), 1);
  schema::BookingPlacedT e;
  e.booking_id = c.id.get();
  e.number = m.NextBookingNumber(LocalYear(ctx.now, m.zone()));
  e.resource_id = c.resource.get();
  e.start_us = t.start;
  e.end_us = t.end;
  e.blocked_start_us = blocked.start;
  e.blocked_end_us = blocked.end;
  // An empty token must never become a valid one (SHA-256 of "").
  if (!c.manage_token.empty()) e.manage_token_hash = HashBytes(c.manage_token);
  e.channel = c.by_staff ? "staff" : "public";
  a.reply = {{"id", c.id.get()},      {"number", e.number}, {"resource", c.resource.get()},
             {"status", "confirmed"}, {"version", 1},       {"time_zone", m.zone()->name()}};
  a.reply.update(RangeJson(t, m.zone()));
  if (!c.manage_token.empty()) {
    a.reply["manage_token"] = c.manage_token;
    a.secrets = {"/manage_token"};
  }
  d.payload.Set(std::move(e));
  a.events.push_back(std::move(d));
  return a;
}

Decision DecideCancelBooking(const TenantModel& m, const Context& ctx, const CancelBooking& c) {
  const Booking* b = m.FindBooking(c.id);
  // A wrong manage token looks exactly like an unknown booking.
  if (b == nullptr || (!c.by_staff && !SecretMatches(c.manage_token, b->manage_token_hash))) {
    return Reject(Refusal::kNotFound, "not_found", "no such booking");
  }
  if (c.if_match && *c.if_match != b->version) {
    return Reject(Refusal::kPrecondition, "version_mismatch", "the booking has changed",
                  {{"expected", *c.if_match}, {"current", b->version}});
  }
  if (b->status == BookingStatus::kCancelled) {
    return Reject(Refusal::kConflict, "already_cancelled", "the booking is already cancelled");
  }
  if (!c.by_staff && ctx.now >= b->range.start) {
    return Reject(Refusal::kConflict, "booking_started",
                  "a booking that has started can only be cancelled by staff");
  }
  if (c.reason.size() > 1000) {
    return Reject(Refusal::kUnprocessable, "validation_failed", "reason must have at most 1000 bytes");
  }
  Acceptance a;
  auto d = Draft(ctx, "booking/" + c.id.get(), b->version + 1);
  schema::BookingCancelledT e;
  e.booking_id = c.id.get();
  e.reason = c.reason;
  e.by = c.by_staff ? "staff" : "booker";
  d.payload.Set(std::move(e));
  a.events.push_back(std::move(d));
  a.reply = {{"id", c.id.get()}, {"number", b->number}, {"status", "cancelled"}, {"version", b->version + 1}};
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

}  // namespace

const char* CommandName(const Command& c) {
  static constexpr const char* kNames[] = {"create_tenant", "create_api_key", "create_resource", "set_rules",
                                           "place_booking", "cancel_booking", "set_holidays"};
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
      },
      cmd);
}

}  // namespace saalbuch::commands
