#include "formats/einvoice.h"

#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include <fstream>

#include "common/money.h"
#include "tests/support/en16931.h"
#include "tests/support/scratch_dir.h"

namespace saalbuch::formats {
namespace {

using testing_support::ScratchDir;

const Zone* Berlin() { return FindZone("Europe/Berlin"); }

Issuer Municipality() {
  Issuer i;
  i.letterhead = {"Gemeinde Müllheim", "Rathausplatz 1, 79379 Müllheim"};
  i.seller = {.name = "Gemeinde Müllheim",
              .street = "Rathausplatz 1",
              .postcode = "79379",
              .city = "Müllheim",
              .country = "DE",
              .vat_id = "DE123456789",
              .tax_number = "12/345/67890",
              .seller_id = "",
              .iban = "DE89370400440532013000",
              .bic = "COBADEFFXXX",
              .account_holder = "Gemeindekasse Müllheim",
              .tax_exempt_category = "E",
              .tax_exempt_reason = "Steuerfrei nach § 4 Nr. 12 UStG"};
  return i;
}

// A gross-priced line: tax contained in `gross` at `rate_bp`, rounded per line.
DocumentLine GrossLine(const std::string& what, std::int64_t quantity_milli, const std::string& unit,
                       std::int64_t gross, std::int32_t rate_bp) {
  const Taxed t = TaxFromGross(gross, rate_bp);
  return {what, quantity_milli, unit, t.net, t.tax, gross, rate_bp, "1.1.1.01", "4711"};
}

template <class Doc>
void Total(Doc& d) {
  d.net = d.tax = d.gross = 0;
  for (const auto& l : d.lines) {
    d.net += l.net;
    d.tax += l.tax;
    d.gross += l.gross;
  }
}

// Two rates, awkward quantities and per-line rounding: the tax of each line
// is rounded on its own, so the 19 % tax (0.16 + 0.16 + 0.16) differs from
// 19 % of the summed net (1.53 × 0.19 = 0.29).
Invoice TaxedInvoice() {
  Invoice inv;
  inv.number = "R-2026-000001";
  inv.issued_at_us = 1795363362000000;  // 2026-11-22 16:02:42 UTC
  inv.due_us = inv.issued_at_us + 14LL * 86400 * 1000000;
  inv.customer = "TV Größingen e.V.";
  inv.kassenzeichen = "5.0001.000042.7";
  inv.lines = {GrossLine("Saalmiete Großer Saal", 2333, "hour", 123451, 1900),
               GrossLine("Beamer", 1000, "unit", 1190, 1900),
               GrossLine("Bestuhlung", 3000, "unit", 107, 700),
               GrossLine("Garderobe", 1000, "booking", 61, 1900),
               GrossLine("Tisch", 7000, "unit", 61, 1900),
               GrossLine("Stuhl", 1000, "unit", 61, 1900)};
  Total(inv);
  return inv;
}

std::string Write(const ScratchDir& dir, const std::string& name, const Result<std::string>& xml) {
  EXPECT_TRUE(xml.ok()) << name << ": " << xml.status().ToString();
  const std::string path = dir.Sub(name);
  std::ofstream(path, std::ios::binary) << (xml.ok() ? *xml : std::string());
  return path;
}

TEST(EInvoiceTest, EveryKindOfDocumentPassesTheOfficialRules) {
  const std::string validator = testing_support::En16931Validator();
  if (validator.empty()) GTEST_SKIP() << "../shared/validators/en16931 is absent";
  ScratchDir dir;
  const Issuer issuer = Municipality();
  const InvoicedBooking booking{"B-2026-000042",
                                "Bürgerhaus, Großer Saal",
                                {1797177600000000, 1797195600000000}};  // 2026-12-13 16:00–21:00 UTC
  std::vector<std::string> files;

  const Invoice taxed = TaxedInvoice();
  const auto taxed_xml =
      InvoiceCii(issuer, taxed, {"TV Größingen e.V.", "04011000-12345-67", ""}, booking, Berlin());
  files.push_back(Write(dir, "taxed.xml", taxed_xml));

  // Exempt lines (E) beside a taxed one, without due day and booking.
  Invoice mixed;
  mixed.number = "R-2026-000002";
  mixed.issued_at_us = 1795363362000000;
  mixed.customer = "Musikschule e.V.";
  mixed.kassenzeichen = "5.0001.000043.5";
  mixed.lines = {GrossLine("Unterrichtsraum", 1500, "hour", 3000, 0),
                 GrossLine("Kaffee", 4000, "unit", 1000, 700)};
  Total(mixed);
  files.push_back(
      Write(dir, "exempt.xml", InvoiceCii(issuer, mixed, {"Musikschule e.V.", "", ""}, {}, Berlin())));

  // Not subject to VAT at all (§ 2b UStG), seller without IBAN and VAT id.
  Issuer sovereign = issuer;
  sovereign.seller.tax_exempt_category = "O";
  sovereign.seller.tax_exempt_reason = "Nicht steuerbar nach § 2b UStG";
  sovereign.seller.vat_id.clear();
  sovereign.seller.seller_id = "08315074";
  sovereign.seller.iban.clear();
  Invoice outside;
  outside.number = "R-2026-000003";
  outside.issued_at_us = 1795363362000000;
  outside.due_us = outside.issued_at_us + 86400LL * 1000000;
  outside.customer = "Landratsamt";
  outside.lines = {GrossLine("Sitzungssaal", 4000, "hour", 20000, 0)};
  Total(outside);
  files.push_back(
      Write(dir, "outside.xml", InvoiceCii(sovereign, outside, {"Landratsamt", "", "DE"}, {}, Berlin())));

  // A credit note for part of the taxed invoice, both rates.
  CreditNote cn;
  cn.number = "G-2026-000001";
  cn.issued_at_us = 1795449762000000;
  cn.invoice_number = taxed.number;
  cn.reason = "Storno";
  cn.lines = {taxed.lines[1], taxed.lines[2]};
  Total(cn);
  const auto cn_xml = CreditNoteCii(issuer, cn, {"TV Größingen e.V.", "", ""}, taxed.issued_at_us, Berlin());
  files.push_back(Write(dir, "credit.xml", cn_xml));

  EXPECT_EQ(testing_support::ExpectValidEn16931(validator, files), 4);

  // The check can fail, and names what failed in which file: a total
  // changed by hand breaks a business rule (BR-CO-15: the grand total is
  // the net total plus the VAT), an unknown element the schema. The good
  // file between them passes in the same run.
  const std::string good = *InvoiceCii(issuer, taxed, {"TV Größingen e.V.", "", ""}, {}, Berlin());
  std::string total_changed = good, unknown = good;
  const std::string grand = "<ram:GrandTotalAmount>";
  total_changed.insert(total_changed.find(grand) + grand.size(), "1");
  unknown.replace(unknown.find("<ram:TypeCode>"), 14, "<ram:Kind>")
      .replace(unknown.find("</ram:TypeCode>"), 15, "</ram:Kind>");
  const std::vector<std::string> bad = {Write(dir, "total.xml", total_changed), files[0]};
  int passed = -1;
  EXPECT_NONFATAL_FAILURE(passed = testing_support::ExpectValidEn16931(validator, bad),
                          "total.xml is not a valid EN 16931 invoice:\nfatal BR-CO-15");
  EXPECT_EQ(passed, 1);
  EXPECT_NONFATAL_FAILURE(
      testing_support::ExpectValidEn16931(validator, {Write(dir, "unknown.xml", unknown)}),
      "Element '{urn:un:unece:uncefact:data:standard:"
      "ReusableAggregateBusinessInformationEntity:100}Kind': This element is not expected");

  // The figures are the recorded ones (what the PDF prints).
  ASSERT_TRUE(taxed_xml.ok());
  EXPECT_NE(taxed_xml->find("<ram:TypeCode>380</ram:TypeCode>"), std::string::npos);
  EXPECT_NE(taxed_xml->find("<ram:BuyerReference>04011000-12345-67</ram:BuyerReference>"), std::string::npos);
  EXPECT_NE(taxed_xml->find("<ram:PaymentReference>5.0001.000042.7</ram:PaymentReference>"),
            std::string::npos);
  EXPECT_NE(taxed_xml->find("<ram:IBANID>DE89370400440532013000</ram:IBANID>"), std::string::npos);
  EXPECT_NE(
      taxed_xml->find("<ram:GrandTotalAmount>" + FormatDecimal(taxed.gross) + "</ram:GrandTotalAmount>"),
      std::string::npos);
  EXPECT_NE(taxed_xml->find("schemeID=\"VA\""), std::string::npos);
  ASSERT_TRUE(cn_xml.ok());
  EXPECT_NE(cn_xml->find("<ram:TypeCode>381</ram:TypeCode>"), std::string::npos);
  EXPECT_NE(cn_xml->find("<ram:IssuerAssignedID>R-2026-000001</ram:IssuerAssignedID>"), std::string::npos);
}

TEST(EInvoiceTest, AMissingSellerSettingIsNamedAndNothingIsRendered) {
  Issuer issuer = Municipality();
  issuer.seller.street.clear();
  auto xml = InvoiceCii(issuer, TaxedInvoice(), {"TV", "", ""}, {}, Berlin());
  ASSERT_FALSE(xml.ok());
  EXPECT_EQ(xml.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(xml.status().message().find("einvoice.street"), std::string::npos) << xml.status().message();

  issuer = Municipality();
  issuer.seller.vat_id.clear();
  issuer.seller.tax_number.clear();
  issuer.seller.seller_id = "08315074";
  xml = InvoiceCii(issuer, TaxedInvoice(), {"TV", "", ""}, {}, Berlin());
  ASSERT_FALSE(xml.ok());
  EXPECT_NE(xml.status().message().find("einvoice.tax_number"), std::string::npos) << xml.status().message();

  issuer = Municipality();
  issuer.seller.vat_id.clear();
  xml = InvoiceCii(issuer, TaxedInvoice(), {"TV", "", ""}, {}, Berlin());
  ASSERT_FALSE(xml.ok());
  EXPECT_NE(xml.status().message().find("einvoice.seller_id"), std::string::npos) << xml.status().message();
}

TEST(EInvoiceTest, ZeroRateLinesNeedACategoryAndAReason) {
  Invoice inv = TaxedInvoice();
  inv.lines.push_back(GrossLine("Kaution", 1000, "booking", 5000, 0));
  Total(inv);
  Issuer issuer = Municipality();
  issuer.seller.tax_exempt_reason.clear();
  auto xml = InvoiceCii(issuer, inv, {"TV", "", ""}, {}, Berlin());
  ASSERT_FALSE(xml.ok());
  EXPECT_NE(xml.status().message().find("einvoice.tax_exempt_reason"), std::string::npos);

  issuer = Municipality();
  issuer.seller.tax_exempt_category.clear();
  xml = InvoiceCii(issuer, inv, {"TV", "", ""}, {}, Berlin());
  ASSERT_FALSE(xml.ok());
  EXPECT_NE(xml.status().message().find("einvoice.tax_exempt_category"), std::string::npos);

  // "Not subject to VAT" cannot stand beside taxed lines (BR-O-11).
  issuer = Municipality();
  issuer.seller.tax_exempt_category = "O";
  xml = InvoiceCii(issuer, inv, {"TV", "", ""}, {}, Berlin());
  ASSERT_FALSE(xml.ok());
  EXPECT_NE(xml.status().message().find("BR-O-11"), std::string::npos);
}

TEST(EInvoiceTest, FiguresThatDoNotAddUpAreRefused) {
  Invoice inv = TaxedInvoice();
  inv.gross += 1;
  EXPECT_FALSE(InvoiceCii(Municipality(), inv, {"TV", "", ""}, {}, Berlin()).ok());
  inv = TaxedInvoice();
  inv.lines[0].tax += 1;
  EXPECT_FALSE(InvoiceCii(Municipality(), inv, {"TV", "", ""}, {}, Berlin()).ok());
  inv = TaxedInvoice();
  EXPECT_FALSE(InvoiceCii(Municipality(), inv, {"", "", ""}, {}, Berlin()).ok());  // no buyer
  inv.lines.clear();
  Total(inv);
  EXPECT_FALSE(InvoiceCii(Municipality(), inv, {"TV", "", ""}, {}, Berlin()).ok());  // no lines
}

TEST(EInvoiceTest, QuantityTimesPriceIsTheLineNet) {
  Invoice inv = TaxedInvoice();  // 2.333 hours: the net per hour is not exact
  auto xml = InvoiceCii(Municipality(), inv, {"TV", "", ""}, {}, Berlin());
  ASSERT_TRUE(xml.ok());
  EXPECT_NE(xml->find("<ram:ChargeAmount>" + FormatDecimal(inv.lines[0].net) + "</ram:ChargeAmount>"),
            std::string::npos);
  EXPECT_NE(xml->find("<ram:BasisQuantity unitCode=\"HUR\">2.333</ram:BasisQuantity>"), std::string::npos);
  // 7 tables for 0.51: 0.072857… per table, so 7 as the base quantity; 1 chair at 0.51.
  EXPECT_NE(xml->find("<ram:ChargeAmount>10.0000</ram:ChargeAmount>"), std::string::npos);  // the Beamer
  // Same values, same bytes.
  EXPECT_EQ(*xml, *InvoiceCii(Municipality(), inv, {"TV", "", ""}, {}, Berlin()));
}

}  // namespace
}  // namespace saalbuch::formats
