#include "formats/finance_documents.h"

#include <map>

#include "common/money.h"

namespace saalbuch::formats {
namespace {

std::string LocalDayText(TimeUs t, const Zone* zone) {
  return GermanDate(FormatLocalDay(LocalDayOf(t, zone)));
}

// "HH:MM" of `t` in `zone` (FormatLocal gives RFC 3339 with offset).
std::string ClockText(TimeUs t, const Zone* zone) { return FormatLocal(t, zone).substr(11, 5); }

std::string Quantity(const DocumentLine& l) {
  std::string n = FormatDecimalDe(l.quantity_milli / 10);  // thousandths → hundredths, German decimals
  if (n.size() > 3 && n.substr(n.size() - 3) == ",00") n.resize(n.size() - 3);
  if (l.unit == "hour") return n + " Std.";
  if (l.unit == "unit") return n + " Stk.";
  return n + " pauschal";
}

std::vector<PdfLine> Lines(const std::vector<DocumentLine>& lines) {
  std::vector<PdfLine> out;
  for (const auto& l : lines) {
    PdfLine p;
    p.description = l.description;
    p.quantity = Quantity(l);
    p.net = l.net;
    p.tax = l.tax;
    p.gross = l.gross;
    p.tax_rate_bp = l.tax_rate_bp;
    std::string budget;
    if (!l.product.empty()) budget = "Produkt " + l.product;
    if (!l.cost_center.empty()) budget += (budget.empty() ? "" : " · ") + std::string("KSt ") + l.cost_center;
    p.budget = budget;
    out.push_back(std::move(p));
  }
  return out;
}

// The address block: the recipient's name and address (the country when
// it is not Germany), then the customer id; empty when there is neither.
std::vector<std::string> AddressBlock(const std::optional<Recipient>& r, const std::string& customer) {
  std::vector<std::string> out;
  if (r) {
    out = {r->name, r->street, r->postcode + " " + r->city};
    if (r->country != "DE") out.push_back(r->country);
    if (!r->leitweg_id.empty()) out.push_back("Leitweg-ID " + r->leitweg_id);
  }
  if (!customer.empty()) out.push_back("Kunde " + customer);
  return out;
}

}  // namespace

std::string GermanDate(const std::string& iso_day) {
  if (iso_day.size() != 10) return iso_day;
  return iso_day.substr(8, 2) + "." + iso_day.substr(5, 2) + "." + iso_day.substr(0, 4);
}

PdfDocument InvoicePdf(const Issuer& issuer, const Invoice& invoice,
                       const std::optional<InvoicedBooking>& booking, const Zone* zone) {
  PdfDocument d;
  d.title = "Rechnung";
  d.number = invoice.number;
  d.issued_on = LocalDayText(invoice.issued_at_us, zone);
  if (invoice.due_us) d.due_on = LocalDayText(*invoice.due_us, zone);
  d.letterhead = issuer.letterhead;
  d.recipient = AddressBlock(invoice.recipient, invoice.customer);
  if (booking) {
    d.intro.push_back("Buchung " + booking->number + ", " + booking->resource);
    const TimeUs start = booking->range.start, end = booking->range.end;
    d.intro.push_back("Zeitraum " + LocalDayText(start, zone) + " " + ClockText(start, zone) + " – " +
                      LocalDayText(end, zone) + " " + ClockText(end, zone));
  }
  d.lines = Lines(invoice.lines);
  d.total_net = invoice.net;
  d.total_tax = invoice.tax;
  d.total_gross = invoice.gross;
  d.currency = invoice.currency;
  d.footer.push_back("Kassenzeichen: " + invoice.kassenzeichen);
  if (!d.due_on.empty()) {
    d.footer.push_back("Bitte zahlen Sie bis zum " + d.due_on + " unter Angabe des Kassenzeichens.");
  }
  d.created_at_us = invoice.issued_at_us;
  return d;
}

PdfDocument CreditNotePdf(const Issuer& issuer, const CreditNote& credit_note, const Zone* zone) {
  PdfDocument d;
  d.title = "Gutschrift (Storno)";
  d.number = credit_note.number;
  d.issued_on = LocalDayText(credit_note.issued_at_us, zone);
  d.related = "zu Rechnung " + credit_note.invoice_number;
  d.letterhead = issuer.letterhead;
  d.recipient = AddressBlock(credit_note.recipient, "");
  if (!credit_note.reason.empty()) d.intro.push_back("Grund: " + credit_note.reason);
  d.lines = Lines(credit_note.lines);
  d.total_net = credit_note.net;
  d.total_tax = credit_note.tax;
  d.total_gross = credit_note.gross;
  d.currency = issuer.currency;
  d.footer.push_back("Der Betrag mindert die Forderung aus Rechnung " + credit_note.invoice_number +
                     "; bereits Gezahltes wird erstattet.");
  d.created_at_us = credit_note.issued_at_us;
  return d;
}

PdfDocument ReceiptPdf(const Issuer& issuer, const Receipt& receipt, const Zone* zone) {
  PdfDocument d;
  d.title = "Zahlungsbeleg";
  d.number = receipt.number;
  d.issued_on = LocalDayText(receipt.recorded_at_us, zone);
  d.related = "zu Rechnung " + receipt.invoice_number;
  d.letterhead = issuer.letterhead;
  d.total_gross = receipt.amount;
  d.currency = receipt.currency;
  // The tax contained in what was paid, per rate in proportion to the
  // invoice's gross at that rate (a receipt must never print a wrong tax).
  std::map<std::int32_t, std::pair<std::int64_t, std::int64_t>> by_rate;  // rate → gross, tax
  std::int64_t invoice_gross = 0;
  for (const DocumentLine& l : receipt.invoice_lines) {
    by_rate[l.tax_rate_bp].first += l.gross;
    by_rate[l.tax_rate_bp].second += l.tax;
    invoice_gross += l.gross;
  }
  bool proportional = invoice_gross > 0;
  for (const auto& [rate, gt] : by_rate) proportional = proportional && gt.first > 0;
  if (proportional) {
    std::int64_t left = receipt.amount;
    std::size_t n = 0;
    for (const auto& [rate, gt] : by_rate) {
      const std::int64_t share =
          ++n == by_rate.size() ? left : MulDivRound(receipt.amount, gt.first, invoice_gross);
      left -= share;
      PdfLine line;
      line.description = "Anteil des Betrags zu " + std::to_string(rate / 100) + " % USt";
      line.tax_rate_bp = rate;
      line.gross = share;
      line.tax = MulDivRound(share, gt.second, gt.first);
      line.net = share - line.tax;
      d.total_net += line.net;
      d.total_tax += line.tax;
      d.lines.push_back(std::move(line));
    }
  } else {
    d.total_net = receipt.amount;
    d.tax_block = false;
  }
  d.intro.push_back("Zahlungsart: " + std::string(receipt.method == "provider"        ? "Online-Zahlung"
                                                  : receipt.method == "bank_transfer" ? "Überweisung"
                                                                                      : "Barzahlung"));
  d.intro.push_back("Referenz: " + receipt.ref);
  d.footer.push_back("Betrag erhalten am " + LocalDayText(receipt.received_at_us, zone) + ": " +
                     FormatDecimalDe(receipt.amount) + " " + d.currency);
  if (receipt.kassenzeichen) d.footer.push_back("Kassenzeichen: " + *receipt.kassenzeichen);
  if (!proportional && !receipt.invoice_number.empty()) {
    d.footer.push_back("Die enthaltene Umsatzsteuer weist Rechnung " + receipt.invoice_number + " aus.");
  }
  d.created_at_us = receipt.recorded_at_us;
  return d;
}

}  // namespace saalbuch::formats
