// Decide against a TenantModel folded from Decide's own accepted events:
// tenants, resources and their rules, placing and cancelling bookings.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/commands/decide_fixture.h"

namespace saalbuch::commands {
namespace {

std::string HashOf(std::string_view secret) { return std::string(AsBytes(Sha256Of(secret))); }

// ---- Tenants ----

TEST_F(DecideFixture, CreateTenantWithUnknownZoneIsRefused) {
  const TimeUs now = T("2026-03-02T08:00:00Z");
  for (const char* zone : {"Mars/Olympus_Mons", "", "europe/berlin", "Europe/Berlin "}) {
    CreateTenant c{TenantId("stadt"), "Stadt", zone, "admin", "key"};
    Rejection r = Refuse(c, now);
    EXPECT_EQ(r.code, "unknown_time_zone") << "'" << zone << "'";
    EXPECT_EQ(r.refusal, Refusal::kUnprocessable);
  }
  EXPECT_FALSE(model_.exists());
}

TEST_F(DecideFixture, CreateTenantRecordsTheZoneAndOnlyTheHashOfTheAdminKey) {
  CreateTenant c{TenantId("stadt"), "Stadt Musterhausen", "Europe/Berlin", "admin-1", "plain-secret"};
  Acceptance a = Accept(c, T("2026-03-02T08:00:00Z"));
  EXPECT_TRUE(a.created);
  ASSERT_EQ(a.events.size(), 2u);
  const auto* tc = a.events[0].payload.AsTenantCreated();
  ASSERT_NE(tc, nullptr);
  EXPECT_EQ(tc->name, "Stadt Musterhausen");
  EXPECT_EQ(tc->time_zone, "Europe/Berlin");
  const auto* kc = a.events[1].payload.AsApiKeyCreated();
  ASSERT_NE(kc, nullptr);
  EXPECT_EQ(kc->role, "admin");
  EXPECT_EQ(std::string(kc->key_hash.begin(), kc->key_hash.end()), HashOf("plain-secret"));
  EXPECT_EQ(a.reply.at("admin_key").at("key"), "plain-secret");  // shown once, in the reply only

  ASSERT_TRUE(model_.exists());
  EXPECT_EQ(model_.zone()->name(), "Europe/Berlin");
  auto it = model_.keys().find(HashOf("plain-secret"));
  ASSERT_NE(it, model_.keys().end());
  EXPECT_EQ(it->second.id, "admin-1");
  EXPECT_EQ(it->second.role, Role::kAdmin);
  EXPECT_EQ(model_.position(), 2u);
}

TEST_F(DecideFixture, CreateTenantTwiceIsRefusedAsTenantExists) {
  MakeTenant("Europe/Berlin", T("2026-03-02T08:00:00Z"));
  CreateTenant again{TenantId("stadt"), "Other", "UTC", "admin", "k"};
  Rejection r = Refuse(again, T("2026-03-02T09:00:00Z"));
  EXPECT_EQ(r.code, "tenant_exists");
  EXPECT_EQ(r.refusal, Refusal::kConflict);
  EXPECT_EQ(model_.zone()->name(), "Europe/Berlin");
}

TEST_F(DecideFixture, CreateTenantWithBadIdOrNameIsRefused) {
  const TimeUs now = T("2026-03-02T08:00:00Z");
  EXPECT_EQ(Refuse(CreateTenant{TenantId("Stadt!"), "S", "UTC", "a", "k"}, now).code, "validation_failed");
  EXPECT_EQ(Refuse(CreateTenant{TenantId("-stadt"), "S", "UTC", "a", "k"}, now).code, "validation_failed");
  EXPECT_EQ(Refuse(CreateTenant{TenantId("stadt"), "", "UTC", "a", "k"}, now).code, "validation_failed");
  EXPECT_EQ(Refuse(CreateTenant{TenantId("stadt"), std::string(201, 'n'), "UTC", "a", "k"}, now).code,
            "validation_failed");
}

TEST_F(DecideFixture, CommandsForAMissingTenantAreNotFound) {
  const TimeUs now = T("2026-03-02T08:00:00Z");
  CreateResource c{ResourceId("saal"), "room", "Saal", "", std::nullopt, 1, {}, {}};
  Rejection r = Refuse(c, now);
  EXPECT_EQ(r.code, "not_found");
  EXPECT_EQ(r.refusal, Refusal::kNotFound);
  EXPECT_EQ(Refuse(Place("bk", "saal", now + kDay, now + kDay + kHour), now).code, "not_found");
}

// ---- Resources and rules ----

class DecideTest : public DecideFixture {
 protected:
  void SetUp() override {
    now_ = T("2026-03-02T09:00:00+01:00");  // a Monday in winter time
    MakeTenant("Europe/Berlin", now_);
  }
  // Wednesday 2026-03-04 at local wall time "hh:mm" (CET, +01:00).
  static TimeUs Wed(const std::string& hhmm) { return T("2026-03-04T" + hhmm + ":00+01:00"); }

  TimeUs now_ = 0;
};

TEST_F(DecideTest, ResourceWithoutRulesIsCreatedAlwaysOpenAtVersionTwo) {
  CreateResource c{ResourceId("saal-1"), "room", "Großer Saal", "with stage", std::nullopt, 1, {}, {}};
  Acceptance a = Accept(c, now_);
  EXPECT_TRUE(a.created);
  ASSERT_EQ(a.events.size(), 2u);
  EXPECT_EQ(a.events[0].stream_id, "resource/saal-1");
  EXPECT_EQ(a.events[0].stream_version, 1u);
  ASSERT_NE(a.events[0].payload.AsResourceCreated(), nullptr);
  EXPECT_EQ(a.events[1].stream_version, 2u);
  const auto* rules = a.events[1].payload.AsRulesSet();
  ASSERT_NE(rules, nullptr);
  EXPECT_EQ(rules->opening.size(), 7u);
  EXPECT_EQ(a.reply.at("version"), 2);

  const Resource* res = model_.FindResource(ResourceId("saal-1"));
  ASSERT_NE(res, nullptr);
  EXPECT_EQ(res->version, 2u);
  EXPECT_EQ(res->rules.opening, Rules::AlwaysOpen().opening);
}

TEST_F(DecideTest, CreateResourceRefusesInvalidInput) {
  auto refuse = [&](CreateResource c) { return Refuse(c, now_); };
  auto base = [] { return CreateResource{ResourceId("saal"), "room", "Saal", "", std::nullopt, 1, {}, {}}; };

  auto c = base();
  c.id = ResourceId("Saal 1");
  EXPECT_EQ(refuse(c).code, "validation_failed");
  c.id = ResourceId("");
  EXPECT_EQ(refuse(c).code, "validation_failed");
  c = base();
  c.kind = "castle";
  Rejection kind = refuse(c);
  EXPECT_EQ(kind.code, "unsupported_kind");
  EXPECT_EQ(kind.details.at("kind"), "castle");
  c = base();
  c.name = "";
  EXPECT_EQ(refuse(c).code, "validation_failed");
  c = base();
  c.description = std::string(4001, 'd');
  EXPECT_EQ(refuse(c).code, "validation_failed");

  const std::vector<Rules> bad_rules = [] {
    std::vector<Rules> v;
    Rules r;
    r.opening = {{0, 480, 600}};  // weekday 0
    v.push_back(r);
    r.opening = {{8, 480, 600}};  // weekday 8
    v.push_back(r);
    r.opening = {{1, 600, 600}};  // empty interval
    v.push_back(r);
    r.opening = {{1, 600, 540}};  // end before start
    v.push_back(r);
    r.opening = {{1, 0, 1441}};  // past midnight
    v.push_back(r);
    r.opening = {{1, -10, 60}};  // before midnight
    v.push_back(r);
    r = Rules::AlwaysOpen();
    r.buffer_after = -kUsPerMinute;
    v.push_back(r);
    r = Rules::AlwaysOpen();
    r.min_duration = 2 * kHour;
    r.max_duration = kHour;
    v.push_back(r);
    r = Rules::AlwaysOpen();
    r.horizon = 11 * 366 * kDay;
    v.push_back(r);
    return v;
  }();
  for (std::size_t i = 0; i < bad_rules.size(); ++i) {
    c = base();
    c.rules = bad_rules[i];
    EXPECT_EQ(refuse(c).code, "validation_failed") << "bad rules #" << i;
  }
  EXPECT_EQ(model_.FindResource(ResourceId("saal")), nullptr);

  Accept(base(), now_);
  Rejection dup = refuse(base());
  EXPECT_EQ(dup.code, "resource_exists");
  EXPECT_EQ(dup.refusal, Refusal::kConflict);
}

TEST_F(DecideTest, SetRulesWithStaleIfMatchIsAVersionMismatch) {
  MakeRoom("saal", std::nullopt, now_);  // version 2
  SetRules stale{ResourceId("saal"), OpenDays(1, 5, 8 * 60, 18 * 60), 1};
  Rejection r = Refuse(stale, now_);
  EXPECT_EQ(r.code, "version_mismatch");
  EXPECT_EQ(r.refusal, Refusal::kPrecondition);
  EXPECT_EQ(r.details.at("expected"), 1);
  EXPECT_EQ(r.details.at("current"), 2);
  EXPECT_EQ(model_.FindResource(ResourceId("saal"))->rules.opening.size(), 7u) << "rules must be unchanged";

  SetRules fresh{ResourceId("saal"), OpenDays(1, 5, 8 * 60, 18 * 60), 2};
  Acceptance a = Accept(fresh, now_);
  EXPECT_FALSE(a.created);
  EXPECT_EQ(a.reply.at("version"), 3);
  ASSERT_EQ(a.events.size(), 1u);
  EXPECT_EQ(a.events[0].stream_version, 3u);
  const Resource* res = model_.FindResource(ResourceId("saal"));
  EXPECT_EQ(res->version, 3u);
  EXPECT_EQ(res->rules.opening.size(), 5u);

  // The If-Match that was right a moment ago is now stale.
  EXPECT_EQ(Refuse(fresh, now_).code, "version_mismatch");
  // Without If-Match the change is unconditional.
  SetRules blind{ResourceId("saal"), Rules::AlwaysOpen(), std::nullopt};
  EXPECT_EQ(Accept(blind, now_).reply.at("version"), 4);

  SetRules unknown{ResourceId("keller"), Rules::AlwaysOpen(), std::nullopt};
  EXPECT_EQ(Refuse(unknown, now_).code, "not_found");
}

// ---- Placing bookings ----

TEST_F(DecideTest, PlacedBookingIsNumberedAndRecordedWithHashedManageToken) {
  MakeRoom("saal", OpenDays(1, 5, 8 * 60, 18 * 60), now_);
  Acceptance a = Accept(Place("bk-1", "saal", Wed("10:00"), Wed("12:00")), now_);
  EXPECT_TRUE(a.created);
  EXPECT_EQ(a.reply.at("number"), "B-2026-000001");
  EXPECT_EQ(a.reply.at("status"), "confirmed");
  EXPECT_EQ(a.reply.at("version"), 1);
  EXPECT_EQ(a.reply.at("manage_token"), "token-bk-1");
  EXPECT_EQ(a.reply.at("start"), "2026-03-04T09:00:00Z");
  EXPECT_EQ(a.reply.at("end"), "2026-03-04T11:00:00Z");
  EXPECT_EQ(a.reply.at("start_local"), "2026-03-04T10:00:00+01:00");
  EXPECT_EQ(a.reply.at("time_zone"), "Europe/Berlin");

  ASSERT_EQ(a.events.size(), 1u);
  const auto& ev = a.events[0];
  EXPECT_EQ(ev.stream_id, "booking/bk-1");
  EXPECT_EQ(ev.stream_version, 1u);
  EXPECT_EQ(ev.recorded_at, now_);
  EXPECT_EQ(ev.actor, "key:admin");
  const auto* p = ev.payload.AsBookingPlaced();
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->number, "B-2026-000001");
  EXPECT_EQ(p->resource_id, "saal");
  EXPECT_EQ(p->start_us, Wed("10:00"));
  EXPECT_EQ(p->end_us, Wed("12:00"));
  EXPECT_EQ(p->blocked_start_us, Wed("10:00"));
  EXPECT_EQ(p->blocked_end_us, Wed("12:00"));
  EXPECT_EQ(std::string(p->manage_token_hash.begin(), p->manage_token_hash.end()), HashOf("token-bk-1"));
  EXPECT_EQ(p->channel, "public");

  const Booking* b = model_.FindBooking(BookingId("bk-1"));
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->status, BookingStatus::kConfirmed);

  Acceptance second = Accept(Place("bk-2", "saal", Wed("13:00"), Wed("14:00")), now_);
  EXPECT_EQ(second.reply.at("number"), "B-2026-000002");
}

TEST_F(DecideTest, StaffBookingCarriesNoManageToken) {
  MakeRoom("saal", std::nullopt, now_);
  Acceptance a = Accept(Place("bk-s", "saal", Wed("10:00"), Wed("11:00"), /*by_staff=*/true), now_);
  EXPECT_FALSE(a.reply.contains("manage_token"));
  const auto* p = a.events.at(0).payload.AsBookingPlaced();
  ASSERT_NE(p, nullptr);
  EXPECT_TRUE(p->manage_token_hash.empty());
  EXPECT_EQ(p->channel, "staff");
}

TEST_F(DecideTest, BookingNumberFollowsTheLocalYearOfTheDecision) {
  MakeRoom("saal", std::nullopt, now_);
  Accept(Place("bk-old", "saal", Wed("10:00"), Wed("11:00")), now_);
  // 23:30 UTC on New Year's Eve is already 2027 in Berlin.
  const TimeUs new_year = T("2026-12-31T23:30:00Z");
  Acceptance a =
      Accept(Place("bk-new", "saal", T("2027-01-05T10:00:00Z"), T("2027-01-05T11:00:00Z")), new_year);
  EXPECT_EQ(a.reply.at("number"), "B-2027-000001");
}

TEST_F(DecideTest, DuplicateBookingIdOrEmptyRangeIsRefused) {
  MakeRoom("saal", std::nullopt, now_);
  Accept(Place("bk-1", "saal", Wed("10:00"), Wed("11:00")), now_);
  Rejection dup = Refuse(Place("bk-1", "saal", Wed("14:00"), Wed("15:00")), now_);
  EXPECT_EQ(dup.code, "booking_exists");
  EXPECT_EQ(Refuse(Place("bk-2", "saal", Wed("15:00"), Wed("15:00")), now_).code, "validation_failed");
  EXPECT_EQ(Refuse(Place("bk-3", "saal", Wed("15:00"), Wed("14:00")), now_).code, "validation_failed");
  EXPECT_EQ(Refuse(Place("bk-4", "keller", Wed("15:00"), Wed("16:00")), now_).code, "not_found");
}

TEST_F(DecideTest, OverlappingBookingIsRefusedNamingTheConflict) {
  MakeRoom("saal", std::nullopt, now_);
  MakeRoom("foyer", std::nullopt, now_);
  Accept(Place("bk-1", "saal", Wed("10:00"), Wed("12:00")), now_);

  Rejection r = Refuse(Place("bk-2", "saal", Wed("11:00"), Wed("13:00")), now_);
  EXPECT_EQ(r.code, "booking_conflict");
  EXPECT_EQ(r.refusal, Refusal::kConflict);
  ASSERT_TRUE(r.details.contains("conflict")) << r.details.dump();
  EXPECT_EQ(r.details.at("conflict").at("start"), "2026-03-04T09:00:00Z");
  EXPECT_EQ(r.details.at("conflict").at("end"), "2026-03-04T11:00:00Z");
  EXPECT_EQ(r.details.at("conflict").at("start_local"), "2026-03-04T10:00:00+01:00");

  EXPECT_EQ(Refuse(Place("bk-3", "saal", Wed("10:30"), Wed("11:00")), now_).code, "booking_conflict");
  EXPECT_EQ(Refuse(Place("bk-4", "saal", Wed("09:00"), Wed("13:00")), now_).code, "booking_conflict");
  EXPECT_EQ(Refuse(Place("bk-5", "saal", Wed("09:00"), Wed("10:01")), now_).code, "booking_conflict");
  EXPECT_EQ(Refuse(Place("bk-6", "saal", Wed("10:00"), Wed("12:00")), now_).code, "booking_conflict");
  EXPECT_EQ(model_.FindBooking(BookingId("bk-2")), nullptr);

  // Another resource at the same time is free.
  Accept(Place("bk-7", "foyer", Wed("10:00"), Wed("12:00")), now_);
}

TEST_F(DecideTest, ConflictIsFoundAmongManyBookings) {
  MakeRoom("saal", std::nullopt, now_);
  // A long booking followed by many short ones; a request overlapping only
  // the long one's tail must still clash.
  Accept(Place("long", "saal", Wed("08:00"), Wed("12:00")), now_);
  for (int h = 12; h < 20; ++h) {
    Accept(Place("short-" + std::to_string(h), "saal", Wed(std::to_string(h) + ":00"),
                 Wed(std::to_string(h) + ":30")),
           now_);
  }
  EXPECT_EQ(Refuse(Place("tail", "saal", Wed("11:45"), Wed("12:00")), now_).code, "booking_conflict");
  EXPECT_EQ(Refuse(Place("mid", "saal", Wed("15:15"), Wed("15:45")), now_).code, "booking_conflict");
  Accept(Place("gap", "saal", Wed("15:30"), Wed("16:00")), now_);
}

TEST_F(DecideTest, BufferAfterMakesTheAdjacentNextBookingClash) {
  Rules rules = Rules::AlwaysOpen();
  rules.buffer_after = 30 * kUsPerMinute;
  MakeRoom("saal", rules, now_);
  Acceptance first = Accept(Place("bk-1", "saal", Wed("10:00"), Wed("11:00")), now_);
  const auto* p = first.events.at(0).payload.AsBookingPlaced();
  EXPECT_EQ(p->blocked_start_us, Wed("10:00"));
  EXPECT_EQ(p->blocked_end_us, Wed("11:30"));

  Rejection r = Refuse(Place("bk-2", "saal", Wed("11:00"), Wed("12:00")), now_);
  EXPECT_EQ(r.code, "booking_conflict");
  EXPECT_EQ(r.details.at("conflict").at("end_local"), "2026-03-04T11:30:00+01:00");
  // Its own buffer after also counts: a booking right before bk-1 clashes.
  EXPECT_EQ(Refuse(Place("bk-3", "saal", Wed("09:00"), Wed("10:00")), now_).code, "booking_conflict");
  Accept(Place("bk-4", "saal", Wed("11:30"), Wed("12:30")), now_);
  Accept(Place("bk-5", "saal", Wed("08:30"), Wed("09:30")), now_);
}

TEST_F(DecideTest, BufferBeforeMakesTheAdjacentNextBookingClash) {
  Rules rules = Rules::AlwaysOpen();
  rules.buffer_before = 15 * kUsPerMinute;
  MakeRoom("saal", rules, now_);
  Acceptance first = Accept(Place("bk-1", "saal", Wed("10:00"), Wed("11:00")), now_);
  EXPECT_EQ(first.events.at(0).payload.AsBookingPlaced()->blocked_start_us, Wed("09:45"));
  EXPECT_EQ(Refuse(Place("bk-2", "saal", Wed("11:00"), Wed("12:00")), now_).code, "booking_conflict");
  Accept(Place("bk-3", "saal", Wed("11:15"), Wed("12:00")), now_);
}

TEST_F(DecideTest, AdjacentBookingsWithoutBuffersAreAccepted) {
  MakeRoom("saal", std::nullopt, now_);
  Accept(Place("bk-1", "saal", Wed("10:00"), Wed("11:00")), now_);
  Accept(Place("bk-2", "saal", Wed("11:00"), Wed("12:00")), now_);
  Accept(Place("bk-3", "saal", Wed("09:00"), Wed("10:00")), now_);
}

TEST_F(DecideTest, BookingOutsideOpeningHoursIsRefused) {
  Rules rules = OpenDays(1, 5, 8 * 60, 18 * 60);
  rules.opening.push_back({6, 9 * 60, 12 * 60});  // Saturday morning
  MakeRoom("saal", rules, now_);
  auto code = [&](TimeUs s, TimeUs e) {
    return Refuse(Place("bk-x", "saal", s, e), now_).code;  // refused: the id stays free
  };
  EXPECT_EQ(code(Wed("17:00"), Wed("19:00")), "outside_opening_hours");
  EXPECT_EQ(code(Wed("07:30"), Wed("09:00")), "outside_opening_hours");
  EXPECT_EQ(code(Wed("17:00"), T("2026-03-05T09:00:00+01:00")), "outside_opening_hours");  // across the night
  EXPECT_EQ(code(T("2026-03-07T11:00:00+01:00"), T("2026-03-07T13:00:00+01:00")), "outside_opening_hours");
  EXPECT_EQ(code(T("2026-03-08T10:00:00+01:00"), T("2026-03-08T11:00:00+01:00")), "outside_opening_hours");

  Rejection r = Refuse(Place("bk-y", "saal", Wed("17:00"), Wed("19:00")), now_);
  EXPECT_EQ(r.refusal, Refusal::kUnprocessable);
  EXPECT_EQ(r.details.at("requested").at("start_local"), "2026-03-04T17:00:00+01:00");

  Accept(Place("bk-1", "saal", Wed("08:00"), Wed("18:00")), now_);
  Accept(Place("bk-2", "saal", T("2026-03-07T09:00:00+01:00"), T("2026-03-07T12:00:00+01:00")), now_);
}

TEST_F(DecideTest, BookingAcrossAGapBetweenTwoIntervalsIsRefused) {
  Rules rules;
  rules.opening = {{3, 8 * 60, 12 * 60}, {3, 13 * 60, 18 * 60}};
  MakeRoom("saal", rules, now_);
  EXPECT_EQ(Refuse(Place("bk-1", "saal", Wed("11:00"), Wed("14:00")), now_).code, "outside_opening_hours");
  Accept(Place("bk-2", "saal", Wed("13:00"), Wed("18:00")), now_);
}

TEST_F(DecideTest, NightBookingAcrossMidnightIsAcceptedWhenOpenAroundTheClock) {
  MakeRoom("saal", std::nullopt, now_);
  Accept(Place("bk-1", "saal", Wed("22:00"), T("2026-03-05T02:00:00+01:00")), now_);
}

TEST_F(DecideTest, BookingStartingInThePastIsRefused) {
  MakeRoom("saal", std::nullopt, now_);
  Rejection r = Refuse(Place("bk-1", "saal", now_ - kHour, now_ + kHour), now_);
  EXPECT_EQ(r.code, "starts_in_the_past");
  EXPECT_EQ(r.refusal, Refusal::kUnprocessable);
  EXPECT_EQ(Refuse(Place("bk-2", "saal", now_ - 1, now_ + kHour), now_).code, "starts_in_the_past");
  Accept(Place("bk-3", "saal", now_, now_ + kHour), now_);
}

TEST_F(DecideTest, BookingInsideTheLeadTimeIsRefused) {
  Rules rules = Rules::AlwaysOpen();
  rules.lead_time = kDay;
  MakeRoom("saal", rules, now_);
  Rejection r = Refuse(Place("bk-1", "saal", now_ + 23 * kHour, now_ + 24 * kHour), now_);
  EXPECT_EQ(r.code, "lead_time_not_met");
  EXPECT_EQ(r.details.at("earliest_start"), FormatUtc(now_ + kDay));
  Accept(Place("bk-2", "saal", now_ + kDay, now_ + kDay + kHour), now_);
}

TEST_F(DecideTest, BookingBeyondTheHorizonIsRefused) {
  Rules rules = Rules::AlwaysOpen();
  rules.horizon = 30 * kDay;
  MakeRoom("saal", rules, now_);
  Rejection r = Refuse(Place("bk-1", "saal", now_ + 30 * kDay + kHour, now_ + 30 * kDay + 2 * kHour), now_);
  EXPECT_EQ(r.code, "beyond_horizon");
  EXPECT_EQ(r.details.at("latest_start"), FormatUtc(now_ + 30 * kDay));
  Accept(Place("bk-2", "saal", now_ + 30 * kDay, now_ + 30 * kDay + kHour), now_);
}

TEST_F(DecideTest, BookingShorterOrLongerThanAllowedIsRefused) {
  Rules rules = Rules::AlwaysOpen();
  rules.min_duration = kHour;
  rules.max_duration = 3 * kHour;
  MakeRoom("saal", rules, now_);
  Rejection short_one = Refuse(Place("bk-1", "saal", Wed("10:00"), Wed("10:30")), now_);
  EXPECT_EQ(short_one.code, "duration_too_short");
  EXPECT_EQ(short_one.details.at("min_duration_minutes"), 60);
  Rejection long_one = Refuse(Place("bk-2", "saal", Wed("10:00"), Wed("13:01")), now_);
  EXPECT_EQ(long_one.code, "duration_too_long");
  EXPECT_EQ(long_one.details.at("max_duration_minutes"), 180);
  Accept(Place("bk-3", "saal", Wed("08:00"), Wed("09:00")), now_);
  Accept(Place("bk-4", "saal", Wed("10:00"), Wed("13:00")), now_);
}

TEST_F(DecideTest, BookingOffTheSlotGridIsRefused) {
  Rules rules = Rules::AlwaysOpen();
  rules.granularity = 30 * kUsPerMinute;
  MakeRoom("saal", rules, now_);
  Rejection r = Refuse(Place("bk-1", "saal", Wed("10:15"), Wed("11:15")), now_);
  EXPECT_EQ(r.code, "not_on_slot_grid");
  EXPECT_EQ(r.details.at("granularity_minutes"), 30);
  EXPECT_EQ(Refuse(Place("bk-2", "saal", Wed("10:00"), Wed("10:45")), now_).code, "not_on_slot_grid");
  EXPECT_EQ(
      Refuse(Place("bk-3", "saal", Wed("10:00") + kUsPerSecond, Wed("10:30") + kUsPerSecond), now_).code,
      "not_on_slot_grid");
  Accept(Place("bk-4", "saal", Wed("10:30"), Wed("11:30")), now_);
}

TEST_F(DecideFixture, SlotGridIsCountedFromLocalMidnightInOddOffsetZones) {
  const TimeUs now = T("2026-03-02T00:00:00Z");
  MakeTenant("Asia/Kathmandu", now);  // +05:45 all year
  Rules rules = Rules::AlwaysOpen();
  rules.granularity = kHour;
  MakeRoom("hall", rules, now);
  // 10:00 local is 04:15 UTC: on the grid, although not on a UTC hour.
  Accept(Place("bk-1", "hall", T("2026-03-04T10:00:00+05:45"), T("2026-03-04T11:00:00+05:45")), now);
  EXPECT_EQ(Refuse(Place("bk-2", "hall", T("2026-03-04T06:00:00Z"), T("2026-03-04T07:00:00Z")), now).code,
            "not_on_slot_grid");
}

// ---- Cancelling ----

TEST_F(DecideTest, CancellingFreesTheSlot) {
  MakeRoom("saal", std::nullopt, now_);
  Accept(Place("bk-1", "saal", Wed("10:00"), Wed("12:00")), now_);
  EXPECT_EQ(Refuse(Place("bk-2", "saal", Wed("10:00"), Wed("12:00")), now_).code, "booking_conflict");

  Acceptance c = Accept(CancelAsBooker("bk-1"), now_ + kHour);
  EXPECT_FALSE(c.created);
  EXPECT_EQ(c.reply.at("status"), "cancelled");
  EXPECT_EQ(c.reply.at("version"), 2);
  EXPECT_EQ(c.reply.at("number"), "B-2026-000001");
  ASSERT_EQ(c.events.size(), 1u);
  EXPECT_EQ(c.events[0].stream_id, "booking/bk-1");
  EXPECT_EQ(c.events[0].stream_version, 2u);
  const auto* e = c.events[0].payload.AsBookingCancelled();
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->by, "booker");
  EXPECT_EQ(e->reason, "changed plans");
  EXPECT_EQ(model_.FindBooking(BookingId("bk-1"))->status, BookingStatus::kCancelled);

  Accept(Place("bk-2", "saal", Wed("10:00"), Wed("12:00")), now_ + kHour);
}

TEST_F(DecideTest, CancellingTwiceIsAlreadyCancelled) {
  MakeRoom("saal", std::nullopt, now_);
  Accept(Place("bk-1", "saal", Wed("10:00"), Wed("12:00")), now_);
  Accept(CancelAsBooker("bk-1"), now_);
  Rejection again = Refuse(CancelAsBooker("bk-1"), now_);
  EXPECT_EQ(again.code, "already_cancelled");
  EXPECT_EQ(again.refusal, Refusal::kConflict);
  EXPECT_EQ(Refuse(CancelAsStaff("bk-1"), now_).code, "already_cancelled");
}

TEST_F(DecideTest, CancellingWithAWrongManageTokenLooksLikeAnUnknownBooking) {
  MakeRoom("saal", std::nullopt, now_);
  Accept(Place("bk-1", "saal", Wed("10:00"), Wed("12:00")), now_);
  Accept(Place("bk-staff", "saal", Wed("13:00"), Wed("14:00"), /*by_staff=*/true), now_);

  Rejection wrong = Refuse(CancelAsBooker("bk-1", "token-bk-2"), now_);
  EXPECT_EQ(wrong.code, "not_found");
  EXPECT_EQ(wrong.refusal, Refusal::kNotFound);
  Rejection unknown = Refuse(CancelAsBooker("bk-nope"), now_);
  EXPECT_EQ(unknown.code, wrong.code);
  EXPECT_EQ(unknown.message, wrong.message);
  // A staff booking has no manage token: no token (not even an empty one)
  // cancels it as a booker.
  EXPECT_EQ(Refuse(CancelAsBooker("bk-staff", "token-bk-staff"), now_).code, "not_found");
  CancelBooking empty_token = CancelAsBooker("bk-staff");
  empty_token.manage_token.clear();
  EXPECT_EQ(Refuse(empty_token, now_).code, "not_found");

  EXPECT_EQ(model_.FindBooking(BookingId("bk-1"))->status, BookingStatus::kConfirmed);
  Accept(CancelAsStaff("bk-staff"), now_);
}

TEST_F(DecideTest, BookerCannotCancelAfterTheStartButStaffCan) {
  MakeRoom("saal", std::nullopt, now_);
  Accept(Place("bk-1", "saal", Wed("10:00"), Wed("12:00")), now_);
  Rejection started = Refuse(CancelAsBooker("bk-1"), Wed("10:00"));
  EXPECT_EQ(started.code, "booking_started");
  EXPECT_EQ(started.refusal, Refusal::kConflict);
  EXPECT_EQ(Refuse(CancelAsBooker("bk-1"), Wed("11:00")).code, "booking_started");

  Acceptance staff = Accept(CancelAsStaff("bk-1"), Wed("11:00"));
  EXPECT_EQ(staff.events.at(0).payload.AsBookingCancelled()->by, "staff");
  EXPECT_EQ(model_.FindBooking(BookingId("bk-1"))->status, BookingStatus::kCancelled);
}

TEST_F(DecideTest, CancelWithStaleIfMatchIsAVersionMismatch) {
  MakeRoom("saal", std::nullopt, now_);
  Accept(Place("bk-1", "saal", Wed("10:00"), Wed("12:00")), now_);
  CancelBooking c = CancelAsStaff("bk-1");
  c.if_match = 2;
  Rejection r = Refuse(c, now_);
  EXPECT_EQ(r.code, "version_mismatch");
  EXPECT_EQ(r.refusal, Refusal::kPrecondition);
  c.if_match = 1;
  Accept(c, now_);
}

// ---- Daylight saving time (Europe/Berlin: 2026-03-29 has 23 hours,
// 2026-10-25 has 25) ----

TEST_F(DecideFixture, TwoRealHoursAcrossSpringForwardAreAcceptedAsTwoHours) {
  const TimeUs now = T("2026-03-20T12:00:00Z");
  MakeTenant("Europe/Berlin", now);
  Rules rules = Rules::AlwaysOpen();
  rules.max_duration = 2 * kHour;  // wall clock says 3 hours; real time is 2
  rules.granularity = 30 * kUsPerMinute;
  MakeRoom("saal", rules, now);
  const TimeUs start = T("2026-03-29T01:00:00+01:00");
  const TimeUs end = T("2026-03-29T04:00:00+02:00");
  ASSERT_EQ(end - start, 2 * kHour);
  Acceptance a = Accept(Place("bk-dst", "saal", start, end), now);
  EXPECT_EQ(a.reply.at("start"), "2026-03-29T00:00:00Z");
  EXPECT_EQ(a.reply.at("end"), "2026-03-29T02:00:00Z");
  EXPECT_EQ(a.reply.at("start_local"), "2026-03-29T01:00:00+01:00");
  EXPECT_EQ(a.reply.at("end_local"), "2026-03-29T04:00:00+02:00");
  const auto* p = a.events.at(0).payload.AsBookingPlaced();
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->end_us - p->start_us, 2 * kHour);
  // The slot right after it, in summer time, is free and bookable.
  Accept(Place("bk-after", "saal", end, T("2026-03-29T05:00:00+02:00")), now);
  EXPECT_EQ(
      Refuse(Place("bk-clash", "saal", T("2026-03-29T03:30:00+02:00"), T("2026-03-29T04:30:00+02:00")), now)
          .code,
      "booking_conflict");
}

TEST_F(DecideFixture, OpeningHoursOnTheShortAndTheLongDayFollowTheWallClock) {
  const TimeUs now = T("2026-03-20T12:00:00Z");
  MakeTenant("Europe/Berlin", now);
  MakeRoom("saal", OpenDays(7, 7, 8 * 60, 20 * 60), now);  // Sundays 08:00–20:00

  // 23-hour day: 08:00–20:00 CEST is 06:00–18:00 UTC.
  Accept(Place("march", "saal", T("2026-03-29T06:00:00Z"), T("2026-03-29T18:00:00Z")), now);
  EXPECT_EQ(
      Refuse(Place("march-early", "saal", T("2026-03-29T05:00:00Z"), T("2026-03-29T06:00:00Z")), now).code,
      "outside_opening_hours");
  // 25-hour day: 08:00–20:00 CET is 07:00–19:00 UTC.
  Accept(Place("october", "saal", T("2026-10-25T07:00:00Z"), T("2026-10-25T19:00:00Z")), now);
  EXPECT_EQ(
      Refuse(Place("october-early", "saal", T("2026-10-25T06:00:00Z"), T("2026-10-25T07:00:00Z")), now).code,
      "outside_opening_hours");
  EXPECT_EQ(
      Refuse(Place("october-late", "saal", T("2026-10-25T19:00:00Z"), T("2026-10-25T19:30:00Z")), now).code,
      "outside_opening_hours");
}

}  // namespace
}  // namespace saalbuch::commands
