// The doors projection ('D'): per booking, the code it needs from the lock
// provider — none, or one valid at its resource's access point over its
// window widened by the tenant's margins — beside what the provider last
// did for it (DoorCodeIssued, DoorCodeRevoked, DoorCodeFailed). Where the
// two differ the booking is pending, and the door dispatcher
// (integrations/doors.h) works through the pending list. Everything comes
// from the log: its own copy of the settings, the doors and each booking's
// window and status. Grammar: projections/README.md.
#include <algorithm>
#include <cstdint>

#include "common/crypto.h"
#include "projections/fold_internal.h"
#include "projections/projections.h"

namespace saalbuch::projections {

using nlohmann::json;

namespace {

constexpr TimeUs kUsPerMinute = 60'000'000;

// The ids after `prefix` in an index of keys ‖ id (a Txn or a KvView), at
// most `limit`.
template <class View>
Result<std::vector<std::string>> IdsUnder(const View& view, const std::string& prefix,
                                          std::size_t limit = SIZE_MAX) {
  std::vector<std::string> ids;
  Status s = view.Scan(prefix, PrefixEnd(prefix), [&](std::string_view k, std::string_view) {
    ids.emplace_back(k.substr(prefix.size()));
    return ids.size() < limit;
  });
  if (!s.ok()) return s;
  return ids;
}

class DoorsFold {
 public:
  DoorsFold(const TenantId& t, const schema::Envelope& env, Txn* txn)
      : t_(t), env_(env), txn_(txn), at_(env.recorded_at_us()) {}
  Status Apply();

 private:
  std::string K(std::string_view kind, std::string_view id = {}) const { return Key(t_, 'D', Cat(kind, id)); }
  Result<json> Settings() const;
  Result<std::string> Door(const std::string& resource) const;
  // Reads booking's document, lets `change` edit it, works out what it
  // needs now and stores it with its pending and failed marks. Bookings
  // without a document (placed before… never: every booking has one) are
  // left alone.
  Status Update(const std::string& booking, const std::function<void(json&)>& change);
  // Every booking under `prefix` (an index of booking ids after '/') that
  // has not ended yet: what it needs after a change of doors or settings.
  Status UpdateIndexed(const std::string& prefix);

  const TenantId& t_;
  const schema::Envelope& env_;
  Txn* txn_;
  TimeUs at_;
};

Result<json> DoorsFold::Settings() const {
  auto s = GetJson(txn_, K("s"));
  if (!s.ok()) return s.status();
  if (!s->is_object()) return json{{"before", 15}, {"after", 15}, {"reveal", 2880}};
  return *s;
}

Result<std::string> DoorsFold::Door(const std::string& resource) const {
  auto v = txn_->Get(K("p", resource));
  if (!v.ok()) return v.status();
  return v->value_or(std::string());
}

// Whether `doc` needs the provider: a code it should have and does not (or
// with another door or window), or a code (maybe issued by a call whose
// record was lost) it should no longer have; unless the provider refused
// exactly this.
bool Pending(const json& doc) {
  const json& want = doc["want"];
  const json& have = doc["have"];
  const json& failure = doc["failure"];
  const bool refused = failure.is_object() && failure.value("refused", false);
  if (want.is_object()) {
    const bool same = have.is_object() && have["point"] == want["point"] && have["from"] == want["from"] &&
                      have["to"] == want["to"];
    return !same && !(refused && failure.value("operation", "") == "issue" && failure["want"] == want);
  }
  const bool open = have.is_object() || (doc.value("wanted", false) && !doc.value("revoked", false));
  return open && !(refused && failure.value("operation", "") == "revoke");
}

Status DoorsFold::Update(const std::string& booking, const std::function<void(json&)>& change) {
  auto doc = GetJson(txn_, K("b", booking));
  if (!doc.ok()) return doc.status();
  if (!doc->is_object()) return Status::Ok();
  change(*doc);
  auto settings = Settings();
  if (!settings.ok()) return settings.status();
  auto point = Door(doc->value("resource", ""));
  if (!point.ok()) return point.status();
  const TimeUs from = doc->value("start", TimeUs{0}) - settings->value("before", 0) * kUsPerMinute;
  const TimeUs to = doc->value("end", TimeUs{0}) + settings->value("after", 0) * kUsPerMinute;
  json want;
  if (doc->value("live", false) && !point->empty() && to > at_) {
    want = {{"point", *point}, {"from", from}, {"to", to}};
    (*doc)["wanted"] = true;
  }
  (*doc)["want"] = want;
  // A failure concerned what the booking needed then; once that changed
  // (another door, window, or a door no longer needed) it is moot.
  if ((*doc)["failure"].is_object() && (*doc)["failure"]["want"] != want) (*doc)["failure"] = nullptr;
  if (Pending(*doc)) {
    txn_->Put(K("q", booking), "");
  } else {
    txn_->Delete(K("q", booking));
  }
  if ((*doc)["failure"].is_object()) {
    txn_->Put(K("f", booking), "");
  } else {
    txn_->Delete(K("f", booking));
  }
  txn_->Put(K("b", booking), doc->dump());
  return Status::Ok();
}

Status DoorsFold::UpdateIndexed(const std::string& prefix) {
  auto ids = IdsUnder(*txn_, prefix);
  if (!ids.ok()) return ids.status();
  for (const auto& id : *ids) {
    auto doc = GetJson(txn_, K("b", id));
    if (!doc.ok()) return doc.status();
    if (!doc->is_object() || doc->value("end", TimeUs{0}) <= at_) continue;
    if (Status u = Update(id, [](json&) {}); !u.ok()) return u;
  }
  return Status::Ok();
}

Status DoorsFold::Apply() {
  auto live = [](bool on) { return [on](json& d) { d["live"] = on; }; };
  switch (env_.payload_type()) {
    case schema::Payload::DoorSettingsSet: {
      const auto* e = env_.payload_as_DoorSettingsSet();
      txn_->Put(
          K("s"),
          json{{"before", e->before_min()}, {"after", e->after_min()}, {"reveal", e->reveal_min()}}.dump());
      return UpdateIndexed(K("a"));
    }
    case schema::Payload::DoorLinked: {
      const auto* e = env_.payload_as_DoorLinked();
      const std::string resource = Str(e->resource_id());
      if (Str(e->access_point()).empty()) {
        txn_->Delete(K("p", resource));
      } else {
        txn_->Put(K("p", resource), Str(e->access_point()));
      }
      return UpdateIndexed(K("r", resource + "/"));
    }
    case schema::Payload::BookingPlaced: {
      const auto* e = env_.payload_as_BookingPlaced();
      const std::string id = Str(e->booking_id());
      const std::string resource = Str(e->resource_id());
      const std::string person = Str(e->person_id());
      json doc = {{"resource", resource},
                  {"start", e->start_us()},
                  {"end", e->end_us()},
                  {"person", person},
                  {"live", Str(e->status()).empty() || Str(e->status()) == "confirmed"},
                  {"wanted", false},
                  {"revoked", false},
                  {"want", nullptr},
                  {"have", nullptr},
                  {"failure", nullptr}};
      txn_->Put(K("b", id), doc.dump());
      txn_->Put(K("a", id), "");
      txn_->Put(K("r", resource + "/" + id), "");
      if (!person.empty()) txn_->Put(K("o", person + "/" + id), "");
      return Update(id, [](json&) {});
    }
    case schema::Payload::BookingApproved: {
      const auto* e = env_.payload_as_BookingApproved();
      return Update(Str(e->booking_id()), live(Str(e->status()) != "held"));
    }
    case schema::Payload::BookingConfirmed:
      return Update(Str(env_.payload_as_BookingConfirmed()->booking_id()), live(true));
    case schema::Payload::BookingCancelled:
      return Update(Str(env_.payload_as_BookingCancelled()->booking_id()), live(false));
    case schema::Payload::BookingRejected:
      return Update(Str(env_.payload_as_BookingRejected()->booking_id()), live(false));
    case schema::Payload::BookingExpired:
      return Update(Str(env_.payload_as_BookingExpired()->booking_id()), live(false));
    case schema::Payload::BookingRescheduled: {
      const auto* e = env_.payload_as_BookingRescheduled();
      return Update(Str(e->booking_id()), [&](json& d) {
        d["start"] = e->start_us();
        d["end"] = e->end_us();
      });
    }
    case schema::Payload::PersonErased: {
      // Erased: the booker's code opens nothing any more.
      auto ids = IdsUnder(*txn_, K("o", Str(env_.payload_as_PersonErased()->person_id()) + "/"));
      if (!ids.ok()) return ids.status();
      for (const auto& id : *ids) {
        if (Status u = Update(id,
                              [](json& d) {
                                d["live"] = false;
                                d["erased"] = true;
                              });
            !u.ok()) {
          return u;
        }
      }
      return Status::Ok();
    }
    case schema::Payload::DoorCodeIssued: {
      const auto* e = env_.payload_as_DoorCodeIssued();
      const auto* code = e->code();
      return Update(Str(e->booking_id()), [&](json& d) {
        d["have"] = {
            {"point", Str(e->access_point())},
            {"from", e->valid_from_us()},
            {"to", e->valid_to_us()},
            {"grant", Str(e->grant_id())},
            {"person", Str(e->person_id())},
            {"code", code == nullptr ? std::string() : ToHex(std::string(code->begin(), code->end()))},
            {"at", at_}};
        d["revoked"] = false;
        d["failure"] = nullptr;
      });
    }
    case schema::Payload::DoorCodeRevoked:
      return Update(Str(env_.payload_as_DoorCodeRevoked()->booking_id()), [&](json& d) {
        d["have"] = nullptr;
        d["revoked"] = true;
        d["revoked_at"] = at_;
        d["failure"] = nullptr;
      });
    case schema::Payload::DoorCodeFailed: {
      const auto* e = env_.payload_as_DoorCodeFailed();
      return Update(Str(e->booking_id()), [&](json& d) {
        d["failure"] = {{"operation", Str(e->operation())},
                        {"reason", Str(e->reason())},
                        {"refused", e->refused()},
                        {"at", at_},
                        {"want", d["want"]}};
      });
    }
    default:
      break;
  }
  return Status::Ok();
}

}  // namespace

Status FoldDoors(const TenantId& t, const schema::Envelope& env, Txn* txn) {
  return DoorsFold(t, env, txn).Apply();
}

}  // namespace saalbuch::projections

namespace saalbuch::projections {

namespace {

// What a door document tells outside the projection: never the sealed
// code, which only DoorCode hands out.
json DoorView(const std::string& booking, const json& doc) {
  json out = {{"booking", booking},
              {"resource", doc.value("resource", "")},
              {"start", FormatUtc(doc.value("start", TimeUs{0}))},
              {"state", "none"},
              {"pending", Pending(doc)}};
  const json& have = doc["have"];
  if (have.is_object()) {
    out["state"] = "issued";
    out["access_point"] = have["point"];
    out["valid_from"] = FormatUtc(have.value("from", TimeUs{0}));
    out["valid_to"] = FormatUtc(have.value("to", TimeUs{0}));
  } else if (doc.value("revoked", false)) {
    out["state"] = "revoked";
  }
  if (doc["want"].is_object() && !have.is_object()) out["state"] = "pending";
  if (doc["failure"].is_object()) {
    const json& f = doc["failure"];
    out["failure"] = {{"operation", f.value("operation", "")},
                      {"reason", f.value("reason", "")},
                      {"refused", f.value("refused", false)},
                      {"at", FormatUtc(f.value("at", TimeUs{0}))}};
  }
  return out;
}

}  // namespace

Result<json> QueryDoorSettings(const KvView& kv, const TenantId& tenant) {
  json out = {
      {"before_minutes", 15}, {"after_minutes", 15}, {"reveal_minutes", 2880}, {"doors", json::object()}};
  auto s = kv.Get(Key(tenant, 'D', "s"));
  if (!s.ok()) return s.status();
  if (s->has_value()) {
    const json j = json::parse(**s, nullptr, false);
    if (j.is_object()) {
      out["before_minutes"] = j.value("before", 15);
      out["after_minutes"] = j.value("after", 15);
      out["reveal_minutes"] = j.value("reveal", 2880);
    }
  }
  const std::string prefix = Key(tenant, 'D', "p");
  Status st = kv.Scan(prefix, PrefixEnd(prefix), [&](std::string_view k, std::string_view v) {
    out["doors"][std::string(k.substr(prefix.size()))] = std::string(v);
    return true;
  });
  if (!st.ok()) return st;
  return out;
}

Result<std::vector<DoorWork>> QueryDoorWork(const KvView& kv, const TenantId& tenant, std::size_t limit) {
  auto ids = IdsUnder(kv, Key(tenant, 'D', "q"), limit);
  if (!ids.ok()) return ids.status();
  std::vector<DoorWork> out;
  for (const auto& id : *ids) {
    auto v = kv.Get(Key(tenant, 'D', Cat("b", id)));
    if (!v.ok()) return v.status();
    if (!v->has_value()) continue;
    const json doc = json::parse(**v, nullptr, false);
    if (!doc.is_object()) return Status(StatusCode::kCorruption, "door document is not JSON");
    DoorWork w;
    w.booking = id;
    w.person = doc.value("person", "");
    if (doc["want"].is_object()) {
      w.issue = true;
      w.access_point = doc["want"].value("point", "");
      w.from = doc["want"].value("from", TimeUs{0});
      w.to = doc["want"].value("to", TimeUs{0});
    }
    if (doc["have"].is_object()) w.grant = doc["have"].value("grant", "");
    out.push_back(std::move(w));
  }
  return out;
}

Result<json> QueryDoors(const KvView& kv, const TenantId& tenant, char index, std::size_t limit) {
  json items = json::array();
  auto ids = IdsUnder(kv, Key(tenant, 'D', std::string(1, index)), limit);
  if (!ids.ok()) return ids.status();
  for (const auto& id : *ids) {
    auto v = kv.Get(Key(tenant, 'D', Cat("b", id)));
    if (!v.ok()) return v.status();
    if (!v->has_value()) continue;
    const json doc = json::parse(**v, nullptr, false);
    if (doc.is_object()) items.push_back(DoorView(id, doc));
  }
  return json{{"items", std::move(items)}};
}

Result<std::optional<DoorState>> QueryDoor(const KvView& kv, const TenantId& tenant,
                                           const BookingId& booking) {
  auto v = kv.Get(Key(tenant, 'D', Cat("b", booking.get())));
  if (!v.ok()) return v.status();
  if (!v->has_value()) return std::optional<DoorState>();
  const json doc = json::parse(**v, nullptr, false);
  if (!doc.is_object()) return Status(StatusCode::kCorruption, "door document is not JSON");
  DoorState out;
  out.view = DoorView(booking.get(), doc);
  if (doc["have"].is_object()) {
    out.person = doc["have"].value("person", "");
    out.sealed_code = FromHex(doc["have"].value("code", "")).value_or(std::string());
    out.from = doc["have"].value("from", TimeUs{0});
  }
  out.start = doc.value("start", TimeUs{0});
  auto settings = QueryDoorSettings(kv, tenant);
  if (!settings.ok()) return settings.status();
  out.reveal = out.start - (*settings)["reveal_minutes"].get<TimeUs>() * 60'000'000;
  out.view["shown_from"] = FormatUtc(out.reveal);
  if (!doc["want"].is_object() && !doc["have"].is_object() && !doc.value("revoked", false) &&
      !doc["failure"].is_object()) {
    return std::optional<DoorState>();  // the booking has no door
  }
  return std::optional<DoorState>(std::move(out));
}

}  // namespace saalbuch::projections
