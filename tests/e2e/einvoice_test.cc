// EN 16931 e-invoices end to end: the real saalbuchd serves a taxed
// invoice, an exempt one, a citizen's (the booker by name is the buyer)
// and a credit note as CII XML, and the official validation artefacts
// (../shared/validators/en16931) find no fatal rule broken in any of them
// (one run for all files: each Java run costs seconds);
// what EN 16931 cannot express is a 422 naming the setting, never XML.

#include <gtest/gtest.h>

#include <fstream>
#include <set>

#include "common/money.h"
#include "ledger/database.h"
#include "ledger/vault.h"
#include "tests/e2e/tenant_fixture.h"
#include "tests/support/en16931.h"

namespace saalbuch::e2e {
namespace {

using nlohmann::json;

class EInvoiceHttpTest : public TenantServerTest {
 protected:
  json Settings(bool with_einvoice) {
    json s = {{"payment_terms_days", 14},
              {"letterhead", {"Gemeinde Musterdorf", "Rathausplatz 1, 12345 Musterdorf"}},
              {"kassenzeichen_prefix", "5.0100."}};
    if (with_einvoice) {
      s["einvoice"] = {{"name", "Gemeinde Musterdorf"},
                       {"street", "Rathausplatz 1"},
                       {"postcode", "12345"},
                       {"city", "Musterdorf"},
                       {"country", "DE"},
                       {"vat_id", "DE123456789"},
                       {"tax_number", "12/345/67890"},
                       {"iban", "DE89370400440532013000"},
                       {"bic", "COBADEFFXXX"},
                       {"account_holder", "Gemeindekasse Musterdorf"},
                       {"tax_exempt_category", "E"},
                       {"tax_exempt_reason", "Steuerfrei nach § 4 Nr. 12 UStG"}};
    }
    return s;
  }
  void Tariff(const std::string& id, const std::string& resource, std::int64_t cents, int rate) {
    Must("PUT", "/tariffs/" + id,
         {{"target", "resource/" + resource},
          {"unit", "hour"},
          {"price", {{"amount", cents}, {"currency", "EUR"}}},
          {"gross", true},
          {"tax_rate_percent", rate},
          {"description", "Miete " + resource}},
         admin_);
  }
  // Staff book `resource` for the club on 2027-03-`day` 17:00–19:30 UTC; the reply.
  json BookForClub(const std::string& resource, int day) {
    const std::string d = "2027-03-" + std::string(day < 10 ? "0" : "") + std::to_string(day);
    return Must("POST", "/bookings",
                {{"resource", resource},
                 {"start", d + "T17:00:00Z"},
                 {"end", d + "T19:30:00Z"},
                 {"customer", "tsv-musterdorf"}},
                staff_);
  }
};

TEST_F(EInvoiceHttpTest, TaxedExemptAndCreditNotePassTheOfficialRulesAndGapsAreNamed) {
  const std::string validator = testing_support::En16931Validator();
  if (validator.empty()) GTEST_SKIP() << "../shared/validators/en16931 is absent";
  Must("POST", "/resources", {{"id", "saal"}, {"name", "Bürgersaal"}}, admin_);
  Must("POST", "/resources", {{"id", "raum"}, {"name", "Gruppenraum"}}, admin_);
  Tariff("saal-stunde", "saal", 4999, 19);
  Tariff("raum-stunde", "raum", 1250, 0);
  Must("POST", "/groups", {{"id", "verein"}, {"name", "Vereine"}}, admin_);
  Must("POST", "/customers", {{"group", "verein"}, {"id", "tsv-musterdorf"}}, staff_);
  Must("PUT", "/finance/settings", Settings(false), admin_);

  const json taxed = BookForClub("saal", 1);
  const std::string inv = taxed["invoice"]["id"], token = taxed["manage_token"];
  ASSERT_FALSE(inv.empty()) << taxed.dump();

  // Without the seller's data: a problem naming the first missing setting, no XML.
  auto gap = Fetch("/invoices/" + inv + "/einvoice.xml", finance_);
  EXPECT_EQ(gap.status, 422) << gap.body;
  EXPECT_EQ(gap.header("content-type"), "application/problem+json");
  EXPECT_EQ(gap.json()["code"], "einvoice_incomplete");
  EXPECT_EQ(gap.json()["details"]["setting"], "einvoice.name") << gap.body;

  Must("PUT", "/finance/settings", Settings(true), admin_);
  EXPECT_EQ(Fetch("/finance/settings", finance_).json()["einvoice"]["iban"], "DE89370400440532013000");
  const json exempt = BookForClub("raum", 2);
  const std::string exempt_inv = exempt["invoice"]["id"];

  auto xml = Fetch("/invoices/" + inv + "/einvoice.xml", finance_);
  ASSERT_EQ(xml.status, 200) << xml.body;
  EXPECT_EQ(xml.header("content-type"), "application/xml; charset=utf-8");
  const std::string number = taxed["invoice"]["number"];
  EXPECT_NE(xml.header("content-disposition").find(number + ".xml"), std::string::npos);
  for (const std::string& want :
       {"<ram:ID>" + number + "</ram:ID>", std::string("<ram:Name>tsv-musterdorf</ram:Name>"),
        std::string("<ram:CategoryCode>S</ram:CategoryCode>"),
        std::string("<ram:IBANID>DE89370400440532013000<"),
        "<ram:GrandTotalAmount>" + FormatDecimal(taxed["invoice"]["total"]["amount"].get<std::int64_t>()) +
            "</ram:GrandTotalAmount>"}) {
    EXPECT_NE(xml.body.find(want), std::string::npos) << want << " in\n" << xml.body;
  }
  // The booker's manage token reads the same document; a wrong one finds nothing.
  auto by_token = Fetch("/invoices/" + inv + "/einvoice.xml?token=" + token, "");
  EXPECT_EQ(by_token.status, 200) << by_token.body;
  EXPECT_EQ(by_token.body, xml.body) << "reproducible from the log";
  EXPECT_EQ(Fetch("/invoices/" + inv + "/einvoice.xml?token=sbm_wrong", "").status, 404);
  EXPECT_EQ(Fetch("/invoices/inv-nope/einvoice.xml", finance_).status, 404);

  auto exempt_xml = Fetch("/invoices/" + exempt_inv + "/einvoice.xml", finance_);
  ASSERT_EQ(exempt_xml.status, 200) << exempt_xml.body;
  EXPECT_NE(exempt_xml.body.find("<ram:CategoryCode>E</ram:CategoryCode>"), std::string::npos);
  EXPECT_NE(exempt_xml.body.find("§ 4 Nr. 12 UStG"), std::string::npos);

  // Cancelled (no tiers: free): the whole invoice is credited.
  Must("POST", "/bookings/" + taxed["id"].get<std::string>() + "/cancel", json::object(), staff_);
  const json notes = Fetch("/credit-notes", finance_).json();
  const json items = notes["items"];
  ASSERT_EQ(items.size(), 1u) << notes.dump();
  const std::string cn = items[0]["number"];
  auto cn_xml = Fetch("/credit-notes/" + cn + "/einvoice.xml", finance_);
  ASSERT_EQ(cn_xml.status, 200) << cn_xml.body;
  EXPECT_NE(cn_xml.body.find("<ram:TypeCode>381</ram:TypeCode>"), std::string::npos);
  EXPECT_NE(cn_xml.body.find("<ram:IssuerAssignedID>" + number + "</ram:IssuerAssignedID>"),
            std::string::npos);

  // A citizen's booking with a contact: the booker by name is the buyer.
  const json citizen = Must("POST", "/bookings",
                            {{"resource", "raum"},
                             {"start", "2027-03-03T17:00:00Z"},
                             {"end", "2027-03-03T18:00:00Z"},
                             {"contact", {{"name", "Erika Mustermann"}, {"email", "erika@example.org"}}}},
                            "");
  const std::string citizen_inv = citizen["invoice"]["id"];
  auto citizen_xml = Fetch("/invoices/" + citizen_inv + "/einvoice.xml", finance_);
  ASSERT_EQ(citizen_xml.status, 200) << citizen_xml.body;
  EXPECT_NE(citizen_xml.body.find("<ram:Name>Erika Mustermann</ram:Name>"), std::string::npos)
      << citizen_xml.body;

  std::vector<std::string> files;
  for (const auto& [name, body] : {std::pair{"taxed.xml", &xml.body},
                                   {"exempt.xml", &exempt_xml.body},
                                   {"credit.xml", &cn_xml.body},
                                   {"citizen.xml", &citizen_xml.body}}) {
    files.push_back((dir_ / name).string());
    std::ofstream(files.back(), std::ios::binary) << *body;
  }
  EXPECT_EQ(testing_support::ExpectValidEn16931(validator, files), 4);

  // Once the booker is erased, or for a booking without any contact, the
  // invoice names no buyer: a 422 saying so, no XML.
  const std::string person = Fetch("/bookings/" + citizen["id"].get<std::string>(), staff_).json()["person"];
  Must("POST", "/persons/" + person + "/erase", {{"reason", "Art. 17 DSGVO"}}, admin_);
  const json anon =
      Must("POST", "/bookings",
           {{"resource", "raum"}, {"start", "2027-03-04T17:00:00Z"}, {"end", "2027-03-04T18:00:00Z"}}, "");
  for (const std::string& id : {citizen_inv, anon["invoice"]["id"].get<std::string>()}) {
    auto no_buyer = Fetch("/invoices/" + id + "/einvoice.xml", finance_);
    EXPECT_EQ(no_buyer.status, 422) << no_buyer.body;
    EXPECT_NE(no_buyer.json()["detail"].get<std::string>().find("BT-44"), std::string::npos) << no_buyer.body;
  }
  // Bad settings are refused at once.
  json bad = Settings(true);
  bad["einvoice"]["country"] = "Deutschland";
  EXPECT_EQ(CallJson(Port(), "PUT", "/v1/tenants/gemeinde/finance/settings", bad, admin_).status, 422);
  bad = Settings(true);
  bad["einvoice"]["tax_exempt_category"] = "Z";
  EXPECT_EQ(CallJson(Port(), "PUT", "/v1/tenants/gemeinde/finance/settings", bad, admin_).status, 422);
}

// The text poppler's pdftotext finds in `pdf`.
std::string RecipientPdfText(const std::filesystem::path& dir, const std::string& pdf) {
  const auto in = dir / "recipient.pdf", out = dir / "recipient.txt";
  std::ofstream(in, std::ios::binary) << pdf;
  EXPECT_EQ(std::system(("pdftotext -layout -enc UTF-8 " + in.string() + " " + out.string()).c_str()), 0);
  std::ifstream f(out);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

// § 14 (4) UStG with § 33 UStDV: above 250 € gross an invoice names its
// recipient's full name and address. A booking whose invoice would exceed
// that is refused without them (nothing stored); with them, the invoice,
// its PDF and its e-invoice (BG-7/BG-8, valid by the official rules) name
// the recipient, and erasing the booker keeps the recipient for the
// retention period while the contact is gone.
TEST_F(EInvoiceHttpTest, InvoiceOver250EuroNamesItsRecipientOrIsNotIssued) {
  Must("POST", "/resources", {{"id", "halle"}, {"name", "Festhalle"}}, admin_);
  Tariff("halle-stunde", "halle", 12000, 19);  // 2.5 h: 300.00 €
  Must("PUT", "/finance/settings", Settings(true), admin_);
  const json booking = {
      {"resource", "halle"}, {"start", "2027-03-05T17:00:00Z"}, {"end", "2027-03-05T19:30:00Z"}};
  const json contact = {{"name", "Erika Mustermann"}, {"email", "erika@example.org"}};

  for (const std::string& key : {std::string(), staff_}) {
    json body = booking;
    if (key.empty()) body["contact"] = contact;  // a contact alone is not an address
    auto refused = CallJson(Port(), "POST", "/v1/tenants/gemeinde/bookings", body, key);
    EXPECT_EQ(refused.status, 422) << refused.body;
    EXPECT_EQ(refused.header("content-type"), "application/problem+json");
    EXPECT_EQ(refused.json()["code"], "recipient_required") << refused.body;
    EXPECT_EQ(refused.json()["details"]["total"]["amount"], 30000) << refused.body;
    EXPECT_EQ(refused.json()["details"]["fields"][0]["field"], "contact.address") << refused.body;
  }
  // Bad addresses are refused field by field.
  json bad = booking;
  bad["contact"] = contact;
  bad["contact"]["address"] = {
      {"street", "Hauptstraße 5"}, {"city", "Musterdorf"}, {"country", "Deutschland"}};
  auto refused = CallJson(Port(), "POST", "/v1/tenants/gemeinde/bookings", bad, "");
  EXPECT_EQ(refused.status, 422) << refused.body;
  std::set<std::string> fields;
  const json problems = refused.json()["details"]["fields"];
  for (const auto& f : problems) fields.insert(f["field"].get<std::string>());
  EXPECT_EQ(fields, (std::set<std::string>{"contact.address.postcode", "contact.address.country"}))
      << refused.body;
  EXPECT_EQ(Fetch("/invoices", finance_).json()["items"].size(), 0u);
  EXPECT_EQ(Fetch("/bookings?resource=halle", staff_).json()["items"].size(), 0u);

  json good = booking;
  good["contact"] = contact;
  good["contact"]["address"] = {{"name", "Musterverein e. V."},
                                {"street", "Hauptstraße 5"},
                                {"postcode", "12345"},
                                {"city", "Musterdorf"}};
  const json placed = Must("POST", "/bookings", good, "");
  const std::string inv = placed["invoice"]["id"], token = placed["manage_token"];
  const json recipient = {{"name", "Musterverein e. V."},
                          {"street", "Hauptstraße 5"},
                          {"postcode", "12345"},
                          {"city", "Musterdorf"},
                          {"country", "DE"}};
  EXPECT_EQ(Fetch("/invoices/" + inv, finance_).json()["recipient"], recipient);
  EXPECT_EQ(Fetch("/invoices/" + inv + "?token=" + token, "").json()["recipient"], recipient);
  EXPECT_EQ(Fetch("/invoices", finance_).json()["items"][0]["recipient"], recipient);
  EXPECT_EQ(Fetch("/open-items", finance_).json()["items"][0]["recipient"], recipient);
  const std::string csv = Fetch("/exports/open-items.csv", finance_).body;
  EXPECT_NE(csv.find(";kassenzeichen;recipient\r\n"), std::string::npos) << csv;
  EXPECT_NE(csv.find(";Musterverein e. V.\r\n"), std::string::npos) << csv;

  auto pdf = Fetch("/invoices/" + inv + ".pdf", finance_);
  ASSERT_EQ(pdf.status, 200);
  const std::string text = RecipientPdfText(dir_, pdf.body);
  for (const char* want : {"Musterverein e. V.", "Hauptstraße 5", "12345 Musterdorf", "300,00"}) {
    EXPECT_NE(text.find(want), std::string::npos) << want << " in\n" << text;
  }
  auto xml = Fetch("/invoices/" + inv + "/einvoice.xml", finance_);
  ASSERT_EQ(xml.status, 200) << xml.body;
  for (const char* want :
       {"<ram:Name>Musterverein e. V.</ram:Name>", "<ram:LineOne>Hauptstraße 5</ram:LineOne>",
        "<ram:PostcodeCode>12345</ram:PostcodeCode>", "<ram:CityName>Musterdorf</ram:CityName>"}) {
    EXPECT_NE(xml.body.find(want), std::string::npos) << want << " in\n" << xml.body;
  }
  if (const std::string validator = testing_support::En16931Validator(); !validator.empty()) {
    const std::string file = (dir_ / "recipient.xml").string();
    std::ofstream(file, std::ios::binary) << xml.body;
    EXPECT_EQ(testing_support::ExpectValidEn16931(validator, {file}), 1);
  }

  // The credit note of a cancellation names the same recipient.
  const json cancelled =
      Must("POST", "/bookings/" + placed["id"].get<std::string>() + "/cancel", {{"reason", "Umbau"}}, staff_);
  const std::string credit_note = cancelled["invoice"]["credit_note"]["number"];
  auto cn_pdf = Fetch("/credit-notes/" + credit_note + ".pdf", finance_);
  ASSERT_EQ(cn_pdf.status, 200) << cn_pdf.body;
  const std::string cn_text = RecipientPdfText(dir_, cn_pdf.body);
  for (const char* want : {"Musterverein e. V.", "Hauptstraße 5", "12345 Musterdorf"}) {
    EXPECT_NE(cn_text.find(want), std::string::npos) << want << " in\n" << cn_text;
  }

  // Erasing the booker: the contact is gone, the invoice keeps its
  // recipient until the retention ends (8 years after the invoice's year).
  const std::string person = Fetch("/bookings/" + placed["id"].get<std::string>(), staff_).json()["person"];
  const std::string year =
      Fetch("/invoices/" + inv, finance_).json()["issued"].get<std::string>().substr(0, 4);
  const json erased = Must("POST", "/persons/" + person + "/erase", {{"reason", "Art. 17 DSGVO"}}, admin_);
  EXPECT_EQ(erased["invoice_recipient_kept_until"], std::to_string(std::stoi(year) + 8) + "-12-31") << erased;
  EXPECT_EQ(Fetch("/bookings/" + placed["id"].get<std::string>(), staff_).json()["contact"],
            json({{"erased", true}}));
  EXPECT_EQ(Fetch("/invoices/" + inv, finance_).json()["recipient"], recipient);

  // A booker without an invoice: erasing removes the address with the contact.
  json free_booking = {
      {"resource", "saal"}, {"start", "2027-03-06T17:00:00Z"}, {"end", "2027-03-06T18:00:00Z"}};
  Must("POST", "/resources", {{"id", "saal"}, {"name", "Saal"}}, admin_);
  free_booking["contact"] = good["contact"];
  const json unpriced = Must("POST", "/bookings", free_booking, "");
  const std::string other = Fetch("/bookings/" + unpriced["id"].get<std::string>(), staff_).json()["person"];
  const json gone = Must("POST", "/persons/" + other + "/erase", json::object(), admin_);
  EXPECT_FALSE(gone.contains("invoice_recipient_kept_until")) << gone;

  // In the vault: the kept recipient key is there, the other two are gone.
  ASSERT_EQ(server_->Terminate(), 0);
  auto db = ledger::Database::Open((dir_ / "data" / "db").string(), {});
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  ledger::Vault vault(db->get());
  const TenantId t("gemeinde");
  EXPECT_TRUE(vault.Find(t, "r_" + person).value().has_value());
  EXPECT_FALSE(vault.Find(t, person).value().has_value());
  EXPECT_FALSE(vault.Find(t, "r_" + other).value().has_value());
  EXPECT_FALSE(vault.Find(t, other).value().has_value());
}

// A public body as customer: its billing profile with a Leitweg-ID is the
// recipient of its bookings' invoices, and the e-invoice carries the
// Leitweg-ID as buyer reference (BT-10), valid by the official rules.
TEST_F(EInvoiceHttpTest, ACustomersBillingProfileWithLeitwegIdIsTheBuyer) {
  const std::string validator = testing_support::En16931Validator();
  Must("POST", "/resources", {{"id", "halle"}, {"name", "Festhalle"}}, admin_);
  Tariff("halle-stunde", "halle", 12000, 19);
  Must("PUT", "/finance/settings", Settings(true), admin_);
  Must("POST", "/groups", {{"id", "schulen"}, {"name", "Schulen"}}, admin_);
  Must("POST", "/customers", {{"group", "schulen"}, {"id", "gs-nord"}}, staff_);

  const json billing = {{"name", "Grundschule Nord"},
                        {"street", "Schulweg 1"},
                        {"postcode", "12345"},
                        {"city", "Musterdorf"},
                        {"leitweg_id", "04011000-1234512345-06"}};
  json bad = billing;
  bad["leitweg_id"] = "04011000-1234512345-07";
  bad.erase("street");
  auto refused = CallJson(Port(), "PUT", "/v1/tenants/gemeinde/customers/gs-nord/billing", bad, staff_);
  EXPECT_EQ(refused.status, 422) << refused.body;
  const json problems = refused.json()["details"]["fields"];
  std::set<std::string> fields;
  for (const auto& f : problems) fields.insert(f["field"].get<std::string>());
  EXPECT_EQ(fields, (std::set<std::string>{"street", "leitweg_id"})) << refused.body;
  EXPECT_EQ(CallJson(Port(), "PUT", "/v1/tenants/gemeinde/customers/gs-sued/billing", billing, staff_).status,
            404);
  const json for_school = {{"resource", "halle"},
                           {"start", "2027-03-09T07:00:00Z"},
                           {"end", "2027-03-09T09:30:00Z"},
                           {"customer", "gs-nord"}};
  auto before = CallJson(Port(), "POST", "/v1/tenants/gemeinde/bookings", for_school, staff_);
  EXPECT_EQ(before.json()["code"], "recipient_required") << before.body;  // no profile yet
  EXPECT_FALSE(Fetch("/customers/gs-nord", staff_).json().contains("billing"));

  Must("PUT", "/customers/gs-nord/billing", billing, finance_);
  json stored = billing;
  stored["country"] = "DE";
  EXPECT_EQ(Fetch("/customers/gs-nord", staff_).json()["billing"], stored);
  EXPECT_EQ(Fetch("/customers", staff_).json()["items"][0]["billing"], stored);
  const json school = Must("POST", "/bookings", for_school, staff_);

  const std::string inv = school["invoice"]["id"];
  EXPECT_EQ(Fetch("/invoices/" + inv, finance_).json()["recipient"], stored);
  auto xml = Fetch("/invoices/" + inv + "/einvoice.xml", finance_);
  ASSERT_EQ(xml.status, 200) << xml.body;
  for (const char* want :
       {"<ram:BuyerReference>04011000-1234512345-06</ram:BuyerReference>",
        "<ram:Name>Grundschule Nord</ram:Name>", "<ram:LineOne>Schulweg 1</ram:LineOne>"}) {
    EXPECT_NE(xml.body.find(want), std::string::npos) << want << " in\n" << xml.body;
  }
  const std::string text = RecipientPdfText(dir_, Fetch("/invoices/" + inv + ".pdf", finance_).body);
  EXPECT_NE(text.find("Leitweg-ID 04011000-1234512345-06"), std::string::npos) << text;
  if (!validator.empty()) {
    const std::string file = (dir_ / "leitweg.xml").string();
    std::ofstream(file, std::ios::binary) << xml.body;
    EXPECT_EQ(testing_support::ExpectValidEn16931(validator, {file}), 1);
  }
}

}  // namespace
}  // namespace saalbuch::e2e
