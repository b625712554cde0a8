// Folding events into the three projections. Documents are JSON (dumped with
// sorted keys, so equal state is equal bytes); index keys are byte-ordered.

#include <functional>

#include "common/crypto.h"
#include "common/time.h"
#include "ledger/keys.h"
#include "projections/finance_internal.h"
#include "projections/keys_internal.h"
#include "projections/projections.h"

namespace saalbuch::projections {

using nlohmann::json;

namespace {

std::string Str(const flatbuffers::String* s) { return s == nullptr ? std::string() : s->str(); }

Result<json> GetJson(Txn* txn, const std::string& key) {
  auto v = txn->Get(key);
  if (!v.ok()) return v.status();
  if (!v->has_value()) return json();
  auto j = json::parse(**v, nullptr, false);
  if (j.is_discarded()) return Status(StatusCode::kCorruption, "projection document is not JSON");
  return j;
}

const date::time_zone* ZoneOr(const std::optional<std::string>& name) {
  const date::time_zone* z = name ? FindZone(*name) : nullptr;
  return z != nullptr ? z : date::locate_zone("UTC");
}

json RulesJson(const schema::RulesSet& e) {
  json opening = json::array();
  if (e.opening() != nullptr) {
    for (const auto* h : *e.opening()) {
      opening.push_back({{"weekday", h->weekday()},
                         {"start", MinuteText(h->start_minute())},
                         {"end", MinuteText(h->end_minute())}});
    }
  }
  json special = json::array();
  if (e.special_days() != nullptr) {
    for (const auto* d : *e.special_days()) {
      json hours = json::array();
      if (d->opening() != nullptr) {
        for (const auto* h : *d->opening()) {
          hours.push_back({{"start", MinuteText(h->start_minute())}, {"end", MinuteText(h->end_minute())}});
        }
      }
      special.push_back({{"date", FormatLocalDay(d->day())}, {"opening_hours", hours}});
    }
  }
  json closures = json::array();
  if (e.closures() != nullptr) {
    for (const auto* c : *e.closures()) {
      closures.push_back({{"from", FormatLocalDay(c->first_day())},
                          {"to", FormatLocalDay(c->last_day())},
                          {"reason", Str(c->reason())}});
    }
  }
  return {{"opening_hours", opening},
          {"special_days", special},
          {"closures", closures},
          {"buffer_before_minutes", e.buffer_before_s() / 60},
          {"buffer_after_minutes", e.buffer_after_s() / 60},
          {"granularity_minutes", e.granularity_s() / 60},
          {"min_duration_minutes", e.min_duration_s() / 60},
          {"max_duration_minutes", e.max_duration_s() / 60},
          {"lead_time_minutes", e.lead_time_s() / 60},
          {"horizon_days", e.horizon_s() / 86400}};
}

Status FoldCatalog(const TenantId& t, const schema::Envelope& env, Txn* txn) {
  switch (env.payload_type()) {
    case schema::Payload::TenantCreated: {
      const auto* e = env.payload_as_TenantCreated();
      txn->Put(Key(t, 'C', "t"),
               json{{"id", t.get()}, {"name", Str(e->name())}, {"time_zone", Str(e->time_zone())}}.dump());
      break;
    }
    case schema::Payload::ResourceCreated: {
      const auto* e = env.payload_as_ResourceCreated();
      json doc = {{"id", Str(e->resource_id())},    {"kind", Str(e->kind())},
                  {"name", Str(e->name())},         {"description", Str(e->description())},
                  {"capacity", e->capacity()},      {"parts", json::array()},
                  {"version", env.stream_version()}};
      if (!Str(e->parent_id()).empty()) {
        doc["parent"] = Str(e->parent_id());
        const std::string parent_key = Key(t, 'C', "r" + Str(e->parent_id()));
        auto parent = GetJson(txn, parent_key);
        if (!parent.ok()) return parent.status();
        if (!parent->is_null()) {
          (*parent)["parts"].push_back(Str(e->resource_id()));
          txn->Put(parent_key, parent->dump());
        }
      }
      if (!Str(e->requires_qualification()).empty()) {
        doc["requires_qualification"] = Str(e->requires_qualification());
      }
      txn->Put(Key(t, 'C', "r" + Str(e->resource_id())), doc.dump());
      break;
    }
    case schema::Payload::SessionScheduled: {
      const auto* e = env.payload_as_SessionScheduled();
      const std::string key = Key(t, 'C', "r" + Str(e->resource_id()));
      auto doc = GetJson(txn, key);
      if (!doc.ok()) return doc.status();
      if (doc->is_null()) break;
      (*doc)["version"] = env.stream_version();
      txn->Put(key, doc->dump());
      break;
    }
    case schema::Payload::AddonSet: {
      const auto* e = env.payload_as_AddonSet();
      json offers = json::array();
      if (e->offers() != nullptr) {
        for (const auto* o : *e->offers()) {
          offers.push_back({{"resource", Str(o->resource_id())}, {"mandatory", o->mandatory()}});
        }
      }
      txn->Put(Key(t, 'C', "a" + Str(e->addon_id())), json{{"id", Str(e->addon_id())},
                                                           {"name", Str(e->name())},
                                                           {"stock", e->stock()},
                                                           {"offers", offers},
                                                           {"version", env.stream_version()}}
                                                          .dump());
      break;
    }
    case schema::Payload::GroupDefined: {
      const auto* e = env.payload_as_GroupDefined();
      txn->Put(Key(t, 'C', "g" + Str(e->group_id())),
               json{{"id", Str(e->group_id())}, {"name", Str(e->name())}}.dump());
      break;
    }
    case schema::Payload::CustomerRegistered: {
      const auto* e = env.payload_as_CustomerRegistered();
      txn->Put(Key(t, 'C', "u" + Str(e->customer_id())),
               json{{"id", Str(e->customer_id())},
                    {"group", Str(e->group_id())},
                    {"qualifications", json::object()},
                    {"registered_at", FormatUtc(env.recorded_at_us())},
                    {"version", env.stream_version()}}
                   .dump());
      break;
    }
    case schema::Payload::CustomerGroupChanged:
    case schema::Payload::QualificationGranted:
    case schema::Payload::QualificationRevoked: {
      std::string customer;
      if (const auto* e = env.payload_as_CustomerGroupChanged()) customer = Str(e->customer_id());
      if (const auto* e = env.payload_as_QualificationGranted()) customer = Str(e->customer_id());
      if (const auto* e = env.payload_as_QualificationRevoked()) customer = Str(e->customer_id());
      const std::string key = Key(t, 'C', "u" + customer);
      auto doc = GetJson(txn, key);
      if (!doc.ok()) return doc.status();
      if (doc->is_null()) break;
      if (const auto* e = env.payload_as_CustomerGroupChanged()) (*doc)["group"] = Str(e->group_id());
      if (const auto* e = env.payload_as_QualificationGranted()) {
        (*doc)["qualifications"][Str(e->qualification())] = {
            {"valid_until", e->valid_until_us() == 0 ? json(nullptr) : json(FormatUtc(e->valid_until_us()))},
            {"basis", Str(e->basis())},
            {"granted_at", FormatUtc(env.recorded_at_us())},
            {"granted_by", Str(env.actor())}};
      }
      if (const auto* e = env.payload_as_QualificationRevoked()) {
        (*doc)["qualifications"].erase(Str(e->qualification()));
      }
      (*doc)["version"] = env.stream_version();
      txn->Put(key, doc->dump());
      break;
    }
    case schema::Payload::RightGranted: {
      const auto* e = env.payload_as_RightGranted();
      json doc = {
          {"id", Str(e->right_id())},
          {"resource", Str(e->resource_id())},
          {"group", Str(e->group_id())},
          {"may_book", e->may_book()},
          {"needs_approval", e->needs_approval()},
          {"hold", e->hold()},
          {"quota_minutes", e->quota_minutes()},
          {"quota_period", Str(e->quota_period())},
          {"basis", Str(e->basis())},
          {"valid_from", FormatUtc(e->valid_from_us())},
          {"valid_until", e->valid_until_us() == 0 ? json(nullptr) : json(FormatUtc(e->valid_until_us()))},
          {"granted_at", FormatUtc(env.recorded_at_us())},
          {"granted_by", Str(env.actor())},
          {"revoked", false},
          {"version", env.stream_version()}};
      txn->Put(Key(t, 'C', "i" + Str(e->right_id())), doc.dump());
      break;
    }
    case schema::Payload::RightRevoked: {
      const auto* e = env.payload_as_RightRevoked();
      const std::string key = Key(t, 'C', "i" + Str(e->right_id()));
      auto doc = GetJson(txn, key);
      if (!doc.ok()) return doc.status();
      if (doc->is_null()) break;
      (*doc)["revoked"] = true;
      (*doc)["revoked_at"] = FormatUtc(env.recorded_at_us());
      (*doc)["revoked_by"] = Str(env.actor());
      (*doc)["revoke_reason"] = Str(e->reason());
      (*doc)["version"] = env.stream_version();
      txn->Put(key, doc->dump());
      break;
    }
    case schema::Payload::CheckpointSigned: {
      const auto* e = env.payload_as_CheckpointSigned();
      txn->Put(Key(t, 'C', "k"), json{{"position", e->position()},
                                      {"note", Str(e->note())},
                                      {"verifier_key", Str(e->verifier_key())},
                                      {"signed_at", FormatUtc(env.recorded_at_us())},
                                      {"record", env.seq()}}
                                     .dump());
      break;
    }
    case schema::Payload::TenantSettingsSet: {
      const std::string key = Key(t, 'C', "t");
      auto doc = GetJson(txn, key);
      if (!doc.ok()) return doc.status();
      if (doc->is_null()) break;
      (*doc)["hold_seconds"] = env.payload_as_TenantSettingsSet()->hold_s();
      txn->Put(key, doc->dump());
      break;
    }
    case schema::Payload::HolidaysSet: {
      const std::string key = Key(t, 'C', "t");
      auto doc = GetJson(txn, key);
      if (!doc.ok()) return doc.status();
      if (doc->is_null()) break;
      json list = json::array();
      if (const auto* hs = env.payload_as_HolidaysSet()->holidays()) {
        for (const auto* h : *hs)
          list.push_back({{"date", FormatLocalDay(h->day())}, {"name", Str(h->name())}});
      }
      (*doc)["holidays"] = list;
      txn->Put(key, doc->dump());
      break;
    }
    case schema::Payload::RulesSet: {
      const auto* e = env.payload_as_RulesSet();
      const std::string key = Key(t, 'C', "r" + Str(e->resource_id()));
      auto doc = GetJson(txn, key);
      if (!doc.ok()) return doc.status();
      if (doc->is_null()) break;  // rules of a resource we never saw
      (*doc)["rules"] = RulesJson(*e);
      (*doc)["version"] = env.stream_version();
      txn->Put(key, doc->dump());
      break;
    }
    default:
      break;
  }
  return Status::Ok();
}

// What a booking takes, as [[counter, amount], …] (see commands/model.h).
json Takes(const std::string& resource, const std::string& session, std::uint32_t units,
           const flatbuffers::Vector<flatbuffers::Offset<schema::AddonLine>>* addons) {
  json takes = json::array();
  takes.push_back({session.empty() ? resource : resource + "@" + session, std::max<std::uint32_t>(1, units)});
  if (addons != nullptr) {
    for (const auto* a : *addons) takes.push_back({"+" + Str(a->addon_id()), a->quantity()});
  }
  return takes;
}

// The key of a booking's usage of `counter` that starts at `start`.
std::string UsageKey(const TenantId& t, const std::string& counter, TimeUs start,
                     const std::string& booking) {
  std::string key = UsagePrefix(t, counter);
  AppendTime(&key, start);
  return key + booking;
}

// Puts a booking's usages of its counters for `blocked`.
Status TakeCounters(const TenantId& t, const std::string& booking, const json& takes, TimeRange blocked,
                    Txn* txn) {
  for (const auto& take : takes) {
    const std::string counter = take.at(0).get<std::string>();
    txn->Put(UsageKey(t, counter, blocked.start, booking),
             json{{"start", blocked.start}, {"end", blocked.end}, {"amount", take.at(1)}}.dump());
    const std::string max_key = Key(t, 'A', "m" + counter);
    auto max = txn->Get(max_key);
    if (!max.ok()) return max.status();
    const TimeUs len = blocked.end - blocked.start;
    if (!max->has_value() || std::stoll(**max) < len) txn->Put(max_key, std::to_string(len));
  }
  return Status::Ok();
}

Status FoldAvailability(const TenantId& t, const schema::Envelope& env, Txn* txn) {
  // "Ak" ‖ booking → {"takes": [[counter, amount], …], "start": blocked start}
  auto release = [&](const std::string& booking) -> Result<json> {
    const std::string link = Key(t, 'A', "k" + booking);
    auto rec = GetJson(txn, link);
    if (!rec.ok()) return rec.status();
    if (rec->is_null()) return json();
    const TimeUs start = rec->at("start").get<TimeUs>();
    for (const auto& take : rec->at("takes")) {
      txn->Delete(UsageKey(t, take.at(0).get<std::string>(), start, booking));
    }
    txn->Delete(link);
    return *rec;
  };
  auto take = [&](const std::string& booking, const json& takes, TimeRange blocked) -> Status {
    if (Status s = TakeCounters(t, booking, takes, blocked, txn); !s.ok()) return s;
    txn->Put(Key(t, 'A', "k" + booking), json{{"takes", takes}, {"start", blocked.start}}.dump());
    return Status::Ok();
  };
  switch (env.payload_type()) {
    case schema::Payload::TenantCreated:
      txn->Put(Key(t, 'A', "t"), Str(env.payload_as_TenantCreated()->time_zone()));
      break;
    case schema::Payload::ResourceCreated: {
      const auto* e = env.payload_as_ResourceCreated();
      json doc = {{"kind", Str(e->kind())}, {"capacity", e->capacity()}, {"related", json::array()}};
      if (!Str(e->parent_id()).empty()) {
        doc["related"].push_back(Str(e->parent_id()));
        const std::string parent_key = Key(t, 'A', "r" + Str(e->parent_id()));
        auto parent = GetJson(txn, parent_key);
        if (!parent.ok()) return parent.status();
        if (!parent->is_null()) {
          (*parent)["related"].push_back(Str(e->resource_id()));
          txn->Put(parent_key, parent->dump());
        }
      }
      txn->Put(Key(t, 'A', "r" + Str(e->resource_id())), doc.dump());
      break;
    }
    case schema::Payload::RulesSet: {
      const auto* e = env.payload_as_RulesSet();
      const std::string key = Key(t, 'A', "r" + Str(e->resource_id()));
      auto doc = GetJson(txn, key);
      if (!doc.ok()) return doc.status();
      if (doc->is_null()) break;
      json opening = json::array();
      if (e->opening() != nullptr) {
        for (const auto* h : *e->opening()) {
          opening.push_back({h->weekday(), h->start_minute(), h->end_minute()});
        }
      }
      json special = json::object();
      if (e->special_days() != nullptr) {
        for (const auto* d : *e->special_days()) {
          json hours = json::array();
          if (d->opening() != nullptr) {
            for (const auto* h : *d->opening()) hours.push_back({h->start_minute(), h->end_minute()});
          }
          special[std::to_string(d->day())] = hours;
        }
      }
      json closures = json::array();
      if (e->closures() != nullptr) {
        for (const auto* c : *e->closures()) closures.push_back({c->first_day(), c->last_day()});
      }
      (*doc)["opening"] = opening;
      (*doc)["special"] = special;
      (*doc)["closures"] = closures;
      txn->Put(key, doc->dump());
      break;
    }
    case schema::Payload::HolidaysSet: {
      json days = json::array();
      if (const auto* hs = env.payload_as_HolidaysSet()->holidays()) {
        for (const auto* h : *hs) days.push_back(h->day());
      }
      txn->Put(Key(t, 'A', "h"), days.dump());
      break;
    }
    case schema::Payload::SessionScheduled: {
      const auto* e = env.payload_as_SessionScheduled();
      std::string key = SessionPrefix(t, Str(e->resource_id()));
      AppendTime(&key, e->start_us());
      key += Str(e->session_id());
      txn->Put(key, json{{"id", Str(e->session_id())},
                         {"start", e->start_us()},
                         {"end", e->end_us()},
                         {"seats", e->seats()},
                         {"title", Str(e->title())}}
                        .dump());
      break;
    }
    case schema::Payload::AddonSet: {
      const auto* e = env.payload_as_AddonSet();
      txn->Put(Key(t, 'A', "a" + Str(e->addon_id())), std::to_string(e->stock()));
      break;
    }
    case schema::Payload::BookingPlaced: {
      const auto* e = env.payload_as_BookingPlaced();
      return take(Str(e->booking_id()),
                  Takes(Str(e->resource_id()), Str(e->session_id()), e->units(), e->addons()),
                  {e->blocked_start_us(), e->blocked_end_us()});
    }
    case schema::Payload::BookingRescheduled: {
      const auto* e = env.payload_as_BookingRescheduled();
      auto old = release(Str(e->booking_id()));
      if (!old.ok()) return old.status();
      if (old->is_null()) break;  // not occupying
      json takes = old->at("takes");
      // A move to another session of an event changes its counter.
      const std::string first = takes.at(0).at(0).get<std::string>();
      if (auto at = first.find('@'); at != std::string::npos) {
        takes[0][0] = first.substr(0, at + 1) + Str(e->session_id());
      }
      return take(Str(e->booking_id()), takes, {e->blocked_start_us(), e->blocked_end_us()});
    }
    case schema::Payload::BookingCancelled:
    case schema::Payload::BookingRejected:
    case schema::Payload::BookingExpired: {
      std::string id;
      if (const auto* e = env.payload_as_BookingCancelled()) id = Str(e->booking_id());
      if (const auto* e = env.payload_as_BookingRejected()) id = Str(e->booking_id());
      if (const auto* e = env.payload_as_BookingExpired()) id = Str(e->booking_id());
      auto old = release(id);
      if (!old.ok()) return old.status();
      break;
    }
    default:
      break;
  }
  return Status::Ok();
}

Status FoldBookings(const TenantId& t, Seq seq, const schema::Envelope& env, Txn* txn) {
  auto zone = [&]() -> Result<const date::time_zone*> {
    auto z = txn->Get(Key(t, 'B', "t"));
    if (!z.ok()) return z.status();
    return ZoneOr(*z);
  };
  auto history = [&](const char* what) {
    return json{
        {"seq", seq}, {"event", what}, {"at", FormatUtc(env.recorded_at_us())}, {"actor", Str(env.actor())}};
  };
  // Index keys of a booking document: by resource, by start, by customer.
  auto index_keys = [&](const json& doc) {
    const TimeUs start = ParseRfc3339(doc.at("start").get<std::string>()).value_or(0);
    const std::string id = doc.at("id").get<std::string>();
    std::vector<std::string> keys = {ByResourceKey(t, doc.at("resource").get<std::string>(), start, id)};
    std::string by_start = Key(t, 'B', "s");
    AppendTime(&by_start, start);
    keys.push_back(by_start + id);
    if (doc.contains("customer"))
      keys.push_back(ByCustomerKey(t, doc.at("customer").get<std::string>(), start, id));
    return keys;
  };
  // Applies `change` to the booking's document and appends `entry` to its
  // history.
  auto update = [&](const std::string& id, json entry, const std::function<Status(json&)>& change) -> Status {
    const std::string key = Key(t, 'B', "b" + id);
    auto rec = GetJson(txn, key);
    if (!rec.ok()) return rec.status();
    if (rec->is_null()) return Status::Ok();
    json& doc = (*rec)["doc"];
    if (Status s = change(doc); !s.ok()) return s;
    doc["version"] = env.stream_version();
    doc["history"].push_back(std::move(entry));
    txn->Put(key, rec->dump());
    return Status::Ok();
  };
  auto set_status = [&](const char* status, const char* event, json extra = json::object()) -> Status {
    std::string id;
    switch (env.payload_type()) {
      case schema::Payload::BookingCancelled:
        id = Str(env.payload_as_BookingCancelled()->booking_id());
        break;
      case schema::Payload::BookingApproved:
        id = Str(env.payload_as_BookingApproved()->booking_id());
        break;
      case schema::Payload::BookingRejected:
        id = Str(env.payload_as_BookingRejected()->booking_id());
        break;
      case schema::Payload::BookingConfirmed:
        id = Str(env.payload_as_BookingConfirmed()->booking_id());
        break;
      case schema::Payload::BookingExpired:
        id = Str(env.payload_as_BookingExpired()->booking_id());
        break;
      case schema::Payload::BookingCompleted:
        id = Str(env.payload_as_BookingCompleted()->booking_id());
        break;
      default:
        break;
    }
    json h = history(event);
    for (auto& [k, v] : extra.items()) {
      if (!(v.is_string() && v.get<std::string>().empty())) h[k] = v;
    }
    return update(id, std::move(h), [&](json& doc) {
      doc["status"] = status;
      doc[std::string(status) + "_at"] = FormatUtc(env.recorded_at_us());
      if (std::string_view(status) != "held") doc.erase("hold_until");
      return Status::Ok();
    });
  };
  switch (env.payload_type()) {
    case schema::Payload::TenantCreated:
      txn->Put(Key(t, 'B', "t"), Str(env.payload_as_TenantCreated()->time_zone()));
      break;
    case schema::Payload::BookingPlaced: {
      const auto* e = env.payload_as_BookingPlaced();
      auto z = zone();
      if (!z.ok()) return z.status();
      const std::string id = Str(e->booking_id());
      const std::string status = Str(e->status()).empty() ? "confirmed" : Str(e->status());
      json addons = json::array();
      if (e->addons() != nullptr) {
        for (const auto* a : *e->addons())
          addons.push_back({{"addon", Str(a->addon_id())}, {"quantity", a->quantity()}});
      }
      json doc = {{"id", id},
                  {"number", Str(e->number())},
                  {"resource", Str(e->resource_id())},
                  {"start", FormatUtc(e->start_us())},
                  {"end", FormatUtc(e->end_us())},
                  {"start_local", FormatLocal(e->start_us(), *z)},
                  {"end_local", FormatLocal(e->end_us(), *z)},
                  {"time_zone", (*z)->name()},
                  {"blocked_start", FormatUtc(e->blocked_start_us())},
                  {"blocked_end", FormatUtc(e->blocked_end_us())},
                  {"status", status},
                  {"units", std::max<std::uint32_t>(1, e->units())},
                  {"addons", addons},
                  {"right", Str(e->right_id()).empty() ? "open" : Str(e->right_id())},
                  {"channel", Str(e->channel())},
                  {"placed_at", FormatUtc(env.recorded_at_us())},
                  {"version", env.stream_version()},
                  {"history", json::array({history("placed")})}};
      if (!Str(e->session_id()).empty()) doc["session"] = Str(e->session_id());
      if (!Str(e->customer_id()).empty()) doc["customer"] = Str(e->customer_id());
      if (!Str(e->group_id()).empty()) doc["group"] = Str(e->group_id());
      if (!Str(e->series_id()).empty()) doc["series"] = Str(e->series_id());
      if (status == "held") doc["hold_until"] = FormatUtc(e->hold_until_us());
      if (!Str(e->person_id()).empty()) {
        // Sealed; the HTTP layer opens it with the vault (or says erased).
        doc["person"] = Str(e->person_id());
        if (e->personal() != nullptr) {
          doc["personal_sealed"] = ToHex(
              std::string_view(reinterpret_cast<const char*>(e->personal()->data()), e->personal()->size()));
        }
        txn->Put(Key(t, 'B', "p" + Str(e->person_id()) + "/" + id), "");
      }
      std::string mth;
      if (e->manage_token_hash() != nullptr) {
        mth.assign(e->manage_token_hash()->begin(), e->manage_token_hash()->end());
      }
      txn->Put(Key(t, 'B', "b" + id), json{{"doc", doc}, {"mth", ToHex(mth)}}.dump());
      for (const auto& k : index_keys(doc)) txn->Put(k, "");
      break;
    }
    case schema::Payload::BookingCancelled: {
      const auto* e = env.payload_as_BookingCancelled();
      return set_status("cancelled", "cancelled", {{"by", Str(e->by())}, {"reason", Str(e->reason())}});
    }
    case schema::Payload::BookingApproved: {
      const auto* e = env.payload_as_BookingApproved();
      const std::string status = Str(e->status());
      if (Status s =
              set_status(status == "held" ? "held" : "confirmed", "approved", {{"note", Str(e->note())}});
          !s.ok()) {
        return s;
      }
      if (status == "held") {
        return update(Str(e->booking_id()), history("hold_started"), [&](json& doc) {
          doc["hold_until"] = FormatUtc(e->hold_until_us());
          return Status::Ok();
        });
      }
      break;
    }
    case schema::Payload::BookingRejected:
      return set_status("rejected", "rejected",
                        {{"reason", Str(env.payload_as_BookingRejected()->reason())}});
    case schema::Payload::BookingConfirmed:
      return set_status("confirmed", "confirmed", {{"by", Str(env.payload_as_BookingConfirmed()->by())}});
    case schema::Payload::BookingExpired:
      return set_status("expired", "expired");
    case schema::Payload::BookingCompleted: {
      const bool no_show = Str(env.payload_as_BookingCompleted()->outcome()) == "no_show";
      return set_status(no_show ? "no_show" : "completed", no_show ? "no_show" : "completed");
    }
    case schema::Payload::PersonErased: {
      // Every booking of the person says so; the sealed data stays (it is
      // part of the log) but its key is gone.
      const std::string prefix = Key(t, 'B', "p" + Str(env.payload_as_PersonErased()->person_id()) + "/");
      std::vector<std::string> ids;
      Status s = txn->Scan(prefix, PrefixEnd(prefix), [&](std::string_view k, std::string_view) {
        ids.emplace_back(k.substr(prefix.size()));
        return true;
      });
      if (!s.ok()) return s;
      for (const auto& id : ids) {
        if (Status u = update(id, history("person_erased"),
                              [&](json& doc) {
                                doc["contact_erased"] = true;
                                return Status::Ok();
                              });
            !u.ok()) {
          return u;
        }
      }
      break;
    }
    case schema::Payload::NotificationSent: {
      const auto* e = env.payload_as_NotificationSent();
      json h = history("notified");
      h["kind"] = Str(e->kind());
      return update(Str(e->booking_id()), std::move(h), [](json&) { return Status::Ok(); });
    }
    case schema::Payload::BookingRescheduled: {
      const auto* e = env.payload_as_BookingRescheduled();
      auto z = zone();
      if (!z.ok()) return z.status();
      json h = history("rescheduled");
      h["by"] = Str(e->by());
      h["start"] = FormatUtc(e->start_us());
      h["end"] = FormatUtc(e->end_us());
      return update(Str(e->booking_id()), std::move(h), [&](json& doc) {
        for (const auto& k : index_keys(doc)) txn->Delete(k);
        doc["start"] = FormatUtc(e->start_us());
        doc["end"] = FormatUtc(e->end_us());
        doc["start_local"] = FormatLocal(e->start_us(), *z);
        doc["end_local"] = FormatLocal(e->end_us(), *z);
        doc["blocked_start"] = FormatUtc(e->blocked_start_us());
        doc["blocked_end"] = FormatUtc(e->blocked_end_us());
        if (!Str(e->session_id()).empty()) doc["session"] = Str(e->session_id());
        for (const auto& k : index_keys(doc)) txn->Put(k, "");
        return Status::Ok();
      });
    }
    default:
      break;
  }
  return Status::Ok();
}

// The outbox: notifications to send, one per booking event of a booking
// whose placement carried contact data. "Oq" ‖ id → {"id","booking","kind",
// "due"} (µs); "Ob" ‖ booking → "" marks bookings with contact data; "Oe" ‖
// booking → the id of its pending "expiring" reminder. NotificationSent
// removes an entry.
Status FoldOutbox(const TenantId& t, Seq seq, const schema::Envelope& env, Txn* txn) {
  char num[32];
  std::snprintf(num, sizeof num, "n-%020llu", static_cast<unsigned long long>(seq));
  const TimeUs at = env.recorded_at_us();
  auto has_contact = [&](const std::string& booking) -> Result<bool> {
    auto v = txn->Get(Key(t, 'O', "b" + booking));
    if (!v.ok()) return v.status();
    return v->has_value();
  };
  auto enqueue = [&](const std::string& booking, const std::string& kind, TimeUs due,
                     const std::string& suffix) {
    std::string id = num + suffix;
    txn->Put(Key(t, 'O', "q" + id),
             json{{"id", id}, {"booking", booking}, {"kind", kind}, {"due", due}}.dump());
    return id;
  };
  // Drops a pending expiring reminder (the hold ended some other way).
  auto drop_expiring = [&](const std::string& booking) -> Status {
    auto pending = txn->Get(Key(t, 'O', "e" + booking));
    if (!pending.ok()) return pending.status();
    if (pending->has_value()) {
      txn->Delete(Key(t, 'O', "q" + **pending));
      txn->Delete(Key(t, 'O', "e" + booking));
    }
    return Status::Ok();
  };
  auto held = [&](const std::string& booking, TimeUs hold_until) {
    // A reminder when three quarters of the hold have passed.
    const std::string id = enqueue(booking, "expiring", hold_until - (hold_until - at) / 4, "-expiring");
    txn->Put(Key(t, 'O', "e" + booking), id);
  };
  auto transition = [&](const std::string& booking, const char* kind, bool ends_hold) -> Status {
    auto c = has_contact(booking);
    if (!c.ok()) return c.status();
    if (!*c) return Status::Ok();
    if (ends_hold) {
      if (Status s = drop_expiring(booking); !s.ok()) return s;
    }
    enqueue(booking, kind, at, "");
    return Status::Ok();
  };
  switch (env.payload_type()) {
    case schema::Payload::BookingPlaced: {
      const auto* e = env.payload_as_BookingPlaced();
      if (Str(e->person_id()).empty() || e->personal() == nullptr) break;
      const std::string id = Str(e->booking_id());
      txn->Put(Key(t, 'O', "b" + id), "");
      const std::string status = Str(e->status());
      enqueue(id, status == "requested" ? "received" : status == "held" ? "held" : "confirmed", at, "");
      if (status == "held") held(id, e->hold_until_us());
      break;
    }
    case schema::Payload::BookingApproved: {
      const auto* e = env.payload_as_BookingApproved();
      if (Status s = transition(Str(e->booking_id()), "approved", false); !s.ok()) return s;
      auto c = has_contact(Str(e->booking_id()));
      if (!c.ok()) return c.status();
      if (*c && Str(e->status()) == "held") held(Str(e->booking_id()), e->hold_until_us());
      break;
    }
    case schema::Payload::BookingRejected:
      return transition(Str(env.payload_as_BookingRejected()->booking_id()), "rejected", true);
    case schema::Payload::BookingConfirmed:
      return transition(Str(env.payload_as_BookingConfirmed()->booking_id()), "confirmed", true);
    case schema::Payload::BookingCancelled:
      return transition(Str(env.payload_as_BookingCancelled()->booking_id()), "cancelled", true);
    case schema::Payload::BookingExpired:
      return transition(Str(env.payload_as_BookingExpired()->booking_id()), "expired", true);
    case schema::Payload::BookingRescheduled:
      return transition(Str(env.payload_as_BookingRescheduled()->booking_id()), "rescheduled", false);
    case schema::Payload::NotificationSent: {
      const auto* e = env.payload_as_NotificationSent();
      txn->Delete(Key(t, 'O', "q" + Str(e->notification_id())));
      if (Str(e->kind()) == "expiring") txn->Delete(Key(t, 'O', "e" + Str(e->booking_id())));
      break;
    }
    default:
      break;
  }
  return Status::Ok();
}

}  // namespace

Result<Seq> LowestCheckpoint(const KvView& kv, const TenantId& tenant) {
  Seq lowest = ~Seq{0};
  for (const auto& p : kProjections) {
    auto v = kv.Get(CheckpointKey(tenant, p.tag));
    if (!v.ok()) return v.status();
    Seq cp = v->has_value() && (*v)->size() == 8 ? ledger::keys::ReadBigEndian64(**v) : 0;
    lowest = std::min(lowest, cp);
  }
  return lowest;
}

Status FoldRecord(const TenantId& tenant, Seq seq, const schema::Envelope& env, Txn* txn) {
  for (const auto& p : kProjections) {
    const std::string cp_key = CheckpointKey(tenant, p.tag);
    auto v = txn->Get(cp_key);
    if (!v.ok()) return v.status();
    Seq cp = v->has_value() && (*v)->size() == 8 ? ledger::keys::ReadBigEndian64(**v) : 0;
    if (seq <= cp) continue;
    Status s;
    switch (p.tag) {
      case 'C':
        s = FoldCatalog(tenant, env, txn);
        break;
      case 'A':
        s = FoldAvailability(tenant, env, txn);
        break;
      case 'B':
        s = FoldBookings(tenant, seq, env, txn);
        break;
      case 'O':
        s = FoldOutbox(tenant, seq, env, txn);
        break;
      case 'F':
        s = FoldFinance(tenant, seq, env, txn);
        break;
    }
    if (!s.ok()) return s;
    std::string enc;
    ledger::keys::AppendBigEndian64(&enc, seq);
    txn->Put(cp_key, std::move(enc));
  }
  return Status::Ok();
}

Status FoldInto(MemoryStore* store, const ledger::Log& log, const TenantId& tenant, Seq upto,
                const std::function<void(Seq)>& progress) {
  auto from = LowestCheckpoint(*store, tenant);
  if (!from.ok()) return from.status();
  Seq next = *from + 1;
  std::vector<ledger::Record> chunk;
  for (;;) {
    chunk.clear();
    std::size_t want = 4096;
    if (upto != 0) {
      if (next > upto) break;
      want = std::min<std::size_t>(want, upto - next + 1);
    }
    if (Status s = log.Read(tenant, next, want, &chunk); !s.ok()) return s;
    Txn txn(store);
    for (const auto& r : chunk) {
      const schema::Envelope* env = ledger::DecodeEnvelope(r.bytes);
      if (env == nullptr || r.seq != next) {
        return {StatusCode::kCorruption, "record " + std::to_string(next) + " cannot be decoded"};
      }
      if (Status s = FoldRecord(tenant, r.seq, *env, &txn); !s.ok()) return s;
      ++next;
    }
    store->Commit(txn);
    if (progress) progress(next - 1);
    if (chunk.size() < want) break;
  }
  return Status::Ok();
}

Result<std::map<std::string, std::string>> TenantKeys(const KvView& kv, const TenantId& tenant) {
  std::map<std::string, std::string> out;
  const std::string prefix = ledger::keys::TenantPrefix(tenant.get());
  Status s = kv.Scan(prefix, PrefixEnd(prefix), [&](std::string_view k, std::string_view v) {
    out.emplace(k, v);
    return true;
  });
  if (!s.ok()) return s;
  return out;
}

}  // namespace saalbuch::projections
