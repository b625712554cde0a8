#include "formats/datev.h"

#include <gtest/gtest.h>

namespace saalbuch::formats {
namespace {

// The column headings of a Buchungsstapel, format version 13, written down
// from DATEV's Formatbeschreibung "DATEV-Format Buchungsstapel"
// (developer.datev.de/datev/platform/de/dtvf/formate/buchungsstapel) and
// line 2 of DATEV's sample file (Musterdaten), as also listed in the public
// validator seamless-engineering/datev-extf (src/columns.ts). In UTF-8 here;
// the file holds them in Windows-1252.
const std::vector<std::string> kPublishedColumns = [] {
  std::vector<std::string> c = {"Umsatz (ohne Soll/Haben-Kz)",
                                "Soll/Haben-Kennzeichen",
                                "WKZ Umsatz",
                                "Kurs",
                                "Basis-Umsatz",
                                "WKZ Basis-Umsatz",
                                "Konto",
                                "Gegenkonto (ohne BU-Schlüssel)",
                                "BU-Schlüssel",
                                "Belegdatum",
                                "Belegfeld 1",
                                "Belegfeld 2",
                                "Skonto",
                                "Buchungstext",
                                "Postensperre",
                                "Diverse Adressnummer",
                                "Geschäftspartnerbank",
                                "Sachverhalt",
                                "Zinssperre",
                                "Beleglink"};
  for (int i = 1; i <= 8; ++i) {
    c.push_back("Beleginfo - Art " + std::to_string(i));
    c.push_back("Beleginfo - Inhalt " + std::to_string(i));
  }
  for (const char* s :
       {"KOST1 - Kostenstelle", "KOST2 - Kostenstelle", "Kost-Menge", "EU-Land u. UStID (Bestimmung)",
        "EU-Steuersatz (Bestimmung)", "Abw. Versteuerungsart", "Sachverhalt L+L", "Funktionsergänzung L+L",
        "BU 49 Hauptfunktionstyp", "BU 49 Hauptfunktionsnummer", "BU 49 Funktionsergänzung"}) {
    c.push_back(s);
  }
  for (int i = 1; i <= 20; ++i) {
    c.push_back("Zusatzinformation - Art " + std::to_string(i));
    c.push_back("Zusatzinformation- Inhalt " + std::to_string(i));
  }
  for (const char* s : {"Stück",
                        "Gewicht",
                        "Zahlweise",
                        "Forderungsart",
                        "Veranlagungsjahr",
                        "Zugeordnete Fälligkeit",
                        "Skontotyp",
                        "Auftragsnummer",
                        "Buchungstyp",
                        "USt-Schlüssel (Anzahlungen)",
                        "EU-Land (Anzahlungen)",
                        "Sachverhalt L+L (Anzahlungen)",
                        "EU-Steuersatz (Anzahlungen)",
                        "Erlöskonto (Anzahlungen)",
                        "Herkunft-Kz",
                        "Buchungs GUID",
                        "KOST-Datum",
                        "SEPA-Mandatsreferenz",
                        "Skontosperre",
                        "Gesellschaftername",
                        "Beteiligtennummer",
                        "Identifikationsnummer",
                        "Zeichnernummer",
                        "Postensperre bis",
                        "Bezeichnung SoBil-Sachverhalt",
                        "Kennzeichen SoBil-Buchung",
                        "Festschreibung",
                        "Leistungsdatum",
                        "Datum Zuord. Steuerperiode",
                        "Fälligkeit",
                        "Generalumkehr (GU)",
                        "Steuersatz",
                        "Land",
                        "Abrechnungsreferenz",
                        "BVV-Position",
                        "EU-Land u. UStID (Ursprung)",
                        "EU-Steuersatz (Ursprung)",
                        "Abw. Skontokonto"}) {
    c.push_back(s);
  }
  return c;
}();

std::vector<std::string> Split(const std::string& s, const std::string& sep) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (true) {
    const std::size_t at = s.find(sep, start);
    out.push_back(s.substr(start, at == std::string::npos ? std::string::npos : at - start));
    if (at == std::string::npos) return out;
    start = at + sep.size();
  }
}

class DatevTest : public ::testing::Test {
 protected:
  DatevTest() {
    h_.consultant = "29098";
    h_.client = "55003";
    h_.fiscal_year_start = 20260101;
    h_.from = 20261101;
    h_.to = 20261130;
    h_.label = "Saalbuch November";
    h_.created_at_us = 1795363362123456;  // 2026-11-22 16:02:42.123456 UTC
    DatevPosting p;
    p.amount = 123450;
    p.debit = true;
    p.account = "10000";
    p.contra = "8400";
    p.tax_key = "";
    p.date = 20261105;
    p.document = "R-2026-000001";
    p.text = "Saalmiete Bürgerhaus";
    p.cost_center = "4711";
    postings_.push_back(p);
  }
  std::vector<std::string> Lines() {
    Result<std::string> r = RenderDatevExtf(h_, postings_);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    std::vector<std::string> lines = Split(r.value_or(""), "\r\n");
    EXPECT_TRUE(lines.back().empty()) << "the file ends with CRLF";
    lines.pop_back();
    return lines;
  }
  void ExpectRefused(const std::string& message_part) {
    Result<std::string> r = RenderDatevExtf(h_, postings_);
    ASSERT_FALSE(r.ok()) << "expected an error containing: " << message_part;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find(message_part), std::string::npos) << r.status().message();
  }
  DatevHeader h_;
  std::vector<DatevPosting> postings_;
};

TEST_F(DatevTest, HeaderLineHasThePublishedFieldsInOrder) {
  // Field order from DATEV's Formatbeschreibung "Header" (31 fields): Kennzeichen, Versionsnummer,
  // Formatkategorie, Formatname, Formatversion, Erzeugt am, Importiert, Herkunft, Exportiert von,
  // Importiert von, Berater, Mandant, WJ-Beginn, Sachkontenlänge, Datum vom, Datum bis, Bezeichnung,
  // Diktatkürzel, Buchungstyp, Rechnungslegungszweck, Festschreibung, WKZ, reserviert,
  // Derivatskennzeichen, reserviert, reserviert, SKR, Branchenlösungs-ID, reserviert, reserviert,
  // Anwendungsinformation.
  const std::vector<std::string> expected = {"\"EXTF\"",
                                             "700",
                                             "21",
                                             "\"Buchungsstapel\"",
                                             "13",
                                             "20261122160242123",
                                             "",
                                             "\"SB\"",
                                             "\"Saalbuch\"",
                                             "\"\"",
                                             "29098",
                                             "55003",
                                             "20260101",
                                             "4",
                                             "20261101",
                                             "20261130",
                                             "\"Saalbuch November\"",
                                             "\"\"",
                                             "1",
                                             "0",
                                             "0",
                                             "\"EUR\"",
                                             "",
                                             "\"\"",
                                             "",
                                             "",
                                             "\"\"",
                                             "",
                                             "",
                                             "\"\"",
                                             "\"\""};
  EXPECT_EQ(Split(Lines().at(0), ";"), expected);
}

TEST_F(DatevTest, SecondLineHasAllPublishedColumns) {
  ASSERT_EQ(kPublishedColumns.size(), 125u);
  std::vector<std::string> expected;
  for (const std::string& c : kPublishedColumns) expected.push_back(Utf8ToWindows1252(c));
  EXPECT_EQ(Split(Lines().at(1), ";"), expected);
}

TEST_F(DatevTest, PostingRowFillsItsColumnsAndLeavesTheRestEmpty) {
  const std::vector<std::string> lines = Lines();
  ASSERT_EQ(lines.size(), 3u);
  const std::vector<std::string> f = Split(lines[2], ";");
  ASSERT_EQ(f.size(), 125u);
  EXPECT_EQ(f[0], "1234,50");  // decimal comma, no thousands separator
  EXPECT_EQ(f[1], "\"S\"");
  EXPECT_EQ(f[6], "10000");
  EXPECT_EQ(f[7], "8400");
  EXPECT_EQ(f[8], "\"\"");
  EXPECT_EQ(f[9], "0511");  // DDMM
  EXPECT_EQ(f[10], "\"R-2026-000001\"");
  EXPECT_EQ(f[13], "\"Saalmiete B\xFCrgerhaus\"");
  EXPECT_EQ(f[36], "\"4711\"");
  for (std::size_t i : {2, 3, 4, 5, 11, 12, 14, 37, 100, 124}) EXPECT_EQ(f[i], "") << "column " << i + 1;
}

TEST_F(DatevTest, CreditPostingIsMarkedH) {
  postings_[0].debit = false;
  postings_[0].amount = 5;
  const std::vector<std::string> f = Split(Lines().at(2), ";");
  EXPECT_EQ(f[0], "0,05");
  EXPECT_EQ(f[1], "\"H\"");
}

TEST_F(DatevTest, TextIsWindows1252WithSingleByteUmlautsAndEuro) {
  postings_[0].text = "ä ö ü ß € Ä";
  Result<std::string> r = RenderDatevExtf(h_, postings_);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_NE(r->find("\"\xE4 \xF6 \xFC \xDF \x80 \xC4\""), std::string::npos);
  EXPECT_NE(r->find("BU-Schl\xFCssel"), std::string::npos);
  EXPECT_EQ(r->find('\xC3'), std::string::npos) << "no UTF-8 lead bytes left";
}

TEST_F(DatevTest, EveryLineEndsWithCrlf) {
  postings_.push_back(postings_[0]);
  Result<std::string> r = RenderDatevExtf(h_, postings_);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  std::size_t lf = 0;
  for (std::size_t i = 0; i < r->size(); ++i) {
    if ((*r)[i] != '\n') continue;
    ++lf;
    ASSERT_GT(i, 0u);
    EXPECT_EQ((*r)[i - 1], '\r') << "bare LF at byte " << i;
  }
  EXPECT_EQ(lf, 4u);
  EXPECT_EQ(r->substr(r->size() - 2), "\r\n");
}

TEST_F(DatevTest, QuotesAreDoubledAndLineBreaksFlattened) {
  postings_[0].text = "Saal \"Linde\"; Halle\r\nB";
  const std::string row = Lines().at(2);
  EXPECT_NE(row.find(";\"Saal \"\"Linde\"\"; Halle  B\";"), std::string::npos) << row;
}

TEST_F(DatevTest, TextIsCutToSixtyCharacters) {
  std::string text;
  for (int i = 0; i < 70; ++i) text += "ü";
  postings_[0].text = text;
  h_.label = "Ein sehr langer Stapelname über dreißig Zeichen";
  const std::vector<std::string> lines = Lines();
  EXPECT_EQ(Split(lines.at(2), ";").at(13), "\"" + std::string(60, '\xFC') + "\"");
  EXPECT_EQ(Split(lines.at(0), ";").at(16),
            "\"Ein sehr langer Stapelname \xFC"
            "be\"");
}

TEST_F(DatevTest, SameInputGivesSameBytes) {
  Result<std::string> a = RenderDatevExtf(h_, postings_);
  Result<std::string> b = RenderDatevExtf(h_, postings_);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(*a, *b);
}

TEST_F(DatevTest, NonPositiveAmountIsRefused) {
  postings_[0].amount = 0;
  ExpectRefused("posting 1: amount must be positive");
  postings_[0].amount = -100;
  ExpectRefused("posting 1: amount must be positive, got -1.00");
}

TEST_F(DatevTest, DateOutsideThePeriodIsRefused) {
  postings_.push_back(postings_[0]);
  postings_[1].date = 20261201;
  ExpectRefused("posting 2: date 20261201 outside 20261101..20261130");
  postings_[1].date = 20261131;
  ExpectRefused("posting 2: date 20261131 outside");
}

TEST_F(DatevTest, LongOrStrangeDocumentNumberIsRefused) {
  postings_[0].document = std::string(37, 'A');
  ExpectRefused("posting 1: document number longer than 36 characters");
  postings_[0].document = std::string(36, 'A');
  EXPECT_TRUE(RenderDatevExtf(h_, postings_).ok());
  postings_[0].document = "R 2026_1";
  ExpectRefused("document number 'R 2026_1' has a character DATEV refuses");
}

TEST_F(DatevTest, LongCostCenterIsRefused) {
  postings_[0].cost_center = std::string(37, '1');
  ExpectRefused("cost center longer than 36 characters");
}

TEST_F(DatevTest, PeriodAcrossFiscalYearsIsRefused) {
  h_.from = 20251215;
  ExpectRefused("are not in the same fiscal year starting 20260101");
  h_.fiscal_year_start = 20260701;
  h_.from = 20260701;
  h_.to = 20270630;
  ExpectRefused("not in the same calendar year");
  h_.from = 20261130;
  h_.to = 20261101;
  ExpectRefused("from 20261130 is after to 20261101");
}

TEST_F(DatevTest, MalformedHeaderIsRefused) {
  h_.consultant = "12";
  ExpectRefused("consultant (Beraternummer) '12'");
  h_.consultant = "1001";
  h_.fiscal_year_start = 20260230;
  ExpectRefused("header date 20260230 is not a YYYYMMDD day");
}

TEST(Utf8ToWindows1252Test, UnmappableCharactersAndBrokenBytesBecomeQuestionMarks) {
  EXPECT_EQ(Utf8ToWindows1252("a→b😀c"), "a?b?c");
  EXPECT_EQ(Utf8ToWindows1252("x\xC3(y"), "x?(y");
  EXPECT_EQ(Utf8ToWindows1252("\xFF"), "?");
  EXPECT_EQ(Utf8ToWindows1252("„Gänsefüßchen“ – 5 €"),
            "\x84G\xE4nsef\xFC\xDF"
            "chen\x93 \x96 5 \x80");
  EXPECT_EQ(Utf8ToWindows1252("Produkt 1.1 · KSt"), "Produkt 1.1 \xB7 KSt");
}

}  // namespace
}  // namespace saalbuch::formats
