// The usage projection ('U'): per month, resource and customer group what
// was booked and what happened to it, and the revenue invoiced for it; the
// statistics of staff and finance (usage_queries.cc). No personal data: it
// keeps ids of resources, groups, bookings and invoices and counts.
//
// Keys (after the tenant prefix and 'U'):
//   "t"                          the tenant's zone
//   "b<booking>"                 {"r","g","m","min","u","on","net","gross",
//                                "cur"}: resource, group, month of its start,
//                                minutes, units, whether its time is counted
//                                as booked, its revenue so far
//   "i<invoice>"                 the booking an invoice is for
//   "m<YYYY-MM>/<resource>/<group>"  the month's counts (named in projections/README.md)
//   "f<YYYY-MM>/<resource>"      the month's public booking funnel: {"views",
//                                "attempts","refused":{code: n},"booked",
//                                "paid"}
//
// A booking's time counts as booked while it is confirmed (also once
// completed or a no-show), in the month of its start in the tenant's zone;
// moving it moves its time. Events are counted in the month of the
// booking's start when they happen: placed, approved, rejected, expired,
// cancelled, no_show. Revenue: an invoice's net and gross add to its
// booking's row, a credit note's subtract, and it moves with the booking
// (the service month, not the document date the books use).
//
// The funnel: views, attempts and refusals as the server counted them
// (FunnelCounted, in the month its count began), bookings the public placed
// ("booked", in the month they were placed) and payments captured for them
// ("paid", in the month of the capture) — counts only.
#include "common/time.h"
#include "projections/fold_internal.h"

namespace saalbuch::projections {

using nlohmann::json;

namespace {

// The group a booking is counted under: its customer group, "public", or
// "internal" for staff's own bookings.
std::string GroupOf(const std::string& group) { return group.empty() ? "internal" : group; }

class UsageFold {
 public:
  UsageFold(const TenantId& t, Txn* txn) : t_(t), txn_(txn) {}

  Status Placed(const schema::BookingPlaced& e) {
    auto zone = TenantZone();
    if (!zone.ok()) return zone.status();
    const std::string status = Str(e.status()).empty() ? "confirmed" : Str(e.status());
    json b = {{"r", Str(e.resource_id())},
              {"g", GroupOf(Str(e.group_id()))},
              {"m", Month(e.start_us(), *zone)},
              {"min", (e.end_us() - e.start_us()) / kUsPerMinute},
              {"u", std::max<std::uint32_t>(1, e.units())},
              {"on", false}};
    if (Status s = Count(b, "placed", 1); !s.ok()) return s;
    if (Str(e.channel()) == "public") {
      b["pub"] = true;
      if (Status s =
              Funnel(Month(now_, *zone), b["r"].get<std::string>(), [](json& row) { Inc(row, "booked", 1); });
          !s.ok())
        return s;
    }
    if (status == "confirmed") {
      if (Status s = Book(b, true); !s.ok()) return s;
    }
    txn_->Put(Key(t_, 'U', "b" + Str(e.booking_id())), b.dump());
    return Status::Ok();
  }

  // An event of a booking: counts `counter` (if not empty) and books or
  // unbooks its time (`booked`: nullopt leaves it).
  Status Changed(const std::string& booking, const char* counter, std::optional<bool> booked) {
    const std::string key = Key(t_, 'U', "b" + booking);
    auto b = GetJson(txn_, key);
    if (!b.ok()) return b.status();
    if (b->is_null()) return Status::Ok();
    if (counter != nullptr) {
      if (Status s = Count(*b, counter, 1); !s.ok()) return s;
    }
    if (booked && *booked != b->value("on", false)) {
      if (Status s = Book(*b, *booked); !s.ok()) return s;
      txn_->Put(key, b->dump());
    }
    return Status::Ok();
  }

  Status Rescheduled(const schema::BookingRescheduled& e) {
    const std::string key = Key(t_, 'U', "b" + Str(e.booking_id()));
    auto b = GetJson(txn_, key);
    if (!b.ok()) return b.status();
    if (b->is_null()) return Status::Ok();
    auto zone = TenantZone();
    if (!zone.ok()) return zone.status();
    const bool on = b->value("on", false);
    const std::int64_t net = b->value("net", std::int64_t{0}), gross = b->value("gross", std::int64_t{0});
    if (on) {
      if (Status s = Book(*b, false); !s.ok()) return s;
    }
    if (Status s = AddRevenue(*b, -net, -gross); !s.ok()) return s;
    (*b)["m"] = Month(e.start_us(), *zone);
    (*b)["min"] = (e.end_us() - e.start_us()) / kUsPerMinute;
    if (on) {
      if (Status s = Book(*b, true); !s.ok()) return s;
    }
    if (Status s = AddRevenue(*b, net, gross); !s.ok()) return s;
    txn_->Put(key, b->dump());
    return Status::Ok();
  }

  Status Invoiced(const schema::InvoiceIssued& e) {
    const std::string booking = Str(e.booking_id());
    txn_->Put(Key(t_, 'U', "i" + Str(e.invoice_id())), booking);
    return Revenue(booking, e.net(), e.gross(), Str(e.currency()));
  }

  Status Credited(const schema::CreditNoteIssued& e) {
    auto booking = txn_->Get(Key(t_, 'U', "i" + Str(e.invoice_id())));
    if (!booking.ok()) return booking.status();
    if (!booking->has_value()) return Status::Ok();
    return Revenue(**booking, -e.net(), -e.gross(), "");
  }

  Status Counted(const schema::FunnelCounted& e) {
    auto zone = TenantZone();
    if (!zone.ok()) return zone.status();
    const std::string month = Month(e.from_us(), *zone);
    if (e.entries() == nullptr) return Status::Ok();
    for (const auto* entry : *e.entries()) {
      Status s = Funnel(month, Str(entry->resource_id()), [&](json& row) {
        Inc(row, "views", entry->views());
        Inc(row, "attempts", entry->attempts());
        if (entry->refusals() == nullptr) return;
        json& refused = row["refused"];
        if (!refused.is_object()) refused = json::object();
        for (const auto* r : *entry->refusals()) Inc(refused, Str(r->code()).c_str(), r->count());
      });
      if (!s.ok()) return s;
    }
    return Status::Ok();
  }

  // A payment captured for a booking the public placed.
  Status Paid(const schema::PaymentCaptured& e) {
    auto booking = txn_->Get(Key(t_, 'U', "i" + Str(e.invoice_id())));
    if (!booking.ok()) return booking.status();
    if (!booking->has_value()) return Status::Ok();
    auto b = GetJson(txn_, Key(t_, 'U', "b" + **booking));
    if (!b.ok()) return b.status();
    if (b->is_null() || !b->value("pub", false)) return Status::Ok();
    auto zone = TenantZone();
    if (!zone.ok()) return zone.status();
    return Funnel(Month(now_, *zone), (*b)["r"].get<std::string>(), [](json& row) { Inc(row, "paid", 1); });
  }

  void SetNow(TimeUs now) { now_ = now; }
  void SetZone(const std::string& zone) { txn_->Put(Key(t_, 'U', "t"), zone); }

 private:
  Result<const saalbuch::Zone*> TenantZone() {
    auto z = txn_->Get(Key(t_, 'U', "t"));
    if (!z.ok()) return z.status();
    const Zone* zone = z->has_value() ? ZoneOf(**z) : nullptr;
    return zone != nullptr ? zone : UtcZone();
  }

  static std::string Month(TimeUs t, const Zone* zone) {
    return FormatLocalDay(LocalDayOf(t, zone)).substr(0, 7);
  }

  std::string RowKey(const json& b) const {
    return Key(
        t_, 'U',
        "m" + b["m"].get<std::string>() + "/" + b["r"].get<std::string>() + "/" + b["g"].get<std::string>());
  }

  // Adds to counters of the booking's row.
  Status Add(const json& b, const std::function<void(json&)>& change) { return Update(RowKey(b), change); }

  // Changes the funnel row of `month` and `resource`.
  Status Funnel(const std::string& month, const std::string& resource,
                const std::function<void(json&)>& change) {
    return Update(Key(t_, 'U', "f" + month + "/" + resource), change);
  }

  // Changes the row at `key` (an empty object when there is none yet).
  Status Update(const std::string& key, const std::function<void(json&)>& change) {
    auto row = GetJson(txn_, key);
    if (!row.ok()) return row.status();
    if (row->is_null()) *row = json::object();
    change(*row);
    txn_->Put(key, row->dump());
    return Status::Ok();
  }

  static void Inc(json& row, const char* counter, std::int64_t n) {
    row[counter] = row.value(counter, std::int64_t{0}) + n;
  }

  Status Count(const json& b, const char* counter, std::int64_t n) {
    return Add(b, [&](json& row) { row[counter] = row.value(counter, std::int64_t{0}) + n; });
  }

  // Counts (or uncounts) the booking's time as booked.
  Status Book(json& b, bool on) {
    const std::int64_t sign = on ? 1 : -1;
    const std::int64_t minutes = b["min"].get<std::int64_t>();
    const std::int64_t units = b["u"].get<std::int64_t>();
    b["on"] = on;
    return Add(b, [&](json& row) {
      row["bookings"] = row.value("bookings", std::int64_t{0}) + sign;
      row["booked_minutes"] = row.value("booked_minutes", std::int64_t{0}) + sign * minutes;
      row["unit_minutes"] = row.value("unit_minutes", std::int64_t{0}) + sign * minutes * units;
    });
  }

  // Adds revenue to the booking (which carries it along when moved) and to its row.
  Status Revenue(const std::string& booking, std::int64_t net, std::int64_t gross,
                 const std::string& currency) {
    const std::string key = Key(t_, 'U', "b" + booking);
    auto b = GetJson(txn_, key);
    if (!b.ok()) return b.status();
    if (b->is_null()) return Status::Ok();
    (*b)["net"] = b->value("net", std::int64_t{0}) + net;
    (*b)["gross"] = b->value("gross", std::int64_t{0}) + gross;
    if (!currency.empty()) (*b)["cur"] = currency;
    txn_->Put(key, b->dump());
    return AddRevenue(*b, net, gross);
  }

  Status AddRevenue(const json& b, std::int64_t net, std::int64_t gross) {
    return Add(b, [&](json& row) {
      row["net"] = row.value("net", std::int64_t{0}) + net;
      row["gross"] = row.value("gross", std::int64_t{0}) + gross;
      if (b.contains("cur")) row["currency"] = b["cur"];
    });
  }

  const TenantId& t_;
  Txn* txn_;
  TimeUs now_ = 0;  // when the record was made
};

}  // namespace

Status FoldUsage(const TenantId& t, const schema::Envelope& env, Txn* txn) {
  UsageFold u(t, txn);
  u.SetNow(env.recorded_at_us());
  switch (env.payload_type()) {
    case schema::Payload::TenantCreated:
      u.SetZone(ZoneText(*env.payload_as_TenantCreated()));
      return Status::Ok();
    case schema::Payload::BookingPlaced:
      return u.Placed(*env.payload_as_BookingPlaced());
    case schema::Payload::BookingApproved: {
      const auto* e = env.payload_as_BookingApproved();
      const bool confirmed = Str(e->status()) != "held";
      return u.Changed(Str(e->booking_id()), "approved", confirmed ? std::optional(true) : std::nullopt);
    }
    case schema::Payload::BookingConfirmed:
      return u.Changed(Str(env.payload_as_BookingConfirmed()->booking_id()), nullptr, true);
    case schema::Payload::BookingRejected:
      return u.Changed(Str(env.payload_as_BookingRejected()->booking_id()), "rejected", false);
    case schema::Payload::BookingExpired:
      return u.Changed(Str(env.payload_as_BookingExpired()->booking_id()), "expired", false);
    case schema::Payload::BookingCancelled:
      return u.Changed(Str(env.payload_as_BookingCancelled()->booking_id()), "cancelled", false);
    case schema::Payload::BookingCompleted: {
      const auto* e = env.payload_as_BookingCompleted();
      const bool no_show = Str(e->outcome()) == "no_show";
      return u.Changed(Str(e->booking_id()), no_show ? "no_show" : nullptr, std::nullopt);
    }
    case schema::Payload::BookingRescheduled:
      return u.Rescheduled(*env.payload_as_BookingRescheduled());
    case schema::Payload::InvoiceIssued:
      return u.Invoiced(*env.payload_as_InvoiceIssued());
    case schema::Payload::CreditNoteIssued:
      return u.Credited(*env.payload_as_CreditNoteIssued());
    case schema::Payload::FunnelCounted:
      return u.Counted(*env.payload_as_FunnelCounted());
    case schema::Payload::PaymentCaptured:
      return u.Paid(*env.payload_as_PaymentCaptured());
    default:
      return Status::Ok();
  }
}

}  // namespace saalbuch::projections
