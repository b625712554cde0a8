#include "http/api.h"

#include <prometheus/counter.h>
#include <prometheus/histogram.h>
#include <prometheus/text_serializer.h>
#include <spdlog/spdlog.h>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <mutex>
#include <set>
#include <unordered_map>

#include "common/crypto.h"
#include "common/note.h"
#include "common/time.h"
#include "http/camt.h"
#include "http/decode.h"
#include "http/documents.h"
#include "http/ical.h"
#include "http/openapi_text.h"  // generated
#include "http/settlement.h"
#include "ledger/event_json.h"

namespace saalbuch::http {

namespace net = boost::asio;
using beast_http::field;
using beast_http::status;
using beast_http::verb;
using nlohmann::json;

namespace {

std::string_view SV(boost::beast::string_view v) { return {v.data(), v.size()}; }

constexpr const char* kJson = "application/json; charset=utf-8";
constexpr std::size_t kMaxListLimit = 500;
constexpr std::size_t kDefaultListLimit = 50;
constexpr std::size_t kMaxOccurrences = 200;

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

// A token bucket per client address. Bounded: when the table grows past
// kMaxClients it is cleared, which at worst forgives some clients a burst.
class RateLimiter {
 public:
  RateLimiter(double rate, double burst) : rate_(rate), burst_(burst) {}
  // Seconds to wait before the next request is allowed; 0 = allowed now.
  double Take(const std::string& key) {
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

 private:
  struct Bucket {
    double tokens;
    std::chrono::steady_clock::time_point last;
  };
  const double rate_, burst_;
  std::mutex mu_;
  std::unordered_map<std::string, Bucket> buckets_;
};

std::string PercentDecode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    auto hex = [](char c) -> int {
      if (c >= '0' && c <= '9') return c - '0';
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      if (c >= 'A' && c <= 'F') return c - 'A' + 10;
      return -1;
    };
    // '+' stays '+': RFC 3986 query strings, so that "+02:00" offsets work
    // unencoded from curl.
    if (s[i] == '%' && i + 2 < s.size() && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

struct Target {
  std::vector<std::string> segments;
  std::unordered_map<std::string, std::string> query;
};

Target ParseTarget(std::string_view target) {
  Target t;
  auto q = target.find('?');
  std::string_view path = target.substr(0, q);
  std::size_t pos = 0;
  while (pos < path.size()) {
    auto next = path.find('/', pos);
    if (next == std::string_view::npos) next = path.size();
    if (next > pos) t.segments.push_back(PercentDecode(path.substr(pos, next - pos)));
    pos = next + 1;
  }
  if (q != std::string_view::npos) {
    std::string_view qs = target.substr(q + 1);
    pos = 0;
    while (pos < qs.size()) {
      auto next = qs.find('&', pos);
      if (next == std::string_view::npos) next = qs.size();
      auto kv = qs.substr(pos, next - pos);
      auto eq = kv.find('=');
      if (!kv.empty()) {
        t.query[PercentDecode(kv.substr(0, eq))] =
            eq == std::string_view::npos ? "" : PercentDecode(kv.substr(eq + 1));
      }
      pos = next + 1;
    }
  }
  return t;
}

bool IsPathId(std::string_view s) {
  return !s.empty() && s.size() <= 64 && std::all_of(s.begin(), s.end(), [](char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '-' ||
           ch == '_' || ch == '.';
  });
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

std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

}  // namespace

struct Api::Impl {
  Impl(Api* api, net::io_context& ioc, commands::CommandBus& bus, projections::Runner& runner,
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
        requests(prometheus::BuildCounter()
                     .Name("saalbuch_http_requests_total")
                     .Help("HTTP requests by route, method and status")
                     .Register(registry)),
        latency(prometheus::BuildHistogram()
                    .Name("saalbuch_http_request_seconds")
                    .Help("Time from a complete request to its response, by route")
                    .Register(registry)) {}

  // One request in flight: everything a handler needs to answer it.
  struct Call {
    Request req;
    std::string ip;
    Respond respond;
    std::string route = "unmatched";
    std::string request_id;
    std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
    bool public_cors = false;
  };
  using CallPtr = std::shared_ptr<Call>;

  Api* api;
  net::io_context& ioc;
  commands::CommandBus& bus;
  projections::Runner& runner;
  const ledger::Log& log;
  prometheus::Registry& registry;
  ApiOptions options;
  Sha256 operator_key_hash;
  net::thread_pool pool;
  RateLimiter limiter;
  RateLimiter public_booking_limiter;
  prometheus::Family<prometheus::Counter>& requests;
  prometheus::Family<prometheus::Histogram>& latency;

  // ---- responses ----

  void Send(const CallPtr& c, Response res) {
    res.set(field::server, "saalbuch");
    res.set("X-Request-Id", c->request_id);
    if (!res.has_content_length() && res.body().empty() && res.result() != status::not_modified &&
        res.result() != status::no_content) {
      res.content_length(0);
    }
    if (c->public_cors) {
      res.set(field::access_control_allow_origin, "*");
      res.set(field::access_control_expose_headers, "ETag, Saalbuch-Position, Retry-After, X-Request-Id");
    }
    if (res.find(field::cache_control) == res.end()) res.set(field::cache_control, "no-store");
    res.keep_alive(c->req.keep_alive());
    res.prepare_payload();
    const auto code = std::to_string(res.result_int());
    requests.Add({{"route", c->route}, {"method", MethodLabel(c->req.method())}, {"status", code}})
        .Increment();
    latency
        .Add({{"route", c->route}},
             prometheus::Histogram::BucketBoundaries{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                                     0.25, 0.5, 1, 2.5})
        .Observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - c->start).count());
    api->in_flight_.fetch_sub(1);
    c->respond(std::move(res));
  }

  void SendJson(const CallPtr& c, status st, const json& body, std::optional<Seq> position = std::nullopt) {
    Response res{st, 11};
    res.set(field::content_type, kJson);
    if (position) res.set("Saalbuch-Position", std::to_string(*position));
    res.body() = Dump(body);
    Send(c, std::move(res));
  }

  void Problem(const CallPtr& c, status st, const std::string& code, const std::string& detail,
               json details = json::object(), std::optional<Seq> position = std::nullopt) {
    Response res{st, 11};
    res.set(field::content_type, "application/problem+json");
    if (position) res.set("Saalbuch-Position", std::to_string(*position));
    if (st == status::unauthorized) res.set(field::www_authenticate, "Bearer");
    if (st == status::service_unavailable || st == status::too_many_requests) {
      if (res.find(field::retry_after) == res.end()) res.set(field::retry_after, "1");
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

  void FromStatus(const CallPtr& c, const Status& s) {
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

  // ---- auth ----

  std::string Bearer(const CallPtr& c) const {
    auto it = c->req.find(field::authorization);
    if (it == c->req.end()) return {};
    std::string_view v = SV(it->value());
    if (v.size() < 8 || (v.substr(0, 7) != "Bearer " && v.substr(0, 7) != "bearer ")) return {};
    return std::string(v.substr(7));
  }

  bool IsOperator(const CallPtr& c) const {
    std::string key = Bearer(c);
    return !key.empty() && !options.operator_key.empty() &&
           ConstantTimeEquals(AsBytes(Sha256Of(key)), AsBytes(operator_key_hash));
  }

  // The caller's key if it is one of `roles`; otherwise answers 401/403 and
  // returns nullopt.
  std::optional<commands::ApiKey> RequireRole(const CallPtr& c, const TenantId& t,
                                              std::initializer_list<commands::Role> roles) {
    std::string key = Bearer(c);
    if (key.empty()) {
      Problem(c, status::unauthorized, "unauthenticated",
              "this route needs an API key: Authorization: Bearer <key>");
      return std::nullopt;
    }
    auto k = bus.Authenticate(t, key);
    if (!k) {
      Problem(c, status::unauthorized, "invalid_key", "the key is not valid for this tenant");
      return std::nullopt;
    }
    for (auto r : roles) {
      if (k->role == r) return k;
    }
    Problem(c, status::forbidden, "not_permitted",
            std::string("the key's role '") + commands::RoleName(k->role) + "' may not do this");
    return std::nullopt;
  }

  // ---- commands ----

  commands::Context Ctx(const CallPtr& c, const TenantId& t, std::string actor) {
    commands::Context ctx;
    ctx.tenant = t;
    ctx.actor = std::move(actor);
    ctx.command_id = "cmd_" + RandomHex(8);
    ctx.correlation_id = c->request_id;
    return ctx;
  }

  void Submit(const CallPtr& c, commands::Context ctx, commands::Command cmd,
              const std::string& location_prefix = {}) {
    commands::Submission s;
    auto key_it = c->req.find("Idempotency-Key");
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
    bus.Submit(std::move(s), [this, c, location_prefix, tenant, subject](commands::Outcome o) {
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
          return Send(c, std::move(res));
        }
        case K::kRejected: {
          if (subject && o.refusal == commands::Refusal::kNotFound &&
              o.body.value("code", "") == "not_found") {
            auto b = projections::QueryBooking(runner.view(), tenant, subject->id);
            if (b.ok() && (subject->token.empty() || SecretMatches(subject->token, b->manage_token_hash))) {
              return Problem(c, status::gone, "booking_archived",
                             "the booking ended more than 400 days ago and is archived: it can no longer be "
                             "changed; its history and documents stay readable",
                             {{"booking", subject->id.get()}}, o.position);
            }
          }
          static const status kStatus[] = {
              status::not_found,           status::conflict,  status::unprocessable_entity,
              status::precondition_failed, status::forbidden, status::unauthorized};
          return Problem(c, kStatus[static_cast<int>(o.refusal)], o.body.value("code", "rejected"),
                         o.body.value("message", ""), o.body.value("details", json::object()), o.position);
        }
        case K::kFailed:
          return Problem(c, status::service_unavailable, o.body.value("code", "unavailable"),
                         o.body.value("message", ""));
      }
    });
  }

  std::optional<json> Body(const CallPtr& c, bool allow_empty = false) {
    const std::string& b = c->req.body();
    if (b.empty() && allow_empty) return json::object();
    auto ct = c->req.find(field::content_type);
    if (ct != c->req.end() && ct->value().find("application/json") == std::string_view::npos) {
      Problem(c, status::unsupported_media_type, "unsupported_media_type", "send application/json");
      return std::nullopt;
    }
    auto j = json::parse(b, nullptr, false);
    if (j.is_discarded()) {
      Problem(c, status::bad_request, "malformed_json", "the request body is not valid JSON");
      return std::nullopt;
    }
    if (!j.is_object()) {
      Problem(c, status::bad_request, "malformed_json", "the request body must be a JSON object");
      return std::nullopt;
    }
    return j;
  }

  bool Invalid(const CallPtr& c, const Decoder& d) {
    if (d.ok()) return false;
    Problem(c, status::unprocessable_entity, "validation_failed", "the request has invalid fields",
            {{"fields", d.errors()}});
    return true;
  }

  std::optional<std::uint64_t> IfMatch(const CallPtr& c, bool* bad) {
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
    Problem(c, status::bad_request, "invalid_if_match",
            "If-Match must be a quoted version number, e.g. \"3\"");
    return std::nullopt;
  }

  void CreateTenant(const CallPtr& c) {
    c->route = "tenants";
    if (!IsOperator(c)) {
      return Problem(c, status::unauthorized, "unauthenticated", "creating a tenant needs the operator key");
    }
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
    auto ctx = Ctx(c, cmd.id, "operator");  // before cmd is moved from
    Submit(c, std::move(ctx), std::move(cmd), "/v1/tenants/");
  }

  void CreateKey(const CallPtr& c, const TenantId& t) {
    c->route = "keys";
    auto k = RequireRole(c, t, {commands::Role::kAdmin});
    if (!k) return;
    auto body = Body(c);
    if (!body) return;
    Decoder d(*body, {"role", "label"});
    commands::CreateApiKey cmd;
    cmd.role = d.Str("role", true, 16);
    cmd.label = d.Str("label", false, 200);
    if (Invalid(c, d)) return;
    cmd.key_id = "key_" + RandomHex(6);
    cmd.key = "sbk_" + RandomHex(24);
    Submit(c, Ctx(c, t, "key:" + k->id), std::move(cmd));
  }

  void CreateResource(const CallPtr& c, const TenantId& t) {
    c->route = "resources";
    auto k = RequireRole(c, t, {commands::Role::kAdmin});
    if (!k) return;
    auto body = Body(c);
    if (!body) return;
    Decoder d(*body,
              {"id", "kind", "name", "description", "rules", "capacity", "parent", "requires_qualification"});
    commands::CreateResource cmd;
    cmd.id = ResourceId(d.Str("id", false, 64));
    cmd.kind = d.Str("kind", false, 16, "room");
    cmd.name = d.Str("name", true, 200);
    cmd.description = d.Str("description", false, 4000);
    cmd.capacity = static_cast<std::uint32_t>(d.Int("capacity", 1, 100000, 1));
    cmd.parent = ResourceId(d.Str("parent", false, 64));
    cmd.requires_qualification = d.Str("requires_qualification", false, 64);
    if (body->contains("rules")) cmd.rules = DecodeRules(d, (*body)["rules"], "rules.");
    if (Invalid(c, d)) return;
    if (cmd.id.get().empty()) cmd.id = ResourceId("r-" + RandomHex(5));
    Submit(c, Ctx(c, t, "key:" + k->id), std::move(cmd), "/v1/tenants/" + t.get() + "/resources/");
  }

  void SetRules(const CallPtr& c, const TenantId& t, const std::string& r) {
    c->route = "rules";
    auto k = RequireRole(c, t, {commands::Role::kAdmin});
    if (!k) return;
    bool bad = false;
    auto if_match = IfMatch(c, &bad);
    if (bad) return;
    auto body = Body(c);
    if (!body) return;
    Decoder d(*body, {});
    commands::SetRules cmd;
    cmd.id = ResourceId(r);
    cmd.rules = DecodeRules(d, *body, "");
    cmd.if_match = if_match;
    if (Invalid(c, d)) return;
    Submit(c, Ctx(c, t, "key:" + k->id), std::move(cmd));
  }

  void SetHolidays(const CallPtr& c, const TenantId& t) {
    c->route = "holidays";
    auto k = RequireRole(c, t, {commands::Role::kAdmin});
    if (!k) return;
    auto body = Body(c);
    if (!body) return;
    Decoder d(*body, {});
    commands::SetHolidays cmd;
    cmd.holidays = DecodeHolidays(d, *body);
    if (Invalid(c, d)) return;
    Submit(c, Ctx(c, t, "key:" + k->id), std::move(cmd));
  }

  // Who places a booking or series: staff (a staff/admin key), a customer
  // (its own token, "Bearer sbc_…") or the public. Public and customer
  // requests are rate limited per tenant and address. Returns the actor, or
  // nullopt after answering.
  std::optional<std::string> Booker(const CallPtr& c, const TenantId& t, commands::PlaceBooking* cmd) {
    const std::string bearer = Bearer(c);
    if (!bearer.empty() && !bearer.starts_with("sbc_")) {
      auto k = RequireRole(c, t, {commands::Role::kStaff, commands::Role::kAdmin});
      if (!k) return std::nullopt;
      cmd->by_staff = true;
      return "key:" + k->id;
    }
    if (double wait = public_booking_limiter.Take(t.get() + "|" + c->ip); wait > 0) {
      TooMany(c, wait);
      return std::nullopt;
    }
    cmd->customer_token = bearer;
    return bearer.empty() ? "public" : "customer-token";
  }

  // The booking fields shared by single bookings and series.
  void DecodeBookingFields(Decoder& d, commands::PlaceBooking* cmd, bool times_required) {
    cmd->resource = ResourceId(d.Str("resource", true, 64));
    cmd->session = d.Str("session", false, 64);
    const bool need_times = times_required && cmd->session.empty();
    cmd->range = {d.Time("start", need_times), d.Time("end", need_times)};
    cmd->units = static_cast<std::uint32_t>(d.Int("units", 1, 100000, 1));
    cmd->addons = DecodeAddons(d);
    cmd->customer = d.Str("customer", false, 64);
    cmd->hold = d.Bool("hold", false);
  }

  // The booker's contact ("contact": {name, email, phone, notes, language}),
  // as the plaintext to seal; empty when none was given.
  std::string DecodeContact(Decoder& d, const json& body) {
    auto it = body.find("contact");
    if (it == body.end() || it->is_null()) return {};
    Decoder c = d.Nested(*it, {"name", "email", "phone", "notes", "language"}, "contact.");
    json contact = {{"name", c.Str("name", false, 200)},
                    {"email", c.Str("email", false, 254)},
                    {"phone", c.Str("phone", false, 50)},
                    {"notes", c.Str("notes", false, 2000)},
                    {"language", c.Str("language", false, 2, "de")}};
    const std::string email = contact["email"];
    if (!email.empty() &&
        (email.find('@') == std::string::npos || email.find_first_of(" \r\n<>,;") != std::string::npos)) {
      c.Error("email", "must be one e-mail address");
    }
    if (contact["language"] != "de" && contact["language"] != "en") c.Error("language", "must be de or en");
    if (options.vault == nullptr) d.Error("contact", "this server keeps no contact data");
    return contact.dump();
  }

  // Submits `cmd`; with a contact, first seals it (plus the manage token,
  // for the links in e-mails) for a new person on a query thread, because
  // the vault writes the person's key durably.
  template <typename Cmd>
  void SealThenSubmit(const CallPtr& c, const TenantId& t, const std::string& actor, std::shared_ptr<Cmd> cmd,
                      commands::PlaceBooking* booking, const std::string& contact,
                      const std::string& location = {}) {
    if (contact.empty()) return Submit(c, Ctx(c, t, actor), std::move(*cmd), location);
    booking->person = "p_" + RandomHex(8);
    json plain = json::parse(contact);
    plain["manage_token"] = booking->manage_token;
    RunQuery(c, [this, c, t, actor, cmd, booking, text = plain.dump(), location] {
      auto sealed = options.vault->Seal(t, booking->person, text);
      if (!sealed.ok()) return FromStatus(c, sealed.status());
      booking->personal = std::move(sealed).value();
      Submit(c, Ctx(c, t, actor), std::move(*cmd), location);
    });
  }

  void PlaceBooking(const CallPtr& c, const TenantId& t) {
    c->route = "bookings";
    c->public_cors = true;
    commands::PlaceBooking cmd;
    auto actor = Booker(c, t, &cmd);
    if (!actor) return;
    auto body = Body(c);
    if (!body) return;
    Decoder d(*body,
              {"resource", "start", "end", "session", "units", "addons", "customer", "hold", "contact"});
    DecodeBookingFields(d, &cmd, true);
    const std::string contact = DecodeContact(d, *body);
    if (Invalid(c, d)) return;
    cmd.id = BookingId("bk_" + RandomHex(10));
    cmd.manage_token = "sbm_" + RandomHex(24);
    auto shared = std::make_shared<commands::PlaceBooking>(std::move(cmd));
    SealThenSubmit(c, t, *actor, shared, shared.get(), contact, "/v1/tenants/" + t.get() + "/bookings/");
  }

  void PlaceSeries(const CallPtr& c, const TenantId& t) {
    c->route = "series";
    c->public_cors = true;
    commands::PlaceSeries cmd;
    auto actor = Booker(c, t, &cmd.first);
    if (!actor) return;
    auto body = Body(c);
    if (!body) return;
    Decoder d(*body, {"resource", "start", "end", "units", "addons", "customer", "hold", "rrule", "exdates",
                      "mode", "contact"});
    DecodeBookingFields(d, &cmd.first, true);
    const std::string contact = DecodeContact(d, *body);
    cmd.rrule = d.Str("rrule", true, 500);
    const std::string mode = d.Str("mode", false, 32, "all_or_nothing");
    if (mode != "all_or_nothing" && mode != "skip_conflicts") {
      d.Error("mode", "must be all_or_nothing or skip_conflicts");
    }
    cmd.skip_conflicts = mode == "skip_conflicts";
    std::vector<LocalDay> exdays;
    const json exdates = d.Array("exdates", 500);
    for (std::size_t i = 0; i < exdates.size(); ++i) {
      const std::string field = "exdates[" + std::to_string(i) + "]";
      const std::string text = exdates[i].is_string() ? exdates[i].get<std::string>() : std::string();
      if (auto day = ParseLocalDay(text)) {
        exdays.push_back(*day);
      } else if (auto instant = ParseRfc3339(text); instant.ok()) {
        cmd.exdates.push_back(*instant);
      } else {
        d.Error(field, "must be a date (YYYY-MM-DD) or an RFC 3339 start time");
      }
    }
    if (!cmd.first.session.empty())
      d.Error("session", "a series books rooms, devices or pools, not sessions");
    if (Invalid(c, d)) return;
    if (cmd.first.range.empty()) {
      return Problem(c, status::unprocessable_entity, "validation_failed", "end must be after start");
    }
    // Expanded in the tenant's zone; the zone never changes after creation.
    auto tenant = projections::QueryTenant(runner.view(), t);
    const date::time_zone* zone = tenant.ok() ? FindZone(tenant->value("time_zone", "")) : nullptr;
    if (zone == nullptr)
      return Problem(c, status::service_unavailable, "not_ready", "the tenant is not ready yet");
    auto occurrences = ExpandRRule(cmd.rrule, cmd.first.range, zone, cmd.exdates, exdays, kMaxOccurrences);
    if (!occurrences.ok()) {
      return Problem(c, status::unprocessable_entity, "invalid_rrule", occurrences.status().message(),
                     {{"rrule", cmd.rrule}});
    }
    cmd.occurrences = std::move(occurrences).value();
    for (std::size_t i = 0; i < cmd.occurrences.size(); ++i) cmd.ids.emplace_back("bk_" + RandomHex(10));
    cmd.id = "sr_" + RandomHex(8);
    cmd.first.manage_token = "sbm_" + RandomHex(24);
    auto shared = std::make_shared<commands::PlaceSeries>(std::move(cmd));
    SealThenSubmit(c, t, *actor, shared, &shared->first, contact);
  }

  // A command of a key with one of `roles`: the body (optional when
  // `body_optional`) is decoded by decode(decoder, if_match) with only the
  // `allowed` fields.
  template <typename Decode>
  void KeyCommand(const CallPtr& c, const TenantId& t, const char* route,
                  std::initializer_list<commands::Role> roles, std::vector<std::string> allowed,
                  bool body_optional, Decode decode, const std::string& location = {}) {
    c->route = route;
    auto k = RequireRole(c, t, roles);
    if (!k) return;
    bool bad = false;
    auto if_match = IfMatch(c, &bad);
    if (bad) return;
    auto body = Body(c, body_optional);
    if (!body) return;
    Decoder d(*body, std::move(allowed));
    commands::Command cmd = decode(d, if_match);
    if (Invalid(c, d)) return;
    Submit(c, Ctx(c, t, "key:" + k->id), std::move(cmd), location);
  }

  static constexpr std::initializer_list<commands::Role> kAdmin = {commands::Role::kAdmin};
  static constexpr std::initializer_list<commands::Role> kStaffOrAdmin = {commands::Role::kStaff,
                                                                          commands::Role::kAdmin};

  void ScheduleSession(const CallPtr& c, const TenantId& t, const std::string& r) {
    KeyCommand(c, t, "sessions", kStaffOrAdmin, {"id", "start", "end", "seats", "title"}, false,
               [&](Decoder& d, auto) {
                 commands::ScheduleSession cmd;
                 cmd.resource = ResourceId(r);
                 cmd.session_id = d.Str("id", false, 64);
                 if (cmd.session_id.empty()) cmd.session_id = "s-" + RandomHex(5);
                 cmd.range = {d.Time("start", true), d.Time("end", true)};
                 cmd.seats = static_cast<std::uint32_t>(d.Int("seats", 1, 100000, 0));
                 cmd.title = d.Str("title", false, 200);
                 return commands::Command(std::move(cmd));
               });
  }

  void SetAddon(const CallPtr& c, const TenantId& t, const std::string& id) {
    KeyCommand(c, t, "addon", kAdmin, {"name", "stock", "offers"}, false, [&](Decoder& d, auto if_match) {
      commands::SetAddon cmd;
      cmd.id = id;
      cmd.if_match = if_match;
      cmd.name = d.Str("name", true, 200);
      cmd.stock = static_cast<std::uint32_t>(d.Int("stock", 0, 1000000, 0));
      const json offers = d.Array("offers", 1000);
      for (std::size_t i = 0; i < offers.size(); ++i) {
        Decoder o = d.Nested(offers[i], {"resource", "mandatory"}, "offers[" + std::to_string(i) + "].");
        cmd.offers.push_back({ResourceId(o.Str("resource", true, 64)), o.Bool("mandatory", false)});
      }
      return commands::Command(std::move(cmd));
    });
  }

  void DefineGroup(const CallPtr& c, const TenantId& t) {
    KeyCommand(c, t, "groups", kAdmin, {"id", "name"}, false, [&](Decoder& d, auto) {
      commands::DefineGroup cmd;
      cmd.id = d.Str("id", true, 64);
      cmd.name = d.Str("name", true, 200);
      return commands::Command(std::move(cmd));
    });
  }

  void RegisterCustomer(const CallPtr& c, const TenantId& t) {
    KeyCommand(
        c, t, "customers", kStaffOrAdmin, {"id", "group"}, false,
        [&](Decoder& d, auto) {
          commands::RegisterCustomer cmd;
          cmd.id = d.Str("id", false, 64);
          if (cmd.id.empty()) cmd.id = "cu_" + RandomHex(6);
          cmd.group = d.Str("group", true, 64);
          cmd.token = "sbc_" + RandomHex(24);
          return commands::Command(std::move(cmd));
        },
        "/v1/tenants/" + t.get() + "/customers/");
  }

  void ChangeCustomerGroup(const CallPtr& c, const TenantId& t, const std::string& id) {
    KeyCommand(c, t, "customer_group", kStaffOrAdmin, {"group"}, false, [&](Decoder& d, auto) {
      return commands::Command(commands::ChangeCustomerGroup{id, d.Str("group", true, 64)});
    });
  }

  void GrantQualification(const CallPtr& c, const TenantId& t, const std::string& id) {
    KeyCommand(c, t, "qualifications", kStaffOrAdmin, {"qualification", "valid_until", "basis"}, false,
               [&](Decoder& d, auto) {
                 commands::GrantQualification cmd;
                 cmd.customer = id;
                 cmd.qualification = d.Str("qualification", true, 64);
                 cmd.valid_until = d.Time("valid_until", false);
                 cmd.basis = d.Str("basis", false, 1000);
                 return commands::Command(std::move(cmd));
               });
  }

  void RevokeQualification(const CallPtr& c, const TenantId& t, const std::string& id, const std::string& q) {
    KeyCommand(c, t, "qualification_revoke", kStaffOrAdmin, {}, true, [&](Decoder&, auto) {
      return commands::Command(commands::RevokeQualification{id, q});
    });
  }

  void GrantRight(const CallPtr& c, const TenantId& t) {
    KeyCommand(c, t, "rights", kAdmin,
               {"resource", "group", "may_book", "needs_approval", "hold", "quota_minutes", "quota_period",
                "basis", "valid_from", "valid_until"},
               false, [&](Decoder& d, auto) {
                 commands::GrantRight cmd;
                 commands::Right& r = cmd.right;
                 r.id = "rt_" + RandomHex(6);
                 r.resource = ResourceId(d.Str("resource", true, 64));
                 r.group = d.Str("group", true, 64);
                 r.may_book = d.Bool("may_book", true);
                 r.needs_approval = d.Bool("needs_approval", false);
                 r.hold = d.Bool("hold", false);
                 r.quota = d.Int("quota_minutes", 0, 366LL * 24 * 60, 0) * kUsPerMinute;
                 r.quota_period = d.Str("quota_period", false, 8);
                 r.basis = d.Str("basis", false, 1000);
                 r.valid_from = d.Time("valid_from", false);
                 r.valid_until = d.Time("valid_until", false);
                 return commands::Command(std::move(cmd));
               });
  }

  void RevokeRight(const CallPtr& c, const TenantId& t, const std::string& id) {
    KeyCommand(c, t, "right_revoke", kAdmin, {"reason"}, true, [&](Decoder& d, auto) {
      return commands::Command(commands::RevokeRight{id, d.Str("reason", false, 1000)});
    });
  }

  void SetSettings(const CallPtr& c, const TenantId& t) {
    KeyCommand(c, t, "settings", kAdmin, {"hold_seconds"}, false, [&](Decoder& d, auto) {
      commands::SetSettings cmd;
      cmd.hold = d.Int("hold_seconds", 1, 30LL * 24 * 3600, 0) * kUsPerSecond;
      if (cmd.hold == 0) d.Error("hold_seconds", "required");
      return commands::Command(cmd);
    });
  }

  // Staff decisions on one booking: approve, reject, confirm, complete,
  // no-show.
  void BookingAction(const CallPtr& c, const TenantId& t, const std::string& id, const std::string& action) {
    const BookingId b(id);
    if (action == "approve") {
      return KeyCommand(c, t, "booking_approve", kStaffOrAdmin, {"note"}, true, [&](Decoder& d, auto m) {
        return commands::Command(commands::ApproveBooking{b, d.Str("note", false, 1000), m});
      });
    }
    if (action == "reject") {
      return KeyCommand(c, t, "booking_reject", kStaffOrAdmin, {"reason"}, true, [&](Decoder& d, auto m) {
        return commands::Command(commands::RejectBooking{b, d.Str("reason", false, 1000), m});
      });
    }
    if (action == "confirm") {
      return KeyCommand(c, t, "booking_confirm", kStaffOrAdmin, {}, true, [&](Decoder&, auto m) {
        return commands::Command(commands::ConfirmBooking{b, m});
      });
    }
    const bool no_show = action == "no-show";
    KeyCommand(c, t, no_show ? "booking_no_show" : "booking_complete", kStaffOrAdmin, {}, true,
               [&](Decoder&, auto m) {
                 return commands::Command(commands::CompleteBooking{b, no_show, m});
               });
  }

  // A manage token from "Authorization: Bearer sbm_…", the
  // Saalbuch-Manage-Token header or ?token=.
  std::string ManageToken(const CallPtr& c, const Target& target) {
    std::string b = Bearer(c);
    if (b.starts_with("sbm_")) return b;
    auto it = c->req.find("Saalbuch-Manage-Token");
    if (it != c->req.end()) return std::string(it->value());
    auto q = target.query.find("token");
    return q == target.query.end() ? std::string() : q->second;
  }

  void CancelBooking(const CallPtr& c, const TenantId& t, const std::string& id, const Target& target) {
    c->route = "booking_cancel";
    c->public_cors = true;
    commands::CancelBooking cmd;
    cmd.id = BookingId(id);
    std::string actor;
    std::string token = ManageToken(c, target);
    if (!token.empty()) {
      cmd.manage_token = token;
      actor = "manage-token";
    } else {
      auto k = RequireRole(c, t, {commands::Role::kStaff, commands::Role::kAdmin});
      if (!k) return;
      cmd.by_staff = true;
      actor = "key:" + k->id;
    }
    bool bad = false;
    cmd.if_match = IfMatch(c, &bad);
    if (bad) return;
    auto body = Body(c, /*allow_empty=*/true);
    if (!body) return;
    Decoder d(*body, {"reason", "waive_fee"});
    cmd.reason = d.Str("reason", false, 1000);
    cmd.waive_fee = d.Bool("waive_fee", false);  // staff only (Decide refuses it for bookers)
    if (Invalid(c, d)) return;
    Submit(c, Ctx(c, t, actor), std::move(cmd));
  }

  // The booker (manage token) or staff: *by_staff and *token are set and
  // the actor returned; nullopt after answering.
  std::optional<std::string> TokenOrStaff(const CallPtr& c, const TenantId& t, const Target& target,
                                          bool* by_staff, std::string* token) {
    *token = ManageToken(c, target);
    if (!token->empty()) return "manage-token";
    auto k = RequireRole(c, t, {commands::Role::kStaff, commands::Role::kAdmin});
    if (!k) return std::nullopt;
    *by_staff = true;
    return "key:" + k->id;
  }

  void RescheduleBooking(const CallPtr& c, const TenantId& t, const std::string& id, const Target& target) {
    c->route = "booking_reschedule";
    c->public_cors = true;
    commands::RescheduleBooking cmd;
    cmd.id = BookingId(id);
    auto actor = TokenOrStaff(c, t, target, &cmd.by_staff, &cmd.manage_token);
    if (!actor) return;
    bool bad = false;
    cmd.if_match = IfMatch(c, &bad);
    if (bad) return;
    auto body = Body(c);
    if (!body) return;
    Decoder d(*body, {"start", "end", "session"});
    cmd.session = d.Str("session", false, 64);
    cmd.range = {d.Time("start", cmd.session.empty()), d.Time("end", cmd.session.empty())};
    if (Invalid(c, d)) return;
    Submit(c, Ctx(c, t, *actor), std::move(cmd));
  }

  void CancelSeries(const CallPtr& c, const TenantId& t, const std::string& id, const Target& target) {
    c->route = "series_cancel";
    c->public_cors = true;
    commands::CancelSeries cmd;
    cmd.id = id;
    auto actor = TokenOrStaff(c, t, target, &cmd.by_staff, &cmd.manage_token);
    if (!actor) return;
    auto body = Body(c, /*allow_empty=*/true);
    if (!body) return;
    Decoder d(*body, {"from", "reason"});
    cmd.from = d.Time("from", false);
    cmd.reason = d.Str("reason", false, 1000);
    if (Invalid(c, d)) return;
    Submit(c, Ctx(c, t, *actor), std::move(cmd));
  }

  // ---- queries ----

  // Runs `query` on a query thread once the tenant's projections reached the
  // position the client named (min_position or Saalbuch-Min-Position).
  void Query(const CallPtr& c, const TenantId& t, const Target& target, std::function<void()> query) {
    Seq min = 0;
    std::string text;
    if (auto q = target.query.find("min_position"); q != target.query.end()) text = q->second;
    if (auto h = c->req.find("Saalbuch-Min-Position"); text.empty() && h != c->req.end())
      text = std::string(h->value());
    if (!text.empty()) {
      auto n = ParseUnsigned(text);
      if (!n) return Problem(c, status::bad_request, "invalid_query", "min_position must be a log position");
      min = *n;
    }
    const auto deadline = std::chrono::steady_clock::now() + options.max_position_wait;
    WaitThenRun(c, t, min, deadline, std::move(query));
  }

  // Runs `query` on a query thread. A query that throws (a programming error
  // or a damaged projection document) answers 500 instead of ending the
  // process.
  void RunQuery(const CallPtr& c, std::function<void()> query) {
    net::post(pool, [this, c, q = std::move(query)] {
      try {
        q();
      } catch (const std::exception& e) {
        spdlog::error("msg=\"query failed\" request={} error=\"{}\"", c->request_id, e.what());
        Problem(c, status::internal_server_error, "internal_error", "an internal error occurred");
      }
    });
  }

  void WaitThenRun(const CallPtr& c, const TenantId& t, Seq min,
                   std::chrono::steady_clock::time_point deadline, std::function<void()> query,
                   std::chrono::milliseconds delay = std::chrono::milliseconds(0)) {
    if (runner.Position(t) >= min) {
      RunQuery(c, std::move(query));
      return;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return Problem(c, status::service_unavailable, "position_not_reached",
                     "the projection has not reached position " + std::to_string(min) + " yet",
                     {{"position", runner.Position(t)}});
    }
    // Back off from 1 ms to 64 ms: read-your-writes usually waits about a
    // millisecond, and a client naming a far position must not cost a timer
    // wake-up every millisecond.
    delay = std::clamp(delay * 2, std::chrono::milliseconds(1), std::chrono::milliseconds(64));
    auto timer = std::make_shared<net::steady_timer>(ioc, delay);
    timer->async_wait([this, c, t, min, deadline, delay, q = std::move(query),
                       timer](const boost::system::error_code&) mutable {
      WaitThenRun(c, t, min, deadline, std::move(q), delay);
    });
  }

  // Sends `result` with the projection position, an ETag, and 304 when the
  // client already has it.
  void SendQuery(const CallPtr& c, Seq position, const Result<json>& result, bool etag) {
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
      if (inm != c->req.end() && inm->value() == tag) {
        res.result(status::not_modified);
        return Send(c, std::move(res));
      }
    }
    res.body() = body;
    Send(c, std::move(res));
  }

  bool Window(const CallPtr& c, const Target& target, TimeRange* w) {
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

  void GetTenant(const CallPtr& c, const TenantId& t, const Target& target) {
    c->route = "tenant";
    c->public_cors = true;
    Query(c, t, target, [this, c, t] {
      Seq p = runner.Position(t);
      SendQuery(c, p, projections::QueryTenant(runner.view(), t), true);
    });
  }

  // ?limit= (1–500, default 50) into *limit; answers 400 and returns false
  // when malformed.
  bool Limit(const CallPtr& c, const Target& target, std::size_t* limit) {
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

  void ListResources(const CallPtr& c, const TenantId& t, const Target& target) {
    c->route = "resources";
    c->public_cors = true;
    std::size_t limit = 0;
    if (!Limit(c, target, &limit)) return;
    std::string cursor;
    if (auto cu = target.query.find("cursor"); cu != target.query.end()) cursor = cu->second;
    Query(c, t, target, [this, c, t, limit, cursor] {
      Seq p = runner.Position(t);
      auto res = projections::QueryResources(runner.view(), t, limit, cursor);
      if (!res.ok() && res.status().code() == StatusCode::kInvalidArgument) {
        return Problem(c, status::bad_request, "invalid_query", res.status().message());
      }
      SendQuery(c, p, res, true);
    });
  }

  void GetResource(const CallPtr& c, const TenantId& t, const std::string& r, const Target& target) {
    c->route = "resource";
    c->public_cors = true;
    Query(c, t, target, [this, c, t, r] {
      Seq p = runner.Position(t);
      SendQuery(c, p, projections::QueryResource(runner.view(), t, ResourceId(r)), true);
    });
  }

  void Availability(const CallPtr& c, const TenantId& t, const std::string& r, const Target& target) {
    c->route = "availability";
    c->public_cors = true;
    TimeRange w;
    if (!Window(c, target, &w)) return;
    Query(c, t, target, [this, c, t, r, w] {
      Seq p = runner.Position(t);
      auto res = projections::QueryAvailability(runner.view(), t, ResourceId(r), w);
      if (!res.ok() && res.status().code() == StatusCode::kInvalidArgument) {
        return Problem(c, status::bad_request, "invalid_query", res.status().message());
      }
      SendQuery(c, p, res, true);
    });
  }

  // Sends an iCalendar body with an ETag (computed without DTSTAMP lines,
  // which change on every request).
  void SendIcs(const CallPtr& c, Seq position, const std::string& ics, const std::string& filename) {
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
    if (inm != c->req.end() && inm->value() == tag) {
      res.result(status::not_modified);
      return Send(c, std::move(res));
    }
    res.body() = ics;
    Send(c, std::move(res));
  }

  static TimeUs Now() {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }

  // Public busy feed: live bookings as "busy" events, no personal data.
  // Window: ?from=&to= (at most 400 days), default 31 days back to 365 ahead.
  void BusyFeed(const CallPtr& c, const TenantId& t, const std::string& r, const Target& target) {
    c->route = "busy_ics";
    c->public_cors = true;
    constexpr TimeUs kDay = 24LL * 3600 * kUsPerSecond;
    TimeRange w{Now() - 31 * kDay, Now() + 365 * kDay};
    if (target.query.count("from") != 0 || target.query.count("to") != 0) {
      if (!Window(c, target, &w)) return;
      if (w.end - w.start > 400 * kDay) {
        return Problem(c, status::bad_request, "invalid_query", "the window may span at most 400 days");
      }
    }
    Query(c, t, target, [this, c, t, r, w] {
      Seq p = runner.Position(t);
      auto res = projections::QueryResource(runner.view(), t, ResourceId(r));
      if (!res.ok()) return FromStatus(c, res.status());
      auto busy = projections::QueryBusy(runner.view(), t, ResourceId(r), w);
      if (!busy.ok()) return FromStatus(c, busy.status());
      SendIcs(c, p, BusyFeedIcs(t, res->value("name", r), *busy, Now()), r + "-busy.ics");
    });
  }

  // One booking as .ics, for its booker (manage token) or staff.
  void BookingCalendar(const CallPtr& c, const TenantId& t, const std::string& id, const Target& target) {
    c->route = "booking_ics";
    QueryBooking(c, t, id, target, [this, c, t, id](Seq p, const projections::BookingView& b) {
      auto tenant = projections::QueryTenant(runner.view(), t);
      auto res = projections::QueryResource(runner.view(), t, ResourceId(b.doc.value("resource", "")));
      const std::string tenant_name = tenant.ok() ? tenant->value("name", t.get()) : t.get();
      const std::string resource_name = res.ok() ? res->value("name", "") : b.doc.value("resource", "");
      SendIcs(c, p, BookingIcs(t, tenant_name, resource_name, b.doc, Now()), id + ".ics");
    });
  }

  // Reads one booking for its booker (a manage token, which must be the
  // booking's) or staff/admin/auditor, then calls `then` on a query thread.
  // A wrong token answers exactly like an unknown booking.
  void QueryBooking(const CallPtr& c, const TenantId& t, const std::string& id, const Target& target,
                    std::function<void(Seq, const projections::BookingView&)> then) {
    c->public_cors = true;
    std::string token = ManageToken(c, target);
    if (token.empty() &&
        !RequireRole(c, t, {commands::Role::kStaff, commands::Role::kAdmin, commands::Role::kAuditor})) {
      return;
    }
    Query(c, t, target, [this, c, t, id, token, then = std::move(then)] {
      Seq p = runner.Position(t);
      auto b = projections::QueryBooking(runner.view(), t, BookingId(id));
      if (!b.ok()) return FromStatus(c, b.status());
      if (!token.empty() && !SecretMatches(token, b->manage_token_hash)) {
        return Problem(c, status::not_found, "not_found", "no such booking");
      }
      then(p, *b);
    });
  }

  void ResourceBookings(const CallPtr& c, const TenantId& t, const std::string& r, const Target& target) {
    c->route = "resource_bookings";
    if (!RequireRole(c, t, {commands::Role::kStaff, commands::Role::kAdmin, commands::Role::kAuditor}))
      return;
    TimeRange w;
    if (!Window(c, target, &w)) return;
    std::size_t limit = 0;
    if (!Limit(c, target, &limit)) return;
    std::string cursor;
    if (auto cu = target.query.find("cursor"); cu != target.query.end()) cursor = cu->second;
    Query(c, t, target, [this, c, t, r, w, limit, cursor] {
      Seq p = runner.Position(t);
      auto page = projections::QueryResourceBookings(runner.view(), t, ResourceId(r), w, limit, cursor);
      RevealItems(page, t);
      SendQuery(c, p, page, false);
    });
  }

  // Catalog lists: add-ons (public), groups, rights and customers (staff,
  // admin, auditor).
  void CatalogList(const CallPtr& c, const TenantId& t, const Target& target, const char* route, char kind) {
    c->route = route;
    if (kind == 'a') {
      c->public_cors = true;
    } else if (!RequireRole(c, t,
                            {commands::Role::kStaff, commands::Role::kAdmin, commands::Role::kAuditor})) {
      return;
    }
    std::string resource;
    if (auto r = target.query.find("resource"); r != target.query.end()) resource = r->second;
    Query(c, t, target, [this, c, t, kind, resource] {
      Seq p = runner.Position(t);
      auto list = projections::QueryList(runner.view(), t, kind);
      if (list.ok() && !resource.empty()) {
        json kept = json::array();
        for (auto& item : *list) {
          if (item.value("resource", "") == resource) kept.push_back(std::move(item));
        }
        *list = std::move(kept);
      }
      if (!list.ok()) return FromStatus(c, list.status());
      SendQuery(c, p, json{{"items", *list}}, kind == 'a');
    });
  }

  void GetCustomer(const CallPtr& c, const TenantId& t, const std::string& id, const Target& target) {
    c->route = "customer";
    if (!RequireRole(c, t, {commands::Role::kStaff, commands::Role::kAdmin, commands::Role::kAuditor}))
      return;
    Query(c, t, target, [this, c, t, id] {
      Seq p = runner.Position(t);
      SendQuery(c, p, projections::QueryCustomer(runner.view(), t, id), false);
    });
  }

  // Staff lists: ?status=&resource=&customer=&from=&to= (default: from 31
  // days ago to 5 years ahead), paginated. ?status=requested is the
  // approval queue.
  void ListBookings(const CallPtr& c, const TenantId& t, const Target& target) {
    c->route = "bookings_list";
    if (!RequireRole(c, t, {commands::Role::kStaff, commands::Role::kAdmin, commands::Role::kAuditor}))
      return;
    projections::BookingFilter f;
    constexpr TimeUs kDay = 24LL * 3600 * kUsPerSecond;
    f.window = {Now() - 31 * kDay, Now() + 5LL * 366 * kDay};
    if (target.query.count("from") != 0 || target.query.count("to") != 0) {
      if (!Window(c, target, &f.window)) return;
    }
    auto param = [&](const char* name) {
      auto it = target.query.find(name);
      return it == target.query.end() ? std::string() : it->second;
    };
    f.status = param("status");
    f.resource = param("resource");
    f.customer = param("customer");
    static const std::set<std::string> kStatuses = {"requested", "held",     "confirmed", "completed",
                                                    "no_show",   "rejected", "cancelled", "expired"};
    if (!f.status.empty() && kStatuses.count(f.status) == 0) {
      return Problem(c, status::bad_request, "invalid_query", "unknown status", {{"status", f.status}});
    }
    std::size_t limit = 0;
    if (!Limit(c, target, &limit)) return;
    const std::string cursor = param("cursor");
    Query(c, t, target, [this, c, t, f, limit, cursor] {
      Seq p = runner.Position(t);
      auto res = projections::QueryBookings(runner.view(), t, f, limit, cursor);
      if (!res.ok() && res.status().code() == StatusCode::kInvalidArgument) {
        return Problem(c, status::bad_request, "invalid_query", res.status().message());
      }
      RevealItems(res, t);
      SendQuery(c, p, res, false);
    });
  }

  // Replaces a booking document's sealed contact by the contact itself
  // (opened with the person's vault key), or by {"erased": true} once the
  // key is gone. Runs on a query thread.
  void Reveal(json& doc, const TenantId& t) {
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
  void RevealItems(Result<json>& page, const TenantId& t) {
    if (!page.ok()) return;
    for (auto& item : (*page)["items"]) Reveal(item, t);
  }

  void GetBooking(const CallPtr& c, const TenantId& t, const std::string& id, const Target& target) {
    c->route = "booking";
    QueryBooking(c, t, id, target, [this, c, t](Seq p, const projections::BookingView& b) {
      json doc = b.doc;
      Reveal(doc, t);
      SendQuery(c, p, Result<json>(std::move(doc)), false);
    });
  }

  // The latest signed checkpoint (auditor, admin).
  void LatestCheckpoint(const CallPtr& c, const TenantId& t, const Target& target) {
    c->route = "checkpoint";
    if (!RequireRole(c, t, {commands::Role::kAuditor, commands::Role::kAdmin})) return;
    Query(c, t, target, [this, c, t] {
      Seq p = runner.Position(t);
      SendQuery(c, p, projections::QueryCheckpoint(runner.view(), t), false);
    });
  }

  // The tenant's checkpoint verifier key (public): an auditor keeps it
  // apart from the data to verify copies offline.
  void CheckpointKey(const CallPtr& c, const TenantId& t) {
    c->route = "checkpoint_key";
    c->public_cors = true;
    if (options.vault == nullptr)
      return Problem(c, status::not_found, "not_found", "this server signs no checkpoints");
    RunQuery(c, [this, c, t] {
      auto seed = options.vault->SigningSeed(t);
      if (!seed.ok()) return FromStatus(c, seed.status());
      Response res{status::ok, 11};
      res.set(field::content_type, "text/plain; charset=utf-8");
      res.body() = VerifierKey("saalbuch/" + t.get(), Ed25519PublicKey(*seed)) + "\n";
      Send(c, std::move(res));
    });
  }

  // Erases a person's contact data: deletes the vault key (on a query
  // thread: durable write and compaction), then records it in the log.
  void ErasePerson(const CallPtr& c, const TenantId& t, const std::string& person) {
    c->route = "person_erase";
    auto k = RequireRole(c, t, {commands::Role::kAdmin});
    if (!k) return;
    auto body = Body(c, /*allow_empty=*/true);
    if (!body) return;
    Decoder d(*body, {"reason"});
    commands::ErasePerson cmd{person, d.Str("reason", false, 1000)};
    if (Invalid(c, d)) return;
    if (options.vault == nullptr) return Problem(c, status::not_found, "not_found", "no such person");
    RunQuery(c, [this, c, t, cmd, actor = "key:" + k->id] {
      if (Status s = options.vault->Erase(t, cmd.person); !s.ok()) return FromStatus(c, s);
      Submit(c, Ctx(c, t, actor), cmd);
    });
  }

  // ---- Money: tariffs, finance settings, invoices, payments, refunds, the
  // journal, reconciliation, exports (commands/decide_money.cc decides;
  // projections/finance_queries.cc answers). ----

  static constexpr std::initializer_list<commands::Role> kFinance = {commands::Role::kFinance,
                                                                     commands::Role::kAdmin};
  static constexpr std::initializer_list<commands::Role> kFinanceRead = {
      commands::Role::kFinance, commands::Role::kAdmin, commands::Role::kAuditor};

  void SetTariff(const CallPtr& c, const TenantId& t, const std::string& id) {
    KeyCommand(c, t, "tariff", kAdmin,
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
                 Money price = d.MoneyField("price", true, 0, 100'000'000'000);
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

  void SetFinanceSettings(const CallPtr& c, const TenantId& t) {
    KeyCommand(c, t, "finance_settings", kAdmin,
               {"currency", "payment_terms_days", "cancellation_tiers", "letterhead", "accounts",
                "kassenzeichen_prefix", "datev_consultant", "datev_client"},
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
                 return commands::Command(cmd);
               });
  }

  // A finance query for `roles` answering with `fn()`'s JSON.
  void FinanceQuery(const CallPtr& c, const TenantId& t, const Target& target, const char* route,
                    std::initializer_list<commands::Role> roles, std::function<Result<json>()> fn) {
    c->route = route;
    if (!RequireRole(c, t, roles)) return;
    Query(c, t, target, [this, c, t, fn = std::move(fn)] { SendQuery(c, runner.Position(t), fn(), false); });
  }

  std::string Param(const Target& target, const char* name) {
    auto it = target.query.find(name);
    return it == target.query.end() ? std::string() : it->second;
  }

  void FinanceList(const CallPtr& c, const TenantId& t, const Target& target, const char* route, char kind) {
    std::size_t limit = 0;
    c->route = route;
    if (!Limit(c, target, &limit)) return;
    const std::string cursor = Param(target, "cursor");
    FinanceQuery(c, t, target, route, kFinanceRead, [this, t, kind, limit, cursor] {
      return projections::QueryFinanceList(runner.view(), t, kind, limit, cursor);
    });
  }

  // An invoice for finance (and auditors, admins, staff) or for the booker
  // of its booking (manage token); a wrong token looks like no invoice.
  void WithInvoice(const CallPtr& c, const TenantId& t, const std::string& id, const Target& target,
                   std::function<void(Seq, json)> then) {
    c->public_cors = true;
    const std::string token = ManageToken(c, target);
    if (token.empty() && !RequireRole(c, t,
                                      {commands::Role::kFinance, commands::Role::kAdmin,
                                       commands::Role::kAuditor, commands::Role::kStaff})) {
      return;
    }
    Query(c, t, target, [this, c, t, id, token, then = std::move(then)] {
      Seq p = runner.Position(t);
      auto inv = projections::QueryFinanceDoc(runner.view(), t, 'i', id);
      if (!inv.ok()) return FromStatus(c, inv.status());
      if (!token.empty()) {
        auto b = projections::QueryBooking(runner.view(), t, BookingId(inv->value("booking", "")));
        if (!b.ok() || !SecretMatches(token, b->manage_token_hash)) {
          return Problem(c, status::not_found, "not_found", "not found");
        }
      }
      then(p, std::move(*inv));
    });
  }

  void SendBytes(const CallPtr& c, Seq position, const std::string& type, const std::string& filename,
                 std::string bytes) {
    Response res{status::ok, 11};
    res.set(field::content_type, type);
    res.set(field::content_disposition, "inline; filename=\"" + filename + "\"");
    res.set("Saalbuch-Position", std::to_string(position));
    res.body() = std::move(bytes);
    Send(c, std::move(res));
  }

  void SendPdf(const CallPtr& c, Seq position, const TenantId& t, const std::string& number,
               const std::function<PdfDocument(const json& settings, const date::time_zone* zone)>& make) {
    auto settings = projections::QueryFinanceSettings(runner.view(), t);
    if (!settings.ok()) return FromStatus(c, settings.status());
    const date::time_zone* zone = FindZone(settings->value("time_zone", "UTC"));
    if (zone == nullptr) zone = date::locate_zone("UTC");
    auto pdf = RenderPdf(make(*settings, zone));
    if (!pdf.ok()) {
      spdlog::error("msg=\"pdf failed\" tenant={} document={} error=\"{}\"", t.get(), number,
                    pdf.status().ToString());
      return Problem(c, status::internal_server_error, "document_failed",
                     "the document could not be rendered");
    }
    SendBytes(c, position, "application/pdf", number + ".pdf", std::move(*pdf));
  }

  void GetInvoice(const CallPtr& c, const TenantId& t, const std::string& id, const Target& target,
                  bool pdf) {
    c->route = pdf ? "invoice_pdf" : "invoice";
    WithInvoice(c, t, id, target, [this, c, t, pdf](Seq p, json inv) {
      if (!pdf) return SendQuery(c, p, Result<json>(std::move(inv)), false);
      auto booking = projections::QueryFinanceBooking(runner.view(), t, inv.value("booking", ""));
      json b = booking.ok() ? *booking : json();
      if (!b.is_null()) {  // people read the resource's name, not its id
        auto r = projections::QueryResource(runner.view(), t, ResourceId(b.value("resource", "")));
        if (r.ok()) b["resource"] = r->value("name", b.value("resource", ""));
      }
      SendPdf(c, p, t, inv.value("number", ""),
              [&](const json& s, const date::time_zone* z) { return InvoicePdf(s, inv, b, z); });
    });
  }

  // The invoice of a booking, for its booker or staff.
  void BookingInvoice(const CallPtr& c, const TenantId& t, const std::string& booking, const Target& target) {
    GetInvoice(c, t, "inv-" + booking, target, false);
    c->route = "booking_invoice";
  }

  void GetCreditNote(const CallPtr& c, const TenantId& t, const std::string& number, const Target& target,
                     bool pdf) {
    c->route = pdf ? "credit_note_pdf" : "credit_note";
    if (!RequireRole(c, t, kFinanceRead)) return;
    Query(c, t, target, [this, c, t, number, pdf] {
      Seq p = runner.Position(t);
      auto doc = projections::QueryFinanceDoc(runner.view(), t, 'c', number);
      if (!pdf || !doc.ok()) return SendQuery(c, p, doc, false);
      SendPdf(c, p, t, number,
              [&](const json& s, const date::time_zone* z) { return CreditNotePdf(s, *doc, z); });
    });
  }

  // A receipt by its number: finance, or the booker of the paid booking.
  void GetReceipt(const CallPtr& c, const TenantId& t, const std::string& number, const Target& target,
                  bool pdf) {
    c->route = pdf ? "receipt_pdf" : "receipt";
    c->public_cors = true;
    const std::string token = ManageToken(c, target);
    if (token.empty() && !RequireRole(c, t, kFinanceRead)) return;
    Query(c, t, target, [this, c, t, number, token, pdf] {
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
      SendPdf(c, p, t, number,
              [&](const json& s, const date::time_zone* z) { return ReceiptPdf(s, *pay, invoice, z); });
    });
  }

  // Sends the booker (or finance) to the provider for the invoice's open
  // amount; the provider call runs on a query thread, never on I/O.
  void Checkout(const CallPtr& c, const TenantId& t, const std::string& id, const Target& target) {
    c->route = "invoice_checkout";
    if (options.provider == nullptr) {
      return Problem(c, status::conflict, "payments_not_configured",
                     "this server has no payment provider; pay by bank transfer");
    }
    const std::string token = ManageToken(c, target);
    std::string actor = "manage-token";
    if (token.empty()) {
      auto k = RequireRole(c, t, kFinance);
      if (!k) return;
      actor = "key:" + k->id;
    }
    WithInvoice(c, t, id, target, [this, c, t, token, actor](Seq, const json& inv) {
      const std::int64_t open = inv.value("open", std::int64_t{0});
      if (open <= 0) return Problem(c, status::conflict, "invoice_paid", "nothing is open on this invoice");
      CheckoutRequest req;
      req.tenant = t.get();
      req.invoice = inv.value("id", "");
      req.number = inv.value("number", "");
      req.amount = open;
      req.currency = inv.value("currency", "EUR");
      req.description = "Rechnung " + req.number;
      const std::string base = options.public_url + "/v1/tenants/" + t.get();
      req.return_url = base + "/invoices/" + req.invoice;
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

  void RecordPayment(const CallPtr& c, const TenantId& t, const std::string& id) {
    KeyCommand(c, t, "invoice_payments", kFinance, {"amount", "method", "reference", "received"}, false,
               [&](Decoder& d, auto) {
                 commands::RecordPayment cmd;
                 cmd.invoice = id;
                 Money m = d.MoneyField("amount", true, 1, 100'000'000'000);
                 cmd.amount = m.amount;
                 cmd.currency = m.currency;
                 cmd.method = d.Str("method", true, 20);
                 cmd.reference = d.Str("reference", true, 100);
                 cmd.received = d.Time("received", false);
                 return commands::Command(cmd);
               });
  }

  void RefundInvoice(const CallPtr& c, const TenantId& t, const std::string& id) {
    KeyCommand(c, t, "invoice_refunds", kFinance, {"amount", "reason"}, false, [&](Decoder& d, auto) {
      commands::RefundInvoice cmd;
      cmd.invoice = id;
      cmd.amount = d.MoneyField("amount", true, 1, 100'000'000'000).amount;
      cmd.reason = d.Str("reason", true, 1000);
      return commands::Command(cmd);
    });
  }

  void CompleteRefund(const CallPtr& c, const TenantId& t, const std::string& id) {
    KeyCommand(c, t, "refund_complete", kFinance, {"failed", "reason", "paid"}, true, [&](Decoder& d, auto) {
      commands::CompleteRefund cmd;
      cmd.refund = id;
      cmd.failed = d.Bool("failed", false);
      cmd.reason = d.Str("reason", false, 500);
      cmd.paid = d.Time("paid", false);
      return commands::Command(cmd);
    });
  }

  void ClosePeriod(const CallPtr& c, const TenantId& t) {
    KeyCommand(c, t, "period_close", kFinance, {"through"}, false, [&](Decoder& d, auto) {
      commands::ClosePeriod cmd;
      const std::string day = d.Str("through", true, 10);
      auto parsed = ParseLocalDay(day);
      if (!day.empty() && !parsed) d.Error("through", "must be a date YYYY-MM-DD");
      cmd.through = parsed.value_or(0);
      return commands::Command(cmd);
    });
  }

  // The provider's webhook: authentic only with a valid signature; the
  // decision books each payment reference once (invariant 5).
  void Webhook(const CallPtr& c, const TenantId& t) {
    c->route = "payments_webhook";
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

  void ImportSettlement(const CallPtr& c, const TenantId& t, const Target& target) {
    c->route = "import_settlement";
    auto k = RequireRole(c, t, kFinance);
    if (!k) return;
    auto payouts = ParseSettlementCsv(c->req.body());
    if (!payouts.ok())
      return Problem(c, status::unprocessable_entity, "invalid_file", payouts.status().message());
    commands::ImportSettlement cmd;
    cmd.file_sha256 = std::string(AsBytes(Sha256Of(c->req.body())));
    cmd.file_name = Param(target, "name").substr(0, 200);
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
    Submit(c, Ctx(c, t, "key:" + k->id), std::move(cmd));
  }

  void ImportBankStatement(const CallPtr& c, const TenantId& t) {
    c->route = "import_bank_statement";
    auto k = RequireRole(c, t, kFinance);
    if (!k) return;
    auto statements = ParseCamt053(c->req.body());
    if (!statements.ok()) {
      return Problem(c, status::unprocessable_entity, "invalid_file", statements.status().message());
    }
    if (statements->size() != 1) {
      return Problem(c, status::unprocessable_entity, "invalid_file",
                     "send one statement per file (this one has " + std::to_string(statements->size()) + ")");
    }
    const BankStatement& s = statements->front();
    commands::ImportBankStatement cmd;
    cmd.file_sha256 = std::string(AsBytes(Sha256Of(c->req.body())));
    cmd.statement_id = s.id;
    cmd.iban = s.iban;
    cmd.currency = s.currency;
    cmd.opening = s.opening;
    cmd.closing = s.closing;
    for (const auto& l : s.lines) {
      commands::BankLineIn in;
      in.reference = l.reference;
      in.amount = l.credit ? l.amount : -l.amount;
      in.booking_day = ParseLocalDay(l.booking_date).value_or(0);
      in.value_day = ParseLocalDay(l.value_date).value_or(in.booking_day);
      in.remittance = l.remittance;
      in.counterparty = l.counterparty;
      in.end_to_end_id = l.end_to_end_id;
      cmd.lines.push_back(std::move(in));
    }
    Submit(c, Ctx(c, t, "key:" + k->id), std::move(cmd));
  }

  // Every journal entry dated in [from, to] (at most 100000).
  Result<std::vector<json>> JournalEntries(const TenantId& t, const std::string& from,
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
  void Export(const CallPtr& c, const TenantId& t, const std::string& what, const Target& target) {
    c->route = "export";
    if (!RequireRole(c, t, kFinanceRead)) return;
    const std::string from = Param(target, "from"), to = Param(target, "to");
    if ((!from.empty() && !ParseLocalDay(from)) || (!to.empty() && !ParseLocalDay(to))) {
      return Problem(c, status::bad_request, "invalid_query", "from and to are dates YYYY-MM-DD");
    }
    if (what == "datev.csv" && (from.empty() || to.empty() || from.substr(0, 4) != to.substr(0, 4))) {
      return Problem(c, status::bad_request, "invalid_query",
                     "a DATEV export needs from and to (YYYY-MM-DD) within one calendar year");
    }
    Query(c, t, target, [this, c, t, what, from, to] {
      Seq p = runner.Position(t);
      if (what == "open-items.csv") {
        auto items = projections::QueryOpenItems(runner.view(), t, "");
        if (!items.ok()) return FromStatus(c, items.status());
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

  // Routes under /v1/tenants/{t}/…; false when none matched.
  bool FinanceRoute(const CallPtr& c, const TenantId& t, const std::vector<std::string>& s,
                    const Target& target) {
    const auto m = c->req.method();
    auto at = [&](std::initializer_list<const char*> tail) {
      if (s.size() != 3 + tail.size()) return false;
      std::size_t i = 3;
      for (const char* p : tail) {
        if (std::string_view(p) != "*" && s[i] != p) return false;
        ++i;
      }
      return true;
    };
    auto one = [&](verb want, const char* allow, auto&& fn) {
      if (m != want)
        NotAllowed(c, allow);
      else
        fn();
      return true;
    };
    if (at({"tariffs"})) {
      return one(verb::get, "GET", [&] {
        c->route = "tariffs";
        c->public_cors = true;
        std::size_t limit = 0;
        if (!Limit(c, target, &limit)) return;
        const std::string cursor = Param(target, "cursor");
        Query(c, t, target, [this, c, t, limit, cursor] {
          SendQuery(c, runner.Position(t),
                    projections::QueryFinanceList(runner.view(), t, 't', limit, cursor), true);
        });
      });
    }
    if (at({"tariffs", "*"})) {
      if (m == verb::put) return SetTariff(c, t, s[4]), true;
      return one(verb::get, "GET, PUT", [&] {
        c->route = "tariff";
        c->public_cors = true;
        Query(c, t, target, [this, c, t, id = s[4]] {
          SendQuery(c, runner.Position(t), projections::QueryFinanceDoc(runner.view(), t, 't', id), true);
        });
      });
    }
    if (at({"finance", "settings"})) {
      if (m == verb::put) return SetFinanceSettings(c, t), true;
      return one(verb::get, "GET, PUT", [&] {
        FinanceQuery(c, t, target, "finance_settings", kFinanceRead,
                     [this, t] { return projections::QueryFinanceSettings(runner.view(), t); });
      });
    }
    if (at({"invoices"})) return one(verb::get, "GET", [&] { FinanceList(c, t, target, "invoices", 'i'); });
    if (at({"invoices", "*"})) {
      const bool pdf = s[4].size() > 4 && s[4].ends_with(".pdf");
      const std::string id = pdf ? s[4].substr(0, s[4].size() - 4) : s[4];
      return one(verb::get, "GET", [&] { GetInvoice(c, t, id, target, pdf); });
    }
    if (at({"invoices", "*", "checkout"}))
      return one(verb::post, "POST", [&] { Checkout(c, t, s[4], target); });
    if (at({"invoices", "*", "payments"})) return one(verb::post, "POST", [&] { RecordPayment(c, t, s[4]); });
    if (at({"invoices", "*", "refunds"})) return one(verb::post, "POST", [&] { RefundInvoice(c, t, s[4]); });
    if (at({"bookings", "*", "invoice"})) {
      return one(verb::get, "GET", [&] { BookingInvoice(c, t, s[4], target); });
    }
    if (at({"credit-notes"}))
      return one(verb::get, "GET", [&] { FinanceList(c, t, target, "credit_notes", 'c'); });
    if (at({"credit-notes", "*"})) {
      const bool pdf = s[4].ends_with(".pdf");
      const std::string n = pdf ? s[4].substr(0, s[4].size() - 4) : s[4];
      return one(verb::get, "GET", [&] { GetCreditNote(c, t, n, target, pdf); });
    }
    if (at({"receipts", "*"})) {
      const bool pdf = s[4].ends_with(".pdf");
      const std::string n = pdf ? s[4].substr(0, s[4].size() - 4) : s[4];
      return one(verb::get, "GET", [&] { GetReceipt(c, t, n, target, pdf); });
    }
    if (at({"payments"})) return one(verb::get, "GET", [&] { FinanceList(c, t, target, "payments", 'p'); });
    if (at({"payments", "webhook"})) return one(verb::post, "POST", [&] { Webhook(c, t); });
    if (at({"refunds"})) return one(verb::get, "GET", [&] { FinanceList(c, t, target, "refunds", 'r'); });
    if (at({"refunds", "*", "complete"})) return one(verb::post, "POST", [&] { CompleteRefund(c, t, s[4]); });
    if (at({"journal"})) {
      return one(verb::get, "GET", [&] {
        std::size_t limit = 0;
        c->route = "journal";
        if (!Limit(c, target, &limit)) return;
        const std::string from = Param(target, "from"), to = Param(target, "to"),
                          cursor = Param(target, "cursor");
        FinanceQuery(c, t, target, "journal", kFinanceRead, [this, t, from, to, limit, cursor] {
          return projections::QueryJournal(runner.view(), t, from, to, limit, cursor);
        });
      });
    }
    if (at({"balances"})) {
      return one(verb::get, "GET", [&] {
        FinanceQuery(c, t, target, "balances", kFinanceRead,
                     [this, t] { return projections::QueryBalances(runner.view(), t); });
      });
    }
    if (at({"open-items"})) {
      return one(verb::get, "GET", [&] {
        const std::string customer = Param(target, "customer");
        FinanceQuery(c, t, target, "open_items", kFinanceRead,
                     [this, t, customer] { return projections::QueryOpenItems(runner.view(), t, customer); });
      });
    }
    if (at({"revenue"})) {
      return one(verb::get, "GET", [&] {
        const std::string from = Param(target, "from"), to = Param(target, "to");
        FinanceQuery(c, t, target, "revenue", kFinanceRead,
                     [this, t, from, to] { return projections::QueryRevenue(runner.view(), t, from, to); });
      });
    }
    if (at({"reconciliation"})) {
      return one(verb::get, "GET", [&] {
        FinanceQuery(c, t, target, "reconciliation", kFinanceRead,
                     [this, t] { return projections::QueryReconciliation(runner.view(), t); });
      });
    }
    if (at({"reconciliation", "settlements"})) {
      return one(verb::post, "POST", [&] { ImportSettlement(c, t, target); });
    }
    if (at({"reconciliation", "bank-statements"})) {
      return one(verb::post, "POST", [&] { ImportBankStatement(c, t); });
    }
    if (at({"exports", "*"}) && (s[4] == "journal.csv" || s[4] == "open-items.csv" || s[4] == "datev.csv")) {
      return one(verb::get, "GET", [&] { Export(c, t, s[4], target); });
    }
    if (at({"periods", "close"})) return one(verb::post, "POST", [&] { ClosePeriod(c, t); });
    return false;
  }

  void Events(const CallPtr& c, const TenantId& t, const Target& target) {
    c->route = "events";
    if (!RequireRole(c, t, {commands::Role::kAuditor, commands::Role::kAdmin})) return;
    Seq after = 0;
    if (auto a = target.query.find("after"); a != target.query.end()) {
      auto n = ParseUnsigned(a->second);
      if (!n) return Problem(c, status::bad_request, "invalid_query", "after must be a log position");
      after = *n;
    }
    std::size_t limit = 0;
    if (!Limit(c, target, &limit)) return;
    RunQuery(c, [this, c, t, after, limit] {
      std::vector<ledger::Record> records;
      if (Status s = log.Read(t, after + 1, limit + 1, &records); !s.ok()) return FromStatus(c, s);
      auto head = log.GetHead(t);
      if (!head.ok()) return FromStatus(c, head.status());
      const bool more = records.size() > limit;
      if (more) records.pop_back();
      json items = json::array();
      for (const auto& r : records) {
        auto ev = ledger::EnvelopeToJson(r.bytes);
        if (!ev.ok()) return FromStatus(c, ev.status());
        ledger::HexHashes(&*ev);
        items.push_back({{"seq", r.seq}, {"hash", ToHex(r.hash)}, {"record", *ev}});
      }
      json body = {{"items", items},
                   {"head", head->seq},
                   {"next_cursor", more ? json(std::to_string(records.back().seq)) : json(nullptr)}};
      SendJson(c, status::ok, body, head->seq);
    });
  }

  // GET …/events/stream: the log as server-sent events for auditors' live
  // tail. Each response carries the records after the client's
  // Last-Event-ID (or ?after=) — waiting up to ?wait= seconds (default and
  // most 10) for at least one — then ends with a retry hint; an EventSource
  // reconnects with the last id it saw, so no record is missed or repeated.
  // Bounded: at most 500 records per response, nothing held between them.
  void EventStream(const CallPtr& c, const TenantId& t, const Target& target) {
    c->route = "events_stream";
    if (!RequireRole(c, t, {commands::Role::kAuditor, commands::Role::kAdmin})) return;
    std::string from = Param(target, "after");
    if (auto h = c->req.find("Last-Event-ID"); h != c->req.end()) from = std::string(h->value());
    auto after = from.empty() ? std::optional<std::uint64_t>(0) : ParseUnsigned(from);
    const std::string wait_text = Param(target, "wait");
    auto wait = wait_text.empty() ? std::optional<std::uint64_t>(10) : ParseUnsigned(wait_text);
    if (!after || !wait || *wait > 10) {
      return Problem(c, status::bad_request, "invalid_query",
                     "Last-Event-ID (or after) must be a log position and wait 0–10 seconds");
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(*wait);
    WaitForRecords(c, t, *after, deadline, [this, c, t, after = *after] {
      std::vector<ledger::Record> records;
      if (Status s = log.Read(t, after + 1, 500, &records); !s.ok()) return FromStatus(c, s);
      std::string body = "retry: 1000\n\n";
      if (records.empty()) body += ": no new records\n\n";
      for (const auto& r : records) {
        auto ev = ledger::EnvelopeToJson(r.bytes);
        if (!ev.ok()) return FromStatus(c, ev.status());
        ledger::HexHashes(&*ev);
        body += "id: " + std::to_string(r.seq) +
                "\nevent: record\ndata: " + Dump({{"seq", r.seq}, {"hash", ToHex(r.hash)}, {"record", *ev}}) +
                "\n\n";
      }
      Response res{status::ok, 11};
      res.set(field::content_type, "text/event-stream; charset=utf-8");
      res.set(field::cache_control, "no-cache");
      res.set("Saalbuch-Position", std::to_string(records.empty() ? after : records.back().seq));
      res.body() = std::move(body);
      Send(c, std::move(res));
    });
  }

  // Runs `then` on a query thread once the tenant's log has passed `after`
  // or the deadline has come, whichever is first.
  void WaitForRecords(const CallPtr& c, const TenantId& t, Seq after,
                      std::chrono::steady_clock::time_point deadline, std::function<void()> then) {
    if (runner.Position(t) > after || std::chrono::steady_clock::now() >= deadline) {
      return RunQuery(c, std::move(then));
    }
    auto timer = std::make_shared<net::steady_timer>(ioc, std::chrono::milliseconds(50));
    timer->async_wait([this, c, t, after, deadline, then = std::move(then),
                       timer](const boost::system::error_code&) mutable {
      WaitForRecords(c, t, after, deadline, std::move(then));
    });
  }

  // ---- operator: backups ----

  static json BackupJson(const ledger::BackupInfo& b) {
    return {{"id", b.id},
            {"created_at", FormatUtc(b.created_at_s * kUsPerSecond)},
            {"size_bytes", b.size_bytes},
            {"files", b.files},
            {"heads", b.heads}};
  }

  // GET lists the backups; POST makes one on the backup service's thread
  // and answers when it is complete. Never blocks an I/O thread.
  void Backups(const CallPtr& c) {
    c->route = "backups";
    if (!IsOperator(c))
      return Problem(c, status::unauthorized, "unauthenticated", "backups need the operator key");
    ledger::BackupService* backups = options.backups;
    if (backups == nullptr) {
      return Problem(c, status::conflict, "backups_not_configured",
                     "this server has no backup directory; start saalbuchd with --backup-dir");
    }
    if (c->req.method() == verb::get) {
      json items = json::array();
      for (const auto& b : backups->List()) items.push_back(BackupJson(b));
      return SendJson(c, status::ok, {{"items", items}, {"running", backups->running()}});
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

  void TooMany(const CallPtr& c, double wait_s) {
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

  // ---- routing ----

  void Route(const CallPtr& c) {
    const Target target = ParseTarget(SV(c->req.target()));
    const auto& s = target.segments;
    const verb m = c->req.method();
    auto is = [&](std::initializer_list<std::string_view> p) {
      if (p.size() != s.size()) return false;
      std::size_t i = 0;
      for (auto part : p) {
        if (part != "*" && part != s[i]) return false;
        ++i;
      }
      return true;
    };
    if (is({"healthz"}) && m == verb::get) {
      c->route = "healthz";
      return SendJson(c, status::ok, {{"status", "ok"}});
    }
    if (is({"readyz"}) && m == verb::get) {
      c->route = "readyz";
      if (!api->ready_)
        return Problem(c, status::service_unavailable, "not_ready", "the server is not ready");
      return SendJson(c, status::ok, {{"status", "ready"}});
    }
    if (is({"metrics"}) && m == verb::get) {
      c->route = "metrics";
      if (!IsOperator(c)) {
        return Problem(c, status::unauthorized, "unauthenticated", "/metrics needs the operator key");
      }
      Response res{status::ok, 11};
      res.set(field::content_type, "text/plain; version=0.0.4; charset=utf-8");
      res.body() = prometheus::TextSerializer().Serialize(registry.Collect());
      return Send(c, std::move(res));
    }
    if (s.empty() || s[0] != "v1") return Problem(c, status::not_found, "no_route", "no such route");
    if (is({"v1", "openapi.json"}) && m == verb::get) {
      c->route = "openapi";
      c->public_cors = true;
      Response res{status::ok, 11};
      res.set(field::content_type, kJson);
      res.set(field::cache_control, "no-cache");
      res.body() = kOpenApiText;
      return Send(c, std::move(res));
    }
    if (is({"v1", "tenants"})) {
      if (m == verb::post) return CreateTenant(c);
      return NotAllowed(c, "POST");
    }
    if (is({"v1", "operator", "backups"})) {
      if (m == verb::get || m == verb::post) return Backups(c);
      return NotAllowed(c, "GET, POST");
    }
    if (s.size() < 3 || s[1] != "tenants") return Problem(c, status::not_found, "no_route", "no such route");
    const TenantId t(s[2]);
    if (m == verb::options) return Preflight(c);
    if (!IsValidSlug(t.get()) || !bus.TenantExists(t)) {
      c->route = "tenant";
      return Problem(c, status::not_found, "not_found", "no such tenant");
    }
    // Ids in paths are slugs (resources) or generated ids (bookings): both
    // [a-z0-9_-]. Anything else cannot exist; it never reaches the bus.
    if (s.size() >= 5 && !IsPathId(s[4])) {
      c->route = "unknown_id";
      return Problem(c, status::not_found, "not_found", "no such resource or booking");
    }
    if (is({"v1", "tenants", "*"})) {
      return m == verb::get ? GetTenant(c, t, target) : NotAllowed(c, "GET");
    }
    if (is({"v1", "tenants", "*", "holidays"})) {
      return m == verb::put ? SetHolidays(c, t) : NotAllowed(c, "PUT");
    }
    if (is({"v1", "tenants", "*", "keys"})) {
      return m == verb::post ? CreateKey(c, t) : NotAllowed(c, "POST");
    }
    if (is({"v1", "tenants", "*", "resources"})) {
      if (m == verb::post) return CreateResource(c, t);
      if (m == verb::get) return ListResources(c, t, target);
      return NotAllowed(c, "GET, POST");
    }
    if (is({"v1", "tenants", "*", "resources", "*"})) {
      return m == verb::get ? GetResource(c, t, s[4], target) : NotAllowed(c, "GET");
    }
    if (is({"v1", "tenants", "*", "resources", "*", "rules"})) {
      return m == verb::put ? SetRules(c, t, s[4]) : NotAllowed(c, "PUT");
    }
    if (is({"v1", "tenants", "*", "resources", "*", "availability"})) {
      return m == verb::get ? Availability(c, t, s[4], target) : NotAllowed(c, "GET");
    }
    if (is({"v1", "tenants", "*", "resources", "*", "busy.ics"})) {
      return m == verb::get ? BusyFeed(c, t, s[4], target) : NotAllowed(c, "GET");
    }
    if (is({"v1", "tenants", "*", "bookings", "*", "calendar.ics"})) {
      return m == verb::get ? BookingCalendar(c, t, s[4], target) : NotAllowed(c, "GET");
    }
    if (is({"v1", "tenants", "*", "resources", "*", "bookings"})) {
      return m == verb::get ? ResourceBookings(c, t, s[4], target) : NotAllowed(c, "GET");
    }
    if (is({"v1", "tenants", "*", "bookings"})) {
      if (m == verb::post) return PlaceBooking(c, t);
      if (m == verb::get) return ListBookings(c, t, target);
      return NotAllowed(c, "GET, POST");
    }
    if (is({"v1", "tenants", "*", "resources", "*", "sessions"})) {
      return m == verb::post ? ScheduleSession(c, t, s[4]) : NotAllowed(c, "POST");
    }
    if (is({"v1", "tenants", "*", "addons"})) {
      return m == verb::get ? CatalogList(c, t, target, "addons", 'a') : NotAllowed(c, "GET");
    }
    if (is({"v1", "tenants", "*", "addons", "*"})) {
      return m == verb::put ? SetAddon(c, t, s[4]) : NotAllowed(c, "PUT");
    }
    if (is({"v1", "tenants", "*", "groups"})) {
      if (m == verb::post) return DefineGroup(c, t);
      if (m == verb::get) return CatalogList(c, t, target, "groups", 'g');
      return NotAllowed(c, "GET, POST");
    }
    if (is({"v1", "tenants", "*", "customers"})) {
      if (m == verb::post) return RegisterCustomer(c, t);
      if (m == verb::get) return CatalogList(c, t, target, "customers", 'u');
      return NotAllowed(c, "GET, POST");
    }
    if (is({"v1", "tenants", "*", "customers", "*"})) {
      return m == verb::get ? GetCustomer(c, t, s[4], target) : NotAllowed(c, "GET");
    }
    if (is({"v1", "tenants", "*", "customers", "*", "group"})) {
      return m == verb::put ? ChangeCustomerGroup(c, t, s[4]) : NotAllowed(c, "PUT");
    }
    if (is({"v1", "tenants", "*", "customers", "*", "qualifications"})) {
      return m == verb::post ? GrantQualification(c, t, s[4]) : NotAllowed(c, "POST");
    }
    if (is({"v1", "tenants", "*", "customers", "*", "qualifications", "*", "revoke"})) {
      if (!IsPathId(s[6])) return Problem(c, status::not_found, "not_found", "no such qualification");
      return m == verb::post ? RevokeQualification(c, t, s[4], s[6]) : NotAllowed(c, "POST");
    }
    if (is({"v1", "tenants", "*", "rights"})) {
      if (m == verb::post) return GrantRight(c, t);
      if (m == verb::get) return CatalogList(c, t, target, "rights", 'i');
      return NotAllowed(c, "GET, POST");
    }
    if (is({"v1", "tenants", "*", "rights", "*", "revoke"})) {
      return m == verb::post ? RevokeRight(c, t, s[4]) : NotAllowed(c, "POST");
    }
    if (is({"v1", "tenants", "*", "persons", "*", "erase"})) {
      return m == verb::post ? ErasePerson(c, t, s[4]) : NotAllowed(c, "POST");
    }
    if (is({"v1", "tenants", "*", "checkpoint"})) {
      return m == verb::get ? LatestCheckpoint(c, t, target) : NotAllowed(c, "GET");
    }
    if (is({"v1", "tenants", "*", "checkpoint", "key"})) {
      return m == verb::get ? CheckpointKey(c, t) : NotAllowed(c, "GET");
    }
    if (is({"v1", "tenants", "*", "settings"})) {
      return m == verb::put ? SetSettings(c, t) : NotAllowed(c, "PUT");
    }
    if (is({"v1", "tenants", "*", "series"})) {
      return m == verb::post ? PlaceSeries(c, t) : NotAllowed(c, "POST");
    }
    if (is({"v1", "tenants", "*", "series", "*", "cancel"})) {
      return m == verb::post ? CancelSeries(c, t, s[4], target) : NotAllowed(c, "POST");
    }
    if (is({"v1", "tenants", "*", "bookings", "*", "reschedule"})) {
      return m == verb::post ? RescheduleBooking(c, t, s[4], target) : NotAllowed(c, "POST");
    }
    if (s.size() == 6 && is({"v1", "tenants", "*", "bookings", "*", "*"}) &&
        (s[5] == "approve" || s[5] == "reject" || s[5] == "confirm" || s[5] == "complete" ||
         s[5] == "no-show")) {
      return m == verb::post ? BookingAction(c, t, s[4], s[5]) : NotAllowed(c, "POST");
    }
    if (is({"v1", "tenants", "*", "bookings", "*"})) {
      return m == verb::get ? GetBooking(c, t, s[4], target) : NotAllowed(c, "GET");
    }
    if (is({"v1", "tenants", "*", "bookings", "*", "cancel"})) {
      return m == verb::post ? CancelBooking(c, t, s[4], target) : NotAllowed(c, "POST");
    }
    if (is({"v1", "tenants", "*", "events"})) {
      return m == verb::get ? Events(c, t, target) : NotAllowed(c, "GET");
    }
    if (is({"v1", "tenants", "*", "events", "stream"})) {
      return m == verb::get ? EventStream(c, t, target) : NotAllowed(c, "GET");
    }
    if (FinanceRoute(c, t, s, target)) return;
    Problem(c, status::not_found, "no_route", "no such route");
  }

  void NotAllowed(const CallPtr& c, const char* allow) {
    Response res{status::method_not_allowed, 11};
    res.set(field::allow, allow);
    res.set(field::content_type, "application/problem+json");
    res.body() = json{{"type", "urn:saalbuch:problem:method_not_allowed"},
                      {"title", "Method Not Allowed"},
                      {"status", 405},
                      {"code", "method_not_allowed"},
                      {"detail", std::string("allowed: ") + allow}}
                     .dump();
    Send(c, std::move(res));
  }

  void Preflight(const CallPtr& c) {
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
};

Api::Api(net::io_context& ioc, commands::CommandBus& bus, projections::Runner& runner, const ledger::Log& log,
         prometheus::Registry& registry, ApiOptions options)
    : impl_(std::make_unique<Impl>(this, ioc, bus, runner, log, registry, std::move(options))) {}

Api::~Api() { Shutdown(); }

void Api::Shutdown() { impl_->pool.join(); }

void Api::SetPublicUrl(std::string url) { impl_->options.public_url = std::move(url); }

void Api::Handle(Request&& req, const std::string& remote_ip, Respond respond) {
  in_flight_.fetch_add(1);
  auto c = std::make_shared<Impl::Call>();
  c->req = std::move(req);
  c->ip = remote_ip;
  c->respond = std::move(respond);
  auto rid = c->req.find("X-Request-Id");
  if (rid != c->req.end() && rid->value().size() <= 64 && !rid->value().empty() &&
      std::all_of(rid->value().begin(), rid->value().end(), [](char ch) { return ch > 0x20 && ch < 0x7f; })) {
    c->request_id = std::string(rid->value());
  } else {
    c->request_id = RandomHex(8);
  }
  if (double wait = impl_->limiter.Take(remote_ip); wait > 0) return impl_->TooMany(c, wait);
  try {
    impl_->Route(c);
  } catch (const std::exception& e) {
    // A programming error; never a reason to take the server down.
    spdlog::error("request {} {} threw: {}", c->request_id, std::string(c->req.target()), e.what());
    impl_->Problem(c, status::internal_server_error, "internal_error", "an internal error occurred");
  }
}

}  // namespace saalbuch::http
