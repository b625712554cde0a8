// Decisions about a placed booking: cancelling it or its series, approving,
// rejecting, confirming, completing, rescheduling, expiring holds, and
// recording sent notifications.
#include <algorithm>

#include "commands/decide_internal.h"
#include "common/crypto.h"
#include "common/time_json.h"

namespace saalbuch::commands::detail {
namespace {

using nlohmann::json;

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

}  // namespace

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
  EndBookingMoney(m, ctx, *b, CancellationFee(m, ctx, *b, c.waive_fee), c.reason, numbers, &a.events,
                  &a.reply);
  return a;
}

Decision DecideQuoteCancellation(const TenantModel& m, const Context& ctx, const QuoteCancellation& c) {
  Decision cancel = DecideCancelBooking(m, ctx, c.cancel);
  if (auto* r = std::get_if<Rejection>(&cancel); r != nullptr && r->refusal == Refusal::kNotFound) {
    return *r;  // the caller may not see this booking: no quote either
  }
  const Booking* b = m.FindBooking(c.cancel.id);
  json quote = {{"booking", b->id.get()}, {"number", b->number},          {"status", StatusName(b->status)},
                {"allowed", false},       {"refusal", nullptr},           {"fee_percent", 0},
                {"fee", nullptr},         {"credit_note_total", nullptr}, {"refund_total", nullptr},
                {"invoice", nullptr}};
  if (auto* r = std::get_if<Rejection>(&cancel)) {
    quote["refusal"] = {{"code", r->code}, {"message", r->message}, {"details", r->details}};
  } else {
    // Summarised from the cancel's own decision, which is then discarded:
    // the quote and the cancel cannot disagree on the arithmetic.
    const Acceptance& a = std::get<Acceptance>(cancel);
    quote["allowed"] = true;
    quote["fee_percent"] = CancellationFee(m, ctx, *b, c.cancel.waive_fee) / 100.0;
    if (const json* inv = a.reply.contains("invoice") ? &a.reply["invoice"] : nullptr) {
      const std::string& currency = m.books().settings().currency;
      std::int64_t credited = 0, refunded = 0;
      for (const auto& ev : a.events) {
        if (const auto* note = ev.payload.AsCreditNoteIssued()) credited += note->gross;
        if (const auto* refund = ev.payload.AsRefundRequested()) refunded += refund->amount;
      }
      quote["fee_percent"] = (*inv)["fee_percent"];
      quote["fee"] = (*inv)["fee"];
      quote["credit_note_total"] = {{"amount", credited}, {"currency", currency}};
      quote["refund_total"] = {{"amount", refunded}, {"currency", currency}};
      quote["invoice"] = {{"id", (*inv)["id"]}, {"number", (*inv)["number"]}};
    }
  }
  Acceptance a;  // no events: nothing is appended
  a.reply = std::move(quote);
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
    EndBookingMoney(m, ctx, *b, CancellationFee(m, ctx, *b, false), c.reason, numbers, &a.events, &one);
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
  auto priced = PriceBooking(m, *b, b->placed_at);
  if (auto* r = std::get_if<Rejection>(&priced)) return *r;
  const std::vector<Line>& price = std::get<std::vector<Line>>(priced);
  if (auto r = RecipientMissing(m, *b, price)) return *r;
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
    auto lines = PriceBooking(m, priced, b->placed_at);
    if (auto* r = std::get_if<Rejection>(&lines)) return *r;
    const std::int64_t now_price = Sum(std::get<std::vector<Line>>(lines)).gross;
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
    EndBookingMoney(m, ctx, *b, 0, "hold expired", numbers, &a.events, &money);
    expired.push_back(id.get());
  }
  a.reply = {{"expired", expired}};
  return a;
}

Decision DecideRecordNotification(const TenantModel& m, const Context& ctx, const RecordNotification& c) {
  Acceptance a;
  a.reply = {{"notification", c.id}, {"recorded", !m.NotificationSent(c.id)}};
  if (m.NotificationSent(c.id)) return a;  // already recorded: nothing to add
  if (!c.account.empty()) {
    if (m.FindAccount(c.account) == nullptr)
      return Reject(Refusal::kNotFound, "not_found", "no such account");
  } else if (m.FindBooking(c.booking) == nullptr) {
    return Reject(Refusal::kNotFound, "not_found", "no such booking");
  }
  auto d = Draft(ctx, "notification/" + c.id, 1);
  schema::NotificationSentT e;
  e.notification_id = c.id;
  e.booking_id = c.booking.get();
  e.kind = c.kind;
  d.payload.Set(std::move(e));
  a.events.push_back(std::move(d));
  return a;
}

}  // namespace saalbuch::commands::detail
