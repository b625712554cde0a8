// Folding events into the three projections. Documents are JSON (dumped with
// sorted keys, so equal state is equal bytes); index keys are byte-ordered.

#include "common/crypto.h"
#include "common/time.h"
#include "ledger/keys.h"
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
      txn->Put(Key(t, 'C', "r" + Str(e->resource_id())), json{{"id", Str(e->resource_id())},
                                                              {"kind", Str(e->kind())},
                                                              {"name", Str(e->name())},
                                                              {"description", Str(e->description())},
                                                              {"capacity", e->capacity()},
                                                              {"version", env.stream_version()}}
                                                             .dump());
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

Status FoldAvailability(const TenantId& t, const schema::Envelope& env, Txn* txn) {
  switch (env.payload_type()) {
    case schema::Payload::TenantCreated:
      txn->Put(Key(t, 'A', "t"), Str(env.payload_as_TenantCreated()->time_zone()));
      break;
    case schema::Payload::RulesSet: {
      const auto* e = env.payload_as_RulesSet();
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
      txn->Put(Key(t, 'A', "r" + Str(e->resource_id())),
               json{{"opening", opening}, {"special", special}, {"closures", closures}}.dump());
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
    case schema::Payload::BookingPlaced: {
      const auto* e = env.payload_as_BookingPlaced();
      std::string busy = BusyKey(t, Str(e->resource_id()), e->blocked_end_us(), Str(e->booking_id()));
      txn->Put(busy, json{{"start", e->blocked_start_us()}, {"end", e->blocked_end_us()}}.dump());
      txn->Put(Key(t, 'A', "k" + Str(e->booking_id())), busy);
      break;
    }
    case schema::Payload::BookingCancelled: {
      const std::string link = Key(t, 'A', "k" + Str(env.payload_as_BookingCancelled()->booking_id()));
      auto busy = txn->Get(link);
      if (!busy.ok()) return busy.status();
      if (busy->has_value()) {
        txn->Delete(**busy);
        txn->Delete(link);
      }
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
  switch (env.payload_type()) {
    case schema::Payload::TenantCreated:
      txn->Put(Key(t, 'B', "t"), Str(env.payload_as_TenantCreated()->time_zone()));
      break;
    case schema::Payload::BookingPlaced: {
      const auto* e = env.payload_as_BookingPlaced();
      auto z = zone();
      if (!z.ok()) return z.status();
      const std::string id = Str(e->booking_id());
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
                  {"status", "confirmed"},
                  {"channel", Str(e->channel())},
                  {"placed_at", FormatUtc(env.recorded_at_us())},
                  {"version", env.stream_version()},
                  {"history", json::array({history("placed")})}};
      std::string mth;
      if (e->manage_token_hash() != nullptr) {
        mth.assign(e->manage_token_hash()->begin(), e->manage_token_hash()->end());
      }
      txn->Put(Key(t, 'B', "b" + id), json{{"doc", doc}, {"mth", ToHex(mth)}}.dump());
      txn->Put(ByResourceKey(t, Str(e->resource_id()), e->start_us(), id), "");
      break;
    }
    case schema::Payload::BookingCancelled: {
      const auto* e = env.payload_as_BookingCancelled();
      const std::string key = Key(t, 'B', "b" + Str(e->booking_id()));
      auto rec = GetJson(txn, key);
      if (!rec.ok()) return rec.status();
      if (rec->is_null()) break;
      json& doc = (*rec)["doc"];
      doc["status"] = "cancelled";
      doc["version"] = env.stream_version();
      doc["cancelled_at"] = FormatUtc(env.recorded_at_us());
      json h = history("cancelled");
      h["by"] = Str(e->by());
      if (!Str(e->reason()).empty()) h["reason"] = Str(e->reason());
      doc["history"].push_back(std::move(h));
      txn->Put(key, rec->dump());
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
