// Finance documents (invoices, receipts, credit notes) as PDF, drawn with
// cairo and the DejaVu Sans font (Debian fonts-dejavu-core), in memory.
//
// The renderer is pure: the same PdfDocument gives the same bytes, so a
// document can be re-rendered from the log at any time and compared with
// what was sent. Nothing is read from the clock; the PDF's CreationDate and
// ModDate come from `created_at_us`.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"

namespace saalbuch::formats {

struct PdfLine {
  std::string description;
  std::string quantity;                      // already formatted, e.g. "2,5 Std." or "3 Plätze"
  std::int64_t net = 0, tax = 0, gross = 0;  // minor units; net + tax == gross
  std::int32_t tax_rate_bp = 0;              // 1900 = 19 %
  std::string budget;                        // budget codes as printed, e.g. "Produkt 1.1.1.01 · KSt 4711"
};

struct PdfDocument {
  std::string title;                    // "Rechnung", "Zahlungsbeleg", "Gutschrift (Storno)"
  std::string number;                   // "R-2026-000001"
  std::string issued_on;                // "22.11.2026"
  std::string due_on;                   // may be empty
  std::string related;                  // e.g. "zu Rechnung R-2026-000001"; may be empty
  std::vector<std::string> letterhead;  // tenant name, address lines, tax number, IBAN/BIC, contact
  std::vector<std::string> recipient;   // may be empty
  std::vector<std::string> intro;       // e.g. booking number, resource, time range
  std::vector<PdfLine> lines;           // may be empty (a receipt may have none)
  std::int64_t total_net = 0, total_tax = 0, total_gross = 0;
  bool tax_block = true;  // false: the totals show the gross alone, without "Summe netto" and tax
  std::string currency = "EUR";
  std::vector<std::string> footer;  // Kassenzeichen, payment info, "Betrag erhalten am …"
  std::int64_t created_at_us = 0;   // PDF CreationDate/ModDate: the issue time, so the bytes are reproducible
};

// A4, one or more pages: letterhead, recipient and title on the first page;
// the line table flows onto further pages with its header repeated; every
// page numbered "Seite n/N". Amounts right-aligned in German format
// ("1.234,50 €"), then the totals and a tax summary per rate, then the
// footer. Texts are UTF-8; what DejaVu Sans cannot draw shows as a box.
// Same input → byte-identical output.
//
// Errors: kInvalidArgument when the figures disagree (a document must never
// print them): a line whose net + tax != gross, totals where
// total_net + total_tax != total_gross, or, when there are lines, line sums
// that differ from the totals; an unknown currency; a text that is not
// valid UTF-8. kIOError when cairo fails.
Result<std::string> RenderPdf(const PdfDocument& d);

}  // namespace saalbuch::formats
