#include "http/edge.h"

#include <prometheus/text_serializer.h>
#include <spdlog/spdlog.h>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <algorithm>
#include <cctype>
#include <cmath>

#include "common/time.h"

namespace saalbuch::http {

std::string_view SV(boost::beast::string_view v) { return {v.data(), v.size()}; }

namespace net = boost::asio;
using beast_http::field;
using beast_http::status;
using beast_http::verb;
using nlohmann::json;

namespace {

constexpr const char* kJson = "application/json; charset=utf-8";
constexpr std::size_t kMaxListLimit = 500;
constexpr std::size_t kDefaultListLimit = 50;

// The booking a command names, to tell an archived booking (gone from the
// write model, still in the projections: TenantModel::kArchiveAfter) from
// an unknown one when Decide answers not_found. `token`: the booker's manage
// token (empty for staff), which must match before the answer says more
// than "not found".
struct BookingSubject {
  BookingId id;
  std::string token;
};

std::optional<BookingSubject> SubjectOf(const commands::Command& cmd) {
  return std::visit(
      [](const auto& c) -> std::optional<BookingSubject> {
        using T = std::decay_t<decltype(c)>;
        if constexpr (std::is_same_v<T, commands::CancelBooking> ||
                      std::is_same_v<T, commands::RescheduleBooking>) {
          return BookingSubject{c.id, c.by_staff ? "" : c.manage_token};
        } else if constexpr (std::is_same_v<T, commands::QuoteCancellation>) {
          return BookingSubject{c.cancel.id, c.cancel.by_staff ? "" : c.cancel.manage_token};
        } else if constexpr (std::is_same_v<T, commands::ApproveBooking> ||
                             std::is_same_v<T, commands::RejectBooking> ||
                             std::is_same_v<T, commands::ConfirmBooking> ||
                             std::is_same_v<T, commands::CompleteBooking>) {
          return BookingSubject{c.id, ""};
        } else {
          return std::nullopt;
        }
      },
      cmd);
}

// The HTTP method as a metric label: a fixed set, so that clients cannot
// create series at will.
std::string MethodLabel(verb m) {
  switch (m) {
    case verb::get:
      return "GET";
    case verb::post:
      return "POST";
    case verb::put:
      return "PUT";
    case verb::options:
      return "OPTIONS";
    case verb::head:
      return "HEAD";
    case verb::delete_:
      return "DELETE";
    default:
      return "other";
  }
}

}  // namespace

std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

double RateLimiter::Take(const std::string& key) {
  constexpr std::size_t kMaxClients = 100000;
  const auto now = std::chrono::steady_clock::now();
  std::lock_guard lock(mu_);
  if (buckets_.size() > kMaxClients) buckets_.clear();
  auto [it, fresh] = buckets_.try_emplace(key, Bucket{burst_, now});
  Bucket& b = it->second;
  if (!fresh) {
    b.tokens = std::min(burst_, b.tokens + rate_ * std::chrono::duration<double>(now - b.last).count());
    b.last = now;
  }
  if (b.tokens >= 1) {
    b.tokens -= 1;
    return 0;
  }
  return (1 - b.tokens) / rate_;
}

bool IfNoneMatchHits(std::string_view header, std::string_view etag) {
  auto opaque = [](std::string_view tag) {
    if (tag.starts_with("W/")) tag.remove_prefix(2);
    return tag;
  };
  const std::string_view want = opaque(etag);
  std::size_t pos = 0;
  while (pos <= header.size()) {
    auto next = header.find(',', pos);
    if (next == std::string_view::npos) next = header.size();
    std::string_view item = header.substr(pos, next - pos);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
    if (item == "*" || (!item.empty() && opaque(item) == want)) return true;
    pos = next + 1;
  }
  return false;
}

std::string Caller::Actor() const {
  switch (kind) {
    case Kind::kOperator:
      return key ? "operator:" + key->id : "operator";
    case Kind::kKey:
      return (session.empty() ? "key:" : "account:") + key->id;
    case Kind::kManageToken:
      return "manage-token";
    case Kind::kCustomerToken:
      return "customer-token";
    case Kind::kPublic:
      break;
  }
  return "public";
}

std::string Call::Param(const char* name) const {
  auto it = target.query.find(name);
  return it == target.query.end() ? std::string() : it->second;
}

Edge::Edge(Api* api, net::io_context& ioc, commands::CommandBus& bus, projections::Runner& runner,
           const ledger::Log& log, prometheus::Registry& registry, ApiOptions options)
    : api(api),
      ioc(ioc),
      bus(bus),
      runner(runner),
      log(log),
      registry(registry),
      options(std::move(options)),
      operator_key_hash(Sha256Of(this->options.operator_key)),
      pool(static_cast<std::size_t>(std::max(1, this->options.query_threads))),
      limiter(this->options.rate_per_second, this->options.rate_burst),
      public_booking_limiter(this->options.public_booking_rate, this->options.public_booking_burst),
      sign_in_limiter(0.5, 30),
      requests(prometheus::BuildCounter()
                   .Name("saalbuch_http_requests_total")
                   .Help("HTTP requests by route, method and status")
                   .Register(registry)),
      latency(prometheus::BuildHistogram()
                  .Name("saalbuch_http_request_seconds")
                  .Help("Time from a complete request to its response, by route")
                  .Register(registry)),
      access_log(spdlog::get(kAccessLogger) ? spdlog::get(kAccessLogger) : spdlog::default_logger()) {}

bool Edge::Authorize(const CallPtr& c, unsigned access) {
  if ((access & kOperator) != 0) {
    if (IsOperator(c)) {
      c->caller.kind = Caller::Kind::kOperator;
      return true;
    }
    // An operator signed in to the operator pages acts as the key would.
    if (Bearer(c).empty()) {
      if (int s = SessionCaller(c, OperatorTenant(), kAdmin, false); s != 0) {
        c->caller.kind = Caller::Kind::kOperator;
        return s > 0;
      }
    }
    Problem(c, status::unauthorized, "unauthenticated",
            "this route needs the operator key or an operator's session");
    return false;
  }
  constexpr unsigned kRoles = kAdmin | kStaff | kFinance | kAuditor;
  // Public routes without keys (and the provider's webhook, which proves
  // itself by its signature) look at no credential.
  if ((access & (kRoles | kManageToken | kCustomerToken)) == 0) return true;
  const std::string bearer = Bearer(c);
  if (bearer.empty() && (access & kRoles) != 0) {
    // A person signed in to the back office (a cookie) acts in their role.
    if (int s = SessionCaller(c, c->tenant, access, (access & (kPublic | kManageToken)) != 0); s != 0) {
      return s > 0;
    }
  }
  if ((access & kCustomerToken) != 0 && bearer.starts_with("sbc_")) {
    c->caller.kind = Caller::Kind::kCustomerToken;
    c->caller.token = bearer;
    return true;
  }
  if ((access & kManageToken) != 0) {
    if (std::string token = ManageToken(c); !token.empty()) {
      c->caller.kind = Caller::Kind::kManageToken;
      c->caller.token = std::move(token);
      return true;
    }
  }
  if (bearer.empty() && (access & kPublic) != 0) return true;
  if (bearer.empty()) {
    Problem(c, status::unauthorized, "unauthenticated",
            "this route needs an API key: Authorization: Bearer <key>");
    return false;
  }
  auto k = bus.Authenticate(c->tenant, bearer);
  if (!k) {
    Problem(c, status::unauthorized, "invalid_key", "the key is not valid for this tenant");
    return false;
  }
  static constexpr std::pair<commands::Role, Access> kRoleBits[] = {{commands::Role::kAdmin, kAdmin},
                                                                    {commands::Role::kStaff, kStaff},
                                                                    {commands::Role::kFinance, kFinance},
                                                                    {commands::Role::kAuditor, kAuditor}};
  for (auto [role, bit] : kRoleBits) {
    if (k->role == role && (access & bit) != 0) {
      c->caller.kind = Caller::Kind::kKey;
      c->caller.key = std::move(k);
      return true;
    }
  }
  Problem(c, status::forbidden, "not_permitted",
          std::string("the key's role '") + commands::RoleName(k->role) + "' may not do this");
  return false;
}

Edge::RequestMetrics Edge::MetricsFor(const std::string& route, const std::string& method, unsigned status) {
  std::string key = route;
  key.append(1, '\0').append(method).append(1, '\0').append(std::to_string(status));
  std::lock_guard lock(metrics_mu);
  auto it = metrics_by_key.find(key);
  if (it != metrics_by_key.end()) return it->second;
  RequestMetrics m{&requests.Add({{"route", route}, {"method", method}, {"status", std::to_string(status)}}),
                   &latency.Add({{"route", route}}, prometheus::Histogram::BucketBoundaries{
                                                        0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                                        0.25, 0.5, 1, 2.5})};
  metrics_by_key.emplace(std::move(key), m);
  return m;
}

void Edge::Send(const CallPtr& c, Response res) {
  if (c->funnel != Call::FunnelStep::kNone) CountFunnel(*c, res.result_int());
  res.set(field::server, "saalbuch");
  res.set("X-Request-Id", c->request_id);
  if (!res.has_content_length() && res.body().empty() && res.result() != status::not_modified &&
      res.result() != status::no_content) {
    res.content_length(0);
  }
  if (c->public_cors) Cors(c->req, c->target.segments, res);
  if (res.result_int() / 100 == 2) {
    for (const auto& [name, value] : c->success_headers) res.insert(name, value);
  }
  if (res.find(field::cache_control) == res.end()) res.set(field::cache_control, "no-store");
  res.keep_alive(c->req.keep_alive());
  res.prepare_payload();
  // HEAD: the GET's headers, Content-Length included, without its body.
  if (c->req.method() == verb::head) res.body().clear();
  const RequestMetrics m = MetricsFor(c->route, MethodLabel(c->req.method()), res.result_int());
  m.count->Increment();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - c->start).count();
  m.seconds->Observe(seconds);
  // The access log: no target, query or header (they may hold tokens or
  // a person's name), only what identifies the request and its outcome.
  access_log->info("msg=\"request\" id={} method={} route={} status={} ms={:.2f} client={} tenant={}",
                   c->request_id, MethodLabel(c->req.method()), c->route, res.result_int(), seconds * 1000,
                   c->client.address, c->tenant.get().empty() ? "-" : c->tenant.get());
  api->in_flight_.fetch_sub(1);
  c->respond(std::move(res));
}

std::string Edge::PublicUrl(const Call& c) const {
  if (options.public_url_configured || !c.client.proxied || c.client.host.empty()) return options.public_url;
  return c.client.scheme + "://" + c.client.host;
}

bool UnderTenant(const std::vector<std::string>& segments) {
  return segments.size() >= 3 && segments[0] == "v1" && segments[1] == "tenants";
}

std::string OriginOf(std::string_view url) {
  const std::size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return "";
  std::string origin(url.substr(0, url.find_first_of("/?#", scheme_end + 3)));
  std::transform(origin.begin(), origin.end(), origin.begin(),
                 [](char ch) { return static_cast<char>(std::tolower(static_cast<unsigned char>(ch))); });
  if (origin.starts_with("http://") && origin.ends_with(":80")) origin.resize(origin.size() - 3);
  if (origin.starts_with("https://") && origin.ends_with(":443")) origin.resize(origin.size() - 4);
  return origin;
}

void Edge::Cors(const Request& req, const std::vector<std::string>& segments, Response& res) const {
  auto allow = [&](std::string_view origin) {
    res.set(field::access_control_allow_origin, std::string(origin));
    res.set(field::access_control_expose_headers, "ETag, Saalbuch-Position, Retry-After, X-Request-Id");
  };
  // The tenant's public description is readable from anywhere: it names the
  // allowed origins, so a widget on a page that is not among them can say
  // why it cannot book instead of failing like a broken network.
  if (!UnderTenant(segments) || segments.size() == 3) return allow("*");
  auto it = req.find(field::origin);
  const std::string_view origin = it == req.end() ? std::string_view() : SV(it->value());
  switch (bus.CheckOrigin(TenantId(segments[2]), origin)) {
    case commands::OriginCheck::kAny:
      return allow("*");
    case commands::OriginCheck::kListed:
      res.set(field::vary, "Origin");
      return allow(origin);
    case commands::OriginCheck::kUnlisted:
      res.set(field::vary, "Origin");
      if (!origin.empty() && origin == OriginOf(options.public_url)) allow(origin);
      return;  // no Access-Control-Allow-Origin: the browser withholds the reply
  }
}

void Edge::SendJson(const CallPtr& c, status st, const json& body, std::optional<Seq> position) {
  Response res{st, 11};
  res.set(field::content_type, kJson);
  if (position) res.set("Saalbuch-Position", std::to_string(*position));
  res.body() = Dump(body);
  Send(c, std::move(res));
}

void Edge::Problem(const CallPtr& c, status st, const std::string& code, const std::string& detail,
                   json details, std::optional<Seq> position) {
  c->problem_code = code;
  Response res{st, 11};
  res.set(field::content_type, "application/problem+json");
  if (position) res.set("Saalbuch-Position", std::to_string(*position));
  if (st == status::unauthorized) res.set(field::www_authenticate, "Bearer");
  if (st == status::service_unavailable || st == status::too_many_requests) {
    // A held tenant (commands/bus.h) waits for a person, not for a second;
    // a disk that is full or failing for some seconds at least.
    const bool held = code == "integrity_alarm" || code == "time_zone_unknown";
    const char* wait = held ? "3600" : code == "storage_unavailable" ? "10" : "1";
    if (res.find(field::retry_after) == res.end()) res.set(field::retry_after, wait);
  }
  json p = {{"type", "urn:saalbuch:problem:" + code},
            {"title", std::string(beast_http::obsolete_reason(st))},
            {"status", static_cast<int>(st)},
            {"code", code},
            {"detail", detail},
            {"instance", std::string(c->req.target().substr(0, c->req.target().find('?')))}};
  if (!details.empty()) p["details"] = std::move(details);
  res.body() = p.dump(-1, ' ', false, json::error_handler_t::replace);
  Send(c, std::move(res));
}

void Edge::FromStatus(const CallPtr& c, const Status& s) {
  switch (s.code()) {
    case StatusCode::kNotFound:
      return Problem(c, status::not_found, "not_found", s.message());
    case StatusCode::kInvalidArgument:
      return Problem(c, status::bad_request, "invalid_query", s.message());
    default:
      spdlog::error("request {} failed: {}", c->request_id, s.ToString());
      return Problem(c, status::service_unavailable, "storage_failure",
                     "the data could not be read; the operator has been told in the log");
  }
}

std::string Edge::Bearer(const CallPtr& c) const {
  auto it = c->req.find(field::authorization);
  if (it == c->req.end()) return {};
  std::string_view v = SV(it->value());
  if (v.size() < 8 || (v.substr(0, 7) != "Bearer " && v.substr(0, 7) != "bearer ")) return {};
  return std::string(v.substr(7));
}

bool Edge::IsOperator(const CallPtr& c) const {
  std::string key = Bearer(c);
  return !key.empty() && !options.operator_key.empty() &&
         ConstantTimeEquals(AsBytes(Sha256Of(key)), AsBytes(operator_key_hash));
}

commands::Context Edge::Ctx(const CallPtr& c, const TenantId& t, std::string actor) {
  commands::Context ctx;
  ctx.tenant = t;
  ctx.actor = std::move(actor);
  ctx.command_id = "cmd_" + RandomHex(8);
  ctx.correlation_id = c->request_id;
  return ctx;
}

bool Edge::StorageLow(const CallPtr& c) {
  const bool reads = c->req.method() == verb::get || c->req.method() == verb::head;
  if (reads || options.free_space == nullptr || !options.free_space->low()) return false;
  Problem(c, status::service_unavailable, "storage_unavailable",
          "the server's disk is nearly full; nothing was written. Queries still work; try again later",
          {{"reason", "disk_space_low"}});
  return true;
}

void Edge::Submit(const CallPtr& c, commands::Context ctx, commands::Command cmd,
                  const std::string& location_prefix,
                  const std::function<void(const json& reply)>& accepted) {
  if (StorageLow(c)) return;
  commands::Submission s;
  // A GET that is decided (a quote) changes nothing: it takes no
  // idempotency record.
  auto key_it = c->req.method() == verb::get || c->req.method() == verb::head
                    ? c->req.end()
                    : c->req.find("Idempotency-Key");
  if (key_it != c->req.end()) {
    std::string_view key = SV(key_it->value());
    bool printable = std::all_of(key.begin(), key.end(), [](char ch) { return ch > 0x20 && ch < 0x7f; });
    if (key.size() < 16 || key.size() > 128 || !printable) {
      return Problem(c, status::bad_request, "invalid_idempotency_key",
                     "Idempotency-Key must be 16–128 visible ASCII characters (use a random UUID)");
    }
    s.idempotency_key = std::string(key);
    // The fingerprint binds the key to this caller and this request.
    s.fingerprint = ToHex(Sha256Of(
        std::string(c->req.method_string()) + " " + std::string(c->req.target()) + "\n" + ctx.actor + "\n",
        c->req.body()));
  }
  const TenantId tenant = ctx.tenant;
  std::optional<BookingSubject> subject = SubjectOf(cmd);
  s.ctx = std::move(ctx);
  s.command = std::move(cmd);
  bus.Submit(std::move(s), [this, c, location_prefix, tenant, subject, accepted](commands::Outcome o) {
    using K = commands::Outcome::Kind;
    switch (o.kind) {
      case K::kCreated:
      case K::kOk: {
        Response res{o.kind == K::kCreated ? status::created : status::ok, 11};
        res.set(field::content_type, kJson);
        res.set("Saalbuch-Position", std::to_string(o.position));
        if (o.replayed) res.set("Idempotent-Replayed", "true");
        if (!location_prefix.empty() && o.body.contains("id")) {
          res.set(field::location, location_prefix + o.body["id"].get<std::string>());
        }
        json body = o.body;
        body["position"] = o.position;
        res.body() = Dump(body);
        if (accepted) {
          auto shared = std::make_shared<Response>(std::move(res));
          return RunQuery(c, [this, c, accepted, shared, reply = std::move(o.body)] {
            accepted(reply);
            Send(c, std::move(*shared));
          });
        }
        return Send(c, std::move(res));
      }
      case K::kRejected: {
        if (subject && o.refusal == commands::Refusal::kNotFound && o.body.value("code", "") == "not_found") {
          auto b = projections::QueryBooking(runner.view(), tenant, subject->id);
          if (b.ok() && (subject->token.empty() || SecretMatches(subject->token, b->manage_token_hash))) {
            return Problem(c, status::gone, "booking_archived",
                           "the booking ended more than 400 days ago and is archived: it can no longer be "
                           "changed; its history and documents stay readable",
                           {{"booking", subject->id.get()}}, o.position);
          }
        }
        return Refused(c, o);
      }
      case K::kFailed:
        return Refused(c, o);
    }
  });
}

void Edge::Refused(const CallPtr& c, const commands::Outcome& o) {
  if (o.kind == commands::Outcome::Kind::kFailed) {
    return Problem(c, status::service_unavailable, o.body.value("code", "unavailable"),
                   o.body.value("message", ""));
  }
  static const status kStatus[] = {
      status::not_found,           status::conflict,  status::unprocessable_entity,
      status::precondition_failed, status::forbidden, status::unauthorized};
  Problem(c, kStatus[static_cast<int>(o.refusal)], o.body.value("code", "rejected"),
          o.body.value("message", ""), o.body.value("details", json::object()), o.position);
}

std::optional<json> Edge::Body(const CallPtr& c, bool allow_empty) {
  const std::string& b = c->req.body();
  if (b.empty() && allow_empty) return json::object();
  auto ct = c->req.find(field::content_type);
  if (ct != c->req.end() && ct->value().find("application/json") == std::string_view::npos) {
    Problem(c, status::unsupported_media_type, "unsupported_media_type", "send application/json");
    return std::nullopt;
  }
  StrictJson parsed = ParseStrictJson(b);
  if (parsed.outcome == StrictJson::Outcome::kMalformed) {
    Problem(c, status::bad_request, "malformed_json", parsed.detail, std::move(parsed.details));
    return std::nullopt;
  }
  if (parsed.outcome == StrictJson::Outcome::kBadText) {
    Problem(c, status::unprocessable_entity, "validation_failed", "the request has invalid fields",
            std::move(parsed.details));
    return std::nullopt;
  }
  if (!parsed.value.is_object()) {
    Problem(c, status::bad_request, "malformed_json", "the request body must be a JSON object");
    return std::nullopt;
  }
  return std::move(parsed.value);
}

bool Edge::Invalid(const CallPtr& c, const Decoder& d) {
  if (d.ok()) return false;
  Problem(c, status::unprocessable_entity, "validation_failed", "the request has invalid fields",
          {{"fields", d.errors()}});
  return true;
}

std::optional<std::uint64_t> Edge::IfMatch(const CallPtr& c, bool* bad) {
  auto it = c->req.find(field::if_match);
  *bad = false;
  if (it == c->req.end()) return std::nullopt;
  std::string v(it->value());
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
  try {
    std::size_t used = 0;
    auto n = std::stoull(v, &used);
    if (used == v.size()) return n;
  } catch (const std::exception&) {
  }
  *bad = true;
  Problem(c, status::bad_request, "invalid_if_match", "If-Match must be a quoted version number, e.g. \"3\"");
  return std::nullopt;
}

// A manage token from "Authorization: Bearer sbm_…", the
// Saalbuch-Manage-Token header or ?token=.
std::string Edge::ManageToken(const CallPtr& c) const {
  const Target& target = c->target;
  std::string b = Bearer(c);
  if (b.starts_with("sbm_")) return b;
  auto it = c->req.find("Saalbuch-Manage-Token");
  if (it != c->req.end()) return std::string(it->value());
  auto q = target.query.find("token");
  return q == target.query.end() ? std::string() : q->second;
}

std::optional<Seq> Edge::MinPosition(const CallPtr& c) {
  std::string text;
  if (auto q = c->target.query.find("min_position"); q != c->target.query.end()) text = q->second;
  if (auto h = c->req.find("Saalbuch-Min-Position"); text.empty() && h != c->req.end())
    text = std::string(h->value());
  if (text.empty()) return Seq{0};
  auto n = ParseUnsigned(text);
  if (!n) {
    Problem(c, status::bad_request, "invalid_query", "min_position must be a log position");
    return std::nullopt;
  }
  return *n;
}

// Runs `query` on a query thread once the tenant's projections reached the
// position the client named (min_position or Saalbuch-Min-Position).
void Edge::Query(const CallPtr& c, const TenantId& t, std::function<void()> query) {
  const auto min = MinPosition(c);
  if (!min) return;
  WaitThenRun(c, t, *min, std::chrono::steady_clock::now() + options.max_position_wait, std::move(query),
              false);
}

void Edge::QueryInMemory(const CallPtr& c, const TenantId& t, std::function<void()> query) {
  const auto min = MinPosition(c);
  if (!min) return;
  WaitThenRun(c, t, *min, std::chrono::steady_clock::now() + options.max_position_wait, std::move(query),
              true);
}

// Runs `query` on a query thread, or `here`. A query that throws (a
// programming error or a damaged projection document) answers 500 instead
// of ending the process.
void Edge::Every(std::chrono::seconds interval, const char* what, std::function<void()> job) {
  if (interval.count() <= 0) return;
  auto timer = std::make_shared<net::steady_timer>(ioc, interval);
  timer->async_wait([this, timer, interval, what, job = std::move(job)](const boost::system::error_code& ec) {
    if (ec) return;
    net::post(pool, [this, interval, what, job] {
      try {
        job();
      } catch (const std::exception& e) {
        spdlog::error("msg=\"periodic job failed\" job={} error=\"{}\"", what, e.what());
      }
      Every(interval, what, job);
    });
  });
}

void Edge::RunQuery(const CallPtr& c, std::function<void()> query, bool here) {
  auto run = [this, c, q = std::move(query)] {
    try {
      q();
    } catch (const std::exception& e) {
      spdlog::error("msg=\"query failed\" request={} error=\"{}\"", c->request_id, e.what());
      Problem(c, status::internal_server_error, "internal_error", "an internal error occurred");
    }
  };
  if (here) return run();
  net::post(pool, std::move(run));
}

void Edge::WaitThenRun(const CallPtr& c, const TenantId& t, Seq min,
                       std::chrono::steady_clock::time_point deadline, std::function<void()> query, bool here,
                       std::chrono::milliseconds delay) {
  if (runner.Position(t) >= min) {
    RunQuery(c, std::move(query), here);
    return;
  }
  if (std::chrono::steady_clock::now() >= deadline) {
    return Problem(c, status::service_unavailable, "position_not_reached",
                   "the projection has not reached position " + std::to_string(min) + " yet",
                   {{"position", runner.Position(t)}});
  }
  // A reader waiting for a write (usually its own) gets that tenant folded
  // next, not after a round over every tenant with new records.
  if (delay.count() == 0) runner.Expedite(t);
  // Back off from 1 ms to 64 ms: read-your-writes usually waits about a
  // millisecond, and a client naming a far position must not cost a timer
  // wake-up every millisecond.
  delay = std::clamp(delay * 2, std::chrono::milliseconds(1), std::chrono::milliseconds(64));
  auto timer = std::make_shared<net::steady_timer>(ioc, delay);
  timer->async_wait([this, c, t, min, deadline, delay, here, q = std::move(query),
                     timer](const boost::system::error_code&) mutable {
    WaitThenRun(c, t, min, deadline, std::move(q), here, delay);
  });
}

// Sends `result` with the projection position, an ETag, and 304 when the
// client already has it.
void Edge::SendQuery(const CallPtr& c, Seq position, const Result<json>& result, bool etag) {
  if (!result.ok()) return FromStatus(c, result.status());
  const std::string body = Dump(*result);
  Response res{status::ok, 11};
  res.set(field::content_type, kJson);
  res.set("Saalbuch-Position", std::to_string(position));
  if (etag) {
    const std::string tag = "\"" + ToHex(Sha256Of(body)).substr(0, 20) + "\"";
    res.set(field::etag, tag);
    res.set(field::cache_control, "no-cache");
    auto inm = c->req.find(field::if_none_match);
    if (inm != c->req.end() && IfNoneMatchHits(SV(inm->value()), tag)) {
      res.result(status::not_modified);
      return Send(c, std::move(res));
    }
  }
  res.body() = body;
  Send(c, std::move(res));
}

bool Edge::Window(const CallPtr& c, TimeRange* w) {
  const Target& target = c->target;
  auto from = target.query.find("from");
  auto to = target.query.find("to");
  if (from == target.query.end() || to == target.query.end()) {
    Problem(c, status::bad_request, "invalid_query", "from and to are required (RFC 3339 with offset)");
    return false;
  }
  auto f = ParseRfc3339(from->second);
  auto e = ParseRfc3339(to->second);
  if (!f.ok() || !e.ok()) {
    Problem(c, status::bad_request, "invalid_query", (!f.ok() ? f.status() : e.status()).message());
    return false;
  }
  *w = {*f, *e};
  if (w->empty()) {
    Problem(c, status::bad_request, "invalid_query", "'to' must be after 'from'");
    return false;
  }
  return true;
}

bool Edge::DateRange(const CallPtr& c, bool months) {
  json fields = json::array();
  for (const char* name : {"from", "to"}) {
    auto it = c->target.query.find(name);
    if (it == c->target.query.end() || it->second.empty()) continue;  // no bound, as before
    const bool ok = months ? ParseLocalMonth(it->second).has_value() : ParseLocalDay(it->second).has_value();
    if (!ok) {
      fields.push_back(
          {{"field", name},
           {"problem", std::string(months ? "a month YYYY-MM" : "a date YYYY-MM-DD") + " of the years " +
                           std::to_string(kMinYear) + "–" + std::to_string(kMaxYear)}});
    }
  }
  if (fields.empty()) return true;
  Problem(c, status::bad_request, "invalid_query",
          months ? "from and to are months YYYY-MM" : "from and to are dates YYYY-MM-DD",
          {{"fields", fields}});
  return false;
}

// ?limit= (1–500, default 50) into *limit; answers 400 and returns false
// when malformed.
bool Edge::Limit(const CallPtr& c, std::size_t* limit) {
  const Target& target = c->target;
  *limit = kDefaultListLimit;
  if (auto l = target.query.find("limit"); l != target.query.end()) {
    auto n = ParseUnsigned(l->second);
    if (!n || *n == 0 || *n > kMaxListLimit) {
      Problem(c, status::bad_request, "invalid_query", "limit must be 1–500");
      return false;
    }
    *limit = *n;
  }
  return true;
}

// Sends an iCalendar body with an ETag (computed without DTSTAMP lines,
// which change on every request).
void Edge::SendIcs(const CallPtr& c, Seq position, const std::string& ics, const std::string& filename) {
  std::string stable;
  for (std::size_t pos = 0; pos < ics.size();) {
    auto end = ics.find('\n', pos);
    if (end == std::string::npos) end = ics.size();
    if (ics.compare(pos, 8, "DTSTAMP:") != 0) stable.append(ics, pos, end - pos);
    pos = end + 1;
  }
  const std::string tag = "\"" + ToHex(Sha256Of(stable)).substr(0, 20) + "\"";
  Response res{status::ok, 11};
  res.set(field::content_type, "text/calendar; charset=utf-8");
  res.set(field::content_disposition, "inline; filename=\"" + filename + "\"");
  res.set("Saalbuch-Position", std::to_string(position));
  res.set(field::etag, tag);
  res.set(field::cache_control, "no-cache");
  auto inm = c->req.find(field::if_none_match);
  if (inm != c->req.end() && IfNoneMatchHits(SV(inm->value()), tag)) {
    res.result(status::not_modified);
    return Send(c, std::move(res));
  }
  res.body() = ics;
  Send(c, std::move(res));
}

TimeUs Edge::Now() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Replaces a booking document's sealed contact by the contact itself
// (opened with the person's vault key), or by {"erased": true} once the
// key is gone. Runs on a query thread.
void Edge::Reveal(json& doc, const TenantId& t) {
  auto sealed = doc.find("personal_sealed");
  if (sealed == doc.end()) return;
  const std::string hex = *sealed;
  doc.erase(sealed);
  const std::string bytes = FromHex(hex).value_or("");
  std::optional<std::string> plain;
  if (options.vault != nullptr && !doc.value("contact_erased", false)) {
    auto opened = options.vault->Open(t, doc.value("person", ""), bytes);
    if (!opened.ok()) {
      doc["contact"] = {{"unavailable", true}};
      return;
    }
    plain = *opened;
  }
  if (!plain) {
    doc["contact"] = {{"erased", true}};
    return;
  }
  json contact = json::parse(*plain, nullptr, false);
  if (contact.is_object()) contact.erase("manage_token");
  doc["contact"] = contact;
}

json Edge::OpenSealed(const TenantId& t, const std::string& key, const std::string& sealed_hex) {
  if (options.vault == nullptr) return {{"unavailable", true}};
  auto opened = options.vault->Open(t, key, FromHex(sealed_hex).value_or(""));
  if (!opened.ok()) return {{"unavailable", true}};
  if (!*opened) return {{"erased", true}};
  return json::parse(**opened, nullptr, false);
}

void Edge::RevealRecipient(json& invoice, const TenantId& t) {
  auto sealed = invoice.find("recipient_sealed");
  if (sealed == invoice.end()) return;
  const std::string hex = *sealed;
  const std::string key = invoice.value("recipient_key", "");
  invoice.erase("recipient_sealed");
  invoice.erase("recipient_key");
  invoice["recipient"] = OpenSealed(t, key, hex);
}

void Edge::RevealContactName(json& invoice, const TenantId& t) {
  if (invoice.value("recipient", json::object()).contains("name") || !invoice.value("customer", "").empty()) {
    return;
  }
  auto booking = projections::QueryBooking(runner.view(), t, BookingId(invoice.value("booking", "")));
  if (!booking.ok()) return;
  Reveal(booking->doc, t);
  const json contact = booking->doc.value("contact", json::object());
  if (contact.is_object() && !contact.value("name", "").empty()) invoice["contact_name"] = contact["name"];
}

Result<std::vector<std::string>> Edge::PersonsOf(const TenantId& t, std::string_view email) {
  if (options.vault == nullptr) return Status(StatusCode::kUnavailable, "this server keeps no contact data");
  auto key = options.vault->BlindIndexKey(t);
  if (!key.ok()) return key.status();
  std::string address(email);
  const auto first = address.find_first_not_of(" \t"), last = address.find_last_not_of(" \t");
  address = first == std::string::npos ? std::string() : address.substr(first, last - first + 1);
  for (char& ch : address) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  std::vector<std::string> out;
  for (int n = 0; n < 1000; ++n) {
    std::string message = "person";
    message.push_back('\0');
    message += address;
    message.push_back('\0');
    message += std::to_string(n);
    out.push_back("p_" + ToHex(HmacSha256(*key, message)).substr(0, 16));
    auto bookings = projections::QueryPersonBookings(runner.view(), t, out.back(), 1);
    if (!bookings.ok()) return bookings.status();
    if (bookings->empty() || !bookings->front().value("contact_erased", false)) return out;
  }
  return Status(StatusCode::kUnavailable, "this address was erased too often");
}

Result<std::vector<std::string>> Edge::NameTerms(const TenantId& t, const std::vector<std::string>& words) {
  if (options.vault == nullptr) return Status(StatusCode::kUnavailable, "this server keeps no contact data");
  auto key = options.vault->BlindIndexKey(t);
  if (!key.ok()) return key.status();
  std::vector<std::string> out;
  out.reserve(words.size());
  for (const auto& word : words) {
    std::string message = "name";
    message.push_back('\0');
    message += word;
    out.push_back(ToHex(HmacSha256(*key, message)).substr(0, 32));
  }
  return out;
}

void Edge::RevealBilling(json& customer, const TenantId& t) {
  auto sealed = customer.find("billing_sealed");
  if (sealed == customer.end()) return;
  const std::string hex = *sealed;
  customer.erase("billing_sealed");
  customer["billing"] = OpenSealed(t, "rc_" + customer.value("id", ""), hex);
}

void Edge::RevealItems(Result<json>& page, const TenantId& t) {
  if (!page.ok()) return;
  for (auto& item : (*page)["items"]) Reveal(item, t);
}

void Edge::SendBytes(const CallPtr& c, Seq position, const std::string& type, const std::string& filename,
                     std::string bytes) {
  Response res{status::ok, 11};
  res.set(field::content_type, type);
  res.set(field::content_disposition, "inline; filename=\"" + filename + "\"");
  res.set("Saalbuch-Position", std::to_string(position));
  res.body() = std::move(bytes);
  Send(c, std::move(res));
}

void Edge::SendPdf(const CallPtr& c, Seq position, const TenantId& t, const std::string& number,
                   const std::function<PdfDocument(const json& settings, const Zone* zone)>& make) {
  auto settings = projections::QueryFinanceSettings(runner.view(), t);
  if (!settings.ok()) return FromStatus(c, settings.status());
  const Zone* zone = FindZone(settings->value("time_zone", "UTC"));
  if (zone == nullptr) zone = UtcZone();
  auto pdf = RenderPdf(make(*settings, zone));
  if (!pdf.ok()) {
    spdlog::error("msg=\"pdf failed\" tenant={} document={} error=\"{}\"", t.get(), number,
                  pdf.status().ToString());
    return Problem(c, status::internal_server_error, "document_failed", "the document could not be rendered");
  }
  SendBytes(c, position, "application/pdf", number + ".pdf", std::move(*pdf));
}

void Edge::TooMany(const CallPtr& c, double wait_s) {
  c->problem_code = "rate_limited";
  Response res{status::too_many_requests, 11};
  res.set(field::retry_after, std::to_string(static_cast<int>(std::ceil(wait_s))));
  res.set(field::content_type, "application/problem+json");
  res.body() = json{{"type", "urn:saalbuch:problem:rate_limited"},
                    {"title", "Too Many Requests"},
                    {"status", 429},
                    {"code", "rate_limited"},
                    {"detail", "too many requests from this address; retry after the given seconds"}}
                   .dump();
  Send(c, std::move(res));
}

void Edge::NotAllowed(const CallPtr& c, const std::string& allow) {
  Response res{status::method_not_allowed, 11};
  res.set(field::allow, allow);
  res.set(field::content_type, "application/problem+json");
  res.body() = json{{"type", "urn:saalbuch:problem:method_not_allowed"},
                    {"title", "Method Not Allowed"},
                    {"status", 405},
                    {"code", "method_not_allowed"},
                    {"detail", "allowed: " + allow}}
                   .dump();
  Send(c, std::move(res));
}

void Edge::Preflight(const CallPtr& c) {
  c->route = "preflight";
  c->public_cors = true;
  Response res{status::no_content, 11};
  res.set(field::access_control_allow_methods, "GET, POST");
  res.set(field::access_control_allow_headers,
          "Authorization, Content-Type, Idempotency-Key, If-Match, Saalbuch-Manage-Token, "
          "Saalbuch-Min-Position, "
          "If-None-Match");
  res.set(field::access_control_max_age, "600");
  Send(c, std::move(res));
}

}  // namespace saalbuch::http
