// The catalog projection ('C'): the tenant, resources with their rules and
// parts, add-ons, groups, customers with qualifications, usage rights, the
// last signed checkpoint. Grammar: projections/README.md.
#include "common/time.h"
#include "projections/fold_internal.h"

namespace saalbuch::projections {

using nlohmann::json;

namespace {

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

json Nullable(const flatbuffers::String* s) {
  return s == nullptr || s->size() == 0 ? json(nullptr) : json(Str(s));
}

}  // namespace

json PublicJson(const schema::PublicSettingsSet* e, std::uint64_t version) {
  json origins = json::array();
  if (e != nullptr && e->allowed_origins() != nullptr) {
    for (const auto* o : *e->allowed_origins()) origins.push_back(Str(o));
  }
  auto text = [&](const flatbuffers::String* (schema::PublicSettingsSet::*field)() const) {
    return e == nullptr ? json(nullptr) : Nullable((e->*field)());
  };
  return {{"allowed_origins", origins},
          {"display_name", text(&schema::PublicSettingsSet::display_name)},
          {"logo_url", text(&schema::PublicSettingsSet::logo_url)},
          {"accent_color", text(&schema::PublicSettingsSet::accent_color)},
          {"privacy_url", text(&schema::PublicSettingsSet::privacy_url)},
          {"terms_url", text(&schema::PublicSettingsSet::terms_url)},
          {"consent",
           {{"de", text(&schema::PublicSettingsSet::consent_de)},
            {"en", text(&schema::PublicSettingsSet::consent_en)}}},
          {"version", version}};
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
        const std::string parent_key = Key(t, 'C', Cat("r", Str(e->parent_id())));
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
      txn->Put(Key(t, 'C', Cat("r", Str(e->resource_id()))), doc.dump());
      break;
    }
    case schema::Payload::SessionScheduled: {
      const auto* e = env.payload_as_SessionScheduled();
      const std::string key = Key(t, 'C', Cat("r", Str(e->resource_id())));
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
      txn->Put(Key(t, 'C', Cat("a", Str(e->addon_id()))), json{{"id", Str(e->addon_id())},
                                                               {"name", Str(e->name())},
                                                               {"stock", e->stock()},
                                                               {"offers", offers},
                                                               {"version", env.stream_version()}}
                                                              .dump());
      break;
    }
    case schema::Payload::GroupDefined: {
      const auto* e = env.payload_as_GroupDefined();
      txn->Put(Key(t, 'C', Cat("g", Str(e->group_id()))),
               json{{"id", Str(e->group_id())}, {"name", Str(e->name())}}.dump());
      break;
    }
    case schema::Payload::CustomerRegistered: {
      const auto* e = env.payload_as_CustomerRegistered();
      txn->Put(Key(t, 'C', Cat("u", Str(e->customer_id()))),
               json{{"id", Str(e->customer_id())},
                    {"group", Str(e->group_id())},
                    {"qualifications", json::object()},
                    {"registered_at", FormatUtc(env.recorded_at_us())},
                    {"version", env.stream_version()}}
                   .dump());
      break;
    }
    case schema::Payload::CustomerBillingSet: {
      // Sealed; the HTTP layer opens it with the vault ("billing").
      const auto* e = env.payload_as_CustomerBillingSet();
      const std::string key = Key(t, 'C', "u" + Str(e->customer_id()));
      auto doc = GetJson(txn, key);
      if (!doc.ok()) return doc.status();
      if (doc->is_null()) break;
      if (e->recipient() == nullptr || e->recipient()->size() == 0) {
        doc->erase("billing_sealed");
      } else {
        (*doc)["billing_sealed"] = ToHex(
            std::string_view(reinterpret_cast<const char*>(e->recipient()->data()), e->recipient()->size()));
      }
      (*doc)["version"] = env.stream_version();
      txn->Put(key, doc->dump());
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
      txn->Put(Key(t, 'C', Cat("i", Str(e->right_id()))), doc.dump());
      break;
    }
    case schema::Payload::ApiKeyCreated: {
      const auto* e = env.payload_as_ApiKeyCreated();
      json doc = {{"id", Str(e->key_id())},
                  {"role", Str(e->role())},
                  {"label", Str(e->label())},
                  {"created", FormatUtc(env.recorded_at_us())},
                  {"created_by", Str(env.actor())},
                  {"expires", nullptr},
                  {"revoked", nullptr},
                  {"version", env.stream_version()}};
      txn->Put(Key(t, 'C', Cat("y", Str(e->key_id()))), doc.dump());
      break;
    }
    case schema::Payload::ApiKeyRevoked:
    case schema::Payload::ApiKeyRotated: {
      const bool revoked = env.payload_type() == schema::Payload::ApiKeyRevoked;
      const std::string id = revoked ? Str(env.payload_as_ApiKeyRevoked()->key_id())
                                     : Str(env.payload_as_ApiKeyRotated()->key_id());
      const std::string key = Key(t, 'C', Cat("y", id));
      auto doc = GetJson(txn, key);
      if (!doc.ok()) return doc.status();
      if (doc->is_null()) break;
      if (revoked) {
        (*doc)["revoked"] = FormatUtc(env.recorded_at_us());
        (*doc)["revoked_by"] = Str(env.actor());
      } else {
        const auto* e = env.payload_as_ApiKeyRotated();
        (*doc)["expires"] = FormatUtc(e->expires_us());
        (*doc)["replaced_by"] = Str(e->new_key_id());
        (*doc)["rotated_by"] = Str(env.actor());
      }
      (*doc)["version"] = env.stream_version();
      txn->Put(key, doc->dump());
      break;
    }
    case schema::Payload::RightRevoked: {
      const auto* e = env.payload_as_RightRevoked();
      const std::string key = Key(t, 'C', Cat("i", Str(e->right_id())));
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
    case schema::Payload::RetentionRuleSet: {
      const std::string key = Key(t, 'C', "t");
      auto doc = GetJson(txn, key);
      if (!doc.ok()) return doc.status();
      if (doc->is_null()) break;
      const int days = env.payload_as_RetentionRuleSet()->days();
      (*doc)["retention_days"] = days < 0 ? json(nullptr) : json(days);
      txn->Put(key, doc->dump());
      break;
    }
    case schema::Payload::PublicSettingsSet: {
      const std::string key = Key(t, 'C', "t");
      auto doc = GetJson(txn, key);
      if (!doc.ok()) return doc.status();
      if (doc->is_null()) break;
      (*doc)["public"] = PublicJson(env.payload_as_PublicSettingsSet(), env.stream_version());
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
      const std::string key = Key(t, 'C', Cat("r", Str(e->resource_id())));
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

}  // namespace saalbuch::projections
