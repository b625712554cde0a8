// Finance documents and exports rendered from the finance projection's JSON
// (projections/finance_queries.cc): invoices, credit notes and receipts as
// PDF (http/pdf.h), the journal as DATEV Buchungsstapel (http/datev.h) and
// as plain CSV, open items as CSV. Pure functions: the same documents give
// the same bytes, so a PDF can be reproduced from the log at any time.
#pragma once

#include <date/tz.h>
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "common/result.h"
#include "http/datev.h"
#include "http/pdf.h"

namespace saalbuch::http {

// `settings`: QueryFinanceSettings; `booking`: QueryFinanceBooking (may be
// null); `invoice`: the invoice document.
PdfDocument InvoicePdf(const nlohmann::json& settings, const nlohmann::json& invoice,
                       const nlohmann::json& booking, const date::time_zone* zone);
PdfDocument CreditNotePdf(const nlohmann::json& settings, const nlohmann::json& credit_note,
                          const date::time_zone* zone);
PdfDocument ReceiptPdf(const nlohmann::json& settings, const nlohmann::json& payment,
                       const nlohmann::json& invoice, const date::time_zone* zone);

// Journal entries (QueryJournal items) as DATEV postings: each entry pairs
// its one line on one side with each line on the other.
Result<std::vector<DatevPosting>> DatevPostings(const std::vector<nlohmann::json>& entries);

// "date;document;text;account;debit;credit;position" with decimal points,
// one row per entry line, UTF-8, CRLF.
std::string JournalCsv(const std::vector<nlohmann::json>& entries);
// "number;customer;due;gross;open;currency;kassenzeichen".
std::string OpenItemsCsv(const nlohmann::json& items);

// "2026-11-22" → "22.11.2026".
std::string GermanDate(const std::string& iso_day);

}  // namespace saalbuch::http
