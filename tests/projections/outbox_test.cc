// The outbox projection: each notification carries what its mail says as of
// the event that caused it, from the log alone.
#include <gtest/gtest.h>

#include "tests/projections/projection_fixture.h"

namespace saalbuch::projections {
namespace {

using nlohmann::json;

class OutboxTest : public ProjectionFixture {
 protected:
  void SetUp() override {
    ProjectionFixture::SetUp();
    MakeTenant("t", "Europe/Berlin", now_);
    MakeRoom("t", "saal", std::nullopt, now_);
    commands::FinanceSettings fs;
    fs.tiers = {{14 * kDay, 0}, {0, 5000}};  // free until 14 days before, then half
    MustDo("t", commands::SetFinanceSettings{fs}, now_);
    commands::SetTariff tariff;
    tariff.id = "saal";
    tariff.target = "resource/saal";
    tariff.currency = "EUR";
    tariff.version.unit = commands::TariffUnit::kBooking;
    tariff.version.amount = 13500;
    tariff.version.gross = true;
    tariff.version.tax_rate_bp = 1900;
    MustDo("t", tariff, now_);
  }

  commands::PlaceBooking WithContact(commands::PlaceBooking p) {
    p.person = "person-" + p.id.get();
    p.personal = "sealed bytes";  // the outbox never opens them
    return p;
  }

  std::vector<json> Outbox(const KvView& kv) {
    auto o = QueryOutbox(kv, TenantId("t"), std::numeric_limits<TimeUs>::max(), 100);
    EXPECT_TRUE(o.ok()) << o.status().ToString();
    return o.ok() ? *o : std::vector<json>{};
  }

  static const json* Find(const std::vector<json>& entries, const std::string& kind) {
    for (const auto& e : entries) {
      if (e.value("kind", "") == kind) return &e;
    }
    return nullptr;
  }

  TimeUs now_ = T("2027-01-01T10:00:00Z");
};

TEST_F(OutboxTest, ConfirmedThenCancelledBeforeSendingKeepsEachMailTrueToItsEvent) {
  const TimeUs start = T("2027-01-20T17:00:00Z");
  MustDo("t", WithContact(Place("bk1", "saal", start, start + 2 * kHour)), now_);
  const auto paid =
      MustDo("t", commands::RecordPayment{"inv-bk1", "bank-1", "bank_transfer", 13500, "EUR", now_},
             now_ + kHour, "key:finance");
  ASSERT_EQ(paid.reply.value("booking_status", ""), "confirmed") << paid.reply.dump();
  const Seq before_cancel = Head("t");
  commands::CancelBooking cancel;
  cancel.id = BookingId("bk1");
  cancel.manage_token = "token-bk1";
  MustDo("t", cancel, start - 5 * kDay);  // half the price as fee, the other half back

  auto store = Replay("t");
  const auto entries = Outbox(*store);
  ASSERT_EQ(entries.size(), 3u) << json(entries).dump(
      1);  // held, confirmed, cancelled; the reminder ended with the hold
  const json* held = Find(entries, "held");
  const json* confirmed = Find(entries, "confirmed");
  const json* cancelled = Find(entries, "cancelled");
  ASSERT_TRUE(held && confirmed && cancelled);

  const json& h = (*held)["mail"];
  ASSERT_TRUE(h.contains("money")) << json(entries).dump(1);
  EXPECT_EQ(h["status"], "held");
  EXPECT_EQ(h["resource_name"], "Room saal");
  EXPECT_EQ(h["tenant_name"], "Tenant t");
  EXPECT_EQ(h["zone"], "Europe/Berlin");
  EXPECT_EQ(h["start"], start);
  EXPECT_TRUE(h.contains("hold_until"));
  EXPECT_EQ(h["money"]["open"], 13500);
  EXPECT_EQ(h["money"]["paid"], 0);

  const json& c = (*confirmed)["mail"];
  EXPECT_EQ(c["status"], "confirmed");
  EXPECT_FALSE(c.contains("hold_until"));
  EXPECT_EQ(c["money"]["paid"], 13500);
  EXPECT_EQ(c["money"]["open"], 0);

  const json& x = (*cancelled)["mail"];
  EXPECT_EQ(x["status"], "cancelled");
  EXPECT_EQ(x["money"]["owed"], 6750);    // the fee
  EXPECT_EQ(x["money"]["refund"], 6750);  // sent back by this cancellation
  EXPECT_EQ(x["money"]["open"], 0);
  EXPECT_EQ((*cancelled)["cmd"], "cmd-" + std::to_string(commands_));

  // Folded only up to the cancellation itself, the fee and refund are not
  // known yet: that is why the notifier waits for the whole command.
  auto partial = Replay("t", before_cancel + 1);
  const auto partial_entries = Outbox(*partial);
  const json* early = Find(partial_entries, "cancelled");
  ASSERT_NE(early, nullptr);
  EXPECT_EQ((*early)["mail"]["money"]["refund"], 0);
  EXPECT_EQ((*early)["cmd"], (*cancelled)["cmd"]);
}

TEST_F(OutboxTest, RescheduledHoldMovesItsReminderAndSentEntriesLeave) {
  const TimeUs start = T("2027-02-10T09:00:00Z");
  MustDo("t", WithContact(Place("bk2", "saal", start, start + kHour)), now_);
  commands::RescheduleBooking move;
  move.id = BookingId("bk2");
  move.range = {start + kDay, start + kDay + kHour};
  move.manage_token = "token-bk2";
  MustDo("t", move, now_ + kHour);
  auto store = Replay("t");
  auto entries = Outbox(*store);
  const json* reminder = Find(entries, "expiring");
  const json* moved = Find(entries, "rescheduled");
  ASSERT_TRUE(reminder && moved);
  EXPECT_EQ((*reminder)["mail"]["start"], start + kDay);
  EXPECT_EQ((*reminder)["mail"]["status"], "held");
  ASSERT_NE(Find(entries, "held"), nullptr);
  EXPECT_EQ((*Find(entries, "held"))["mail"]["start"], start);  // the held mail keeps its time

  MustDo("t", commands::RecordNotification{(*moved)["id"], BookingId("bk2"), "rescheduled"}, now_ + 2 * kHour,
         "system");
  store = Replay("t");
  entries = Outbox(*store);
  EXPECT_EQ(Find(entries, "rescheduled"), nullptr);
  EXPECT_EQ(entries.size(), 2u);
}

TEST_F(OutboxTest, BookingsWithoutContactDataGetNoEntries) {
  MustDo("t", Place("bk3", "saal", T("2027-03-01T09:00:00Z"), T("2027-03-01T10:00:00Z")), now_);
  auto store = Replay("t");
  EXPECT_TRUE(Outbox(*store).empty());
}

}  // namespace
}  // namespace saalbuch::projections
