// The outbox projection ('O'): notifications to send, one per booking event of a booking
// whose placement carried contact data. "Oq" ‖ id → {"id","booking","kind",
// "due"} (µs); "Ob" ‖ booking → "" marks bookings with contact data; "Oe" ‖
// booking → the id of its pending "expiring" reminder. NotificationSent
// removes an entry.
#include <cstdio>

#include "projections/fold_internal.h"

namespace saalbuch::projections {

using nlohmann::json;

Status FoldOutbox(const TenantId& t, Seq seq, const schema::Envelope& env, Txn* txn) {
  char num[32];
  std::snprintf(num, sizeof num, "n-%020llu", static_cast<unsigned long long>(seq));
  const TimeUs at = env.recorded_at_us();
  auto has_contact = [&](const std::string& booking) -> Result<bool> {
    auto v = txn->Get(Key(t, 'O', "b" + booking));
    if (!v.ok()) return v.status();
    return v->has_value();
  };
  auto enqueue = [&](const std::string& booking, const std::string& kind, TimeUs due,
                     const std::string& suffix) {
    std::string id = num + suffix;
    txn->Put(Key(t, 'O', "q" + id),
             json{{"id", id}, {"booking", booking}, {"kind", kind}, {"due", due}}.dump());
    return id;
  };
  // Drops a pending expiring reminder (the hold ended some other way).
  auto drop_expiring = [&](const std::string& booking) -> Status {
    auto pending = txn->Get(Key(t, 'O', "e" + booking));
    if (!pending.ok()) return pending.status();
    if (pending->has_value()) {
      txn->Delete(Key(t, 'O', "q" + **pending));
      txn->Delete(Key(t, 'O', "e" + booking));
    }
    return Status::Ok();
  };
  auto held = [&](const std::string& booking, TimeUs hold_until) {
    // A reminder when three quarters of the hold have passed.
    const std::string id = enqueue(booking, "expiring", hold_until - (hold_until - at) / 4, "-expiring");
    txn->Put(Key(t, 'O', "e" + booking), id);
  };
  auto transition = [&](const std::string& booking, const char* kind, bool ends_hold) -> Status {
    auto c = has_contact(booking);
    if (!c.ok()) return c.status();
    if (!*c) return Status::Ok();
    if (ends_hold) {
      if (Status s = drop_expiring(booking); !s.ok()) return s;
    }
    enqueue(booking, kind, at, "");
    return Status::Ok();
  };
  switch (env.payload_type()) {
    case schema::Payload::BookingPlaced: {
      const auto* e = env.payload_as_BookingPlaced();
      if (Str(e->person_id()).empty() || e->personal() == nullptr) break;
      const std::string id = Str(e->booking_id());
      txn->Put(Key(t, 'O', "b" + id), "");
      const std::string status = Str(e->status());
      enqueue(id, status == "requested" ? "received" : status == "held" ? "held" : "confirmed", at, "");
      if (status == "held") held(id, e->hold_until_us());
      break;
    }
    case schema::Payload::BookingApproved: {
      const auto* e = env.payload_as_BookingApproved();
      if (Status s = transition(Str(e->booking_id()), "approved", false); !s.ok()) return s;
      auto c = has_contact(Str(e->booking_id()));
      if (!c.ok()) return c.status();
      if (*c && Str(e->status()) == "held") held(Str(e->booking_id()), e->hold_until_us());
      break;
    }
    case schema::Payload::BookingRejected:
      return transition(Str(env.payload_as_BookingRejected()->booking_id()), "rejected", true);
    case schema::Payload::BookingConfirmed:
      return transition(Str(env.payload_as_BookingConfirmed()->booking_id()), "confirmed", true);
    case schema::Payload::BookingCancelled:
      return transition(Str(env.payload_as_BookingCancelled()->booking_id()), "cancelled", true);
    case schema::Payload::BookingExpired:
      return transition(Str(env.payload_as_BookingExpired()->booking_id()), "expired", true);
    case schema::Payload::BookingRescheduled:
      return transition(Str(env.payload_as_BookingRescheduled()->booking_id()), "rescheduled", false);
    case schema::Payload::NotificationSent: {
      const auto* e = env.payload_as_NotificationSent();
      txn->Delete(Key(t, 'O', Cat("q", Str(e->notification_id()))));
      if (Str(e->kind()) == "expiring") txn->Delete(Key(t, 'O', Cat("e", Str(e->booking_id()))));
      break;
    }
    default:
      break;
  }
  return Status::Ok();
}

}  // namespace saalbuch::projections
