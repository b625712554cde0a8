// API keys have a life cycle (issue 17, part 6), over real HTTP: an admin
// lists them (never a secret), revokes one at once (also after a restart)
// and rotates one with a grace period, by the bus's clock; every key event
// is in the log with its actor; other roles may not manage keys; a refused
// key command stores nothing.

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "tests/e2e/harness.h"

namespace saalbuch::e2e {
namespace {

using nlohmann::json;

std::map<std::string, std::string> Bearer(const std::string& key) {
  return {{"Authorization", "Bearer " + key}};
}

// The tenant's records as /events gives them.
std::vector<json> Records(int port, const std::string& key) {
  auto r = Call(port, "GET", "/v1/tenants/stadt/events?limit=500", "", Bearer(key));
  EXPECT_EQ(r.status, 200) << r.body;
  std::vector<json> out;
  const json page = r.json();
  for (const auto& item : page["items"]) out.push_back(item["record"]);
  return out;
}

// A request admin and auditor keys may make: 401 once the key is refused.
int AuthStatus(int port, const std::string& key) {
  return Call(port, "GET", "/v1/tenants/stadt/events?limit=1", "", Bearer(key)).status;
}

HttpResult Revoke(int port, const std::string& id, const std::string& key) {
  return CallJson(port, "POST", "/v1/tenants/stadt/keys/" + id + "/revoke", json::object(), key);
}

HttpResult Rotate(int port, const std::string& id, const json& body, const std::string& key) {
  return CallJson(port, "POST", "/v1/tenants/stadt/keys/" + id + "/rotate", body, key);
}

void ExpectProblem(const HttpResult& r, int status, const std::string& code) {
  EXPECT_EQ(r.status, status) << r.body;
  EXPECT_EQ(r.header("content-type"), "application/problem+json") << r.body;
  EXPECT_EQ(r.json().value("code", ""), code) << r.body;
}

class KeysHttpTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = FreshDir("keys"); }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Creates the tenant "stadt"; returns its admin key ({id, key}).
  static json NewTenant(int port) {
    auto t = CallJson(port, "POST", "/v1/tenants", {{"id", "stadt"}, {"name", "Stadt"}}, kOperatorKey);
    EXPECT_EQ(t.status, 201) << t.body;
    return t.json()["admin_key"];
  }
  static json NewKey(int port, const std::string& admin, const std::string& role, const std::string& label) {
    auto k = CallJson(port, "POST", "/v1/tenants/stadt/keys", {{"role", role}, {"label", label}}, admin);
    EXPECT_EQ(k.status, 201) << k.body;
    return k.json();
  }
  // The list as of `position` (the Saalbuch-Position of a change) at least.
  static json ListKeys(int port, const std::string& admin, const std::string& position = "") {
    auto r =
        Call(port, "GET", "/v1/tenants/stadt/keys" + (position.empty() ? "" : "?min_position=" + position),
             "", Bearer(admin));
    EXPECT_EQ(r.status, 200) << r.body;
    return r.json();
  }
  static json Find(const json& list, const std::string& id) {
    for (const auto& k : list["items"]) {
      if (k["id"] == id) return k;
    }
    return nullptr;
  }

  std::filesystem::path dir_;
};

TEST_F(KeysHttpTest, AdminListsRevokesAtOnceAndTheRevocationSurvivesARestart) {
  Server server(dir_ / "data");
  server.Start();
  int port = server.port();
  const json first = NewTenant(port);
  const std::string admin = first["key"], admin_id = first["id"];
  const json staff = NewKey(port, admin, "staff", "Empfang");
  const json auditor = NewKey(port, admin, "auditor", "Rechnungsprüfung");
  const std::string staff_key = staff["key"], staff_id = staff["id"];
  const std::string auditor_key = auditor["key"], auditor_id = auditor["id"];
  ASSERT_EQ(AuthStatus(port, auditor_key), 200);

  // The list: every key with role, label, creation and last use; no secret,
  // no hash of one.
  const json list = ListKeys(port, admin);
  ASSERT_EQ(list["items"].size(), 3U) << list;
  const std::string text = list.dump();
  EXPECT_EQ(text.find(admin), std::string::npos);
  EXPECT_EQ(text.find(staff_key), std::string::npos);
  EXPECT_EQ(text.find(auditor_key), std::string::npos);
  EXPECT_EQ(text.find("sbk_"), std::string::npos);
  EXPECT_EQ(text.find("hash"), std::string::npos);
  const json s = Find(list, staff_id);
  EXPECT_EQ(s["role"], "staff");
  EXPECT_EQ(s["label"], "Empfang");
  EXPECT_EQ(s["status"], "active");
  EXPECT_TRUE(s["created"].is_string()) << s;
  EXPECT_EQ(s["created_by"], "key:" + admin_id) << s;
  EXPECT_TRUE(s["last_used"].is_null()) << s;  // not used yet
  EXPECT_TRUE(Find(list, auditor_id)["last_used"].is_string()) << list;
  EXPECT_TRUE(Find(list, admin_id)["last_used"].is_string()) << list;  // this very request

  // Other roles may not list, revoke or rotate keys, and such a try
  // changes nothing.
  const json head = Records(port, admin).back()["seq"];
  for (const std::string& key : {staff_key, auditor_key}) {
    ExpectProblem(Call(port, "GET", "/v1/tenants/stadt/keys", "", Bearer(key)), 403, "not_permitted");
    ExpectProblem(Revoke(port, staff_id, key), 403, "not_permitted");
    ExpectProblem(Rotate(port, auditor_id, json::object(), key), 403, "not_permitted");
  }
  // An unknown key is a 404 problem, and nothing is stored.
  ExpectProblem(Revoke(port, "key_000000000000", admin), 404, "not_found");
  ExpectProblem(Rotate(port, "key_000000000000", json::object(), admin), 404, "not_found");
  EXPECT_EQ(Records(port, admin).back()["seq"], head);
  EXPECT_EQ(AuthStatus(port, staff_key), 403);  // still its key (403: not its route)
  EXPECT_EQ(Call(port, "GET", "/v1/tenants/stadt/bookings", "", Bearer(staff_key)).status, 200);

  // Revoked: the very next request with it is refused.
  auto revoked = Revoke(port, staff_id, admin);
  ASSERT_EQ(revoked.status, 200) << revoked.body;
  EXPECT_EQ(revoked.json()["id"], staff_id);
  EXPECT_EQ(AuthStatus(port, staff_key), 401);
  EXPECT_EQ(Call(port, "GET", "/v1/tenants/stadt/bookings", "", Bearer(staff_key)).status, 401);
  ExpectProblem(Revoke(port, staff_id, admin), 404, "not_found");
  const json after = Find(ListKeys(port, admin, revoked.header("saalbuch-position")), staff_id);
  EXPECT_EQ(after["status"], "revoked") << after;
  EXPECT_TRUE(after["revoked"].is_string()) << after;
  EXPECT_EQ(after["revoked_by"], "key:" + admin_id) << after;
  // The only admin key cannot be revoked (the tenant would be locked out).
  ExpectProblem(Revoke(port, admin_id, admin), 409, "last_admin_key");
  EXPECT_EQ(AuthStatus(port, admin), 200);

  // Each key event is in the log with its actor.
  int created = 0, revocations = 0;
  for (const json& r : Records(port, admin)) {
    if (r["payload_type"] == "ApiKeyCreated" && r["actor"] == "key:" + admin_id) ++created;
    if (r["payload_type"] != "ApiKeyRevoked") continue;
    ++revocations;
    EXPECT_EQ(r["actor"], "key:" + admin_id) << r;
    EXPECT_EQ(r["stream_id"], "key/" + staff_id) << r;
    EXPECT_EQ(r["payload"]["key_id"], staff_id) << r;
  }
  EXPECT_EQ(created, 2);  // staff and auditor (the first key is the operator's)
  EXPECT_EQ(revocations, 1);

  // After a restart (write model and auth index rebuilt from the log) too.
  EXPECT_EQ(server.Terminate(), 0);
  server.Start();
  port = server.port();
  EXPECT_EQ(AuthStatus(port, staff_key), 401);
  EXPECT_EQ(AuthStatus(port, auditor_key), 200);
  const json restarted = ListKeys(port, admin);
  EXPECT_EQ(Find(restarted, staff_id)["status"], "revoked") << restarted;
  // last_used is kept in memory only: it starts again with the process.
  EXPECT_TRUE(Find(restarted, auditor_id)["last_used"].is_string()) << restarted;
  EXPECT_TRUE(Find(restarted, staff_id)["last_used"].is_null()) << restarted;
}

TimeUs KeysWallNow() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

TEST_F(KeysHttpTest, RotatedKeyWorksDuringItsGraceAndIsRefusedAfter) {
  // The bus's clock, moved forward by the test instead of waiting an hour.
  std::atomic<TimeUs> offset{0};
  auto server = std::make_unique<InProcessServer>(dir_ / "data", nullptr,
                                                  [&offset] { return KeysWallNow() + offset.load(); });
  const int port = server->port();
  const json first = NewTenant(port);
  const std::string admin = first["key"], admin_id = first["id"];
  const json old = NewKey(port, admin, "auditor", "Prüfung");
  const std::string old_key = old["key"], old_id = old["id"];
  const json head = Records(port, admin).back()["seq"];

  // The grace period is bounded: 0 to 30 days; a refusal stores nothing.
  ExpectProblem(Rotate(port, old_id, {{"grace_seconds", 31LL * 24 * 3600}}, admin), 422, "validation_failed");
  ExpectProblem(Rotate(port, old_id, {{"grace_seconds", -1}}, admin), 422, "validation_failed");
  ExpectProblem(Rotate(port, old_id, {{"grace", 60}}, admin), 422, "validation_failed");
  EXPECT_EQ(Records(port, admin).back()["seq"], head);

  auto rotated = Rotate(port, old_id, {{"grace_seconds", 3600}}, admin);
  ASSERT_EQ(rotated.status, 201) << rotated.body;
  const json r = rotated.json();
  const std::string new_key = r["key"], new_id = r["id"];
  EXPECT_EQ(r["role"], "auditor");
  EXPECT_EQ(r["label"], "Prüfung");
  EXPECT_EQ(r["replaces"], old_id);
  EXPECT_TRUE(r["replaced_key_expires"].is_string()) << r;
  EXPECT_NE(new_key, old_key);
  EXPECT_NE(new_id, old_id);
  // Rotating it again is refused.
  ExpectProblem(Rotate(port, old_id, json::object(), admin), 409, "key_rotated");

  // During the grace period both work.
  EXPECT_EQ(AuthStatus(port, old_key), 200);
  EXPECT_EQ(AuthStatus(port, new_key), 200);
  json list = ListKeys(port, admin, rotated.header("saalbuch-position"));
  EXPECT_EQ(Find(list, old_id)["status"], "retiring") << list;
  EXPECT_EQ(Find(list, old_id)["replaced_by"], new_id) << list;
  EXPECT_EQ(Find(list, old_id)["rotated_by"], "key:" + admin_id) << list;
  EXPECT_EQ(Find(list, new_id)["status"], "active") << list;
  EXPECT_EQ(Find(list, new_id)["role"], "auditor") << list;
  EXPECT_EQ(list.dump().find("sbk_"), std::string::npos);
  offset = 3590LL * 1000000;
  EXPECT_EQ(AuthStatus(port, old_key), 200);
  // After it only the new one.
  offset = 3601LL * 1000000;
  EXPECT_EQ(AuthStatus(port, old_key), 401);
  EXPECT_EQ(AuthStatus(port, new_key), 200);
  EXPECT_EQ(Find(ListKeys(port, admin), old_id)["status"], "expired");
  ExpectProblem(Rotate(port, old_id, json::object(), admin), 404, "not_found");
  // Its successor can be rotated in turn, with no grace: the old one stops
  // at once.
  auto again = Rotate(port, new_id, {{"grace_seconds", 0}}, admin);
  ASSERT_EQ(again.status, 201) << again.body;
  const std::string newest_key = again.json()["key"];
  EXPECT_EQ(AuthStatus(port, new_key), 401);
  EXPECT_EQ(AuthStatus(port, newest_key), 200);

  // Both key events of the first rotation are in the log with the rotating
  // admin as actor, in one command.
  std::vector<json> seen;
  for (const json& rec : Records(port, admin)) {
    const std::string type = rec["payload_type"], stream = rec["stream_id"];
    if ((type == "ApiKeyCreated" && stream == "key/" + new_id) ||
        (type == "ApiKeyRotated" && stream == "key/" + old_id)) {
      seen.push_back(rec);
      EXPECT_EQ(rec["actor"], "key:" + admin_id) << rec;
    }
  }
  ASSERT_EQ(seen.size(), 2U);
  EXPECT_EQ(seen[0]["payload_type"], "ApiKeyCreated");
  EXPECT_EQ(seen[1]["payload_type"], "ApiKeyRotated");
  EXPECT_EQ(seen[1]["payload"]["new_key_id"], new_id) << seen[1];
  EXPECT_EQ(seen[0]["command_id"], seen[1]["command_id"]);
  server.reset();

  // After a restart the expired key stays refused, its successors as they were.
  server = std::make_unique<InProcessServer>(dir_ / "data", nullptr,
                                             [&offset] { return KeysWallNow() + offset.load(); });
  EXPECT_EQ(AuthStatus(server->port(), old_key), 401);
  EXPECT_EQ(AuthStatus(server->port(), new_key), 401);
  EXPECT_EQ(AuthStatus(server->port(), newest_key), 200);
  server.reset();
}

}  // namespace
}  // namespace saalbuch::e2e
