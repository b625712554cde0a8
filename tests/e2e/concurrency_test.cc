// Invariants 1, 6 and 9 under concurrency, through the real server: many
// clients place and cancel random bookings on a few rooms at once; then no
// two live bookings overlap, every acknowledged booking survives kill -9,
// the chain verifies and a replay reproduces the live projections.

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <random>
#include <thread>

#include "common/time.h"
#include "tests/e2e/harness.h"

namespace saalbuch::e2e {
namespace {

using nlohmann::json;

struct Placed {
  std::string id;
  std::string room;
  TimeUs start, end;
  bool cancelled = false;
};

TEST(ConcurrencyTest, RandomConcurrentBookingsNeverOverlapAndSurviveKill) {
  const auto dir = FreshDir("concurrency");
  Server server(dir / "data", {"--public-booking-rate", "100000", "--rate-limit", "100000"});
  server.Start();
  const int port = server.port();
  auto t = CallJson(port, "POST", "/v1/tenants", {{"id", "stadt"}, {"name", "Stadt"}}, kOperatorKey);
  ASSERT_EQ(t.status, 201);
  const std::string admin = t.json()["admin_key"]["key"];
  const std::vector<std::string> rooms = {"a", "b", "c"};
  for (const auto& r : rooms) {
    ASSERT_EQ(
        CallJson(port, "POST", "/v1/tenants/stadt/resources",
                 {{"id", r},
                  {"name", r},
                  {"rules",
                   {{"opening_hours", json::array({{{"weekday", 1}, {"start", "00:00"}, {"end", "24:00"}},
                                                   {{"weekday", 2}, {"start", "00:00"}, {"end", "24:00"}},
                                                   {{"weekday", 3}, {"start", "00:00"}, {"end", "24:00"}},
                                                   {{"weekday", 4}, {"start", "00:00"}, {"end", "24:00"}},
                                                   {{"weekday", 5}, {"start", "00:00"}, {"end", "24:00"}},
                                                   {{"weekday", 6}, {"start", "00:00"}, {"end", "24:00"}},
                                                   {{"weekday", 7}, {"start", "00:00"}, {"end", "24:00"}}})},
                    {"buffer_after_minutes", 15}}}},
                 admin)
            .status,
        201);
  }
  // A two-day window a month ahead, 15-minute grid: plenty of clashes.
  const TimeUs base = (std::chrono::duration_cast<std::chrono::microseconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                               .count() /
                           (24LL * 3600 * kUsPerSecond) +
                       30) *
                      24LL * 3600 * kUsPerSecond;
  std::mutex mu;
  std::vector<Placed> placed;
  int conflicts = 0, other = 0;
  constexpr int kClients = 12, kPerClient = 40;
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      std::mt19937 rng(1000 + c);
      std::vector<Placed> mine;
      for (int i = 0; i < kPerClient; ++i) {
        if (!mine.empty() && rng() % 5 == 0) {
          auto& p = mine[rng() % mine.size()];
          if (!p.cancelled) {
            auto r = CallJson(port, "POST", "/v1/tenants/stadt/bookings/" + p.id + "/cancel", json::object(),
                              admin);
            if (r.status == 200) p.cancelled = true;
          }
          continue;
        }
        const TimeUs start = base + static_cast<TimeUs>(rng() % (2 * 24 * 4)) * 15 * kUsPerMinute;
        const TimeUs end = start + static_cast<TimeUs>(1 + rng() % 8) * 15 * kUsPerMinute;
        const std::string room = rooms[rng() % rooms.size()];
        auto r = CallJson(port, "POST", "/v1/tenants/stadt/bookings",
                          {{"resource", room}, {"start", FormatUtc(start)}, {"end", FormatUtc(end)}});
        if (r.status == 201) {
          mine.push_back({r.json()["id"], room, start, end});
        } else {
          std::lock_guard lock(mu);
          (r.status == 409 ? conflicts : other)++;
        }
      }
      std::lock_guard lock(mu);
      placed.insert(placed.end(), mine.begin(), mine.end());
    });
  }
  for (auto& th : clients) th.join();
  EXPECT_EQ(other, 0);
  EXPECT_GT(placed.size(), 20u);
  EXPECT_GT(conflicts, 0);

  // Invariant 1 on what the clients were told: live bookings (with the
  // 15-minute buffer after) never overlap on one room.
  for (std::size_t i = 0; i < placed.size(); ++i) {
    for (std::size_t j = i + 1; j < placed.size(); ++j) {
      const auto &a = placed[i], &b = placed[j];
      if (a.room != b.room || a.cancelled || b.cancelled) continue;
      const TimeUs buf = 15 * kUsPerMinute;
      EXPECT_FALSE(a.start < b.end + buf && b.start < a.end + buf) << a.id << " overlaps " << b.id;
    }
  }

  server.Kill();
  server.Start();
  const int port2 = server.port();
  // Every acknowledged booking is present with the state the client saw.
  for (const auto& p : placed) {
    auto r =
        Call(port2, "GET", "/v1/tenants/stadt/bookings/" + p.id, "", {{"Authorization", "Bearer " + admin}});
    ASSERT_EQ(r.status, 200) << p.id;
    EXPECT_EQ(r.json()["status"], p.cancelled ? "cancelled" : "confirmed") << p.id;
  }
  // And the server's own view agrees: its confirmed bookings never overlap.
  for (const auto& room : rooms) {
    std::vector<std::pair<TimeUs, TimeUs>> live;
    std::string cursor;
    do {
      std::string target = "/v1/tenants/stadt/resources/" + room +
                           "/bookings?from=" + FormatUtc(base - 86400LL * kUsPerSecond) +
                           "&to=" + FormatUtc(base + 4 * 86400LL * kUsPerSecond) + "&limit=7";
      if (!cursor.empty()) target += "&cursor=" + cursor;
      auto r = Call(port2, "GET", target, "", {{"Authorization", "Bearer " + admin}});
      ASSERT_EQ(r.status, 200) << r.body;
      auto j = r.json();
      for (const auto& b : j["items"]) {
        if (b["status"] == "confirmed") {
          live.emplace_back(*ParseRfc3339(b["blocked_start"].get<std::string>()),
                            *ParseRfc3339(b["blocked_end"].get<std::string>()));
        }
      }
      cursor = j["next_cursor"].is_null() ? "" : j["next_cursor"].get<std::string>();
    } while (!cursor.empty());
    std::sort(live.begin(), live.end());
    for (std::size_t i = 1; i < live.size(); ++i) EXPECT_LE(live[i - 1].second, live[i].first) << room;
  }
  EXPECT_EQ(server.Terminate(), 0);
  auto verify = Replay({"verify", "--data", (dir / "data").string()});
  EXPECT_EQ(verify.exit_code, 0) << verify.out;
  auto diff = Replay({"diff", "--data", (dir / "data").string()});
  EXPECT_EQ(diff.exit_code, 0) << diff.out;
  std::filesystem::remove_all(dir);
}

// kill -9 while clients are booking: every 201 a client received is present
// after the restart, and the chain verifies.
TEST(ConcurrencyTest, KillDuringLoadLosesNoAcknowledgedBooking) {
  const auto dir = FreshDir("kill-under-load");
  Server server(dir / "data", {"--public-booking-rate", "100000", "--rate-limit", "100000"});
  server.Start();
  const int port = server.port();
  auto t = CallJson(port, "POST", "/v1/tenants", {{"id", "amt"}, {"name", "Amt"}}, kOperatorKey);
  ASSERT_EQ(t.status, 201);
  const std::string admin = t.json()["admin_key"]["key"];
  ASSERT_EQ(CallJson(port, "POST", "/v1/tenants/amt/resources",
                     {{"id", "geraet"}, {"kind", "device"}, {"name", "Laser"}}, admin)
                .status,
            201);
  const TimeUs base = (std::chrono::duration_cast<std::chrono::microseconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                               .count() /
                           (3600 * kUsPerSecond) +
                       24 * 40) *
                      3600 * kUsPerSecond;
  std::mutex mu;
  std::vector<std::string> acknowledged;
  std::atomic<int> next_slot{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> clients;
  for (int c = 0; c < 8; ++c) {
    clients.emplace_back([&] {
      while (!stop) {
        const TimeUs start = base + next_slot++ * 15 * kUsPerMinute;
        try {
          auto r = CallJson(port, "POST", "/v1/tenants/amt/bookings",
                            {{"resource", "geraet"},
                             {"start", FormatUtc(start)},
                             {"end", FormatUtc(start + 15 * kUsPerMinute)}});
          if (r.status == 201) {
            std::lock_guard lock(mu);
            acknowledged.push_back(r.json()["id"]);
          }
        } catch (const std::exception&) {
          // The server died under us: this request was not acknowledged.
        }
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  server.Kill();
  stop = true;
  for (auto& th : clients) th.join();
  ASSERT_GT(acknowledged.size(), 10u);

  server.Start();
  for (const auto& id : acknowledged) {
    auto r = Call(server.port(), "GET", "/v1/tenants/amt/bookings/" + id, "",
                  {{"Authorization", "Bearer " + admin}});
    EXPECT_EQ(r.status, 200) << id << " was acknowledged but is missing after kill -9";
  }
  EXPECT_EQ(server.Terminate(), 0);
  auto verify = Replay({"verify", "--data", (dir / "data").string()});
  EXPECT_EQ(verify.exit_code, 0) << verify.out;
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace saalbuch::e2e
