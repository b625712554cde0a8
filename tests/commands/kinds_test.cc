// Decisions for every kind of resource, add-ons, qualifications, usage
// rights and the booking lifecycle: each acceptance, and each refusal with
// its code.

#include <gtest/gtest.h>

#include "tests/commands/decide_fixture.h"

namespace saalbuch::commands {
namespace {

class KindsTest : public DecideFixture {
 protected:
  void SetUp() override { MakeTenant("Europe/Berlin", now_); }

  void Make(const std::string& id, const std::string& kind, std::uint32_t capacity = 1,
            const std::string& parent = "", const std::string& qualification = "") {
    CreateResource c;
    c.id = ResourceId(id);
    c.kind = kind;
    c.name = id;
    c.capacity = capacity;
    c.parent = ResourceId(parent);
    c.requires_qualification = qualification;
    Accept(c, now_);
  }

  void Customer(const std::string& id, const std::string& group) {
    if (!model_.HasGroup(group)) Accept(DefineGroup{group, "Gruppe " + group}, now_);
    Accept(RegisterCustomer{id, group, "sbc_" + id}, now_);
  }

  // A booking by the customer `customer` (its token), or by the public.
  static PlaceBooking By(const std::string& customer, PlaceBooking p) {
    p.customer_token = "sbc_" + customer;
    return p;
  }

  Right MakeRight(const std::string& id, const std::string& resource, const std::string& group) {
    Right r;
    r.id = id;
    r.resource = ResourceId(resource);
    r.group = group;
    r.valid_from = now_;
    return r;
  }

  BookingStatus Status(const std::string& id) { return model_.FindBooking(BookingId(id))->status; }

  const TimeUs now_ = T("2026-06-01T08:00:00Z");  // a Monday
  const TimeUs at_ = T("2026-06-10T10:00:00Z");   // a Wednesday
};

TEST_F(KindsTest, PoolTakesUnitsUpToItsCapacity) {
  Make("tablets", "pool", 3);
  auto p = Place("a", "tablets", at_, at_ + kHour);
  p.units = 2;
  Accept(p, now_);
  Accept(Place("b", "tablets", at_ + kHour / 2, at_ + 2 * kHour), now_);  // 3 of 3 in use at the overlap
  Rejection full = Refuse(Place("c", "tablets", at_ + kHour / 2, at_ + kHour), now_);
  EXPECT_EQ(full.code, "capacity_exceeded");
  EXPECT_EQ(full.details.at("available"), 0);
  Accept(Place("d", "tablets", at_ + kHour, at_ + 2 * kHour), now_);  // "a" has ended: 2 in use
  p = Place("e", "tablets", at_ + 3 * kHour, at_ + 4 * kHour);
  p.units = 4;
  EXPECT_EQ(Refuse(p, now_).code, "validation_failed");
  Accept(CancelAsBooker("a"), now_);
  Accept(Place("c", "tablets", at_ + kHour / 2, at_ + kHour), now_);
}

TEST_F(KindsTest, EventSessionsHaveSeats) {
  Make("kurs", "event", 5);
  Accept(ScheduleSession{ResourceId("kurs"), "s1", {at_, at_ + 2 * kHour}, 0, "Einführung"}, now_);
  EXPECT_EQ(model_.FindResource(ResourceId("kurs"))->sessions.at("s1").seats, 5u);
  EXPECT_EQ(Refuse(Place("x", "kurs", at_, at_ + kHour), now_).code, "session_required");
  auto seat = [&](const std::string& id, std::uint32_t n, const std::string& session = "s1") {
    PlaceBooking p = Place(id, "kurs", 0, 0);
    p.session = session;
    p.units = n;
    return p;
  };
  EXPECT_EQ(Refuse(seat("x", 1, "s9"), now_).code, "not_found");
  Accept(seat("a", 3), now_);
  EXPECT_EQ(model_.FindBooking(BookingId("a"))->range, (TimeRange{at_, at_ + 2 * kHour}));
  Accept(seat("b", 2), now_);
  Rejection full = Refuse(seat("c", 1), now_);
  EXPECT_EQ(full.code, "capacity_exceeded");
  EXPECT_EQ(full.details.at("capacity"), 5);
  Accept(CancelAsStaff("b"), now_);
  Accept(seat("c", 2), now_);
  // Sessions belong to events only; their ids are unique.
  Make("saal", "room");
  EXPECT_EQ(Refuse(ScheduleSession{ResourceId("saal"), "s1", {at_, at_ + kHour}, 0, ""}, now_).code,
            "not_an_event");
  EXPECT_EQ(Refuse(ScheduleSession{ResourceId("kurs"), "s1", {at_, at_ + kHour}, 0, ""}, now_).code,
            "session_exists");
}

TEST_F(KindsTest, WholeAndPartsBlockEachOther) {
  Make("halle", "room");
  Make("halle-a", "room", 1, "halle");
  Make("halle-b", "room", 1, "halle");
  Accept(Place("a", "halle-a", at_, at_ + kHour), now_);
  Accept(Place("b", "halle-b", at_, at_ + kHour), now_);  // parts are independent
  Rejection whole = Refuse(Place("w", "halle", at_ + kHour / 2, at_ + 2 * kHour), now_);
  EXPECT_EQ(whole.code, "booking_conflict");
  EXPECT_EQ(whole.details.at("blocked_by"), "halle-a");
  Accept(Place("w", "halle", at_ + kHour, at_ + 2 * kHour), now_);  // adjacent is fine
  Rejection part = Refuse(Place("p", "halle-b", at_ + 90 * kUsPerMinute, at_ + 3 * kHour), now_);
  EXPECT_EQ(part.code, "booking_conflict");
  EXPECT_EQ(part.details.at("blocked_by"), "halle");
  // A part of a part, or a pool as a part, is refused.
  CreateResource nested;
  nested.id = ResourceId("halle-a-1");
  nested.kind = "room";
  nested.name = "x";
  nested.parent = ResourceId("halle-a");
  EXPECT_EQ(Refuse(nested, now_).code, "invalid_parent");
  nested.parent = ResourceId("halle");
  nested.kind = "pool";
  nested.capacity = 2;
  EXPECT_EQ(Refuse(nested, now_).code, "invalid_parent");
}

TEST_F(KindsTest, AddOnsAreOfferedMandatoryAndLimitedByStock) {
  Make("saal", "room");
  Make("raum", "room");
  Accept(SetAddon{"beamer", "Beamer", 1, {{ResourceId("saal"), false}, {ResourceId("raum"), false}}, {}},
         now_);
  Accept(SetAddon{"reinigung", "Endreinigung", 0, {{ResourceId("saal"), true}}, {}}, now_);
  auto with = [&](PlaceBooking p, std::vector<AddonLine> addons) {
    p.addons = std::move(addons);
    return p;
  };
  Rejection missing = Refuse(Place("a", "saal", at_, at_ + kHour), now_);
  EXPECT_EQ(missing.code, "addon_required");
  EXPECT_EQ(missing.details.at("addon"), "reinigung");
  EXPECT_EQ(Refuse(with(Place("a", "raum", at_, at_ + kHour), {{"reinigung", 1}}), now_).code,
            "addon_not_offered");
  EXPECT_EQ(Refuse(with(Place("a", "raum", at_, at_ + kHour), {{"nichts", 1}}), now_).code, "unknown_addon");
  Accept(with(Place("a", "saal", at_, at_ + kHour), {{"reinigung", 1}, {"beamer", 1}}), now_);
  Rejection stock = Refuse(with(Place("b", "raum", at_, at_ + kHour), {{"beamer", 1}}), now_);
  EXPECT_EQ(stock.code, "addon_unavailable");
  EXPECT_EQ(stock.details.at("stock"), 1);
  Accept(with(Place("b", "raum", at_ + kHour, at_ + 2 * kHour), {{"beamer", 1}}), now_);
  // Raising the stock is a new version of the add-on.
  EXPECT_EQ(Refuse(SetAddon{"beamer", "Beamer", 2, {{ResourceId("raum"), false}}, 5}, now_).code,
            "version_mismatch");
  Accept(SetAddon{"beamer", "Beamer", 2, {{ResourceId("saal"), false}, {ResourceId("raum"), false}}, 1},
         now_);
  Accept(with(Place("c", "raum", at_, at_ + kHour), {{"beamer", 1}}), now_);
}

TEST_F(KindsTest, DevicesNeedAValidQualification) {
  Make("laser", "device", 1, "", "laser");
  Customer("anna", "registered");
  Rejection anonymous = Refuse(Place("a", "laser", at_, at_ + kHour), now_);
  EXPECT_EQ(anonymous.code, "qualification_required");
  EXPECT_EQ(anonymous.refusal, Refusal::kForbidden);
  EXPECT_EQ(Refuse(By("anna", Place("a", "laser", at_, at_ + kHour)), now_).code, "qualification_required");
  Accept(GrantQualification{"anna", "laser", at_ + kHour / 2, "Einweisung 2026-05-01"}, now_);
  EXPECT_EQ(Refuse(By("anna", Place("a", "laser", at_, at_ + kHour)), now_).code, "qualification_expired");
  Accept(GrantQualification{"anna", "laser", 0, "Einweisung 2026-05-01, unbefristet"}, now_);
  Accept(By("anna", Place("a", "laser", at_, at_ + kHour)), now_);
  EXPECT_EQ(model_.FindBooking(BookingId("a"))->customer, "anna");
  Accept(RevokeQualification{"anna", "laser"}, now_);
  EXPECT_EQ(Refuse(By("anna", Place("b", "laser", at_ + kHour, at_ + 2 * kHour)), now_).code,
            "qualification_required");
  // Internal staff bookings (maintenance) need none.
  Accept(Place("m", "laser", at_ + 3 * kHour, at_ + 4 * kHour, /*by_staff=*/true), now_);
  EXPECT_EQ(Refuse(By("nobody", Place("b", "laser", at_, at_ + kHour)), now_).code, "invalid_customer_token");
}

TEST_F(KindsTest, RightsDecideWhoMayBookAndAreRecordedOnTheBooking) {
  Make("saal", "room");
  Customer("tsv", "verein");
  // Without rights a resource is open to all.
  Accept(Place("open", "saal", at_ - kDay, at_ - kDay + kHour), now_);
  EXPECT_EQ(model_.FindBooking(BookingId("open"))->right, "open");
  Right r = MakeRight("r-verein", "saal", "verein");
  r.basis = "Benutzungsordnung §4";
  Accept(GrantRight{r}, now_);
  Rejection pub = Refuse(Place("a", "saal", at_, at_ + kHour), now_);
  EXPECT_EQ(pub.code, "group_not_permitted");
  EXPECT_EQ(pub.details.at("group"), "public");
  Accept(By("tsv", Place("a", "saal", at_, at_ + kHour)), now_);
  const Booking* a = model_.FindBooking(BookingId("a"));
  EXPECT_EQ(a->right, "r-verein");
  EXPECT_EQ(a->group, "verein");
  EXPECT_EQ(a->status, BookingStatus::kConfirmed);
  // A right may forbid; the latest valid right wins; revoking ends it.
  Right no = MakeRight("r-no", "saal", "verein");
  no.may_book = false;
  Accept(GrantRight{no}, now_);
  EXPECT_EQ(Refuse(By("tsv", Place("b", "saal", at_ + kHour, at_ + 2 * kHour)), now_).code,
            "group_not_permitted");
  Accept(RevokeRight{"r-no", "Beschluss vom 2026-06-01"}, now_);
  Accept(By("tsv", Place("b", "saal", at_ + kHour, at_ + 2 * kHour)), now_);
  EXPECT_EQ(Refuse(RevokeRight{"r-no", ""}, now_).code, "already_revoked");
  // A right that starts later does not apply yet.
  Right later = MakeRight("r-later", "saal", "schule");
  Accept(DefineGroup{"schule", "Schulen"}, now_);
  later.valid_from = now_ + 30 * kDay;
  Accept(GrantRight{later}, now_);
  Customer("gs", "schule");
  EXPECT_EQ(Refuse(By("gs", Place("c", "saal", at_ + 3 * kHour, at_ + 4 * kHour)), now_).code,
            "group_not_permitted");
  // Bad grants.
  EXPECT_EQ(Refuse(GrantRight{MakeRight("r-x", "saal", "nobody")}, now_).code, "unknown_group");
  Right quota_public = MakeRight("r-q", "saal", "public");
  quota_public.quota = 60 * kUsPerMinute;
  quota_public.quota_period = "week";
  EXPECT_EQ(Refuse(GrantRight{quota_public}, now_).code, "quota_needs_customers");
  quota_public.group = "verein";
  quota_public.quota_period = "fortnight";
  EXPECT_EQ(Refuse(GrantRight{quota_public}, now_).code, "validation_failed");
}

// Issue 19, item 1: a part of a hall inherits the hall's usage rights unless
// it has rights of its own — for single bookings, series and reschedules —
// and a quota of the hall counts the bookings of its parts.
TEST_F(KindsTest, PartsOfAHallInheritItsRightsUnlessTheyHaveTheirOwn) {
  Make("halle", "room");
  Make("halle-a", "room", 1, "halle");
  Make("halle-b", "room", 1, "halle");
  Customer("tsv", "verein");
  // Booked while the hall was still open to all.
  Accept(Place("early", "halle-a", at_ + 5 * kDay, at_ + 5 * kDay + kHour), now_);
  Right club = MakeRight("r-halle", "halle", "verein");
  club.quota = 120 * kUsPerMinute;
  club.quota_period = "week";
  Accept(GrantRight{club}, now_);

  Rejection part = Refuse(Place("p", "halle-a", at_, at_ + kHour), now_);
  EXPECT_EQ(part.code, "group_not_permitted");
  EXPECT_EQ(part.details.at("group"), "public");
  PlaceSeries s;
  s.id = "sr-public";
  s.first = Place("", "halle-b", at_, at_ + kHour);
  s.rrule = "FREQ=WEEKLY;COUNT=2";
  s.occurrences = {{at_, at_ + kHour}, {at_ + 7 * kDay, at_ + 7 * kDay + kHour}};
  s.ids = {BookingId("s0"), BookingId("s1")};
  Rejection series = Refuse(s, now_);
  EXPECT_EQ(series.code, "series_conflict");
  EXPECT_EQ(series.details["occurrences"][0]["code"], "group_not_permitted");
  s.skip_conflicts = true;
  EXPECT_EQ(Refuse(s, now_).code, "no_occurrence_bookable");
  RescheduleBooking move{
      BookingId("early"), {at_ + 6 * kDay, at_ + 6 * kDay + kHour}, "", false, "token-early", {}};
  EXPECT_EQ(Refuse(move, now_).code, "group_not_permitted");

  // The club books a part under the hall's right; the hall's quota counts
  // the whole and its parts together.
  Accept(By("tsv", Place("a", "halle-a", at_, at_ + kHour)), now_);
  EXPECT_EQ(model_.FindBooking(BookingId("a"))->right, "r-halle");
  Accept(By("tsv", Place("h", "halle", at_ + kDay, at_ + kDay + kHour)), now_);
  Rejection over = Refuse(By("tsv", Place("b", "halle-b", at_ + 2 * kDay, at_ + 2 * kDay + kHour)), now_);
  EXPECT_EQ(over.code, "quota_exceeded");
  EXPECT_EQ(over.details.at("used_minutes"), 120);

  // A part with rights of its own follows those.
  Accept(GrantRight{MakeRight("r-b-public", "halle-b", "public")}, now_);
  Accept(Place("pb", "halle-b", at_ + 3 * kDay, at_ + 3 * kDay + kHour), now_);
  EXPECT_EQ(model_.FindBooking(BookingId("pb"))->right, "r-b-public");
  EXPECT_EQ(Refuse(Place("pa", "halle-a", at_ + 3 * kDay, at_ + 3 * kDay + kHour), now_).code,
            "group_not_permitted");
}

TEST_F(KindsTest, QuotaCountsPerCustomerAndLocalWeek) {
  Make("saal", "room");
  Customer("tsv", "verein");
  Customer("fc", "verein");
  Right r = MakeRight("r", "saal", "verein");
  r.quota = 120 * kUsPerMinute;
  r.quota_period = "week";
  Accept(GrantRight{r}, now_);
  Accept(By("tsv", Place("a", "saal", at_, at_ + kHour)), now_);
  Accept(By("tsv", Place("b", "saal", at_ + kDay, at_ + kDay + kHour)), now_);
  Rejection over = Refuse(By("tsv", Place("c", "saal", at_ + 2 * kDay, at_ + 2 * kDay + kHour)), now_);
  EXPECT_EQ(over.code, "quota_exceeded");
  EXPECT_EQ(over.details.at("used_minutes"), 120);
  EXPECT_EQ(over.details.at("period_from"), "2026-06-08");
  EXPECT_EQ(over.details.at("period_to"), "2026-06-14");
  Accept(By("fc", Place("c", "saal", at_ + 2 * kDay, at_ + 2 * kDay + kHour)), now_);   // another customer
  Accept(By("tsv", Place("d", "saal", at_ + 7 * kDay, at_ + 7 * kDay + kHour)), now_);  // next week
  Accept(CancelAsBooker("a"), now_);  // cancelled bookings give their minutes back
  Accept(By("tsv", Place("e", "saal", at_ + 3 * kDay, at_ + 3 * kDay + kHour)), now_);
  // Customer ids become keys: slugs or generated "cu_…" only.
  EXPECT_EQ(Refuse(RegisterCustomer{"cu_a/b", "verein", "t"}, now_).code, "validation_failed");
  EXPECT_EQ(Refuse(RegisterCustomer{"neu", "niemand", "t"}, now_).code, "unknown_group");
  EXPECT_EQ(Refuse(RegisterCustomer{"tsv", "verein", "t"}, now_).code, "customer_exists");
  // Public bookers have no quota to count against.
  EXPECT_EQ(Refuse(Place("p", "saal", at_ + 4 * kDay, at_ + 4 * kDay + kHour), now_).code,
            "group_not_permitted");
}

TEST_F(KindsTest, ApprovalHoldExpiryAndTheRestOfTheLifecycle) {
  Make("saal", "room");
  Customer("tsv", "verein");
  Right r = MakeRight("r", "saal", "verein");
  r.needs_approval = true;
  r.hold = true;
  Accept(GrantRight{r}, now_);
  Accept(SetSettings{2 * kHour}, now_);
  Accept(By("tsv", Place("a", "saal", at_, at_ + kHour)), now_);
  EXPECT_EQ(Status("a"), BookingStatus::kRequested);
  // A request already blocks the time.
  EXPECT_EQ(Refuse(Place("x", "saal", at_, at_ + kHour, true), now_).code, "booking_conflict");
  EXPECT_EQ(Refuse(ConfirmBooking{BookingId("a"), {}}, now_).code, "invalid_transition");
  Acceptance approved = Accept(ApproveBooking{BookingId("a"), "ok", {}}, now_);
  EXPECT_EQ(approved.reply.at("status"), "held");
  EXPECT_EQ(Status("a"), BookingStatus::kHeld);
  EXPECT_EQ(model_.FindBooking(BookingId("a"))->hold_until, now_ + 2 * kHour);
  EXPECT_EQ(Refuse(ApproveBooking{BookingId("a"), "", {}}, now_).code, "invalid_transition");
  // Nothing expires before the deadline; at the deadline the hold ends and
  // the time is free again.
  EXPECT_TRUE(Accept(ExpireHolds{}, now_ + kHour).events.empty());
  Acceptance expired = Accept(ExpireHolds{}, now_ + 2 * kHour);
  ASSERT_EQ(expired.events.size(), 1u);
  EXPECT_EQ(expired.events[0].payload.type, schema::Payload::BookingExpired);
  EXPECT_EQ(Status("a"), BookingStatus::kExpired);
  EXPECT_TRUE(model_.holds().empty());
  Accept(Place("x", "saal", at_, at_ + kHour, true), now_ + 2 * kHour);
  EXPECT_EQ(Refuse(CancelAsBooker("a"), now_ + 2 * kHour).code, "invalid_transition");

  // Reject frees the time; confirm ends a hold; completion needs a start.
  Accept(By("tsv", Place("b", "saal", at_ + kHour, at_ + 2 * kHour)), now_);
  Accept(RejectBooking{BookingId("b"), "Hausmeister fehlt", {}}, now_);
  EXPECT_EQ(Status("b"), BookingStatus::kRejected);
  Accept(By("tsv", Place("c", "saal", at_ + kHour, at_ + 2 * kHour)), now_);
  Accept(ApproveBooking{BookingId("c"), "", {}}, now_);
  Accept(ConfirmBooking{BookingId("c"), {}}, now_);
  EXPECT_EQ(Status("c"), BookingStatus::kConfirmed);
  EXPECT_TRUE(Accept(ExpireHolds{}, now_ + 3 * kHour).events.empty());
  EXPECT_EQ(Refuse(CompleteBooking{BookingId("c"), false, {}}, now_).code, "booking_not_started");
  EXPECT_EQ(Refuse(CompleteBooking{BookingId("c"), false, 1}, at_ + kHour).code, "version_mismatch");
  Accept(CompleteBooking{BookingId("c"), true, {}}, at_ + kHour);
  EXPECT_EQ(Status("c"), BookingStatus::kNoShow);
  // Staff book on behalf of a customer without approval.
  PlaceBooking staff = Place("d", "saal", at_ + 3 * kHour, at_ + 4 * kHour, true);
  staff.customer = "tsv";
  Accept(staff, now_);
  EXPECT_EQ(Status("d"), BookingStatus::kHeld);  // the right says hold
  EXPECT_EQ(model_.FindBooking(BookingId("d"))->customer, "tsv");
  staff.id = BookingId("e");
  staff.customer = "unknown";
  EXPECT_EQ(Refuse(staff, now_).code, "unknown_customer");
  // Only staff book on behalf of someone or place as held.
  PlaceBooking sneaky = Place("f", "saal", at_ + 5 * kHour, at_ + 6 * kHour);
  sneaky.customer = "tsv";
  EXPECT_EQ(Refuse(sneaky, now_).code, "validation_failed");
  sneaky.customer.clear();
  sneaky.hold = true;
  EXPECT_EQ(Refuse(sneaky, now_).code, "validation_failed");
}

TEST_F(KindsTest, RescheduleUsesTheChecksOfANewBookingWithoutItself) {
  Make("saal", "room");
  Accept(Place("a", "saal", at_, at_ + kHour), now_);
  Accept(Place("b", "saal", at_ + 2 * kHour, at_ + 3 * kHour), now_);
  RescheduleBooking move{
      BookingId("a"), {at_ + 30 * kUsPerMinute, at_ + 90 * kUsPerMinute}, "", false, "token-a", {}};
  Acceptance moved = Accept(move, now_);  // overlaps only its old self
  EXPECT_EQ(moved.reply.at("start"), FormatUtc(at_ + 30 * kUsPerMinute));
  EXPECT_EQ(model_.FindBooking(BookingId("a"))->range.start, at_ + 30 * kUsPerMinute);
  move.range = {at_ + 150 * kUsPerMinute, at_ + 4 * kHour};
  EXPECT_EQ(Refuse(move, now_).code, "booking_conflict");
  move.manage_token = "token-b";
  EXPECT_EQ(Refuse(move, now_).code, "not_found");
  move.manage_token = "token-a";
  move.range = {now_ - kHour, now_};
  EXPECT_EQ(Refuse(move, now_).code, "starts_in_the_past");
  // The old time is free again.
  Accept(Place("c", "saal", at_, at_ + 30 * kUsPerMinute), now_);
  move.range = {at_ + 3 * kHour, at_ + 4 * kHour};
  move.if_match = 1;
  EXPECT_EQ(Refuse(move, now_).code, "version_mismatch");
}

// Issue 15, defect 6: the occurrences of a refused series that could have
// been booked were reported "confirmed" with booking numbers that later
// went to other bookings. Not booked: no status, no number.
TEST_F(KindsTest, RefusedSeriesGivesUnbookedOccurrencesNoStatusAndNoNumber) {
  Make("halle", "room");
  Accept(Place("x", "halle", at_ + 7 * kDay, at_ + 7 * kDay + kHour, true), now_);  // second week taken
  PlaceSeries s;
  s.id = "sr-1";
  s.first = Place("", "halle", at_, at_ + kHour);
  s.rrule = "FREQ=WEEKLY;COUNT=3";
  for (int i = 0; i < 3; ++i) {
    s.occurrences.push_back({at_ + i * 7 * kDay, at_ + i * 7 * kDay + kHour});
    s.ids.emplace_back("o" + std::to_string(i));
  }
  Rejection all = Refuse(s, now_);
  ASSERT_EQ(all.code, "series_conflict");
  ASSERT_EQ(all.details.at("occurrences").size(), 3u);
  for (int i : {0, 2}) {
    const auto& o = all.details["occurrences"][i];
    EXPECT_EQ(o.at("outcome"), "not_booked") << o.dump();
    EXPECT_FALSE(o.contains("status")) << o.dump();
    EXPECT_FALSE(o.contains("number")) << o.dump();
    EXPECT_FALSE(o.contains("booking")) << o.dump();
  }
  // The next booking gets the next number, which the refusal did not name.
  Acceptance next = Accept(Place("y", "halle", at_ + 30 * kDay, at_ + 30 * kDay + kHour, true), now_);
  EXPECT_EQ(next.reply.at("number"), "B-2026-000002");
}

TEST_F(KindsTest, SeriesIsAllOrNothingOrSkipsConflicts) {
  Make("halle", "room");
  Accept(Place("x", "halle", at_ + 14 * kDay, at_ + 14 * kDay + kHour, true), now_);  // third week taken
  PlaceSeries s;
  s.id = "sr-1";
  s.first = Place("", "halle", at_, at_ + kHour);
  s.rrule = "FREQ=WEEKLY;COUNT=4";
  for (int i = 0; i < 4; ++i) {
    s.occurrences.push_back({at_ + i * 7 * kDay, at_ + i * 7 * kDay + kHour});
    s.ids.emplace_back("o" + std::to_string(i));
  }
  Rejection all = Refuse(s, now_);
  EXPECT_EQ(all.code, "series_conflict");
  ASSERT_EQ(all.details.at("occurrences").size(), 4u);
  EXPECT_EQ(all.details["occurrences"][2]["outcome"], "refused");
  EXPECT_EQ(all.details["occurrences"][2]["code"], "booking_conflict");
  EXPECT_EQ(all.details["occurrences"][0]["outcome"], "not_booked");
  EXPECT_EQ(model_.FindBooking(BookingId("o0")), nullptr);

  s.skip_conflicts = true;
  Acceptance some = Accept(s, now_);
  EXPECT_EQ(some.reply.at("booked"), 3);
  EXPECT_EQ(some.reply.at("refused"), 1);
  EXPECT_EQ(some.events.size(), 4u);  // SeriesPlaced + 3 bookings
  EXPECT_EQ(model_.FindBooking(BookingId("o3"))->series, "sr-1");
  // Numbers run on without gaps.
  EXPECT_EQ(model_.FindBooking(BookingId("o0"))->number, "B-2026-000002");
  EXPECT_EQ(model_.FindBooking(BookingId("o3"))->number, "B-2026-000004");
  EXPECT_EQ(Refuse(s, now_).code, "series_exists");

  // Occurrences of one series that overlap each other are caught too.
  PlaceSeries daily = s;
  daily.id = "sr-2";
  daily.skip_conflicts = false;
  daily.first = Place("", "halle", at_ + 60 * kDay, at_ + 60 * kDay + 30 * kHour);
  daily.occurrences = {{at_ + 60 * kDay, at_ + 60 * kDay + 30 * kHour},
                       {at_ + 61 * kDay, at_ + 61 * kDay + 30 * kHour}};
  daily.ids = {BookingId("d0"), BookingId("d1")};
  EXPECT_EQ(Refuse(daily, now_).code, "series_conflict");

  // Cancel "this and all following" from the second occurrence.
  Acceptance cancelled = Accept(CancelSeries{"sr-1", at_ + 7 * kDay, "Saisonende", false, "token-"}, now_);
  EXPECT_EQ(cancelled.reply.at("cancelled").size(), 2u);
  EXPECT_EQ(Status("o0"), BookingStatus::kConfirmed);
  EXPECT_EQ(Status("o1"), BookingStatus::kCancelled);
  EXPECT_EQ(Status("o3"), BookingStatus::kCancelled);
  EXPECT_EQ(Refuse(CancelSeries{"sr-1", 0, "", false, "wrong"}, now_).code, "not_found");
}

}  // namespace
}  // namespace saalbuch::commands
