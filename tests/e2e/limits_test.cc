// The network edge is bounded: connection count, time per request, request
// rate; and /metrics is valid Prometheus text according to promtool.

#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <thread>

#include "common/time.h"
#include "tests/e2e/harness.h"

namespace saalbuch::e2e {
namespace {

namespace net = boost::asio;
using tcp = net::ip::tcp;

class LimitsTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = FreshDir("limits"); }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

TEST_F(LimitsTest, ConnectionsBeyondTheLimitGet503AndSilentClientsAreDropped) {
  Server server(dir_ / "data", {"--max-connections", "3", "--request-timeout", "1"});
  server.Start();
  net::io_context ioc;
  const tcp::endpoint ep(net::ip::make_address("127.0.0.1"), static_cast<unsigned short>(server.port()));
  std::vector<tcp::socket> idle;
  for (int i = 0; i < 3; ++i) {
    idle.emplace_back(ioc);
    idle.back().connect(ep);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  auto refused = Call(server.port(), "GET", "/healthz");
  EXPECT_EQ(refused.status, 503);
  EXPECT_EQ(refused.json()["code"], "too_many_connections");
  // The silent clients are disconnected after the request time limit …
  for (auto& s : idle) {
    char b;
    boost::system::error_code ec;
    net::read(s, net::buffer(&b, 1), ec);
    EXPECT_TRUE(ec == net::error::eof || ec == net::error::connection_reset) << ec.message();
  }
  // … which frees their slots.
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(Call(server.port(), "GET", "/healthz").status, 200);
}

TEST_F(LimitsTest, KeylessBookingsAreRateLimitedPerAddress) {
  Server server(dir_ / "data", {"--public-booking-rate", "0.5"});  // burst 5
  server.Start();
  auto t = CallJson(server.port(), "POST", "/v1/tenants", {{"id", "ort"}, {"name", "Ort"}}, kOperatorKey);
  ASSERT_EQ(t.status, 201);
  int limited = 0;
  std::string retry_after;
  for (int i = 0; i < 8; ++i) {
    auto r = CallJson(server.port(), "POST", "/v1/tenants/ort/bookings", {{"resource", "nichts"}});
    if (r.status == 429) {
      ++limited;
      retry_after = r.header("retry-after");
      EXPECT_EQ(r.json()["code"], "rate_limited");
    } else {
      EXPECT_EQ(r.status, 422) << r.body;  // resource missing: decoded, then refused
    }
  }
  EXPECT_EQ(limited, 3);
  EXPECT_FALSE(retry_after.empty());
  // Staff with a key are not limited by the public bucket.
  const std::string admin = t.json()["admin_key"]["key"];
  auto staff = CallJson(server.port(), "POST", "/v1/tenants/ort/bookings", {{"resource", "nichts"}}, admin);
  EXPECT_EQ(staff.status, 422) << staff.body;
}

TEST_F(LimitsTest, MetricsPassPromtool) {
  Server server(dir_ / "data", {"--demo"});
  server.Start();
  Call(server.port(), "GET", "/v1/tenants/buergerhaus/resources");
  Call(server.port(), "GET", "/v1/tenants/nobody/resources");
  auto m =
      Call(server.port(), "GET", "/metrics", "", {{"Authorization", std::string("Bearer ") + kOperatorKey}});
  ASSERT_EQ(m.status, 200);
  const auto file = dir_ / "metrics.txt";
  std::ofstream(file) << m.body;
  const std::string cmd = "promtool check metrics < " + file.string() + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string out;
  char buf[512];
  while (fgets(buf, sizeof buf, p) != nullptr) out += buf;
  const int rc = pclose(p);
  EXPECT_EQ(rc, 0) << "promtool (from Debian's prometheus package) says: " << out;
  EXPECT_NE(m.body.find("saalbuch_http_request_seconds_bucket"), std::string::npos);
}

// The value of an unlabelled sample in Prometheus text; NaN when absent.
double Sample(const std::string& text, const std::string& name) {
  const std::string start = "\n" + name + " ";
  const std::size_t at = text.find(start);
  if (at == std::string::npos) return std::nan("");
  return std::stod(text.substr(at + start.size(), text.find('\n', at + 1) - at - start.size()));
}

TEST_F(LimitsTest, MetricsShowTheProcessAndTheBacklogsOperatorsAlertOn) {
  // No --smtp-url: a booking's confirmation waits in the outbox.
  Server server(dir_ / "data");
  server.Start();
  auto metrics = [&] {
    auto m = Call(server.port(), "GET", "/metrics", "",
                  {{"Authorization", std::string("Bearer ") + kOperatorKey}});
    EXPECT_EQ(m.status, 200);
    return m.body;
  };
  std::string text = metrics();
  const auto wall_now = [] {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  };
  const double now_s = static_cast<double>(wall_now()) / 1e6;
  EXPECT_NEAR(Sample(text, "process_start_time_seconds"), now_s, 120) << text;
  EXPECT_GT(Sample(text, "process_resident_memory_bytes"), 1e6);
  EXPECT_GE(Sample(text, "process_virtual_memory_bytes"), Sample(text, "process_resident_memory_bytes"));
  EXPECT_GT(Sample(text, "process_cpu_seconds_total"), 0);
  EXPECT_GT(Sample(text, "process_open_fds"), 3);
  EXPECT_GE(Sample(text, "process_max_fds"), Sample(text, "process_open_fds"));
  EXPECT_EQ(Sample(text, "saalbuch_outbox_due"), 0);
  EXPECT_EQ(Sample(text, "saalbuch_refunds_pending"), 0);
  EXPECT_EQ(Sample(text, "saalbuch_projection_lag_records"), 0);

  auto t = CallJson(server.port(), "POST", "/v1/tenants", {{"id", "ort"}, {"name", "Ort"}}, kOperatorKey);
  ASSERT_EQ(t.status, 201) << t.body;
  const std::string admin = t.json()["admin_key"]["key"];
  ASSERT_EQ(
      CallJson(server.port(), "POST", "/v1/tenants/ort/resources", {{"id", "saal"}, {"name", "Saal"}}, admin)
          .status,
      201);
  constexpr TimeUs kHourUs = 60 * kUsPerMinute;
  const TimeUs start = (wall_now() / kHourUs + 24 * 10) * kHourUs;
  for (int i = 0; i < 2; ++i) {
    auto b = CallJson(server.port(), "POST", "/v1/tenants/ort/bookings",
                      {{"resource", "saal"},
                       {"start", FormatUtc(start + i * 2 * kHourUs)},
                       {"end", FormatUtc(start + (i * 2 + 1) * kHourUs)},
                       {"contact", {{"name", "Erika"}, {"email", "erika@example.org"}}}},
                      admin);
    ASSERT_EQ(b.status, 201) << b.body;
  }
  // The projections follow within moments; the two confirmations wait.
  for (int i = 0; i < 100 && Sample(text, "saalbuch_outbox_due") < 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    text = metrics();
  }
  EXPECT_EQ(Sample(text, "saalbuch_outbox_due"), 2) << text;
  EXPECT_GE(Sample(text, "saalbuch_outbox_oldest_due_seconds"), 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  EXPECT_GE(Sample(metrics(), "saalbuch_outbox_oldest_due_seconds"), 1);
}

}  // namespace
}  // namespace saalbuch::e2e
