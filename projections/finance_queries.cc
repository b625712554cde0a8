// Queries of the finance projection ('F'; key grammar in README.md).
#include <algorithm>

#include "common/crypto.h"
#include "common/money.h"
#include "projections/keys_internal.h"
#include "projections/projections.h"

namespace saalbuch::projections {

using nlohmann::json;

namespace {

constexpr std::size_t kMaxScan = 100000;

Result<json> GetDoc(const KvView& kv, const std::string& key) {
  auto v = kv.Get(key);
  if (!v.ok()) return v.status();
  if (!v->has_value()) return Status(StatusCode::kNotFound, "not found");
  auto j = json::parse(**v, nullptr, false);
  if (j.is_discarded()) return Status(StatusCode::kCorruption, "finance document is not JSON");
  return j;
}

// Every document under `prefix` (at most kMaxScan), through `fn`.
Status ScanDocs(const KvView& kv, const std::string& prefix,
                const std::function<bool(std::string_view, json)>& fn) {
  bool corrupt = false;
  std::size_t n = 0;
  Status s = kv.Scan(prefix, PrefixEnd(prefix), [&](std::string_view k, std::string_view v) {
    auto j = json::parse(v, nullptr, false);
    if (j.is_discarded()) {
      corrupt = true;
      return false;
    }
    return fn(k.substr(prefix.size()), std::move(j)) && ++n < kMaxScan;
  });
  if (!s.ok()) return s;
  if (corrupt) return Status(StatusCode::kCorruption, "finance document is not JSON");
  return Status::Ok();
}

// A page of documents after the hex-encoded key suffix `cursor`.
Result<json> Page(const KvView& kv, const std::string& prefix, std::size_t limit, std::string_view cursor,
                  const std::function<bool(const json&)>& keep = {}) {
  std::string from = prefix;
  if (!cursor.empty()) {
    auto raw = FromHex(cursor);
    if (!raw) return Status(StatusCode::kInvalidArgument, "malformed cursor");
    from = prefix + *raw + '\0';
  }
  json items = json::array();
  bool corrupt = false, more = false;
  std::string last;
  Status s = kv.Scan(from, PrefixEnd(prefix), [&](std::string_view k, std::string_view v) {
    auto j = json::parse(v, nullptr, false);
    if (j.is_discarded()) {
      corrupt = true;
      return false;
    }
    if (keep && !keep(j)) return true;
    if (items.size() == limit) {
      more = true;
      return false;
    }
    items.push_back(std::move(j));
    last.assign(k.substr(prefix.size()));
    return true;
  });
  if (!s.ok()) return s;
  if (corrupt) return Status(StatusCode::kCorruption, "finance document is not JSON");
  return json{{"items", items}, {"next_cursor", more ? json(ToHex(last)) : json(nullptr)}};
}

}  // namespace

Result<json> QueryFinanceSettings(const KvView& kv, const TenantId& tenant) {
  return GetDoc(kv, Key(tenant, 'F', "s"));
}

Result<json> QueryFinanceDoc(const KvView& kv, const TenantId& tenant, char kind, const std::string& id) {
  return GetDoc(kv, Key(tenant, 'F', std::string(1, kind) + id));
}

Result<json> QueryDocumentNumber(const KvView& kv, const TenantId& tenant, const std::string& number) {
  return GetDoc(kv, Key(tenant, 'F', "n" + number));
}

Result<json> QueryFinanceBooking(const KvView& kv, const TenantId& tenant, const std::string& booking) {
  return GetDoc(kv, Key(tenant, 'F', "k" + booking));
}

Result<json> QueryFinanceList(const KvView& kv, const TenantId& tenant, char kind, std::size_t limit,
                              std::string_view cursor) {
  return Page(kv, Key(tenant, 'F', std::string(1, kind)), limit, cursor);
}

Result<json> QueryJournal(const KvView& kv, const TenantId& tenant, const std::string& from,
                          const std::string& to, std::size_t limit, std::string_view cursor) {
  return Page(kv, Key(tenant, 'F', "j"), limit, cursor, [&](const json& e) {
    const std::string d = e.value("date", "");
    return (from.empty() || d >= from) && (to.empty() || d <= to);
  });
}

Result<json> QueryBalances(const KvView& kv, const TenantId& tenant) {
  json accounts = json::array();
  std::int64_t total = 0, debit = 0, credit = 0;
  bool overflow = false;
  Status s = ScanDocs(kv, Key(tenant, 'F', "b"), [&](std::string_view, json b) {
    const std::int64_t d = b["debit"].get<std::int64_t>(), c = b["credit"].get<std::int64_t>();
    std::int64_t balance = 0;
    if (!CheckedSub(d, c, &balance) || !CheckedAdd(total, balance, &total) || !CheckedAdd(debit, d, &debit) ||
        !CheckedAdd(credit, c, &credit)) {
      overflow = true;
      return false;
    }
    b["balance"] = balance;
    accounts.push_back(std::move(b));
    return true;
  });
  if (!s.ok()) return s;
  if (overflow) return Status(StatusCode::kCorruption, "the account balances overflow");
  return json{{"accounts", accounts}, {"debit", debit}, {"credit", credit}, {"trial_balance", total}};
}

Result<json> QueryOpenItems(const KvView& kv, const TenantId& tenant, const std::string& customer) {
  std::vector<json> items;
  Status failed;
  Status s = ScanDocs(kv, Key(tenant, 'F', "o"), [&](std::string_view id, const json&) {
    auto inv = GetDoc(kv, Key(tenant, 'F', "i" + std::string(id)));
    if (!inv.ok()) {
      failed = inv.status();
      return false;
    }
    if (!customer.empty() && inv->value("customer", "") != customer) return true;
    json item = {{"invoice", (*inv)["id"]},
                 {"number", (*inv)["number"]},
                 {"customer", (*inv)["customer"]},
                 {"booking", (*inv)["booking"]},
                 {"kassenzeichen", (*inv)["kassenzeichen"]},
                 {"due", (*inv)["due"]},
                 {"gross", (*inv)["gross"]},
                 {"open", (*inv)["open"]},
                 {"status", (*inv)["status"]},
                 {"currency", (*inv)["currency"]}};
    // Sealed; the HTTP layer opens it (Edge::RevealRecipient).
    for (const char* k : {"recipient_key", "recipient_sealed"}) {
      if (inv->contains(k)) item[k] = (*inv)[k];
    }
    items.push_back(std::move(item));
    return true;
  });
  if (!s.ok()) return s;
  if (!failed.ok()) return failed;
  std::stable_sort(items.begin(), items.end(), [](const json& a, const json& b) {
    return a["due"].get<std::string>() < b["due"].get<std::string>();
  });
  std::int64_t total = 0;
  for (const auto& i : items) {
    if (!CheckedAdd(total, i["open"].get<std::int64_t>(), &total)) {
      return Status(StatusCode::kCorruption, "the open items overflow");
    }
  }
  return json{{"items", items}, {"total_open", total}};
}

Result<json> QueryRevenue(const KvView& kv, const TenantId& tenant, const std::string& from,
                          const std::string& to) {
  json items = json::array();
  Status s = ScanDocs(kv, Key(tenant, 'F', "m"), [&](std::string_view, json r) {
    const std::string month = r["month"].get<std::string>();
    if ((from.empty() || month >= from) && (to.empty() || month <= to)) items.push_back(std::move(r));
    return true;
  });
  if (!s.ok()) return s;
  return json{{"items", items}};
}

Result<json> QueryReconciliation(const KvView& kv, const TenantId& tenant) {
  json imports = json::array(), matches = json::array(), differences = json::array(),
       duplicates = json::array();
  json unsettled = json::array(), payouts_open = json::array(), bank_unmatched = json::array();
  Status s = ScanDocs(kv, Key(tenant, 'F', "x"), [&](std::string_view, json x) {
    for (const auto& d : x.value("duplicates", json::array())) {
      json dd = d;
      dd["import"] = x["import"];
      duplicates.push_back(std::move(dd));
    }
    imports.push_back(std::move(x));
    return true;
  });
  if (s.ok()) {
    s = ScanDocs(kv, Key(tenant, 'F', "z"), [&](std::string_view, json z) {
      if (z["difference"].get<std::int64_t>() != 0) differences.push_back(z);
      matches.push_back(std::move(z));
      return true;
    });
  }
  if (s.ok()) {
    s = ScanDocs(kv, Key(tenant, 'F', "p"), [&](std::string_view, json p) {
      if (p["method"] == "provider" && p["settled_in"].get<std::string>().empty()) {
        unsettled.push_back(
            {{"payment", p["ref"]}, {"invoice_number", p["invoice_number"]}, {"amount", p["amount"]}});
      }
      return true;
    });
  }
  if (s.ok()) {
    s = ScanDocs(kv, Key(tenant, 'F', "w"), [&](std::string_view, json w) {
      if (w["bank_line"].get<std::string>().empty()) payouts_open.push_back(std::move(w));
      return true;
    });
  }
  if (s.ok()) {
    s = ScanDocs(kv, Key(tenant, 'F', "y"), [&](std::string_view, json y) {
      if (y["matched"].get<std::string>().empty()) bank_unmatched.push_back(std::move(y));
      return true;
    });
  }
  if (!s.ok()) return s;
  return json{{"imports", imports},
              {"matched", matches},
              {"differences", differences},
              {"duplicates", duplicates},
              {"unmatched",
               {{"payments_without_payout", unsettled},
                {"payouts_without_bank_line", payouts_open},
                {"bank_lines", bank_unmatched}}}};
}

Result<std::vector<json>> QueryPendingRefunds(const KvView& kv, const TenantId& tenant, std::size_t limit) {
  std::vector<json> out;
  Status s = ScanDocs(kv, Key(tenant, 'F', "q"), [&](std::string_view, json q) {
    out.push_back(std::move(q));
    return out.size() < limit;
  });
  if (!s.ok()) return s;
  return out;
}

}  // namespace saalbuch::projections
