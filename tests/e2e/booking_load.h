// Booking load for end-to-end tests: a tenant with rooms open around the
// clock, and clients that keep booking them until stopped.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/time.h"
#include "tests/e2e/harness.h"

namespace saalbuch::e2e {

// Creates `tenant` with rooms `rooms`, open every day 00:00–24:00; returns
// the tenant's admin key.
inline std::string TenantWithRooms(int port, const std::string& tenant,
                                   const std::vector<std::string>& rooms) {
  auto t = CallJson(port, "POST", "/v1/tenants", {{"id", tenant}, {"name", tenant}}, kOperatorKey);
  EXPECT_EQ(t.status, 201) << t.body;
  const std::string admin = t.json()["admin_key"]["key"];
  nlohmann::json hours = nlohmann::json::array();
  for (int d = 1; d <= 7; ++d) hours.push_back({{"weekday", d}, {"start", "00:00"}, {"end", "24:00"}});
  for (const auto& r : rooms) {
    auto res = CallJson(port, "POST", "/v1/tenants/" + tenant + "/resources",
                        {{"id", r}, {"name", r}, {"rules", {{"opening_hours", hours}}}}, admin);
    EXPECT_EQ(res.status, 201) << res.body;
  }
  return admin;
}

// One client thread per room, each booking its room hour after hour (so
// every booking succeeds) until Stop. Every acknowledged booking is kept in
// the order the acknowledgements arrived.
class BookingLoad {
 public:
  BookingLoad(int port, std::string tenant, std::vector<std::string> rooms, std::string key)
      : port_(port), tenant_(std::move(tenant)), rooms_(std::move(rooms)), key_(std::move(key)) {}
  ~BookingLoad() { Stop(); }

  void Start() {
    const TimeUs day = 24LL * 3600 * kUsPerSecond;
    const TimeUs now = std::chrono::duration_cast<std::chrono::microseconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count();
    const TimeUs base = (now / day + 30) * day;
    for (const auto& room : rooms_) {
      threads_.emplace_back([this, room, base] {
        for (TimeUs hour = 0; !stop_; ++hour) {
          const TimeUs start = base + hour * 3600 * kUsPerSecond;
          auto r = CallJson(port_, "POST", "/v1/tenants/" + tenant_ + "/bookings",
                            {{"resource", room},
                             {"start", FormatUtc(start)},
                             {"end", FormatUtc(start + 3600 * kUsPerSecond)}},
                            key_);
          std::lock_guard lock(mu_);
          if (r.status == 201) {
            acknowledged_.push_back(r.json()["id"].get<std::string>());
          } else {
            ++failures_;
            last_failure_ = r.body;
          }
        }
      });
    }
  }

  void Stop() {
    stop_ = true;
    for (auto& t : threads_) t.join();
    threads_.clear();
  }

  // Waits until at least `n` bookings were acknowledged (at most 20 s).
  void WaitFor(std::size_t n) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (Acknowledged().size() < n && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }

  std::vector<std::string> Acknowledged() const {
    std::lock_guard lock(mu_);
    return acknowledged_;
  }
  int failures() const {
    std::lock_guard lock(mu_);
    return failures_;
  }
  std::string last_failure() const {
    std::lock_guard lock(mu_);
    return last_failure_;
  }

 private:
  const int port_;
  const std::string tenant_;
  const std::vector<std::string> rooms_;
  const std::string key_;
  std::atomic<bool> stop_{false};
  std::vector<std::thread> threads_;
  mutable std::mutex mu_;
  std::vector<std::string> acknowledged_;  // guarded by mu_
  int failures_ = 0;                       // guarded by mu_
  std::string last_failure_;               // guarded by mu_
};

}  // namespace saalbuch::e2e
