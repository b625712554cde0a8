// Decisions about the tenant and what it offers: the tenant, API keys,
// resources with their rules, holidays, event sessions, add-ons, tenant
// settings and signed checkpoints.
#include <set>

#include "commands/decide_internal.h"
#include "common/time_json.h"

namespace saalbuch::commands::detail {
namespace {

using nlohmann::json;

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

}  // namespace

Decision DecideCreateTenant(const TenantModel& m, const Context& ctx, const CreateTenant& c) {
  // The operator's own log (OperatorTenant) is created by the server, with
  // no key: its accounts are let in by the operator key.
  const bool own_log = c.id == OperatorTenant() && c.admin_key_id.empty();
  if (!IsValidSlug(c.id.get()) && !own_log) {
    return Reject(Refusal::kUnprocessable, "validation_failed",
                  "tenant id must be 1–64 characters of a–z, 0–9 and '-'");
  }
  if (m.exists()) {
    return Reject(Refusal::kConflict, "tenant_exists", "a tenant with this id exists",
                  {{"tenant", c.id.get()}});
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
  tc.zone_rules = FindZone(c.time_zone)->Rules();
  t.payload.Set(std::move(tc));
  a.events.push_back(std::move(t));
  a.reply = {{"id", c.id.get()}, {"name", c.name}, {"time_zone", c.time_zone}};
  if (own_log) return a;
  auto k = Draft(ctx, "key/" + c.admin_key_id, 1);
  schema::ApiKeyCreatedT kc;
  kc.key_id = c.admin_key_id;
  kc.role = "admin";
  kc.key_hash = HashBytes(c.admin_key);
  kc.label = "first admin key";
  k.payload.Set(std::move(kc));
  a.events.push_back(std::move(k));
  a.reply["admin_key"] = {{"id", c.admin_key_id}, {"role", "admin"}, {"key", c.admin_key}};
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

Decision DecideRevokeApiKey(const TenantModel& m, const Context& ctx, const RevokeApiKey& c) {
  const ApiKey* key = m.FindKey(c.key_id);
  if (key == nullptr) return Reject(Refusal::kNotFound, "not_found", "no such key", {{"key", c.key_id}});
  // The tenant's keys are managed with an admin key: the last one that does
  // not expire stays (rotate it instead).
  if (key->role == Role::kAdmin && key->expires == 0) {
    const auto admins = std::count_if(m.keys().begin(), m.keys().end(), [](const auto& entry) {
      return entry.second.role == Role::kAdmin && entry.second.expires == 0;
    });
    if (admins <= 1) {
      return Reject(Refusal::kConflict, "last_admin_key",
                    "this is the tenant's last admin key: rotate it, or create another admin key first",
                    {{"key", c.key_id}});
    }
  }
  Acceptance a;
  auto d = Draft(ctx, "key/" + c.key_id, key->version + 1);
  schema::ApiKeyRevokedT e;
  e.key_id = c.key_id;
  d.payload.Set(std::move(e));
  a.events.push_back(std::move(d));
  a.reply = {{"id", c.key_id}, {"revoked", true}};
  return a;
}

Decision DecideRotateApiKey(const TenantModel& m, const Context& ctx, const RotateApiKey& c) {
  const ApiKey* key = m.FindKey(c.key_id);
  if (key == nullptr || !key->ValidAt(ctx.now)) {
    return Reject(Refusal::kNotFound, "not_found", "no such key", {{"key", c.key_id}});
  }
  if (key->expires != 0) {
    return Reject(Refusal::kConflict, "key_rotated",
                  "this key has been rotated already; rotate its successor", {{"key", c.key_id}});
  }
  if (c.grace < 0 || c.grace > RotateApiKey::kMaxKeyGrace) {
    return Reject(Refusal::kUnprocessable, "validation_failed", "the grace period is 0 to 30 days");
  }
  Acceptance a;
  a.created = true;
  const TimeUs expires = ctx.now + c.grace;
  auto created = Draft(ctx, "key/" + c.new_key_id, 1);
  schema::ApiKeyCreatedT kc;
  kc.key_id = c.new_key_id;
  kc.role = RoleName(key->role);
  kc.key_hash = HashBytes(c.new_key);
  kc.label = key->label;
  created.payload.Set(std::move(kc));
  a.events.push_back(std::move(created));
  auto rotated = Draft(ctx, "key/" + c.key_id, key->version + 1);
  schema::ApiKeyRotatedT kr;
  kr.key_id = c.key_id;
  kr.new_key_id = c.new_key_id;
  kr.expires_us = expires;
  rotated.payload.Set(std::move(kr));
  a.events.push_back(std::move(rotated));
  a.reply = {{"id", c.new_key_id},   {"role", RoleName(key->role)},
             {"label", key->label},  {"key", c.new_key},
             {"replaces", c.key_id}, {"replaced_key_expires", FormatUtc(expires)}};
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

Decision DecideSetRetentionRule(const TenantModel& m, const Context& ctx, const SetRetentionRule& c) {
  if (c.days && (*c.days < 0 || *c.days > kMaxRetentionDays)) {
    return Reject(Refusal::kUnprocessable, "validation_failed", "days must be between 0 and 3650, or null",
                  {{"fields", nlohmann::json::array(
                                  {{{"field", "days"}, {"problem", "between 0 and 3650, or null"}}})}});
  }
  schema::RetentionRuleSetT e;
  e.days = c.days.value_or(-1);
  Acceptance a;
  // The stream's version is the record's position: the rule has no other
  // version to keep in the write model.
  auto d = Draft(ctx, "tenant/retention", m.position() + 1);
  d.payload.Set(e);
  a.events.push_back(std::move(d));
  a.reply = {{"days", c.days ? nlohmann::json(*c.days) : nlohmann::json(nullptr)}};
  return a;
}

Decision DecideRecordFunnel(const TenantModel& m, const Context& ctx, const RecordFunnel& c) {
  if (c.to < c.from || c.entries.size() > kMaxFunnelEntries) {
    return Reject(Refusal::kUnprocessable, "validation_failed",
                  "a funnel count needs from <= to and few entries");
  }
  schema::FunnelCountedT e;
  e.from_us = c.from;
  e.to_us = c.to;
  for (const auto& in : c.entries) {
    if (m.FindResource(ResourceId(in.resource)) == nullptr || in.refusals.size() > kMaxFunnelCodes) continue;
    auto entry = std::make_unique<schema::FunnelEntryT>();
    entry->resource_id = in.resource;
    entry->views = in.views;
    entry->attempts = in.attempts;
    for (const auto& [code, n] : in.refusals) {
      auto r = std::make_unique<schema::FunnelRefusalT>();
      r->code = code.substr(0, 64);
      r->count = n;
      entry->refusals.push_back(std::move(r));
    }
    e.entries.push_back(std::move(entry));
  }
  if (e.entries.empty()) return Reject(Refusal::kUnprocessable, "validation_failed", "nothing to record");
  Acceptance a;
  a.reply = {{"entries", e.entries.size()}};
  auto d = Draft(ctx, "tenant/funnel", m.position() + 1);
  d.payload.Set(std::move(e));
  a.events.push_back(std::move(d));
  return a;
}

Decision DecideSignCheckpoint(const TenantModel& m, const Context& ctx, const SignCheckpoint& c) {
  // Any position up to the head: commands decided since the head was read
  // do not make the signed (position, hash) less true.
  if (c.position == 0 || c.position > m.position() || c.head_hash.size() != 32 || c.root_hash.size() != 32) {
    return Reject(Refusal::kUnprocessable, "invalid_checkpoint", "a checkpoint covers a position of the log",
                  {{"position", m.position()}});
  }
  Acceptance a;
  auto d = Draft(ctx, "checkpoint", m.checkpoints() + 1);
  schema::CheckpointSignedT e;
  e.position = c.position;
  e.head_hash.assign(c.head_hash.begin(), c.head_hash.end());
  e.root_hash.assign(c.root_hash.begin(), c.root_hash.end());
  e.note = c.note;
  e.verifier_key = c.verifier_key;
  d.payload.Set(std::move(e));
  a.events.push_back(std::move(d));
  a.reply = {{"position", c.position}, {"note", c.note}};
  return a;
}

}  // namespace saalbuch::commands::detail
