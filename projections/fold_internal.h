// Shared by fold.cc's dispatcher and the folds of the catalog, availability,
// bookings and outbox projections; not part of the projections/ interface.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

#include "common/result.h"
#include "common/zone.h"
#include "ledger/log.h"
#include "projections/keys_internal.h"
#include "projections/store.h"

namespace saalbuch::projections {

inline std::string Str(const flatbuffers::String* s) { return s == nullptr ? std::string() : s->str(); }

// What a projection keeps of the tenant's zone: the rules TenantCreated
// carries (common/zone.h), else its name.
inline std::string ZoneText(const schema::TenantCreated& e) {
  return RecordedZoneText(Str(e.zone_rules()), Str(e.time_zone()));
}

// The JSON document at `key`; null when there is none, kCorruption when it
// is not JSON.
inline Result<nlohmann::json> GetJson(Txn* txn, const std::string& key) {
  auto v = txn->Get(key);
  if (!v.ok()) return v.status();
  if (!v->has_value()) return nlohmann::json();
  auto j = nlohmann::json::parse(**v, nullptr, false);
  if (j.is_discarded()) return Status(StatusCode::kCorruption, "projection document is not JSON");
  return j;
}

// `public` of the tenant document: the settings of `e` at stream `version`;
// e == nullptr: the defaults of a tenant that never set them (version 0).
nlohmann::json PublicJson(const schema::PublicSettingsSet* e, std::uint64_t version);

// Each folds one record into its projection (its tag in kProjections) and
// ignores the events it does not show; the caller writes the checkpoint.
// 'C' catalog_fold.cc, 'A' availability_fold.cc, 'B' bookings_fold.cc,
// 'O' outbox_fold.cc ('F' is FoldFinance, finance_internal.h).
Status FoldCatalog(const TenantId& t, const schema::Envelope& env, Txn* txn);
Status FoldAvailability(const TenantId& t, const schema::Envelope& env, Txn* txn);
Status FoldBookings(const TenantId& t, Seq seq, const schema::Envelope& env, Txn* txn);
Status FoldOutbox(const TenantId& t, Seq seq, const schema::Envelope& env, Txn* txn);
Status FoldUsage(const TenantId& t, const schema::Envelope& env, Txn* txn);  // 'U', usage_fold.cc
Status FoldDoors(const TenantId& t, const schema::Envelope& env, Txn* txn);  // 'D', doors_fold.cc

}  // namespace saalbuch::projections
