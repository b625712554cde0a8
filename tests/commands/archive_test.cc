// Archiving (TenantModel::kArchiveAfter): a booking whose blocked time ended
// more than 400 days before the newest placement leaves the write model.
// The model then holds the working set instead of every booking ever
// placed, and no decision about anything else may change: a random history
// of three years is decided by an archiving model and by one that keeps
// every booking, and both must say exactly the same. Commands naming an
// archived booking get not_found.

#include <gtest/gtest.h>

#include <random>

#include "commands/snapshot.h"
#include "tests/commands/decide_fixture.h"

namespace saalbuch::commands {
namespace {

constexpr TimeUs kArchive = TenantModel::kArchiveAfter;

class ArchiveTest : public DecideFixture {
 protected:
  // Decides `cmd` on the archiving model and on the one keeping everything;
  // both must decide alike, and accepted events go to both.
  Decision Step(const Command& cmd, TimeUs now, const std::string& actor = "key:admin") {
    Decision d = DecideWithTwin(all_, cmd, now, actor, "with archiving");
    if (auto* a = std::get_if<Acceptance>(&d)) {
      for (const auto& ev : a->events) {
        if (const auto* r = ev.payload.AsRefundRequested()) refunds_.push_back(r->refund_id);
      }
    }
    return d;
  }

  void Must(const Command& cmd, TimeUs now) {
    const Decision d = Step(cmd, now);
    if (const auto* r = std::get_if<Rejection>(&d))
      ADD_FAILURE() << CommandName(cmd) << " refused: " << r->code << " " << r->message;
  }

  void MakeTown() {
    Must(CreateTenant{TenantId("stadt"), "Stadt Musterhausen", "Europe/Berlin", "admin", "admin-secret"},
         now_);
    Rules rules = OpenDays(1, 7, 7 * 60, 22 * 60);
    rules.buffer_before = 15 * kMinute;
    rules.buffer_after = 15 * kMinute;
    rules.horizon = 90 * kDay;
    for (const auto& [id, kind, cap] : {std::tuple{"saal", "room", 1}, std::tuple{"tablets", "pool", 4},
                                        std::tuple{"vereinsraum", "room", 1}}) {
      CreateResource c;
      c.id = ResourceId(id);
      c.kind = kind;
      c.name = id;
      c.capacity = static_cast<std::uint32_t>(cap);
      c.rules = rules;
      Must(c, now_);
    }
    Must(DefineGroup{"verein", "Vereine"}, now_);
    for (int i = 0; i < 4; ++i) {
      Must(RegisterCustomer{"cu" + std::to_string(i), "verein", "sbc_cu" + std::to_string(i)}, now_);
    }
    Right r;
    r.id = "r-verein";
    r.resource = ResourceId("vereinsraum");
    r.group = "verein";
    r.needs_approval = true;
    r.quota = 6 * kHour;
    r.quota_period = "month";
    r.valid_from = now_;
    Must(GrantRight{r}, now_);
  }

  // Rooms cost 50 EUR a booking: bookers' bookings are held until paid,
  // staff bookings invoiced at once.
  void PriceRooms() {
    SetTariff t;
    t.id = "saal";
    t.target = "resource/saal";
    t.currency = "EUR";
    t.version.unit = TariffUnit::kBooking;
    t.version.amount = 5000;
    t.version.gross = true;
    t.version.tax_rate_bp = 1900;
    Must(t, now_);
  }

  // An invoice the archiving model still holds (sorted ids: a pick does not
  // depend on a hash map's order).
  const Invoice* LiveInvoice() {
    std::vector<std::string> ids;
    for (const auto& [id, inv] : model_.books().invoices()) ids.push_back(id);
    if (ids.empty()) return nullptr;
    std::sort(ids.begin(), ids.end());
    return model_.books().FindInvoice(ids[rng_() % ids.size()]);
  }

  void RandomMoney(TimeUs now) {
    const unsigned pick = rng_() % 4;
    if (pick < 2) {
      const Invoice* inv = LiveInvoice();
      if (inv == nullptr || inv->open() <= 0) return;
      RecordPayment p;
      p.invoice = inv->id;
      p.reference = "KZ-" + std::to_string(++payments_);
      p.method = "bank_transfer";
      p.amount = inv->open() + (rng_() % 5 == 0 ? 700 : 0);  // now and then too much
      p.currency = "EUR";
      p.received = now;
      Step(p, now);
    } else if (pick == 2) {
      const Invoice* inv = LiveInvoice();
      if (inv == nullptr || inv->kept() <= 0) return;
      Step(RefundInvoice{inv->id, 1 + static_cast<std::int64_t>(rng_() % inv->kept()), "Kulanz"}, now);
    } else {
      std::vector<std::string> under_way;
      for (const auto& id : refunds_) {
        const Refund* r = model_.books().FindRefund(id);
        if (r != nullptr && (r->state == RefundState::kRequested || r->state == RefundState::kSubmitted))
          under_way.push_back(id);
      }
      if (under_way.empty()) return;
      Step(CompleteRefund{under_way[rng_() % under_way.size()], rng_() % 4 == 0, "erledigt", now}, now);
    }
  }

  PlaceBooking RandomBooking(TimeUs now) {
    static const char* const kResources[] = {"saal", "saal", "tablets", "vereinsraum"};
    PlaceBooking p;
    p.id = BookingId("b" + std::to_string(++placed_));
    p.resource = ResourceId(kResources[rng_() % 4]);
    const TimeUs day = (now / kDay + 1 + static_cast<TimeUs>(rng_() % 30)) * kDay;
    const TimeUs start = day + static_cast<TimeUs>(6 + rng_() % 12) * kHour;
    p.range = {start, start + static_cast<TimeUs>(1 + rng_() % 3) * kHour};
    if (p.resource.get() == "tablets") p.units = 1 + rng_() % 3;
    if (p.resource.get() == "vereinsraum") {
      p.customer_token = "sbc_cu" + std::to_string(rng_() % 4);
    } else if (rng_() % 2 == 0) {
      p.by_staff = true;
      p.hold = rng_() % 4 == 0;
    }
    p.manage_token = "mt-" + p.id.get();
    return p;
  }

  // A booking the archiving model still holds, for which `pred` holds.
  template <typename Pred>
  std::optional<BookingId> Live(Pred pred) {
    std::vector<BookingId> found;
    for (int i = 1; i <= placed_; ++i) {
      const Booking* b = model_.FindBooking(BookingId("b" + std::to_string(i)));
      if (b != nullptr && pred(*b)) found.push_back(b->id);
    }
    if (found.empty()) return std::nullopt;
    return found[rng_() % found.size()];
  }

  void RandomCommand(TimeUs now) {
    const unsigned pick = rng_() % 100;
    if (pick < 15) {
      RandomMoney(now);
    } else if (pick < 45) {
      Step(RandomBooking(now), now, "public");
    } else if (pick < 50) {
      PlaceSeries s;
      s.id = "serie-" + std::to_string(++series_);
      s.first = RandomBooking(now);
      s.first.resource = ResourceId("saal");
      s.first.customer_token.clear();
      s.first.by_staff = true;
      s.first.hold = false;
      s.rrule = "FREQ=WEEKLY;COUNT=3";
      for (int k = 0; k < 3; ++k) {
        s.occurrences.push_back({s.first.range.start + k * 7 * kDay, s.first.range.end + k * 7 * kDay});
        s.ids.push_back(BookingId(s.id + "-" + std::to_string(k)));
      }
      s.skip_conflicts = true;
      Step(s, now);
    } else if (pick < 60) {
      if (auto id = Live([](const Booking& b) { return IsOpen(b.status); }))
        Step(CancelAsStaff(id->get()), now);
    } else if (pick < 70) {
      if (auto id = Live([&](const Booking& b) {
            return b.status == BookingStatus::kConfirmed && b.range.start <= now;
          })) {
        Step(CompleteBooking{*id, rng_() % 5 == 0, {}}, now);
      }
    } else if (pick < 78) {
      if (auto id = Live([](const Booking& b) { return IsOpen(b.status); })) {
        RescheduleBooking r;
        r.id = *id;
        r.by_staff = true;
        const TimeUs start = (now / kDay + 2 + static_cast<TimeUs>(rng_() % 20)) * kDay + 9 * kHour;
        r.range = {start, start + kHour};
        Step(r, now);
      }
    } else if (pick < 86) {
      if (auto id = Live([](const Booking& b) { return b.status == BookingStatus::kRequested; })) {
        if (rng_() % 4 == 0) {
          Step(RejectBooking{*id, "belegt", {}}, now);
        } else {
          Step(ApproveBooking{*id, "ok", {}}, now);
        }
      }
    } else if (pick < 92) {
      Step(ExpireHolds{}, now, "system");
    } else if (pick < 95) {
      const std::string id = "serie-" + std::to_string(1 + rng_() % std::max(1, series_));
      const CancelSeries cancel{id, now, "abgesagt", true, ""};
      if (model_.SeriesBookings(id).empty() && !all_.SeriesBookings(id).empty()) {
        // Every occurrence archived: the series is over, and not found.
        Decision d = Decide(model_, Ctx(now), cancel);
        const auto* r = std::get_if<Rejection>(&d);
        ASSERT_NE(r, nullptr);
        EXPECT_EQ(r->code, "not_found");
        ++archived_refusals_;
      } else {
        Step(cancel, now);
      }
    } else {
      // A booking that left the archiving model: not_found there (the other
      // model, keeping it, may decide anything; nothing is applied).
      std::vector<BookingId> gone;
      for (int i = 1; i <= placed_; ++i) {
        BookingId id("b" + std::to_string(i));
        if (model_.FindBooking(id) == nullptr && all_.FindBooking(id) != nullptr) gone.push_back(id);
      }
      std::vector<std::string> gone_invoices;
      for (const auto& [id, inv] : all_.books().invoices()) {
        if (model_.books().FindInvoice(id) == nullptr) gone_invoices.push_back(id);
      }
      if (!gone_invoices.empty()) {
        std::sort(gone_invoices.begin(), gone_invoices.end());
        RecordPayment p;
        p.invoice = gone_invoices[rng_() % gone_invoices.size()];
        p.reference = "KZ-late";
        p.method = "cash";
        p.amount = 100;
        p.currency = "EUR";
        Decision d = Decide(model_, Ctx(now), p);
        const auto* r = std::get_if<Rejection>(&d);
        ASSERT_NE(r, nullptr);
        EXPECT_EQ(r->code, "not_found");
        ++archived_refusals_;
      }
      if (gone.empty()) return;
      const BookingId id = gone[rng_() % gone.size()];
      for (const Command& cmd : {Command{CancelAsStaff(id.get())}, Command{CompleteBooking{id, false, {}}}}) {
        Decision d = Decide(model_, Ctx(now), cmd);
        const auto* r = std::get_if<Rejection>(&d);
        ASSERT_NE(r, nullptr);
        EXPECT_EQ(r->code, "not_found");
        ++archived_refusals_;
      }
    }
  }

  TenantModel all_{0};
  std::mt19937 rng_;
  int placed_ = 0;
  int series_ = 0;
  int archived_refusals_ = 0;
  int payments_ = 0;
  std::vector<std::string> refunds_;
  const TimeUs now_ = T("2026-01-05T08:00:00Z");
};

TEST_F(ArchiveTest, ThreeYearsDecideAlikeWithAndWithoutArchiving) {
  const unsigned seed = std::random_device{}();
  SCOPED_TRACE("seed " + std::to_string(seed));
  rng_.seed(seed);
  MakeTown();
  PriceRooms();
  TimeUs now = now_;
  for (int i = 1; i <= 6000 && !HasFailure(); ++i) {
    now += static_cast<TimeUs>(1 + rng_() % 8) * kHour;
    RandomCommand(now);
    if (i % 1000 == 0) {
      auto restored = DecodeSnapshot(EncodeSnapshot(model_, Sha256Of("head")));
      ASSERT_TRUE(restored.ok()) << restored.status().ToString();
      ASSERT_TRUE(*restored == model_) << "snapshot at command " << i;
    }
  }
  ASSERT_GT(now - now_, 2 * kArchive);
  // Whatever left the model ended before the archive's cutoff.
  std::vector<BookingId> ids;
  for (int i = 1; i <= placed_; ++i) ids.emplace_back("b" + std::to_string(i));
  for (int i = 1; i <= series_; ++i) {
    for (int k = 0; k < 3; ++k) ids.emplace_back("serie-" + std::to_string(i) + "-" + std::to_string(k));
  }
  std::size_t gone = 0;
  for (const BookingId& id : ids) {
    const Booking* b = all_.FindBooking(id);
    if (b == nullptr || model_.FindBooking(b->id) != nullptr) continue;
    ++gone;
    EXPECT_LT(b->blocked.end, model_.clock() - kArchive) << b->id.get();
    EXPECT_NE(b->status, BookingStatus::kHeld);
  }
  EXPECT_GT(gone, all_.booking_count() / 3);
  EXPECT_EQ(model_.booking_count() + gone, all_.booking_count());
  EXPECT_GT(archived_refusals_, 0);
  // Invoices left with their bookings once settled, with their payments and
  // refunds; the unsettled ones stayed.
  std::size_t invoices_gone = 0;
  for (const auto& [id, inv] : all_.books().invoices()) {
    if (model_.books().FindInvoice(id) != nullptr) continue;
    ++invoices_gone;
    EXPECT_EQ(model_.FindBooking(inv.booking), nullptr) << id;
    EXPECT_EQ(inv.open(), 0) << id;
    for (const auto& ref : inv.payments) {
      EXPECT_EQ(model_.books().FindPayment(ref), nullptr) << ref;
      for (const auto& refund : all_.books().RefundsOf(ref)) {
        EXPECT_EQ(model_.books().FindRefund(refund), nullptr) << refund;
        const RefundState state = all_.books().FindRefund(refund)->state;
        EXPECT_TRUE(state == RefundState::kSucceeded || state == RefundState::kFailed) << refund;
      }
    }
  }
  EXPECT_GT(invoices_gone, all_.books().invoices().size() / 4);
  for (const auto& [id, inv] : model_.books().invoices()) {
    if (model_.FindBooking(inv.booking) != nullptr) continue;
    bool refund_under_way = false;
    for (const auto& ref : inv.payments) {
      for (const auto& refund : model_.books().RefundsOf(ref)) {
        const RefundState state = model_.books().FindRefund(refund)->state;
        refund_under_way |= state == RefundState::kRequested || state == RefundState::kSubmitted;
      }
    }
    EXPECT_TRUE(inv.open() != 0 || refund_under_way) << id << " should have left";
  }
}

TEST_F(ArchiveTest, EndedBookingLeavesAfterFourHundredDaysAndIsNotFound) {
  MakeTown();
  Must(Place("alt", "saal", now_ + kDay, now_ + kDay + 2 * kHour, true), now_);
  Must(CompleteBooking{BookingId("alt"), false, {}}, now_ + kDay + 3 * kHour);
  // 399 days after its end: still there.
  const TimeUs t1 = now_ + kDay + 2 * kHour + 15 * kMinute + kArchive - kDay;
  Must(Place("neu1", "saal", t1 + kDay, t1 + kDay + kHour, true), t1);
  ASSERT_NE(model_.FindBooking(BookingId("alt")), nullptr);
  // Two days later: archived, in the archiving model only.
  const TimeUs t2 = t1 + 2 * kDay;
  Must(Place("neu2", "saal", t2 + kDay, t2 + kDay + kHour, true), t2);
  EXPECT_EQ(model_.FindBooking(BookingId("alt")), nullptr);
  EXPECT_NE(all_.FindBooking(BookingId("alt")), nullptr);
  EXPECT_EQ(model_.booking_count(), 2u);
  const Rejection r = Refuse(CancelAsStaff("alt"), t2);
  EXPECT_EQ(r.code, "not_found");
  EXPECT_EQ(r.refusal, Refusal::kNotFound);
  // Numbering goes on from the log, not from the bookings held.
  EXPECT_EQ(model_.NextBookingNumber(2027), all_.NextBookingNumber(2027));
}

TEST_F(ArchiveTest, OpenBookingLongOverIsArchivedButAHeldOneWaitsForItsExpiry) {
  MakeTown();
  PlaceBooking held = Place("gehalten", "saal", now_ + kDay, now_ + kDay + kHour, true);
  held.hold = true;
  Must(held, now_);
  Must(Place("bestaetigt", "saal", now_ + 2 * kDay, now_ + 2 * kDay + kHour, true), now_);
  const TimeUs later = now_ + 3 * kDay + kArchive;
  Must(Place("neu1", "saal", later + kDay, later + kDay + kHour, true), later);
  EXPECT_EQ(model_.FindBooking(BookingId("bestaetigt")), nullptr);  // confirmed, never completed
  ASSERT_NE(model_.FindBooking(BookingId("gehalten")), nullptr);
  EXPECT_EQ(model_.FindBooking(BookingId("gehalten"))->status, BookingStatus::kHeld);
  Must(ExpireHolds{}, later);
  Must(Place("neu2", "saal", later + 2 * kDay, later + 2 * kDay + kHour, true), later);
  EXPECT_EQ(model_.FindBooking(BookingId("gehalten")), nullptr);
  EXPECT_EQ(model_.booking_count(), 2u);
}

TEST_F(ArchiveTest, InvoiceLeavesWithItsBookingOnceSettled) {
  MakeTown();
  PriceRooms();
  Must(Place("bezahlt", "saal", now_ + kDay, now_ + kDay + kHour, true), now_);
  Must(Place("offen", "saal", now_ + 2 * kDay, now_ + 2 * kDay + kHour, true), now_);
  const std::string paid = model_.books().InvoiceOf(BookingId("bezahlt"))->id;
  const std::string unpaid = model_.books().InvoiceOf(BookingId("offen"))->id;
  auto pay = [&](const std::string& invoice, std::int64_t amount, TimeUs at, const std::string& ref) {
    RecordPayment p;
    p.invoice = invoice;
    p.reference = ref;
    p.method = "bank_transfer";
    p.amount = amount;
    p.currency = "EUR";
    p.received = at;
    return p;
  };
  Must(pay(paid, 5000, now_ + kHour, "KZ-1"), now_ + kHour);
  const TimeUs later = now_ + 3 * kDay + kArchive;
  Must(Place("neu", "tablets", later + kDay, later + kDay + kHour, true), later);  // unpriced
  // Both bookings left; the paid invoice with them, the open one stays.
  EXPECT_EQ(model_.FindBooking(BookingId("bezahlt")), nullptr);
  EXPECT_EQ(model_.FindBooking(BookingId("offen")), nullptr);
  EXPECT_EQ(model_.books().FindInvoice(paid), nullptr);
  EXPECT_EQ(model_.books().FindPayment("bank_transfer:KZ-1"), nullptr);
  ASSERT_NE(model_.books().FindInvoice(unpaid), nullptr);
  EXPECT_EQ(Refuse(pay(paid, 100, later, "KZ-2"), later).code, "not_found");
  // The open one paid 7 EUR too much. Its booking was still confirmed when
  // it left, so the surplus is kept as credit, as it would have been
  // without archiving; the invoice stays while anything is open on it.
  Acceptance a = Accept(pay(unpaid, 5700, later, "KZ-3"), later);
  EXPECT_FALSE(a.reply.contains("refunds")) << a.reply.dump();
  ASSERT_NE(model_.books().FindInvoice(unpaid), nullptr);
  EXPECT_EQ(model_.books().FindInvoice(unpaid)->open(), -700);
  // Finance pays it back; the invoice leaves once the refund is done.
  a = Accept(RefundInvoice{unpaid, 700, "Überzahlung"}, later + kHour);
  ASSERT_NE(model_.books().FindInvoice(unpaid), nullptr);
  const std::string refund = a.reply["refunds"][0]["id"];
  Accept(CompleteRefund{refund, false, "überwiesen", later + kHour}, later + 2 * kHour);
  EXPECT_EQ(model_.books().FindInvoice(unpaid), nullptr);
  EXPECT_EQ(model_.books().FindRefund(refund), nullptr);
  // The currency stays fixed: invoices were issued, even if none is held.
  EXPECT_TRUE(model_.books().invoices().empty());
  SetFinanceSettings fs;
  fs.settings.currency = "CHF";
  EXPECT_EQ(Refuse(fs, later + kDay).code, "currency_fixed");
}

TEST_F(ArchiveTest, BuffersLongerThanAMonthAreRefused) {
  MakeTown();
  SetRules s;
  s.id = ResourceId("saal");
  s.rules = OpenDays(1, 7, 7 * 60, 22 * 60);
  s.rules.buffer_after = 32 * kDay;
  const Rejection r = Refuse(s, now_);
  EXPECT_EQ(r.code, "validation_failed");
  EXPECT_NE(r.message.find("31 days"), std::string::npos);
}

}  // namespace
}  // namespace saalbuch::commands
