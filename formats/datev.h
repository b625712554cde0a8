// DATEV "Buchungsstapel" export (DATEV-Format / EXTF, header version 700,
// format category 21, format version 13): the file a tax office or the
// municipality's finance department imports into DATEV Rechnungswesen.
//
// Layout of the file (DATEV's Formatbeschreibung on developer.datev.de):
//   file    = header CRLF headings CRLF *(row CRLF)
//   header  = 31 ';'-separated fields: "EXTF";700;21;"Buchungsstapel";13;
//             created (YYYYMMDDHHMMSSFFF);Importiert;"Herkunft";
//             "Exportiert von";"Importiert von";Berater;Mandant;WJ-Beginn;
//             Sachkontenlänge;Datum vom;Datum bis;"Bezeichnung";
//             "Diktatkürzel";Buchungstyp;Rechnungslegungszweck;
//             Festschreibung;"WKZ";reserviert;"Derivatskennzeichen";
//             reserviert;reserviert;"SKR";Branchenlösungs-ID;reserviert;
//             "reserviert";"Anwendungsinformation"
//   headings= the 125 column names of format version 13, as DATEV's samples
//             spell them
//   row     = 125 fields; text fields in double quotes with '"' doubled,
//             amounts "1234,56" (decimal comma, no thousands separator),
//             Belegdatum DDMM (the year comes from Datum vom/bis)
// Encoding Windows-1252 without BOM, DATEV's default character set.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "formats/journal.h"

namespace saalbuch::formats {

struct DatevHeader {
  std::string consultant = "1001";  // Beraternummer, 1001..9999999
  std::string client = "1";         // Mandantennummer, 1..99999
  int fiscal_year_start = 0;        // YYYYMMDD (Wirtschaftsjahresbeginn)
  int account_length = 4;           // Sachkontenlänge, 4..8
  int from = 0;                     // YYYYMMDD, first day covered
  int to = 0;                       // YYYYMMDD, last day covered
  std::string label;                // Bezeichnung, cut to 30 characters
  std::string currency = "EUR";
  std::int64_t created_at_us = 0;  // "Erzeugt am" (UTC µs); given by the caller so the file is reproducible
  // Added beyond the finance feature's first draft; the defaults are right
  // for an export the tax office reviews before it is final.
  std::string origin = "SB";             // Herkunft, 2 letters (DATEV replaces it with "SV" on import)
  std::string exported_by = "Saalbuch";  // Exportiert von, cut to 25 characters
  std::string chart;                     // Sachkontenrahmen "03" (SKR03), "04" (SKR04), or empty: unknown
  bool locked = false;                   // Festschreibung: true makes the postings unchangeable in DATEV
};

struct DatevPosting {
  std::int64_t amount = 0;  // minor units, > 0 (Umsatz ohne Soll/Haben-Kz)
  bool debit = true;        // Soll/Haben-Kennzeichen: S when true, H otherwise (relative to `account`)
  std::string account;      // Konto, 1..9 digits
  std::string contra;       // Gegenkonto (ohne BU-Schlüssel), 1..9 digits
  std::string tax_key;      // BU-Schlüssel; may be empty, else 1..4 digits
  int date = 0;             // YYYYMMDD (Belegdatum, rendered DDMM)
  std::string document;     // Belegfeld 1, at most 36 chars of A-Z a-z 0-9 $ & % * + - / (DATEV's set)
  std::string text;         // Buchungstext, cut to 60 chars
  std::string cost_center;  // KOST1 - Kostenstelle, at most 36 chars
};

// The whole file as DATEV expects it (see the grammar above), one row per
// posting in the given order with every column present (empty where unused).
// Text that Windows-1252 cannot hold becomes '?'; line breaks and tabs in
// texts become spaces.
// Errors (kInvalidArgument, naming the posting by its 1-based position):
// amount <= 0, a date that is not a day or lies outside [from, to], a
// document number longer than 36 or with other characters, a cost center
// longer than 36, an account that is not 1..9 digits, a malformed header
// (consultant, client, account length, dates), from > to, from/to not in the
// same fiscal year or (because Belegdatum has no year) calendar year.
Result<std::string> RenderDatevExtf(const DatevHeader& h, const std::vector<DatevPosting>& postings);

// Journal entries as postings, in order: each entry pairs its one line on
// one side with each line on the other (a split entry becomes several
// postings, `debit` telling the one line's side). Revenue goes gross onto
// its account and tax lines are left out: the revenue accounts are DATEV
// automatic accounts (SKR03 8400 19 %, 8300 7 %), from whose gross DATEV
// computes and posts the tax itself, so no BU key is given (one on an
// automatic account is an error) and no tax row (DATEV would count the tax
// twice). Belegfeld 1 is the entry's document number cut to 36 characters,
// each character outside DATEV's set replaced by '-'; Buchungstext is the
// entry's text; KOST1 the line's cost center, else the entry's.
// Errors (kInvalidArgument, naming the document): an entry with no line or
// with several lines on both sides (DATEV needs pairs).
Result<std::vector<DatevPosting>> DatevPostings(const std::vector<JournalEntry>& entries);

// UTF-8 to Windows-1252 (a table of the 27 characters 0x80-0x9F hold, the
// rest is Latin-1); characters it cannot hold and malformed UTF-8 bytes
// become '?'.
std::string Utf8ToWindows1252(std::string_view utf8);

}  // namespace saalbuch::formats
