// A real ledger in a scratch directory written the way the command side does
// it: Decide against a per-tenant TenantModel, RocksLog::Append of the
// accepted events, then TenantModel::Apply with the seqs the log assigned.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "commands/commands.h"
#include "common/crypto.h"
#include "common/time.h"
#include "ledger/database.h"
#include "ledger/rocks_log.h"
#include "projections/projections.h"
#include "projections/store.h"
#include "tests/support/scratch_dir.h"
#include "tests/support/times.h"

namespace saalbuch::projections {

using testing_support::kDay;
using testing_support::kHour;
using testing_support::T;

// Hex of a key, readable in failure messages.
// The tenant every projection test writes to.
inline const TenantId kTenant("stadt");

inline std::string Printable(std::string_view bytes) {
  std::string out;
  for (unsigned char c : bytes) {
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out.push_back(static_cast<char>(c));
    } else {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xf]);
    }
  }
  return out;
}

// Byte-for-byte equality of two key/value maps, reporting the first
// difference readably.
inline ::testing::AssertionResult SameKeys(const std::map<std::string, std::string>& live,
                                           const std::map<std::string, std::string>& replay) {
  auto a = live.begin();
  auto b = replay.begin();
  for (; a != live.end() && b != replay.end(); ++a, ++b) {
    if (a->first != b->first) {
      return ::testing::AssertionFailure()
             << "key differs: live '" << Printable(a->first) << "' vs replay '" << Printable(b->first) << "'";
    }
    if (a->second != b->second) {
      return ::testing::AssertionFailure() << "value of '" << Printable(a->first) << "' differs:\n live   "
                                           << Printable(a->second) << "\n replay " << Printable(b->second);
    }
  }
  if (a != live.end())
    return ::testing::AssertionFailure() << "only live has '" << Printable(a->first) << "'";
  if (b != replay.end())
    return ::testing::AssertionFailure() << "only replay has '" << Printable(b->first) << "'";
  return ::testing::AssertionSuccess() << live.size() << " keys equal";
}

class ProjectionFixture : public ::testing::Test {
 protected:
  void SetUp() override { OpenDb(); }

  void OpenDb() {
    auto db = ledger::Database::Open(dir_.Sub("db"), {});
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(db).value();
    log_ = std::make_unique<ledger::RocksLog>(db_.get());
  }

  // Decides `cmd` for `tenant`; when accepted, appends its events durably and
  // folds them into the tenant's write model. Returns the decision.
  commands::Decision Do(const std::string& tenant, const commands::Command& cmd, TimeUs now,
                        const std::string& actor = "key:admin") {
    commands::TenantModel& model = models_[tenant];
    commands::Context ctx;
    ctx.tenant = TenantId(tenant);
    ctx.now = now;
    ctx.actor = actor;
    ctx.command_id = "cmd-" + std::to_string(++commands_);
    ctx.correlation_id = ctx.command_id;
    commands::Decision d = commands::Decide(model, ctx, cmd);
    auto* a = std::get_if<commands::Acceptance>(&d);
    if (a == nullptr || a->events.empty()) return d;
    auto r = log_->Append(TenantId(tenant), a->events, {});  // a copy: the drafts stay for Apply
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (!r.ok()) return d;
    for (std::size_t i = 0; i < a->events.size(); ++i) {
      model.Apply(r->first + i, a->events[i].stream_version, a->events[i].recorded_at, a->events[i].payload);
    }
    if (on_append_) on_append_(TenantId(tenant), r->head.seq);
    return d;
  }

  // Like Do, but the command must be accepted.
  commands::Acceptance MustDo(const std::string& tenant, const commands::Command& cmd, TimeUs now,
                              const std::string& actor = "key:admin") {
    commands::Decision d = Do(tenant, cmd, now, actor);
    if (auto* r = std::get_if<commands::Rejection>(&d)) {
      ADD_FAILURE() << commands::CommandName(cmd) << " refused: " << r->code << " " << r->details.dump();
      return {};
    }
    return std::get<commands::Acceptance>(std::move(d));
  }

  void MakeTenant(const std::string& tenant, const std::string& zone, TimeUs now) {
    MustDo(tenant,
           commands::CreateTenant{TenantId(tenant), "Tenant " + tenant, zone, "admin", "admin-" + tenant},
           now, "operator");
  }

  void MakeRoom(const std::string& tenant, const std::string& id, std::optional<commands::Rules> rules,
                TimeUs now) {
    MustDo(tenant,
           commands::CreateResource{ResourceId(id), "room", "Room " + id, "", std::move(rules), 1, {}, {}},
           now);
  }

  static commands::PlaceBooking Place(const std::string& id, const std::string& resource, TimeUs start,
                                      TimeUs end, bool by_staff = false) {
    commands::PlaceBooking p;
    p.id = BookingId(id);
    p.resource = ResourceId(resource);
    p.range = {start, end};
    p.by_staff = by_staff;
    if (!by_staff) p.manage_token = "token-" + id;
    return p;
  }

  // Folds the tenant's whole log into a fresh MemoryStore.
  std::unique_ptr<MemoryStore> Replay(const std::string& tenant, Seq upto = 0) {
    auto store = std::make_unique<MemoryStore>();
    Status s = FoldInto(store.get(), *log_, TenantId(tenant), upto);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return store;
  }

  std::map<std::string, std::string> Keys(const KvView& kv, const std::string& tenant) {
    auto k = TenantKeys(kv, TenantId(tenant));
    EXPECT_TRUE(k.ok()) << k.status().ToString();
    return k.ok() ? *k : std::map<std::string, std::string>{};
  }

  Seq Head(const std::string& tenant) {
    auto h = log_->GetHead(TenantId(tenant));
    EXPECT_TRUE(h.ok());
    return h.ok() ? h->seq : 0;
  }

  testing_support::ScratchDir dir_;
  std::unique_ptr<ledger::Database> db_;
  std::unique_ptr<ledger::RocksLog> log_;
  std::map<std::string, commands::TenantModel> models_;
  std::function<void(const TenantId&, Seq)> on_append_;
  int commands_ = 0;
};

}  // namespace saalbuch::projections
