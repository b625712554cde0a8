// Saalbuch's HTTP API (API.md; the full contract is http/openapi.json).
//
// Thin by design: decode, authorise, call the command bus or a projection
// query, encode. Business rules live in commands/. Every route is one row
// of the route table (routes_*.cc, beside its handler; router.h dispatches).
//
// Threading: Handle() runs on an I/O thread and never blocks: commands go
// to the bus (whose writers call back), queries run on the API's own query
// threads, waits for a projection position use timers.
#pragma once

#include <prometheus/registry.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "commands/bus.h"
#include "http/forwarded.h"
#include "http/free_space.h"
#include "http/provider_view.h"
#include "http/server.h"
#include "ledger/backup.h"
#include "ledger/log.h"
#include "ledger/vault.h"
#include "projections/runner.h"

namespace saalbuch::http {

struct ApiOptions {
  // The operator's key (creates tenants). Compared in constant time against
  // its hash; never logged.
  std::string operator_key;
  // Longest wait for a projection to reach a requested min_position; then
  // 503 with Retry-After.
  std::chrono::milliseconds max_position_wait{2000};
  // Requests per second and burst per client IP address (all routes).
  double rate_per_second = 200;
  double rate_burst = 400;
  // Public (keyless) booking requests per second and burst per client IP.
  double public_booking_rate = 2;
  double public_booking_burst = 20;
  // Threads that run queries against the projections.
  int query_threads = 2;
  // The key vault for bookers' contact data (not owned). nullptr: contact
  // data is refused (422) and shown as unavailable.
  ledger::Vault* vault = nullptr;
  // Checkpoints' origin is "<log_origin>/<tenant>" (saalbuchd --log-origin).
  std::string log_origin = "saalbuch";
  // The witnesses' cosignature lines of a tenant's checkpoint of a size
  // (ledger/cosignatures.h); unset: none are shown.
  std::function<std::vector<std::string>(const TenantId&, Seq)> cosignatures;
  // Runs the operator's backups (POST /v1/operator/backups). Not owned; must
  // outlive the Api, and be shut down before it. nullptr: no backup
  // directory configured (the routes answer 409 backups_not_configured).
  ledger::BackupService* backups = nullptr;
  // The payment provider (not owned). nullptr: checkouts answer 409
  // payments_not_configured; bank transfers and cash still work.
  PaymentProvider* provider = nullptr;
  // Shared secret of the provider's webhook signatures; empty: webhooks are
  // refused (401).
  std::string webhook_secret;
  // Base URL the provider and browsers reach this server at (return and
  // webhook URLs of checkouts, the demo page's origin).
  std::string public_url = "http://127.0.0.1:8080";
  // public_url was configured (--public-url). When not, a request that came
  // through a trusted proxy gets URLs of the origin the client used (the
  // proxy's X-Forwarded-Proto and -Host) instead.
  bool public_url_configured = false;
  // The free space of the data directory (not owned). Set: commands are
  // refused with 503 storage_unavailable while it is below the reserve.
  const FreeSpaceWatch* free_space = nullptr;
  // Peers whose forwarding headers name the client (--trusted-proxies,
  // http/forwarded.h). Empty: the peer is the client.
  TrustedProxies trusted_proxies;
  // The notifier sends e-mails (--smtp-url): an invitation's reply says
  // whether it goes out by mail too.
  bool mails = false;
  bool doors = false;  // a lock provider is configured (--door-url)
  // What the operator pages show of the server ("saalbuchd 0.1.0 (revision
  // …)"); the programs' VersionLine.
  std::string version = "saalbuchd";
  // How often the retention rule erases who is due (0: never; the dry run
  // still answers).
  std::chrono::seconds retention_interval{3600};
  // How often the public booking funnel counted in memory is recorded in
  // the tenants' logs (0: only at a clean stop).
  std::chrono::seconds funnel_interval{300};
};

class Api {
 public:
  // None of the references is owned; all must outlive the Api.
  Api(boost::asio::io_context& ioc, commands::CommandBus& bus, projections::Runner& runner,
      const ledger::Log& log, prometheus::Registry& registry, ApiOptions options);
  ~Api();
  Api(const Api&) = delete;
  Api& operator=(const Api&) = delete;

  // `peer`: the address of the connection's other end.
  void Handle(Request&& req, const std::string& peer, Respond respond);

  // The headers Handle would add that a reply the server writes by itself
  // (413, 431, 400, 503 while shutting down; ServerOptions::early_headers)
  // should carry too: the CORS headers of a path under a tenant. `req` may
  // be incomplete. Thread-safe; never blocks.
  void AddEarlyHeaders(const Request& req, Response& res) const;

  // The base URL of checkouts' return and webhook URLs; `configured`: the
  // operator named it (ApiOptions::public_url_configured). Call before
  // SetReady(true); not thread-safe against requests.
  void SetPublicUrl(std::string url, bool configured);

  // /readyz answers 200 only while ready.
  void SetReady(bool ready) { ready_ = ready; }
  // Records the public booking funnel counted so far (before the bus shuts
  // down). Blocks until recorded.
  void FlushFunnel();
  // Requests whose response has not been produced yet.
  int in_flight() const { return in_flight_.load(); }
  // Waits for running queries and stops the query threads.
  void Shutdown();

 private:
  friend class Edge;  // answers /readyz, counts the requests in flight
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::atomic<bool> ready_{false};
  std::atomic<int> in_flight_{0};
};

}  // namespace saalbuch::http
