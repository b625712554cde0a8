// The finance documents as printed: invoices, credit notes and receipts
// composed into a PdfDocument (formats/pdf.h renders it). Pure: the same
// values give the same document, so a PDF can be reproduced from the log at
// any time. Days and clock times are printed in the tenant's `zone`.
#pragma once

#include <date/tz.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/time.h"
#include "common/types.h"
#include "formats/pdf.h"

namespace saalbuch::formats {

// The seller of an e-invoice (formats/einvoice.h), from the tenant's finance
// settings' "einvoice" object: each field's name is the setting's name.
// Empty fields are unknown; which ones EN 16931 needs is said there.
struct EInvoiceSeller {
  std::string name;                 // BT-27, the legal name
  std::string street;               // BT-35
  std::string postcode;             // BT-38
  std::string city;                 // BT-37
  std::string country;              // BT-40, ISO 3166-1 alpha-2 ("DE")
  std::string vat_id;               // BT-31, USt-IdNr. ("DE123456789")
  std::string tax_number;           // BT-32, Steuernummer
  std::string seller_id;            // BT-29, e.g. the creditor id or municipality key
  std::string iban;                 // BT-84: payment by SEPA credit transfer (code 58)
  std::string bic;                  // BT-86; may be empty
  std::string account_holder;       // BT-85; may be empty
  std::string tax_exempt_category;  // "E" (exempt, § 4 UStG) or "O" (not subject, § 2b UStG) for 0 % lines
  std::string tax_exempt_reason;    // BT-120, e.g. "Steuerfrei nach § 4 Nr. 12 UStG"
};

// The issuing tenant, from its finance settings.
struct Issuer {
  std::vector<std::string> letterhead;  // name, address lines, tax number, bank account, contact
  std::string currency = "EUR";         // the currency of its credit notes
  EInvoiceSeller seller = {};           // for the e-invoice only; the PDF prints the letterhead
};

// One line of an invoice or credit note.
struct DocumentLine {
  std::string description;
  std::int64_t quantity_milli = 0;  // thousandths of `unit`
  std::string unit = "booking";     // "hour" (Std.), "unit" (Stk.); anything else is a flat rate (pauschal)
  std::int64_t net = 0, tax = 0, gross = 0;  // minor units
  std::int32_t tax_rate_bp = 0;              // 1900 = 19 %
  std::string product;                       // budget product code; may be empty
  std::string cost_center;                   // may be empty
};

// The invoice recipient's full name and address (§ 14 (4) Nr. 1 UStG).
struct Recipient {
  std::string name, street, postcode, city;
  std::string country = "DE";   // ISO 3166-1 alpha-2
  std::string leitweg_id = {};  // a public body's Leitweg-ID (BT-10); may be empty
};

struct Invoice {
  std::string number;
  TimeUs issued_at_us = 0;             // issue day, and the PDF's creation time
  std::optional<TimeUs> due_us;        // none: no due day, no payment request in the footer
  std::string customer;                // may be empty
  std::optional<Recipient> recipient;  // none (and no customer): no recipient block
  std::vector<DocumentLine> lines;
  std::int64_t net = 0, tax = 0, gross = 0;
  std::string currency = "EUR";
  std::string kassenzeichen;
};

// The booking an invoice is for, as its intro names it.
struct InvoicedBooking {
  std::string number;
  std::string resource;  // the resource's name
  TimeRange range;
};

struct CreditNote {
  std::string number;
  TimeUs issued_at_us = 0;
  std::string invoice_number;  // the invoice it reduces
  std::string reason;          // may be empty
  std::vector<DocumentLine> lines;
  std::int64_t net = 0, tax = 0, gross = 0;  // in the issuer's currency
  std::optional<Recipient> recipient;        // the reduced invoice's; none: no address block
};

struct Receipt {
  std::string number;         // the receipt number
  TimeUs recorded_at_us = 0;  // issue day, and the PDF's creation time
  TimeUs received_at_us = 0;  // when the money arrived
  std::string invoice_number;
  std::int64_t amount = 0;  // minor units
  std::string currency = "EUR";
  std::string method;  // "provider" (Online-Zahlung), "bank_transfer" (Überweisung), else cash (Barzahlung)
  std::string ref;     // the payment's reference
  std::optional<std::string> kassenzeichen;  // the invoice's, when the invoice is known
  // The invoice's lines (when it is known): what was paid is split over its
  // tax rates in proportion to their gross, and the tax each share contains
  // is printed. Without them the receipt shows no tax and refers to the invoice.
  std::vector<DocumentLine> invoice_lines;
};

// "Rechnung": intro with the booking's number, resource and time range
// when `booking` is given; footer with the Kassenzeichen and, with a due
// day, the request to pay by it.
PdfDocument InvoicePdf(const Issuer& issuer, const Invoice& invoice,
                       const std::optional<InvoicedBooking>& booking, const Zone* zone);
// "Gutschrift (Storno)" related to its invoice, with the reason.
PdfDocument CreditNotePdf(const Issuer& issuer, const CreditNote& credit_note, const Zone* zone);
// "Zahlungsbeleg": the amount received, method, reference and day of
// receipt. With the invoice's lines, one line per tax rate with the share of
// the amount (in proportion to the rate's gross on the invoice; rounding
// half away from zero, the last rate takes the remainder) and the tax that
// share contains, and the tax summary; otherwise the amount alone, no tax
// block, and a note that the invoice states the tax.
PdfDocument ReceiptPdf(const Issuer& issuer, const Receipt& receipt, const Zone* zone);

// "2026-11-22" → "22.11.2026"; any text of another length is returned as is.
std::string GermanDate(const std::string& iso_day);

}  // namespace saalbuch::formats
