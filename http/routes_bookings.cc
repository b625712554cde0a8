// Bookings and series: placing, reading, moving, cancelling, and staff decisions.
#include <spdlog/spdlog.h>

#include <set>

#include "common/names.h"
#include "http/edge.h"
#include "http/ical_view.h"

namespace saalbuch::http {

using beast_http::status;
using beast_http::verb;
using nlohmann::json;

namespace {

constexpr std::size_t kMaxOccurrences = 200;

}  // namespace

std::vector<Route> BookingRoutes() {
  constexpr unsigned kBooker = kPublic | kCustomerToken | kStaff | kAdmin;
  constexpr unsigned kKeys = kStaff | kAdmin;
  constexpr unsigned kReaders = kStaff | kAdmin | kAuditor;
  constexpr unsigned kOwnerOrKeys = kManageToken | kStaff | kAdmin;
  return {
      {verb::post, "/v1/tenants/{tenant}/bookings", kBooker, "bookings", &Edge::PlaceBooking},
      {verb::get, "/v1/tenants/{tenant}/bookings", kReaders, "bookings_list", &Edge::ListBookings},
      {verb::get, "/v1/tenants/{tenant}/bookings/{booking}", kManageToken | kReaders, "booking",
       &Edge::GetBooking},
      {verb::get, "/v1/tenants/{tenant}/bookings/{booking}/calendar.ics", kManageToken | kReaders,
       "booking_ics", &Edge::BookingCalendar},
      {verb::post, "/v1/tenants/{tenant}/bookings/{booking}/cancel", kOwnerOrKeys, "booking_cancel",
       &Edge::CancelBooking},
      {verb::get, "/v1/tenants/{tenant}/bookings/{booking}/cancellation", kOwnerOrKeys,
       "booking_cancellation", &Edge::QuoteCancellation},
      {verb::post, "/v1/tenants/{tenant}/bookings/{booking}/reschedule", kOwnerOrKeys, "booking_reschedule",
       &Edge::RescheduleBooking},
      {verb::post, "/v1/tenants/{tenant}/bookings/{booking}/approve", kKeys, "booking_approve",
       &Edge::ApproveBooking},
      {verb::post, "/v1/tenants/{tenant}/bookings/{booking}/reject", kKeys, "booking_reject",
       &Edge::RejectBooking},
      {verb::post, "/v1/tenants/{tenant}/bookings/{booking}/confirm", kKeys, "booking_confirm",
       &Edge::ConfirmBooking},
      {verb::post, "/v1/tenants/{tenant}/bookings/{booking}/complete", kKeys, "booking_complete",
       &Edge::CompleteBooking},
      {verb::post, "/v1/tenants/{tenant}/bookings/{booking}/no-show", kKeys, "booking_no_show",
       &Edge::NoShowBooking},
      {verb::get, "/v1/tenants/{tenant}/resources/{resource}/bookings", kReaders, "resource_bookings",
       &Edge::ResourceBookings},
      {verb::post, "/v1/tenants/{tenant}/series", kBooker, "series", &Edge::PlaceSeries},
      {verb::post, "/v1/tenants/{tenant}/series/{series}/cancel", kOwnerOrKeys, "series_cancel",
       &Edge::CancelSeries},
  };
}

namespace {

// Sets what the caller means for a new booking or series: staff book as
// staff; customers (their own token) and the public are rate limited per
// tenant and address. False after answering 429.
bool Booker(Edge& e, const CallPtr& c, commands::PlaceBooking* cmd) {
  if (c->caller.kind == Caller::Kind::kKey) {
    cmd->by_staff = true;
    return true;
  }
  if (double wait = e.public_booking_limiter.Take(c->tenant.get() + "|" + c->client.address); wait > 0) {
    e.TooMany(c, wait);
    return false;
  }
  cmd->customer_token = c->caller.token;
  return true;
}

// The booking fields shared by single bookings and series.
void DecodeBookingFields(Decoder& d, commands::PlaceBooking* cmd) {
  cmd->resource = ResourceId(d.Str("resource", true, 64));
  cmd->session = d.Str("session", false, 64);
  const bool need_times = cmd->session.empty();
  cmd->range = {d.Time("start", need_times), d.Time("end", need_times)};
  cmd->units = static_cast<std::uint32_t>(d.Int("units", 1, 100000, 1));
  cmd->addons = DecodeAddons(d);
  cmd->customer = d.Str("customer", false, 64);
  cmd->hold = d.Bool("hold", false);
}

// The booker's contact and the invoice recipient, as plaintexts to seal;
// empty when not given.
struct ContactText {
  std::string contact;    // {name, email, phone, notes, language}
  std::string recipient;  // {name, street, postcode, city, country}
};

// The invoice recipient from "contact.address" (see DecodeRecipient), by
// default in the contact's name.
std::string DecodeAddress(Decoder& c, const json& contact, const std::string& contact_name) {
  auto it = contact.find("address");
  if (it == contact.end() || it->is_null()) return {};
  Decoder a = c.Nested(*it, kRecipientFields, "address.");
  return DecodeRecipient(a, contact_name);
}

ContactText DecodeContact(const Edge& e, Decoder& d, const json& body) {
  auto it = body.find("contact");
  if (it == body.end() || it->is_null()) return {};
  Decoder c = d.Nested(*it, {"name", "email", "phone", "notes", "language", "address"}, "contact.");
  json contact = {{"name", c.Str("name", false, 200)},
                  {"email", c.Str("email", false, 254)},
                  {"phone", c.Str("phone", false, 50)},
                  {"notes", c.Text("notes", false, 2000)},
                  {"language", c.Str("language", false, 2, "de")}};
  const std::string email = contact["email"];
  if (!email.empty() &&
      (email.find('@') == std::string::npos || email.find_first_of(" \r\n<>,;") != std::string::npos)) {
    c.Error("email", "must be one e-mail address");
  }
  if (contact["language"] != "de" && contact["language"] != "en") c.Error("language", "must be de or en");
  if (e.options.vault == nullptr) d.Error("contact", "this server keeps no contact data");
  std::string recipient =
      it->is_object() ? DecodeAddress(c, *it, contact["name"].get<std::string>()) : std::string();
  return {contact.dump(), std::move(recipient)};
}

// Submits `cmd`; with a contact, first seals it (plus the manage token,
// for the links in e-mails) for its person (Edge::PersonsOf: the same for
// every booking with the same e-mail address) on a query thread, because
// the vault writes the person's key durably. The invoice recipient is
// sealed under a key of its own ("r_" ‖ person), which an erasure keeps
// while an invoice names it.
template <typename Cmd>
void SealThenSubmit(Edge& e, const CallPtr& c, std::shared_ptr<Cmd> cmd, commands::PlaceBooking* booking,
                    const ContactText& contact, const std::string& location = {}) {
  const TenantId t = c->tenant;
  const std::string actor = c->caller.Actor();
  if (contact.contact.empty()) return e.Submit(c, e.Ctx(c, t, actor), std::move(*cmd), location);
  // Before the vault writes the new person's key.
  if (e.StorageLow(c)) return;
  json plain = json::parse(contact.contact);
  plain["manage_token"] = booking->manage_token;
  e.RunQuery(c,
             [&e, c, t, actor, cmd, booking, email = plain.value("email", ""), name = plain.value("name", ""),
              text = plain.dump(), recipient = contact.recipient, location] {
               // One person per e-mail address (a contact without one is a person of its own).
               booking->person = "p_" + RandomHex(8);
               if (!email.empty()) {
                 auto persons = e.PersonsOf(t, email);
                 if (!persons.ok()) return e.FromStatus(c, persons.status());
                 booking->person = persons->back();
                 // A person with bookings whose key is gone is being erased right now
                 // (the key goes first, then the erasure is recorded): its key must
                 // not come back.
                 auto key = e.options.vault->Find(t, booking->person);
                 if (!key.ok()) return e.FromStatus(c, key.status());
                 auto earlier = projections::QueryPersonBookings(e.runner.view(), t, booking->person, 1);
                 if (!earlier.ok()) return e.FromStatus(c, earlier.status());
                 if (!key->has_value() && !earlier->empty()) {
                   return e.Problem(c, status::conflict, "person_erased",
                                    "this person's data is being erased; please try again in a moment");
                 }
               }
               auto sealed = e.options.vault->Seal(t, booking->person, text);
               if (!sealed.ok()) return e.FromStatus(c, sealed.status());
               booking->personal = std::move(sealed).value();
               // Staff find the person by the words of the name (blind index).
               if (auto terms = e.NameTerms(t, NameIndexWords(name)); !terms.ok()) {
                 return e.FromStatus(c, terms.status());
               } else if (Status s = e.options.vault->IndexName(t, booking->person, *terms); !s.ok()) {
                 return e.FromStatus(c, s);
               }
               if (!recipient.empty()) {
                 auto address = e.options.vault->Seal(t, "r_" + booking->person, recipient);
                 if (!address.ok()) return e.FromStatus(c, address.status());
                 booking->recipient = std::move(address).value();
               }
               e.Submit(c, e.Ctx(c, t, actor), std::move(*cmd), location);
             });
}

// The booker (manage token) or staff, as the command carries them.
void TokenOrStaff(const CallPtr& c, bool* by_staff, std::string* token) {
  *by_staff = c->caller.kind == Caller::Kind::kKey;
  *token = c->caller.kind == Caller::Kind::kManageToken ? c->caller.token : std::string();
}

}  // namespace

void Edge::PlaceBooking(const CallPtr& c) {
  const TenantId& t = c->tenant;
  commands::PlaceBooking cmd;
  if (!Booker(*this, c, &cmd)) return;
  auto body = Body(c);
  if (!body) return;
  Decoder d(*body, {"resource", "start", "end", "session", "units", "addons", "customer", "hold", "contact"});
  DecodeBookingFields(d, &cmd);
  FunnelStep(c, Call::FunnelStep::kAttempt, cmd.resource.get());
  const ContactText contact = DecodeContact(*this, d, *body);
  if (Invalid(c, d)) return;
  cmd.id = BookingId("bk_" + RandomHex(10));
  cmd.manage_token = "sbm_" + RandomHex(24);
  auto shared = std::make_shared<commands::PlaceBooking>(std::move(cmd));
  SealThenSubmit(*this, c, shared, shared.get(), contact, "/v1/tenants/" + t.get() + "/bookings/");
}

void Edge::PlaceSeries(const CallPtr& c) {
  const TenantId& t = c->tenant;
  commands::PlaceSeries cmd;
  if (!Booker(*this, c, &cmd.first)) return;
  auto body = Body(c);
  if (!body) return;
  Decoder d(*body, {"resource", "start", "end", "units", "addons", "customer", "hold", "rrule", "exdates",
                    "mode", "contact"});
  DecodeBookingFields(d, &cmd.first);
  FunnelStep(c, Call::FunnelStep::kAttempt, cmd.first.resource.get());
  const ContactText contact = DecodeContact(*this, d, *body);
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
  if (!cmd.first.session.empty()) d.Error("session", "a series books rooms, devices or pools, not sessions");
  if (Invalid(c, d)) return;
  if (cmd.first.range.empty()) {
    return Problem(c, status::unprocessable_entity, "validation_failed", "end must be after start");
  }
  // Expanded in the tenant's zone; the zone never changes after creation.
  auto tenant = projections::QueryTenant(runner.view(), t);
  const Zone* zone = tenant.ok() ? FindZone(tenant->value("time_zone", "")) : nullptr;
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
  SealThenSubmit(*this, c, shared, &shared->first, contact);
}

// Staff lists: ?status=&resource=&customer=&from=&to= (default: from 31
// days ago to 5 years ahead), paginated. ?status=requested is the
// approval queue.
void Edge::ListBookings(const CallPtr& c) {
  const TenantId& t = c->tenant;
  projections::BookingFilter f;
  constexpr TimeUs kDay = 24LL * 3600 * kUsPerSecond;
  f.window = {Now() - 31 * kDay, Now() + 5LL * 366 * kDay};
  if (c->target.query.count("from") != 0 || c->target.query.count("to") != 0) {
    if (!Window(c, &f.window)) return;
  }
  f.status = c->Param("status");
  f.resource = c->Param("resource");
  f.customer = c->Param("customer");
  static const std::set<std::string> kStatuses = {"requested", "held",     "confirmed", "completed",
                                                  "no_show",   "rejected", "cancelled", "expired"};
  if (!f.status.empty() && kStatuses.count(f.status) == 0) {
    return Problem(c, status::bad_request, "invalid_query", "unknown status", {{"status", f.status}});
  }
  std::size_t limit = 0;
  if (!Limit(c, &limit)) return;
  const std::string cursor = c->Param("cursor");
  Query(c, t, [this, c, t, f, limit, cursor] {
    Seq p = runner.Position(t);
    auto res = projections::QueryBookings(runner.view(), t, f, limit, cursor);
    if (!res.ok() && res.status().code() == StatusCode::kInvalidArgument) {
      return Problem(c, status::bad_request, "invalid_query", res.status().message());
    }
    RevealItems(res, t);
    SendQuery(c, p, res, false);
  });
}

void Edge::QueryBooking(const CallPtr& c, const std::string& id,
                        std::function<void(Seq, const projections::BookingView&)> then) {
  const TenantId& t = c->tenant;
  const std::string token = c->caller.kind == Caller::Kind::kManageToken ? c->caller.token : std::string();
  Query(c, t, [this, c, t, id, token, then = std::move(then)] {
    Seq p = runner.Position(t);
    auto b = projections::QueryBooking(runner.view(), t, BookingId(id));
    if (!b.ok()) return FromStatus(c, b.status());
    if (!token.empty() && !SecretMatches(token, b->manage_token_hash)) {
      return Problem(c, status::not_found, "not_found", "no such booking");
    }
    then(p, *b);
  });
}

void Edge::GetBooking(const CallPtr& c) {
  const TenantId& t = c->tenant;
  QueryBooking(c, c->params[0], [this, c, t](Seq p, const projections::BookingView& b) {
    json doc = b.doc;
    Reveal(doc, t);
    const bool clerk =
        c->caller.kind == Caller::Kind::kKey && c->caller.key &&
        (c->caller.key->role == commands::Role::kStaff || c->caller.key->role == commands::Role::kAdmin);
    RevealDoor(doc, t, clerk);
    SendQuery(c, p, Result<json>(std::move(doc)), false);
  });
}

// One booking as .ics, for its booker (manage token) or staff.
void Edge::BookingCalendar(const CallPtr& c) {
  const TenantId& t = c->tenant;
  const std::string& id = c->params[0];
  QueryBooking(c, id, [this, c, t, id](Seq p, const projections::BookingView& b) {
    auto tenant = projections::QueryTenant(runner.view(), t);
    auto res = projections::QueryResource(runner.view(), t, ResourceId(b.doc.value("resource", "")));
    const std::string tenant_name = tenant.ok() ? tenant->value("name", t.get()) : t.get();
    const std::string resource_name = res.ok() ? res->value("name", "") : b.doc.value("resource", "");
    SendIcs(c, p, BookingIcs(t, tenant_name, resource_name, b.doc, Now()), id + ".ics");
  });
}

void Edge::ResourceBookings(const CallPtr& c) {
  const TenantId& t = c->tenant;
  const std::string& r = c->params[0];
  TimeRange w;
  if (!Window(c, &w)) return;
  std::size_t limit = 0;
  if (!Limit(c, &limit)) return;
  const std::string cursor = c->Param("cursor");
  Query(c, t, [this, c, t, r, w, limit, cursor] {
    Seq p = runner.Position(t);
    auto page = projections::QueryResourceBookings(runner.view(), t, ResourceId(r), w, limit, cursor);
    RevealItems(page, t);
    SendQuery(c, p, page, false);
  });
}

void Edge::CancelBooking(const CallPtr& c) {
  const TenantId& t = c->tenant;
  commands::CancelBooking cmd;
  cmd.id = BookingId(c->params[0]);
  TokenOrStaff(c, &cmd.by_staff, &cmd.manage_token);
  bool bad = false;
  cmd.if_match = IfMatch(c, &bad);
  if (bad) return;
  auto body = Body(c, /*allow_empty=*/true);
  if (!body) return;
  Decoder d(*body, {"reason", "waive_fee"});
  cmd.reason = d.Text("reason", false, 1000);
  cmd.waive_fee = d.Bool("waive_fee", false);  // staff only (Decide refuses it for bookers)
  if (Invalid(c, d)) return;
  Submit(c, Ctx(c, t, c->caller.Actor()), std::move(cmd));
}

// The cancel's own decision, run by the tenant's writer against its current
// write model and discarded (commands::QuoteCancellation): nothing is
// appended, and the quote is what a cancel decided at that moment does.
void Edge::QuoteCancellation(const CallPtr& c) {
  commands::QuoteCancellation cmd;
  cmd.cancel.id = BookingId(c->params[0]);
  TokenOrStaff(c, &cmd.cancel.by_staff, &cmd.cancel.manage_token);
  const std::string waive = c->Param("waive_fee");
  if (!waive.empty() && waive != "true" && waive != "false") {
    return Problem(c, status::bad_request, "invalid_query", "waive_fee must be true or false");
  }
  cmd.cancel.waive_fee = waive == "true";  // staff only, as for the cancel
  Submit(c, Ctx(c, c->tenant, c->caller.Actor()), std::move(cmd));
}

void Edge::RescheduleBooking(const CallPtr& c) {
  const TenantId& t = c->tenant;
  commands::RescheduleBooking cmd;
  cmd.id = BookingId(c->params[0]);
  TokenOrStaff(c, &cmd.by_staff, &cmd.manage_token);
  bool bad = false;
  cmd.if_match = IfMatch(c, &bad);
  if (bad) return;
  auto body = Body(c);
  if (!body) return;
  Decoder d(*body, {"start", "end", "session"});
  cmd.session = d.Str("session", false, 64);
  cmd.range = {d.Time("start", cmd.session.empty()), d.Time("end", cmd.session.empty())};
  if (Invalid(c, d)) return;
  Submit(c, Ctx(c, t, c->caller.Actor()), std::move(cmd));
}

// Staff decisions on one booking.
void Edge::ApproveBooking(const CallPtr& c) {
  const BookingId b(c->params[0]);
  KeyCommand(c, {"note"}, true, [&](Decoder& d, auto m) {
    return commands::Command(commands::ApproveBooking{b, d.Text("note", false, 1000), m});
  });
}

void Edge::RejectBooking(const CallPtr& c) {
  const BookingId b(c->params[0]);
  KeyCommand(c, {"reason"}, true, [&](Decoder& d, auto m) {
    return commands::Command(commands::RejectBooking{b, d.Text("reason", false, 1000), m});
  });
}

void Edge::ConfirmBooking(const CallPtr& c) {
  const BookingId b(c->params[0]);
  KeyCommand(c, {}, true, [&](Decoder&, auto m) {
    return commands::Command(commands::ConfirmBooking{b, m});
  });
}

void Edge::CompleteBooking(const CallPtr& c) {
  const BookingId b(c->params[0]);
  KeyCommand(c, {}, true, [&](Decoder&, auto m) {
    return commands::Command(commands::CompleteBooking{b, false, m});
  });
}

void Edge::NoShowBooking(const CallPtr& c) {
  const BookingId b(c->params[0]);
  KeyCommand(c, {}, true, [&](Decoder&, auto m) {
    return commands::Command(commands::CompleteBooking{b, true, m});
  });
}

void Edge::CancelSeries(const CallPtr& c) {
  const TenantId& t = c->tenant;
  commands::CancelSeries cmd;
  cmd.id = c->params[0];
  TokenOrStaff(c, &cmd.by_staff, &cmd.manage_token);
  // Destructive: the caller names the scope — `from` (this and all
  // following) or `"all": true` — and a body without one cancels nothing.
  auto body = Body(c);
  if (!body) return;
  Decoder d(*body, {"from", "all", "reason"});
  cmd.from = d.Time("from", false);
  const bool all = d.Bool("all", false);
  cmd.reason = d.Text("reason", false, 1000);
  if (d.ok()) {
    const bool has_from = body->contains("from") && !(*body)["from"].is_null();
    if (has_from && all) {
      d.Error("all", "give either from or all, not both");
    } else if (!has_from && !all) {
      d.Error("from",
              "required: a start time (cancels the occurrences from then on), or \"all\": true to cancel "
              "every open occurrence");
    }
  }
  if (Invalid(c, d)) return;
  Submit(c, Ctx(c, t, c->caller.Actor()), std::move(cmd));
}
}  // namespace saalbuch::http
