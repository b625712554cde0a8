// Door access against the simulated lock provider as its own process
// (tools/locksim over real HTTP) and a real SMTP server: every confirmed
// booking of a resource with a door holds exactly one code at the
// provider, valid over its window and the tenant's margins, through
// reschedules, cancellations, erasure and an unlinked door, after refusals,
// an unreachable provider and a kill -9 between the provider's act and its
// record; the booker sees the code on the manage page and in the e-mail
// only from the tenant's reveal time on; staff always.

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <random>
#include <thread>

#include "tests/e2e/harness.h"
#include "tests/e2e/tenant_fixture.h"
#include "tests/support/python_peer.h"
#include "tests/support/smtp_server.h"
#include "tests/support/times.h"

namespace saalbuch::e2e {
namespace {

using nlohmann::json;
using testing_support::kHour;

constexpr const char* kLockKey = "lock-test-key";

class DoorTest : public TenantServerTest {
 protected:
  DoorTest()
      : lock_(SAALBUCH_TESTS_DIR "/../tools/locksim/locksim.py",
              {"--api-key", kLockKey, "--access-points", "saal-tuer,werkstatt-tuer"}),
        mail_root_(FreshDir("DoorTestMail")),
        smtp_(mail_root_ / "mail") {
    ::setenv("SAALBUCH_DOOR_KEY", kLockKey, 1);
    smtp_.Start();
  }
  ~DoorTest() override {
    smtp_.Stop();
    std::error_code ec;
    std::filesystem::remove_all(mail_root_, ec);
  }
  std::vector<std::string> ServerArgs() const override {
    return {"--door-url", lock_.url(), "--smtp-url", smtp_.url()};
  }
  void SetUp() override {
    TenantServerTest::SetUp();
    Must("POST", "/resources", {{"id", "saal"}, {"kind", "room"}, {"name", "Saal"}}, admin_);
    Must("PUT", "/resources/saal/door", {{"access_point", "saal-tuer"}}, admin_);
    Must("PUT", "/doors/settings", {{"before_minutes", 30}, {"after_minutes", 15}, {"reveal_minutes", 240}},
         admin_);
  }

  // What the lock provider holds, by key.
  std::map<std::string, json> Codes() {
    auto r =
        Call(lock_.port(), "GET", "/v1/codes", "", {{"Authorization", std::string("Bearer ") + kLockKey}});
    EXPECT_EQ(r.status, 200) << r.body;
    std::map<std::string, json> out;
    const json list = r.json();
    for (const auto& c : list["items"]) out[c["key"].get<std::string>()] = c;
    return out;
  }
  // Waits up to 30 s for `ok` over the provider's codes; the last codes.
  std::map<std::string, json> WaitCodes(const std::function<bool(const std::map<std::string, json>&)>& ok) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    auto codes = Codes();
    while (!ok(codes) && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      codes = Codes();
    }
    return codes;
  }
  static std::string KeyOf(const std::string& booking) { return "gemeinde:" + booking; }
  static bool Valid(const std::map<std::string, json>& codes, const std::string& booking) {
    auto it = codes.find(KeyOf(booking));
    return it != codes.end() && !it->second["revoked"].get<bool>();
  }
  // A citizen's booking of the Saal over [start, start + 1 h).
  json Book(TimeUs start, const std::string& email = "erika@example.org") {
    auto r = CallJson(Port(), "POST", "/v1/tenants/gemeinde/bookings",
                      {{"resource", "saal"},
                       {"start", FormatUtc(start)},
                       {"end", FormatUtc(start + kHour)},
                       {"contact", {{"name", "Erika Mustermann"}, {"email", email}}}});
    EXPECT_EQ(r.status, 201) << r.body;
    position_ = r.header("saalbuch-position");
    return r.json();
  }
  // The booking as its booker (manage token) or a clerk sees it.
  json AsBooker(const json& b) {
    auto r =
        Call(Port(), "GET",
             "/v1/tenants/gemeinde/bookings/" + b["id"].get<std::string>() + "?min_position=" + position_, "",
             {{"Saalbuch-Manage-Token", b["manage_token"].get<std::string>()}});
    EXPECT_EQ(r.status, 200) << r.body;
    return r.json();
  }
  json AsStaff(const std::string& id) { return Fetch("/bookings/" + id, staff_).json(); }
  // Waits until the booking's door shows `state` (to the clerk).
  json WaitDoor(const std::string& id, const std::string& state) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    json b = AsStaff(id);
    while (b["door"].value("state", "") != state && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      b = AsStaff(id);
    }
    return b;
  }
  // Waits up to 30 s until no booking is pending; how many still are.
  std::size_t WaitSettled() {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    std::size_t n = Fetch("/doors", staff_).json()["items"].size();
    while (n > 0 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      n = Fetch("/doors", staff_).json()["items"].size();
    }
    return n;
  }
  // The log's door records of `booking`, by type.
  std::map<std::string, int> DoorEvents(const std::string& booking) {
    std::map<std::string, int> n;
    auto r = Call(Port(), "GET", "/v1/tenants/gemeinde/events?limit=500", "",
                  {{"Authorization", "Bearer " + admin_}});
    EXPECT_EQ(r.status, 200) << r.body;
    const json events = r.json();
    for (const auto& e : events["items"]) {
      const json& rec = e["record"];
      const std::string type = rec.value("payload_type", "");
      if (type.rfind("DoorCode", 0) == 0 && rec["payload"].value("booking_id", "") == booking) ++n[type];
    }
    return n;
  }
  static TimeUs NextHour(TimeUs ahead) {
    const TimeUs t = std::chrono::duration_cast<std::chrono::microseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count() +
                     ahead;
    return t - t % kHour + kHour;
  }

  testing_support::PythonPeer lock_;
  std::filesystem::path mail_root_;
  testing_support::SmtpServer smtp_;
};

TEST_F(DoorTest, EveryConfirmedBookingHoldsOneCodeThroughItsLife) {
  const TimeUs soon = NextHour(kHour);             // within the 4 h before the start: shown
  const TimeUs later = NextHour(10 * 24 * kHour);  // not yet shown
  const json a = Book(soon);
  const json b = Book(later, "max@example.org");
  const std::string ida = a["id"], idb = b["id"];

  auto codes = WaitCodes([&](const auto& c) { return Valid(c, ida) && Valid(c, idb); });
  ASSERT_TRUE(Valid(codes, ida) && Valid(codes, idb));
  const json ca = codes[KeyOf(ida)], cb = codes[KeyOf(idb)];
  EXPECT_EQ(ca["access_point"], "saal-tuer");
  EXPECT_EQ(ca["valid_from"], FormatUtc(soon - 30 * kUsPerMinute));
  EXPECT_EQ(ca["valid_to"], FormatUtc(soon + kHour + 15 * kUsPerMinute));
  EXPECT_EQ(ca["issued"], 1);

  // The booker sees A's code (its start is near) and not yet B's.
  json door_a = WaitDoor(ida, "issued")["door"];
  EXPECT_EQ(door_a["code"], ca["code"]);
  EXPECT_EQ(AsBooker(a)["door"]["code"], ca["code"]);
  EXPECT_EQ(AsBooker(a)["door"]["valid_from"], ca["valid_from"]);
  json door_b = WaitDoor(idb, "issued")["door"];
  EXPECT_EQ(door_b["code"], cb["code"]) << "a clerk sees every code";
  const json booker_b = AsBooker(b)["door"];
  EXPECT_EQ(booker_b["state"], "issued");
  EXPECT_FALSE(booker_b.contains("code")) << booker_b.dump();
  EXPECT_EQ(booker_b["shown_from"], FormatUtc(later - 4 * kHour));

  // The e-mail with A's code is sent now; B's waits for its reveal time.
  // (The mail's body is quoted-printable: "Türcode" is "T=C3=BCrcode".)
  auto mails = smtp_.WaitFor(3);  // two confirmations, one door code
  int door_mails = 0;
  for (const auto& m : mails) {
    EXPECT_EQ(m.find(cb["code"].get<std::string>()), std::string::npos) << "B's code is not sent yet";
    if (m.find("T=C3=BCrcode") == std::string::npos) continue;
    ++door_mails;
    EXPECT_NE(m.find(ca["code"].get<std::string>()), std::string::npos) << m;
  }
  EXPECT_EQ(door_mails, 1);

  // Moved: the same code, valid over the new window.
  const TimeUs moved = later + 24 * kHour;
  auto r = CallJson(Port(), "POST", "/v1/tenants/gemeinde/bookings/" + idb + "/reschedule",
                    {{"start", FormatUtc(moved)}, {"end", FormatUtc(moved + 2 * kHour)}}, staff_);
  ASSERT_EQ(r.status, 200) << r.body;
  codes = WaitCodes([&](const auto& c) {
    return c.at(KeyOf(idb))["valid_to"] == FormatUtc(moved + 2 * kHour + 15 * kUsPerMinute);
  });
  EXPECT_EQ(codes[KeyOf(idb)]["code"], cb["code"]);
  EXPECT_EQ(codes[KeyOf(idb)]["valid_from"], FormatUtc(moved - 30 * kUsPerMinute));
  EXPECT_EQ(codes[KeyOf(idb)]["issued"], 1);
  EXPECT_EQ(codes[KeyOf(idb)]["changed"], 1);

  // Cancelled by the booker: A's code opens nothing any more.
  r = CallJson(Port(), "POST", "/v1/tenants/gemeinde/bookings/" + ida + "/cancel", json::object(), "",
               {{"Saalbuch-Manage-Token", a["manage_token"].get<std::string>()}});
  ASSERT_EQ(r.status, 200) << r.body;
  codes = WaitCodes([&](const auto& c) { return !Valid(c, ida); });
  EXPECT_FALSE(Valid(codes, ida));
  EXPECT_EQ(WaitDoor(ida, "revoked")["door"]["state"], "revoked");

  // Erased: B's code goes with the person.
  const std::string person = AsStaff(idb)["person"];
  Must("POST", "/persons/" + person + "/erase", {{"reason", "Art. 17 DSGVO"}}, admin_);
  codes = WaitCodes([&](const auto& c) { return !Valid(c, idb); });
  EXPECT_FALSE(Valid(codes, idb));
  EXPECT_EQ(WaitDoor(idb, "revoked")["door"]["state"], "revoked");

  // A door unlinked: C's code is revoked; linked again: a new code.
  const json c = Book(NextHour(3 * 24 * kHour));
  const std::string idc = c["id"];
  codes = WaitCodes([&](const auto& m) { return Valid(m, idc); });
  ASSERT_TRUE(Valid(codes, idc));
  Must("PUT", "/resources/saal/door", {{"access_point", nullptr}}, admin_);
  codes = WaitCodes([&](const auto& m) { return !Valid(m, idc); });
  EXPECT_FALSE(Valid(codes, idc));
  Must("PUT", "/resources/saal/door", {{"access_point", "werkstatt-tuer"}}, admin_);
  codes = WaitCodes([&](const auto& m) { return Valid(m, idc); });
  EXPECT_EQ(codes[KeyOf(idc)]["access_point"], "werkstatt-tuer");
  EXPECT_EQ(codes[KeyOf(idc)]["issued"], 2);

  // Nothing pending or failed (once C's new code is recorded); each outcome
  // recorded once.
  EXPECT_EQ(WaitSettled(), 0u);
  EXPECT_EQ(Fetch("/doors?state=failed", staff_).json()["items"].size(), 0u);
  EXPECT_EQ(DoorEvents(ida), (std::map<std::string, int>{{"DoorCodeIssued", 1}, {"DoorCodeRevoked", 1}}));
  EXPECT_EQ(DoorEvents(idb), (std::map<std::string, int>{{"DoorCodeIssued", 2}, {"DoorCodeRevoked", 1}}));

  // The log holds no code in plaintext; the projection equals a replay.
  EXPECT_EQ(server_->Terminate(), 0);
  auto diff = Replay({"diff", "--data", (dir_ / "data").string()});
  EXPECT_EQ(diff.exit_code, 0) << diff.out << diff.err;
}

TEST_F(DoorTest, ARefusalIsShownToStaffAndAnOutageIsRetried) {
  // A door the provider does not know: the booking stands, staff see why.
  Must("PUT", "/resources/saal/door", {{"access_point", "keller-tuer"}}, admin_);
  const json a = Book(NextHour(2 * 24 * kHour));
  const std::string ida = a["id"];
  json b = WaitDoor(ida, "pending");
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  json failed;
  while (std::chrono::steady_clock::now() < deadline) {
    failed = Fetch("/doors?state=failed", staff_).json();
    if (!failed["items"].empty()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_EQ(failed["items"].size(), 1u) << failed.dump();
  EXPECT_EQ(failed["items"][0]["booking"], ida);
  EXPECT_EQ(failed["items"][0]["failure"]["refused"], true);
  EXPECT_NE(failed["items"][0]["failure"]["reason"].get<std::string>().find("unknown access point"),
            std::string::npos);
  EXPECT_EQ(AsStaff(ida)["status"], "confirmed");
  EXPECT_EQ(Fetch("/doors", staff_).json()["items"].size(), 0u) << "a refusal is not retried";

  // The right door: issued, the failure gone.
  Must("PUT", "/resources/saal/door", {{"access_point", "saal-tuer"}}, admin_);
  EXPECT_EQ(WaitDoor(ida, "issued")["door"]["state"], "issued");
  EXPECT_EQ(Fetch("/doors?state=failed", staff_).json()["items"].size(), 0u);

  // Moved to an unknown door and back: the refusal of the move is moot once
  // the code again fits, and goes without another call.
  Must("PUT", "/resources/saal/door", {{"access_point", "keller-tuer"}}, admin_);
  const auto refused_again = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (Fetch("/doors?state=failed", staff_).json()["items"].empty() &&
         std::chrono::steady_clock::now() < refused_again) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_EQ(Fetch("/doors?state=failed", staff_).json()["items"].size(), 1u);
  Must("PUT", "/resources/saal/door", {{"access_point", "saal-tuer"}}, admin_);
  EXPECT_EQ(Fetch("/doors?state=failed", staff_).json()["items"].size(), 0u);
  EXPECT_EQ(Fetch("/doors", staff_).json()["items"].size(), 0u);
  EXPECT_EQ(AsStaff(ida)["door"]["access_point"], "saal-tuer");

  // Unreachable three times: recorded once for staff, retried until done.
  ASSERT_EQ(CallJson(lock_.port(), "POST", "/control/fail", {{"count", 3}, {"status", 503}}).status, 200);
  const json c = Book(NextHour(4 * 24 * kHour));
  const std::string idc = c["id"];
  EXPECT_EQ(WaitDoor(idc, "issued")["door"]["state"], "issued");
  EXPECT_EQ(DoorEvents(idc), (std::map<std::string, int>{{"DoorCodeFailed", 1}, {"DoorCodeIssued", 1}}));
  EXPECT_EQ(Codes()[KeyOf(idc)]["issued"], 1);
}

TEST_F(DoorTest, AKillBetweenTheProvidersActAndItsRecordLeavesOneCode) {
  ASSERT_EQ(CallJson(lock_.port(), "POST", "/control/stall", {{"seconds", 5}}).status, 200);
  const json a = Book(NextHour(kHour));
  const std::string ida = a["id"];
  // The provider made the code; saalbuchd waits for the answer and dies.
  auto codes = WaitCodes([&](const auto& c) { return c.count(KeyOf(ida)) > 0; });
  ASSERT_TRUE(Valid(codes, ida));
  server_->Kill();
  server_ = std::make_unique<Server>(dir_ / "data", ServerArgs());
  server_->Start();
  json door = WaitDoor(ida, "issued")["door"];
  EXPECT_EQ(door["code"], codes[KeyOf(ida)]["code"]);
  codes = Codes();
  EXPECT_EQ(codes[KeyOf(ida)]["issued"], 1) << "the same code, not a second one";
  EXPECT_EQ(DoorEvents(ida), (std::map<std::string, int>{{"DoorCodeIssued", 1}}));
  EXPECT_EQ(AsBooker(a)["door"]["code"], codes[KeyOf(ida)]["code"]);
}

// The invariant under random operations: once nothing is pending, the
// provider holds a valid code for exactly the confirmed bookings of a
// resource with a door whose booker is not erased, each at that door over
// the window and margins in force now.
TEST_F(DoorTest, RandomOperationsEndWithOneCodePerConfirmedBooking) {
  const unsigned seed = static_cast<unsigned>(std::random_device{}());
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 rng(seed);
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
  const TimeUs base = NextHour(24 * kHour);
  std::vector<std::string> ids;
  const char* emails[] = {"a@example.org", "b@example.org", "c@example.org"};
  for (int step = 0; step < 40; ++step) {
    const int op = ids.empty() ? 0 : pick(8);
    const TimeUs slot = base + pick(20 * 24) * kHour;
    if (op <= 2) {
      auto r = CallJson(Port(), "POST", "/v1/tenants/gemeinde/bookings",
                        {{"resource", "saal"},
                         {"start", FormatUtc(slot)},
                         {"end", FormatUtc(slot + kHour)},
                         {"contact", {{"name", "N"}, {"email", emails[pick(3)]}}}});
      EXPECT_TRUE(r.status == 201 || r.status == 409) << r.body;
      if (r.status == 201) {
        ids.push_back(r.json()["id"]);
        position_ = r.header("saalbuch-position");
      }
    } else if (op == 3) {
      auto r = CallJson(Port(), "POST", "/v1/tenants/gemeinde/bookings/" + ids[pick(ids.size())] + "/cancel",
                        json::object(), staff_);
      EXPECT_TRUE(r.status == 200 || r.status == 409 || r.status == 422) << r.body;
    } else if (op == 4) {
      auto r =
          CallJson(Port(), "POST", "/v1/tenants/gemeinde/bookings/" + ids[pick(ids.size())] + "/reschedule",
                   {{"start", FormatUtc(slot)}, {"end", FormatUtc(slot + 2 * kHour)}}, staff_);
      EXPECT_TRUE(r.status == 200 || r.status == 409 || r.status == 422) << r.body;
    } else if (op == 5) {
      const char* doors[] = {"saal-tuer", "werkstatt-tuer", nullptr};
      const char* d = doors[pick(3)];
      Must("PUT", "/resources/saal/door", {{"access_point", d == nullptr ? json(nullptr) : json(d)}}, admin_);
    } else if (op == 6) {
      Must("PUT", "/doors/settings",
           {{"before_minutes", pick(60)}, {"after_minutes", pick(60)}, {"reveal_minutes", 240}}, admin_);
    } else {
      const json b = AsStaff(ids[pick(ids.size())]);
      if (b.contains("person") && !b["contact"].value("erased", false)) {
        Must("POST", "/persons/" + b["person"].get<std::string>() + "/erase", {{"reason", "test"}}, admin_);
      } else {
        ASSERT_EQ(CallJson(lock_.port(), "POST", "/control/fail", {{"count", 2}, {"status", 503}}).status,
                  200);
      }
    }
  }
  // The door linked at the end (unlinked, every code would be revoked and
  // the windows below unchecked).
  Must("PUT", "/resources/saal/door", {{"access_point", pick(2) == 0 ? "saal-tuer" : "werkstatt-tuer"}},
       admin_);
  // Settled: nothing pending.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!Fetch("/doors", staff_).json()["items"].empty() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  ASSERT_EQ(Fetch("/doors", staff_).json()["items"].size(), 0u);
  const json settings = Fetch("/doors/settings", staff_).json();
  const std::string door = settings["doors"].value("saal", "");
  const TimeUs before = settings["before_minutes"].get<TimeUs>() * kUsPerMinute;
  const TimeUs after = settings["after_minutes"].get<TimeUs>() * kUsPerMinute;
  const auto codes = Codes();
  int valid = 0;
  for (const auto& id : ids) {
    const json b = AsStaff(id);
    const bool wanted = b["status"] == "confirmed" && !b["contact"].value("erased", false) && !door.empty();
    EXPECT_EQ(Valid(codes, id), wanted) << b.dump();
    if (!wanted || !Valid(codes, id)) continue;
    ++valid;
    const json& c = codes.at(KeyOf(id));
    EXPECT_EQ(c["access_point"], door);
    EXPECT_EQ(c["valid_from"], FormatUtc(testing_support::T(b["start"].get<std::string>()) - before));
    EXPECT_EQ(c["valid_to"], FormatUtc(testing_support::T(b["end"].get<std::string>()) + after));
    EXPECT_EQ(b["door"]["code"], c["code"]);
  }
  // No code for a key that is not one of these bookings.
  for (const auto& [key, c] : codes) {
    if (c["revoked"].get<bool>()) continue;
    const bool ours = std::find_if(ids.begin(), ids.end(),
                                   [&](const std::string& id) { return KeyOf(id) == key; }) != ids.end();
    EXPECT_TRUE(ours) << key;
  }
  RecordProperty("valid_codes", valid);
}

TEST_F(DoorTest, BadDoorInputIsRefusedAndNothingIsStored) {
  auto put = [&](const std::string& path, const json& body, const std::string& key) {
    return CallJson(Port(), "PUT", "/v1/tenants/gemeinde" + path, body, key);
  };
  // Each a 422 validation_failed naming the field.
  EXPECT_EQ(put("/resources/saal/door", {{"access_point", "saal tür"}}, admin_).status, 422);
  EXPECT_EQ(put("/resources/saal/door", {{"access_point", std::string(101, 'a')}}, admin_).status, 422);
  EXPECT_EQ(put("/resources/saal/door", json::object(), admin_).status, 422);
  EXPECT_EQ(put("/resources/saal/door", {{"access_point", 7}}, admin_).status, 422);
  EXPECT_EQ(put("/resources/nirgends/door", {{"access_point", "x"}}, admin_).status, 404);
  EXPECT_EQ(put("/resources/saal/door", {{"access_point", "x"}}, staff_).status, 403);
  EXPECT_EQ(put("/doors/settings", {{"before_minutes", -1}}, admin_).status, 422);
  EXPECT_EQ(put("/doors/settings", {{"after_minutes", 1441}}, admin_).status, 422);
  EXPECT_EQ(put("/doors/settings", {{"reveal_minutes", "viel"}}, admin_).status, 422);
  EXPECT_EQ(put("/doors/settings", {{"before_minutes", 5}, {"colour", "red"}}, admin_).status, 422);
  EXPECT_EQ(Fetch("/doors?state=offen", staff_).status, 400);
  EXPECT_EQ(Fetch("/doors", "").status, 401);
  const json settings = Fetch("/doors/settings", staff_).json();
  EXPECT_EQ(settings["doors"], json({{"saal", "saal-tuer"}})) << settings.dump();
  EXPECT_EQ(settings["before_minutes"], 30);
  EXPECT_EQ(settings["reveal_minutes"], 240);
  EXPECT_EQ(settings["provider"], true);
}

}  // namespace
}  // namespace saalbuch::e2e
