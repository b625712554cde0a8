#include "formats/pdf.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <map>

#include "tests/support/scratch_dir.h"

namespace saalbuch::formats {
namespace {

using testing_support::ScratchDir;

PdfDocument Invoice() {
  PdfDocument d;
  d.title = "Rechnung";
  d.number = "R-2026-000001";
  d.issued_on = "22.11.2026";
  d.due_on = "06.12.2026";
  d.letterhead = {"Gemeinde Müllheim", "Rathausplatz 1, 79379 Müllheim", "Steuernummer 12/345/67890",
                  "IBAN DE89 3704 0044 0532 0130 00 · BIC COBADEFFXXX"};
  d.recipient = {"Turnverein Größingen e.V.", "z. Hd. Jürgen Weiß", "Schulstraße 3", "79379 Müllheim"};
  d.intro = {"Buchung B-2026-000042 · Bürgerhaus, Großer Saal", "Sa 12.12.2026 18:00 – 23:00"};
  d.lines = {
      {"Saalmiete Großer Saal", "5 Std.", 103740, 19711, 123451, 1900, "Produkt 1.1.1.01 · KSt 4711"},
      {"Bestuhlung", "120 Plätze", 12000, 840, 12840, 700, ""},
      {"Kaution (nicht steuerbar)", "1", 50000, 0, 50000, 0, ""},
  };
  d.total_net = 103740 + 12000 + 50000;
  d.total_tax = 19711 + 840;
  d.total_gross = 123451 + 12840 + 50000;
  d.footer = {"Kassenzeichen 5.0001.000042.7", "Bitte überweisen Sie den Betrag bis zum 06.12.2026."};
  d.created_at_us = 1795363362000000;  // 2026-11-22 16:02:42 UTC
  return d;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// What poppler's pdftotext, an independent PDF reader, finds in the bytes.
struct Read {
  std::string text;  // pages separated by '\f'
  std::string info;  // pdfinfo's report
};
Read ReadBack(const std::string& pdf) {
  ScratchDir dir;
  const std::string in = dir.Sub("doc.pdf"), out = dir.Sub("doc.txt"), info = dir.Sub("info.txt");
  std::ofstream(in, std::ios::binary) << pdf;
  EXPECT_EQ(std::system(("pdftotext -layout -enc UTF-8 " + in + " " + out).c_str()), 0);
  EXPECT_EQ(std::system(("pdfinfo " + in + " > " + info).c_str()), 0);
  return {ReadFile(out), ReadFile(info)};
}

TEST(PdfTest, InvoiceReadsBackWithUmlautsAmountsAndTotals) {
  Result<std::string> pdf = RenderPdf(Invoice());
  ASSERT_TRUE(pdf.ok()) << pdf.status().ToString();
  EXPECT_EQ(pdf->substr(0, 5), "%PDF-");
  const Read r = ReadBack(*pdf);
  for (const char* s : {"Rechnung",
                        "R-2026-000001",
                        "22.11.2026",
                        "Fällig am",
                        "06.12.2026",
                        "Gemeinde Müllheim",
                        "Turnverein Größingen e.V.",
                        "Jürgen Weiß",
                        "Schulstraße 3",
                        "Bürgerhaus, Großer Saal",
                        "Saalmiete Großer Saal",
                        "120 Plätze",
                        "Produkt 1.1.1.01 · KSt 4711",
                        "1.037,40 €",
                        "197,11 €",
                        "1.234,51 €",
                        "19 %",
                        "7 %",
                        "0 %",
                        "Summe netto",
                        "1.657,40 €",
                        "205,51 €",
                        "Gesamtbetrag",
                        "1.862,91 €",
                        "Steuerübersicht",
                        "Kassenzeichen 5.0001.000042.7",
                        "Bitte überweisen",
                        "Seite 1/1"}) {
    EXPECT_NE(r.text.find(s), std::string::npos) << "missing: " << s << "\n" << r.text;
  }
  EXPECT_NE(r.info.find("Pages:           1"), std::string::npos) << r.info;
  EXPECT_NE(r.info.find("Page size:       595.276 x 841.89 pts (A4)"), std::string::npos) << r.info;
  EXPECT_NE(r.info.find("Title:           Rechnung R-2026-000001"), std::string::npos) << r.info;
}

// The right edges (xMax) of every "€" pdftotext finds, from its -bbox report.
std::vector<double> EuroRightEdges(const std::string& pdf) {
  ScratchDir dir;
  const std::string in = dir.Sub("doc.pdf"), out = dir.Sub("doc.html");
  std::ofstream(in, std::ios::binary) << pdf;
  EXPECT_EQ(std::system(("pdftotext -bbox " + in + " " + out).c_str()), 0);
  const std::string html = ReadFile(out);
  std::vector<double> edges;
  for (std::size_t at = 0; (at = html.find(">€</word>", at)) != std::string::npos; ++at) {
    const std::size_t x = html.rfind("xMax=\"", at);
    edges.push_back(std::stod(html.substr(x + 6)));
  }
  return edges;
}

TEST(PdfTest, AmountsAreRightAlignedInTheirColumns) {
  const std::vector<double> edges = EuroRightEdges(RenderPdf(Invoice()).value());
  // 3 lines × 3 amounts, 3 totals, 3 rates × 3 in the tax summary.
  ASSERT_EQ(edges.size(), 9u + 3u + 9u);
  // Cluster the edges: amounts of one column end within half a point of each other.
  std::map<double, int> columns;  // first edge of a column → how many amounts end there
  for (double e : edges) {
    auto near = std::find_if(columns.begin(), columns.end(),
                             [e](const auto& c) { return std::abs(c.first - e) < 0.5; });
    if (near == columns.end())
      columns[e] = 1;
    else
      ++near->second;
  }
  ASSERT_EQ(columns.size(), 3u) << "Netto, Steuer, Brutto";
  EXPECT_NEAR(columns.rbegin()->first, 595.276 - 56.69, 0.5);  // A4 width minus the 20 mm margin
  EXPECT_EQ(columns.rbegin()->second, 3 + 3 + 3);              // Brutto: lines, totals, tax summary
}

TEST(PdfTest, SixtyLinesFlowOntoFurtherPagesWithHeaderRepeated) {
  PdfDocument d = Invoice();
  d.lines.clear();
  d.total_net = d.total_tax = d.total_gross = 0;
  for (int i = 1; i <= 60; ++i) {
    d.lines.push_back({"Position " + std::to_string(i) + " Übungsleiterstunde", "1 Std.", 1000, 190, 1190,
                       1900, "Produkt 4.2.1 · KSt " + std::to_string(4700 + i)});
    d.total_net += 1000;
    d.total_tax += 190;
    d.total_gross += 1190;
  }
  Result<std::string> pdf = RenderPdf(d);
  ASSERT_TRUE(pdf.ok()) << pdf.status().ToString();
  const Read r = ReadBack(*pdf);
  // Page 1 holds the letterhead and rows 1-14, page 2 rows 15-38, page 3 rows 39-60 and the totals,
  // page 4 the tax summary and the footer (DejaVu Sans metrics, 27.6 pt per row).
  EXPECT_NE(r.info.find("Pages:           4"), std::string::npos) << r.info;
  std::vector<std::string> pages;
  std::size_t start = 0;
  for (std::size_t ff; (ff = r.text.find('\f', start)) != std::string::npos; start = ff + 1) {
    pages.push_back(r.text.substr(start, ff - start));
  }
  ASSERT_EQ(pages.size(), 4u);
  for (std::size_t p = 0; p < pages.size(); ++p) {
    EXPECT_NE(pages[p].find("Seite " + std::to_string(p + 1) + "/4"), std::string::npos);
    EXPECT_EQ(pages[p].find("Beschreibung") != std::string::npos, p < 3) << "table header on page " << p + 1;
  }
  EXPECT_NE(pages[1].find("Position 15 "), std::string::npos);
  EXPECT_NE(pages[2].find("Gesamtbetrag"), std::string::npos);
  EXPECT_NE(pages[3].find("Steuerübersicht"), std::string::npos);
  for (int i = 1; i <= 60; ++i) {
    const std::string row = "Position " + std::to_string(i) + " Übungsleiterstunde";
    const std::size_t at = r.text.find(row);
    ASSERT_NE(at, std::string::npos) << row;
    EXPECT_EQ(r.text.find(row, at + 1), std::string::npos) << row << " twice";
  }
  EXPECT_NE(pages[2].find("714,00 €"), std::string::npos);  // 60 × 11,90
}

TEST(PdfTest, SameInputGivesIdenticalBytes) {
  Result<std::string> a = RenderPdf(Invoice());
  Result<std::string> b = RenderPdf(Invoice());
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(*a, *b);
  // cairo 1.16 writes the date without the "D:" prefix; pdfinfo reads it either way.
  EXPECT_NE(a->find("/CreationDate (20261122160242Z)"), std::string::npos);
  PdfDocument later = Invoice();
  later.created_at_us += 1'000'000;
  EXPECT_NE(RenderPdf(later).value(), *a);
}

TEST(PdfTest, ReceiptWithoutLinesShowsItsTotal) {
  PdfDocument d;
  d.title = "Zahlungsbeleg";
  d.number = "Z-2026-000007";
  d.issued_on = "23.11.2026";
  d.related = "zu Rechnung R-2026-000001";
  d.total_net = 156551;
  d.total_tax = 29740;
  d.total_gross = 186291;
  d.footer = {"Betrag erhalten am 23.11.2026"};
  Result<std::string> pdf = RenderPdf(d);
  ASSERT_TRUE(pdf.ok()) << pdf.status().ToString();
  const Read r = ReadBack(*pdf);
  for (const char* s : {"Zahlungsbeleg", "zu Rechnung R-2026-000001", "1.862,91 €", "Betrag erhalten am"}) {
    EXPECT_NE(r.text.find(s), std::string::npos) << s << "\n" << r.text;
  }
  EXPECT_EQ(r.text.find("Steuerübersicht"), std::string::npos);
}

TEST(PdfTest, LinesThatDoNotAddUpToTheTotalsAreRefused) {
  PdfDocument d = Invoice();
  d.total_gross += 1;
  d.total_net += 1;
  Result<std::string> r = RenderPdf(d);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("the lines add up to net 1657.40"), std::string::npos)
      << r.status().message();
}

TEST(PdfTest, DisagreeingFiguresAreRefused) {
  PdfDocument d = Invoice();
  d.lines[1].gross += 1;
  d.total_gross += 1;
  Result<std::string> r = RenderPdf(d);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("totals disagree"), std::string::npos) << r.status().message();
  d = Invoice();
  d.lines[1].gross += 1;
  d.lines[1].net += 1;
  d.total_net += 1;
  d.total_gross += 1;
  r = RenderPdf(d);
  ASSERT_TRUE(r.ok()) << r.status().ToString();  // consistent again
  d.lines[0].tax -= 1;
  d.lines[1].tax += 1;
  r = RenderPdf(d);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("line 1: net + tax != gross"), std::string::npos)
      << r.status().message();
}

TEST(PdfTest, TextThatIsNotUtf8IsRefused) {
  PdfDocument d = Invoice();
  d.lines[1].description = "Bestuhlung \xFC";  // Latin-1 'ü'
  Result<std::string> r = RenderPdf(d);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("not valid UTF-8"), std::string::npos) << r.status().message();
}

}  // namespace
}  // namespace saalbuch::formats
