// The user story of the spine, through the real server over HTTP: create a
// tenant and a room with opening hours, see availability, book, be refused a
// clash, cancel, book the freed slot; survive kill -9; replay and verify.

#include <gtest/gtest.h>

#include <chrono>

#include "common/time.h"
#include "tests/e2e/harness.h"

namespace saalbuch::e2e {
namespace {

using nlohmann::json;

// Local midnight in Berlin of the Monday at least 7 days from now.
TimeUs NextMondayBerlin() {
  const auto* zone = FindZone("Europe/Berlin");
  auto local_now = zone->to_local(std::chrono::system_clock::now());
  auto day = date::floor<date::days>(local_now) + date::days{7};
  while (date::weekday{day} != date::Monday) day += date::days{1};
  auto sys = zone->to_sys(date::local_seconds{day});
  return std::chrono::duration_cast<std::chrono::microseconds>(sys.time_since_epoch()).count();
}

std::string Local(TimeUs monday, int day, int hour, int minute = 0) {
  // Adds wall-clock days/hours in Berlin (no DST switch inside a normal week
  // matters for these tests, but compute it properly anyway).
  const auto* zone = FindZone("Europe/Berlin");
  auto local = zone->to_local(date::sys_time<std::chrono::microseconds>(std::chrono::microseconds(monday)));
  auto target = date::floor<date::days>(local) + date::days{day} + std::chrono::hours{hour} +
                std::chrono::minutes{minute};
  auto sys = zone->to_sys(target);
  return FormatLocal(std::chrono::duration_cast<std::chrono::microseconds>(sys.time_since_epoch()).count(),
                     zone);
}

class StoryTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = FreshDir("story"); }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Creates tenant "gemeinde" and returns its admin key.
  std::string CreateTenant(int port) {
    auto r = CallJson(port, "POST", "/v1/tenants",
                      {{"id", "gemeinde"}, {"name", "Gemeinde Beispiel"}, {"time_zone", "Europe/Berlin"}},
                      kOperatorKey);
    EXPECT_EQ(r.status, 201) << r.body;
    return r.json()["admin_key"]["key"].get<std::string>();
  }

  std::filesystem::path dir_;
};

TEST_F(StoryTest, BookClashCancelRebookSurvivesKillAndReplays) {
  Server server(dir_ / "data");
  server.Start();
  const int port = server.port();
  const std::string admin = CreateTenant(port);

  auto room = CallJson(port, "POST", "/v1/tenants/gemeinde/resources",
                       {{"id", "saal"}, {"kind", "room"}, {"name", "Saal"}}, admin);
  ASSERT_EQ(room.status, 201) << room.body;
  EXPECT_EQ(room.header("location"), "/v1/tenants/gemeinde/resources/saal");

  json rules = {{"opening_hours",
                 {{{"weekday", "monday"}, {"start", "08:00"}, {"end", "20:00"}},
                  {{"weekday", 2}, {"start", "08:00"}, {"end", "20:00"}}}},
                {"buffer_after_minutes", 30},
                {"granularity_minutes", 30}};
  auto put = CallJson(port, "PUT", "/v1/tenants/gemeinde/resources/saal/rules", rules, admin,
                      {{"If-Match", "\"2\""}});
  ASSERT_EQ(put.status, 200) << put.body;
  const std::string pos = put.header("saalbuch-position");
  ASSERT_FALSE(pos.empty());

  const TimeUs monday = NextMondayBerlin();
  const std::string week = "from=" + Local(monday, 0, 0) + "&to=" + Local(monday, 7, 0);
  auto avail =
      Call(port, "GET", "/v1/tenants/gemeinde/resources/saal/availability?" + week + "&min_position=" + pos);
  ASSERT_EQ(avail.status, 200) << avail.body;
  auto a = avail.json();
  ASSERT_EQ(a["free"].size(), 2u) << avail.body;  // Monday and Tuesday 08–20 local
  EXPECT_EQ(a["free"][0]["start_local"], Local(monday, 0, 8));
  EXPECT_EQ(a["free"][0]["end_local"], Local(monday, 0, 20));
  EXPECT_EQ(a["free"][1]["start_local"], Local(monday, 1, 8));
  EXPECT_TRUE(a["busy"].empty());
  EXPECT_FALSE(avail.header("etag").empty());

  // Book Monday 10–12.
  auto b1 = CallJson(port, "POST", "/v1/tenants/gemeinde/bookings",
                     {{"resource", "saal"}, {"start", Local(monday, 0, 10)}, {"end", Local(monday, 0, 12)}});
  ASSERT_EQ(b1.status, 201) << b1.body;
  auto booking = b1.json();
  EXPECT_EQ(booking["status"], "confirmed");
  EXPECT_TRUE(booking["number"].get<std::string>().starts_with("B-"));
  const std::string token = booking["manage_token"];
  const std::string id = booking["id"];
  const std::string b1_pos = b1.header("saalbuch-position");
  EXPECT_EQ(std::to_string(booking["position"].get<std::uint64_t>()), b1_pos);

  // A clash (12:15 is inside the 30-minute buffer after 12:00) names the range.
  auto clash =
      CallJson(port, "POST", "/v1/tenants/gemeinde/bookings",
               {{"resource", "saal"}, {"start", Local(monday, 0, 12)}, {"end", Local(monday, 0, 13)}});
  ASSERT_EQ(clash.status, 409) << clash.body;
  auto p = clash.json();
  EXPECT_EQ(p["code"], "booking_conflict");
  EXPECT_EQ(clash.header("content-type"), "application/problem+json");
  EXPECT_EQ(p["details"]["conflict"]["start_local"], Local(monday, 0, 10));
  EXPECT_EQ(p["details"]["conflict"]["end_local"], Local(monday, 0, 12, 30));

  // Availability shows the busy range, buffer included.
  avail = Call(port, "GET",
               "/v1/tenants/gemeinde/resources/saal/availability?" + week + "&min_position=" + b1_pos);
  a = avail.json();
  ASSERT_EQ(a["busy"].size(), 1u);
  EXPECT_EQ(a["busy"][0]["end_local"], Local(monday, 0, 12, 30));
  ASSERT_EQ(a["free"].size(), 3u);

  // The booker sees and cancels with the manage token; a wrong token is 404.
  auto seen = Call(port, "GET",
                   "/v1/tenants/gemeinde/bookings/" + id + "?token=" + token + "&min_position=" + b1_pos);
  ASSERT_EQ(seen.status, 200) << seen.body;
  EXPECT_EQ(seen.json()["history"].size(), 1u);
  auto wrong = Call(port, "GET", "/v1/tenants/gemeinde/bookings/" + id + "?token=sbm_wrong");
  EXPECT_EQ(wrong.status, 404);
  auto cancel = CallJson(port, "POST", "/v1/tenants/gemeinde/bookings/" + id + "/cancel",
                         {{"reason", "Termin verschoben"}}, "", {{"Saalbuch-Manage-Token", token}});
  ASSERT_EQ(cancel.status, 200) << cancel.body;
  EXPECT_EQ(cancel.json()["status"], "cancelled");

  // The freed slot can be booked again.
  auto b2 = CallJson(port, "POST", "/v1/tenants/gemeinde/bookings",
                     {{"resource", "saal"}, {"start", Local(monday, 0, 11)}, {"end", Local(monday, 0, 13)}});
  ASSERT_EQ(b2.status, 201) << b2.body;
  const std::string id2 = b2.json()["id"];
  const std::string last_pos = b2.header("saalbuch-position");

  // kill -9 and restart: everything acknowledged is there.
  server.Kill();
  server.Start();
  const int port2 = server.port();
  auto after1 = Call(port2, "GET", "/v1/tenants/gemeinde/bookings/" + id + "?min_position=" + last_pos, "",
                     {{"Authorization", "Bearer " + admin}});
  ASSERT_EQ(after1.status, 200) << after1.body;
  auto h = after1.json();
  EXPECT_EQ(h["status"], "cancelled");
  ASSERT_EQ(h["history"].size(), 2u);
  EXPECT_EQ(h["history"][1]["actor"], "manage-token");
  EXPECT_EQ(h["history"][1]["reason"], "Termin verschoben");
  auto after2 =
      Call(port2, "GET", "/v1/tenants/gemeinde/bookings/" + id2, "", {{"Authorization", "Bearer " + admin}});
  ASSERT_EQ(after2.status, 200);
  EXPECT_EQ(after2.json()["status"], "confirmed");
  // The write model was rebuilt: the slot is still taken.
  auto clash2 =
      CallJson(port2, "POST", "/v1/tenants/gemeinde/bookings",
               {{"resource", "saal"}, {"start", Local(monday, 0, 12)}, {"end", Local(monday, 0, 14)}});
  EXPECT_EQ(clash2.status, 409);
  const std::string live =
      Call(port2, "GET", "/v1/tenants/gemeinde/resources/saal/availability?" + week).body;
  EXPECT_EQ(server.Terminate(), 0);

  // The auditor's tool: the chain verifies, the replay equals the live state.
  auto verify = Replay({"verify", "--data", (dir_ / "data").string()});
  EXPECT_EQ(verify.exit_code, 0) << verify.out;
  EXPECT_NE(verify.out.find("gemeinde: OK"), std::string::npos) << verify.out;
  auto diff = Replay({"diff", "--data", (dir_ / "data").string()});
  EXPECT_EQ(diff.exit_code, 0) << diff.out;
  EXPECT_NE(diff.out.find("identical"), std::string::npos) << diff.out;
  auto state = Replay({"state", "--data", (dir_ / "data").string(), "--tenant", "gemeinde", "--resource",
                       "saal", "--from", Local(monday, 0, 0), "--to", Local(monday, 7, 0)});
  ASSERT_EQ(state.exit_code, 0) << state.out;
  auto replayed = json::parse(state.out)["availability"]["saal"];
  auto live_json = json::parse(live);
  EXPECT_EQ(replayed["free"], live_json["free"]);
  EXPECT_EQ(replayed["busy"], live_json["busy"]);
  // As of the first booking's position, Monday 10–12:30 was busy.
  auto then = Replay({"state", "--data", (dir_ / "data").string(), "--tenant", "gemeinde", "--at", b1_pos,
                      "--from", Local(monday, 0, 0), "--to", Local(monday, 1, 0)});
  ASSERT_EQ(then.exit_code, 0) << then.out;
  auto then_busy = json::parse(then.out)["availability"]["saal"]["busy"];
  ASSERT_EQ(then_busy.size(), 1u);
  EXPECT_EQ(then_busy[0]["start_local"], Local(monday, 0, 10));
}

TEST_F(StoryTest, IdempotentRetryReturnsTheFirstReply) {
  Server server(dir_ / "data");
  server.Start();
  const int port = server.port();
  const std::string admin = CreateTenant(port);
  ASSERT_EQ(
      CallJson(port, "POST", "/v1/tenants/gemeinde/resources", {{"id", "raum"}, {"name", "Raum"}}, admin)
          .status,
      201);
  const TimeUs monday = NextMondayBerlin();
  json body = {{"resource", "raum"}, {"start", Local(monday, 0, 9)}, {"end", Local(monday, 0, 10)}};
  const std::map<std::string, std::string> key = {
      {"Idempotency-Key", "0f3c2a9e-5b1d-4e7a-9c3b-7d2e1f0a8b6c"}};
  auto first = CallJson(port, "POST", "/v1/tenants/gemeinde/bookings", body, "", key);
  ASSERT_EQ(first.status, 201) << first.body;
  auto again = CallJson(port, "POST", "/v1/tenants/gemeinde/bookings", body, "", key);
  EXPECT_EQ(again.status, 201);
  EXPECT_EQ(again.header("saalbuch-position"), first.header("saalbuch-position"));
  EXPECT_EQ(again.header("idempotent-replayed"), "true");
  // The same reply, except that the once-shown manage token is not kept.
  auto a = first.json(), b = again.json();
  EXPECT_TRUE(a["manage_token"].is_string());
  EXPECT_TRUE(b["manage_token"].is_null());
  EXPECT_EQ(b["secrets_withheld"], true);
  a.erase("manage_token");
  b.erase("manage_token");
  b.erase("secrets_withheld");
  EXPECT_EQ(a, b);
  // Also after a crash.
  server.Kill();
  server.Start();
  auto third = CallJson(server.port(), "POST", "/v1/tenants/gemeinde/bookings", body, "", key);
  EXPECT_EQ(third.status, 201);
  EXPECT_EQ(third.body, again.body);
  body["end"] = Local(monday, 0, 11);
  auto other = CallJson(server.port(), "POST", "/v1/tenants/gemeinde/bookings", body, "", key);
  EXPECT_EQ(other.status, 422);
  EXPECT_EQ(other.json()["code"], "idempotency_key_reused");
}

TEST_F(StoryTest, DemoTenantServesOperationalRoutes) {
  Server server(dir_ / "data", {"--demo"});
  server.Start();
  const int port = server.port();
  EXPECT_NE(server.stdout_text().find("Demo admin key: sbk_"), std::string::npos) << server.stdout_text();
  auto resources = Call(port, "GET", "/v1/tenants/buergerhaus/resources");
  ASSERT_EQ(resources.status, 200);
  EXPECT_EQ(resources.json()["items"].size(), 9u);
  auto etag = resources.header("etag");
  ASSERT_FALSE(etag.empty());
  EXPECT_EQ(Call(port, "GET", "/v1/tenants/buergerhaus/resources", "", {{"If-None-Match", etag}}).status,
            304);
  EXPECT_EQ(Call(port, "GET", "/healthz").status, 200);
  EXPECT_EQ(Call(port, "GET", "/readyz").status, 200);
  EXPECT_EQ(Call(port, "GET", "/metrics").status, 401);  // operator only
  auto metrics =
      Call(port, "GET", "/metrics", "", {{"Authorization", std::string("Bearer ") + kOperatorKey}});
  ASSERT_EQ(metrics.status, 200);
  EXPECT_NE(metrics.body.find("saalbuch_http_requests_total"), std::string::npos);
  EXPECT_NE(metrics.body.find("saalbuch_log_appends_total{result=\"ok\"}"), std::string::npos);
  EXPECT_NE(metrics.body.find("saalbuch_log_append_seconds_bucket"), std::string::npos);
  EXPECT_NE(metrics.body.find("saalbuch_commands_total{command=\"create_resource\",outcome=\"created\"}"),
            std::string::npos);
  auto openapi = Call(port, "GET", "/v1/openapi.json");
  ASSERT_EQ(openapi.status, 200);
  auto doc = openapi.json();
  EXPECT_EQ(doc["openapi"], "3.1.0");
  for (const char* path : {"/v1/tenants",
                           "/v1/tenants/{tenant}/keys",
                           "/v1/tenants/{tenant}/resources",
                           "/v1/tenants/{tenant}/resources/{resource}",
                           "/v1/tenants/{tenant}/resources/{resource}/rules",
                           "/v1/tenants/{tenant}/resources/{resource}/availability",
                           "/v1/tenants/{tenant}/bookings",
                           "/v1/tenants/{tenant}/bookings/{booking}",
                           "/v1/tenants/{tenant}/bookings/{booking}/cancel",
                           "/v1/tenants/{tenant}/events",
                           "/metrics",
                           "/healthz",
                           "/readyz",
                           "/v1/tenants/{tenant}/resources/{resource}/sessions",
                           "/v1/tenants/{tenant}/addons/{addon}",
                           "/v1/tenants/{tenant}/groups",
                           "/v1/tenants/{tenant}/customers",
                           "/v1/tenants/{tenant}/rights",
                           "/v1/tenants/{tenant}/settings",
                           "/v1/tenants/{tenant}/series",
                           "/v1/tenants/{tenant}/series/{series}/cancel",
                           "/v1/tenants/{tenant}/bookings/{booking}/approve",
                           "/v1/tenants/{tenant}/bookings/{booking}/reschedule"}) {
    EXPECT_TRUE(doc["paths"].contains(path)) << path;
  }
  // A restart keeps the demo tenant and does not seed twice.
  EXPECT_EQ(server.Terminate(), 0);
  server.Start();
  EXPECT_NE(server.stdout_text().find("exists"), std::string::npos) << server.stdout_text();
  EXPECT_EQ(Call(server.port(), "GET", "/v1/tenants/buergerhaus/resources").json()["items"].size(), 9u);
}

}  // namespace
}  // namespace saalbuch::e2e
