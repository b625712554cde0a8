// The bookings projection ('B'): each booking's document with its history,
// indexed by resource, by start and by customer. Grammar:
// projections/README.md.
#include <functional>

#include "common/crypto.h"
#include "common/time.h"
#include "projections/fold_internal.h"

namespace saalbuch::projections {

using nlohmann::json;

namespace {

const Zone* ZoneOr(const std::optional<std::string>& text) {
  const Zone* z = text ? ZoneOf(*text) : nullptr;
  return z != nullptr ? z : UtcZone();
}

}  // namespace

Status FoldBookings(const TenantId& t, Seq seq, const schema::Envelope& env, Txn* txn) {
  auto zone = [&]() -> Result<const Zone*> {
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
      txn->Put(Key(t, 'B', "t"), ZoneText(*env.payload_as_TenantCreated()));
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
        txn->Put(Key(t, 'B', Cat("p", Str(e->person_id())) + "/" + id), "");
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
      const std::string prefix = Key(t, 'B', Cat("p", Str(env.payload_as_PersonErased()->person_id())) + "/");
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

}  // namespace saalbuch::projections
