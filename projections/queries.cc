#include <algorithm>
#include <map>

#include "common/crypto.h"
#include "common/time.h"
#include "common/time_json.h"
#include "projections/fold_internal.h"
#include "projections/keys_internal.h"
#include "projections/projections.h"

namespace saalbuch::projections {

using nlohmann::json;

namespace {

constexpr TimeUs kMaxWindow = 62LL * 24 * 3600 * kUsPerSecond;

Status NotFound(std::string what) { return {StatusCode::kNotFound, "no such " + std::move(what)}; }

Result<json> GetDoc(const KvView& kv, const std::string& key, const char* what) {
  auto v = kv.Get(key);
  if (!v.ok()) return v.status();
  if (!v->has_value()) return NotFound(what);
  auto j = json::parse(**v, nullptr, false);
  if (j.is_discarded()) return Status(StatusCode::kCorruption, std::string(what) + " document is not JSON");
  return j;
}

}  // namespace

Result<json> QueryTenant(const KvView& kv, const TenantId& tenant) {
  auto doc = GetDoc(kv, Key(tenant, 'C', "t"), "tenant");
  // The document gets `public` with the first PublicSettingsSet; before,
  // the defaults (kept out of the stored document, which therefore stays
  // what older builds folded: no rebuild of the catalog).
  if (doc.ok() && !doc->contains("public")) (*doc)["public"] = PublicJson(nullptr, 0);
  return doc;
}

Result<json> QueryResources(const KvView& kv, const TenantId& tenant, std::size_t limit,
                            std::string_view cursor) {
  auto t = QueryTenant(kv, tenant);
  if (!t.ok()) return t.status();
  json items = json::array();
  const std::string prefix = Key(tenant, 'C', "r");
  std::string from = prefix;
  if (!cursor.empty()) {
    // The cursor is the last resource id of the previous page.
    if (!IsValidSlug(cursor)) return Status(StatusCode::kInvalidArgument, "malformed cursor");
    from = prefix + std::string(cursor) + '\0';
  }
  bool corrupt = false, more = false;
  std::string last;
  Status s = kv.Scan(from, PrefixEnd(prefix), [&](std::string_view k, std::string_view v) {
    if (items.size() == limit) {
      more = true;
      return false;
    }
    auto j = json::parse(v, nullptr, false);
    corrupt = corrupt || j.is_discarded();
    if (!j.is_discarded()) items.push_back(std::move(j));
    last.assign(k.substr(prefix.size()));
    return true;
  });
  if (!s.ok()) return s;
  if (corrupt) return Status(StatusCode::kCorruption, "resource document is not JSON");
  return json{{"items", items}, {"next_cursor", more ? json(last) : json(nullptr)}};
}

Result<json> QueryResource(const KvView& kv, const TenantId& tenant, const ResourceId& id) {
  if (!IsValidSlug(id.get())) return NotFound("resource");
  auto doc = GetDoc(kv, Key(tenant, 'C', "r" + id.get()), "resource");
  if (!doc.ok()) return doc;
  auto addons = QueryList(kv, tenant, 'a');
  if (!addons.ok()) return addons.status();
  json offered = json::array();
  for (const auto& a : *addons) {
    for (const auto& o : a.at("offers")) {
      if (o.at("resource") == id.get()) {
        offered.push_back({{"id", a.at("id")}, {"name", a.at("name")}, {"mandatory", o.at("mandatory")}});
      }
    }
  }
  (*doc)["addons"] = offered;
  return doc;
}

Result<json> QueryList(const KvView& kv, const TenantId& tenant, char kind) {
  json items = json::array();
  const std::string prefix = Key(tenant, 'C', std::string(1, kind));
  bool corrupt = false;
  Status s = kv.Scan(prefix, PrefixEnd(prefix), [&](std::string_view, std::string_view v) {
    auto j = json::parse(v, nullptr, false);
    corrupt = corrupt || j.is_discarded();
    if (!j.is_discarded()) items.push_back(std::move(j));
    return items.size() < 10000;
  });
  if (!s.ok()) return s;
  if (corrupt) return Status(StatusCode::kCorruption, "catalog document is not JSON");
  return items;
}

Result<std::vector<json>> QueryOutbox(const KvView& kv, const TenantId& tenant, TimeUs now,
                                      std::size_t limit) {
  std::vector<json> out;
  const std::string prefix = Key(tenant, 'O', "q");
  bool corrupt = false;
  Status s = kv.Scan(prefix, PrefixEnd(prefix), [&](std::string_view, std::string_view v) {
    auto j = json::parse(v, nullptr, false);
    if (j.is_discarded()) {
      corrupt = true;
      return false;
    }
    if (j.value("due", TimeUs{0}) <= now) out.push_back(std::move(j));
    return out.size() < limit;
  });
  if (!s.ok()) return s;
  if (corrupt) return Status(StatusCode::kCorruption, "outbox entry is not JSON");
  return out;
}

Result<json> QueryCheckpoint(const KvView& kv, const TenantId& tenant) {
  return GetDoc(kv, Key(tenant, 'C', "k"), "checkpoint");
}

Result<json> QueryCustomer(const KvView& kv, const TenantId& tenant, const std::string& id) {
  if (id.empty() || id.size() > 64 || id.find('/') != std::string::npos) return NotFound("customer");
  return GetDoc(kv, Key(tenant, 'C', "u" + id), "customer");
}

Result<BookingView> QueryBooking(const KvView& kv, const TenantId& tenant, const BookingId& id) {
  if (id.get().empty() || id.get().size() > 64) return NotFound("booking");
  auto rec = GetDoc(kv, Key(tenant, 'B', "b" + id.get()), "booking");
  if (!rec.ok()) return rec.status();
  return BookingView{rec->at("doc"), FromHex(rec->value("mth", "")).value_or("")};
}

Result<std::vector<nlohmann::json>> QueryPersonBookings(const KvView& kv, const TenantId& tenant,
                                                        const std::string& person, std::size_t limit) {
  std::vector<json> out;
  if (person.empty() || person.size() > 64 || person.find('/') != std::string::npos) return out;
  const std::string prefix = Key(tenant, 'B', Cat("p", person) + "/");
  std::vector<std::string> ids;
  Status s = kv.Scan(prefix, PrefixEnd(prefix), [&](std::string_view k, std::string_view) {
    ids.emplace_back(k.substr(prefix.size()));
    return ids.size() < limit;
  });
  if (!s.ok()) return s;
  for (const auto& id : ids) {
    auto b = QueryBooking(kv, tenant, BookingId(id));
    if (!b.ok()) return b.status();
    out.push_back(std::move(b->doc));
  }
  return out;
}

Result<std::vector<RetentionPerson>> QueryRetention(const KvView& kv, const TenantId& tenant) {
  const std::string prefix = Key(tenant, 'B', "p");
  std::vector<std::pair<std::string, std::string>> pairs;  // person, booking
  Status s = kv.Scan(prefix, PrefixEnd(prefix), [&](std::string_view k, std::string_view) {
    const std::string_view rest = k.substr(prefix.size());
    const auto slash = rest.find('/');
    if (slash != std::string_view::npos) pairs.emplace_back(rest.substr(0, slash), rest.substr(slash + 1));
    return true;
  });
  if (!s.ok()) return s;
  std::vector<RetentionPerson> out;
  bool erased = false;
  for (const auto& [person, id] : pairs) {
    if (out.empty() || out.back().person != person) {
      if (!out.empty() && erased) out.pop_back();
      out.push_back({person, 0, 0, false});
      erased = false;
    }
    auto b = QueryBooking(kv, tenant, BookingId(id));
    if (!b.ok()) return b.status();
    const json& doc = b->doc;
    RetentionPerson& p = out.back();
    ++p.bookings;
    erased = erased || doc.value("contact_erased", false);
    auto end = ParseRfc3339(doc.value("end", ""));
    if (!end.ok()) return end.status();
    TimeUs last = *end;
    const std::string status = doc.value("status", "");
    if (status == "cancelled" || status == "rejected" || status == "expired") {
      if (auto at = ParseRfc3339(doc.value(status + "_at", "")); at.ok()) last = std::min(last, *at);
    }
    p.last = std::max(p.last, last);
    auto inv = QueryFinanceDoc(kv, tenant, 'i', "inv-" + id);
    if (inv.ok() && inv->value("open", std::int64_t{0}) != 0) p.open_invoice = true;
  }
  if (!out.empty() && erased) out.pop_back();
  return out;
}

Result<json> QueryBookings(const KvView& kv, const TenantId& tenant, const BookingFilter& f,
                           std::size_t limit, std::string_view cursor) {
  constexpr std::size_t kMaxScanned = 5000;  // per page, so a rare filter cannot make a page unbounded
  if (f.window.empty()) return Status(StatusCode::kInvalidArgument, "'to' must be after 'from'");
  std::string prefix;
  if (!f.customer.empty()) {
    if (f.customer.size() > 64 || f.customer.find('/') != std::string::npos) return NotFound("customer");
    prefix = ByCustomerPrefix(tenant, f.customer);
  } else if (!f.resource.empty()) {
    auto res = QueryResource(kv, tenant, ResourceId(f.resource));
    if (!res.ok()) return res.status();
    prefix = ByResourcePrefix(tenant, f.resource);
  } else {
    prefix = Key(tenant, 'B', "s");
  }
  std::string from = prefix, to = prefix;
  AppendTime(&from, f.window.start);
  AppendTime(&to, f.window.end);
  if (!cursor.empty()) {
    // The cursor is the hex of the last scanned key's suffix; continue after it.
    auto suffix = FromHex(cursor);
    if (!suffix) return Status(StatusCode::kInvalidArgument, "malformed cursor");
    std::string after = prefix + *suffix;
    if (after.size() <= prefix.size() + 8 || after < from) {
      return Status(StatusCode::kInvalidArgument, "malformed cursor");
    }
    from = after + '\0';
  }
  json items = json::array();
  std::string last;
  bool more = false;
  std::size_t scanned = 0;
  Status failure;
  Status s = kv.Scan(from, to, [&](std::string_view k, std::string_view) {
    if (items.size() == limit || scanned == kMaxScanned) {
      more = true;
      return false;
    }
    ++scanned;
    last.assign(k.substr(prefix.size()));
    std::string id(k.substr(prefix.size() + 8));
    auto b = QueryBooking(kv, tenant, BookingId(id));
    if (!b.ok()) {
      failure = b.status();
      return false;
    }
    const json& d = b->doc;
    if ((!f.status.empty() && d.value("status", "") != f.status) ||
        (!f.resource.empty() && d.value("resource", "") != f.resource) ||
        (!f.customer.empty() && d.value("customer", "") != f.customer)) {
      return true;
    }
    items.push_back(std::move(b->doc));
    return true;
  });
  if (!s.ok()) return s;
  if (!failure.ok()) return failure;
  return json{{"items", items}, {"next_cursor", more ? json(ToHex(last)) : json(nullptr)}};
}

Result<json> QueryResourceBookings(const KvView& kv, const TenantId& tenant, const ResourceId& resource,
                                   TimeRange window, std::size_t limit, std::string_view cursor) {
  BookingFilter f;
  f.resource = resource.get();
  f.window = window;
  return QueryBookings(kv, tenant, f, limit, cursor);
}

}  // namespace saalbuch::projections
