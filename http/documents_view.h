// The finance projection's JSON documents (projections/finance_queries.cc)
// read into formats/' plain values, so that handlers can ask for a PDF,
// DATEV postings or a CSV file by handing over what the query returned.
// Also brings the formats' PDF and DATEV names into saalbuch::http.
//
// Missing fields read as empty or zero, as the projection may omit them;
// only a journal entry without "lines" is an error of the caller (it throws,
// as nlohmann::json::at does).
#pragma once

#include <date/tz.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/result.h"
#include "formats/datev.h"
#include "formats/finance_documents.h"
#include "formats/pdf.h"

namespace saalbuch::http {

using formats::DatevHeader;
using formats::DatevPosting;
using formats::GermanDate;
using formats::PdfDocument;
using formats::PdfLine;
using formats::RenderDatevExtf;
using formats::RenderPdf;
using formats::Utf8ToWindows1252;

// `settings`: QueryFinanceSettings; `booking`: QueryFinanceBooking with the
// resource's name in "resource", or null; `invoice`, `credit_note`,
// `payment`: QueryFinanceDoc documents (`invoice` of a receipt may be null).
PdfDocument InvoicePdf(const nlohmann::json& settings, const nlohmann::json& invoice,
                       const nlohmann::json& booking, const Zone* zone);
// `invoice`: the document the credit note reduces (its recipient is named), or null.
PdfDocument CreditNotePdf(const nlohmann::json& settings, const nlohmann::json& credit_note,
                          const nlohmann::json& invoice, const Zone* zone);
PdfDocument ReceiptPdf(const nlohmann::json& settings, const nlohmann::json& payment,
                       const nlohmann::json& invoice, const Zone* zone);

// The same invoice and credit note as EN 16931 e-invoices in CII syntax
// (formats/einvoice.h), seller from the settings' "einvoice" object, buyer
// named by the invoice's customer; `invoice` of a credit note (the one it
// reduces) may be null. kInvalidArgument names what EN 16931 needs and is
// missing, e.g. "einvoice.street is required …".
Result<std::string> InvoiceCii(const nlohmann::json& settings, const nlohmann::json& invoice,
                               const nlohmann::json& booking, const Zone* zone);
Result<std::string> CreditNoteCii(const nlohmann::json& settings, const nlohmann::json& credit_note,
                                  const nlohmann::json& invoice, const Zone* zone);

// Journal entries (QueryJournal items) as DATEV postings (formats::DatevPostings).
Result<std::vector<DatevPosting>> DatevPostings(const std::vector<nlohmann::json>& entries);

// Journal entries (QueryJournal items) as CSV (formats::JournalCsv).
std::string JournalCsv(const std::vector<nlohmann::json>& entries);
// QueryOpenItems' "items" as CSV (formats::OpenItemsCsv).
std::string OpenItemsCsv(const nlohmann::json& items);
// QueryUsage's "items" as CSV (formats::UsageCsv).
std::string UsageCsv(const nlohmann::json& items);
// The funnel's items (projections::QueryFunnel) as formats::FunnelCsv.
std::string FunnelCsv(const nlohmann::json& items);

}  // namespace saalbuch::http
