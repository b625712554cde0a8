// One person per e-mail address (DSGVO tooling) against the real saalbuchd:
// bookings with the same address share their person, staff find them by
// the address through the blind index, an admin exports everything held
// (Art. 15) and erases it in one step, and the address is nowhere in the log.

#include <gtest/gtest.h>

#include "tests/e2e/tenant_fixture.h"

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

}  // namespace
}  // namespace saalbuch::e2e
