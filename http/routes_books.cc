// The books: journal, balances, open items, revenue, reconciliation imports, exports, closing periods;
// the usage statistics.
#include <spdlog/spdlog.h>

#include "http/edge.h"
#include "http/imports_view.h"

namespace saalbuch::http {

using beast_http::status;
using beast_http::verb;
using nlohmann::json;

std::vector<Route> BooksRoutes() {
  constexpr unsigned kFinanceWrite = kFinance | kAdmin;
  constexpr unsigned kFinanceRead = kFinance | kAdmin | kAuditor;
  return {
      {verb::get, "/v1/tenants/{tenant}/journal", kFinanceRead, "journal", &Edge::Journal},
      {verb::get, "/v1/tenants/{tenant}/balances", kFinanceRead, "balances", &Edge::Balances},
      {verb::get, "/v1/tenants/{tenant}/open-items", kFinanceRead, "open_items", &Edge::OpenItems},
      {verb::get, "/v1/tenants/{tenant}/revenue", kFinanceRead, "revenue", &Edge::Revenue},
      {verb::get, "/v1/tenants/{tenant}/reconciliation", kFinanceRead, "reconciliation",
       &Edge::Reconciliation},
      {verb::post, "/v1/tenants/{tenant}/reconciliation/settlements", kFinanceWrite, "import_settlement",
       &Edge::ImportSettlement},
      {verb::post, "/v1/tenants/{tenant}/reconciliation/bank-statements", kFinanceWrite,
       "import_bank_statement", &Edge::ImportBankStatement},
      {verb::get, "/v1/tenants/{tenant}/exports/{file}", kFinanceRead, "export", &Edge::Export},
      {verb::post, "/v1/tenants/{tenant}/periods/close", kFinanceWrite, "period_close", &Edge::ClosePeriod},
      {verb::get, "/v1/tenants/{tenant}/statistics/usage", kFinanceRead | kStaff, "usage", &Edge::Usage},
      {verb::get, "/v1/tenants/{tenant}/statistics/usage.csv", kFinanceRead | kStaff, "usage_csv",
       &Edge::Usage},
  };
}

void Edge::Journal(const CallPtr& c) {
  std::size_t limit = 0;
  if (!Limit(c, &limit) || !DateRange(c, /*months=*/false)) return;
  FinanceQuery(c, [this, t = c->tenant, from = c->Param("from"), to = c->Param("to"), limit,
                   cursor = c->Param("cursor")] {
    return projections::QueryJournal(runner.view(), t, from, to, limit, cursor);
  });
}

void Edge::Balances(const CallPtr& c) {
  FinanceQuery(c, [this, t = c->tenant] { return projections::QueryBalances(runner.view(), t); });
}

void Edge::OpenItems(const CallPtr& c) {
  FinanceQuery(c, [this, t = c->tenant, customer = c->Param("customer")] {
    auto items = projections::QueryOpenItems(runner.view(), t, customer);
    if (items.ok()) {
      for (auto& i : (*items)["items"]) RevealRecipient(i, t);
    }
    return items;
  });
}

void Edge::Revenue(const CallPtr& c) {
  if (!DateRange(c, /*months=*/true)) return;
  FinanceQuery(c, [this, t = c->tenant, from = c->Param("from"), to = c->Param("to")] {
    return projections::QueryRevenue(runner.view(), t, from, to);
  });
}

// GET …/statistics/usage[.csv]?from=YYYY-MM&to=YYYY-MM[&resource=]: both
// months required, at most 10 years apart.
void Edge::Usage(const CallPtr& c) {
  if (!DateRange(c, /*months=*/true)) return;
  const std::string from = c->Param("from"), to = c->Param("to");
  json fields = json::array();
  if (from.empty()) fields.push_back({{"field", "from"}, {"problem", "required, a month YYYY-MM"}});
  if (to.empty()) fields.push_back({{"field", "to"}, {"problem", "required, a month YYYY-MM"}});
  if (fields.empty()) {
    const LocalDay first = *ParseLocalMonth(from), last = *ParseLocalMonth(to);
    if (last < first) fields.push_back({{"field", "to"}, {"problem", "not before from"}});
    if (last - first > 3660) fields.push_back({{"field", "to"}, {"problem", "at most 10 years after from"}});
  }
  if (!fields.empty()) {
    return Problem(c, status::bad_request, "invalid_query", "from and to are months YYYY-MM",
                   {{"fields", fields}});
  }
  const bool csv = c->route == "usage_csv";
  const TenantId& t = c->tenant;
  Query(c, t, [this, c, t, from, to, csv, resource = c->Param("resource")] {
    const Seq p = runner.Position(t);
    auto usage = projections::QueryUsage(runner.view(), runner.availability(), t, from, to, resource);
    if (!csv || !usage.ok()) return SendQuery(c, p, usage, false);
    SendBytes(c, p, "text/csv; charset=utf-8", "usage-" + from + "-" + to + ".csv",
              UsageCsv((*usage)["items"]));
  });
}

void Edge::Reconciliation(const CallPtr& c) {
  FinanceQuery(c, [this, t = c->tenant] { return projections::QueryReconciliation(runner.view(), t); });
}

void Edge::ImportSettlement(const CallPtr& c) {
  const TenantId& t = c->tenant;
  auto payouts = ParseSettlementCsv(c->req.body());
  if (!payouts.ok())
    return Problem(c, status::unprocessable_entity, "invalid_file", payouts.status().message());
  commands::ImportSettlement cmd;
  cmd.file_sha256 = std::string(AsBytes(Sha256Of(c->req.body())));
  cmd.file_name = c->Param("name").substr(0, 200);
  for (const auto& p : *payouts) {
    commands::PayoutIn in;
    in.id = p.id;
    in.day = ParseLocalDay(p.date).value_or(0);
    in.currency = p.currency;
    in.gross = p.gross;
    in.fees = p.fees;
    in.net = p.net;
    for (const auto& i : p.items) in.items.push_back({i.type, i.reference, i.invoice, i.amount, i.fee});
    cmd.payouts.push_back(std::move(in));
  }
  Submit(c, Ctx(c, t, c->caller.Actor()), std::move(cmd));
}

void Edge::ImportBankStatement(const CallPtr& c) {
  const TenantId& t = c->tenant;
  auto statements = ParseCamt053(c->req.body());
  if (!statements.ok()) {
    return Problem(c, status::unprocessable_entity, "invalid_file", statements.status().message());
  }
  commands::ImportBankStatement cmd;
  cmd.file_sha256 = std::string(AsBytes(Sha256Of(c->req.body())));
  for (const BankStatement& s : *statements) {
    commands::BankStatementIn st;
    st.statement_id = s.id;
    st.iban = s.iban;
    st.other_id = s.other_id;
    st.currency = s.currency;
    st.opening = s.opening;
    st.closing = s.closing;
    for (const auto& l : s.lines) {
      commands::BankLineIn in;
      in.reference = l.reference;
      in.amount = l.credit ? l.amount : -l.amount;
      in.booking_day = ParseLocalDay(l.booking_date).value_or(0);
      in.value_day = ParseLocalDay(l.value_date).value_or(in.booking_day);
      in.remittance = l.remittance;
      in.counterparty = l.counterparty;
      in.end_to_end_id = l.end_to_end_id;
      st.lines.push_back(std::move(in));
    }
    cmd.statements.push_back(std::move(st));
  }
  Submit(c, Ctx(c, t, c->caller.Actor()), std::move(cmd));
}

// Every journal entry dated in [from, to] (at most 100000).
Result<std::vector<json>> Edge::JournalEntries(const TenantId& t, const std::string& from,
                                               const std::string& to) {
  std::vector<json> entries;
  std::string cursor;
  do {
    auto page = projections::QueryJournal(runner.view(), t, from, to, 500, cursor);
    if (!page.ok()) return page.status();
    for (auto& e : (*page)["items"]) entries.push_back(std::move(e));
    cursor = (*page)["next_cursor"].is_null() ? "" : (*page)["next_cursor"].get<std::string>();
  } while (!cursor.empty() && entries.size() < 100000);
  return entries;
}

// GET …/exports/{journal.csv, open-items.csv, datev.csv}?from=&to=
void Edge::Export(const CallPtr& c) {
  const TenantId& t = c->tenant;
  const std::string& what = c->params[0];
  if (what != "journal.csv" && what != "open-items.csv" && what != "datev.csv") {
    return Problem(c, status::not_found, "no_route",
                   "no such export; journal.csv, open-items.csv or datev.csv");
  }
  if (!DateRange(c, /*months=*/false)) return;
  const std::string from = c->Param("from"), to = c->Param("to");
  if (what == "datev.csv" && (from.empty() || to.empty() || from.substr(0, 4) != to.substr(0, 4))) {
    return Problem(c, status::bad_request, "invalid_query",
                   "a DATEV export needs from and to (YYYY-MM-DD) within one calendar year");
  }
  Query(c, t, [this, c, t, what, from, to] {
    Seq p = runner.Position(t);
    if (what == "open-items.csv") {
      auto items = projections::QueryOpenItems(runner.view(), t, "");
      if (!items.ok()) return FromStatus(c, items.status());
      for (auto& i : (*items)["items"]) RevealRecipient(i, t);
      return SendBytes(c, p, "text/csv; charset=utf-8", "open-items.csv", OpenItemsCsv((*items)["items"]));
    }
    auto entries = JournalEntries(t, from, to);
    if (!entries.ok()) return FromStatus(c, entries.status());
    if (what == "journal.csv") {
      return SendBytes(c, p, "text/csv; charset=utf-8", "journal.csv", JournalCsv(*entries));
    }
    auto settings = projections::QueryFinanceSettings(runner.view(), t);
    if (!settings.ok()) return FromStatus(c, settings.status());
    auto postings = DatevPostings(*entries);
    if (!postings.ok()) return Problem(c, status::conflict, "export_failed", postings.status().message());
    auto day = [](const std::string& d) {
      return std::stoi(d.substr(0, 4) + d.substr(5, 2) + d.substr(8, 2));
    };
    DatevHeader h;
    h.consultant = settings->value("datev_consultant", "1001");
    h.client = settings->value("datev_client", "1");
    h.fiscal_year_start = std::stoi(from.substr(0, 4)) * 10000 + 101;
    h.from = day(from);
    h.to = day(to);
    h.label = "Saalbuch " + from + " bis " + to;
    h.currency = settings->value("currency", "EUR");
    h.created_at_us = Now();
    h.chart = "03";
    auto file = RenderDatevExtf(h, *postings);
    if (!file.ok()) return Problem(c, status::conflict, "export_failed", file.status().message());
    SendBytes(c, p, "text/csv; charset=windows-1252", "EXTF_Buchungsstapel_" + from + "_" + to + ".csv",
              std::move(*file));
  });
}

void Edge::ClosePeriod(const CallPtr& c) {
  KeyCommand(c, {"through"}, false, [&](Decoder& d, auto) {
    commands::ClosePeriod cmd;
    const std::string day = d.Str("through", true, 10);
    auto parsed = ParseLocalDay(day);
    if (!day.empty() && !parsed) d.Error("through", "must be a date YYYY-MM-DD");
    cmd.through = parsed.value_or(0);
    return commands::Command(cmd);
  });
}
}  // namespace saalbuch::http
