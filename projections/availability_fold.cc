// The availability projection ('A'): resources with their opening rules,
// holidays, event sessions, add-on stock, and what bookings take from each
// counter by blocked start. Grammar: projections/README.md.
#include <algorithm>

#include "projections/fold_internal.h"

namespace saalbuch::projections {

using nlohmann::json;

namespace {

// What a booking takes, as [[counter, amount], …] (see commands/model.h).
json Takes(const std::string& resource, const std::string& session, std::uint32_t units,
           const flatbuffers::Vector<flatbuffers::Offset<schema::AddonLine>>* addons) {
  json takes = json::array();
  takes.push_back({session.empty() ? resource : resource + "@" + session, std::max<std::uint32_t>(1, units)});
  if (addons != nullptr) {
    for (const auto* a : *addons) takes.push_back({Cat("+", Str(a->addon_id())), a->quantity()});
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

}  // namespace

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
      txn->Put(Key(t, 'A', "t"), ZoneText(*env.payload_as_TenantCreated()));
      break;
    case schema::Payload::ResourceCreated: {
      const auto* e = env.payload_as_ResourceCreated();
      json doc = {{"kind", Str(e->kind())}, {"capacity", e->capacity()}, {"related", json::array()}};
      if (!Str(e->parent_id()).empty()) {
        doc["related"].push_back(Str(e->parent_id()));
        const std::string parent_key = Key(t, 'A', Cat("r", Str(e->parent_id())));
        auto parent = GetJson(txn, parent_key);
        if (!parent.ok()) return parent.status();
        if (!parent->is_null()) {
          (*parent)["related"].push_back(Str(e->resource_id()));
          txn->Put(parent_key, parent->dump());
        }
      }
      txn->Put(Key(t, 'A', Cat("r", Str(e->resource_id()))), doc.dump());
      break;
    }
    case schema::Payload::RulesSet: {
      const auto* e = env.payload_as_RulesSet();
      const std::string key = Key(t, 'A', Cat("r", Str(e->resource_id())));
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
      txn->Put(Key(t, 'A', Cat("a", Str(e->addon_id()))), std::to_string(e->stock()));
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

}  // namespace saalbuch::projections
