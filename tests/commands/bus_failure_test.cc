// The CommandBus when the durable append fails: nothing is acknowledged, the
// tenant refuses further commands, and a restart rebuilds it from whatever
// the log holds.

#include <gtest/gtest.h>
#include <prometheus/registry.h>

#include <future>
#include <memory>
#include <string>

#include "commands/bus.h"
#include "ledger/database.h"
#include "ledger/rocks_log.h"
#include "ledger/verify.h"
#include "tests/commands/decide_fixture.h"
#include "tests/support/failing_env.h"
#include "tests/support/scratch_dir.h"

namespace saalbuch::commands {
namespace {

using testing_support::FailingEnv;
using testing_support::ScratchDir;

class BusFailureTest : public ::testing::Test {
 protected:
  void Open(rocksdb::Env* env) {
    bus_.reset();
    registry_.reset();
    log_.reset();
    db_.reset();
    ledger::DatabaseOptions opts;
    opts.env = env;
    auto db = ledger::Database::Open(dir_.Sub("db"), opts);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(db).value();
    log_ = std::make_unique<ledger::RocksLog>(db_.get());
    registry_ = std::make_unique<prometheus::Registry>();
    BusOptions bo;
    bo.clock = [] { return T("2026-03-02T08:00:00Z"); };
    bus_ = std::make_unique<CommandBus>(log_.get(), registry_.get(), std::move(bo));
    Status s = bus_->Start();
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  void TearDown() override {
    bus_.reset();
    registry_.reset();
    log_.reset();
    db_.reset();
  }

  Outcome Run(Command cmd, std::string idem = "") {
    Submission s;
    s.ctx.tenant = kTenant;
    s.ctx.actor = "key:admin";
    s.command = std::move(cmd);
    s.idempotency_key = idem;
    s.fingerprint = idem.empty() ? "" : "fp-" + idem;
    std::promise<Outcome> p;
    auto f = p.get_future();
    bus_->Submit(std::move(s), [&p](Outcome o) { p.set_value(std::move(o)); });
    return f.get();
  }

  static PlaceBooking Place(const std::string& id, const std::string& start, const std::string& end) {
    PlaceBooking p;
    p.id = BookingId(id);
    p.resource = ResourceId("saal");
    p.range = {T(start), T(end)};
    p.by_staff = true;
    return p;
  }

  ScratchDir dir_;
  FailingEnv env_;  // outlives the database
  std::unique_ptr<ledger::Database> db_;
  std::unique_ptr<ledger::RocksLog> log_;
  std::unique_ptr<prometheus::Registry> registry_;
  std::unique_ptr<CommandBus> bus_;
};

TEST_F(BusFailureTest, FailedAppendIsNotAcknowledgedAndTheTenantRefusesUntilRestart) {
  Open(&env_);
  ASSERT_EQ(Run(CreateTenant{kTenant, "Stadt", "Europe/Berlin", "admin", "secret"}).kind,
            Outcome::Kind::kCreated);
  ASSERT_EQ(Run(CreateResource{ResourceId("saal"), "room", "Saal", "", std::nullopt, 1, {}, {}}).kind,
            Outcome::Kind::kCreated);
  ASSERT_EQ(Run(Place("bk-1", "2026-03-04T09:00:00Z", "2026-03-04T10:00:00Z")).kind, Outcome::Kind::kCreated);

  env_.fail = true;
  Outcome failed = Run(Place("bk-2", "2026-03-04T11:00:00Z", "2026-03-04T12:00:00Z"), "idem-2");
  env_.fail = false;
  ASSERT_EQ(failed.kind, Outcome::Kind::kFailed) << failed.body.dump();
  EXPECT_EQ(failed.body.at("code"), "storage_failure");

  // The storage works again, but the tenant's model may be ahead of the
  // durable log: it takes nothing more until a restart.
  Outcome refused = Run(Place("bk-3", "2026-03-05T09:00:00Z", "2026-03-05T10:00:00Z"));
  ASSERT_EQ(refused.kind, Outcome::Kind::kFailed) << refused.body.dump();
  EXPECT_EQ(refused.body.at("code"), "tenant_unavailable");

  // Restart on the default Env: the model is rebuilt from the log.
  Open(nullptr);
  auto rep = ledger::VerifyChain(*log_, kTenant);
  ASSERT_TRUE(rep.ok());
  EXPECT_TRUE(rep->ok()) << rep->problem;
  const Seq head = log_->GetHead(kTenant)->seq;
  ASSERT_TRUE(head == 5 || head == 6) << head;  // nothing or everything of bk-2

  // The retry with the same key is answered consistently with the log:
  // replayed if bk-2 reached the disk, decided afresh otherwise.
  Outcome retry = Run(Place("bk-2", "2026-03-04T11:00:00Z", "2026-03-04T12:00:00Z"), "idem-2");
  ASSERT_EQ(retry.kind, Outcome::Kind::kCreated) << retry.body.dump();
  EXPECT_EQ(retry.replayed, head == 6);
  EXPECT_EQ(Run(Place("bk-4", "2026-03-04T11:30:00Z", "2026-03-04T12:30:00Z")).body.at("code"),
            "booking_conflict");
  EXPECT_EQ(Run(Place("bk-3", "2026-03-05T09:00:00Z", "2026-03-05T10:00:00Z")).kind, Outcome::Kind::kCreated);
}

}  // namespace
}  // namespace saalbuch::commands
