// saalbuch-replay: the auditor's tool. Opens a data directory read-only (a
// copy, a backup, or the directory of a running server) and verifies,
// replays and compares without trusting the server.

#include <CLI/CLI.hpp>

#include <chrono>
#include <iostream>

#include "common/time.h"
#include "ledger/database.h"
#include "ledger/rocks_log.h"
#include "ledger/verify.h"
#include "projections/projections.h"

using namespace saalbuch;
using nlohmann::json;

namespace {

struct Opened {
  std::unique_ptr<ledger::Database> db;
  std::unique_ptr<ledger::RocksLog> log;
};

Opened Open(const std::string& data) {
  ledger::DatabaseOptions o;
  o.secondary = true;  // a running server may write the directory
  auto db = ledger::Database::Open(data + "/db", o);
  if (!db.ok()) throw std::runtime_error(db.status().message());
  Opened out;
  out.db = std::move(db).value();
  out.log = std::make_unique<ledger::RocksLog>(out.db.get());
  return out;
}

std::vector<TenantId> Tenants(const ledger::Log& log, const std::string& only) {
  if (!only.empty()) return {TenantId(only)};
  return log.Tenants();
}

int Verify(const std::string& data, const std::string& tenant, bool as_json) {
  Opened o = Open(data);
  int rc = 0;
  json report = json::array();
  for (const auto& t : Tenants(*o.log, tenant)) {
    const auto start = std::chrono::steady_clock::now();
    auto r = ledger::VerifyChain(*o.log, t, [&](Seq n) {
      if (!as_json) std::cerr << "  " << t.get() << ": " << n << " records verified…\n";
    });
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (!r.ok()) {
      std::cerr << t.get() << ": cannot read the log: " << r.status().ToString() << "\n";
      return 2;
    }
    json j = {{"tenant", t.get()},   {"records", r->records},
              {"head", r->head.seq}, {"head_hash", ToHex(r->head.hash)},
              {"ok", r->ok()},       {"seconds", secs}};
    if (!r->ok()) {
      rc = 1;
      j["first_bad_record"] = *r->first_bad;
      j["problem"] = r->problem;
    }
    if (!as_json) {
      if (r->ok()) {
        std::cout << t.get() << ": OK — " << r->records << " records, head " << r->head.seq << " "
                  << ToHex(r->head.hash) << "\n";
      } else {
        std::cout << t.get() << ": DAMAGED at record " << *r->first_bad << ": " << r->problem << " ("
                  << r->records << " records before it verify)\n";
      }
    }
    report.push_back(std::move(j));
  }
  if (as_json) std::cout << report.dump(2) << "\n";
  return rc;
}

int State(const std::string& data, const std::string& tenant, Seq at, const std::string& resource,
          const std::string& from, const std::string& to, const std::string& booking) {
  Opened o = Open(data);
  const TenantId t(tenant);
  auto head = o.log->GetHead(t);
  if (!head.ok() || head->seq == 0) {
    std::cerr << "no tenant '" << tenant << "' in " << data << "\n";
    return 2;
  }
  if (at == 0 || at > head->seq) at = head->seq;
  projections::MemoryStore store;
  if (Status s = projections::FoldInto(&store, *o.log, t, at); !s.ok()) {
    std::cerr << "replay failed: " << s.ToString() << "\n";
    return 2;
  }
  json out = {{"tenant", tenant}, {"position", at}, {"head", head->seq}};
  if (!booking.empty()) {
    auto b = projections::QueryBooking(store, t, BookingId(booking));
    out["booking"] = b.ok() ? b->doc : json(nullptr);
    std::cout << out.dump(2) << "\n";
    return b.ok() ? 0 : 1;
  }
  TimeRange window;
  auto f = ParseRfc3339(from);
  auto e = ParseRfc3339(to);
  if (!f.ok() || !e.ok()) {
    std::cerr << "--from and --to must be RFC 3339 times with offset\n";
    return 2;
  }
  window = {*f, *e};
  auto resources = projections::QueryResources(store, t);
  if (!resources.ok()) {
    std::cerr << resources.status().ToString() << "\n";
    return 2;
  }
  json availability = json::object();
  for (const auto& r : resources->at("items")) {
    const std::string id = r.at("id").get<std::string>();
    if (!resource.empty() && id != resource) continue;
    auto a = projections::QueryAvailability(store, t, ResourceId(id), window);
    if (!a.ok()) {
      std::cerr << id << ": " << a.status().ToString() << "\n";
      return 2;
    }
    availability[id] = *a;
  }
  out["availability"] = availability;
  std::cout << out.dump(2) << "\n";
  return 0;
}

int Diff(const std::string& data, const std::string& tenant) {
  Opened o = Open(data);
  projections::RocksStore live(o.db.get());
  int rc = 0;
  for (const auto& t : Tenants(*o.log, tenant)) {
    auto upto = projections::LowestCheckpoint(live, t);
    if (!upto.ok()) return 2;
    projections::MemoryStore replay;
    if (*upto > 0) {
      if (Status s = projections::FoldInto(&replay, *o.log, t, *upto); !s.ok()) {
        std::cerr << t.get() << ": replay failed: " << s.ToString() << "\n";
        return 2;
      }
    }
    auto a = projections::TenantKeys(live, t);
    auto b = projections::TenantKeys(replay, t);
    if (!a.ok() || !b.ok()) return 2;
    std::size_t differences = 0;
    for (const auto& [k, v] : *a) {
      auto it = b->find(k);
      if (it == b->end() || it->second != v) ++differences;
    }
    for (const auto& [k, v] : *b) differences += a->count(k) == 0 ? 1 : 0;
    std::cout << t.get() << ": position " << *upto << ", " << a->size() << " live keys, " << differences
              << " differences" << (differences == 0 ? " — identical" : " — DIFFERENT") << "\n";
    if (differences != 0) rc = 1;
  }
  return rc;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "saalbuch-replay — verify and replay Saalbuch logs, read-only.\n"
      "Works on a copy or backup of a data directory and on the directory of a running server."};
  app.require_subcommand(1);
  std::string data = "./data", tenant, resource, booking;
  std::string from, to;
  Seq at = 0;
  bool as_json = false;

  auto* verify = app.add_subcommand("verify",
                                    "Verify every tenant's hash chain from the first record; "
                                    "exit 1 and name the first bad record on damage");
  verify->add_option("--data", data, "Data directory")->capture_default_str();
  verify->add_option("--tenant", tenant, "Only this tenant");
  verify->add_flag("--json", as_json, "Print a JSON report");

  auto* state = app.add_subcommand("state",
                                   "Fold the projections up to a log position and print "
                                   "availability (or one booking) as JSON");
  state->add_option("--data", data, "Data directory")->capture_default_str();
  state->add_option("--tenant", tenant, "Tenant")->required();
  state->add_option("--at", at, "Log position (default: the head)");
  state->add_option("--resource", resource, "Only this resource");
  state->add_option("--from", from, "Window start, RFC 3339 (default: today 00:00 UTC)");
  state->add_option("--to", to, "Window end, RFC 3339 (default: 7 days after --from)");
  state->add_option("--booking", booking, "Print this booking with its history instead");

  auto* diff = app.add_subcommand("diff",
                                  "Rebuild the projections from record 1 in memory and compare "
                                  "them byte for byte with the live ones");
  diff->add_option("--data", data, "Data directory")->capture_default_str();
  diff->add_option("--tenant", tenant, "Only this tenant");

  CLI11_PARSE(app, argc, argv);
  try {
    if (*verify) return Verify(data, tenant, as_json);
    if (*state) {
      if (from.empty()) {
        auto today = date::floor<date::days>(std::chrono::system_clock::now());
        from = date::format("%FT%TZ", date::sys_seconds(today));
      }
      if (to.empty()) {
        auto f = ParseRfc3339(from);
        if (!f.ok()) {
          std::cerr << f.status().message() << "\n";
          return 2;
        }
        to = FormatUtc(*f + 7LL * 24 * 3600 * kUsPerSecond);
      }
      return State(data, tenant, at, resource, from, to, booking);
    }
    if (*diff) return Diff(data, tenant);
  } catch (const std::exception& e) {
    std::cerr << "saalbuch-replay: " << e.what() << "\n";
    return 2;
  }
  return 0;
}
