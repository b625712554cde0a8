// Invoices and credit notes as EN 16931 e-invoices in UN/CEFACT Cross
// Industry Invoice D16B syntax (the syntax of XRechnung-CII and of the
// ZUGFeRD/Factur-X EN 16931 profile), built with pugixml from the same
// values as their PDF (formats/finance_documents.h), so that both say the
// same. Pure: same values, same bytes.
//
// What the document carries (EN 16931 business terms):
//   BT-1 number, BT-2 issue day (in `zone`), BT-3 type 380 (invoice) or
//   381 (credit note, with BG-3: the invoice it reduces), BT-5 currency,
//   BT-9 due day or BT-20 payment terms, BT-10 buyer reference (Leitweg-ID)
//   when known, BT-22 a note naming the booking or the credit note's reason,
//   BT-24 "urn:cen.eu:en16931:2017", BG-4 seller (name, address, BT-29
//   seller id, BT-31 VAT id, BT-32 tax number), BG-7 buyer (name, country),
//   BG-14 the booked period, BG-16 SEPA credit transfer (code 58) to the
//   seller's IBAN with the Kassenzeichen as payment reference (BT-83), the
//   lines (BG-25), the VAT breakdown per category and rate (BG-23) and the
//   totals (BG-22).
//
// Amounts: every line's net, tax and gross are the recorded ones. BT-116
// and BT-117 of a rate are the sums of its lines' net and tax (per-line
// rounding, as the PDF prints them; EN 16931 allows the per-rate tax to
// differ from BT-116 × rate by less than one unit); BT-106 = BT-109 = the
// sum of the lines' net, BT-110 = the sum of the BT-117, BT-112 = BT-115 =
// BT-109 + BT-110 (no allowances, charges or prepaid amounts). A line's
// price is its net per billed unit when that is exact to four decimals,
// else the line's net per the billed quantity as base quantity (BT-149), so
// that quantity × price is always exactly the line's net.
//
// Tax categories: a line with a rate above 0 is "S" (standard, with its
// rate); a line at 0 % takes the seller's `tax_exempt_category`: "E"
// (exempt, e.g. § 4 Nr. 12 UStG) or "O" (not subject to VAT, e.g. § 2b
// UStG), with `tax_exempt_reason` as BT-120. EN 16931 allows "O" only alone
// in a document and without the seller's VAT id, which is then left out.
#pragma once

#include <date/tz.h>

#include <optional>
#include <string>

#include "common/result.h"
#include "formats/finance_documents.h"

namespace saalbuch::formats {

// The buyer (BG-7) as the invoice names it.
struct EInvoiceBuyer {
  std::string name;       // BT-44; required
  std::string reference;  // BT-10, the Leitweg-ID of a public body; may be empty
  std::string country;    // BT-55; empty: the seller's
  // BG-8 beyond the country: the recipient's address when the invoice names
  // one (above 250 € it must); empty otherwise.
  std::string street = {}, postcode = {}, city = {};
};

// The invoice as CII XML. `booking` (may be empty) gives the note and the
// period (BG-14).
//
// Errors (nothing is rendered): kInvalidArgument with a message naming
// what is missing or cannot be expressed, by the setting's name under
// "einvoice." where it is the seller's (e.g. "einvoice.street is required
// (BT-35, seller address)"): seller name, street, postcode, city or
// country; neither vat_id nor seller_id (BR-CO-26); neither vat_id nor
// tax_number with taxed or exempt lines (BR-S-02, BR-E-02); a 0 % line
// without tax_exempt_category or tax_exempt_reason; "O" beside other
// categories; no buyer name; no lines; a line whose net + tax != gross or
// totals that are not the lines' sums.
Result<std::string> InvoiceCii(const Issuer& issuer, const Invoice& invoice, const EInvoiceBuyer& buyer,
                               const std::optional<InvoicedBooking>& booking, const Zone* zone);

// The credit note as CII XML (type 381) with the invoice it reduces (BG-3,
// BT-26 its issue time `invoice_issued_at_us` when known, i.e. not 0) and,
// as payment terms, that the amount is offset or paid back. Errors as
// InvoiceCii's.
Result<std::string> CreditNoteCii(const Issuer& issuer, const CreditNote& credit_note,
                                  const EInvoiceBuyer& buyer, TimeUs invoice_issued_at_us, const Zone* zone);

}  // namespace saalbuch::formats
