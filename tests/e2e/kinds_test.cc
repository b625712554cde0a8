// Bookings in full over HTTP against the real server: pools, event
// sessions, a hall and its parts, add-ons, qualifications, usage rights with
// approval and holds (expiring across a kill -9), staff lists, reschedule,
// series across a DST change; bad input answered with clear problems; and
// the auditor's replay agreeing with the live projections.

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <iterator>
#include <set>
#include <thread>

#include "common/time.h"
#include "tests/e2e/harness.h"
#include "tests/support/files.h"

namespace saalbuch::e2e {
namespace {

using testing_support::AnyFileContains;

using nlohmann::json;

class KindsHttpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = FreshDir("kinds");
    server_ = std::make_unique<Server>(dir_ / "data");
    server_->Start();
    auto t = CallJson(Port(), "POST", "/v1/tenants", {{"id", "stadt"}, {"name", "Stadt"}}, kOperatorKey);
    ASSERT_EQ(t.status, 201) << t.body;
    admin_ = t.json()["admin_key"]["key"];
    auto k = CallJson(Port(), "POST", "/v1/tenants/stadt/keys", {{"role", "staff"}}, admin_);
    ASSERT_EQ(k.status, 201) << k.body;
    staff_ = k.json()["key"];
  }
  void TearDown() override {
    server_.reset();
    std::filesystem::remove_all(dir_);
  }
  int Port() const { return server_->port(); }

  // POST/PUT under /v1/tenants/stadt; returns the result and remembers the
  // position for read-your-writes.
  HttpResult Do(const std::string& method, const std::string& path, const json& body, const std::string& key,
                std::map<std::string, std::string> headers = {}) {
    auto r = CallJson(Port(), method, "/v1/tenants/stadt" + path, body, key, std::move(headers));
    if (!r.header("saalbuch-position").empty()) position_ = r.header("saalbuch-position");
    return r;
  }
  json Must(const std::string& method, const std::string& path, const json& body, const std::string& key) {
    auto r = Do(method, path, body, key);
    EXPECT_TRUE(r.status == 200 || r.status == 201)
        << method << " " << path << ": " << r.status << " " << r.body;
    return r.json();
  }
  json Get(const std::string& path, const std::string& key = "") {
    const std::string sep = path.find('?') == std::string::npos ? "?" : "&";
    std::map<std::string, std::string> h;
    if (!key.empty()) h["Authorization"] = "Bearer " + key;
    auto r = Call(Port(), "GET", "/v1/tenants/stadt" + path + sep + "min_position=" + position_, "", h);
    EXPECT_EQ(r.status, 200) << path << ": " << r.body;
    return r.json();
  }
  void Resource(const json& body) { Must("POST", "/resources", body, admin_); }

  std::filesystem::path dir_;
  std::unique_ptr<Server> server_;
  std::string admin_, staff_, position_ = "0";
};

TEST_F(KindsHttpTest, PoolsEventsWholesAndPartsAddOnsAndQualifications) {
  Resource({{"id", "tablets"}, {"kind", "pool"}, {"name", "Tablets"}, {"capacity", 3}});
  Resource({{"id", "kurs"}, {"kind", "event"}, {"name", "Kurs"}, {"capacity", 4}});
  Resource({{"id", "halle"}, {"name", "Halle"}});
  Resource({{"id", "halle-a"}, {"name", "Halle A"}, {"parent", "halle"}});
  Resource({{"id", "halle-b"}, {"name", "Halle B"}, {"parent", "halle"}});
  Resource({{"id", "laser"}, {"kind", "device"}, {"name", "Laser"}, {"requires_qualification", "laser"}});
  Must("PUT", "/addons/beamer",
       {{"name", "Beamer"}, {"stock", 1}, {"offers", {{{"resource", "halle-a"}, {"mandatory", false}}}}},
       admin_);

  // Pool: 2 + 1 units fit, one more does not; availability shows what is left.
  auto pool = [&](const std::string& start, const std::string& end, int units) {
    return Do("POST", "/bookings",
              {{"resource", "tablets"}, {"start", start}, {"end", end}, {"units", units}}, "");
  };
  EXPECT_EQ(pool("2027-02-01T09:00:00+01:00", "2027-02-01T12:00:00+01:00", 2).status, 201);
  auto one = pool("2027-02-01T10:00:00+01:00", "2027-02-01T11:00:00+01:00", 1);
  EXPECT_EQ(one.status, 201) << one.body;
  auto full = pool("2027-02-01T10:30:00+01:00", "2027-02-01T11:30:00+01:00", 1);
  EXPECT_EQ(full.status, 409);
  EXPECT_EQ(full.json()["code"], "capacity_exceeded");
  json a =
      Get("/resources/tablets/availability?from=2027-02-01T09:00:00%2B01:00&to=2027-02-01T13:00:00%2B01:00");
  EXPECT_EQ(a["capacity"], 3);
  ASSERT_EQ(a["busy"].size(), 1u) << a.dump();
  EXPECT_EQ(a["busy"][0]["start_local"], "2027-02-01T10:00:00+01:00");
  EXPECT_EQ(a["free"][0]["remaining"], 1);      // 09–10: two of three taken
  EXPECT_EQ(a["free"].back()["remaining"], 3);  // after 12:00 all free

  // Event: seats of a session.
  Must("POST", "/resources/kurs/sessions",
       {{"id", "montag"},
        {"start", "2027-02-01T18:00:00+01:00"},
        {"end", "2027-02-01T20:00:00+01:00"},
        {"title", "Grundkurs"}},
       staff_);
  auto seats = Do("POST", "/bookings", {{"resource", "kurs"}, {"session", "montag"}, {"units", 3}}, "");
  ASSERT_EQ(seats.status, 201) << seats.body;
  EXPECT_EQ(seats.json()["start_local"], "2027-02-01T18:00:00+01:00");
  EXPECT_EQ(
      Do("POST", "/bookings", {{"resource", "kurs"}, {"session", "montag"}, {"units", 2}}, "").json()["code"],
      "capacity_exceeded");
  json ev = Get("/resources/kurs/availability?from=2027-02-01T00:00:00Z&to=2027-02-02T00:00:00Z");
  ASSERT_EQ(ev["sessions"].size(), 1u);
  EXPECT_EQ(ev["sessions"][0]["remaining"], 1);
  EXPECT_EQ(ev["sessions"][0]["title"], "Grundkurs");
  EXPECT_EQ(Do("POST", "/bookings",
               {{"resource", "kurs"}, {"start", "2027-02-01T18:00:00Z"}, {"end", "2027-02-01T19:00:00Z"}}, "")
                .json()["code"],
            "session_required");

  // A part blocks the whole; the whole's feed and availability show it.
  auto part = Do("POST", "/bookings",
                 {{"resource", "halle-a"},
                  {"start", "2027-02-02T18:00:00+01:00"},
                  {"end", "2027-02-02T20:00:00+01:00"},
                  {"addons", {{{"addon", "beamer"}, {"quantity", 1}}}}},
                 "");
  ASSERT_EQ(part.status, 201) << part.body;
  EXPECT_EQ(part.json()["addons"][0]["addon"], "beamer");
  auto whole = Do(
      "POST", "/bookings",
      {{"resource", "halle"}, {"start", "2027-02-02T19:00:00+01:00"}, {"end", "2027-02-02T21:00:00+01:00"}},
      "");
  EXPECT_EQ(whole.status, 409);
  EXPECT_EQ(whole.json()["code"], "booking_conflict");
  EXPECT_EQ(whole.json()["details"]["blocked_by"], "halle-a");
  EXPECT_EQ(Do("POST", "/bookings",
               {{"resource", "halle-b"},
                {"start", "2027-02-02T19:00:00+01:00"},
                {"end", "2027-02-02T21:00:00+01:00"}},
               "")
                .status,
            201);
  json h =
      Get("/resources/halle/availability?from=2027-02-02T17:00:00%2B01:00&to=2027-02-02T22:00:00%2B01:00");
  ASSERT_EQ(h["busy"].size(), 1u) << h.dump();  // A and B merged
  EXPECT_EQ(h["busy"][0]["start_local"], "2027-02-02T18:00:00+01:00");
  EXPECT_EQ(h["busy"][0]["end_local"], "2027-02-02T21:00:00+01:00");
  auto ics =
      Call(Port(), "GET",
           "/v1/tenants/stadt/resources/halle/busy.ics?from=2027-02-01T00:00:00Z&to=2027-02-05T00:00:00Z&"
           "min_position=" +
               position_);
  EXPECT_EQ(ics.status, 200);
  EXPECT_NE(ics.body.find("DTSTART:20270202T170000Z"), std::string::npos) << ics.body;
  // The resource lists its add-ons; stock is enforced.
  EXPECT_EQ(Get("/resources/halle-a")["addons"][0]["id"], "beamer");
  EXPECT_EQ(Get("/resources/halle-a")["parent"], "halle");
  EXPECT_EQ(Get("/resources/halle")["parts"], json({"halle-a", "halle-b"}));

  // Qualification: refused for the public and unqualified customers.
  auto laser = [&](const std::string& key) {
    return Do("POST", "/bookings",
              {{"resource", "laser"}, {"start", "2027-02-03T10:00:00Z"}, {"end", "2027-02-03T11:00:00Z"}},
              key);
  };
  auto refused = laser("");
  EXPECT_EQ(refused.status, 403);
  EXPECT_EQ(refused.json()["code"], "qualification_required");
  Must("POST", "/groups", {{"id", "registriert"}, {"name", "Registrierte"}}, admin_);
  json cu = Must("POST", "/customers", {{"group", "registriert"}}, staff_);
  const std::string token = cu["customer_token"];
  ASSERT_EQ(token.rfind("sbc_", 0), 0u);
  EXPECT_EQ(laser(token).json()["code"], "qualification_required");
  Must("POST", "/customers/" + cu["id"].get<std::string>() + "/qualifications",
       {{"qualification", "laser"}, {"basis", "Einweisung am 2026-11-20"}}, staff_);
  auto ok = laser(token);
  EXPECT_EQ(ok.status, 201) << ok.body;
  EXPECT_EQ(ok.json()["customer"], cu["id"]);
  EXPECT_EQ(Get("/customers/" + cu["id"].get<std::string>(), staff_)["qualifications"]["laser"]["basis"],
            "Einweisung am 2026-11-20");
  EXPECT_EQ(laser("sbc_not-a-token").status, 401);
}

TEST_F(KindsHttpTest, ApprovalAndHoldsWithExpiryAcrossAKill) {
  Resource({{"id", "saal"}, {"name", "Saal"}});
  Must("POST", "/groups", {{"id", "verein"}, {"name", "Vereine"}}, admin_);
  Must("PUT", "/settings", {{"hold_seconds", 2}}, admin_);
  json right = Must("POST", "/rights",
                    {{"resource", "saal"},
                     {"group", "verein"},
                     {"needs_approval", true},
                     {"hold", true},
                     {"basis", "Benutzungsordnung §4"}},
                    admin_);
  const std::string token =
      Must("POST", "/customers", {{"group", "verein"}, {"id", "tsv"}}, staff_)["customer_token"];

  // The public may no longer book the hall; the club may ask.
  auto pub =
      Do("POST", "/bookings",
         {{"resource", "saal"}, {"start", "2027-03-01T18:00:00Z"}, {"end", "2027-03-01T20:00:00Z"}}, "");
  EXPECT_EQ(pub.status, 403);
  EXPECT_EQ(pub.json()["code"], "group_not_permitted");
  auto req =
      Do("POST", "/bookings",
         {{"resource", "saal"}, {"start", "2027-03-01T18:00:00Z"}, {"end", "2027-03-01T20:00:00Z"}}, token);
  ASSERT_EQ(req.status, 201) << req.body;
  EXPECT_EQ(req.json()["status"], "requested");
  EXPECT_EQ(req.json()["right"], right["id"]);
  const std::string id = req.json()["id"];
  // The approval queue.
  json queue = Get("/bookings?status=requested", staff_);
  ASSERT_EQ(queue["items"].size(), 1u);
  EXPECT_EQ(queue["items"][0]["id"], id);
  EXPECT_EQ(Get("/bookings?customer=tsv", staff_)["items"].size(), 1u);
  EXPECT_EQ(Call(Port(), "GET", "/v1/tenants/stadt/bookings?status=maybe", "",
                 {{"Authorization", "Bearer " + staff_}})
                .status,
            400);
  EXPECT_EQ(Call(Port(), "GET", "/v1/tenants/stadt/bookings").status, 401);
  // The public cannot approve; staff can, and the booking is held.
  EXPECT_EQ(Do("POST", "/bookings/" + id + "/approve", json::object(), token).status, 401);
  json approved = Must("POST", "/bookings/" + id + "/approve", {{"note", "Hausmeister informiert"}}, staff_);
  EXPECT_EQ(approved["status"], "held");
  EXPECT_EQ(Do("POST", "/bookings/" + id + "/approve", json::object(), staff_).json()["code"],
            "invalid_transition");

  // Kill the server while the booking is held; the hold runs out while it is
  // down; after the restart the timer (rebuilt from the log) expires it.
  server_->Kill();
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  server_->Start();
  json doc;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  do {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    doc = Get("/bookings/" + id, staff_);
  } while (doc["status"] != "expired" && std::chrono::steady_clock::now() < deadline);
  EXPECT_EQ(doc["status"], "expired") << doc.dump();
  EXPECT_EQ(doc["history"].back()["actor"], "system");
  EXPECT_EQ(doc["history"][1]["event"], "approved");
  EXPECT_EQ(doc["history"][1]["note"], "Hausmeister informiert");

  // A second request: rejected by staff, which frees the time.
  auto again =
      Do("POST", "/bookings",
         {{"resource", "saal"}, {"start", "2027-03-01T18:00:00Z"}, {"end", "2027-03-01T20:00:00Z"}}, token);
  ASSERT_EQ(again.status, 201) << again.body;
  Must("POST", "/bookings/" + again.json()["id"].get<std::string>() + "/reject",
       {{"reason", "Belegt durch Stadtfest"}}, staff_);
  // Staff book on behalf of the club: no approval, but held as the right says; confirm it.
  auto staff = Do("POST", "/bookings",
                  {{"resource", "saal"},
                   {"start", "2027-03-01T18:00:00Z"},
                   {"end", "2027-03-01T20:00:00Z"},
                   {"customer", "tsv"}},
                  staff_);
  ASSERT_EQ(staff.status, 201) << staff.body;
  EXPECT_EQ(staff.json()["status"], "held");
  Must("POST", "/bookings/" + staff.json()["id"].get<std::string>() + "/confirm", json::object(), staff_);
  EXPECT_EQ(Get("/bookings/" + staff.json()["id"].get<std::string>(), staff_)["status"], "confirmed");
  // Public fields only staff may set.
  auto sneaky = Do("POST", "/bookings",
                   {{"resource", "saal"},
                    {"start", "2027-03-02T18:00:00Z"},
                    {"end", "2027-03-02T20:00:00Z"},
                    {"hold", true}},
                   "");
  EXPECT_EQ(sneaky.status, 422);
  // Revoking the right closes the hall to the club.
  Must("POST", "/rights/" + right["id"].get<std::string>() + "/revoke", {{"reason", "Sanierung"}}, admin_);
  EXPECT_EQ(
      Do("POST", "/bookings",
         {{"resource", "saal"}, {"start", "2027-03-05T18:00:00Z"}, {"end", "2027-03-05T20:00:00Z"}}, token)
          .json()["code"],
      "group_not_permitted");
  EXPECT_TRUE(Get("/rights?resource=saal", staff_)["items"][0]["revoked"].get<bool>());
}

TEST_F(KindsHttpTest, SeriesAcrossDstRescheduleAndReplay) {
  Resource({{"id", "halle"}, {"name", "Halle"}});
  // Someone has the hall on 30 March 2027.
  ASSERT_EQ(Do("POST", "/bookings",
               {{"resource", "halle"},
                {"start", "2027-03-30T18:30:00+02:00"},
                {"end", "2027-03-30T19:00:00+02:00"}},
               staff_)
                .status,
            201);
  json series = {{"resource", "halle"},
                 {"start", "2027-03-16T18:00:00+01:00"},
                 {"end", "2027-03-16T19:30:00+01:00"},
                 {"rrule", "FREQ=WEEKLY;BYDAY=TU;COUNT=5"},
                 {"exdates", {"2027-04-13"}}};
  auto all = Do("POST", "/series", series, "");
  EXPECT_EQ(all.status, 409) << all.body;
  EXPECT_EQ(all.json()["code"], "series_conflict");
  series["mode"] = "skip_conflicts";
  auto some = Do("POST", "/series", series, "");
  ASSERT_EQ(some.status, 201) << some.body;
  json occ = some.json()["occurrences"];
  ASSERT_EQ(occ.size(), 4u);  // 16, 23, 30 March, 6 April (13 April excluded)
  // 18:00 on the wall clock before and after the switch on 28 March.
  EXPECT_EQ(occ[0]["start_local"], "2027-03-16T18:00:00+01:00");
  EXPECT_EQ(occ[1]["start_local"], "2027-03-23T18:00:00+01:00");
  EXPECT_EQ(occ[2]["start_local"], "2027-03-30T18:00:00+02:00");
  EXPECT_EQ(occ[3]["start_local"], "2027-04-06T18:00:00+02:00");
  EXPECT_EQ(occ[3]["end_local"], "2027-04-06T19:30:00+02:00");
  EXPECT_EQ(occ[2]["outcome"], "refused");
  EXPECT_EQ(occ[2]["code"], "booking_conflict");
  EXPECT_EQ(some.json()["booked"], 3);
  const std::string token = some.json()["manage_token"];
  const std::string sid = some.json()["id"];

  // The booker moves one occurrence with the series' manage token.
  const std::string first = occ[0]["booking"];
  auto moved = Do("POST", "/bookings/" + first + "/reschedule",
                  {{"start", "2027-03-17T18:00:00+01:00"}, {"end", "2027-03-17T19:30:00+01:00"}}, "",
                  {{"Saalbuch-Manage-Token", token}});
  ASSERT_EQ(moved.status, 200) << moved.body;
  EXPECT_EQ(moved.json()["start_local"], "2027-03-17T18:00:00+01:00");
  EXPECT_EQ(Get("/bookings/" + first + "?token=" + token)["history"].back()["event"], "rescheduled");
  // … and cancels this and all following from 23 March.
  auto cancelled = Do("POST", "/series/" + sid + "/cancel", {{"from", "2027-03-23T00:00:00+01:00"}}, "",
                      {{"Saalbuch-Manage-Token", token}});
  ASSERT_EQ(cancelled.status, 200) << cancelled.body;
  EXPECT_EQ(cancelled.json()["cancelled"].size(), 2u);
  EXPECT_EQ(
      Do("POST", "/series/" + sid + "/cancel", {{"all", true}}, "", {{"Saalbuch-Manage-Token", "sbm_wrong"}})
          .status,
      404);

  // Bad rules are refused with a clear problem and store nothing.
  const std::string before = position_;
  for (const char* bad : {"FREQ=WEEKLY", "FREQ=SOMETIMES;COUNT=2", "FREQ=DAILY;COUNT=500",
                          "FREQ=MONTHLY;RSCALE=GREGORIAN;COUNT=3"}) {
    series["rrule"] = bad;
    auto r = Do("POST", "/series", series, "");
    EXPECT_EQ(r.status, 422) << bad << ": " << r.body;
    EXPECT_EQ(r.json()["code"], "invalid_rrule") << bad;
  }
  EXPECT_EQ(Do("POST", "/bookings",
               {{"resource", "halle"},
                {"start", "2027-05-01T10:00:00Z"},
                {"end", "2027-05-01T11:00:00Z"},
                {"units", 0}},
               "")
                .status,
            422);
  auto events =
      Call(Port(), "GET", "/v1/tenants/stadt/events?limit=500", "", {{"Authorization", "Bearer " + admin_}});
  EXPECT_EQ(events.json()["head"], std::stoll(before));

  // The auditor's diff: a replay from position 1 equals the live projections.
  EXPECT_EQ(server_->Terminate(), 0);
  auto diff = Replay({"diff", "--data", (dir_ / "data").string()});
  EXPECT_EQ(diff.exit_code, 0) << diff.out;
}

// Cancelling a series is destructive: the caller names the scope — from a
// start on, or every occurrence — and a request without it cancels nothing.
TEST_F(KindsHttpTest, SeriesCancelWithoutANamedScopeCancelsNothing) {
  Resource({{"id", "halle"}, {"name", "Halle"}});
  auto placed = Do("POST", "/series",
                   {{"resource", "halle"},
                    {"start", "2027-05-04T18:00:00+02:00"},
                    {"end", "2027-05-04T19:30:00+02:00"},
                    {"rrule", "FREQ=WEEKLY;BYDAY=TU;COUNT=3"}},
                   "");
  ASSERT_EQ(placed.status, 201) << placed.body;
  const std::string token = placed.json()["manage_token"];
  const std::string sid = placed.json()["id"];
  const std::string path = "/v1/tenants/stadt/series/" + sid + "/cancel";
  const std::map<std::string, std::string> auth = {{"Saalbuch-Manage-Token", token},
                                                   {"Content-Type", "application/json"}};
  const auto head = [&] {
    return Call(Port(), "GET", "/v1/tenants/stadt/events?limit=1", "",
                {{"Authorization", "Bearer " + admin_}})
        .json()["head"]
        .get<std::int64_t>();
  };
  const std::int64_t before = head();

  // No body at all: the document requires one.
  auto bare = Call(Port(), "POST", path, "", auth);
  EXPECT_EQ(bare.status, 400) << bare.body;
  EXPECT_EQ(bare.header("content-type"), "application/problem+json");
  EXPECT_EQ(bare.json()["code"], "malformed_json") << bare.body;
  EXPECT_NE(bare.json()["detail"].get<std::string>().find("body"), std::string::npos) << bare.body;
  auto bare_staff = Call(Port(), "POST", path, "", {{"Authorization", "Bearer " + staff_}});
  EXPECT_EQ(bare_staff.status, 400) << bare_staff.body;

  // A body that names no scope, or two.
  for (const json& body :
       {json::object(), json{{"reason", "Hallensanierung"}}, json{{"all", false}},
        json{{"all", true}, {"from", "2027-05-11T00:00:00+02:00"}}, json{{"all", "yes"}}}) {
    auto r = Call(Port(), "POST", path, body.dump(), auth);
    EXPECT_EQ(r.status, 422) << body.dump() << ": " << r.body;
    EXPECT_EQ(r.json()["code"], "validation_failed") << r.body;
    std::set<std::string> named;
    const json problem = r.json();
    for (const auto& f : problem["details"]["fields"]) named.insert(f["field"].get<std::string>());
    EXPECT_TRUE(named.count("all") != 0 || named.count("from") != 0) << r.body;
  }
  EXPECT_EQ(head(), before) << "nothing was stored";
  const json occurrences = placed.json()["occurrences"];
  for (const auto& o : occurrences) {
    EXPECT_NE(Get("/bookings/" + o["booking"].get<std::string>() + "?token=" + token)["status"], "cancelled");
  }

  // Named explicitly: this and all following, then every occurrence left.
  auto following = Do("POST", "/series/" + sid + "/cancel", {{"from", "2027-05-11T00:00:00+02:00"}}, "",
                      {{"Saalbuch-Manage-Token", token}});
  ASSERT_EQ(following.status, 200) << following.body;
  EXPECT_EQ(following.json()["cancelled"].size(), 2U);
  auto all = Do("POST", "/series/" + sid + "/cancel", {{"all", true}, {"reason", "Hallensanierung"}}, "",
                {{"Saalbuch-Manage-Token", token}});
  ASSERT_EQ(all.status, 200) << all.body;
  EXPECT_EQ(all.json()["cancelled"].size(), 1U);
}

TEST_F(KindsHttpTest, QuotaPerCustomerAndCompletionOnceBegun) {
  Resource({{"id", "saal"}, {"name", "Saal"}});
  Must("POST", "/groups", {{"id", "schule"}, {"name", "Schulen"}}, admin_);
  Must("POST", "/rights",
       {{"resource", "saal"},
        {"group", "schule"},
        {"quota_minutes", 90},
        {"quota_period", "month"},
        {"basis", "Vereinbarung Schulträger"}},
       admin_);
  const std::string token = Must("POST", "/customers", {{"group", "schule"}}, staff_)["customer_token"];
  auto book = [&](const std::string& start, const std::string& end) {
    return Do("POST", "/bookings", {{"resource", "saal"}, {"start", start}, {"end", end}}, token);
  };
  EXPECT_EQ(book("2027-09-01T08:00:00+02:00", "2027-09-01T09:00:00+02:00").status, 201);
  auto over = book("2027-09-20T08:00:00+02:00", "2027-09-20T09:00:00+02:00");
  EXPECT_EQ(over.status, 422);
  EXPECT_EQ(over.json()["code"], "quota_exceeded");
  EXPECT_EQ(over.json()["details"]["used_minutes"], 60);
  EXPECT_EQ(over.json()["details"]["period_from"], "2027-09-01");
  EXPECT_EQ(book("2027-09-20T08:00:00+02:00", "2027-09-20T08:30:00+02:00").status, 201);  // exactly 90
  EXPECT_EQ(book("2027-10-01T08:00:00+02:00", "2027-10-01T09:00:00+02:00").status, 201);  // next month

  // Completion and no-show only once a booking has begun.
  const TimeUs now = std::chrono::duration_cast<std::chrono::microseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
  auto soon = [&](int offset_s) { return FormatUtc(now + (2 + offset_s) * kUsPerSecond); };
  Resource({{"id", "raum"}, {"name", "Raum"}});
  auto a = Do("POST", "/bookings", {{"resource", "raum"}, {"start", soon(0)}, {"end", soon(3600)}}, staff_);
  auto b =
      Do("POST", "/bookings", {{"resource", "raum"}, {"start", soon(3600)}, {"end", soon(7200)}}, staff_);
  ASSERT_EQ(a.status, 201) << a.body;
  ASSERT_EQ(b.status, 201) << b.body;
  const std::string ida = a.json()["id"], idb = b.json()["id"];
  EXPECT_EQ(Do("POST", "/bookings/" + ida + "/complete", json::object(), staff_).json()["code"],
            "booking_not_started");
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  EXPECT_EQ(Must("POST", "/bookings/" + ida + "/no-show", json::object(), staff_)["status"], "no_show");
  EXPECT_EQ(Do("POST", "/bookings/" + idb + "/complete", json::object(), staff_).status, 409);  // b not begun
  EXPECT_EQ(Get("/bookings?status=no_show", staff_)["items"].size(), 1u);
}

TEST_F(KindsHttpTest, ContactDataIsSealedShownToBookerAndStaffAndErasable) {
  Resource({{"id", "saal"}, {"name", "Saal"}});
  const json contact = {{"name", "Erika Mustermann"},
                        {"email", "erika.mustermann@example.org"},
                        {"phone", "+49 30 1234567"},
                        {"notes", "Rollstuhlgerecht bitte"},
                        {"language", "de"}};
  auto placed = Do("POST", "/bookings",
                   {{"resource", "saal"},
                    {"start", "2027-04-01T10:00:00Z"},
                    {"end", "2027-04-01T11:00:00Z"},
                    {"contact", contact}},
                   "");
  ASSERT_EQ(placed.status, 201) << placed.body;
  const std::string id = placed.json()["id"], token = placed.json()["manage_token"];
  json mine = Get("/bookings/" + id + "?token=" + token);
  EXPECT_EQ(mine["contact"]["email"], "erika.mustermann@example.org");
  EXPECT_EQ(mine["contact"]["notes"], "Rollstuhlgerecht bitte");
  EXPECT_FALSE(mine.contains("personal_sealed"));
  EXPECT_FALSE(mine["contact"].contains("manage_token"));
  const std::string person = mine["person"];
  json list = Get("/bookings?resource=saal", staff_);
  ASSERT_EQ(list["items"].size(), 1u);
  EXPECT_EQ(list["items"][0]["contact"]["name"], "Erika Mustermann");
  // Bad contact data is refused and stores nothing.
  auto bad = Do("POST", "/bookings",
                {{"resource", "saal"},
                 {"start", "2027-04-02T10:00:00Z"},
                 {"end", "2027-04-02T11:00:00Z"},
                 {"contact", {{"email", "a@b, c@d"}, {"language", "fr"}}}},
                "");
  EXPECT_EQ(bad.status, 422);
  EXPECT_EQ(bad.json()["details"]["fields"].size(), 2u) << bad.body;

  // Nothing personal is stored in plaintext: not in the log, not in the
  // projections, not in idempotency records.
  EXPECT_FALSE(AnyFileContains(dir_ / "data", "erika.mustermann@example.org"));
  EXPECT_FALSE(AnyFileContains(dir_ / "data", "Rollstuhlgerecht"));

  // Erasure: admin only; afterwards the data is unreadable everywhere.
  EXPECT_EQ(Do("POST", "/persons/" + person + "/erase", json::object(), staff_).status, 403);
  EXPECT_EQ(Do("POST", "/persons/p_unknown/erase", json::object(), admin_).status, 404);
  auto erased =
      Do("POST", "/persons/" + person + "/erase", {{"reason", "Antrag nach Art. 17 DSGVO"}}, admin_);
  ASSERT_EQ(erased.status, 200) << erased.body;
  EXPECT_EQ(Do("POST", "/persons/" + person + "/erase", json::object(), admin_).json()["code"],
            "already_erased");
  json after = Get("/bookings/" + id, staff_);
  EXPECT_EQ(after["contact"], json({{"erased", true}}));
  EXPECT_EQ(after["history"].back()["event"], "person_erased");
  EXPECT_EQ(Get("/bookings/" + id + "?token=" + token)["status"], "confirmed");  // the booking itself stays

  // The chain still verifies, and a replay gives the same projections.
  EXPECT_EQ(server_->Terminate(), 0);
  auto verify = Replay({"verify", "--data", (dir_ / "data").string()});
  EXPECT_EQ(verify.exit_code, 0) << verify.out;
  auto diff = Replay({"diff", "--data", (dir_ / "data").string()});
  EXPECT_EQ(diff.exit_code, 0) << diff.out;
}

}  // namespace
}  // namespace saalbuch::e2e
