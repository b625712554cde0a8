// Health, metrics, the API contract, the tenants and their state, creating
// tenants, the operator's backups.
#include <prometheus/text_serializer.h>
#include <spdlog/spdlog.h>

#include "http/edge.h"
#include "http/openapi_text.h"  // generated
#include "http/process_metrics.h"

namespace saalbuch::http {

using beast_http::field;
using beast_http::status;
using beast_http::verb;
using nlohmann::json;

std::vector<Route> OperatorRoutes() {
  return {
      {verb::get, "/healthz", kPublic, "healthz", &Edge::Healthz},
      {verb::get, "/readyz", kPublic, "readyz", &Edge::Readyz},
      {verb::get, "/metrics", kOperator, "metrics", &Edge::Metrics},
      {verb::get, "/v1/openapi.json", kPublic, "openapi", &Edge::OpenApi},
      {verb::post, "/v1/tenants", kOperator, "tenants", &Edge::CreateTenant},
      {verb::get, "/v1/operator/tenants", kOperator, "operator_tenants", &Edge::ListTenants},
      {verb::get, "/v1/operator/backups", kOperator, "backups", &Edge::ListBackups},
      {verb::post, "/v1/operator/backups", kOperator, "backups", &Edge::CreateBackup},
  };
}

void Edge::Healthz(const CallPtr& c) { SendJson(c, status::ok, {{"status", "ok"}}); }

void Edge::Readyz(const CallPtr& c) {
  if (!api->ready_) return Problem(c, status::service_unavailable, "not_ready", "the server is not ready");
  if (const auto holds = bus.Holds(); !holds.empty()) {
    // Not ready while any tenant waits for the operator: which, and why.
    std::string code = "time_zone_unknown", detail;
    json tenants = json::object();
    for (const auto& [id, hold] : holds) {
      if (hold.code == "integrity_alarm") code = hold.code;
      tenants[id] = {{"code", hold.code}, {"position", hold.position}, {"message", hold.message}};
      if (!detail.empty()) detail += "; ";
      detail.append("tenant '").append(id).append("' is held: ").append(hold.message);
    }
    return Problem(c, status::service_unavailable, code, detail, {{"tenants", tenants}});
  }
  SendJson(c, status::ok, {{"status", "ready"}});
}

// The registry's metrics, the process's, and the backlogs an operator
// alerts on, read from the projections at the scrape (on a query thread).
void Edge::Metrics(const CallPtr& c) {
  RunQuery(c, [this, c] {
    auto families = registry.Collect();
    for (auto& f : ProcessMetricFamilies()) families.push_back(std::move(f));
    const TimeUs now = Now();
    double due = 0;
    double oldest_s = 0;
    double refunds = 0;
    double lag = 0;
    for (const TenantId& t : log.Tenants()) {
      if (auto head = log.GetHead(t); head.ok() && head->seq > runner.Position(t)) {
        lag = std::max(lag, static_cast<double>(head->seq - runner.Position(t)));
      }
      if (t == OperatorTenant()) continue;
      if (auto entries = projections::QueryOutbox(runner.view(), t, now, 1000000); entries.ok()) {
        due += static_cast<double>(entries->size());
        for (const auto& e : *entries) {
          oldest_s = std::max(oldest_s, static_cast<double>(now - e.value("due", now)) / 1e6);
        }
      }
      if (auto pending = projections::QueryPendingRefunds(runner.view(), t, 1000000); pending.ok()) {
        refunds += static_cast<double>(pending->size());
      }
    }
    families.push_back(OneGauge("saalbuch_outbox_due",
                                "Notifications due and not yet sent, all tenants (the notifier's backlog)",
                                due));
    families.push_back(OneGauge("saalbuch_outbox_oldest_due_seconds",
                                "How long the oldest due notification has waited (0: none waits)", oldest_s));
    families.push_back(OneGauge("saalbuch_refunds_pending",
                                "Refunds not yet handed to the payment provider, all tenants", refunds));
    families.push_back(OneGauge("saalbuch_projection_lag_records",
                                "Records the projections of the furthest-behind tenant have not folded yet",
                                lag));
    Response res{status::ok, 11};
    res.set(field::content_type, "text/plain; version=0.0.4; charset=utf-8");
    res.body() = prometheus::TextSerializer().Serialize(families);
    Send(c, std::move(res));
  });
}

void Edge::OpenApi(const CallPtr& c) {
  Response res{status::ok, 11};
  res.set(field::content_type, "application/json; charset=utf-8");
  res.set(field::cache_control, "no-cache");
  res.body() = kOpenApiText;
  Send(c, std::move(res));
}

void Edge::CreateTenant(const CallPtr& c) {
  auto body = Body(c);
  if (!body) return;
  Decoder d(*body, {"id", "name", "time_zone"});
  commands::CreateTenant cmd;
  cmd.id = TenantId(d.Str("id", true, 64));
  cmd.name = d.Str("name", true, 200);
  cmd.time_zone = d.Str("time_zone", false, 64, "Europe/Berlin");
  if (Invalid(c, d)) return;
  cmd.admin_key_id = "key_" + RandomHex(6);
  cmd.admin_key = "sbk_" + RandomHex(24);
  auto ctx = Ctx(c, cmd.id, c->caller.Actor());  // before cmd is moved from
  Submit(c, std::move(ctx), std::move(cmd), "/v1/tenants/");
}

// Every tenant with its log's head, how far the projections follow it and
// its hold: what the operator looks at first (the operator pages).
void Edge::ListTenants(const CallPtr& c) {
  RunQuery(c, [this, c] {
    const auto holds = bus.Holds();
    json items = json::array();
    for (const TenantId& t : log.Tenants()) {
      if (t == OperatorTenant()) continue;
      const auto head = log.GetHead(t);
      json item = {{"id", t.get()},
                   {"head", head.ok() ? head->seq : Seq{0}},
                   {"projected", runner.Position(t)},
                   {"hold", nullptr}};
      if (auto doc = projections::QueryTenant(runner.view(), t); doc.ok()) {
        item["name"] = doc->value("name", "");
        item["time_zone"] = doc->value("time_zone", "");
      }
      if (auto h = holds.find(t.get()); h != holds.end()) {
        item["hold"] = {
            {"code", h->second.code}, {"position", h->second.position}, {"message", h->second.message}};
      }
      items.push_back(std::move(item));
    }
    SendJson(c, status::ok,
             {{"items", items},
              {"server",
               {{"version", options.version},
                {"started_at", FormatUtc(started)},
                {"backups", options.backups != nullptr}}}});
  });
}

namespace {

json BackupJson(const ledger::BackupInfo& b) {
  return {{"id", b.id},
          {"created_at", FormatUtc(b.created_at_s * kUsPerSecond)},
          {"size_bytes", b.size_bytes},
          {"files", b.files},
          {"heads", b.heads}};
}

}  // namespace

void Edge::ListBackups(const CallPtr& c) {
  ledger::BackupService* backups = options.backups;
  if (backups == nullptr) {
    return Problem(c, status::conflict, "backups_not_configured",
                   "this server has no backup directory; start saalbuchd with --backup-dir");
  }
  json items = json::array();
  for (const auto& b : backups->List()) items.push_back(BackupJson(b));
  SendJson(c, status::ok, {{"items", items}, {"running", backups->running()}});
}

// Makes a backup on the backup service's thread and answers when it is
// complete. Never blocks an I/O thread.
void Edge::CreateBackup(const CallPtr& c) {
  ledger::BackupService* backups = options.backups;
  if (backups == nullptr) {
    return Problem(c, status::conflict, "backups_not_configured",
                   "this server has no backup directory; start saalbuchd with --backup-dir");
  }
  auto body = Body(c, /*allow_empty=*/true);
  if (!body) return;
  Decoder d(*body, {});
  for (const auto& [k, v] : body->items()) d.Error(k, "unknown field; a backup takes no options");
  if (Invalid(c, d)) return;
  const auto start = std::chrono::steady_clock::now();
  const bool started = backups->Start([this, c, start](Result<ledger::BackupInfo> r) {
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (!r.ok()) {
      spdlog::error("msg=\"backup failed\" request={} error=\"{}\"", c->request_id, r.status().ToString());
      if (r.status().code() == StatusCode::kUnavailable) {
        return Problem(c, status::service_unavailable, "shutting_down", "the server stopped the backup");
      }
      return Problem(c, status::service_unavailable, "backup_failed", r.status().message());
    }
    spdlog::info("msg=\"backup created\" id={} bytes={} files={} seconds={:.3f}", r->id, r->size_bytes,
                 r->files, secs);
    json j = BackupJson(*r);
    j["seconds"] = secs;
    SendJson(c, status::created, j);
  });
  if (!started) {
    return Problem(c, status::conflict, "backup_running",
                   "a backup is running; try again when it has finished");
  }
}

}  // namespace saalbuch::http
