// Replay equality (DOMAIN.md invariant 6): the Runner folding live into the
// database's projections family holds exactly the bytes that FoldInto a
// fresh MemoryStore produces from the log, for randomized histories.

#include <gtest/gtest.h>

#include <chrono>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "projections/runner.h"
#include "tests/projections/projection_fixture.h"

namespace saalbuch::projections {
namespace {

using commands::CancelBooking;
using commands::Rules;

class ReplayTest : public ProjectionFixture {
 protected:
  void SetUp() override {
    ProjectionFixture::SetUp();
    on_append_ = [this](const TenantId& t, Seq head) {
      if (runner_) runner_->Notify(t, head);
    };
  }
  void TearDown() override { runner_.reset(); }

  void StartRunner() {
    runner_ = std::make_unique<Runner>(db_.get(), log_.get());
    Status s = runner_->Start();
    ASSERT_TRUE(s.ok()) << s.ToString();
  }

  // Waits until the runner has folded the tenant's whole log.
  void CatchUp(const std::string& tenant) {
    const Seq head = Head(tenant);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (runner_->Position(TenantId(tenant)) < head) {
      ASSERT_LT(std::chrono::steady_clock::now(), deadline)
          << "runner stuck at " << runner_->Position(TenantId(tenant)) << " of " << head;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    EXPECT_EQ(runner_->Position(TenantId(tenant)), head);
  }

  void ExpectLiveEqualsReplay(const std::string& tenant) {
    CatchUp(tenant);
    auto live = Keys(runner_->view(), tenant);
    auto replay = Replay(tenant);
    EXPECT_FALSE(live.empty());
    EXPECT_TRUE(SameKeys(live, Keys(*replay, tenant))) << "tenant " << tenant;
  }

  // A seeded, randomized history: resources with changing rules, public and
  // staff bookings (many of them clashing or breaking rules), cancellations
  // by bookers (sometimes with a wrong token, sometimes too late) and staff.
  // `now` moves forward; rejected commands append nothing.
  void RandomHistory(const std::string& tenant, std::mt19937* rng, int commands, TimeUs* now) {
    auto pick = [&](int n) { return static_cast<int>((*rng)() % static_cast<unsigned>(n)); };
    for (int i = 0; i < commands; ++i) {
      *now += pick(90) * kUsPerMinute;
      const int what = pick(100);
      if (what < 4 || resources_[tenant].empty()) {
        // Appended, not "r" + std::to_string(…): GCC 12 at -O3 reports a false
        // -Wrestrict for that (GCC PR 105329).
        std::string id = "r";
        id += std::to_string(resources_[tenant].size());
        MustDo(tenant,
               commands::CreateResource{
                   ResourceId(id), pick(2) ? "room" : "device", "R " + id, "", std::nullopt, 1, {}, {}},
               *now);
        resources_[tenant].push_back(id);
      } else if (what < 9) {
        Rules r = pick(2) ? Rules::AlwaysOpen() : Rules{};
        if (r.opening.empty()) {
          for (int d = 1; d <= 6; ++d) r.opening.push_back({d, 7 * 60, 22 * 60});
        }
        r.buffer_before = pick(3) * 15 * kUsPerMinute;
        r.buffer_after = pick(3) * 15 * kUsPerMinute;
        r.granularity = pick(2) * 30 * kUsPerMinute;
        r.max_duration = pick(2) * 4 * kHour;
        const auto& res = resources_[tenant][pick(static_cast<int>(resources_[tenant].size()))];
        Do(tenant, commands::SetRules{ResourceId(res), r, std::nullopt}, *now);
      } else if (what < 70) {
        const auto& res = resources_[tenant][pick(static_cast<int>(resources_[tenant].size()))];
        // Slots on a half-hour grid over the next ten days, local time.
        const TimeUs day_start = *now - (*now % kDay) + (1 + pick(10)) * kDay;
        const TimeUs start =
            day_start + (12 + pick(36)) * 30 * kUsPerMinute + (pick(10) == 0 ? 10 * kUsPerMinute : 0);
        const TimeUs len = (1 + pick(8)) * 30 * kUsPerMinute;
        const bool staff = pick(4) == 0;
        const std::string id = tenant + "-bk-" + std::to_string(++serial_);
        auto d = Do(tenant, Place(id, res, start, start + len, staff), *now, staff ? "key:staff" : "public");
        if (std::holds_alternative<commands::Acceptance>(d)) bookings_[tenant].push_back(id);
      } else if (!bookings_[tenant].empty()) {
        const auto& id = bookings_[tenant][pick(static_cast<int>(bookings_[tenant].size()))];
        CancelBooking c;
        c.id = BookingId(id);
        const int how = pick(10);
        c.by_staff = how < 4;
        c.manage_token = how == 9 ? "wrong" : "token-" + id;
        if (pick(2)) c.reason = "reason " + std::to_string(i);
        // Sometimes far in the future, after the booking has started.
        const TimeUs at = pick(8) == 0 ? *now + 12 * kDay : *now;
        Do(tenant, c, at, c.by_staff ? "key:staff" : "manage-token");
      }
    }
  }

  std::unique_ptr<Runner> runner_;
  int serial_ = 0;
  std::map<std::string, std::vector<std::string>> resources_;
  std::map<std::string, std::vector<std::string>> bookings_;
};

TEST_F(ReplayTest, LiveProjectionsEqualAReplayAfterARandomizedHistory) {
  StartRunner();
  std::mt19937 rng(20260329);
  TimeUs now = T("2026-03-01T08:00:00Z");
  MakeTenant("stadt", "Europe/Berlin", now);
  MakeTenant("dorf", "America/New_York", now);
  RandomHistory("stadt", &rng, 250, &now);
  RandomHistory("dorf", &rng, 80, &now);

  ASSERT_GT(bookings_["stadt"].size(), 20u) << "the history should place bookings";
  ExpectLiveEqualsReplay("stadt");
  ExpectLiveEqualsReplay("dorf");

  // The projections saw cancellations as well as placements.
  auto live = Keys(runner_->view(), "stadt");
  int cancelled = 0;
  for (const auto& id : bookings_["stadt"]) {
    auto b = QueryBooking(runner_->view(), TenantId("stadt"), BookingId(id));
    ASSERT_TRUE(b.ok()) << id << ": " << b.status().ToString();
    if (b->doc.at("status") == "cancelled") ++cancelled;
  }
  EXPECT_GT(cancelled, 3);
}

TEST_F(ReplayTest, TenantDocumentWithPublicSettingsEqualsAReplay) {
  StartRunner();
  std::mt19937 rng(5);
  TimeUs now = T("2026-03-01T08:00:00Z");
  MakeTenant("stadt", "Europe/Berlin", now);
  // Before any public settings: their defaults, outside the stored document.
  CatchUp("stadt");
  auto before = QueryTenant(runner_->view(), TenantId("stadt"));
  ASSERT_TRUE(before.ok());
  EXPECT_EQ(before->at("public").at("version"), 0);
  EXPECT_EQ(before->at("public").at("allowed_origins"), nlohmann::json::array());
  RandomHistory("stadt", &rng, 30, &now);
  commands::SetPublicSettings s;
  s.settings.allowed_origins = {"https://www.musterstadt.de", "HTTP://Localhost:8080"};
  s.settings.display_name = "Stadt";
  MustDo("stadt", s, now);
  RandomHistory("stadt", &rng, 30, &now);
  s.settings.accent_color = "#AA0000";
  s.settings.consent_de = "Ich bin einverstanden.";
  MustDo("stadt", s, now);
  ExpectLiveEqualsReplay("stadt");
  auto live = QueryTenant(runner_->view(), TenantId("stadt"));
  auto replay = Replay("stadt");
  auto replayed = QueryTenant(*replay, TenantId("stadt"));
  ASSERT_TRUE(live.ok() && replayed.ok());
  EXPECT_EQ(live->dump(), replayed->dump());
  const auto& pub = live->at("public");
  EXPECT_EQ(pub.at("allowed_origins"),
            nlohmann::json::array({"https://www.musterstadt.de", "http://localhost:8080"}));
  EXPECT_EQ(pub.at("accent_color"), "#aa0000");
  EXPECT_EQ(pub.at("consent").at("de"), "Ich bin einverstanden.");
  EXPECT_TRUE(pub.at("consent").at("en").is_null());
  EXPECT_EQ(pub.at("version"), 2);
}

TEST_F(ReplayTest, ReplayUpToAnEarlierPositionEqualsTheLiveStateThen) {
  StartRunner();
  std::mt19937 rng(7);
  TimeUs now = T("2026-03-01T08:00:00Z");
  MakeTenant("stadt", "Europe/Berlin", now);
  std::vector<std::pair<Seq, std::map<std::string, std::string>>> snapshots;
  for (int round = 0; round < 4; ++round) {
    RandomHistory("stadt", &rng, 60, &now);
    CatchUp("stadt");
    snapshots.emplace_back(Head("stadt"), Keys(runner_->view(), "stadt"));
  }
  for (const auto& [position, live] : snapshots) {
    auto replay = Replay("stadt", position);
    EXPECT_TRUE(SameKeys(live, Keys(*replay, "stadt"))) << "as of position " << position;
  }
}

TEST_F(ReplayTest, RunnerRestartedMidwayCatchesUpToTheSameBytes) {
  StartRunner();
  std::mt19937 rng(99);
  TimeUs now = T("2026-03-01T08:00:00Z");
  MakeTenant("stadt", "Europe/Berlin", now);
  RandomHistory("stadt", &rng, 80, &now);
  CatchUp("stadt");
  runner_.reset();

  // Appends while no runner is running; the next one catches up on Start.
  RandomHistory("stadt", &rng, 80, &now);
  StartRunner();
  EXPECT_EQ(runner_->Position(TenantId("stadt")), Head("stadt")) << "Start catches up synchronously";
  RandomHistory("stadt", &rng, 40, &now);
  ExpectLiveEqualsReplay("stadt");
}

TEST_F(ReplayTest, AReaderWaitingForItsWriteGetsItsTenantFoldedNext) {
  // Each catch-up starts 150 ms after the runner took the tenant up, so the
  // order in which tenants are folded shows in their positions.
  runner_ = std::make_unique<Runner>(db_.get(), log_.get());
  runner_->SetLag(std::chrono::milliseconds(150));
  ASSERT_TRUE(runner_->Start().ok());
  TimeUs now = T("2026-03-01T08:00:00Z");
  const std::vector<std::string> tenants = {"a", "b", "c", "d", "e"};
  // They get records in this order; a reader then waits for the last one.
  for (const auto& t : tenants) MakeTenant(t, "Europe/Berlin", now);
  runner_->Expedite(TenantId("e"));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (runner_->Position(TenantId("e")) < Head("e")) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "runner stuck";
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  // "a" may have been taken up before the reader came; "c" and "d" wait.
  EXPECT_EQ(runner_->Position(TenantId("c")), 0u);
  EXPECT_EQ(runner_->Position(TenantId("d")), 0u);
  // Expediting a tenant with nothing waiting changes nothing.
  runner_->Expedite(TenantId("e"));
  runner_->Expedite(TenantId("nobody"));
  for (const auto& t : tenants) CatchUp(t);
}

TEST_F(ReplayTest, FoldingInPiecesEqualsFoldingAtOnce) {
  std::mt19937 rng(4242);
  TimeUs now = T("2026-03-01T08:00:00Z");
  MakeTenant("stadt", "Europe/Berlin", now);
  RandomHistory("stadt", &rng, 150, &now);
  const Seq head = Head("stadt");

  MemoryStore pieces;
  for (Seq upto = 7; upto < head; upto += 13) {
    ASSERT_TRUE(FoldInto(&pieces, *log_, TenantId("stadt"), upto).ok());
    auto cp = LowestCheckpoint(pieces, TenantId("stadt"));
    ASSERT_TRUE(cp.ok());
    EXPECT_EQ(*cp, upto);
  }
  ASSERT_TRUE(FoldInto(&pieces, *log_, TenantId("stadt")).ok());
  auto whole = Replay("stadt");
  EXPECT_TRUE(SameKeys(Keys(pieces, "stadt"), Keys(*whole, "stadt")));
  auto cp = LowestCheckpoint(*whole, TenantId("stadt"));
  ASSERT_TRUE(cp.ok());
  EXPECT_EQ(*cp, head);
}

TEST_F(ReplayTest, TenantKeysOfOneTenantNeverIncludeAnother) {
  StartRunner();
  TimeUs now = T("2026-03-01T08:00:00Z");
  // "ab" extends "a": the length-prefixed keys must keep them apart.
  MakeTenant("a", "Europe/Berlin", now);
  MakeTenant("ab", "Europe/Berlin", now);
  MakeRoom("a", "saal", std::nullopt, now);
  MakeRoom("ab", "saal", std::nullopt, now);
  MustDo("ab", Place("bk-1", "saal", now + kDay, now + kDay + kHour), now);
  CatchUp("a");
  CatchUp("ab");
  auto a = Keys(runner_->view(), "a");
  auto ab = Keys(runner_->view(), "ab");
  EXPECT_TRUE(SameKeys(a, Keys(*Replay("a"), "a")));
  EXPECT_TRUE(SameKeys(ab, Keys(*Replay("ab"), "ab")));
  for (const auto& [k, v] : a) EXPECT_EQ(ab.count(k), 0u) << Printable(k);
  EXPECT_EQ(QueryBooking(runner_->view(), TenantId("a"), BookingId("bk-1")).status().code(),
            StatusCode::kNotFound);
}

}  // namespace
}  // namespace saalbuch::projections
