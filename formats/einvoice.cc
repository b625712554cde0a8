#include "formats/einvoice.h"

#include <pugixml.hpp>

#include <map>
#include <sstream>

#include "common/money.h"
#include "common/time.h"

namespace saalbuch::formats {
namespace {

constexpr const char* kRsm = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100";
constexpr const char* kRam =
    "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100";
constexpr const char* kUdt = "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100";
constexpr const char* kQdt = "urn:un:unece:uncefact:data:standard:QualifiedDataType:100";

// The common part of an invoice and a credit note.
struct Document {
  const char* type_code = "380";
  std::string number;
  TimeUs issued_at_us = 0;
  std::optional<TimeUs> due_us;
  std::string payment_terms;  // BT-20; may be empty
  std::string currency;
  std::string note;  // BT-22; may be empty
  std::string kassenzeichen;
  std::optional<TimeRange> period;
  std::string preceding_number;  // BG-3; may be empty
  TimeUs preceding_issued_at_us = 0;
  const std::vector<DocumentLine>* lines = nullptr;
  std::int64_t net = 0, tax = 0, gross = 0;
};

// One VAT breakdown (BG-23): category and rate.
using TaxKey = std::pair<std::string, std::int32_t>;

std::string Day102(TimeUs t, const Zone* zone) {
  std::string d = FormatLocalDay(LocalDayOf(t, zone));  // YYYY-MM-DD
  std::erase(d, '-');
  return d;
}

// `milli` thousandths (or ten-thousandths with `scale` 4) as a decimal.
std::string Fixed(std::int64_t v, int scale) {
  const bool neg = v < 0;
  std::uint64_t u = neg ? 0 - static_cast<std::uint64_t>(v) : static_cast<std::uint64_t>(v);
  std::uint64_t div = 1;
  for (int i = 0; i < scale; ++i) div *= 10;
  const std::string frac = std::to_string(u % div);
  std::string out = neg ? "-" : "";
  out.append(std::to_string(u / div)).append(1, '.');
  out.append(static_cast<std::size_t>(scale) - frac.size(), '0').append(frac);
  return out;
}

std::string Percent(std::int32_t rate_bp) { return Fixed(rate_bp, 2); }

const char* UnitCode(const std::string& unit) {
  if (unit == "hour") return "HUR";
  if (unit == "unit") return "H87";
  return "LS";  // lump sum: a flat rate per booking
}

std::string TaxCategory(const DocumentLine& l, const EInvoiceSeller& s) {
  return l.tax_rate_bp > 0 ? std::string("S") : s.tax_exempt_category;
}

Status Invalid(const std::string& message) { return Status(StatusCode::kInvalidArgument, message); }

Status Check(const EInvoiceSeller& s, const EInvoiceBuyer& buyer, const Document& d) {
  const std::pair<const char*, const std::string*> required[] = {
      {"name is required (BT-27, seller name)", &s.name},
      {"street is required (BT-35, seller address)", &s.street},
      {"postcode is required (BT-38, seller post code)", &s.postcode},
      {"city is required (BT-37, seller city)", &s.city},
      {"country is required (BT-40, seller country code)", &s.country}};
  for (const auto& [what, value] : required) {
    if (value->empty()) return Invalid(std::string("einvoice.") + what);
  }
  if (buyer.name.empty())
    return Invalid(
        "the document names no buyer (BT-44): the invoice has no recipient, no customer and no booker's "
        "name");
  if (d.lines->empty()) return Invalid("the document has no lines (BR-16)");
  std::int64_t net = 0, tax = 0, gross = 0;
  bool taxed = false, exempt = false, outside = false;
  for (const DocumentLine& l : *d.lines) {
    if (l.net + l.tax != l.gross) return Invalid("a line's net and tax do not add up to its gross");
    net += l.net;
    tax += l.tax;
    gross += l.gross;
    const std::string cat = TaxCategory(l, s);
    taxed = taxed || cat == "S";
    exempt = exempt || cat == "E";
    outside = outside || cat == "O";
    if (cat.empty()) {
      return Invalid(
          "einvoice.tax_exempt_category is required for lines at 0 % (E: exempt, O: not subject to VAT)");
    }
    if (cat != "S" && cat != "E" && cat != "O") return Invalid("einvoice.tax_exempt_category must be E or O");
    if (cat != "S" && l.tax != 0) return Invalid("a line at 0 % carries tax");
  }
  if (net != d.net || tax != d.tax || gross != d.gross)
    return Invalid("the totals are not the sums of the lines");
  if ((exempt || outside) && s.tax_exempt_reason.empty()) {
    return Invalid("einvoice.tax_exempt_reason is required for lines at 0 % (BT-120)");
  }
  if (outside && (taxed || exempt)) {
    return Invalid(
        "einvoice.tax_exempt_category O (not subject to VAT) cannot stand beside taxed lines in one document "
        "(BR-O-11); use E");
  }
  if (s.vat_id.empty() && s.seller_id.empty()) {
    return Invalid("einvoice.vat_id or einvoice.seller_id is required (BR-CO-26, seller identifier)");
  }
  if ((taxed || exempt) && s.vat_id.empty() && s.tax_number.empty()) {
    return Invalid("einvoice.vat_id or einvoice.tax_number is required with taxed or exempt lines (BR-S-02)");
  }
  return Status::Ok();
}

pugi::xml_node Add(pugi::xml_node parent, const char* name) { return parent.append_child(name); }

pugi::xml_node Text(pugi::xml_node parent, const char* name, const std::string& text) {
  pugi::xml_node n = parent.append_child(name);
  n.text().set(text.c_str());
  return n;
}

void DateTime(pugi::xml_node parent, const char* name, const std::string& day102, const char* ns = "udt") {
  pugi::xml_node s = Text(Add(parent, name), (std::string(ns) + ":DateTimeString").c_str(), day102);
  s.append_attribute("format") = "102";
}

pugi::xml_node Amount(pugi::xml_node parent, const char* name, std::int64_t minor) {
  return Text(parent, name, FormatDecimal(minor));
}

void Tax(pugi::xml_node parent, const std::string& category, std::int32_t rate_bp) {
  Text(parent, "ram:TypeCode", "VAT");
  Text(parent, "ram:CategoryCode", category);
  if (category != "O") Text(parent, "ram:RateApplicablePercent", Percent(rate_bp));
}

void Line(pugi::xml_node tx, std::size_t index, const DocumentLine& l, const std::string& category) {
  pugi::xml_node item = Add(tx, "ram:IncludedSupplyChainTradeLineItem");
  Text(Add(item, "ram:AssociatedDocumentLineDocument"), "ram:LineID", std::to_string(index + 1));
  pugi::xml_node product = Add(item, "ram:SpecifiedTradeProduct");
  Text(product, "ram:Name", l.description.empty() ? std::string("Leistung") : l.description);
  // Quantity in thousandths; a line without one is one lump sum.
  std::int64_t qty_milli = l.quantity_milli > 0 ? l.quantity_milli : 1000;
  const char* unit = l.quantity_milli > 0 ? UnitCode(l.unit) : "LS";
  // A negative line (never priced today) keeps a positive price (BR-27)
  // with a negative quantity.
  const std::int64_t net_abs = l.net < 0 ? -l.net : l.net;
  if (l.net < 0) qty_milli = -qty_milli;
  const std::int64_t qty_abs = qty_milli < 0 ? -qty_milli : qty_milli;
  pugi::xml_node price = Add(Add(item, "ram:SpecifiedLineTradeAgreement"), "ram:NetPriceProductTradePrice");
  // net (minor units, 2 decimals) per qty/1000 units, as 4 decimals:
  // net × 1000 × 100 / qty_milli ten-thousandths when exact.
  const __int128 scaled = static_cast<__int128>(net_abs) * 100000;
  if (scaled % qty_abs == 0) {
    Text(price, "ram:ChargeAmount", Fixed(static_cast<std::int64_t>(scaled / qty_abs), 4));
  } else {
    Text(price, "ram:ChargeAmount", FormatDecimal(net_abs));
    Text(price, "ram:BasisQuantity", Fixed(qty_abs, 3)).append_attribute("unitCode") = unit;
  }
  Text(Add(item, "ram:SpecifiedLineTradeDelivery"), "ram:BilledQuantity", Fixed(qty_milli, 3))
      .append_attribute("unitCode") = unit;
  pugi::xml_node settlement = Add(item, "ram:SpecifiedLineTradeSettlement");
  Tax(Add(settlement, "ram:ApplicableTradeTax"), category, l.tax_rate_bp);
  Amount(Add(settlement, "ram:SpecifiedTradeSettlementLineMonetarySummation"), "ram:LineTotalAmount", l.net);
}

void Address(pugi::xml_node party, const std::string& postcode, const std::string& street,
             const std::string& city, const std::string& country) {
  pugi::xml_node a = Add(party, "ram:PostalTradeAddress");
  if (!postcode.empty()) Text(a, "ram:PostcodeCode", postcode);
  if (!street.empty()) Text(a, "ram:LineOne", street);
  if (!city.empty()) Text(a, "ram:CityName", city);
  Text(a, "ram:CountryID", country);
}

Result<std::string> Render(const Issuer& issuer, const EInvoiceBuyer& buyer, const Document& d,
                           const Zone* zone) {
  const EInvoiceSeller& s = issuer.seller;
  if (Status st = Check(s, buyer, d); !st.ok()) return st;
  bool outside = false;
  std::map<TaxKey, std::pair<std::int64_t, std::int64_t>> breakdown;  // → net, tax
  for (const DocumentLine& l : *d.lines) {
    const std::string cat = TaxCategory(l, s);
    outside = outside || cat == "O";
    auto& [net, tax] = breakdown[{cat, cat == "S" ? l.tax_rate_bp : 0}];
    net += l.net;
    tax += l.tax;
  }

  pugi::xml_document doc;
  pugi::xml_node decl = doc.append_child(pugi::node_declaration);
  decl.append_attribute("version") = "1.0";
  decl.append_attribute("encoding") = "UTF-8";
  pugi::xml_node root = doc.append_child("rsm:CrossIndustryInvoice");
  root.append_attribute("xmlns:rsm") = kRsm;
  root.append_attribute("xmlns:ram") = kRam;
  root.append_attribute("xmlns:udt") = kUdt;
  root.append_attribute("xmlns:qdt") = kQdt;

  pugi::xml_node context = Add(root, "rsm:ExchangedDocumentContext");
  Text(Add(context, "ram:GuidelineSpecifiedDocumentContextParameter"), "ram:ID", "urn:cen.eu:en16931:2017");

  pugi::xml_node header = Add(root, "rsm:ExchangedDocument");
  Text(header, "ram:ID", d.number);
  Text(header, "ram:TypeCode", d.type_code);
  DateTime(header, "ram:IssueDateTime", Day102(d.issued_at_us, zone));
  if (!d.note.empty()) Text(Add(header, "ram:IncludedNote"), "ram:Content", d.note);

  pugi::xml_node tx = Add(root, "rsm:SupplyChainTradeTransaction");
  for (std::size_t i = 0; i < d.lines->size(); ++i) Line(tx, i, (*d.lines)[i], TaxCategory((*d.lines)[i], s));

  pugi::xml_node agreement = Add(tx, "ram:ApplicableHeaderTradeAgreement");
  if (!buyer.reference.empty()) Text(agreement, "ram:BuyerReference", buyer.reference);
  pugi::xml_node seller = Add(agreement, "ram:SellerTradeParty");
  if (!s.seller_id.empty()) Text(seller, "ram:ID", s.seller_id);
  Text(seller, "ram:Name", s.name);
  Address(seller, s.postcode, s.street, s.city, s.country);
  // EN 16931 forbids the seller's VAT id beside "not subject to VAT" (BR-O-02).
  if (!s.vat_id.empty() && !outside) {
    Text(Add(seller, "ram:SpecifiedTaxRegistration"), "ram:ID", s.vat_id).append_attribute("schemeID") = "VA";
  }
  if (!s.tax_number.empty()) {
    Text(Add(seller, "ram:SpecifiedTaxRegistration"), "ram:ID", s.tax_number).append_attribute("schemeID") =
        "FC";
  }
  pugi::xml_node buyer_party = Add(agreement, "ram:BuyerTradeParty");
  Text(buyer_party, "ram:Name", buyer.name);
  Address(buyer_party, buyer.postcode, buyer.street, buyer.city,
          buyer.country.empty() ? s.country : buyer.country);

  pugi::xml_node delivery = Add(tx, "ram:ApplicableHeaderTradeDelivery");
  (void)delivery;  // required, empty: the period (BG-14) says when the service is rendered

  pugi::xml_node settlement = Add(tx, "ram:ApplicableHeaderTradeSettlement");
  if (!d.kassenzeichen.empty()) Text(settlement, "ram:PaymentReference", d.kassenzeichen);
  Text(settlement, "ram:InvoiceCurrencyCode", d.currency);
  if (!s.iban.empty()) {
    pugi::xml_node means = Add(settlement, "ram:SpecifiedTradeSettlementPaymentMeans");
    Text(means, "ram:TypeCode", "58");
    Text(means, "ram:Information", "SEPA-Überweisung");
    pugi::xml_node account = Add(means, "ram:PayeePartyCreditorFinancialAccount");
    Text(account, "ram:IBANID", s.iban);
    if (!s.account_holder.empty()) Text(account, "ram:AccountName", s.account_holder);
    if (!s.bic.empty())
      Text(Add(means, "ram:PayeeSpecifiedCreditorFinancialInstitution"), "ram:BICID", s.bic);
  }
  std::int64_t net_total = 0, tax_total = 0;
  for (const auto& [key, sums] : breakdown) {
    const auto& [category, rate_bp] = key;
    pugi::xml_node t = Add(settlement, "ram:ApplicableTradeTax");
    Amount(t, "ram:CalculatedAmount", sums.second);
    Text(t, "ram:TypeCode", "VAT");
    if (category != "S") Text(t, "ram:ExemptionReason", s.tax_exempt_reason);
    Amount(t, "ram:BasisAmount", sums.first);
    Text(t, "ram:CategoryCode", category);
    Text(t, "ram:RateApplicablePercent", Percent(rate_bp));
    net_total += sums.first;
    tax_total += sums.second;
  }
  if (d.period) {
    pugi::xml_node p = Add(settlement, "ram:BillingSpecifiedPeriod");
    DateTime(p, "ram:StartDateTime", Day102(d.period->start, zone));
    // The end is exclusive; a booking ending at midnight ends the day before.
    DateTime(p, "ram:EndDateTime",
             Day102(d.period->end > d.period->start ? d.period->end - 1 : d.period->start, zone));
  }
  if (d.due_us || !d.payment_terms.empty()) {
    pugi::xml_node terms = Add(settlement, "ram:SpecifiedTradePaymentTerms");
    if (!d.payment_terms.empty()) Text(terms, "ram:Description", d.payment_terms);
    if (d.due_us) DateTime(terms, "ram:DueDateDateTime", Day102(*d.due_us, zone));
  }
  pugi::xml_node sum = Add(settlement, "ram:SpecifiedTradeSettlementHeaderMonetarySummation");
  Amount(sum, "ram:LineTotalAmount", net_total);
  Amount(sum, "ram:TaxBasisTotalAmount", net_total);
  Amount(sum, "ram:TaxTotalAmount", tax_total).append_attribute("currencyID") = d.currency.c_str();
  Amount(sum, "ram:GrandTotalAmount", net_total + tax_total);
  Amount(sum, "ram:DuePayableAmount", net_total + tax_total);
  if (!d.preceding_number.empty()) {
    pugi::xml_node ref = Add(settlement, "ram:InvoiceReferencedDocument");
    Text(ref, "ram:IssuerAssignedID", d.preceding_number);
    if (d.preceding_issued_at_us != 0) {
      DateTime(ref, "ram:FormattedIssueDateTime", Day102(d.preceding_issued_at_us, zone), "qdt");
    }
  }

  std::ostringstream out;
  doc.save(out, "  ", pugi::format_default, pugi::encoding_utf8);
  return out.str();
}

}  // namespace

Result<std::string> InvoiceCii(const Issuer& issuer, const Invoice& invoice, const EInvoiceBuyer& buyer,
                               const std::optional<InvoicedBooking>& booking, const Zone* zone) {
  Document d;
  d.type_code = "380";
  d.number = invoice.number;
  d.issued_at_us = invoice.issued_at_us;
  d.due_us = invoice.due_us;
  if (!d.due_us) d.payment_terms = "Zahlbar sofort ohne Abzug";
  d.currency = invoice.currency;
  d.kassenzeichen = invoice.kassenzeichen;
  if (booking) {
    d.note = "Buchung " + booking->number + ", " + booking->resource;
    d.period = booking->range;
  }
  d.lines = &invoice.lines;
  d.net = invoice.net;
  d.tax = invoice.tax;
  d.gross = invoice.gross;
  return Render(issuer, buyer, d, zone);
}

Result<std::string> CreditNoteCii(const Issuer& issuer, const CreditNote& credit_note,
                                  const EInvoiceBuyer& buyer, TimeUs invoice_issued_at_us, const Zone* zone) {
  Document d;
  d.type_code = "381";
  d.number = credit_note.number;
  d.issued_at_us = credit_note.issued_at_us;
  d.payment_terms = "Der Betrag mindert die Forderung aus Rechnung " + credit_note.invoice_number +
                    "; bereits Gezahltes wird erstattet.";
  d.currency = issuer.currency;
  if (!credit_note.reason.empty()) d.note = "Grund: " + credit_note.reason;
  d.preceding_number = credit_note.invoice_number;
  d.preceding_issued_at_us = invoice_issued_at_us;
  d.lines = &credit_note.lines;
  d.net = credit_note.net;
  d.tax = credit_note.tax;
  d.gross = credit_note.gross;
  return Render(issuer, buyer, d, zone);
}

}  // namespace saalbuch::formats
