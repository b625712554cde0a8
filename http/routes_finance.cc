// Money: tariffs, finance settings, invoices, credit notes, receipts, payments, refunds.
#include <spdlog/spdlog.h>

#include "common/money.h"
#include "http/edge.h"
#include "http/provider_view.h"

namespace saalbuch::http {

using beast_http::status;
using beast_http::verb;
using nlohmann::json;

std::vector<Route> FinanceRoutes() {
  constexpr unsigned kFinanceWrite = kFinance | kAdmin;
  constexpr unsigned kFinanceRead = kFinance | kAdmin | kAuditor;
  constexpr unsigned kInvoiceReaders = kManageToken | kFinance | kAdmin | kAuditor | kStaff;
  return {
      {verb::get, "/v1/tenants/{tenant}/tariffs", kPublic, "tariffs", &Edge::ListTariffs},
      {verb::get, "/v1/tenants/{tenant}/tariffs/{tariff}", kPublic, "tariff", &Edge::GetTariff},
      {verb::put, "/v1/tenants/{tenant}/tariffs/{tariff}", kAdmin, "tariff", &Edge::SetTariff},
      {verb::get, "/v1/tenants/{tenant}/finance/settings", kFinanceRead, "finance_settings",
       &Edge::GetFinanceSettings},
      {verb::put, "/v1/tenants/{tenant}/finance/settings", kAdmin, "finance_settings",
       &Edge::SetFinanceSettings},
      {verb::get, "/v1/tenants/{tenant}/invoices", kFinanceRead, "invoices", &Edge::ListInvoices},
      {verb::get, "/v1/tenants/{tenant}/invoices/{invoice}", kInvoiceReaders, "invoice", &Edge::GetInvoice},
      {verb::get, "/v1/tenants/{tenant}/invoices/{invoice}/einvoice.xml", kInvoiceReaders, "invoice_einvoice",
       &Edge::GetInvoiceEInvoice},
      {verb::get, "/v1/tenants/{tenant}/bookings/{booking}/invoice", kInvoiceReaders, "booking_invoice",
       &Edge::BookingInvoice},
      {verb::post, "/v1/tenants/{tenant}/invoices/{invoice}/checkout", kManageToken | kFinanceWrite,
       "invoice_checkout", &Edge::Checkout},
      {verb::post, "/v1/tenants/{tenant}/invoices/{invoice}/payments", kFinanceWrite, "invoice_payments",
       &Edge::RecordPayment},
      {verb::post, "/v1/tenants/{tenant}/invoices/{invoice}/refunds", kFinanceWrite, "invoice_refunds",
       &Edge::RefundInvoice},
      {verb::get, "/v1/tenants/{tenant}/credit-notes", kFinanceRead, "credit_notes", &Edge::ListCreditNotes},
      {verb::get, "/v1/tenants/{tenant}/credit-notes/{number}", kFinanceRead, "credit_note",
       &Edge::GetCreditNote},
      {verb::get, "/v1/tenants/{tenant}/credit-notes/{number}/einvoice.xml", kFinanceRead,
       "credit_note_einvoice", &Edge::GetCreditNoteEInvoice},
      {verb::get, "/v1/tenants/{tenant}/receipts/{number}", kManageToken | kFinanceRead, "receipt",
       &Edge::GetReceipt},
      {verb::get, "/v1/tenants/{tenant}/payments", kFinanceRead, "payments", &Edge::ListPayments},
      {verb::post, "/v1/tenants/{tenant}/payments/webhook", kWebhookSignature, "payments_webhook",
       &Edge::Webhook},
      {verb::get, "/v1/tenants/{tenant}/refunds", kFinanceRead, "refunds", &Edge::ListRefunds},
      {verb::post, "/v1/tenants/{tenant}/refunds/{refund}/complete", kFinanceWrite, "refund_complete",
       &Edge::CompleteRefund},
  };
}

namespace {

// "R-2027-000001.pdf" → {"R-2027-000001", true}.
std::pair<std::string, bool> SplitPdf(const std::string& name) {
  const bool pdf = name.size() > 4 && name.ends_with(".pdf");
  return {pdf ? name.substr(0, name.size() - 4) : name, pdf};
}

// The booking an invoice is for, with its resource's name (people read the
// name, not the id); null when there is none.
json InvoicedBooking(Edge& e, const TenantId& t, const json& inv) {
  auto booking = projections::QueryFinanceBooking(e.runner.view(), t, inv.value("booking", ""));
  json b = booking.ok() ? *booking : json();
  if (!b.is_null()) {
    auto r = projections::QueryResource(e.runner.view(), t, ResourceId(b.value("resource", "")));
    if (r.ok()) b["resource"] = r->value("name", b.value("resource", ""));
  }
  return b;
}

// "einvoice.street is required …" → "einvoice.street"; otherwise empty.
std::string SettingNamed(const std::string& message) {
  if (!message.starts_with("einvoice.")) return {};
  return message.substr(0, message.find(' '));
}

}  // namespace

void Edge::ListTariffs(const CallPtr& c) {
  const TenantId& t = c->tenant;
  std::size_t limit = 0;
  if (!Limit(c, &limit)) return;
  const std::string cursor = c->Param("cursor");
  Query(c, t, [this, c, t, limit, cursor] {
    SendQuery(c, runner.Position(t), projections::QueryFinanceList(runner.view(), t, 't', limit, cursor),
              true);
  });
}

void Edge::GetTariff(const CallPtr& c) {
  const TenantId& t = c->tenant;
  Query(c, t, [this, c, t, id = c->params[0]] {
    SendQuery(c, runner.Position(t), projections::QueryFinanceDoc(runner.view(), t, 't', id), true);
  });
}

void Edge::SetTariff(const CallPtr& c) {
  const std::string& id = c->params[0];
  KeyCommand(c,
             {"target", "group", "unit", "price", "gross", "tax_rate_percent", "valid_from", "description",
              "product", "cost_center"},
             false, [&](Decoder& d, auto) {
               commands::SetTariff cmd;
               cmd.id = id;
               cmd.target = d.Str("target", true, 140);
               cmd.group = d.Str("group", false, 64);
               auto unit = commands::ParseTariffUnit(d.Str("unit", true, 16));
               if (!unit) d.Error("unit", "must be hour, booking or unit");
               cmd.version.unit = unit.value_or(commands::TariffUnit::kBooking);
               Money price = d.MoneyField("price", true, 0, kMaxAmount);
               cmd.version.amount = price.amount;
               cmd.currency = price.currency;
               cmd.version.gross = d.Bool("gross", true);
               cmd.version.tax_rate_bp =
                   static_cast<std::int32_t>(d.Int("tax_rate_percent", 0, 100, 0) * 100);
               cmd.version.valid_from = d.Time("valid_from", false);
               cmd.version.description = d.Str("description", false, 200);
               cmd.version.product = d.Str("product", false, 64);
               cmd.version.cost_center = d.Str("cost_center", false, 36);
               return commands::Command(cmd);
             });
}

void Edge::GetFinanceSettings(const CallPtr& c) {
  FinanceQuery(c, [this, t = c->tenant] { return projections::QueryFinanceSettings(runner.view(), t); });
}

void Edge::SetFinanceSettings(const CallPtr& c) {
  KeyCommand(c,
             {"currency", "payment_terms_days", "cancellation_tiers", "letterhead", "accounts",
              "kassenzeichen_prefix", "datev_consultant", "datev_client", "einvoice"},
             false, [&](Decoder& d, auto) {
               commands::SetFinanceSettings cmd;
               auto& s = cmd.settings;
               s.currency = d.Str("currency", false, 3, "EUR");
               s.payment_terms_days = static_cast<int>(d.Int("payment_terms_days", 0, 365, 14));
               json tiers = d.Array("cancellation_tiers", 20);
               for (std::size_t i = 0; i < tiers.size(); ++i) {
                 Decoder td = d.Nested(tiers[i], {"min_notice_hours", "fee_percent"},
                                       "cancellation_tiers[" + std::to_string(i) + "].");
                 s.tiers.push_back({td.Int("min_notice_hours", 0, 24LL * 3650, 0) * 3600 * kUsPerSecond,
                                    static_cast<std::int32_t>(td.Int("fee_percent", 0, 100, 0) * 100)});
               }
               for (const auto& l : d.Array("letterhead", 12)) {
                 if (!l.is_string()) {
                   d.Error("letterhead", "must be an array of strings");
                   break;
                 }
                 if (auto problem = TextProblem(l.get_ref<const std::string&>(), Lines::kOne);
                     !problem.empty()) {
                   d.Error("letterhead", "a line " + problem);
                   break;
                 }
                 s.letterhead.push_back(l.get<std::string>());
               }
               // The accounts object has free keys (roles); KeyCommand has parsed the body.
               const json body = json::parse(c->req.body(), nullptr, false);
               if (body.contains("accounts")) {
                 if (!body["accounts"].is_object() || body["accounts"].size() > 200) {
                   d.Error("accounts", "must be an object of role → account number (≤ 200)");
                 } else {
                   for (const auto& [role, account] : body["accounts"].items()) {
                     if (!account.is_string()) {
                       d.Error("accounts." + role, "must be a string of digits");
                       continue;
                     }
                     s.accounts[role] = account.template get<std::string>();
                   }
                 }
               }
               s.kassenzeichen_prefix = d.Str("kassenzeichen_prefix", false, 20);
               s.datev_consultant = d.Str("datev_consultant", false, 7, "1001");
               s.datev_client = d.Str("datev_client", false, 5, "1");
               if (const auto it = d.object().find("einvoice"); it != d.object().end()) {
                 if (!it->is_object()) {
                   d.Error("einvoice", "must be an object");
                 } else {
                   Decoder ed = d.Nested(
                       *it,
                       {"name", "street", "postcode", "city", "country", "vat_id", "tax_number", "seller_id",
                        "iban", "bic", "account_holder", "tax_exempt_category", "tax_exempt_reason"},
                       "einvoice.");
                   auto& ei = cmd.einvoice;
                   ei.name = ed.Str("name", false, 200);
                   ei.street = ed.Str("street", false, 200);
                   ei.postcode = ed.Str("postcode", false, 20);
                   ei.city = ed.Str("city", false, 100);
                   ei.country = ed.Str("country", false, 2);
                   ei.vat_id = ed.Str("vat_id", false, 20);
                   ei.tax_number = ed.Str("tax_number", false, 30);
                   ei.seller_id = ed.Str("seller_id", false, 100);
                   ei.iban = ed.Str("iban", false, 34);
                   ei.bic = ed.Str("bic", false, 11);
                   ei.account_holder = ed.Str("account_holder", false, 200);
                   ei.tax_exempt_category = ed.Str("tax_exempt_category", false, 1);
                   ei.tax_exempt_reason = ed.Str("tax_exempt_reason", false, 200);
                 }
               }
               return commands::Command(cmd);
             });
}

// A query answering with `fn()`'s JSON.
void Edge::FinanceQuery(const CallPtr& c, std::function<Result<json>()> fn) {
  const TenantId& t = c->tenant;
  Query(c, t, [this, c, t, fn = std::move(fn)] { SendQuery(c, runner.Position(t), fn(), false); });
}

void Edge::ListInvoices(const CallPtr& c) { FinanceList(c, 'i'); }
void Edge::ListCreditNotes(const CallPtr& c) { FinanceList(c, 'c'); }
void Edge::ListPayments(const CallPtr& c) { FinanceList(c, 'p'); }
void Edge::ListRefunds(const CallPtr& c) { FinanceList(c, 'r'); }

void Edge::FinanceList(const CallPtr& c, char kind) {
  const TenantId& t = c->tenant;
  std::size_t limit = 0;
  if (!Limit(c, &limit)) return;
  const std::string cursor = c->Param("cursor");
  FinanceQuery(c, [this, t, kind, limit, cursor] {
    auto page = projections::QueryFinanceList(runner.view(), t, kind, limit, cursor);
    if (page.ok() && kind == 'i') {
      for (auto& item : (*page)["items"]) RevealRecipient(item, t);
    }
    return page;
  });
}

void Edge::WithInvoice(const CallPtr& c, const std::string& id, std::function<void(Seq, json)> then) {
  const TenantId& t = c->tenant;
  const std::string token = c->caller.kind == Caller::Kind::kManageToken ? c->caller.token : std::string();
  Query(c, t, [this, c, t, id, token, then = std::move(then)] {
    Seq p = runner.Position(t);
    auto inv = projections::QueryFinanceDoc(runner.view(), t, 'i', id);
    if (!inv.ok()) return FromStatus(c, inv.status());
    RevealRecipient(*inv, t);
    if (!token.empty()) {
      auto b = projections::QueryBooking(runner.view(), t, BookingId(inv->value("booking", "")));
      if (!b.ok() || !SecretMatches(token, b->manage_token_hash)) {
        return Problem(c, status::not_found, "not_found", "not found");
      }
    }
    then(p, std::move(*inv));
  });
}

void Edge::GetInvoice(const CallPtr& c) {
  auto [id, pdf] = SplitPdf(c->params[0]);
  if (pdf) c->route = "invoice_pdf";
  SendInvoice(c, id, pdf);
}

void Edge::SendInvoice(const CallPtr& c, const std::string& id, bool pdf) {
  const TenantId& t = c->tenant;
  WithInvoice(c, id, [this, c, t, pdf](Seq p, json inv) {
    if (!pdf) return SendQuery(c, p, Result<json>(std::move(inv)), false);
    const json b = InvoicedBooking(*this, t, inv);
    SendPdf(c, p, t, inv.value("number", ""),
            [&](const json& s, const Zone* z) { return InvoicePdf(s, inv, b, z); });
  });
}

// The invoice as an EN 16931 e-invoice (CII), for the same callers as its PDF.
void Edge::GetInvoiceEInvoice(const CallPtr& c) {
  const TenantId& t = c->tenant;
  WithInvoice(c, c->params[0], [this, c, t](Seq p, json inv) {
    RevealContactName(inv, t);
    const json b = InvoicedBooking(*this, t, inv);
    SendEInvoice(c, p, t, inv.value("number", ""),
                 [&](const json& s, const Zone* z) { return InvoiceCii(s, inv, b, z); });
  });
}

// A credit note as an EN 16931 e-invoice (CII, type 381), its buyer the
// reduced invoice's.
void Edge::GetCreditNoteEInvoice(const CallPtr& c) {
  const TenantId& t = c->tenant;
  Query(c, t, [this, c, t, number = c->params[0]] {
    Seq p = runner.Position(t);
    auto doc = projections::QueryFinanceDoc(runner.view(), t, 'c', number);
    if (!doc.ok()) return FromStatus(c, doc.status());
    auto inv = projections::QueryFinanceDoc(runner.view(), t, 'i', doc->value("invoice", ""));
    if (inv.ok()) {
      RevealRecipient(*inv, t);
      RevealContactName(*inv, t);
    }
    const json invoice = inv.ok() ? *inv : json();
    SendEInvoice(c, p, t, number,
                 [&](const json& s, const Zone* z) { return CreditNoteCii(s, *doc, invoice, z); });
  });
}

// What EN 16931 cannot express is the caller's to fix in the settings
// (422 naming the setting); never an invalid document.
void Edge::SendEInvoice(
    const CallPtr& c, Seq position, const TenantId& t, const std::string& number,
    const std::function<Result<std::string>(const json& settings, const Zone* zone)>& make) {
  auto settings = projections::QueryFinanceSettings(runner.view(), t);
  if (!settings.ok()) return FromStatus(c, settings.status());
  const Zone* zone = FindZone(settings->value("time_zone", "UTC"));
  if (zone == nullptr) zone = UtcZone();
  auto xml = make(*settings, zone);
  if (!xml.ok() && xml.status().code() == StatusCode::kInvalidArgument) {
    json details = json::object();
    if (const std::string setting = SettingNamed(xml.status().message()); !setting.empty()) {
      details["setting"] = setting;
    }
    return Problem(c, status::unprocessable_entity, "einvoice_incomplete",
                   "no EN 16931 e-invoice can be issued for " + number + ": " + xml.status().message(),
                   details);
  }
  if (!xml.ok()) {
    spdlog::error("msg=\"e-invoice failed\" tenant={} document={} error=\"{}\"", t.get(), number,
                  xml.status().ToString());
    return Problem(c, status::internal_server_error, "document_failed", "the document could not be rendered");
  }
  SendBytes(c, position, "application/xml; charset=utf-8", number + ".xml", std::move(*xml));
}

// The invoice of a booking, for its booker or staff.
void Edge::BookingInvoice(const CallPtr& c) { SendInvoice(c, "inv-" + c->params[0], false); }

void Edge::GetCreditNote(const CallPtr& c) {
  const TenantId& t = c->tenant;
  const auto [name, is_pdf] = SplitPdf(c->params[0]);
  const std::string number = name;
  const bool pdf = is_pdf;
  if (pdf) c->route = "credit_note_pdf";
  Query(c, t, [this, c, t, number, pdf] {
    Seq p = runner.Position(t);
    auto doc = projections::QueryFinanceDoc(runner.view(), t, 'c', number);
    if (!pdf || !doc.ok()) return SendQuery(c, p, doc, false);
    auto inv = projections::QueryFinanceDoc(runner.view(), t, 'i', doc->value("invoice", ""));
    if (inv.ok()) RevealRecipient(*inv, t);
    const json invoice = inv.ok() ? *inv : json();
    SendPdf(c, p, t, number,
            [&](const json& s, const Zone* z) { return CreditNotePdf(s, *doc, invoice, z); });
  });
}

// A receipt by its number: finance, or the booker of the paid booking.
void Edge::GetReceipt(const CallPtr& c) {
  const TenantId& t = c->tenant;
  const auto [name, is_pdf] = SplitPdf(c->params[0]);
  const std::string number = name;
  const bool pdf = is_pdf;
  if (pdf) c->route = "receipt_pdf";
  const std::string token = c->caller.kind == Caller::Kind::kManageToken ? c->caller.token : std::string();
  Query(c, t, [this, c, t, number, token, pdf] {
    Seq p = runner.Position(t);
    auto ref = projections::QueryDocumentNumber(runner.view(), t, number);
    if (!ref.ok() || ref->value("kind", "") != "receipt") {
      return Problem(c, status::not_found, "not_found", "no such receipt");
    }
    auto pay = projections::QueryFinanceDoc(runner.view(), t, 'p', ref->value("id", ""));
    auto inv = projections::QueryFinanceDoc(runner.view(), t, 'i', ref->value("invoice", ""));
    if (!pay.ok()) return FromStatus(c, pay.status());
    if (!token.empty()) {
      auto b =
          projections::QueryBooking(runner.view(), t, BookingId(inv.ok() ? inv->value("booking", "") : ""));
      if (!b.ok() || !SecretMatches(token, b->manage_token_hash)) {
        return Problem(c, status::not_found, "not_found", "no such receipt");
      }
    }
    if (!pdf) return SendQuery(c, p, pay, false);
    const json invoice = inv.ok() ? *inv : json();
    SendPdf(c, p, t, number, [&](const json& s, const Zone* z) { return ReceiptPdf(s, *pay, invoice, z); });
  });
}

// Sends the booker (or finance) to the provider for the invoice's open
// amount; the provider call runs on a query thread, never on I/O.
void Edge::Checkout(const CallPtr& c) {
  const TenantId& t = c->tenant;
  if (options.provider == nullptr) {
    return Problem(c, status::conflict, "payments_not_configured",
                   "this server has no payment provider; pay by bank transfer");
  }
  const std::string token = c->caller.kind == Caller::Kind::kManageToken ? c->caller.token : std::string();
  const std::string actor = c->caller.Actor();
  WithInvoice(c, c->params[0], [this, c, t, token, actor](Seq, const json& inv) {
    const std::int64_t open = inv.value("open", std::int64_t{0});
    if (open <= 0) return Problem(c, status::conflict, "invoice_paid", "nothing is open on this invoice");
    CheckoutRequest req;
    req.tenant = t.get();
    req.invoice = inv.value("id", "");
    req.number = inv.value("number", "");
    req.amount = open;
    req.currency = inv.value("currency", "EUR");
    req.description = "Rechnung " + req.number;
    const std::string public_url = PublicUrl(*c);
    const std::string base = public_url + "/v1/tenants/" + t.get();
    // Back to Saalbuch's payment page, which shows the outcome (web/).
    req.return_url = public_url + "/pay/" + t.get() + "/" + req.invoice;
    req.webhook_url = base + "/payments/webhook";
    // One checkout per invoice and open amount: a second click reuses it.
    req.idempotency_key = t.get() + "/" + req.invoice + "/" + std::to_string(open);
    auto co = options.provider->CreateCheckout(req);
    if (!co.ok()) {
      spdlog::warn("msg=\"checkout failed\" tenant={} invoice={} error=\"{}\"", t.get(), req.invoice,
                   co.status().ToString());
      return Problem(c, status::service_unavailable, "provider_unavailable",
                     "the payment provider cannot be reached; try again shortly");
    }
    commands::OpenCheckout cmd;
    cmd.invoice = req.invoice;
    cmd.checkout_id = co->id;
    cmd.url = co->url;
    cmd.amount = open;
    cmd.by_staff = token.empty();
    cmd.manage_token = token;
    Submit(c, Ctx(c, t, actor), std::move(cmd));
  });
}

void Edge::RecordPayment(const CallPtr& c) {
  const std::string& id = c->params[0];
  KeyCommand(c, {"amount", "method", "reference", "received"}, false, [&](Decoder& d, auto) {
    commands::RecordPayment cmd;
    cmd.invoice = id;
    Money m = d.MoneyField("amount", true, 1, kMaxAmount);
    cmd.amount = m.amount;
    cmd.currency = m.currency;
    cmd.method = d.Str("method", true, 20);
    cmd.reference = d.Str("reference", true, 100);
    cmd.received = d.Time("received", false);
    return commands::Command(cmd);
  });
}

void Edge::RefundInvoice(const CallPtr& c) {
  const std::string& id = c->params[0];
  KeyCommand(c, {"amount", "reason"}, false, [&](Decoder& d, auto) {
    commands::RefundInvoice cmd;
    cmd.invoice = id;
    cmd.amount = d.MoneyField("amount", true, 1, kMaxAmount).amount;
    cmd.reason = d.Text("reason", true, 1000);
    return commands::Command(cmd);
  });
}

void Edge::CompleteRefund(const CallPtr& c) {
  const std::string& id = c->params[0];
  KeyCommand(c, {"failed", "reason", "paid"}, true, [&](Decoder& d, auto) {
    commands::CompleteRefund cmd;
    cmd.refund = id;
    cmd.failed = d.Bool("failed", false);
    cmd.reason = d.Text("reason", false, 500);
    cmd.paid = d.Time("paid", false);
    return commands::Command(cmd);
  });
}

// The provider's webhook: authentic only with a valid signature; the
// decision books each payment reference once (invariant 5).
void Edge::Webhook(const CallPtr& c) {
  const TenantId& t = c->tenant;
  auto sig = c->req.find(boost::beast::string_view(kSignatureHeader.data(), kSignatureHeader.size()));
  const std::string header = sig == c->req.end() ? std::string() : std::string(sig->value());
  const auto check =
      VerifyWebhookSignature(options.webhook_secret, header, c->req.body(), Now() / kUsPerSecond);
  if (check != SignatureCheck::kValid) {
    return Problem(c, status::unauthorized, "invalid_signature",
                   std::string("the webhook signature is ") + SignatureCheckName(check));
  }
  auto ev = ParseWebhook(c->req.body());
  if (!ev.ok()) return Problem(c, status::unprocessable_entity, "validation_failed", ev.status().message());
  if (ev->tenant != t.get())
    return Problem(c, status::not_found, "not_found", "the event is for another tenant");
  commands::RecordProviderEvent cmd;
  cmd.event_id = ev->id;
  cmd.type = ev->type;
  cmd.payment = ev->payment;
  cmd.invoice = ev->invoice;
  cmd.amount = ev->amount;
  cmd.fee = ev->fee;
  cmd.currency = ev->currency;
  cmd.provider_refund = ev->refund;
  cmd.refund = ev->refund_reference;
  cmd.reason = ev->failure_reason;
  Submit(c, Ctx(c, t, "provider"), std::move(cmd));
}
}  // namespace saalbuch::http
