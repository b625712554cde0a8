// Decisions about money (commands/decide_money.cc and the money parts of
// decide_bookings.cc and decide_lifecycle.cc): tariffs and their validation, pricing with its rounding,
// invoices of held and staff bookings with gapless numbers, payments and
// their duplicates, cancellation tiers with credit notes and refunds,
// refunds, the closed period, and imports. Every amount is asserted exactly.
//
// (tests/commands/money_test.cc holds the tests of common/money.h.)

#include <gtest/gtest.h>

#include "tests/commands/decide_fixture.h"

namespace saalbuch::commands {
namespace {

class MoneyDecideTest : public DecideFixture {
 protected:
  void SetUp() override {
    MakeTenant("Europe/Berlin", now_);
    MakeRoom("saal", std::nullopt, now_);
    CreateResource pool;
    pool.id = ResourceId("tablets");
    pool.kind = "pool";
    pool.name = "Tablets";
    pool.capacity = 5;
    Accept(pool, now_);
    SetAddon beamer;
    beamer.id = "beamer";
    beamer.name = "Beamer";
    beamer.offers = {{ResourceId("saal"), false}};
    Accept(beamer, now_);
  }

  static SetTariff Tariff(const std::string& id, const std::string& target, TariffUnit unit,
                          std::int64_t amount, bool gross = true, std::int32_t rate_bp = 1900) {
    SetTariff t;
    t.id = id;
    t.target = target;
    t.currency = "EUR";
    t.version.unit = unit;
    t.version.amount = amount;
    t.version.gross = gross;
    t.version.tax_rate_bp = rate_bp;
    return t;
  }

  // 60.00 € gross per hour at 19 % for the room, for every group.
  void HourlyRoom() { Accept(Tariff("saal-std", "resource/saal", TariffUnit::kHour, 6000), now_); }

  static RecordProviderEvent Paid(const std::string& invoice, const std::string& payment, std::int64_t amount,
                                  const std::string& type = "payment.succeeded") {
    RecordProviderEvent e;
    e.event_id = "evt-" + payment + "-" + type;
    e.type = type;
    e.payment = payment;
    e.invoice = invoice;
    e.amount = amount;
    e.currency = "EUR";
    return e;
  }

  static RecordProviderEvent RefundHook(const std::string& refund, const std::string& payment,
                                        const std::string& type = "refund.succeeded") {
    RecordProviderEvent e;
    e.event_id = "evt-" + refund + "-" + type;
    e.type = type;
    e.payment = payment;
    e.refund = refund;
    e.provider_refund = "re_" + refund;
    e.currency = "EUR";
    return e;
  }

  void Tiers() {
    SetFinanceSettings s;
    s.settings.tiers = {{14 * kDay, 0}, {3 * kDay, 5000}};  // below 3 days: 100 %
    Accept(s, now_);
  }

  // The payloads of `a` of one type, in order.
  template <typename T>
  static std::vector<const T*> All(const Acceptance& a) {
    std::vector<const T*> out;
    for (const auto& ev : a.events) {
      if (ev.payload.type == schema::PayloadUnionTraits<T>::enum_value) {
        out.push_back(static_cast<const T*>(ev.payload.value));
      }
    }
    return out;
  }

  const Invoice& InvoiceFor(const std::string& booking) {
    const Invoice* inv = model_.books().InvoiceOf(BookingId(booking));
    EXPECT_NE(inv, nullptr) << booking;
    static const Invoice kNone;
    return inv == nullptr ? kNone : *inv;
  }

  BookingStatus Status(const std::string& id) { return model_.FindBooking(BookingId(id))->status; }

  // A public booking of the room for 90 minutes at `start`, paid in full
  // (90.00 €) through the provider, hence confirmed.
  void PaidBooking(const std::string& id, TimeUs start) {
    Accept(Place(id, "saal", start, start + 90 * kMinute), now_);
    Accept(Paid("inv-" + id, "pay-" + id, 9000), now_);
    ASSERT_EQ(Status(id), BookingStatus::kConfirmed);
  }

  // A statement (file hash: 32 × `file`) with one credit line booked today.
  ImportBankStatement Statement(char file, const std::string& reference, std::int64_t amount,
                                const std::string& remittance) {
    ImportBankStatement f;
    f.file_sha256 = std::string(32, file);
    BankStatementIn& st = f.statements.emplace_back();
    st.statement_id = "2026-06-01";
    st.iban = "DE02120300000000202051";
    st.currency = "EUR";
    BankLineIn line;
    line.reference = reference;
    line.amount = amount;
    line.booking_day = LocalDayOf(now_, model_.zone());
    line.value_day = line.booking_day;
    line.remittance = remittance;
    st.lines = {line};
    return f;
  }

  const TimeUs now_ = T("2026-06-01T08:00:00Z");  // a Monday
  const TimeUs at_ = T("2026-06-22T10:00:00Z");   // three weeks later
};

// ---- Tariffs ----

TEST_F(MoneyDecideTest, TariffValidationRefusesWrongInput) {
  auto t = Tariff("t1", "resource/nope", TariffUnit::kHour, 6000);
  EXPECT_EQ(Refuse(t, now_).code, "unknown_target");
  t.target = "room/saal";
  EXPECT_EQ(Refuse(t, now_).code, "unknown_target");
  t.target = "addon/none";
  EXPECT_EQ(Refuse(t, now_).code, "unknown_target");
  t.target = "resource/saal";
  t.group = "verein";
  EXPECT_EQ(Refuse(t, now_).code, "unknown_group");
  t.group.clear();
  t.version.tax_rate_bp = 500;  // 5 % is no German VAT rate
  EXPECT_EQ(Refuse(t, now_).code, "validation_failed");
  t.version.tax_rate_bp = 1900;
  t.version.amount = -1;
  EXPECT_EQ(Refuse(t, now_).code, "validation_failed");
  t.version.amount = 6000;
  t.currency = "USD";
  EXPECT_EQ(Refuse(t, now_).code, "currency_mismatch");
  t.currency = "EUR";
  t.version.valid_from = now_ - 2 * kDay;
  EXPECT_EQ(Refuse(t, now_).code, "tariff_in_past");
  t.version.valid_from = 0;
  Acceptance a = Accept(t, now_);
  EXPECT_TRUE(a.created);
  // A second tariff of the same target and group is refused; the same id
  // adds a version instead.
  auto other = Tariff("t2", "resource/saal", TariffUnit::kBooking, 1000);
  Rejection exists = Refuse(other, now_);
  EXPECT_EQ(exists.code, "tariff_exists");
  EXPECT_EQ(exists.details.at("tariff"), "t1");
  // Another group may have its own.
  Accept(DefineGroup{"verein", "Vereine"}, now_);
  other.group = "verein";
  Accept(other, now_);
  // A tariff keeps its target and group.
  auto moved = Tariff("t1", "resource/tablets", TariffUnit::kHour, 6000);
  EXPECT_EQ(Refuse(moved, now_).code, "tariff_target_fixed");
  EXPECT_EQ(model_.books().TariffFor("resource/saal", "verein")->id, "t2");
  EXPECT_EQ(model_.books().TariffFor("resource/saal", "public")->id, "t1");
}

TEST_F(MoneyDecideTest, TariffVersionPricesBookingsPlacedFromItsDate) {
  HourlyRoom();
  auto v2 = Tariff("saal-std", "resource/saal", TariffUnit::kHour, 7200);
  v2.version.valid_from = now_ + 10 * kDay;
  Acceptance a = Accept(v2, now_);
  EXPECT_FALSE(a.created);
  ASSERT_EQ(model_.books().FindTariff("saal-std")->versions.size(), 2u);
  Accept(Place("before", "saal", at_, at_ + kHour, true), now_);
  Accept(Place("after", "saal", at_ + 2 * kHour, at_ + 3 * kHour, true), now_ + 10 * kDay);
  EXPECT_EQ(InvoiceFor("before").totals.gross, 6000);
  EXPECT_EQ(InvoiceFor("after").totals.gross, 7200);
}

// ---- Pricing ----

TEST_F(MoneyDecideTest, HourlyGrossPriceIsProRataWithTaxExtracted) {
  HourlyRoom();
  Acceptance a = Accept(Place("a", "saal", at_, at_ + 90 * kMinute, true), now_);
  const Invoice& inv = InvoiceFor("a");
  ASSERT_EQ(inv.lines.size(), 1u);
  const Line& l = inv.lines[0];
  EXPECT_EQ(l.quantity_milli, 1500);
  EXPECT_EQ(l.unit_amount, 6000);
  EXPECT_EQ(l.gross, 9000);  // 1.5 h × 60.00
  EXPECT_EQ(l.net, 7563);    // 90.00 / 1.19 = 75.630…
  EXPECT_EQ(l.tax, 1437);
  EXPECT_EQ(l.item, "resource/saal");
  EXPECT_EQ(inv.totals.gross, 9000);
  EXPECT_EQ(inv.totals.net, 7563);
  EXPECT_EQ(inv.totals.tax, 1437);
  EXPECT_EQ(a.reply.at("invoice").at("total").at("amount"), 9000);
  EXPECT_EQ(a.reply.at("invoice").at("net").at("amount"), 7563);
  EXPECT_EQ(a.reply.at("invoice").at("tax").at("amount"), 1437);
}

TEST_F(MoneyDecideTest, PerUnitPricesPoolUnitsAndAddonPieces) {
  Accept(Tariff("tab", "resource/tablets", TariffUnit::kUnit, 250), now_);          // 2.50 € gross 19 %
  Accept(Tariff("bea", "addon/beamer", TariffUnit::kUnit, 1500, true, 700), now_);  // 15.00 € gross 7 %
  HourlyRoom();
  auto p = Place("t", "tablets", at_, at_ + 3 * kHour, true);
  p.units = 3;
  Accept(p, now_);
  const Invoice& tablets = InvoiceFor("t");
  ASSERT_EQ(tablets.lines.size(), 1u);
  EXPECT_EQ(tablets.lines[0].quantity_milli, 3000);
  EXPECT_EQ(tablets.lines[0].gross, 750);  // per unit, not per hour
  EXPECT_EQ(tablets.lines[0].tax, 120);    // 7.50 × 19/119 = 1.1974…
  EXPECT_EQ(tablets.lines[0].net, 630);

  p = Place("s", "saal", at_, at_ + 2 * kHour, true);
  p.addons = {{"beamer", 2}};
  Accept(p, now_);
  const Invoice& saal = InvoiceFor("s");
  ASSERT_EQ(saal.lines.size(), 2u);
  EXPECT_EQ(saal.lines[0].gross, 12000);
  EXPECT_EQ(saal.lines[0].tax, 1916);  // 120.00 × 19/119 = 19.159…
  EXPECT_EQ(saal.lines[1].item, "addon/beamer");
  EXPECT_EQ(saal.lines[1].quantity_milli, 2000);
  EXPECT_EQ(saal.lines[1].gross, 3000);
  EXPECT_EQ(saal.lines[1].tax, 196);  // 30.00 × 7/107 = 1.9626…
  EXPECT_EQ(saal.lines[1].net, 2804);
  EXPECT_EQ(saal.totals.gross, 15000);
  EXPECT_EQ(saal.totals.tax, 2112);
  EXPECT_EQ(saal.totals.net, 12888);
}

// Extreme but accepted tariffs: the largest price per hour, on a pool of
// 100000 units and on an add-on of 100000 pieces, for the longest booking.
// Each line alone is beyond the largest amount, and together they pass
// 2^63: such a booking is refused — never priced by a wrapped total (which
// would confirm it without invoice or payment).
TEST_F(MoneyDecideTest, PriceBeyondTheLargestAmountIsRefusedNeverWrapped) {
  constexpr std::int64_t kLargestPrice = 100'000'000'000;  // what the tariffs take
  CreateResource hall;
  hall.id = ResourceId("messe");
  hall.kind = "pool";
  hall.name = "Messehalle";
  hall.capacity = 100000;
  Accept(hall, now_);
  SetAddon chairs;
  chairs.id = "stuhl";
  chairs.name = "Stuhl";
  chairs.offers = {{ResourceId("messe"), false}};
  Accept(chairs, now_);
  Accept(Tariff("messe", "resource/messe", TariffUnit::kHour, kLargestPrice, false, 1900), now_);
  Accept(Tariff("stuhl", "addon/stuhl", TariffUnit::kHour, kLargestPrice, false, 1900), now_);
  for (const bool staff : {false, true}) {
    auto p = Place(staff ? "gross-staff" : "gross", "messe", at_, at_ + 31 * kDay, staff);
    p.units = 100000;
    p.addons = {{"stuhl", 100000}};
    Rejection r = Refuse(p, now_);
    EXPECT_EQ(r.refusal, Refusal::kUnprocessable);
    EXPECT_EQ(r.code, "validation_failed") << r.message;
    EXPECT_EQ(r.details.value("max_amount", std::int64_t{0}), kLargestPrice) << r.details.dump();
    // One line alone beyond the largest amount is refused too.
    p.addons.clear();
    p.units = 2;
    p.range = {at_, at_ + 2 * kHour};
    EXPECT_EQ(Refuse(p, now_).code, "validation_failed");
  }
  // At the largest amount exactly (gross) it is priced and invoiced.
  hall.id = ResourceId("zelt");
  hall.name = "Zelt";
  Accept(hall, now_);
  Accept(Tariff("zelt", "resource/zelt", TariffUnit::kHour, kLargestPrice, true, 1900), now_);
  PlaceBooking genau = Place("genau", "zelt", at_, at_ + kHour, true);
  genau.person = "p_genau";
  genau.personal = "sealed contact";
  genau.recipient = "sealed address";
  Accept(genau, now_);
  EXPECT_EQ(InvoiceFor("genau").totals.gross, kLargestPrice);
}

// § 14 (4) UStG with § 33 UStDV: an invoice above 250 € gross names its
// recipient's full name and address, so a booking whose invoice would
// exceed that is refused without one, and its invoice carries it.
TEST_F(MoneyDecideTest, InvoicesOver250EuroNameTheirRecipient) {
  Accept(Tariff("saal-flat", "resource/saal", TariffUnit::kBooking, 27000), now_);
  auto with_recipient = [](PlaceBooking p) {
    p.person = "p_" + p.id.get();
    p.personal = "sealed contact";
    p.recipient = "sealed address";
    return p;
  };
  for (bool staff : {false, true}) {
    Rejection r = Refuse(Place("ohne", "saal", at_, at_ + kHour, staff), now_);
    EXPECT_EQ(r.code, "recipient_required") << r.message;
    EXPECT_EQ(r.refusal, Refusal::kUnprocessable);
    EXPECT_EQ(r.details["total"]["amount"], 27000);
    EXPECT_EQ(r.details["limit"]["amount"], 25000);
    // A contact alone is not an address.
    PlaceBooking contact_only = Place("ohne", "saal", at_, at_ + kHour, staff);
    contact_only.person = "p_ohne";
    contact_only.personal = "sealed contact";
    EXPECT_EQ(Refuse(contact_only, now_).code, "recipient_required");
  }
  EXPECT_EQ(model_.FindBooking(BookingId("ohne")), nullptr);

  Acceptance a = Accept(with_recipient(Place("mit", "saal", at_, at_ + kHour)), now_);
  auto invoices = All<schema::InvoiceIssuedT>(a);
  ASSERT_EQ(invoices.size(), 1u);
  EXPECT_EQ(invoices[0]->gross, 27000);
  EXPECT_EQ(invoices[0]->recipient_key, "r_p_mit");
  EXPECT_EQ(std::string(invoices[0]->recipient.begin(), invoices[0]->recipient.end()), "sealed address");
  auto placed = All<schema::BookingPlacedT>(a);
  ASSERT_EQ(placed.size(), 1u);
  EXPECT_EQ(std::string(placed[0]->recipient.begin(), placed[0]->recipient.end()), "sealed address");

  // A recipient without a contact (whose person it would belong to) is refused.
  PlaceBooking orphan = Place("waise", "saal", at_ + kDay, at_ + kDay + kHour);
  orphan.recipient = "sealed address";
  EXPECT_EQ(Refuse(orphan, now_).code, "validation_failed");

  // 250.00 € exactly is a short invoice (Kleinbetragsrechnung): no address needed.
  Accept(Tariff("saal-flat", "resource/saal", TariffUnit::kBooking, 25000), now_ + kMinute);
  Acceptance small = Accept(Place("klein", "saal", at_ + kDay, at_ + kDay + kHour), now_ + kMinute);
  ASSERT_EQ(All<schema::InvoiceIssuedT>(small).size(), 1u);
  EXPECT_TRUE(All<schema::InvoiceIssuedT>(small)[0]->recipient_key.empty());

  // Erasing the person keeps the recipient while the invoice must be kept:
  // 8 years from the end of the invoice's year (§ 147 (3) AO).
  Acceptance erased = Accept(ErasePerson{"p_mit", "Art. 17"}, now_ + 2 * kMinute);
  EXPECT_EQ(erased.reply["invoice_recipient_kept_until"], "2034-12-31") << erased.reply.dump();
  // Without an invoice (the tablets are free) nothing keeps it.
  Accept(with_recipient(Place("frei", "tablets", at_, at_ + kHour)), now_ + 3 * kMinute);
  Acceptance none = Accept(ErasePerson{"p_frei", ""}, now_ + 4 * kMinute);
  EXPECT_FALSE(none.reply.contains("invoice_recipient_kept_until")) << none.reply.dump();
}

// A customer's billing profile names the recipient of its bookings that
// name none; a booking's own address comes first.
TEST_F(MoneyDecideTest, ACustomersBillingProfileNamesTheRecipientOfItsBookings) {
  Accept(Tariff("saal-flat", "resource/saal", TariffUnit::kBooking, 30000), now_);
  Accept(DefineGroup{"schule", "Schulen"}, now_);
  Accept(RegisterCustomer{"gs-nord", "schule", "sbc_gs"}, now_);
  EXPECT_EQ(Refuse(SetCustomerBilling{"gs-unbekannt", "sealed"}, now_).code, "not_found");
  auto p = Place("schule-1", "saal", at_, at_ + kHour);
  p.customer_token = "sbc_gs";
  EXPECT_EQ(Refuse(p, now_).code, "recipient_required");

  Acceptance set = Accept(SetCustomerBilling{"gs-nord", "sealed billing"}, now_);
  EXPECT_EQ(set.reply["version"], 2);
  Acceptance a = Accept(p, now_);
  auto invoices = All<schema::InvoiceIssuedT>(a);
  ASSERT_EQ(invoices.size(), 1u);
  EXPECT_EQ(invoices[0]->recipient_key, "rc_gs-nord");
  EXPECT_EQ(std::string(invoices[0]->recipient.begin(), invoices[0]->recipient.end()), "sealed billing");

  auto own = Place("schule-2", "saal", at_ + kDay, at_ + kDay + kHour);
  own.customer_token = "sbc_gs";
  own.person = "p_lehrerin";
  own.personal = "sealed contact";
  own.recipient = "sealed address";
  Acceptance with_own = Accept(own, now_);  // kept: All() points into it
  invoices = All<schema::InvoiceIssuedT>(with_own);
  ASSERT_EQ(invoices.size(), 1u);
  EXPECT_EQ(invoices[0]->recipient_key, "r_p_lehrerin");
}

TEST_F(MoneyDecideTest, NetPricedLineRoundsTaxHalfUp) {
  // 10.50 € net per booking at 19 %: tax 1.995 → 2.00 (half away from zero).
  Accept(Tariff("flat", "resource/saal", TariffUnit::kBooking, 1050, false), now_);
  Accept(Place("a", "saal", at_, at_ + 5 * kHour, true), now_);
  const Line& l = InvoiceFor("a").lines.at(0);
  EXPECT_FALSE(l.gross_priced);
  EXPECT_EQ(l.quantity_milli, 1000);  // a flat price ignores the duration
  EXPECT_EQ(l.net, 1050);
  EXPECT_EQ(l.tax, 200);
  EXPECT_EQ(l.gross, 1250);
}

TEST_F(MoneyDecideTest, GroupTariffBeatsTheTariffForEveryGroup) {
  HourlyRoom();
  Accept(DefineGroup{"verein", "Vereine"}, now_);
  Accept(RegisterCustomer{"tsv", "verein", "sbc_tsv"}, now_);
  auto club = Tariff("saal-verein", "resource/saal", TariffUnit::kHour, 0);
  club.group = "verein";
  Accept(club, now_);
  auto p = Place("club", "saal", at_, at_ + kHour);
  p.customer_token = "sbc_tsv";
  Acceptance a = Accept(p, now_);
  // Free for the club: no invoice, no hold.
  EXPECT_EQ(model_.books().InvoiceOf(BookingId("club")), nullptr);
  EXPECT_EQ(Status("club"), BookingStatus::kConfirmed);
  EXPECT_EQ(a.events.size(), 1u);
}

// ---- Invoices of placed bookings ----

TEST_F(MoneyDecideTest, PricedPublicBookingIsHeldWithItsInvoice) {
  HourlyRoom();
  Acceptance a = Accept(Place("a", "saal", at_, at_ + 90 * kMinute), now_);
  ASSERT_EQ(a.events.size(), 2u);
  EXPECT_EQ(a.events[0].payload.type, schema::Payload::BookingPlaced);
  const auto invoices = All<schema::InvoiceIssuedT>(a);
  ASSERT_EQ(invoices.size(), 1u);
  const Booking* b = model_.FindBooking(BookingId("a"));
  EXPECT_EQ(b->status, BookingStatus::kHeld);
  EXPECT_EQ(b->hold_until, now_ + model_.hold());
  EXPECT_EQ(invoices[0]->number, "R-2026-000001");
  EXPECT_EQ(invoices[0]->invoice_id, "inv-a");
  EXPECT_EQ(invoices[0]->booking_id, "a");
  EXPECT_EQ(invoices[0]->due_us, b->hold_until);  // due when the hold ends
  EXPECT_EQ(invoices[0]->gross, 9000);
  EXPECT_EQ(invoices[0]->kassenzeichen, "R-2026-000001");  // no prefix: the number itself
  EXPECT_EQ(a.reply.at("status"), "held");
  EXPECT_EQ(a.reply.at("invoice").at("number"), "R-2026-000001");
  EXPECT_EQ(InvoiceFor("a").open(), 9000);
  // The same booking unpriced is confirmed without an invoice.
  Acceptance free = Accept(Place("t", "tablets", at_, at_ + kHour), now_);
  EXPECT_EQ(free.events.size(), 1u);
  EXPECT_EQ(Status("t"), BookingStatus::kConfirmed);
}

TEST_F(MoneyDecideTest, StaffBookingIsConfirmedWithInvoiceDueAfterPaymentTerms) {
  HourlyRoom();
  Acceptance a = Accept(Place("a", "saal", at_, at_ + kHour, true), now_);
  EXPECT_EQ(Status("a"), BookingStatus::kConfirmed);
  auto inv = All<schema::InvoiceIssuedT>(a);
  ASSERT_EQ(inv.size(), 1u);
  EXPECT_EQ(inv[0]->due_us, now_ + 14 * kDay);  // the default terms
  SetFinanceSettings s;
  s.settings.payment_terms_days = 30;
  s.settings.kassenzeichen_prefix = "5.0101.";
  Accept(s, now_);
  a = Accept(Place("b", "saal", at_ + 2 * kHour, at_ + 3 * kHour, true), now_ + kHour);
  inv = All<schema::InvoiceIssuedT>(a);
  ASSERT_EQ(inv.size(), 1u);
  EXPECT_EQ(inv[0]->due_us, now_ + kHour + 30 * kDay);
  EXPECT_EQ(inv[0]->number, "R-2026-000002");
  EXPECT_EQ(inv[0]->kassenzeichen, "5.0101.2026-000002");
}

TEST_F(MoneyDecideTest, InvoiceNumbersAreConsecutiveAcrossBookingsAndSeries) {
  HourlyRoom();
  Accept(Place("a", "saal", at_, at_ + kHour), now_);
  Accept(Place("b", "saal", at_ + 2 * kHour, at_ + 3 * kHour, true), now_);
  // An unpriced booking takes no number.
  Accept(Place("t", "tablets", at_, at_ + kHour), now_);
  PlaceSeries s;
  s.id = "training";
  s.first = Place("", "saal", 0, 0, true);
  s.rrule = "FREQ=WEEKLY;COUNT=3";
  for (int k = 0; k < 3; ++k) {
    s.occurrences.push_back({at_ + 5 * kHour + k * 7 * kDay, at_ + 6 * kHour + k * 7 * kDay});
    s.ids.push_back(BookingId("w" + std::to_string(k)));
  }
  Acceptance series = Accept(s, now_);
  auto invoices = All<schema::InvoiceIssuedT>(series);
  ASSERT_EQ(invoices.size(), 3u);
  EXPECT_EQ(invoices[0]->number, "R-2026-000003");
  EXPECT_EQ(invoices[1]->number, "R-2026-000004");
  EXPECT_EQ(invoices[2]->number, "R-2026-000005");
  EXPECT_EQ(series.reply.at("occurrences").at(2).at("invoice").at("number"), "R-2026-000005");
  EXPECT_EQ(InvoiceFor("a").number, "R-2026-000001");
  EXPECT_EQ(InvoiceFor("b").number, "R-2026-000002");
  // A refused series takes no numbers; the next booking goes on.
  s.id = "clash";
  for (auto& id : s.ids) id = BookingId(id.get() + "x");
  EXPECT_EQ(Refuse(s, now_).code, "series_conflict");
  Accept(Place("c", "saal", at_ + 8 * kHour, at_ + 9 * kHour), now_);
  EXPECT_EQ(InvoiceFor("c").number, "R-2026-000006");
  // Credit notes and receipts have their own series; a new local year starts
  // at 1 (Berlin is an hour ahead of UTC at New Year).
  Accept(Place("ny", "saal", T("2027-01-10T10:00:00Z"), T("2027-01-10T11:00:00Z")),
         T("2026-12-31T23:30:00Z"));
  EXPECT_EQ(InvoiceFor("ny").number, "R-2027-000001");
  Accept(Paid("inv-ny", "pay-ny", 6000), T("2027-01-01T00:00:00Z"));
  EXPECT_EQ(model_.books().FindPayment("pay-ny") != nullptr, true);
  EXPECT_EQ(model_.books().NumberAfter('Z', 2027, 0), "Z-2027-000002");
  EXPECT_EQ(model_.books().NumberAfter('R', 2026, 0), "R-2026-000007");
}

// ---- Payments ----

TEST_F(MoneyDecideTest, PaymentConfirmsHeldBookingAndDuplicateWebhookBooksNothing) {
  HourlyRoom();
  Accept(Place("a", "saal", at_, at_ + 90 * kMinute), now_);
  // A part payment leaves the booking held.
  Acceptance part = Accept(Paid("inv-a", "pay-1", 4000), now_);
  ASSERT_EQ(part.events.size(), 1u);
  auto cap = All<schema::PaymentCapturedT>(part);
  ASSERT_EQ(cap.size(), 1u);
  EXPECT_EQ(cap[0]->receipt_number, "Z-2026-000001");
  EXPECT_EQ(cap[0]->method, "provider");
  EXPECT_EQ(cap[0]->amount, 4000);
  EXPECT_EQ(part.reply.at("open").at("amount"), 5000);
  EXPECT_EQ(Status("a"), BookingStatus::kHeld);
  // The rest confirms it.
  Acceptance rest = Accept(Paid("inv-a", "pay-2", 5000), now_ + kMinute);
  ASSERT_EQ(rest.events.size(), 2u);
  EXPECT_EQ(rest.events[1].payload.type, schema::Payload::BookingConfirmed);
  EXPECT_EQ(rest.events[1].payload.AsBookingConfirmed()->by, "payment");
  EXPECT_EQ(rest.reply.at("booking_status"), "confirmed");
  EXPECT_EQ(rest.reply.at("receipt"), "Z-2026-000002");
  EXPECT_EQ(Status("a"), BookingStatus::kConfirmed);
  // The same payment reference again, as often as it comes: nothing.
  for (int i = 0; i < 3; ++i) {
    auto again = Paid("inv-a", "pay-2", 5000);
    again.event_id = "evt-redelivered-" + std::to_string(i);
    Acceptance dup = Accept(again, now_ + 2 * kMinute);
    EXPECT_TRUE(dup.events.empty());
    EXPECT_EQ(dup.reply.at("duplicate"), true);
  }
  // A failure reported after the success changes nothing either.
  Acceptance failed = Accept(Paid("inv-a", "pay-2", 5000, "payment.failed"), now_ + 3 * kMinute);
  EXPECT_TRUE(failed.events.empty());
  EXPECT_EQ(failed.reply.at("duplicate"), true);
  const Invoice& inv = InvoiceFor("a");
  EXPECT_EQ(inv.captured, 9000);
  EXPECT_EQ(inv.open(), 0);
  EXPECT_EQ(inv.payments.size(), 2u);
}

TEST_F(MoneyDecideTest, FailedPaymentIsRecordedAndWrongWebhooksAreRefused) {
  HourlyRoom();
  Accept(Place("a", "saal", at_, at_ + kHour), now_);
  Acceptance failed = Accept(Paid("inv-a", "pay-x", 6000, "payment.failed"), now_);
  ASSERT_EQ(failed.events.size(), 1u);
  EXPECT_EQ(failed.events[0].payload.type, schema::Payload::PaymentFailed);
  EXPECT_EQ(InvoiceFor("a").captured, 0);
  // The same failure delivered again is recorded once.
  Acceptance again = Accept(Paid("inv-a", "pay-x", 6000, "payment.failed"), now_);
  EXPECT_TRUE(again.events.empty());
  EXPECT_EQ(again.reply["duplicate"], true);
  EXPECT_EQ(Refuse(Paid("inv-nope", "pay-y", 6000), now_).code, "unknown_invoice");
  auto usd = Paid("inv-a", "pay-y", 6000);
  usd.currency = "USD";
  EXPECT_EQ(Refuse(usd, now_).code, "validation_failed");
  EXPECT_EQ(Refuse(Paid("inv-a", "pay-y", 0), now_).code, "validation_failed");
  EXPECT_EQ(Refuse(Paid("inv-a", "pay-y", 6000, "payment.maybe"), now_).code, "unknown_event_type");
  EXPECT_EQ(Refuse(RefundHook("rf-none", "pay-y"), now_).code, "unknown_refund");
  EXPECT_EQ(Status("a"), BookingStatus::kHeld);
}

TEST_F(MoneyDecideTest, PaymentForAnEndedBookingIsRefundedAtOnce) {
  HourlyRoom();
  Accept(Place("a", "saal", at_, at_ + kHour), now_);
  Accept(ExpireHolds{}, now_ + model_.hold());
  ASSERT_EQ(Status("a"), BookingStatus::kExpired);
  const Invoice& inv = InvoiceFor("a");
  EXPECT_EQ(inv.credited, 6000);  // an expired hold credits the whole invoice
  EXPECT_EQ(inv.owed(), 0);
  // The provider's success arrives late.
  Acceptance late = Accept(Paid("inv-a", "pay-late", 6000), now_ + model_.hold() + kMinute);
  auto refunds = All<schema::RefundRequestedT>(late);
  ASSERT_EQ(refunds.size(), 1u);
  EXPECT_EQ(refunds[0]->amount, 6000);
  EXPECT_EQ(refunds[0]->payment_ref, "pay-late");
  EXPECT_TRUE(All<schema::BookingConfirmedT>(late).empty());
  EXPECT_EQ(Status("a"), BookingStatus::kExpired);
  EXPECT_EQ(InvoiceFor("a").open(), 0);
  EXPECT_EQ(model_.books().FindPayment("pay-late")->refunded, 6000);
}

// ---- Cancellation ----

TEST_F(MoneyDecideTest, CancellationTiersDecideFeeCreditNoteAndRefund) {
  HourlyRoom();
  Tiers();
  // Fourteen days or more before the start: free.
  PaidBooking("free", now_ + 14 * kDay);
  Acceptance a = Accept(CancelAsBooker("free"), now_);
  auto notes = All<schema::CreditNoteIssuedT>(a);
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_EQ(notes[0]->number, "G-2026-000001");
  EXPECT_EQ(notes[0]->gross, 9000);
  EXPECT_EQ(notes[0]->net, 7563);
  EXPECT_EQ(notes[0]->tax, 1437);
  auto refunds = All<schema::RefundRequestedT>(a);
  ASSERT_EQ(refunds.size(), 1u);
  EXPECT_EQ(refunds[0]->amount, 9000);
  EXPECT_EQ(refunds[0]->payment_ref, "pay-free");
  EXPECT_EQ(refunds[0]->credit_note_id, "G-2026-000001");
  EXPECT_EQ(a.reply.at("invoice").at("fee").at("amount"), 0);

  // Between three and fourteen days (three days exactly): half.
  PaidBooking("half", now_ + 3 * kDay);
  a = Accept(CancelAsBooker("half"), now_);
  notes = All<schema::CreditNoteIssuedT>(a);
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_EQ(notes[0]->number, "G-2026-000002");
  EXPECT_EQ(notes[0]->gross, 4500);
  EXPECT_EQ(notes[0]->tax, 718);  // 45.00 × 19/119 = 7.184…
  EXPECT_EQ(notes[0]->net, 3782);
  refunds = All<schema::RefundRequestedT>(a);
  ASSERT_EQ(refunds.size(), 1u);
  EXPECT_EQ(refunds[0]->amount, 4500);
  EXPECT_EQ(a.reply.at("invoice").at("fee").at("amount"), 4500);
  EXPECT_EQ(InvoiceFor("half").owed(), 4500);
  EXPECT_EQ(InvoiceFor("half").open(), 0);

  // Less than three days: all of it; no credit note, nothing back.
  PaidBooking("late", now_ + 3 * kDay - 1);
  a = Accept(CancelAsBooker("late"), now_);
  EXPECT_TRUE(All<schema::CreditNoteIssuedT>(a).empty());
  EXPECT_TRUE(All<schema::RefundRequestedT>(a).empty());
  EXPECT_EQ(a.reply.at("invoice").at("fee").at("amount"), 9000);
  EXPECT_EQ(InvoiceFor("late").owed(), 9000);
  EXPECT_EQ(model_.books().NumberAfter('G', 2026, 0), "G-2026-000003");
}

TEST_F(MoneyDecideTest, CancellingUnpaidConfirmedBookingLeavesTheFeeOpen) {
  // 33.33 € flat: half is 16.665 → 16.67 credited, 16.66 still owed.
  Accept(Tariff("flat", "resource/saal", TariffUnit::kBooking, 3333), now_);
  Tiers();
  Accept(Place("s", "saal", now_ + 5 * kDay, now_ + 5 * kDay + kHour, true), now_);
  Acceptance a = Accept(CancelAsStaff("s"), now_);
  auto notes = All<schema::CreditNoteIssuedT>(a);
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_EQ(notes[0]->gross, 1667);
  EXPECT_EQ(notes[0]->tax, 266);  // 16.67 × 19/119 = 2.6615…
  EXPECT_TRUE(All<schema::RefundRequestedT>(a).empty());
  EXPECT_EQ(InvoiceFor("s").open(), 1666);
}

TEST_F(MoneyDecideTest, CancellingHeldBookingIsFreeAndCreditsEverything) {
  HourlyRoom();
  Tiers();
  Accept(Place("h", "saal", now_ + kDay, now_ + kDay + kHour), now_);  // held, a day ahead
  Acceptance part = Accept(Paid("inv-h", "pay-h", 1000), now_);        // a part paid
  ASSERT_EQ(Status("h"), BookingStatus::kHeld);
  ASSERT_EQ(part.events.size(), 1u);
  Acceptance a = Accept(CancelAsBooker("h"), now_);
  auto notes = All<schema::CreditNoteIssuedT>(a);
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_EQ(notes[0]->gross, 6000);
  auto refunds = All<schema::RefundRequestedT>(a);
  ASSERT_EQ(refunds.size(), 1u);
  EXPECT_EQ(refunds[0]->amount, 1000);
}

TEST_F(MoneyDecideTest, OnlyStaffMayWaiveTheFee) {
  HourlyRoom();
  Tiers();
  PaidBooking("a", now_ + kDay);  // 100 % tier
  auto booker = CancelAsBooker("a");
  booker.waive_fee = true;
  Rejection r = Refuse(booker, now_);
  EXPECT_EQ(r.code, "not_permitted");
  EXPECT_EQ(r.refusal, Refusal::kForbidden);
  auto staff = CancelAsStaff("a");
  staff.waive_fee = true;
  Acceptance a = Accept(staff, now_);
  auto notes = All<schema::CreditNoteIssuedT>(a);
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_EQ(notes[0]->gross, 9000);
  auto refunds = All<schema::RefundRequestedT>(a);
  ASSERT_EQ(refunds.size(), 1u);
  EXPECT_EQ(refunds[0]->amount, 9000);
  EXPECT_EQ(a.reply.at("invoice").at("fee").at("amount"), 0);
}

// ---- Cancellation quotes: the cancel's own decision, discarded ----

// Each quote is followed by the cancel at the same moment: the quote must
// say what the cancel then does, and change nothing itself.
TEST_F(MoneyDecideTest, QuoteSaysWhatTheCancelThenDoesInEveryTier) {
  HourlyRoom();
  Tiers();
  struct Case {
    const char* id;
    TimeUs start;
    double percent;
    std::int64_t fee, credited, refunded;
  };
  const Case cases[] = {{"free", now_ + 14 * kDay, 0, 0, 9000, 9000},
                        {"half", now_ + 3 * kDay, 50, 4500, 4500, 4500},
                        {"late", now_ + 3 * kDay - 1, 100, 9000, 0, 0}};
  for (const Case& k : cases) {
    SCOPED_TRACE(k.id);
    PaidBooking(k.id, k.start);
    const TenantModel before = model_;
    Acceptance q = Accept(QuoteCancellation{CancelAsBooker(k.id)}, now_);
    EXPECT_TRUE(q.events.empty());
    EXPECT_TRUE(model_ == before);
    Acceptance a = Accept(CancelAsBooker(k.id), now_);
    std::int64_t credited = 0, refunded = 0;
    for (const auto* n : All<schema::CreditNoteIssuedT>(a)) credited += n->gross;
    for (const auto* r : All<schema::RefundRequestedT>(a)) refunded += r->amount;
    const nlohmann::json& quote = q.reply;
    EXPECT_EQ(quote.at("allowed"), true);
    EXPECT_TRUE(quote.at("refusal").is_null());
    EXPECT_EQ(quote.at("status"), "confirmed");
    EXPECT_EQ(quote.at("fee"), a.reply.at("invoice").at("fee"));
    EXPECT_EQ(quote.at("fee_percent"), a.reply.at("invoice").at("fee_percent"));
    EXPECT_EQ(quote.at("credit_note_total"), (nlohmann::json{{"amount", credited}, {"currency", "EUR"}}));
    EXPECT_EQ(quote.at("refund_total"), (nlohmann::json{{"amount", refunded}, {"currency", "EUR"}}));
    EXPECT_EQ(quote.at("invoice").at("number"), a.reply.at("invoice").at("number"));
    // And the amounts themselves, so that both cannot be wrong alike.
    EXPECT_EQ(quote.at("fee_percent"), k.percent);
    EXPECT_EQ(quote.at("fee").at("amount"), k.fee);
    EXPECT_EQ(credited, k.credited);
    EXPECT_EQ(refunded, k.refunded);
  }
}

TEST_F(MoneyDecideTest, QuoteOfAFreeBookingHasNoMoney) {
  Tiers();
  Accept(Place("gratis", "saal", now_ + kDay, now_ + kDay + kHour), now_);
  ASSERT_EQ(Status("gratis"), BookingStatus::kConfirmed);
  Acceptance q = Accept(QuoteCancellation{CancelAsBooker("gratis")}, now_);
  EXPECT_EQ(q.reply.at("allowed"), true);
  EXPECT_EQ(q.reply.at("fee_percent"), 100);  // the tier, of nothing
  EXPECT_TRUE(q.reply.at("fee").is_null());
  EXPECT_TRUE(q.reply.at("credit_note_total").is_null());
  EXPECT_TRUE(q.reply.at("refund_total").is_null());
  EXPECT_TRUE(q.reply.at("invoice").is_null());
  Acceptance a = Accept(CancelAsBooker("gratis"), now_);
  EXPECT_FALSE(a.reply.contains("invoice"));
  EXPECT_EQ(a.events.size(), 1u);
}

TEST_F(MoneyDecideTest, QuoteOfACancelledBookingCarriesTheCancelsRefusal) {
  HourlyRoom();
  Tiers();
  PaidBooking("a", now_ + 20 * kDay);
  Accept(CancelAsBooker("a"), now_);
  const Rejection cancel = Refuse(CancelAsBooker("a"), now_);
  Acceptance q = Accept(QuoteCancellation{CancelAsBooker("a")}, now_);
  EXPECT_TRUE(q.events.empty());
  EXPECT_EQ(q.reply.at("allowed"), false);
  EXPECT_EQ(q.reply.at("status"), "cancelled");
  EXPECT_EQ(q.reply.at("refusal").at("code"), "already_cancelled");
  EXPECT_EQ(q.reply.at("refusal").at("code"), cancel.code);
  EXPECT_EQ(q.reply.at("refusal").at("message"), cancel.message);
  EXPECT_TRUE(q.reply.at("fee").is_null());

  // A booker may not waive the fee: the quote says so as the cancel would.
  PaidBooking("b", now_ + kDay);
  auto waive = CancelAsBooker("b");
  waive.waive_fee = true;
  q = Accept(QuoteCancellation{waive}, now_);
  EXPECT_EQ(q.reply.at("refusal").at("code"), "not_permitted");
  // Staff may: a quote without the fee.
  auto staff = CancelAsStaff("b");
  staff.waive_fee = true;
  q = Accept(QuoteCancellation{staff}, now_);
  EXPECT_EQ(q.reply.at("fee_percent"), 0);
  EXPECT_EQ(q.reply.at("refund_total").at("amount"), 9000);
}

TEST_F(MoneyDecideTest, QuoteWithAWrongTokenIsNotFoundLikeTheCancel) {
  HourlyRoom();
  PaidBooking("a", now_ + 20 * kDay);
  Rejection r = Refuse(QuoteCancellation{CancelAsBooker("a", "token-wrong")}, now_);
  EXPECT_EQ(r.code, "not_found");
  EXPECT_EQ(r.refusal, Refusal::kNotFound);
  EXPECT_EQ(Refuse(QuoteCancellation{CancelAsBooker("nope")}, now_).code, "not_found");
}

TEST_F(MoneyDecideTest, AMoveMayNotChangeTheInvoicedPrice) {
  HourlyRoom();
  Accept(Place("m", "saal", now_ + kDay, now_ + kDay + kHour), now_);  // 60.00 invoiced
  RescheduleBooking same;
  same.id = BookingId("m");
  same.range = {now_ + 2 * kDay, now_ + 2 * kDay + kHour};
  same.by_staff = true;
  Accept(same, now_);  // same length, same price: moved
  RescheduleBooking longer = same;
  longer.range = {now_ + 3 * kDay, now_ + 3 * kDay + 2 * kHour};
  Rejection r = Refuse(longer, now_);
  EXPECT_EQ(r.code, "price_would_change");
  EXPECT_EQ(r.details.at("invoiced"), 6000);
  EXPECT_EQ(r.details.at("new_price"), 12000);
}

TEST_F(MoneyDecideTest, NothingLeftToCreditTakesNoCreditNoteNumber) {
  Accept(Tariff("cent", "resource/saal", TariffUnit::kBooking, 1), now_);  // 0.01 per booking
  SetFinanceSettings s;
  s.settings.tiers = {{0, 9900}};  // 99 % fee: 1 % of one cent rounds to nothing
  Accept(s, now_);
  Accept(Place("tiny", "saal", now_ + kDay, now_ + kDay + kHour, true), now_);  // staff: confirmed
  Acceptance a = Accept(CancelAsStaff("tiny"), now_);
  EXPECT_TRUE(All<schema::CreditNoteIssuedT>(a).empty());
  EXPECT_EQ(a.reply.at("invoice").at("fee").at("amount"), 1);
  // The next credit note is still the first of the year: no number was skipped.
  Accept(Place("next", "saal", now_ + 2 * kDay, now_ + 2 * kDay + kHour, true), now_);
  RefundInvoice r;
  r.invoice = "inv-next";
  r.amount = 1;
  r.reason = "goodwill";
  Accept(RecordPayment{"inv-next", "ref-1", "cash", 1, "EUR", 0}, now_);
  Acceptance refund = Accept(r, now_);
  auto notes = All<schema::CreditNoteIssuedT>(refund);
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_EQ(notes[0]->number, "G-2026-000001");
}

// ---- Refunds ----

TEST_F(MoneyDecideTest, RefundFirstReturnsOverpaymentThenCredits) {
  HourlyRoom();
  Accept(Place("a", "saal", at_, at_ + 90 * kMinute, true), now_);
  RecordPayment pay;
  pay.invoice = "inv-a";
  pay.reference = "K-17";
  pay.method = "bank_transfer";
  pay.amount = 10000;  // 10.00 € too much
  pay.currency = "EUR";
  Acceptance paid = Accept(pay, now_);
  EXPECT_EQ(paid.reply.at("open").at("amount"), -1000);
  EXPECT_EQ(Refuse(pay, now_).code, "payment_exists");
  RefundInvoice too_much;
  too_much.invoice = "inv-a";
  too_much.amount = 10001;
  too_much.reason = "Kulanz";
  Rejection r = Refuse(too_much, now_);
  EXPECT_EQ(r.code, "refund_exceeds_payments");
  EXPECT_EQ(r.details.at("refundable").at("amount"), 10000);
  RefundInvoice refund = too_much;
  refund.amount = 1500;  // 10.00 overpaid + 5.00 credited
  Acceptance a = Accept(refund, now_);
  auto notes = All<schema::CreditNoteIssuedT>(a);
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_EQ(notes[0]->gross, 500);
  EXPECT_EQ(notes[0]->tax, 80);  // 5.00 × 19/119 = 0.798…
  EXPECT_EQ(notes[0]->net, 420);
  auto refunds = All<schema::RefundRequestedT>(a);
  ASSERT_EQ(refunds.size(), 1u);
  EXPECT_EQ(refunds[0]->amount, 1500);
  EXPECT_EQ(refunds[0]->payment_ref, "bank_transfer:K-17");
  const Invoice& inv = InvoiceFor("a");
  EXPECT_EQ(inv.owed(), 8500);
  EXPECT_EQ(inv.kept(), 8500);
  // What is left can be refunded, not a cent more.
  refund.amount = 8501;
  EXPECT_EQ(Refuse(refund, now_).code, "refund_exceeds_payments");
  refund.amount = 8500;
  Accept(refund, now_);
  EXPECT_EQ(model_.books().FindPayment("bank_transfer:K-17")->refunded, 10000);
  refund.amount = 1;
  EXPECT_EQ(Refuse(refund, now_).code, "refund_exceeds_payments");
}

TEST_F(MoneyDecideTest, RefundWebhookTwiceIsRecordedOnce) {
  HourlyRoom();
  PaidBooking("a", at_);
  RefundInvoice refund;
  refund.invoice = "inv-a";
  refund.amount = 2000;
  refund.reason = "Beamer defekt";
  Acceptance a = Accept(refund, now_);
  auto notes = All<schema::CreditNoteIssuedT>(a);
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_EQ(notes[0]->gross, 2000);
  EXPECT_EQ(notes[0]->tax, 319);
  auto requested = All<schema::RefundRequestedT>(a);
  ASSERT_EQ(requested.size(), 1u);
  const std::string id = requested[0]->refund_id;
  // The webhook overtakes the dispatcher's RecordRefundSubmitted.
  Acceptance hook = Accept(RefundHook(id, "pay-a"), now_ + kMinute);
  ASSERT_EQ(hook.events.size(), 1u);
  EXPECT_EQ(hook.events[0].payload.AsRefundSettled()->outcome, "succeeded");
  EXPECT_EQ(hook.events[0].stream_version, 2u);
  Acceptance again = Accept(RefundHook(id, "pay-a"), now_ + 2 * kMinute);
  EXPECT_TRUE(again.events.empty());
  EXPECT_EQ(again.reply.at("duplicate"), true);
  // A failure after the success is a duplicate too.
  EXPECT_TRUE(Accept(RefundHook(id, "pay-a", "refund.failed"), now_ + 3 * kMinute).events.empty());
  Acceptance submitted = Accept(RecordRefundSubmitted{id, "re_x"}, now_ + 4 * kMinute);
  EXPECT_TRUE(submitted.events.empty());
  EXPECT_EQ(submitted.reply.at("state"), "succeeded");
  // Naming another payment does not find the refund.
  EXPECT_EQ(Refuse(RefundHook(id, "pay-other"), now_).code, "unknown_refund");
  EXPECT_EQ(model_.books().FindRefund(id)->state, RefundState::kSucceeded);
  EXPECT_EQ(model_.books().FindPayment("pay-a")->refunded, 2000);
}

TEST_F(MoneyDecideTest, FailedRefundGivesTheMoneyBackToThePayment) {
  HourlyRoom();
  PaidBooking("a", at_);
  RefundInvoice refund;
  refund.invoice = "inv-a";
  refund.amount = 9000;
  refund.reason = "Ausfall";
  Acceptance a = Accept(refund, now_);
  auto requested = All<schema::RefundRequestedT>(a);
  ASSERT_EQ(requested.size(), 1u);
  const std::string id = requested[0]->refund_id;
  Acceptance sub = Accept(RecordRefundSubmitted{id, "re_1"}, now_);
  ASSERT_EQ(sub.events.size(), 1u);
  Acceptance failed = Accept(RefundHook(id, "pay-a", "refund.failed"), now_);
  ASSERT_EQ(failed.events.size(), 1u);
  EXPECT_EQ(failed.events[0].stream_version, 3u);
  EXPECT_EQ(model_.books().FindPayment("pay-a")->refunded, 0);
  EXPECT_EQ(InvoiceFor("a").kept(), 9000);
  EXPECT_EQ(InvoiceFor("a").owed(), 0);
  // Finance cannot complete a refund the provider has settled.
  EXPECT_EQ(Refuse(CompleteRefund{id, false, "", 0}, now_).code, "refund_settled");
}

TEST_F(MoneyDecideTest, FinanceCompletesRefundsOfBankPaymentsByHand) {
  HourlyRoom();
  Accept(Place("a", "saal", at_, at_ + kHour, true), now_);
  RecordPayment pay;
  pay.invoice = "inv-a";
  pay.reference = "K-9";
  pay.method = "bank_transfer";
  pay.amount = 6000;
  pay.currency = "EUR";
  Accept(pay, now_);
  Acceptance a = Accept(CancelAsStaff("a"), now_);  // no tiers: free
  auto refunds = All<schema::RefundRequestedT>(a);
  ASSERT_EQ(refunds.size(), 1u);
  const std::string id = refunds[0]->refund_id;
  EXPECT_EQ(model_.books().FindRefund(id)->method, "bank_transfer");
  EXPECT_EQ(Refuse(CompleteRefund{id, false, "", now_ + kMinute}, now_).code, "validation_failed");
  Acceptance done = Accept(CompleteRefund{id, false, "", 0}, now_);
  ASSERT_EQ(done.events.size(), 1u);
  EXPECT_EQ(done.events[0].payload.AsRefundSettled()->outcome, "succeeded");
  EXPECT_EQ(Refuse(CompleteRefund{id, true, "", 0}, now_).code, "refund_settled");
  EXPECT_EQ(Refuse(CompleteRefund{"rf-none", false, "", 0}, now_).code, "not_found");
}

TEST_F(MoneyDecideTest, CheckoutOnlyForTheOpenAmountOfAnOpenBooking) {
  HourlyRoom();
  Accept(Place("a", "saal", at_, at_ + kHour), now_);
  OpenCheckout c;
  c.invoice = "inv-a";
  c.checkout_id = "co-1";
  c.url = "https://pay.example/co-1";
  c.amount = 6000;
  c.manage_token = "wrong";
  EXPECT_EQ(Refuse(c, now_).code, "not_found");  // a wrong token looks like no invoice
  c.manage_token = "token-a";
  c.amount = 5999;
  EXPECT_EQ(Refuse(c, now_).code, "invoice_changed");
  c.amount = 6000;
  Acceptance a = Accept(c, now_);
  ASSERT_EQ(a.events.size(), 1u);
  EXPECT_EQ(a.events[0].payload.type, schema::Payload::CheckoutOpened);
  Accept(Paid("inv-a", "pay-a", 2000), now_);
  EXPECT_EQ(Refuse(c, now_).code, "invoice_changed");
  c.amount = 4000;
  c.checkout_id = "co-2";
  Accept(c, now_);
  Accept(CancelAsBooker("a"), now_);  // held: free, everything credited
  c.checkout_id = "co-3";
  c.amount = InvoiceFor("a").open();
  EXPECT_EQ(Refuse(c, now_).code, "invoice_paid");
  Accept(Paid("inv-a", "pay-b", 4000), now_);  // paid anyway: refunded at once
  EXPECT_EQ(model_.books().FindPayment("pay-b")->refunded, 4000);
}

// ---- Closed period ----

TEST_F(MoneyDecideTest, ClosePeriodOnlyForPastDaysAndOnlyForward) {
  HourlyRoom();
  Accept(Place("a", "saal", at_, at_ + kHour, true), now_);
  const LocalDay today = LocalDayOf(now_, model_.zone());
  EXPECT_EQ(Refuse(ClosePeriod{today}, now_).code, "period_not_over");
  EXPECT_EQ(Refuse(ClosePeriod{today + 3}, now_).code, "period_not_over");
  Accept(ClosePeriod{today - 2}, now_);
  EXPECT_EQ(Refuse(ClosePeriod{today - 2}, now_).code, "period_closed");
  EXPECT_EQ(Refuse(ClosePeriod{today - 5}, now_).code, "period_closed");
  Accept(ClosePeriod{today - 1}, now_);
  EXPECT_EQ(model_.books().closed_through(), today - 1);
  // Money received on a closed day cannot be booked any more.
  RecordPayment pay;
  pay.invoice = "inv-a";
  pay.reference = "K-1";
  pay.method = "cash";
  pay.amount = 6000;
  pay.currency = "EUR";
  pay.received = now_ - kDay;
  EXPECT_EQ(Refuse(pay, now_).code, "period_closed");
  pay.received = now_ + kMinute;
  EXPECT_EQ(Refuse(pay, now_).code, "validation_failed");  // not in the future
  pay.received = now_;
  Acceptance a = Accept(pay, now_);
  EXPECT_EQ(All<schema::PaymentCapturedT>(a).at(0)->payment_ref, "cash:K-1");
}

// ---- Imports ----

TEST_F(MoneyDecideTest, SettlementImportedTwiceChangesNothingTheSecondTime) {
  HourlyRoom();
  PaidBooking("a", at_);
  ImportSettlement s;
  s.file_sha256 = std::string(32, '\x11');
  s.file_name = "settlement-2026-06-02.csv";
  PayoutIn p;
  p.id = "po_1";
  p.day = LocalDayOf(now_, model_.zone());
  p.currency = "EUR";
  p.gross = 9000;
  p.fees = 150;
  p.net = 8850;
  p.items = {{"payment", "pay-a", "inv-a", 9000, 150}, {"payment", "pay-unknown", "", 500, 0}};
  s.payouts = {p};
  Acceptance first = Accept(s, now_ + kHour);
  ASSERT_EQ(first.events.size(), 2u);  // the import and one match
  const auto* m = first.events[1].payload.AsMatched();
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->kind, "payment_payout");
  EXPECT_EQ(m->subject, "pay-a");
  EXPECT_EQ(m->fee, 150);
  EXPECT_EQ(m->difference, 0);
  EXPECT_EQ(first.reply.at("unmatched").size(), 1u);
  EXPECT_EQ(model_.books().SettledIn("pay-a"), "po_1");
  Acceptance second = Accept(s, now_ + 2 * kHour);
  EXPECT_TRUE(second.events.empty());
  EXPECT_EQ(second.reply.at("already_imported"), true);
  // Another file with the same payout finds it a duplicate.
  s.file_sha256 = std::string(32, '\x22');
  Acceptance other = Accept(s, now_ + 3 * kHour);
  ASSERT_EQ(other.events.size(), 1u);
  EXPECT_EQ(other.reply.at("duplicates").size(), 1u);
}

TEST_F(MoneyDecideTest, BankLineNamingInvoiceNumberCapturesBankTransfer) {
  HourlyRoom();
  Accept(Place("a", "saal", at_, at_ + 90 * kMinute), now_);
  ASSERT_EQ(InvoiceFor("a").number, "R-2026-000001");
  ImportBankStatement st = Statement('\x33', "L1", 9000, "Saalmiete Rechnung R-2026-000001 Meier");
  BankLineIn debit = st.statements[0].lines[0];
  debit.reference = "L2";
  debit.amount = -500;
  debit.remittance = "Kontogebuehr";
  st.statements[0].lines.push_back(debit);
  Acceptance a = Accept(st, now_ + kHour);
  ASSERT_EQ(a.events.size(), 4u);
  EXPECT_EQ(a.events[0].payload.type, schema::Payload::BankStatementImported);
  EXPECT_EQ(a.events[1].payload.AsMatched()->kind, "bank_invoice");
  const auto* cap = a.events[2].payload.AsPaymentCaptured();
  ASSERT_NE(cap, nullptr);
  EXPECT_EQ(cap->method, "bank_transfer");
  EXPECT_EQ(cap->payment_ref, "bank:L1");
  EXPECT_EQ(cap->amount, 9000);
  EXPECT_EQ(cap->receipt_number, "Z-2026-000001");
  EXPECT_EQ(a.events[3].payload.type, schema::Payload::BookingConfirmed);
  EXPECT_EQ(Status("a"), BookingStatus::kConfirmed);
  EXPECT_EQ(a.reply.at("unmatched").size(), 1u);  // the debit
  // The same file again, or its lines in another file: nothing new.
  EXPECT_TRUE(Accept(st, now_ + 2 * kHour).events.empty());
  st.file_sha256 = std::string(32, '\x44');
  Acceptance again = Accept(st, now_ + 3 * kHour);
  ASSERT_EQ(again.events.size(), 1u);
  EXPECT_EQ(again.reply.at("duplicates").size(), 2u);
  EXPECT_EQ(InvoiceFor("a").captured, 9000);
}

// Issue 15, defect 4: payers often put the invoice number into the SEPA
// end-to-end reference, not the remittance; the line was left unmatched. It
// names the invoice as the remittance does, under the same rules: a line
// dated before its invoice is still never booked, and the banks'
// placeholder "NOTPROVIDED" names nothing.
TEST_F(MoneyDecideTest, EndToEndIdNamingInvoiceNumberCapturesBankTransfer) {
  HourlyRoom();
  Accept(Place("a", "saal", at_, at_ + 90 * kMinute, true), now_);
  Accept(Place("b", "saal", at_ + 3 * kHour, at_ + 4 * kHour, true), now_ + 2 * kDay);
  ASSERT_EQ(InvoiceFor("a").number, "R-2026-000001");
  ASSERT_EQ(InvoiceFor("b").number, "R-2026-000002");
  ImportBankStatement st = Statement('\x77', "L-e2e", 9000, "Saalmiete Meier");
  st.statements[0].lines[0].end_to_end_id = "R-2026-000001";
  BankLineIn early = st.statements[0].lines[0];  // dated before invoice b was issued
  early.reference = "L-early";
  early.amount = 6000;
  early.end_to_end_id = "R-2026-000002";
  BankLineIn placeholder = st.statements[0].lines[0];
  placeholder.reference = "L-none";
  placeholder.amount = 4500;
  placeholder.end_to_end_id = "NOTPROVIDED";
  st.statements[0].lines.push_back(early);
  st.statements[0].lines.push_back(placeholder);
  Acceptance a = Accept(st, now_ + 3 * kDay);
  const auto matches = All<schema::MatchedT>(a);
  ASSERT_EQ(matches.size(), 1u);
  EXPECT_EQ(matches[0]->kind, "bank_invoice");
  EXPECT_EQ(matches[0]->subject, "L-e2e");
  EXPECT_EQ(matches[0]->counterpart, "inv-a");
  const auto captured = All<schema::PaymentCapturedT>(a);
  ASSERT_EQ(captured.size(), 1u);
  EXPECT_EQ(captured[0]->payment_ref, "bank:L-e2e");
  EXPECT_EQ(captured[0]->amount, 9000);
  EXPECT_EQ(InvoiceFor("a").captured, 9000);
  EXPECT_EQ(InvoiceFor("b").captured, 0);
  const auto& unmatched = a.reply.at("unmatched");
  ASSERT_EQ(unmatched.size(), 2u);
  EXPECT_EQ(unmatched[0].at("reference"), "L-early");
  EXPECT_EQ(unmatched[0].at("end_to_end_id"), "R-2026-000002");
  EXPECT_EQ(unmatched[0].at("reason").at("code"), "dated_before_invoice");
  EXPECT_EQ(unmatched[0].at("candidates"), nlohmann::json({"R-2026-000002"}));
  EXPECT_EQ(unmatched[1].at("reference"), "L-none");
  EXPECT_FALSE(unmatched[1].contains("end_to_end_id"));
  EXPECT_FALSE(unmatched[1].contains("candidates"));
}

// Issue 15, defect 4: a camt.053 file may hold several statements (days, or
// accounts, one identified by another id than an IBAN). Each is recorded
// with its own account and balances; all their lines are matched.
TEST_F(MoneyDecideTest, FileOfSeveralStatementsRecordsEachWithItsAccount) {
  HourlyRoom();
  Accept(Place("a", "saal", at_, at_ + 90 * kMinute, true), now_);
  ImportBankStatement file = Statement('\x78', "L-1", 9000, "Rechnung R-2026-000001");
  file.statements[0].opening = 1000;
  file.statements[0].closing = 10000;
  BankStatementIn second = file.statements[0];
  second.statement_id = "2026-06-01-B";
  second.iban.clear();
  second.other_id = "0815-4711";
  second.opening = 0;
  second.closing = -500;
  second.lines[0].reference = "L-2";
  second.lines[0].amount = -500;
  second.lines[0].remittance = "Kontogebuehr";
  file.statements.push_back(second);
  Acceptance a = Accept(file, now_ + kHour);
  const auto imported = All<schema::BankStatementImportedT>(a);
  ASSERT_EQ(imported.size(), 2u);
  EXPECT_EQ(a.events[0].stream_version, 1u);
  EXPECT_EQ(a.events[1].stream_version, 2u);
  EXPECT_EQ(imported[0]->statement_id, "2026-06-01");
  EXPECT_EQ(imported[0]->iban, "DE02120300000000202051");
  EXPECT_EQ(imported[0]->account_other_id, "");
  EXPECT_EQ(imported[0]->closing, 10000);
  ASSERT_EQ(imported[0]->lines.size(), 1u);
  EXPECT_EQ(imported[1]->statement_id, "2026-06-01-B");
  EXPECT_EQ(imported[1]->iban, "");
  EXPECT_EQ(imported[1]->account_other_id, "0815-4711");
  EXPECT_EQ(imported[1]->closing, -500);
  ASSERT_EQ(imported[1]->lines.size(), 1u);
  EXPECT_EQ(imported[1]->lines[0]->reference, "L-2");
  EXPECT_EQ(a.reply.at("statements"), nlohmann::json({"2026-06-01", "2026-06-01-B"}));
  EXPECT_EQ(All<schema::PaymentCapturedT>(a).size(), 1u);
  EXPECT_EQ(a.reply.at("unmatched").size(), 1u);  // the fee
  EXPECT_TRUE(model_.books().BankLineSeen("L-2"));
  EXPECT_TRUE(Accept(file, now_ + 2 * kHour).events.empty());
  // A statement in another currency refuses the whole file.
  file.file_sha256 = std::string(32, '\x79');
  file.statements[1].currency = "CHF";
  EXPECT_EQ(Refuse(file, now_ + 3 * kHour).code, "currency_mismatch");
  file.statements.clear();
  EXPECT_EQ(Refuse(file, now_ + 3 * kHour).code, "validation_failed");
}

// Issue 15, defect 1: a statement line dated 2023 naming an invoice issued
// in 2026 became a payment, receipt and postings in 2023, before the tenant
// existed. A line dated before its invoice, or before the books begin, is
// left to a person with the reason; finance cannot record such a payment.
TEST_F(MoneyDecideTest, PaymentDatedBeforeItsInvoiceOrTheBooksIsNeverBooked) {
  HourlyRoom();
  const TimeUs issued = now_ + 5 * kDay;  // the tenant began on now_
  Accept(Place("a", "saal", at_, at_ + kHour, true), issued);
  ASSERT_EQ(InvoiceFor("a").number, "R-2026-000001");

  ImportBankStatement old = Statement('o', "L-2023", 6000, "Rechnung R-2026-000001");
  old.statements[0].lines[0].booking_day = LocalDayOf(T("2023-12-06T12:00:00Z"), model_.zone());
  old.statements[0].lines[0].value_day = old.statements[0].lines[0].booking_day;
  Acceptance a = Accept(old, issued + kDay);
  EXPECT_TRUE(All<schema::PaymentCapturedT>(a).empty());
  EXPECT_TRUE(All<schema::MatchedT>(a).empty());
  ASSERT_EQ(a.reply.at("unmatched").size(), 1u);
  EXPECT_EQ(a.reply["unmatched"][0].at("reason").at("code"), "before_books_begin");
  EXPECT_EQ(a.reply["unmatched"][0].at("candidates"), nlohmann::json({"R-2026-000001"}));

  ImportBankStatement early = Statement('e', "L-early", 6000, "Rechnung R-2026-000001");
  early.statements[0].lines[0].booking_day =
      LocalDayOf(issued - kDay, model_.zone());  // after the books began
  early.statements[0].lines[0].value_day = early.statements[0].lines[0].booking_day;
  a = Accept(early, issued + kDay);
  EXPECT_TRUE(All<schema::PaymentCapturedT>(a).empty());
  ASSERT_EQ(a.reply.at("unmatched").size(), 1u);
  EXPECT_EQ(a.reply["unmatched"][0].at("reason").at("code"), "dated_before_invoice");
  EXPECT_EQ(a.reply["unmatched"][0].at("candidates"), nlohmann::json({"R-2026-000001"}));
  EXPECT_EQ(InvoiceFor("a").captured, 0);

  RecordPayment pay;
  pay.invoice = "inv-a";
  pay.reference = "K-1";
  pay.method = "bank_transfer";
  pay.amount = 6000;
  pay.currency = "EUR";
  pay.received = T("2023-12-06T12:00:00Z");
  EXPECT_EQ(Refuse(pay, issued + kDay).code, "before_books_begin");
  pay.received = issued - kDay;
  EXPECT_EQ(Refuse(pay, issued + kDay).code, "payment_before_invoice");

  // Dated the day the invoice was issued: booked.
  ImportBankStatement right = Statement('r', "L-ok", 6000, "Rechnung R-2026-000001");
  right.statements[0].lines[0].booking_day = LocalDayOf(issued, model_.zone());
  right.statements[0].lines[0].value_day = right.statements[0].lines[0].booking_day;
  a = Accept(right, issued + kDay);
  ASSERT_EQ(All<schema::PaymentCapturedT>(a).size(), 1u);
  EXPECT_EQ(InvoiceFor("a").captured, 6000);
}

TEST_F(MoneyDecideTest, BankLineNamingSeveralInvoicesIsLeftToAPersonWithThemAsCandidates) {
  HourlyRoom();
  Accept(Place("a", "saal", at_, at_ + 90 * kMinute), now_);
  Accept(Place("b", "saal", at_ + 3 * kHour, at_ + 4 * kHour), now_);
  Accept(Place("c", "saal", at_ + 5 * kHour, at_ + 6 * kHour), now_);  // 60.00 € open, not named
  Acceptance a = Accept(Statement('\x55', "L9", 15000, "R-2026-000002 und R-2026-000001"), now_ + kHour);
  ASSERT_EQ(a.events.size(), 1u);  // the import alone: nothing matched or captured
  const auto& unmatched = a.reply.at("unmatched");
  ASSERT_EQ(unmatched.size(), 1u);
  EXPECT_EQ(unmatched[0].at("candidates"), nlohmann::json::array({"R-2026-000001", "R-2026-000002"}));
  EXPECT_EQ(InvoiceFor("a").captured, 0);
  EXPECT_EQ(InvoiceFor("b").captured, 0);
  EXPECT_EQ(model_.books().unmatched_bank().count("L9"), 1u);
}

TEST_F(MoneyDecideTest, AmountCandidatesAreListedByNumberAndAtMostFive) {
  HourlyRoom();
  for (int i = 0; i < 7; ++i) {
    const TimeUs start = at_ + i * 2 * kHour;
    // Appended, not "p" + std::to_string(i): GCC 12 at -O3 reports a false
    // -Wrestrict for that (GCC PR 105329).
    std::string id = "p";
    id += std::to_string(i);
    Accept(Place(id, "saal", start, start + kHour), now_);  // 60.00 € each
  }
  Acceptance a = Accept(Statement('\x66', "L10", 6000, "Saalmiete"), now_ + kHour);
  EXPECT_EQ(a.reply.at("unmatched").at(0).at("candidates"),
            nlohmann::json::array(
                {"R-2026-000001", "R-2026-000002", "R-2026-000003", "R-2026-000004", "R-2026-000005"}));
}

}  // namespace
}  // namespace saalbuch::commands
