// Decisions that place bookings, one or a series, and the capacity check
// behind them (invariant 1: see commands/README.md). A priced booking is
// invoiced at once through decide_money.cc.
#include <algorithm>
#include <set>

#include "commands/decide_internal.h"
#include "common/crypto.h"
#include "common/time_json.h"

namespace saalbuch::commands::detail {
namespace {

using nlohmann::json;

// Hard limits that hold whatever a resource's rules say (with
// kMaxBookingDuration), so that no single booking makes the writer walk
// years of opening hours.
constexpr TimeUs kMaxHorizon = 5LL * 366 * 24 * 3600 * kUsPerSecond;
constexpr std::size_t kMaxOccurrences = 200;

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

json AddonsJson(const std::vector<AddonLine>& lines) {
  json out = json::array();
  for (const auto& l : lines) out.push_back({{"addon", l.addon}, {"quantity", l.quantity}});
  return out;
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
  e.recipient.assign(c.recipient.begin(), c.recipient.end());
  d.payload.Set(std::move(e));
  return d;
}

// Prices a planned booking. A priced booking of a booker (not through a
// staff key) that would be confirmed is held until it is paid.
std::variant<std::vector<Line>, Rejection> PriceAndHold(const TenantModel& m, const Context& ctx,
                                                        const PlaceBooking& c, Booking* b) {
  auto priced = PriceBooking(m, *b, ctx.now);
  if (std::holds_alternative<Rejection>(priced)) return priced;
  const std::vector<Line>& lines = std::get<std::vector<Line>>(priced);
  if (auto r = RecipientMissing(m, *b, lines)) return *r;
  if (NeedsPayment(lines, c.by_staff) && b->status == BookingStatus::kConfirmed) {
    b->status = BookingStatus::kHeld;
    b->hold_until = ctx.now + m.hold();
  }
  return priced;
}

}  // namespace

std::variant<Booking, Rejection> PlanBooking(const TenantModel& m, const Context& ctx, const PlaceBooking& c,
                                             const Booker& who, const BookingId& exclude,
                                             const std::vector<Booking>& pending) {
  const Resource* res = m.FindResource(c.resource);
  if (res == nullptr) {
    return Reject(Refusal::kNotFound, "not_found", "no such resource", {{"resource", c.resource.get()}});
  }
  if (c.personal.size() > std::size_t{16} * 1024 || (c.person.empty() != c.personal.empty()) ||
      c.recipient.size() > std::size_t{4} * 1024 || (c.person.empty() && !c.recipient.empty())) {
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
  b.recipient = c.recipient;
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
          if ((p.resource == res->id || m.RightsScope(p.resource) == m.RightsScope(res->id)) &&
              d >= period->first && d <= period->second) {
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

  // A price beyond the largest amount is refused before anything is booked.
  if (auto price = PriceBooking(m, b, ctx.now); std::holds_alternative<Rejection>(price)) {
    return std::get<Rejection>(std::move(price));
  }

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
  if (std::uint64_t{in_use} + b.units > capacity) {
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
    if (std::uint64_t{used} + line.quantity > a->stock) {
      return Reject(Refusal::kConflict, "addon_unavailable", "not enough of an add-on is left for this time",
                    {{"addon", line.addon},
                     {"stock", a->stock},
                     {"available", used >= a->stock ? 0 : a->stock - used},
                     {"requested", line.quantity}});
    }
  }
  return b;
}

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

void InvoicePlaced(const TenantModel& m, const Context& ctx, const Booking& b, const std::vector<Line>& lines,
                   DocNumbers& numbers, Acceptance* a, json* reply) {
  if (Sum(lines).gross <= 0 || b.status == BookingStatus::kRequested) return;
  const TimeUs due = b.status == BookingStatus::kHeld
                         ? b.hold_until
                         : ctx.now + m.books().settings().payment_terms_days * 24LL * 3600 * kUsPerSecond;
  a->events.push_back(InvoiceEvent(m, ctx, b, lines, due, numbers, reply));
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
  auto priced = PriceAndHold(m, ctx, c, &b);
  if (auto* r = std::get_if<Rejection>(&priced)) return *r;
  const std::vector<Line>& price = std::get<std::vector<Line>>(priced);
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
      auto priced = PriceAndHold(m, ctx, c.first, &b);
      if (auto* r = std::get_if<Rejection>(&priced)) return *r;  // PlanBooking priced it: never
      prices.push_back(std::get<std::vector<Line>>(std::move(priced)));
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
    // Nothing was booked: an occurrence that could have been has no
    // booking, status or number (the numbers go to the next bookings).
    for (auto& o : outcomes) {
      if (o["outcome"] != "booked") continue;
      o["outcome"] = "not_booked";
      o.erase("booking");
      o.erase("number");
      o.erase("status");
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

}  // namespace saalbuch::commands::detail
