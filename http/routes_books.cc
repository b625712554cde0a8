// The books: journal, balances, open items, revenue, reconciliation imports, exports, closing periods;
// the usage statistics.
#include <spdlog/spdlog.h>

#include "http/documents_view.h"
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
      {verb::get, "/v1/tenants/{tenant}/statistics/funnel", kFinanceRead | kStaff, "funnel", &Edge::Funnel},
      {verb::get, "/v1/tenants/{tenant}/statistics/funnel.csv", kFinanceRead | kStaff, "funnel_csv",
       &Edge::Funnel},
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

namespace {

// ?from=YYYY-MM&to=YYYY-MM, both required, at most ten years apart; answers
// 400 and returns false otherwise.
bool MonthsGiven(Edge& e, const CallPtr& c) {
  if (!e.DateRange(c, /*months=*/true)) return false;
  const std::string from = c->Param("from"), to = c->Param("to");
  json fields = json::array();
  if (from.empty()) fields.push_back({{"field", "from"}, {"problem", "required, a month YYYY-MM"}});
  if (to.empty()) fields.push_back({{"field", "to"}, {"problem", "required, a month YYYY-MM"}});
  if (fields.empty()) {
    const LocalDay first = *ParseLocalMonth(from), last = *ParseLocalMonth(to);
    if (last < first) fields.push_back({{"field", "to"}, {"problem", "not before from"}});
    if (last - first > 3660) fields.push_back({{"field", "to"}, {"problem", "at most 10 years after from"}});
  }
  if (fields.empty()) return true;
  e.Problem(c, status::bad_request, "invalid_query", "from and to are months YYYY-MM", {{"fields", fields}});
  return false;
}

}  // namespace

// GET …/statistics/usage[.csv]?from=YYYY-MM&to=YYYY-MM[&resource=]: both
// months required, at most 10 years apart.
void Edge::Usage(const CallPtr& c) {
  if (!MonthsGiven(*this, c)) return;
  const std::string from = c->Param("from"), to = c->Param("to");
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
// GET …/statistics/funnel[.csv]?from=YYYY-MM&to=YYYY-MM[&resource=]: the
// public booking funnel per month and resource (projections::QueryFunnel).
void Edge::Funnel(const CallPtr& c) {
  if (!MonthsGiven(*this, c)) return;
  const bool csv = c->route == "funnel_csv";
  const TenantId& t = c->tenant;
  Query(c, t,
        [this, c, t, csv, from = c->Param("from"), to = c->Param("to"), resource = c->Param("resource")] {
          const Seq p = runner.Position(t);
          auto funnel = projections::QueryFunnel(runner.view(), t, from, to, resource);
          if (!csv || !funnel.ok()) return SendQuery(c, p, funnel, false);
          SendBytes(c, p, "text/csv; charset=utf-8", "funnel-" + from + "-" + to + ".csv",
                    FunnelCsv((*funnel)["items"]));
        });
}

void Edge::FunnelStep(const CallPtr& c, Call::FunnelStep step, const std::string& resource) {
  if (resource.empty() || resource.size() > 64) return;
  if (c->caller.kind != Caller::Kind::kPublic && c->caller.kind != Caller::Kind::kCustomerToken) return;
  // Public routes do not authenticate: staff are known by their key (a
  // customer's token, sbc_, is a citizen's) or their session's cookie.
  if (auto auth = c->req.find(beast_http::field::authorization);
      auth != c->req.end() && !SV(auth->value()).starts_with("Bearer sbc_")) {
    return;
  }
  if (auto cookie = c->req.find(beast_http::field::cookie);
      cookie != c->req.end() &&
      SV(cookie->value()).find("sb_" + c->tenant.get() + "=") != std::string_view::npos) {
    return;
  }
  c->funnel = step;
  c->funnel_resource = resource;
}

void Edge::CountFunnel(const Call& c, unsigned status) {
  const bool view = c.funnel == Call::FunnelStep::kView;
  if (view && status != 200) return;  // a malformed window or an unknown resource is no view
  std::lock_guard lock(funnel_mu);
  auto& resources = funnel_counts[c.tenant.get()];
  auto it = resources.find(c.funnel_resource);
  if (it == resources.end()) {
    if (resources.size() >= commands::kMaxFunnelEntries) return;
    it = resources.emplace(c.funnel_resource, FunnelCounts{}).first;
  }
  FunnelCounts& n = it->second;
  if (view) {
    ++n.views;
    return;
  }
  ++n.attempts;
  if (status < 400) return;
  const std::string code = c.problem_code.empty() ? "http_" + std::to_string(status) : c.problem_code;
  if (n.refusals.size() < commands::kMaxFunnelCodes || n.refusals.count(code) > 0) ++n.refusals[code];
}

void Edge::StartFunnel() {
  funnel_since = Now();
  Every(options.funnel_interval, "funnel", [this] { FlushFunnel(); });
}

// Records what was counted since the last time, one RecordFunnel per tenant
// (actor "system"). A tenant whose record fails loses that count (logged):
// counts are statistics, never worth blocking the log for.
void Edge::FlushFunnel() {
  std::map<std::string, std::map<std::string, FunnelCounts>> counts;
  TimeUs from = 0;
  const TimeUs to = Now();
  {
    std::lock_guard lock(funnel_mu);
    counts.swap(funnel_counts);
    from = funnel_since;
    funnel_since = to;
  }
  for (auto& [tenant, resources] : counts) {
    commands::RecordFunnel cmd;
    cmd.from = from;
    cmd.to = to;
    for (auto& [resource, n] : resources) {
      cmd.entries.push_back({resource, n.views, n.attempts, std::move(n.refusals)});
    }
    commands::Submission s;
    s.ctx.tenant = TenantId(tenant);
    s.ctx.actor = "system";
    s.ctx.command_id = "cmd_" + RandomHex(8);
    s.ctx.correlation_id = "funnel";
    s.command = std::move(cmd);
    const auto outcome = bus.SubmitAndWait(std::move(s));
    if (outcome.kind != commands::Outcome::Kind::kOk && outcome.kind != commands::Outcome::Kind::kCreated) {
      spdlog::warn("msg=\"funnel not recorded\" tenant={} body={}", tenant, outcome.body.dump());
    }
  }
}

}  // namespace saalbuch::http
