// One person per e-mail address (DSGVO tooling) against the real saalbuchd:
// bookings with the same address share their person, staff find them by
// the address through the blind index, an admin exports everything held
// (Art. 15) and erases it in one step, and the address is nowhere in the log.

#include <gtest/gtest.h>

#include <chrono>
#include <set>
#include <thread>

#include "tests/e2e/tenant_fixture.h"
#include "tests/support/files.h"

namespace saalbuch::e2e {
namespace {

using nlohmann::json;

class PersonsHttpTest : public TenantServerTest {
 protected:
  void SetUp() override {
    TenantServerTest::SetUp();
    Must("POST", "/resources", {{"id", "raum"}, {"kind", "room"}, {"name", "Raum"}}, admin_);
  }
  // A citizen's booking on 2027-03-`day` with `name` and `email`; its id.
  std::string Book(int day, const std::string& name, const std::string& email) {
    const std::string d = "2027-03-" + std::string(day < 10 ? "0" : "") + std::to_string(day);
    return Must("POST", "/bookings",
                {{"resource", "raum"},
                 {"start", d + "T10:00:00+01:00"},
                 {"end", d + "T11:00:00+01:00"},
                 {"contact", {{"name", name}, {"email", email}}}},
                "")["id"];
  }
  std::string PersonOf(const std::string& booking) {
    return Fetch("/bookings/" + booking, staff_).json().value("person", "");
  }
};

TEST_F(PersonsHttpTest, OneAddressOnePersonFoundExportedAndErasedTogether) {
  const std::string a = Book(1, "Erika Mustermann", "Erika@Example.org");
  const std::string b = Book(2, "Erika M.", "ERIKA@example.ORG");
  const std::string other = Book(3, "Max Muster", "max@example.org");
  const std::string person = PersonOf(a);
  ASSERT_FALSE(person.empty());
  EXPECT_EQ(PersonOf(b), person) << "the same address, whatever its case";
  EXPECT_NE(PersonOf(other), person);

  // Staff find both bookings by the address.
  auto found = Fetch("/persons?email=ERIKA%40example.org", staff_);
  ASSERT_EQ(found.status, 200) << found.body;
  const json list = found.json();
  ASSERT_EQ(list["items"].size(), 1u) << found.body;
  const json& item = list["items"][0];
  EXPECT_EQ(item["person"], person);
  EXPECT_EQ(item["erased"], false);
  std::set<std::string> ids;
  for (const auto& bk : item["bookings"]) ids.insert(bk["id"].get<std::string>());
  EXPECT_EQ(ids, (std::set<std::string>{a, b}));
  EXPECT_TRUE(Fetch("/persons?email=nobody%40example.org", staff_).json()["items"].empty());
  for (const char* bad : {"/persons", "/persons?email=kein-adresse"}) {
    auto r = Fetch(bad, staff_);
    EXPECT_EQ(r.status, 400) << bad << ": " << r.body;
    EXPECT_EQ(r.json()["code"], "invalid_query") << bad;
  }
  EXPECT_EQ(Fetch("/persons?email=erika%40example.org", "").status, 401);

  // Art. 15: everything held, for an admin only.
  auto exported = Fetch("/persons/" + person + "/export", admin_);
  ASSERT_EQ(exported.status, 200) << exported.body;
  const json ex = exported.json();
  EXPECT_EQ(ex["person"], person);
  EXPECT_EQ(ex["erased"], false);
  EXPECT_EQ(ex["contact"]["name"], "Erika M.") << "the contact as last given";
  EXPECT_EQ(ex["bookings"].size(), 2u);
  for (const auto& bk : ex["bookings"]) {
    EXPECT_TRUE(bk["contact"].contains("email")) << bk.dump();
    EXPECT_FALSE(bk["history"].empty());
  }
  EXPECT_FALSE(ex["kept"].get<std::string>().empty());
  EXPECT_EQ(Fetch("/persons/" + person + "/export", staff_).status, 403);
  EXPECT_EQ(Fetch("/persons/p_0000000000000000/export", admin_).status, 404);

  // The address is nowhere in the log, in any case.
  auto log = Fetch("/events?from=1&limit=500", admin_);
  ASSERT_EQ(log.status, 200) << log.body;
  std::string lower = log.body;
  for (char& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  EXPECT_EQ(lower.find("erika@example.org"), std::string::npos);
  EXPECT_EQ(lower.find("mustermann"), std::string::npos);

  // One erasure takes both bookings' contact; the address then stands for
  // a new person, and the old one is still found as erased.
  Must("POST", "/persons/" + person + "/erase", {{"reason", "Art. 17 DSGVO"}}, admin_);
  for (const std::string& id : {a, b}) {
    EXPECT_EQ(Fetch("/bookings/" + id, staff_).json()["contact"], json({{"erased", true}})) << id;
  }
  EXPECT_EQ(Fetch("/persons/" + person + "/export", admin_).json()["contact"], json({{"erased", true}}));
  const std::string c = Book(4, "Erika Mustermann", "erika@example.org");
  const std::string again = PersonOf(c);
  EXPECT_NE(again, person);
  EXPECT_EQ(Fetch("/bookings/" + c, staff_).json()["contact"]["name"], "Erika Mustermann");
  const json after = Fetch("/persons?email=erika%40example.org", staff_).json();
  ASSERT_EQ(after["items"].size(), 2u) << after.dump();
  EXPECT_EQ(after["items"][0]["person"], person);
  EXPECT_EQ(after["items"][0]["erased"], true);
  EXPECT_EQ(after["items"][1]["person"], again);
  EXPECT_EQ(after["items"][1]["erased"], false);
  EXPECT_EQ(after["items"][1]["bookings"].size(), 1u);
}

// Staff on the telephone find a caller by the words of the name, or their
// beginnings, through keyed hashes; an erasure takes the person out of it.
TEST_F(PersonsHttpTest, StaffFindPersonsByWordsOfTheNameUntilErased) {
  const std::string erika = PersonOf(Book(1, "Erika Mustermann", "erika@example.org"));
  const std::string frau = PersonOf(Book(2, "Erika Musterfrau", "frau@example.org"));
  const std::string max = PersonOf(Book(3, "Dr. Max MÜLLER-Lüdenscheidt", "max@example.org"));
  const std::string li = PersonOf(Book(4, "Li Wei", "li@example.org"));
  auto persons = [this](const std::string& query) {
    auto r = Fetch("/persons?name=" + query, staff_);
    EXPECT_EQ(r.status, 200) << query << ": " << r.body;
    std::set<std::string> out;
    const json found = r.json();
    for (const auto& item : found["items"]) out.insert(item["person"].get<std::string>());
    return out;
  };
  EXPECT_EQ(persons("mustermann"), std::set<std::string>{erika});
  EXPECT_EQ(persons("ERIKA"), (std::set<std::string>{erika, frau}));
  EXPECT_EQ(persons("Erika%20Muster"), (std::set<std::string>{erika, frau})) << "a beginning";
  EXPECT_EQ(persons("erika%20mustermann"), std::set<std::string>{erika}) << "every word";
  EXPECT_EQ(persons("m%C3%BCller"), std::set<std::string>{max}) << "müller, the capital Ü as ü";
  EXPECT_EQ(persons("L%C3%BCdenscheidt%2C%20Max"), std::set<std::string>{max});
  EXPECT_EQ(persons("li"), std::set<std::string>{li}) << "a short word, whole";
  EXPECT_TRUE(persons("mu").empty()) << "two letters find whole words only";
  EXPECT_TRUE(persons("erik%20m%C3%BCller").empty());
  EXPECT_TRUE(persons("Schmidt").empty());

  // What staff see: the person's name and address as last given.
  const json one = Fetch("/persons?name=wei", staff_).json();
  ASSERT_EQ(one["items"].size(), 1u) << one.dump();
  EXPECT_EQ(one["items"][0]["name"], "Li Wei");
  EXPECT_EQ(one["items"][0]["email"], "li@example.org");
  EXPECT_EQ(one["items"][0]["bookings"].size(), 1u);
  EXPECT_EQ(one["more"], false);

  for (const char* bad :
       {"/persons?name=%2C%20-", "/persons?name=erika&email=erika%40example.org", "/persons?name="}) {
    auto r = Fetch(bad, staff_);
    EXPECT_EQ(r.status, 400) << bad << ": " << r.body;
    EXPECT_EQ(r.json()["code"], "invalid_query") << bad;
  }
  EXPECT_EQ(Fetch("/persons?name=" + std::string(201, 'a'), staff_).status, 400);
  EXPECT_EQ(Fetch("/persons?name=erika", "").status, 401);

  // The name is in no file of the data directory, in any form it was given.
  for (const char* plain : {"Mustermann", "mustermann", "MUSTERMANN", "Musterfrau", "musterfrau"}) {
    EXPECT_FALSE(testing_support::AnyFileContains(dir_ / "data", plain)) << plain;
  }

  // Erased: no longer found by the name; a new booking under it is.
  Must("POST", "/persons/" + erika + "/erase", {{"reason", "Art. 17 DSGVO"}}, admin_);
  EXPECT_EQ(persons("mustermann"), std::set<std::string>{});
  EXPECT_EQ(persons("erika"), std::set<std::string>{frau});
  const std::string again = PersonOf(Book(5, "Erika Mustermann", "erika@example.org"));
  EXPECT_EQ(persons("mustermann"), std::set<std::string>{again});
}

// The retention rule: its dry run names who is due and who an open
// invoice keeps; the timer then erases exactly those due, as
// "system:retention", and nobody else.
class RetentionHttpTest : public PersonsHttpTest {
 protected:
  std::vector<std::string> ServerArgs() const override { return {"--retention-interval", "1"}; }
};

TEST_F(RetentionHttpTest, TheRuleErasesWhoIsDueAfterADryRunAndKeepsOpenInvoices) {
  // Whole hours ten days ahead: inside the 50 % cancellation tier below.
  const TimeUs hour = 3600 * kUsPerSecond;
  const TimeUs now = std::chrono::duration_cast<std::chrono::microseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
  const TimeUs start = (now / hour + 240) * hour;
  const std::string from = FormatUtc(start), to = FormatUtc(start + hour);
  // Anna's booking was cancelled today: her last booking ended today.
  const std::string anna = Must("POST", "/bookings",
                                {{"resource", "raum"},
                                 {"start", from},
                                 {"end", to},
                                 {"contact", {{"name", "Anna Alt"}, {"email", "anna@example.org"}}}},
                                "")["id"];
  Must("POST", "/bookings/" + anna + "/cancel", json::object(), staff_);
  // Bernd's is still to come.
  Book(20, "Bernd Bald", "bernd@example.org");
  // Carla cancelled a priced booking with a fee that is not paid.
  Must("POST", "/resources", {{"id", "saal"}, {"kind", "room"}, {"name", "Saal"}}, admin_);
  Must("PUT", "/finance/settings",
       {{"payment_terms_days", 14},
        {"cancellation_tiers",
         {{{"min_notice_hours", 336}, {"fee_percent", 0}}, {{"min_notice_hours", 72}, {"fee_percent", 50}}}},
        {"letterhead", {"Gemeinde", "Marktplatz 1, 12345 Musterstadt"}}},
       admin_);
  Must("PUT", "/tariffs/saal",
       {{"target", "resource/saal"},
        {"unit", "hour"},
        {"price", {{"amount", 6000}, {"currency", "EUR"}}},
        {"gross", true},
        {"tax_rate_percent", 19},
        {"description", "Saalmiete"}},
       admin_);
  const std::string carla = Must("POST", "/bookings",
                                 {{"resource", "saal"},
                                  {"start", from},
                                  {"end", to},
                                  {"contact", {{"name", "Carla Credit"}, {"email", "carla@example.org"}}}},
                                 staff_)["id"];
  Must("POST", "/bookings/" + carla + "/cancel", json::object(), staff_);

  // No rule yet: nobody is due.
  auto none = Fetch("/retention", admin_);
  ASSERT_EQ(none.status, 200) << none.body;
  EXPECT_TRUE(none.json()["days"].is_null());
  EXPECT_TRUE(none.json()["due"].empty());

  // Bad rules store nothing.
  for (const json& bad : {json{{"days", -1}}, json{{"days", 3651}}, json{{"days", "30"}}, json::object(),
                          json{{"days", 30}, {"weeks", 1}}}) {
    auto r = CallJson(Port(), "PUT", "/v1/tenants/gemeinde/retention", bad, admin_);
    EXPECT_TRUE(r.status == 400 || r.status == 422) << bad.dump() << ": " << r.status << " " << r.body;
    EXPECT_EQ(r.header("content-type"), "application/problem+json") << bad.dump();
  }
  EXPECT_EQ(CallJson(Port(), "PUT", "/v1/tenants/gemeinde/retention", {{"days", 0}}, staff_).status, 403);
  EXPECT_EQ(Fetch("/retention", staff_).status, 403);
  EXPECT_TRUE(Fetch("/retention", admin_).json()["days"].is_null());

  // A rule far off erases nobody; its dry run says so.
  Must("PUT", "/retention", {{"days", 30}}, admin_);
  auto later = Fetch("/retention", admin_).json();
  EXPECT_EQ(later["days"], 30);
  EXPECT_TRUE(later["due"].empty()) << later.dump();

  // Erase right after the last booking (0 days): Anna is due, Carla is kept.
  // The dry run and the timer (every second here) race; the dry run may
  // come late and find Anna erased already.
  Must("PUT", "/retention", {{"days", 0}}, admin_);
  const json dry = Fetch("/retention", admin_).json();
  EXPECT_EQ(dry["days"], 0);
  ASSERT_EQ(dry["kept"].size(), 1u) << dry.dump();
  EXPECT_EQ(dry["kept"][0]["name"], "Carla Credit");
  EXPECT_LE(dry["due"].size(), 1u) << dry.dump();
  if (!dry["due"].empty()) {
    EXPECT_EQ(dry["due"][0]["name"], "Anna Alt");
  }

  auto erased = [this](const std::string& email) {
    auto r = Fetch("/persons?email=" + email, staff_);
    const json found = r.json();
    return !found["items"].empty() && found["items"][0]["erased"] == true;
  };
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!erased("anna%40example.org") && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  EXPECT_TRUE(erased("anna%40example.org"));
  EXPECT_EQ(Fetch("/bookings/" + anna, staff_).json()["contact"], json({{"erased", true}}));
  EXPECT_FALSE(erased("bernd%40example.org"));
  EXPECT_FALSE(erased("carla%40example.org"));
  EXPECT_EQ(Fetch("/bookings/" + carla, staff_).json()["contact"]["name"], "Carla Credit");

  // The log says who erased and why.
  const json log = Fetch("/events?from=1&limit=500", admin_).json();
  int erasures = 0;
  for (const auto& item : log["items"]) {
    const json& e = item["record"];
    if (e["payload_type"] != "PersonErased") continue;
    ++erasures;
    EXPECT_EQ(e["actor"], "system:retention") << e.dump();
    EXPECT_EQ(e["payload"]["reason"], "retention rule: 0 days after the last booking") << e.dump();
  }
  EXPECT_EQ(erasures, 1) << log.dump();
  const json after = Fetch("/retention", admin_).json();
  EXPECT_TRUE(after["due"].empty()) << after.dump();

  Must("PUT", "/retention", {{"days", nullptr}}, admin_);
  EXPECT_TRUE(Fetch("/retention", admin_).json()["days"].is_null());
}

}  // namespace
}  // namespace saalbuch::e2e
