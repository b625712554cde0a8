// The shared part of the API's handlers (internal to http/): one request in
// flight (`Call`), who is calling (`Caller`), and `Edge`, which owns what
// every handler needs — responses and RFC 9457 problems, the command bus,
// projection queries on the query threads, body decoding, ETags.
//
// The handlers themselves are `Edge` members defined in the topic files
// (routes_*.cc) beside their rows of the route table (routes.h); the router
// (router.h) has matched the path and authorised the caller before a handler
// runs, so a handler only decodes, calls and encodes.
//
// Threading: everything here may run on an I/O thread and never blocks:
// commands go to the bus (whose writers call back), queries run on `pool`,
// waits for a projection position use timers.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <spdlog/logger.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "commands/bus.h"
#include "common/crypto.h"
#include "http/api.h"
#include "http/decode.h"
#include "http/documents_view.h"
#include "http/forwarded.h"
#include "http/logging.h"
#include "projections/projections.h"

namespace saalbuch::http {

namespace beast_http = boost::beast::http;

struct WebAsset;

std::string_view SV(boost::beast::string_view v);
// JSON for a reply body: compact, invalid UTF-8 replaced rather than thrown.
std::string Dump(const nlohmann::json& j);

// Who may call a route; a route admits the union of its bits.
enum Access : unsigned {
  kPublic = 1U << 0,    // anyone, no credential
  kOperator = 1U << 1,  // the operator key
  kAdmin = 1U << 2,     // tenant API keys by role
  kStaff = 1U << 3,
  kFinance = 1U << 4,
  kAuditor = 1U << 5,
  kManageToken = 1U << 6,       // the booker's manage token (sbm_…)
  kCustomerToken = 1U << 7,     // a customer's token (Bearer sbc_…)
  kWebhookSignature = 1U << 8,  // the payment provider's signed webhook
};

// The caller as the router authenticated it.
struct Caller {
  // kKey: a tenant credential with a role — an API key, or a person signed
  // in to the back office (then `session` is set and key->id is the account).
  // kOperator: the operator key, or an operator signed in to the operator
  // pages (then `session` and `key` are set as for kKey).
  enum class Kind { kPublic, kOperator, kKey, kManageToken, kCustomerToken };
  Kind kind = Kind::kPublic;
  std::optional<commands::ApiKey> key;  // kKey
  std::string token;                    // kManageToken, kCustomerToken
  std::string session;                  // kKey by a session: its token (from the cookie)
  // The log's actor of a command by this caller.
  std::string Actor() const;
};

// One request in flight: everything a handler needs to answer it.
struct Call {
  Request req;
  // Who sent it: the client's address after the trusted-proxy rule (the
  // key of the per-client limits and the access log), and the origin it
  // used (http/forwarded.h).
  ClientView client;
  Respond respond;
  std::string route = "unmatched";  // metric label
  std::string request_id;
  std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
  bool public_cors = false;
  // Headers a successful (2xx) reply carries besides its own (Set-Cookie).
  std::vector<std::pair<std::string, std::string>> success_headers;
  Target target;
  TenantId tenant;  // empty outside /v1/tenants/{tenant}/… (OperatorTenant under /v1/operator/)
  // Path parameters in the order of the route's pattern (tenant excluded).
  std::vector<std::string> params;
  Caller caller;
  // A step of the public booking funnel this request is (counted by Send
  // once answered), the resource it concerns, and the code of the problem
  // it was answered with.
  enum class FunnelStep { kNone, kView, kAttempt };
  FunnelStep funnel = FunnelStep::kNone;
  std::string funnel_resource;
  std::string problem_code;
  // The query parameter `name`, or "".
  std::string Param(const char* name) const;
};
using CallPtr = std::shared_ptr<Call>;

// Whether the path is under /v1/tenants/{tenant}/.
bool UnderTenant(const std::vector<std::string>& segments);
// The origin (RFC 6454: lower-case scheme://host[:port], no default port)
// of an absolute URL; "" when it has no scheme.
std::string OriginOf(std::string_view url);

class Edge;
// A handler of one route: the router has authorised c->caller.
using RouteHandler = void (Edge::*)(const CallPtr& c);

// One row of the route table.
struct Route {
  beast_http::verb method;
  // Path segments; "{name}" is a parameter, "{tenant}" names the tenant.
  // The same spelling as the paths of http/openapi.json.
  std::string_view pattern;
  unsigned access;         // Access bits
  std::string_view label;  // the metric label
  RouteHandler handler;
};

// A token bucket per client address. Bounded: when the table grows past
// kMaxClients it is cleared, which at worst forgives some clients a burst.
// Thread-safe.
class RateLimiter {
 public:
  RateLimiter(double rate, double burst) : rate_(rate), burst_(burst) {}
  // Seconds to wait before the next request is allowed; 0 = allowed now.
  double Take(const std::string& key);

 private:
  struct Bucket {
    double tokens;
    std::chrono::steady_clock::time_point last;
  };
  const double rate_, burst_;
  std::mutex mu_;
  std::unordered_map<std::string, Bucket> buckets_;
};

// True when an If-None-Match header value matches `etag` by the weak
// comparison of RFC 9110 § 13.1.2: "*", or any listed tag whose opaque part
// equals etag's (W/ prefixes ignored on both sides).
bool IfNoneMatchHits(std::string_view header, std::string_view etag);

class Edge {
 public:
  Edge(Api* api, boost::asio::io_context& ioc, commands::CommandBus& bus, projections::Runner& runner,
       const ledger::Log& log, prometheus::Registry& registry, ApiOptions options);

  Api* api;
  boost::asio::io_context& ioc;
  commands::CommandBus& bus;
  projections::Runner& runner;
  const ledger::Log& log;
  prometheus::Registry& registry;
  ApiOptions options;
  Sha256 operator_key_hash;
  const TimeUs started = Now();
  boost::asio::thread_pool pool;
  RateLimiter limiter;
  RateLimiter public_booking_limiter;
  RateLimiter sign_in_limiter;  // per address and tenant
  prometheus::Family<prometheus::Counter>& requests;
  prometheus::Family<prometheus::Histogram>& latency;
  // The counter and histogram of each (route, method, status) seen so far:
  // a family's Add builds and hashes a label map under the family's lock,
  // which every request paid before.
  struct RequestMetrics {
    prometheus::Counter* count;
    prometheus::Histogram* seconds;
  };
  RequestMetrics MetricsFor(const std::string& route, const std::string& method, unsigned status);
  std::mutex metrics_mu;
  std::unordered_map<std::string, RequestMetrics> metrics_by_key;  // guarded by metrics_mu
  // One line per request (http/logging.h).
  std::shared_ptr<spdlog::logger> access_log;

  // ---- responses (edge.cc) ----
  void Send(const CallPtr& c, Response res);
  void SendJson(const CallPtr& c, beast_http::status st, const nlohmann::json& body,
                std::optional<Seq> position = std::nullopt);
  void Problem(const CallPtr& c, beast_http::status st, const std::string& code, const std::string& detail,
               nlohmann::json details = nlohmann::json::object(), std::optional<Seq> position = std::nullopt);
  void FromStatus(const CallPtr& c, const Status& s);
  void TooMany(const CallPtr& c, double wait_s);
  void NotAllowed(const CallPtr& c, const std::string& allow);
  void Preflight(const CallPtr& c);
  // The CORS headers of a reply to `req` (API.md, WIDGET.md) for a route
  // open to browsers: outside /v1/tenants/{tenant}/ always "*"; under it
  // "*" while the tenant lists no allowed origins, else (with
  // `Vary: Origin`) the request's Origin when the tenant lists it or it is
  // this server's own (options.public_url), and none otherwise.
  void Cors(const Request& req, const std::vector<std::string>& segments, Response& res) const;
  // The base of URLs built for this request's client: the configured
  // public URL; without one, the origin the client used when a trusted
  // proxy reports it; else the server's own address.
  std::string PublicUrl(const Call& c) const;
  // `result` with the projection position; with `etag`, an ETag and 304
  // when the client already has it.
  void SendQuery(const CallPtr& c, Seq position, const Result<nlohmann::json>& result, bool etag);
  void AddCosignatures(const TenantId& t, nlohmann::json* checkpoint) const;
  // An iCalendar body with an ETag computed without its DTSTAMP lines.
  void SendIcs(const CallPtr& c, Seq position, const std::string& ics, const std::string& filename);
  void SendBytes(const CallPtr& c, Seq position, const std::string& type, const std::string& filename,
                 std::string bytes);
  void SendPdf(const CallPtr& c, Seq position, const TenantId& t, const std::string& number,
               const std::function<PdfDocument(const nlohmann::json& settings, const Zone* zone)>& make);

  // ---- auth (edge.cc) ----
  std::string Bearer(const CallPtr& c) const;
  bool IsOperator(const CallPtr& c) const;
  // A manage token from "Authorization: Bearer sbm_…", the
  // Saalbuch-Manage-Token header or ?token=.
  std::string ManageToken(const CallPtr& c) const;
  // Sets c->caller to a caller `access` admits, or answers 401/403 and
  // returns false. kOperator admits the operator key and an operator's
  // session (the cookie of OperatorTenant's accounts).
  bool Authorize(const CallPtr& c, unsigned access);
  // The back-office session of the request's cookie for tenant `t`
  // (routes_accounts.cc): 0 when there is none, 1 when it is valid
  // (c->caller set to it), -1 after answering 401/403 (expired, or a
  // state-changing request without the session's CSRF token).
  // `public_fallback`: a cookie without a CSRF token is ignored instead.
  int SessionCaller(const CallPtr& c, const TenantId& t, unsigned access, bool public_fallback);

  // ---- commands (edge.cc) ----
  commands::Context Ctx(const CallPtr& c, const TenantId& t, std::string actor);
  // Answers 503 storage_unavailable and returns true when less than the
  // reserve is free on the data directory's filesystem (ApiOptions::
  // free_space) and `c` would write; GET and HEAD never do.
  bool StorageLow(const CallPtr& c);
  // `accepted`, when given, runs on a query thread with an accepted
  // command's reply before the reply is sent (work that must follow the
  // record, such as deleting a vault key).
  void Submit(const CallPtr& c, commands::Context ctx, commands::Command cmd,
              const std::string& location_prefix = {},
              const std::function<void(const nlohmann::json& reply)>& accepted = {});
  // Answers a refused (kRejected) or failed (kFailed) command's outcome.
  void Refused(const CallPtr& c, const commands::Outcome& o);
  // The request's JSON object; answers 400/415 and returns nullopt otherwise.
  std::optional<nlohmann::json> Body(const CallPtr& c, bool allow_empty = false);
  // Answers 422 with every bad field and returns true when `d` has errors.
  bool Invalid(const CallPtr& c, const Decoder& d);
  // If-Match as a version; *bad after answering 400.
  std::optional<std::uint64_t> IfMatch(const CallPtr& c, bool* bad);
  // A command by the authorised key: the body (optional when
  // `body_optional`) is decoded by decode(decoder, if_match) with only the
  // `allowed` fields.
  template <typename Decode>
  void KeyCommand(const CallPtr& c, std::vector<std::string> allowed, bool body_optional, Decode decode,
                  const std::string& location = {}) {
    bool bad = false;
    auto if_match = IfMatch(c, &bad);
    if (bad) return;
    auto body = Body(c, body_optional);
    if (!body) return;
    Decoder d(*body, std::move(allowed));
    commands::Command cmd = decode(d, if_match);
    if (Invalid(c, d)) return;
    Submit(c, Ctx(c, c->tenant, c->caller.Actor()), std::move(cmd), location);
  }

  // ---- queries (edge.cc) ----
  // Runs `query` on a query thread once the tenant's projections reached the
  // position the client named (min_position or Saalbuch-Min-Position).
  void Query(const CallPtr& c, const TenantId& t, std::function<void()> query);
  // As Query, but runs `query` on the calling I/O thread: only for queries
  // of an in-memory read model, which neither block nor take long
  // (Runner::availability). Saves two thread hand-offs per request.
  void QueryInMemory(const CallPtr& c, const TenantId& t, std::function<void()> query);
  // Runs `query` on a query thread (or here); a throw answers 500.
  void RunQuery(const CallPtr& c, std::function<void()> query, bool here = false);
  void WaitThenRun(const CallPtr& c, const TenantId& t, Seq min,
                   std::chrono::steady_clock::time_point deadline, std::function<void()> query, bool here,
                   std::chrono::milliseconds delay = std::chrono::milliseconds(0));
  // The min_position or Saalbuch-Min-Position the client named (0: none);
  // answers 400 and returns nullopt when it is not a position.
  std::optional<Seq> MinPosition(const CallPtr& c);
  // ?from=&to= (RFC 3339) into *w; answers 400 and returns false otherwise.
  bool Window(const CallPtr& c, TimeRange* w);
  // Optional ?from=&to= as calendar dates (YYYY-MM-DD) or, with `months`,
  // months (YYYY-MM), of the years kMinYear–kMaxYear (common/time.h); an
  // empty one is no bound.
  // Answers 400 invalid_query naming each bad one (details.fields, as
  // validation_failed does) and returns false otherwise.
  bool DateRange(const CallPtr& c, bool months);
  // ?limit= (1–500, default 50) into *limit; answers 400 and returns false
  // when malformed.
  bool Limit(const CallPtr& c, std::size_t* limit);
  // Replaces a booking document's sealed contact by the contact itself, or
  // by {"erased": true} once the key is gone. Runs on a query thread.
  void Reveal(nlohmann::json& doc, const TenantId& t);
  void RevealItems(Result<nlohmann::json>& page, const TenantId& t);
  // Replaces an invoice document's sealed recipient by "recipient" {name,
  // street, postcode, city, country}, or {"erased": true} once its key is
  // gone. Runs on a query thread.
  void RevealRecipient(nlohmann::json& invoice, const TenantId& t);
  // For an invoice that names neither a recipient nor a customer: adds
  // "contact_name", the booker's name from the booking's sealed contact
  // (the buyer of its e-invoice), unless there is none or it was erased.
  void RevealContactName(nlohmann::json& invoice, const TenantId& t);
  // The persons an e-mail address has stood for in `t`, oldest first: those
  // erased, then the one it stands for now (the last). A person's id is
  // "p_" ‖ 16 hex digits of HMAC(the tenant's blind-index key, "person" 0
  // address 0 n), n counting the erasures before it; the address (trimmed,
  // lower case) is never stored. Reads the bookings projection, so a
  // booking right after an erasure may still name the erased person (and
  // is refused 409 person_erased). Runs on a query thread.
  Result<std::vector<std::string>> PersonsOf(const TenantId& t, std::string_view email);
  // The blind-index terms of name words (common/names.h): 32 hex digits of
  // HMAC(the tenant's blind-index key, "name" 0 word) each.
  Result<std::vector<std::string>> NameTerms(const TenantId& t, const std::vector<std::string>& words);
  // The same for a customer document's billing profile ("billing").
  void RevealBilling(nlohmann::json& customer, const TenantId& t);
  // The JSON sealed under vault key `key` (hex `sealed_hex`), or {"erased":
  // true} once the key is gone ({"unavailable": true} if the vault fails).
  nlohmann::json OpenSealed(const TenantId& t, const std::string& key, const std::string& sealed_hex);
  static TimeUs Now();

  // ---- health and operator (routes_operator.cc) ----
  void Healthz(const CallPtr& c);
  void Readyz(const CallPtr& c);
  void Metrics(const CallPtr& c);
  void OpenApi(const CallPtr& c);
  void CreateTenant(const CallPtr& c);
  void ListBackups(const CallPtr& c);
  void CreateBackup(const CallPtr& c);
  void ListTenants(const CallPtr& c);

  // ---- tenants and keys (routes_tenants.cc) ----
  void GetTenant(const CallPtr& c);
  void SetHolidays(const CallPtr& c);
  void SetSettings(const CallPtr& c);
  void SetPublicSettings(const CallPtr& c);
  void CreateKey(const CallPtr& c);
  void ListKeys(const CallPtr& c);
  void RevokeKey(const CallPtr& c);
  void RotateKey(const CallPtr& c);

  // ---- catalog and rules (routes_catalog.cc) ----
  void CreateResource(const CallPtr& c);
  void ListResources(const CallPtr& c);
  void GetResource(const CallPtr& c);
  void SetRules(const CallPtr& c);
  void Availability(const CallPtr& c);
  void BusyFeed(const CallPtr& c);
  void ScheduleSession(const CallPtr& c);
  void ListAddons(const CallPtr& c);
  void SetAddon(const CallPtr& c);

  // ---- bookings and series (routes_bookings.cc) ----
  void PlaceBooking(const CallPtr& c);
  void ListBookings(const CallPtr& c);
  void GetBooking(const CallPtr& c);
  void BookingCalendar(const CallPtr& c);
  void ResourceBookings(const CallPtr& c);
  void CancelBooking(const CallPtr& c);
  void QuoteCancellation(const CallPtr& c);
  void RescheduleBooking(const CallPtr& c);
  void ApproveBooking(const CallPtr& c);
  void RejectBooking(const CallPtr& c);
  void ConfirmBooking(const CallPtr& c);
  void CompleteBooking(const CallPtr& c);
  void NoShowBooking(const CallPtr& c);
  void PlaceSeries(const CallPtr& c);
  void CancelSeries(const CallPtr& c);
  // Reads one booking for its booker (whose manage token must be the
  // booking's) or a key, then calls `then` on a query thread. A wrong token
  // answers exactly like an unknown booking.
  void QueryBooking(const CallPtr& c, const std::string& id,
                    std::function<void(Seq, const projections::BookingView&)> then);

  // ---- customers, groups and rights (routes_customers.cc) ----
  void ListGroups(const CallPtr& c);
  void DefineGroup(const CallPtr& c);
  void ListCustomers(const CallPtr& c);
  void RegisterCustomer(const CallPtr& c);
  void GetCustomer(const CallPtr& c);
  void ChangeCustomerGroup(const CallPtr& c);
  void SetCustomerBilling(const CallPtr& c);
  void GrantQualification(const CallPtr& c);
  void RevokeQualification(const CallPtr& c);
  void ListRights(const CallPtr& c);
  void GrantRight(const CallPtr& c);
  void RevokeRight(const CallPtr& c);
  void ErasePerson(const CallPtr& c);
  void FindPersons(const CallPtr& c);
  void ExportPerson(const CallPtr& c);
  void Funnel(const CallPtr& c);
  // The public booking funnel: counted in memory per tenant and resource,
  // recorded (RecordFunnel) every options.funnel_interval and by FlushFunnel.
  struct FunnelCounts {
    std::uint32_t views = 0, attempts = 0;
    std::map<std::string, std::uint32_t> refusals;
  };
  // Marks `c` as a step of the funnel when a citizen (no key) sent it.
  static void FunnelStep(const CallPtr& c, Call::FunnelStep step, const std::string& resource);
  void CountFunnel(const Call& c, unsigned status);
  void StartFunnel();
  void FlushFunnel();
  std::mutex funnel_mu;
  std::map<std::string, std::map<std::string, FunnelCounts>> funnel_counts;  // tenant → resource
  TimeUs funnel_since = 0;
  // Door access (routes_doors.cc).
  void ListDoors(const CallPtr& c);
  void GetDoorSettings(const CallPtr& c);
  void SetDoorSettings(const CallPtr& c);
  void SetDoor(const CallPtr& c);
  // Adds "door" to a booking document: its door state, and the code for
  // staff, or for the booker from the tenant's reveal time on.
  void RevealDoor(nlohmann::json& doc, const TenantId& t, bool staff);
  void GetRetention(const CallPtr& c);
  void SetRetention(const CallPtr& c);
  // The retention rule's timer (every options.retention_interval) and one
  // round of it.
  void StartRetention();
  void RetentionRound();
  // Runs `job` on a query thread every `interval` (the next wait starts
  // when it ends; a zero interval: never), logging what it throws as `what`.
  void Every(std::chrono::seconds interval, const char* what, std::function<void()> job);
  // Catalog lists by projection kind: add-ons 'a' (with an ETag, public),
  // groups 'g', rights 'i', customers 'u'.
  void CatalogList(const CallPtr& c, char kind);

  // ---- money: tariffs, settings, documents (routes_finance.cc) ----
  void ListTariffs(const CallPtr& c);
  void GetTariff(const CallPtr& c);
  void SetTariff(const CallPtr& c);
  void GetFinanceSettings(const CallPtr& c);
  void SetFinanceSettings(const CallPtr& c);
  void ListInvoices(const CallPtr& c);
  void GetInvoice(const CallPtr& c);
  void BookingInvoice(const CallPtr& c);
  void ListCreditNotes(const CallPtr& c);
  void GetCreditNote(const CallPtr& c);
  void GetReceipt(const CallPtr& c);
  void ListPayments(const CallPtr& c);
  void ListRefunds(const CallPtr& c);
  void Checkout(const CallPtr& c);
  void RecordPayment(const CallPtr& c);
  void RefundInvoice(const CallPtr& c);
  void CompleteRefund(const CallPtr& c);
  void Webhook(const CallPtr& c);
  void FinanceQuery(const CallPtr& c, std::function<Result<nlohmann::json>()> fn);
  void FinanceList(const CallPtr& c, char kind);
  // An invoice for a key or for the booker of its booking (manage token);
  // a wrong token looks like no invoice.
  void WithInvoice(const CallPtr& c, const std::string& id, std::function<void(Seq, nlohmann::json)> then);
  void SendInvoice(const CallPtr& c, const std::string& id, bool pdf);
  void GetInvoiceEInvoice(const CallPtr& c);
  void GetCreditNoteEInvoice(const CallPtr& c);
  // The EN 16931 XML `make` renders; 422 einvoice_incomplete when it cannot.
  void SendEInvoice(
      const CallPtr& c, Seq position, const TenantId& t, const std::string& number,
      const std::function<Result<std::string>(const nlohmann::json& settings, const Zone* zone)>& make);

  // ---- money: books, reconciliation, exports (routes_books.cc) ----
  void Journal(const CallPtr& c);
  void Balances(const CallPtr& c);
  void OpenItems(const CallPtr& c);
  void Revenue(const CallPtr& c);
  void Usage(const CallPtr& c);
  void Reconciliation(const CallPtr& c);
  void ImportSettlement(const CallPtr& c);
  void ImportBankStatement(const CallPtr& c);
  void Export(const CallPtr& c);
  void ClosePeriod(const CallPtr& c);
  // Every journal entry dated in [from, to] (at most 100000).
  Result<std::vector<nlohmann::json>> JournalEntries(const TenantId& t, const std::string& from,
                                                     const std::string& to);

  // ---- the browser side: widget and pages (routes_web.cc) ----
  void HomePage(const CallPtr& c);
  void DemoPage(const CallPtr& c);
  void CatalogPage(const CallPtr& c);
  void BookingPage(const CallPtr& c);
  void ManagePage(const CallPtr& c);
  void PayPage(const CallPtr& c);
  // The back office (/admin/{tenant}/, …/join for an invitation); the
  // operator's pages (/betrieb/, …/join).
  void AdminPage(const CallPtr& c);
  void OperatorPage(const CallPtr& c);
  void WidgetScript(const CallPtr& c);
  void WidgetFile(const CallPtr& c);
  // The HTML page for a path that is no page (browsers asking for HTML).
  void NotFoundPage(const CallPtr& c);
  // web/`name` as an HTML page, its {{placeholders}} filled with `values`
  // (HTML-escaped), with the pages' Content-Security-Policy.
  void SendPage(const CallPtr& c, beast_http::status st, std::string_view name,
                const std::vector<std::pair<std::string, std::string>>& values);
  void SendAsset(const CallPtr& c, const WebAsset& a, const char* cache_control);
  // The page's tenant (first path parameter); answers the not-found page
  // and returns false when there is no such tenant.
  bool PageTenant(const CallPtr& c, std::string* tenant);

  // ---- people's accounts and sessions (routes_accounts.cc) ----
  void ListAccounts(const CallPtr& c);
  void InviteAccount(const CallPtr& c);
  void ChangeAccountRole(const CallPtr& c);
  void DisableAccount(const CallPtr& c);
  void AcceptInvitation(const CallPtr& c);
  void SignIn(const CallPtr& c);
  void GetSession(const CallPtr& c);
  void SignOut(const CallPtr& c);
  void ChangePassword(const CallPtr& c);
  void NewTotpSecret(const CallPtr& c);
  void SetTotp(const CallPtr& c);
  void RemoveTotp(const CallPtr& c);
  void ResetTotp(const CallPtr& c);
  void GetTotpPolicy(const CallPtr& c);
  void SetTotpPolicy(const CallPtr& c);

  // ---- audit (routes_audit.cc) ----
  void Events(const CallPtr& c);
  void EventStream(const CallPtr& c);
  void LatestCheckpoint(const CallPtr& c);
  void CheckpointKey(const CallPtr& c);
  void InclusionProof(const CallPtr& c);
  void ConsistencyProof(const CallPtr& c);
  void NoRootSigned(const CallPtr& c);
  std::optional<Seq> ProofSize(const CallPtr& c, const char* name, Seq head, nlohmann::json* checkpoint);
  // Runs `then` on a query thread once the tenant's log has passed `after`
  // or the deadline has come, whichever is first.
  void WaitForRecords(const CallPtr& c, const TenantId& t, Seq after,
                      std::chrono::steady_clock::time_point deadline, std::function<void()> then);
};

// The route table, by topic (each defined beside its handlers).
std::vector<Route> OperatorRoutes();         // health, metrics, the contract, tenants, backups
std::vector<Route> TenantRoutes();           // one tenant, its settings, holidays and keys
std::vector<Route> CatalogRoutes();          // resources, rules, availability, sessions, add-ons
std::vector<Route> BookingRoutes();          // bookings and series
std::vector<Route> CustomerRoutes();         // customers, groups, qualifications, rights, persons
std::vector<Route> FinanceRoutes();          // tariffs, settings, invoices, payments, refunds
std::vector<Route> BooksRoutes();            // journal, balances, reconciliation, exports, periods
std::vector<Route> AuditRoutes();            // the log, its live tail, checkpoints
std::vector<Route> AccountRoutes();          // people's accounts, invitations, sign-in and sessions
std::vector<Route> OperatorAccountRoutes();  // the same for the operator's own accounts
std::vector<Route> DoorRoutes();             // door access: doors, settings, pending and failed codes
// Not part of the API (and not in openapi.json): the widget and the pages.
std::vector<Route> PageRoutes();

}  // namespace saalbuch::http
