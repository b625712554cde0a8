// Customers, groups, qualifications, usage rights; finding, exporting (Art. 15 DSGVO) and erasing a
// person's data.
#include <spdlog/spdlog.h>

#include <algorithm>

#include "common/names.h"
#include "http/edge.h"

namespace saalbuch::http {

using beast_http::status;
using beast_http::verb;
using nlohmann::json;

std::vector<Route> CustomerRoutes() {
  constexpr unsigned kKeys = kStaff | kAdmin;
  constexpr unsigned kReaders = kStaff | kAdmin | kAuditor;
  return {
      {verb::get, "/v1/tenants/{tenant}/groups", kReaders, "groups", &Edge::ListGroups},
      {verb::post, "/v1/tenants/{tenant}/groups", kAdmin, "groups", &Edge::DefineGroup},
      {verb::get, "/v1/tenants/{tenant}/customers", kReaders, "customers", &Edge::ListCustomers},
      {verb::post, "/v1/tenants/{tenant}/customers", kKeys, "customers", &Edge::RegisterCustomer},
      {verb::get, "/v1/tenants/{tenant}/customers/{customer}", kReaders, "customer", &Edge::GetCustomer},
      {verb::put, "/v1/tenants/{tenant}/customers/{customer}/group", kKeys, "customer_group",
       &Edge::ChangeCustomerGroup},
      {verb::put, "/v1/tenants/{tenant}/customers/{customer}/billing", kKeys | kFinance, "customer_billing",
       &Edge::SetCustomerBilling},
      {verb::post, "/v1/tenants/{tenant}/customers/{customer}/qualifications", kKeys, "qualifications",
       &Edge::GrantQualification},
      {verb::post, "/v1/tenants/{tenant}/customers/{customer}/qualifications/{qualification}/revoke", kKeys,
       "qualification_revoke", &Edge::RevokeQualification},
      {verb::get, "/v1/tenants/{tenant}/rights", kReaders, "rights", &Edge::ListRights},
      {verb::post, "/v1/tenants/{tenant}/rights", kAdmin, "rights", &Edge::GrantRight},
      {verb::post, "/v1/tenants/{tenant}/rights/{right}/revoke", kAdmin, "right_revoke", &Edge::RevokeRight},
      {verb::post, "/v1/tenants/{tenant}/persons/{person}/erase", kAdmin, "person_erase", &Edge::ErasePerson},
      {verb::get, "/v1/tenants/{tenant}/persons", kKeys, "persons", &Edge::FindPersons},
      {verb::get, "/v1/tenants/{tenant}/retention", kAdmin, "retention", &Edge::GetRetention},
      {verb::put, "/v1/tenants/{tenant}/retention", kAdmin, "retention_set", &Edge::SetRetention},
      {verb::get, "/v1/tenants/{tenant}/persons/{person}/export", kAdmin, "person_export",
       &Edge::ExportPerson},
  };
}

void Edge::ListGroups(const CallPtr& c) { CatalogList(c, 'g'); }
void Edge::ListCustomers(const CallPtr& c) { CatalogList(c, 'u'); }
void Edge::ListRights(const CallPtr& c) { CatalogList(c, 'i'); }

// ?resource= keeps the items of one resource.
void Edge::CatalogList(const CallPtr& c, char kind) {
  const TenantId& t = c->tenant;
  const std::string resource = c->Param("resource");
  Query(c, t, [this, c, t, kind, resource] {
    Seq p = runner.Position(t);
    auto list = projections::QueryList(runner.view(), t, kind);
    if (list.ok() && kind == 'u') {
      for (auto& item : *list) RevealBilling(item, t);
    }
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

void Edge::DefineGroup(const CallPtr& c) {
  KeyCommand(c, {"id", "name"}, false, [&](Decoder& d, auto) {
    commands::DefineGroup cmd;
    cmd.id = d.Str("id", true, 64);
    cmd.name = d.Str("name", true, 200);
    return commands::Command(std::move(cmd));
  });
}

void Edge::RegisterCustomer(const CallPtr& c) {
  const TenantId& t = c->tenant;
  KeyCommand(
      c, {"id", "group"}, false,
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

void Edge::GetCustomer(const CallPtr& c) {
  const TenantId& t = c->tenant;
  const std::string& id = c->params[0];
  Query(c, t, [this, c, t, id] {
    Seq p = runner.Position(t);
    auto customer = projections::QueryCustomer(runner.view(), t, id);
    if (customer.ok()) RevealBilling(*customer, t);
    SendQuery(c, p, customer, false);
  });
}

// A customer's billing profile (the invoice recipient of its bookings that
// name none): sealed on a query thread under "rc_" ‖ customer, then
// recorded. The customer must exist (Decide says 404 otherwise).
void Edge::SetCustomerBilling(const CallPtr& c) {
  const TenantId& t = c->tenant;
  const std::string& id = c->params[0];
  auto body = Body(c);
  if (!body) return;
  Decoder d(*body, kRecipientFields);
  std::string text = DecodeRecipient(d, "");
  if (options.vault == nullptr) d.Error("", "this server keeps no contact data");
  if (Invalid(c, d)) return;
  if (id.empty() || id.size() > 64 || id.find('/') != std::string::npos) {
    return Problem(c, status::not_found, "not_found", "no such customer");
  }
  RunQuery(c, [this, c, t, id, text = std::move(text), actor = c->caller.Actor()] {
    auto sealed = options.vault->Seal(t, "rc_" + id, text);
    if (!sealed.ok()) return FromStatus(c, sealed.status());
    Submit(c, Ctx(c, t, actor), commands::SetCustomerBilling{id, std::move(sealed).value()});
  });
}

void Edge::ChangeCustomerGroup(const CallPtr& c) {
  const std::string& id = c->params[0];
  KeyCommand(c, {"group"}, false, [&](Decoder& d, auto) {
    return commands::Command(commands::ChangeCustomerGroup{id, d.Str("group", true, 64)});
  });
}

void Edge::GrantQualification(const CallPtr& c) {
  const std::string& id = c->params[0];
  KeyCommand(c, {"qualification", "valid_until", "basis"}, false, [&](Decoder& d, auto) {
    commands::GrantQualification cmd;
    cmd.customer = id;
    cmd.qualification = d.Str("qualification", true, 64);
    cmd.valid_until = d.Time("valid_until", false);
    cmd.basis = d.Str("basis", false, 1000);
    return commands::Command(std::move(cmd));
  });
}

void Edge::RevokeQualification(const CallPtr& c) {
  const std::string& id = c->params[0];
  const std::string& q = c->params[1];
  KeyCommand(c, {}, true, [&](Decoder&, auto) {
    return commands::Command(commands::RevokeQualification{id, q});
  });
}

void Edge::GrantRight(const CallPtr& c) {
  KeyCommand(c,
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

void Edge::RevokeRight(const CallPtr& c) {
  const std::string& id = c->params[0];
  KeyCommand(c, {"reason"}, true, [&](Decoder& d, auto) {
    return commands::Command(commands::RevokeRight{id, d.Text("reason", false, 1000)});
  });
}

// Erases a person's contact data: deletes the vault key (on a query
// thread: durable write and compaction), then records it in the log. The
// invoice recipient key ("r_" ‖ person) follows once the record is made,
// unless an invoice names it (the reply says until when it is kept).
void Edge::ErasePerson(const CallPtr& c) {
  const TenantId& t = c->tenant;
  const std::string& person = c->params[0];
  auto body = Body(c, /*allow_empty=*/true);
  if (!body) return;
  Decoder d(*body, {"reason"});
  commands::ErasePerson cmd{person, d.Text("reason", false, 1000)};
  if (Invalid(c, d)) return;
  if (options.vault == nullptr) return Problem(c, status::not_found, "not_found", "no such person");
  RunQuery(c, [this, c, t, cmd, actor = c->caller.Actor()] {
    if (Status s = options.vault->Erase(t, cmd.person); !s.ok()) return FromStatus(c, s);
    Submit(c, Ctx(c, t, actor), cmd, {}, [this, t, person = cmd.person](const json& reply) {
      if (reply.contains("invoice_recipient_kept_until")) return;
      // A failure here leaves an address no invoice needs; it is logged and
      // the erasure itself stands (recorded, contact key gone).
      if (Status s = options.vault->Erase(t, "r_" + person); !s.ok()) {
        spdlog::error("erasing the recipient key of {} in {}: {}", person, t.get(), s.message());
      }
    });
  });
}

namespace {

// What staff see of a booking when they look a person up.
json BookingSummary(const json& b) {
  json out = json::object();
  for (const char* k :
       {"id", "number", "resource", "start", "end", "start_local", "end_local", "status", "channel"}) {
    if (b.contains(k)) out[k] = b[k];
  }
  return out;
}

}  // namespace

// GET …/persons?email= or ?name=: the persons an address stands for (also
// those erased), or whose name has every word given (a word of three
// characters or more also finds the names it begins), each with its
// bookings and the name and address it last gave — found by blind
// indexes, never by reading contacts.
void Edge::FindPersons(const CallPtr& c) {
  const TenantId& t = c->tenant;
  const std::string email = c->Param("email");
  const std::string name = c->Param("name");
  if (email.empty() == name.empty()) {
    return Problem(
        c, status::bad_request, "invalid_query", "give either email or name",
        {{"fields", json::array({{{"field", "email"}, {"problem", "one e-mail address, or name"}}})}});
  }
  if (!email.empty() && (email.size() > 254 || email.find('@') == std::string::npos)) {
    return Problem(c, status::bad_request, "invalid_query", "email is one e-mail address",
                   {{"fields", json::array({{{"field", "email"}, {"problem", "one e-mail address"}}})}});
  }
  const std::vector<std::string> words = NameWords(name);
  if (!name.empty() && (name.size() > 200 || words.empty())) {
    return Problem(
        c, status::bad_request, "invalid_query", "name is one or more words of a name",
        {{"fields", json::array({{{"field", "name"}, {"problem", "one or more words of a name"}}})}});
  }
  if (options.vault == nullptr)
    return Problem(c, status::not_found, "not_found", "this server keeps no contact data");
  Query(c, t, [this, c, t, email, words] {
    constexpr std::size_t kMaxPersons = 50;
    const Seq p = runner.Position(t);
    Result<std::vector<std::string>> persons = std::vector<std::string>();
    if (!email.empty()) {
      persons = PersonsOf(t, email);
    } else if (auto terms = NameTerms(t, words); terms.ok()) {
      persons = options.vault->PersonsByName(t, *terms, kMaxPersons + 1);
    } else {
      persons = terms.status();
    }
    if (!persons.ok()) return FromStatus(c, persons.status());
    const bool more = persons->size() > kMaxPersons;
    if (more) persons->resize(kMaxPersons);
    json items = json::array();
    for (const auto& person : *persons) {
      auto bookings = projections::QueryPersonBookings(runner.view(), t, person, 500);
      if (!bookings.ok()) return FromStatus(c, bookings.status());
      if (bookings->empty()) continue;
      json list = json::array();
      const json* latest = &bookings->front();
      for (const auto& b : *bookings) {
        list.push_back(BookingSummary(b));
        if (b.value("placed_at", "") > latest->value("placed_at", "")) latest = &b;
      }
      std::sort(list.begin(), list.end(),
                [](const json& x, const json& y) { return x.value("start", "") < y.value("start", ""); });
      json item = {{"person", person},
                   {"erased", bookings->front().value("contact_erased", false)},
                   {"bookings", std::move(list)}};
      json last = *latest;
      Reveal(last, t);
      if (const json& contact = last.value("contact", json::object()); contact.contains("name")) {
        item["name"] = contact["name"];
        if (contact.contains("email")) item["email"] = contact["email"];
      }
      items.push_back(std::move(item));
    }
    SendQuery(c, p, Result<json>(json{{"items", std::move(items)}, {"more", more}}), false);
  });
}

// GET …/persons/{person}/export: everything Saalbuch holds about a person
// (Art. 15 DSGVO), for an admin to hand over: the contact as last given,
// every booking with its history and contact, the invoices of those
// bookings with their recipient, and what is kept after an erasure.
void Edge::ExportPerson(const CallPtr& c) {
  const TenantId& t = c->tenant;
  const std::string person = c->params[0];
  Query(c, t, [this, c, t, person] {
    const Seq p = runner.Position(t);
    auto bookings = projections::QueryPersonBookings(runner.view(), t, person, 10000);
    if (!bookings.ok()) return FromStatus(c, bookings.status());
    if (bookings->empty()) return Problem(c, status::not_found, "not_found", "no such person");
    json list = json::array(), invoices = json::array(), contact = json::object();
    std::string latest;  // the contact of the booking placed last
    for (auto b : *bookings) {
      Reveal(b, t);
      RevealDoor(b, t, true);  // a door code is the person's too
      if (b.contains("contact") && b.value("placed_at", "") >= latest) {
        latest = b.value("placed_at", "");
        contact = b["contact"];
      }
      auto inv = projections::QueryFinanceDoc(runner.view(), t, 'i', "inv-" + b.value("id", ""));
      if (inv.ok()) {
        RevealRecipient(*inv, t);
        invoices.push_back(std::move(*inv));
      }
      list.push_back(std::move(b));
    }
    const bool erased = bookings->front().value("contact_erased", false);
    json out = {
        {"person", person},
        {"tenant", t.get()},
        {"generated_at", FormatUtc(Now())},
        {"erased", erased},
        {"contact", contact},
        {"bookings", std::move(list)},
        {"invoices", std::move(invoices)},
        {"kept",
         "Bookings and invoices stay in the tenant's log; the contact and the invoice address are sealed "
         "under the person's keys, which an erasure deletes (an invoice's address is kept for 8 years "
         "after the invoice's year, § 147 AO, § 14b UStG). Backups keep what they held for their "
         "retention."}};
    SendQuery(c, p, Result<json>(std::move(out)), false);
  });
}

// ---- the retention rule (DSGVO Art. 5 (1) e) ----

namespace {

constexpr TimeUs kUsPerDay = 86400 * kUsPerSecond;

// The rule's days from the tenant's document; nullopt: no rule.
std::optional<int> RetentionDays(const json& tenant) {
  auto it = tenant.find("retention_days");
  if (it == tenant.end() || !it->is_number_integer()) return std::nullopt;
  return it->get<int>();
}

}  // namespace

void Edge::SetRetention(const CallPtr& c) {
  KeyCommand(c, {"days"}, false, [&](Decoder& d, auto) {
    commands::SetRetentionRule cmd;
    const json& body = d.object();
    if (auto it = body.find("days"); it == body.end()) {
      d.Error("days", "required: a number of days, or null for no rule");
    } else if (!it->is_null()) {
      cmd.days = static_cast<int>(d.Int("days", 0, commands::kMaxRetentionDays, 0));
    }
    return commands::Command(cmd);
  });
}

// The dry run: who the next run would erase, and who it keeps because an
// invoice is open, with the name each last gave, so that an admin checks
// the rule before it acts (and after).
void Edge::GetRetention(const CallPtr& c) {
  const TenantId& t = c->tenant;
  Query(c, t, [this, c, t] {
    constexpr std::size_t kMaxListed = 500;
    const Seq p = runner.Position(t);
    auto tenant = projections::QueryTenant(runner.view(), t);
    if (!tenant.ok()) return FromStatus(c, tenant.status());
    const auto days = RetentionDays(*tenant);
    json out = {{"days", days ? json(*days) : json(nullptr)},
                {"interval_seconds", options.retention_interval.count()},
                {"due", json::array()},
                {"kept", json::array()},
                {"due_total", 0},
                {"kept_total", 0}};
    if (!days) return SendQuery(c, p, Result<json>(std::move(out)), false);
    auto persons = projections::QueryRetention(runner.view(), t);
    if (!persons.ok()) return FromStatus(c, persons.status());
    const TimeUs now = Now();
    for (const auto& person : *persons) {
      const TimeUs due_at = person.last + *days * kUsPerDay;
      if (due_at > now) continue;
      const char* list = person.open_invoice ? "kept" : "due";
      out[std::string(list) + "_total"] = out[std::string(list) + "_total"].get<int>() + 1;
      if (out[list].size() >= kMaxListed) continue;
      json item = {{"person", person.person},
                   {"last_booking_end", FormatUtc(person.last)},
                   {"bookings", person.bookings}};
      if (auto bookings = projections::QueryPersonBookings(runner.view(), t, person.person, 1);
          bookings.ok() && !bookings->empty()) {
        json b = bookings->front();
        Reveal(b, t);
        if (b.contains("contact") && b["contact"].contains("name")) item["name"] = b["contact"]["name"];
      }
      out[list].push_back(std::move(item));
    }
    SendQuery(c, p, Result<json>(std::move(out)), false);
  });
}

void Edge::StartRetention() {
  if (options.vault == nullptr) return;
  Every(options.retention_interval, "retention", [this] { RetentionRound(); });
}

// One round: for each tenant with a rule, once its projections have caught
// up with its log, erases every person due and not kept by an open invoice,
// as an admin's erasure does (the key first, then the record), recorded as
// actor "system:retention". Runs on a query thread.
void Edge::RetentionRound() {
  for (const TenantId& t : log.Tenants()) {
    if (t == OperatorTenant()) continue;
    auto tenant = projections::QueryTenant(runner.view(), t);
    if (!tenant.ok()) continue;
    const auto days = RetentionDays(*tenant);
    if (!days) continue;
    // What the projections say must be all the log says: a booking not yet
    // folded could make a person active again.
    const auto head = log.GetHead(t);
    if (!head.ok() || runner.Position(t) < head->seq) {
      spdlog::info("msg=\"retention waits for the projections\" tenant={}", t.get());
      continue;
    }
    auto persons = projections::QueryRetention(runner.view(), t);
    if (!persons.ok()) {
      spdlog::error("msg=\"retention failed\" tenant={} error=\"{}\"", t.get(), persons.status().ToString());
      continue;
    }
    const TimeUs now = Now();
    std::size_t erased = 0;
    for (const auto& person : *persons) {
      if (person.open_invoice || person.last + *days * kUsPerDay > now) continue;
      if (Status s = options.vault->Erase(t, person.person); !s.ok()) {
        spdlog::error("msg=\"retention erasure failed\" tenant={} person={} error=\"{}\"", t.get(),
                      person.person, s.ToString());
        continue;
      }
      commands::Submission sub;
      sub.ctx.tenant = t;
      sub.ctx.actor = "system:retention";
      sub.ctx.command_id = "cmd_" + RandomHex(8);
      sub.ctx.correlation_id = "retention";
      sub.command = commands::ErasePerson{
          person.person, "retention rule: " + std::to_string(*days) + " days after the last booking"};
      const auto outcome = bus.SubmitAndWait(std::move(sub));
      if (outcome.kind != commands::Outcome::Kind::kOk && outcome.kind != commands::Outcome::Kind::kCreated) {
        spdlog::error("msg=\"retention erasure not recorded\" tenant={} person={} body={}", t.get(),
                      person.person, outcome.body.dump());
        continue;
      }
      if (!outcome.body.contains("invoice_recipient_kept_until")) {
        if (Status s = options.vault->Erase(t, "r_" + person.person); !s.ok()) {
          spdlog::error("erasing the recipient key of {} in {}: {}", person.person, t.get(), s.message());
        }
      }
      ++erased;
    }
    if (erased > 0)
      spdlog::info("msg=\"retention erased\" tenant={} persons={} days={}", t.get(), erased, *days);
  }
}

}  // namespace saalbuch::http
