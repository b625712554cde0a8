#include "http/documents.h"

#include "common/money.h"
#include "common/time.h"

namespace saalbuch::http {

using nlohmann::json;

namespace {

std::string LocalDayText(TimeUs t, const date::time_zone* zone) {
  return GermanDate(FormatLocalDay(LocalDayOf(t, zone)));
}

// "HH:MM" of `t` in `zone` (FormatLocal gives RFC 3339 with offset).
std::string ClockText(TimeUs t, const date::time_zone* zone) { return FormatLocal(t, zone).substr(11, 5); }

std::string Quantity(const json& l) {
  const std::int64_t q = l.value("quantity_milli", std::int64_t{0});
  const std::string unit = l.value("unit", "booking");
  std::string n = FormatDecimalDe(q / 10);  // thousandths → hundredths, German decimals
  if (n.size() > 3 && n.substr(n.size() - 3) == ",00") n.resize(n.size() - 3);
  if (unit == "hour") return n + " Std.";
  if (unit == "unit") return n + " Stk.";
  return n + " pauschal";
}

std::vector<PdfLine> Lines(const json& doc) {
  std::vector<PdfLine> out;
  for (const auto& l : doc.value("lines", json::array())) {
    PdfLine p;
    p.description = l.value("description", "");
    p.quantity = Quantity(l);
    p.net = l.value("net", std::int64_t{0});
    p.tax = l.value("tax", std::int64_t{0});
    p.gross = l.value("gross", std::int64_t{0});
    p.tax_rate_bp = l.value("tax_rate_bp", 0);
    std::string budget;
    if (!l.value("product", "").empty()) budget = "Produkt " + l.value("product", "");
    if (!l.value("cost_center", "").empty()) {
      budget += (budget.empty() ? "" : " · ") + std::string("KSt ") + l.value("cost_center", "");
    }
    p.budget = budget;
    out.push_back(std::move(p));
  }
  return out;
}

std::vector<std::string> Letterhead(const json& settings) {
  std::vector<std::string> out;
  for (const auto& l : settings.value("letterhead", json::array())) out.push_back(l.get<std::string>());
  return out;
}

// DATEV's Belegfeld 1 takes A-Z a-z 0-9 $ & % * + - / only.
std::string DatevDocument(const std::string& s) {
  std::string out;
  for (char ch : s.substr(0, 36)) {
    const bool ok = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
                    ch == '$' || ch == '&' || ch == '%' || ch == '*' || ch == '+' || ch == '-' || ch == '/';
    out.push_back(ok ? ch : '-');
  }
  return out;
}

int DayNumber(const std::string& iso) {  // "2026-11-22" → 20261122
  return std::stoi(iso.substr(0, 4)) * 10000 + std::stoi(iso.substr(5, 2)) * 100 +
         std::stoi(iso.substr(8, 2));
}

std::string CsvField(const std::string& s) {
  if (s.find_first_of(";\"\r\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char ch : s) {
    if (ch == '"') out += '"';
    out += ch;
  }
  return out + "\"";
}

}  // namespace

std::string GermanDate(const std::string& iso_day) {
  if (iso_day.size() != 10) return iso_day;
  return iso_day.substr(8, 2) + "." + iso_day.substr(5, 2) + "." + iso_day.substr(0, 4);
}

PdfDocument InvoicePdf(const json& settings, const json& invoice, const json& booking,
                       const date::time_zone* zone) {
  PdfDocument d;
  d.title = "Rechnung";
  d.number = invoice.value("number", "");
  const TimeUs issued = invoice.value("issued_at_us", TimeUs{0});
  d.issued_on = LocalDayText(issued, zone);
  auto due = ParseRfc3339(invoice.value("due", ""));
  if (due.ok()) d.due_on = LocalDayText(*due, zone);
  d.letterhead = Letterhead(settings);
  if (!invoice.value("customer", "").empty()) d.recipient = {"Kunde " + invoice.value("customer", "")};
  if (!booking.is_null()) {
    d.intro.push_back("Buchung " + booking.value("number", "") + ", " + booking.value("resource", ""));
    const TimeUs start = booking.value("start_us", TimeUs{0}), end = booking.value("end_us", TimeUs{0});
    d.intro.push_back("Zeitraum " + LocalDayText(start, zone) + " " + ClockText(start, zone) + " – " +
                      LocalDayText(end, zone) + " " + ClockText(end, zone));
  }
  d.lines = Lines(invoice);
  d.total_net = invoice.value("net", std::int64_t{0});
  d.total_tax = invoice.value("tax", std::int64_t{0});
  d.total_gross = invoice.value("gross", std::int64_t{0});
  d.currency = invoice.value("currency", "EUR");
  d.footer.push_back("Kassenzeichen: " + invoice.value("kassenzeichen", ""));
  if (!d.due_on.empty()) {
    d.footer.push_back("Bitte zahlen Sie bis zum " + d.due_on + " unter Angabe des Kassenzeichens.");
  }
  d.created_at_us = issued;
  return d;
}

PdfDocument CreditNotePdf(const json& settings, const json& credit_note, const date::time_zone* zone) {
  PdfDocument d;
  d.title = "Gutschrift (Storno)";
  d.number = credit_note.value("number", "");
  const TimeUs issued = credit_note.value("issued_at_us", TimeUs{0});
  d.issued_on = LocalDayText(issued, zone);
  d.related = "zu Rechnung " + credit_note.value("invoice_number", "");
  d.letterhead = Letterhead(settings);
  if (!credit_note.value("reason", "").empty())
    d.intro.push_back("Grund: " + credit_note.value("reason", ""));
  d.lines = Lines(credit_note);
  d.total_net = credit_note.value("net", std::int64_t{0});
  d.total_tax = credit_note.value("tax", std::int64_t{0});
  d.total_gross = credit_note.value("gross", std::int64_t{0});
  d.currency = settings.value("currency", "EUR");
  d.footer.push_back("Der Betrag mindert die Forderung aus Rechnung " +
                     credit_note.value("invoice_number", "") + "; bereits Gezahltes wird erstattet.");
  d.created_at_us = issued;
  return d;
}

PdfDocument ReceiptPdf(const json& settings, const json& payment, const json& invoice,
                       const date::time_zone* zone) {
  PdfDocument d;
  d.title = "Zahlungsbeleg";
  d.number = payment.value("receipt", "");
  const TimeUs recorded = payment.value("recorded_at_us", TimeUs{0});
  d.issued_on = LocalDayText(recorded, zone);
  d.related = "zu Rechnung " + payment.value("invoice_number", "");
  d.letterhead = Letterhead(settings);
  const std::int64_t amount = payment.value("amount", std::int64_t{0});
  d.total_gross = amount;
  d.total_net = amount;  // a receipt shows money received, not a taxable supply
  d.currency = payment.value("currency", "EUR");
  const std::string method = payment.value("method", "");
  d.intro.push_back("Zahlungsart: " + std::string(method == "provider"        ? "Online-Zahlung"
                                                  : method == "bank_transfer" ? "Überweisung"
                                                                              : "Barzahlung"));
  d.intro.push_back("Referenz: " + payment.value("ref", ""));
  d.footer.push_back("Betrag erhalten am " + LocalDayText(payment.value("received_at_us", TimeUs{0}), zone) +
                     ": " + FormatDecimalDe(amount) + " " + d.currency);
  if (!invoice.is_null()) d.footer.push_back("Kassenzeichen: " + invoice.value("kassenzeichen", ""));
  d.created_at_us = recorded;
  return d;
}

Result<std::vector<DatevPosting>> DatevPostings(const std::vector<json>& entries) {
  std::vector<DatevPosting> out;
  for (const auto& e : entries) {
    std::vector<json> debits, credits;
    for (const auto& l : e.at("lines")) {
      (l.value("debit", std::int64_t{0}) > 0 ? debits : credits).push_back(l);
    }
    const bool one_debit = debits.size() == 1;
    if (!one_debit && credits.size() != 1) {
      return Status(StatusCode::kInvalidArgument, "journal entry " + e.value("document", "") +
                                                      " has several lines on both sides; DATEV needs pairs");
    }
    const json& one = one_debit ? debits.front() : credits.front();
    for (const auto& other : one_debit ? credits : debits) {
      DatevPosting p;
      p.amount = other.value(one_debit ? "credit" : "debit", std::int64_t{0});
      p.debit = one_debit;
      p.account = one.value("account", "");
      p.contra = other.value("account", "");
      p.date = DayNumber(e.value("date", "1970-01-01"));
      p.document = DatevDocument(e.value("document", ""));
      p.text = e.value("text", "");
      p.cost_center = e.value("cost_center", "");
      out.push_back(std::move(p));
    }
  }
  return out;
}

std::string JournalCsv(const std::vector<json>& entries) {
  std::string out = "date;document;text;account;debit;credit;position\r\n";
  for (const auto& e : entries) {
    for (const auto& l : e.at("lines")) {
      out += e.value("date", "") + ";" + CsvField(e.value("document", "")) + ";" +
             CsvField(e.value("text", "")) + ";" + l.value("account", "") + ";" +
             FormatDecimal(l.value("debit", std::int64_t{0})) + ";" +
             FormatDecimal(l.value("credit", std::int64_t{0})) + ";" + std::to_string(e.value("seq", 0)) +
             "\r\n";
    }
  }
  return out;
}

std::string OpenItemsCsv(const json& items) {
  std::string out = "number;customer;due;gross;open;currency;kassenzeichen\r\n";
  for (const auto& i : items) {
    out += CsvField(i.value("number", "")) + ";" + CsvField(i.value("customer", "")) + ";" +
           i.value("due", "") + ";" + FormatDecimal(i.value("gross", std::int64_t{0})) + ";" +
           FormatDecimal(i.value("open", std::int64_t{0})) + ";" + i.value("currency", "") + ";" +
           CsvField(i.value("kassenzeichen", "")) + "\r\n";
  }
  return out;
}

}  // namespace saalbuch::http
