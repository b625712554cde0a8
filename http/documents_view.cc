#include "http/documents_view.h"

#include <optional>

#include "common/time.h"
#include "formats/csv.h"
#include "formats/einvoice.h"
#include "formats/journal.h"

namespace saalbuch::http {

using nlohmann::json;

namespace {

formats::Issuer IssuerOf(const json& settings) {
  formats::Issuer out;
  for (const auto& l : settings.value("letterhead", json::array()))
    out.letterhead.push_back(l.get<std::string>());
  out.currency = settings.value("currency", "EUR");
  const json ei = settings.value("einvoice", json::object());
  formats::EInvoiceSeller& s = out.seller;
  for (auto [name, field] : {std::pair{"name", &s.name},
                             {"street", &s.street},
                             {"postcode", &s.postcode},
                             {"city", &s.city},
                             {"country", &s.country},
                             {"vat_id", &s.vat_id},
                             {"tax_number", &s.tax_number},
                             {"seller_id", &s.seller_id},
                             {"iban", &s.iban},
                             {"bic", &s.bic},
                             {"account_holder", &s.account_holder},
                             {"tax_exempt_category", &s.tax_exempt_category},
                             {"tax_exempt_reason", &s.tax_exempt_reason}}) {
    *field = ei.value(name, "");
  }
  return out;
}

std::vector<formats::DocumentLine> LinesOf(const json& doc) {
  std::vector<formats::DocumentLine> out;
  for (const auto& l : doc.value("lines", json::array())) {
    formats::DocumentLine d;
    d.description = l.value("description", "");
    d.quantity_milli = l.value("quantity_milli", std::int64_t{0});
    d.unit = l.value("unit", "booking");
    d.net = l.value("net", std::int64_t{0});
    d.tax = l.value("tax", std::int64_t{0});
    d.gross = l.value("gross", std::int64_t{0});
    d.tax_rate_bp = l.value("tax_rate_bp", 0);
    d.product = l.value("product", "");
    d.cost_center = l.value("cost_center", "");
    out.push_back(std::move(d));
  }
  return out;
}

std::vector<formats::JournalEntry> EntriesOf(const std::vector<json>& entries) {
  std::vector<formats::JournalEntry> out;
  out.reserve(entries.size());
  for (const auto& e : entries) {
    formats::JournalEntry j;
    j.seq = e.value("seq", std::int64_t{0});
    j.date = ParseLocalDay(e.value("date", "")).value_or(0);
    j.document = e.value("document", "");
    j.text = e.value("text", "");
    j.cost_center = e.value("cost_center", "");
    for (const auto& l : e.at("lines")) {
      formats::JournalLine line;
      line.account = l.value("account", "");
      line.debit = l.value("debit", std::int64_t{0});
      line.credit = l.value("credit", std::int64_t{0});
      line.tax = l.value("tax", std::int64_t{0});
      line.tax_line = l.value("tax_line", false);
      line.cost_center = l.value("cost_center", "");
      j.lines.push_back(std::move(line));
    }
    out.push_back(std::move(j));
  }
  return out;
}

// The recipient an invoice document names (opened by Edge::RevealRecipient).
std::optional<formats::Recipient> RecipientOf(const json& invoice) {
  const json r = invoice.is_object() ? invoice.value("recipient", json::object()) : json::object();
  if (!r.contains("name")) return std::nullopt;
  return formats::Recipient{r.value("name", ""), r.value("street", ""),    r.value("postcode", ""),
                            r.value("city", ""), r.value("country", "DE"), r.value("leitweg_id", "")};
}

formats::Invoice InvoiceOf(const json& invoice) {
  formats::Invoice inv;
  inv.number = invoice.value("number", "");
  inv.issued_at_us = invoice.value("issued_at_us", TimeUs{0});
  if (auto due = ParseRfc3339(invoice.value("due", "")); due.ok()) inv.due_us = *due;
  inv.customer = invoice.value("customer", "");
  inv.recipient = RecipientOf(invoice);
  inv.lines = LinesOf(invoice);
  inv.net = invoice.value("net", std::int64_t{0});
  inv.tax = invoice.value("tax", std::int64_t{0});
  inv.gross = invoice.value("gross", std::int64_t{0});
  inv.currency = invoice.value("currency", "EUR");
  inv.kassenzeichen = invoice.value("kassenzeichen", "");
  return inv;
}

std::optional<formats::InvoicedBooking> BookingOf(const json& booking) {
  if (booking.is_null()) return std::nullopt;
  return formats::InvoicedBooking{booking.value("number", ""),
                                  booking.value("resource", ""),
                                  {booking.value("start_us", TimeUs{0}), booking.value("end_us", TimeUs{0})}};
}

formats::CreditNote CreditNoteOf(const json& credit_note) {
  formats::CreditNote c;
  c.number = credit_note.value("number", "");
  c.issued_at_us = credit_note.value("issued_at_us", TimeUs{0});
  c.invoice_number = credit_note.value("invoice_number", "");
  c.reason = credit_note.value("reason", "");
  c.lines = LinesOf(credit_note);
  c.net = credit_note.value("net", std::int64_t{0});
  c.tax = credit_note.value("tax", std::int64_t{0});
  c.gross = credit_note.value("gross", std::int64_t{0});
  return c;
}

// The buyer as the invoice names it: its recipient (name and address), or
// else its customer, or else the booker by name (Edge::RevealContactName),
// in the seller's country.
formats::EInvoiceBuyer BuyerOf(const json& invoice) {
  const json r = invoice.value("recipient", json::object());
  if (!r.contains("name")) {
    const std::string customer = invoice.value("customer", "");
    return {customer.empty() ? invoice.value("contact_name", "") : customer, "", ""};
  }
  return {r.value("name", ""),   r.value("leitweg_id", ""), r.value("country", "DE"),
          r.value("street", ""), r.value("postcode", ""),   r.value("city", "")};
}

}  // namespace

PdfDocument InvoicePdf(const json& settings, const json& invoice, const json& booking, const Zone* zone) {
  return formats::InvoicePdf(IssuerOf(settings), InvoiceOf(invoice), BookingOf(booking), zone);
}

PdfDocument CreditNotePdf(const json& settings, const json& credit_note, const json& invoice,
                          const Zone* zone) {
  formats::CreditNote c = CreditNoteOf(credit_note);
  c.recipient = RecipientOf(invoice);
  return formats::CreditNotePdf(IssuerOf(settings), c, zone);
}

Result<std::string> InvoiceCii(const json& settings, const json& invoice, const json& booking,
                               const Zone* zone) {
  return formats::InvoiceCii(IssuerOf(settings), InvoiceOf(invoice), BuyerOf(invoice), BookingOf(booking),
                             zone);
}

Result<std::string> CreditNoteCii(const json& settings, const json& credit_note, const json& invoice,
                                  const Zone* zone) {
  return formats::CreditNoteCii(IssuerOf(settings), CreditNoteOf(credit_note), BuyerOf(invoice),
                                invoice.is_null() ? TimeUs{0} : invoice.value("issued_at_us", TimeUs{0}),
                                zone);
}

PdfDocument ReceiptPdf(const json& settings, const json& payment, const json& invoice, const Zone* zone) {
  formats::Receipt r;
  r.number = payment.value("receipt", "");
  r.recorded_at_us = payment.value("recorded_at_us", TimeUs{0});
  r.received_at_us = payment.value("received_at_us", TimeUs{0});
  r.invoice_number = payment.value("invoice_number", "");
  r.amount = payment.value("amount", std::int64_t{0});
  r.currency = payment.value("currency", "EUR");
  r.method = payment.value("method", "");
  r.ref = payment.value("ref", "");
  if (!invoice.is_null()) {
    r.kassenzeichen = invoice.value("kassenzeichen", "");
    r.invoice_lines = LinesOf(invoice);
  }
  return formats::ReceiptPdf(IssuerOf(settings), r, zone);
}

Result<std::vector<DatevPosting>> DatevPostings(const std::vector<json>& entries) {
  return formats::DatevPostings(EntriesOf(entries));
}

std::string JournalCsv(const std::vector<json>& entries) { return formats::JournalCsv(EntriesOf(entries)); }

std::string OpenItemsCsv(const json& items) {
  std::vector<formats::OpenItem> out;
  for (const auto& i : items) {
    formats::OpenItem o;
    o.number = i.value("number", "");
    o.customer = i.value("customer", "");
    o.due = ParseRfc3339(i.value("due", "")).value_or(0);
    o.gross = i.value("gross", std::int64_t{0});
    o.open = i.value("open", std::int64_t{0});
    o.currency = i.value("currency", "");
    o.kassenzeichen = i.value("kassenzeichen", "");
    if (auto r = RecipientOf(i)) o.recipient = r->name;
    out.push_back(std::move(o));
  }
  return formats::OpenItemsCsv(out);
}

std::string FunnelCsv(const json& items) {
  std::vector<formats::FunnelRow> rows;
  for (const auto& i : items) {
    formats::FunnelRow r;
    r.month = i.value("month", "");
    r.resource = i.value("resource", "");
    r.views = i.value("views", std::int64_t{0});
    r.attempts = i.value("attempts", std::int64_t{0});
    r.refused = i.value("refused_total", std::int64_t{0});
    r.booked = i.value("booked", std::int64_t{0});
    r.paid = i.value("paid", std::int64_t{0});
    const json refused = i.value("refused", json::object());
    for (const auto& [code, n] : refused.items()) {
      r.refusals.emplace_back(code, n.get<std::int64_t>());
    }
    rows.push_back(std::move(r));
  }
  return formats::FunnelCsv(rows);
}

std::string UsageCsv(const json& items) {
  std::vector<formats::UsageRow> rows;
  for (const auto& i : items) {
    formats::UsageRow r;
    r.month = i.value("month", "");
    r.resource = i.value("resource", "");
    r.group = i.value("group", "");
    for (auto [name, field] : {std::pair{"placed", &r.placed},
                               {"bookings", &r.bookings},
                               {"booked_minutes", &r.booked_minutes},
                               {"unit_minutes", &r.unit_minutes},
                               {"approved", &r.approved},
                               {"rejected", &r.rejected},
                               {"expired", &r.expired},
                               {"cancelled", &r.cancelled},
                               {"no_show", &r.no_show}}) {
      *field = i.value(name, std::int64_t{0});
    }
    const json revenue = i.value("revenue", json::object());
    r.net = revenue.value("net", std::int64_t{0});
    r.gross = revenue.value("gross", std::int64_t{0});
    r.currency = revenue.value("currency", "");
    if (i.contains("open_minutes") && i["open_minutes"].is_number()) r.open_minutes = i["open_minutes"];
    if (i.contains("capacity") && i["capacity"].is_number()) r.capacity = i["capacity"];
    if (i.contains("utilisation") && i["utilisation"].is_number()) r.utilisation = i["utilisation"];
    rows.push_back(std::move(r));
  }
  return formats::UsageCsv(rows);
}

}  // namespace saalbuch::http
