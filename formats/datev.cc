#include "formats/datev.h"

#include <array>
#include <chrono>
#include <cstdio>

#include "common/money.h"
#include "common/time.h"

namespace saalbuch::formats {
namespace {

// Format version 13, from line 2 of DATEV's sample Buchungsstapel
// (Musterdaten DATEV-Format, developer.datev.de). The importer reads columns
// by position, so the order is what matters; the spelling follows DATEV.
constexpr std::array<std::string_view, 125> kColumns = {
    "Umsatz (ohne Soll/Haben-Kz)", "Soll/Haben-Kennzeichen", "WKZ Umsatz", "Kurs", "Basis-Umsatz",
    "WKZ Basis-Umsatz", "Konto", "Gegenkonto (ohne BU-Schlüssel)", "BU-Schlüssel", "Belegdatum",
    "Belegfeld 1", "Belegfeld 2", "Skonto", "Buchungstext", "Postensperre", "Diverse Adressnummer",
    "Geschäftspartnerbank", "Sachverhalt", "Zinssperre", "Beleglink", "Beleginfo - Art 1",
    "Beleginfo - Inhalt 1", "Beleginfo - Art 2", "Beleginfo - Inhalt 2", "Beleginfo - Art 3",
    "Beleginfo - Inhalt 3", "Beleginfo - Art 4", "Beleginfo - Inhalt 4", "Beleginfo - Art 5",
    "Beleginfo - Inhalt 5", "Beleginfo - Art 6", "Beleginfo - Inhalt 6", "Beleginfo - Art 7",
    "Beleginfo - Inhalt 7", "Beleginfo - Art 8", "Beleginfo - Inhalt 8", "KOST1 - Kostenstelle",
    "KOST2 - Kostenstelle", "Kost-Menge", "EU-Land u. UStID (Bestimmung)", "EU-Steuersatz (Bestimmung)",
    "Abw. Versteuerungsart", "Sachverhalt L+L", "Funktionsergänzung L+L", "BU 49 Hauptfunktionstyp",
    "BU 49 Hauptfunktionsnummer", "BU 49 Funktionsergänzung",
    // Zusatzinformation - Art/Inhalt 1..20 follow; DATEV writes "Inhalt" without a space before '-'.
    "Zusatzinformation - Art 1", "Zusatzinformation- Inhalt 1", "Zusatzinformation - Art 2",
    "Zusatzinformation- Inhalt 2", "Zusatzinformation - Art 3", "Zusatzinformation- Inhalt 3",
    "Zusatzinformation - Art 4", "Zusatzinformation- Inhalt 4", "Zusatzinformation - Art 5",
    "Zusatzinformation- Inhalt 5", "Zusatzinformation - Art 6", "Zusatzinformation- Inhalt 6",
    "Zusatzinformation - Art 7", "Zusatzinformation- Inhalt 7", "Zusatzinformation - Art 8",
    "Zusatzinformation- Inhalt 8", "Zusatzinformation - Art 9", "Zusatzinformation- Inhalt 9",
    "Zusatzinformation - Art 10", "Zusatzinformation- Inhalt 10", "Zusatzinformation - Art 11",
    "Zusatzinformation- Inhalt 11", "Zusatzinformation - Art 12", "Zusatzinformation- Inhalt 12",
    "Zusatzinformation - Art 13", "Zusatzinformation- Inhalt 13", "Zusatzinformation - Art 14",
    "Zusatzinformation- Inhalt 14", "Zusatzinformation - Art 15", "Zusatzinformation- Inhalt 15",
    "Zusatzinformation - Art 16", "Zusatzinformation- Inhalt 16", "Zusatzinformation - Art 17",
    "Zusatzinformation- Inhalt 17", "Zusatzinformation - Art 18", "Zusatzinformation- Inhalt 18",
    "Zusatzinformation - Art 19", "Zusatzinformation- Inhalt 19", "Zusatzinformation - Art 20",
    "Zusatzinformation- Inhalt 20", "Stück", "Gewicht", "Zahlweise", "Forderungsart", "Veranlagungsjahr",
    "Zugeordnete Fälligkeit", "Skontotyp", "Auftragsnummer", "Buchungstyp", "USt-Schlüssel (Anzahlungen)",
    "EU-Land (Anzahlungen)", "Sachverhalt L+L (Anzahlungen)", "EU-Steuersatz (Anzahlungen)",
    "Erlöskonto (Anzahlungen)", "Herkunft-Kz", "Buchungs GUID", "KOST-Datum", "SEPA-Mandatsreferenz",
    "Skontosperre", "Gesellschaftername", "Beteiligtennummer", "Identifikationsnummer", "Zeichnernummer",
    "Postensperre bis", "Bezeichnung SoBil-Sachverhalt", "Kennzeichen SoBil-Buchung", "Festschreibung",
    "Leistungsdatum", "Datum Zuord. Steuerperiode", "Fälligkeit", "Generalumkehr (GU)", "Steuersatz", "Land",
    "Abrechnungsreferenz", "BVV-Position", "EU-Land u. UStID (Ursprung)", "EU-Steuersatz (Ursprung)",
    "Abw. Skontokonto"};

// 0-based positions of the columns we fill.
enum : std::size_t {
  kAmount = 0,
  kSide = 1,
  kAccount = 6,
  kContra = 7,
  kTaxKey = 8,
  kDate = 9,
  kDocument = 10,
  kText = 13,
  kCostCenter = 36
};

Status Bad(const std::string& what) { return {StatusCode::kInvalidArgument, what}; }

// Windows-1252 holds these characters in 0x80-0x9F, where Latin-1 has C1
// controls; 0x81, 0x8D, 0x8F, 0x90 and 0x9D are unassigned.
constexpr std::array<char32_t, 32> kHigh = {0x20AC, 0,      0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
                                            0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0,      0x017D, 0,
                                            0,      0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
                                            0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0,      0x017E, 0x0178};

// Cuts `s` to at most `n` code points without splitting a UTF-8 sequence;
// Windows-1252 has one byte per character, so this is DATEV's length.
std::string CutChars(std::string_view s, std::size_t n) {
  std::size_t chars = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80 && chars++ == n) return std::string(s.substr(0, i));
  }
  return std::string(s);
}

std::size_t CountChars(std::string_view s) {
  std::size_t chars = 0;
  for (char c : s) chars += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return chars;
}

void AppendRow(std::string& out, const auto& fields) {
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (i > 0) out += ';';
    out += fields[i];
  }
  out += "\r\n";
}

// A quoted text field: quotes doubled, and no line breaks or tabs, which
// DATEV refuses inside a field.
std::string Quote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"')
      out += "\"\"";
    else if (c == '\r' || c == '\n' || c == '\t')
      out += ' ';
    else
      out += c;
  }
  return out + "\"";
}

bool IsDay(int yyyymmdd) {
  const std::chrono::year_month_day d{std::chrono::year(yyyymmdd / 10000),
                                      std::chrono::month(static_cast<unsigned>(yyyymmdd / 100 % 100)),
                                      std::chrono::day(static_cast<unsigned>(yyyymmdd % 100))};
  return yyyymmdd >= 19000101 && yyyymmdd <= 99991231 && d.ok();
}

bool IsDigits(std::string_view s, std::size_t min, std::size_t max) {
  if (s.size() < min || s.size() > max) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

bool IsDocumentChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
         std::string_view("$&%*+-/").find(c) != std::string_view::npos;
}

// DATEV's Belegfeld 1 takes A-Z a-z 0-9 $ & % * + - / only.
std::string DocumentField(const std::string& s) {
  std::string out;
  for (char ch : s.substr(0, 36)) out.push_back(IsDocumentChar(ch) ? ch : '-');
  return out;
}

int DayNumber(LocalDay day) {  // → YYYYMMDD
  const date::year_month_day ymd{date::sys_days{date::days{day}}};
  return static_cast<int>(ymd.year()) * 10000 + static_cast<int>(static_cast<unsigned>(ymd.month())) * 100 +
         static_cast<int>(static_cast<unsigned>(ymd.day()));
}

std::string Created(std::int64_t us) {
  using namespace std::chrono;
  const sys_time<microseconds> t{microseconds(us)};
  const sys_days day = floor<days>(t);
  const year_month_day ymd{day};
  const hh_mm_ss<milliseconds> hms{floor<milliseconds>(t - day)};
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d%02u%02u%02d%02d%02d%03d", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                static_cast<int>(hms.seconds().count()), static_cast<int>(hms.subseconds().count()));
  return buf;
}

Status CheckHeader(const DatevHeader& h) {
  if (!IsDigits(h.consultant, 4, 7) || std::stoi(h.consultant) < 1001) {
    return Bad("consultant (Beraternummer) '" + h.consultant + "' is not 1001..9999999");
  }
  if (!IsDigits(h.client, 1, 5) || std::stoi(h.client) < 1) {
    return Bad("client (Mandantennummer) '" + h.client + "' is not 1..99999");
  }
  if (h.account_length < 4 || h.account_length > 8) return Bad("account length must be 4..8");
  if (!IsValidCurrency(h.currency)) return Bad("bad currency '" + h.currency + "'");
  for (int d : {h.fiscal_year_start, h.from, h.to}) {
    if (!IsDay(d)) return Bad("header date " + std::to_string(d) + " is not a YYYYMMDD day");
  }
  if (h.from > h.to) return Bad("from " + std::to_string(h.from) + " is after to " + std::to_string(h.to));
  const int fiscal_end = h.fiscal_year_start + 10000;  // the same day a year later, exclusive
  if (h.from < h.fiscal_year_start || h.to >= fiscal_end) {
    return Bad("from " + std::to_string(h.from) + " and to " + std::to_string(h.to) +
               " are not in the same fiscal year starting " + std::to_string(h.fiscal_year_start));
  }
  if (h.from / 10000 != h.to / 10000) {
    return Bad("from " + std::to_string(h.from) + " and to " + std::to_string(h.to) +
               " are not in the same calendar year (Belegdatum carries no year)");
  }
  return Status::Ok();
}

Status CheckPosting(const DatevHeader& h, const DatevPosting& p, std::size_t n) {
  const std::string at = "posting " + std::to_string(n) + ": ";
  if (p.amount <= 0) return Bad(at + "amount must be positive, got " + FormatDecimal(p.amount));
  if (!IsDay(p.date) || p.date < h.from || p.date > h.to) {
    return Bad(at + "date " + std::to_string(p.date) + " outside " + std::to_string(h.from) + ".." +
               std::to_string(h.to));
  }
  if (p.document.size() > 36) return Bad(at + "document number longer than 36 characters: " + p.document);
  for (char c : p.document) {
    if (!IsDocumentChar(c))
      return Bad(at + "document number '" + p.document + "' has a character DATEV refuses");
  }
  if (CountChars(p.cost_center) > 36) return Bad(at + "cost center longer than 36 characters");
  if (!IsDigits(p.account, 1, 9)) return Bad(at + "account '" + p.account + "' is not 1..9 digits");
  if (!IsDigits(p.contra, 1, 9)) return Bad(at + "contra account '" + p.contra + "' is not 1..9 digits");
  if (!p.tax_key.empty() && !IsDigits(p.tax_key, 1, 4))
    return Bad(at + "tax key '" + p.tax_key + "' is not 1..4 digits");
  return Status::Ok();
}

}  // namespace

Result<std::string> RenderDatevExtf(const DatevHeader& h, const std::vector<DatevPosting>& postings) {
  if (Status s = CheckHeader(h); !s.ok()) return s;
  std::string out;
  // The header line in DATEV's published field order (31 fields).
  const std::vector<std::string> header = {Quote("EXTF"),
                                           "700",
                                           "21",
                                           Quote("Buchungsstapel"),
                                           "13",
                                           Created(h.created_at_us),
                                           "",
                                           Quote(CutChars(h.origin, 2)),
                                           Quote(CutChars(h.exported_by, 25)),
                                           Quote(""),
                                           h.consultant,
                                           h.client,
                                           std::to_string(h.fiscal_year_start),
                                           std::to_string(h.account_length),
                                           std::to_string(h.from),
                                           std::to_string(h.to),
                                           Quote(CutChars(h.label, 30)),
                                           Quote(""),
                                           "1",
                                           "0",
                                           h.locked ? "1" : "0",
                                           Quote(h.currency),
                                           "",
                                           Quote(""),
                                           "",
                                           "",
                                           Quote(h.chart),
                                           "",
                                           "",
                                           Quote(""),
                                           Quote("")};
  AppendRow(out, header);
  AppendRow(out, kColumns);

  for (std::size_t n = 0; n < postings.size(); ++n) {
    const DatevPosting& p = postings[n];
    if (Status s = CheckPosting(h, p, n + 1); !s.ok()) return s;
    std::array<std::string, kColumns.size()> row;
    row[kAmount] = FormatDecimal(p.amount);
    row[kAmount][row[kAmount].find('.')] = ',';  // not replace(): GCC 12 PR 105329 at -O3
    row[kSide] = Quote(p.debit ? "S" : "H");
    row[kAccount] = p.account;
    row[kContra] = p.contra;
    row[kTaxKey] = Quote(p.tax_key);
    char ddmm[8];
    std::snprintf(ddmm, sizeof ddmm, "%02d%02d", p.date % 100, p.date / 100 % 100);
    row[kDate] = ddmm;
    row[kDocument] = Quote(p.document);
    row[kText] = Quote(CutChars(p.text, 60));
    row[kCostCenter] = Quote(p.cost_center);
    AppendRow(out, row);
  }
  return Utf8ToWindows1252(out);
}

Result<std::vector<DatevPosting>> DatevPostings(const std::vector<JournalEntry>& entries) {
  std::vector<DatevPosting> out;
  for (const auto& e : entries) {
    std::vector<const JournalLine*> debits, credits;
    for (const auto& l : e.lines) {
      if (!l.tax_line) (l.debit > 0 ? debits : credits).push_back(&l);
    }
    const bool one_debit = debits.size() == 1;
    if (!one_debit && credits.size() != 1) {
      return Bad("journal entry " + e.document + " has several lines on both sides; DATEV needs pairs");
    }
    const JournalLine& one = one_debit ? *debits.front() : *credits.front();
    for (const JournalLine* other : one_debit ? credits : debits) {
      DatevPosting p;
      p.amount = (one_debit ? other->credit : other->debit) + other->tax;
      p.debit = one_debit;
      p.account = one.account;
      p.contra = other->account;
      p.date = DayNumber(e.date);
      p.document = DocumentField(e.document);
      p.text = e.text;
      p.cost_center = other->cost_center.empty() ? e.cost_center : other->cost_center;
      out.push_back(std::move(p));
    }
  }
  return out;
}

std::string Utf8ToWindows1252(std::string_view utf8) {
  std::string out;
  out.reserve(utf8.size());
  std::size_t i = 0;
  while (i < utf8.size()) {
    const auto b = static_cast<unsigned char>(utf8[i]);
    const std::size_t len = b < 0x80           ? 1
                            : (b >> 5) == 0x6  ? 2
                            : (b >> 4) == 0xE  ? 3
                            : (b >> 3) == 0x1E ? 4
                                               : 0;
    char32_t cp = len == 2 ? b & 0x1F : len == 3 ? b & 0x0F : b & 0x07;
    bool ok = len != 0 && i + len <= utf8.size();
    for (std::size_t k = 1; ok && k < len; ++k) {
      const auto c = static_cast<unsigned char>(utf8[i + k]);
      ok = (c & 0xC0) == 0x80;
      cp = (cp << 6) | (c & 0x3F);
    }
    if (!ok) {  // one '?' per bad byte, then resynchronise on the next
      out += '?';
      ++i;
      continue;
    }
    i += len;
    if (len == 1) {
      out += static_cast<char>(b);
    } else if (cp >= 0xA0 && cp <= 0xFF) {
      out += static_cast<char>(cp);
    } else {
      char mapped = '?';
      for (std::size_t k = 0; k < kHigh.size(); ++k) {
        if (kHigh[k] != 0 && kHigh[k] == cp) mapped = static_cast<char>(0x80 + k);
      }
      out += mapped;
    }
  }
  return out;
}

}  // namespace saalbuch::formats
