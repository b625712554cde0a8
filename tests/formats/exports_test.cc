// The books' exports from plain journal values: DATEV postings paired from
// journal lines, the journal and open items as CSV, and the finance
// documents composed for the PDF renderer.
#include <gtest/gtest.h>

#include "formats/csv.h"
#include "formats/datev.h"
#include "formats/finance_documents.h"
#include "formats/ical.h"

namespace saalbuch::formats {
namespace {

JournalEntry Entry(const std::string& day, const std::string& document, std::vector<JournalLine> lines) {
  JournalEntry e;
  e.seq = 7;
  e.date = *ParseLocalDay(day);
  e.document = document;
  e.text = "Saalmiete";
  e.cost_center = "4711";
  e.lines = std::move(lines);
  return e;
}

TEST(DatevPostingsTest, OneDebitAgainstSeveralCreditsGivesOnePostingPerCredit) {
  auto p = DatevPostings(
      {Entry("2026-11-22", "R-2026-000001", {{"1400", 11900, 0}, {"8400", 0, 10000}, {"1776", 0, 1900}})});
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  ASSERT_EQ(p->size(), 2u);
  EXPECT_TRUE((*p)[0].debit);
  EXPECT_EQ((*p)[0].account, "1400");
  EXPECT_EQ((*p)[0].contra, "8400");
  EXPECT_EQ((*p)[0].amount, 10000);
  EXPECT_EQ((*p)[1].contra, "1776");
  EXPECT_EQ((*p)[1].amount, 1900);
  EXPECT_EQ((*p)[0].date, 20261122);
  EXPECT_EQ((*p)[0].document, "R-2026-000001");
  EXPECT_EQ((*p)[0].text, "Saalmiete");
  EXPECT_EQ((*p)[0].cost_center, "4711");
}

TEST(DatevPostingsTest, OneCreditAgainstSeveralDebitsIsACreditPosting) {
  auto p =
      DatevPostings({Entry("2026-01-02", "G 1", {{"8400", 1000, 0}, {"1776", 190, 0}, {"1400", 0, 1190}})});
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  ASSERT_EQ(p->size(), 2u);
  EXPECT_FALSE((*p)[0].debit);
  EXPECT_EQ((*p)[0].account, "1400");
  EXPECT_EQ((*p)[0].contra, "8400");
  EXPECT_EQ((*p)[0].amount, 1000);
  EXPECT_EQ((*p)[0].date, 20260102);
  EXPECT_EQ((*p)[0].document, "G-1");  // a blank is not in DATEV's set
}

TEST(DatevPostingsTest, SeveralLinesOnBothSidesAreRefused) {
  auto p = DatevPostings(
      {Entry("2026-11-22", "X-1", {{"1400", 100, 0}, {"1200", 100, 0}, {"8400", 0, 100}, {"8401", 0, 100}})});
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(p.status().message().find("X-1"), std::string::npos) << p.status().message();
}

TEST(DatevPostingsTest, LongDocumentNumberIsCutTo36Characters) {
  auto p = DatevPostings({Entry("2026-11-22", std::string(40, 'A'), {{"1400", 100, 0}, {"8400", 0, 100}})});
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->front().document, std::string(36, 'A'));
}

TEST(JournalCsvTest, OneRowPerLineWithQuotedTextsAndDecimalPoints) {
  JournalEntry e = Entry("2026-11-22", "R-1", {{"1400", 11900, 0}, {"8400", 0, 11900}});
  e.text = "Miete; \"Saal\"";
  EXPECT_EQ(JournalCsv({e}),
            "date;document;text;account;debit;credit;position\r\n"
            "2026-11-22;R-1;\"Miete; \"\"Saal\"\"\";1400;119.00;0.00;7\r\n"
            "2026-11-22;R-1;\"Miete; \"\"Saal\"\"\";8400;0.00;119.00;7\r\n");
}

TEST(OpenItemsCsvTest, DueIsWrittenInUtc) {
  OpenItem i;
  i.number = "R-2026-000001";
  i.customer = "Turnverein";
  i.due = *ParseRfc3339("2026-12-06T23:00:00Z");
  i.gross = 11900;
  i.open = 5000;
  i.currency = "EUR";
  i.kassenzeichen = "5.0001.000001.7";
  i.recipient = "Turnverein 1880 e. V.; Abt. Turnen";  // quoted: it holds the separator
  EXPECT_EQ(OpenItemsCsv({i}),
            "number;customer;due;gross;open;currency;kassenzeichen;recipient\r\n"
            "R-2026-000001;Turnverein;2026-12-06T23:00:00Z;119.00;50.00;EUR;5.0001.000001.7;"
            "\"Turnverein 1880 e. V.; Abt. Turnen\"\r\n");
}

TEST(FinanceDocumentsTest, InvoiceNamesBookingDueDayAndBudgetCodesInLocalTime) {
  const Zone* berlin = FindZone("Europe/Berlin");
  ASSERT_NE(berlin, nullptr);
  Invoice inv;
  inv.number = "R-2026-000001";
  inv.issued_at_us = *ParseRfc3339("2026-11-22T23:30:00Z");  // already the 23rd in Berlin
  inv.due_us = *ParseRfc3339("2026-12-06T12:00:00Z");
  inv.customer = "K-1";
  inv.lines = {{"Saalmiete", 2500, "hour", 10000, 1900, 11900, 1900, "1.1.1.01", "4711"}};
  inv.net = 10000;
  inv.tax = 1900;
  inv.gross = 11900;
  inv.kassenzeichen = "KZ-1";
  const InvoicedBooking b{
      "B-7", "Bürgerhaus", {*ParseRfc3339("2026-12-12T17:00:00Z"), *ParseRfc3339("2026-12-12T21:30:00Z")}};
  const PdfDocument d = InvoicePdf({{"Gemeinde Musterstadt"}, "EUR", {}}, inv, b, berlin);
  EXPECT_EQ(d.title, "Rechnung");
  EXPECT_EQ(d.issued_on, "23.11.2026");
  EXPECT_EQ(d.due_on, "06.12.2026");
  EXPECT_EQ(d.recipient, std::vector<std::string>{"Kunde K-1"});
  ASSERT_EQ(d.intro.size(), 2u);
  EXPECT_EQ(d.intro[0], "Buchung B-7, Bürgerhaus");
  EXPECT_EQ(d.intro[1], "Zeitraum 12.12.2026 18:00 – 12.12.2026 22:30");
  ASSERT_EQ(d.lines.size(), 1u);
  EXPECT_EQ(d.lines[0].quantity, "2,50 Std.");
  EXPECT_EQ(d.lines[0].budget, "Produkt 1.1.1.01 · KSt 4711");
  EXPECT_EQ(d.footer.back(), "Bitte zahlen Sie bis zum 06.12.2026 unter Angabe des Kassenzeichens.");
  EXPECT_EQ(d.created_at_us, inv.issued_at_us);
  EXPECT_TRUE(RenderPdf(d).ok());
}

TEST(FinanceDocumentsTest, ReceiptWithoutInvoiceHasNoKassenzeichen) {
  Receipt r;
  r.number = "Q-1";
  r.amount = 2500;
  r.method = "bank_transfer";
  const PdfDocument d = ReceiptPdf({}, r, FindZone("Europe/Berlin"));
  EXPECT_EQ(d.intro.front(), "Zahlungsart: Überweisung");
  EXPECT_EQ(d.total_net, 2500);
  EXPECT_EQ(d.total_tax, 0);
  ASSERT_EQ(d.footer.size(), 1u);
  EXPECT_EQ(d.footer[0], "Betrag erhalten am 01.01.1970: 25,00 EUR");
}

TEST(GermanDateTest, OnlyIsoDaysAreRewritten) {
  EXPECT_EQ(GermanDate("2026-11-22"), "22.11.2026");
  EXPECT_EQ(GermanDate("2026-11"), "2026-11");
}

TEST(BookingIcsTest, CancelledBookingIsACancelledEventWithItsSequence) {
  IcsBooking b{
      "bk-1", "B-7", {*ParseRfc3339("2026-12-12T17:00:00Z"), *ParseRfc3339("2026-12-12T21:30:00Z")}, 3, true};
  const std::string ics = BookingIcs(TenantId("stadt"), "Stadt", "Bürgerhaus", b, 0);
  EXPECT_NE(ics.find("UID:bk-1@stadt.saalbuch"), std::string::npos) << ics;
  EXPECT_NE(ics.find("DTSTART:20261212T170000Z"), std::string::npos) << ics;
  EXPECT_NE(ics.find("SEQUENCE:3"), std::string::npos) << ics;
  EXPECT_NE(ics.find("STATUS:CANCELLED"), std::string::npos) << ics;
}

// libical put the fold of a line that ends exactly at 75 octets between its
// CR and LF (found by tests/fuzz/fuzz_ical). Every length of a name, in
// ASCII and in umlauts: CRLF only, lines of at most 75 octets, no fold inside
// a character, and the name whole once unfolded.
TEST(BookingIcsTest, LinesAreFoldedAt75OctetsWhateverTheLengthOfANameIs) {
  const IcsBooking b{"bk_0123456789abcdef0123",
                     "B-2026-000042",
                     {*ParseRfc3339("2026-12-12T17:00:00Z"), *ParseRfc3339("2026-12-12T21:30:00Z")},
                     1,
                     false};
  for (const std::string unit : {"x", "Ä", "€"}) {
    for (int n = 1; n <= 160; ++n) {
      std::string name;
      for (int i = 0; i < n; ++i) name += unit;
      for (const std::string& ics : {BookingIcs(TenantId("stadt"), name, "Saal", b, 0),
                                     BookingIcs(TenantId("stadt"), "Stadt", name, b, 0),
                                     BusyFeedIcs(TenantId("stadt"), name, {{b.range, BookingId(b.id)}}, 0)}) {
        std::string unfolded;
        for (std::size_t at = 0; at < ics.size();) {
          const std::size_t crlf = ics.find("\r\n", at);
          ASSERT_NE(crlf, std::string::npos) << "the text ends without CRLF: " << unit << " × " << n;
          const std::string line = ics.substr(at, crlf - at);
          EXPECT_LE(line.size(), 75U) << line;
          EXPECT_EQ(line.find_first_of("\r\n"), std::string::npos) << unit << " × " << n << ": " << line;
          if (line.starts_with(" ")) {
            EXPECT_NE(static_cast<unsigned char>(line[1]) & 0xC0, 0x80)
                << "a fold inside a character: " << line;
            unfolded += line.substr(1);
          } else {
            unfolded += "\n" + line;
          }
          at = crlf + 2;
        }
        EXPECT_NE(unfolded.find(name), std::string::npos) << unit << " × " << n;
      }
    }
  }
}

}  // namespace
}  // namespace saalbuch::formats
