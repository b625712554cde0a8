// The command bus with write-model snapshots over a real RocksLog: it stores
// them every N records and at shutdown, starts from the newest one that
// matches the log, and falls back (to an older one, then to the whole log)
// when a snapshot is damaged or of an unknown format. Whatever it started
// from, it decides as the folded model would: a slot taken before the
// restart stays taken. A snapshot beyond the head or with another chain
// hash than the log's record is an integrity alarm: the tenant is held
// until the operator accepts its log (BusOptions::accept_log).

#include <gtest/gtest.h>
#include <prometheus/registry.h>

#include <future>
#include <memory>

#include "commands/bus.h"
#include "commands/snapshot.h"
#include "ledger/database.h"
#include "ledger/keys.h"
#include "ledger/rocks_log.h"
#include "tests/commands/decide_fixture.h"
#include "tests/support/scratch_dir.h"

namespace saalbuch::commands {
namespace {

using testing_support::ScratchDir;

const TenantId kOther("dorf");
constexpr int kBookings = 60;

class SnapshotBusTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = ledger::Database::Open(dir_.Sub("db"), {});
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(db).value();
    log_ = std::make_unique<ledger::RocksLog>(db_.get());
  }
  void TearDown() override { StopBus(); }

  void StartBus(std::uint64_t snapshot_every = 40, std::set<std::string> accept_log = {}) {
    registry_ = std::make_unique<prometheus::Registry>();
    BusOptions o;
    o.writer_threads = 2;
    o.clock = [] { return T("2026-03-02T08:00:00Z"); };
    o.snapshot_every = snapshot_every;
    o.accept_log = std::move(accept_log);
    bus_ = std::make_unique<CommandBus>(log_.get(), registry_.get(), o);
    Status s = bus_->Start();
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  void StopBus() { bus_.reset(); }

  Outcome Run(const TenantId& tenant, Command cmd) {
    Submission s;
    s.ctx.tenant = tenant;
    s.ctx.actor = "key:admin";
    s.command = std::move(cmd);
    return bus_->SubmitAndWait(std::move(s));
  }

  static PlaceBooking Place(int i) {
    PlaceBooking p;
    p.id = BookingId("bk-" + std::to_string(i));
    p.resource = ResourceId("saal");
    const TimeUs start = T("2026-03-10T00:00:00Z") + i * kHour;
    p.range = {start, start + kHour};
    p.by_staff = true;
    return p;
  }

  // A tenant with a room and `bookings` bookings of consecutive hours.
  void Fill(const TenantId& tenant, int bookings) {
    ASSERT_EQ(Run(tenant, CreateTenant{tenant, "T", "Europe/Berlin", "admin", "secret"}).kind,
              Outcome::Kind::kCreated);
    ASSERT_EQ(
        Run(tenant, CreateResource{ResourceId("saal"), "room", "Saal", "", std::nullopt, 1, {}, {}}).kind,
        Outcome::Kind::kCreated);
    for (int i = 0; i < bookings; ++i) ASSERT_EQ(Run(tenant, Place(i)).kind, Outcome::Kind::kCreated) << i;
  }

  // After a restart: every booked hour is still taken, a free one is not,
  // and the log goes on right after its head.
  void ExpectDecidesLikeTheLog(const TenantId& tenant, int bookings) {
    const Seq head = log_->GetHead(tenant)->seq;
    for (int i : {0, bookings / 2, bookings - 1}) {
      PlaceBooking again = Place(i);
      again.id = BookingId("again-" + std::to_string(i));
      Outcome o = Run(tenant, again);
      ASSERT_EQ(o.kind, Outcome::Kind::kRejected) << i << ": " << o.body.dump();
      EXPECT_EQ(o.body["code"], "booking_conflict");
    }
    Outcome free = Run(tenant, Place(bookings));
    ASSERT_EQ(free.kind, Outcome::Kind::kCreated) << free.body.dump();
    EXPECT_EQ(free.position, head + 1);
  }

  double Metric(const std::string& name, const std::string& result) const {
    for (const auto& family : registry_->Collect()) {
      if (family.name != name) continue;
      for (const auto& m : family.metric) {
        for (const auto& l : m.label) {
          if (l.name == "result" && l.value == result) return m.counter.value;
        }
      }
    }
    return 0;
  }
  double Loaded() const { return Metric("saalbuch_snapshot_loads_total", "loaded"); }
  double Rejected() const { return Metric("saalbuch_snapshot_loads_total", "rejected"); }

  // Rewrites the stored snapshot at `seq` with `edit` applied to its bytes.
  void Tamper(const TenantId& tenant, Seq seq, const std::function<void(std::string*)>& edit) {
    auto bytes = log_->GetSnapshot(tenant, seq);
    ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
    edit(&*bytes);
    ASSERT_TRUE(log_->PutSnapshot(tenant, seq, *bytes, 10).ok());
  }

  ScratchDir dir_;
  std::unique_ptr<ledger::Database> db_;
  std::unique_ptr<ledger::RocksLog> log_;
  std::unique_ptr<prometheus::Registry> registry_;
  std::unique_ptr<CommandBus> bus_;
};

TEST_F(SnapshotBusTest, WrittenEveryNRecordsAndAtShutdownThenLoadedAtStart) {
  StartBus();
  ASSERT_NO_FATAL_FAILURE(Fill(kTenant, kBookings));
  EXPECT_GE(Metric("saalbuch_snapshot_writes_total", "ok"), 1) << "none after 40 records";
  const Seq head = log_->GetHead(kTenant)->seq;
  StopBus();
  auto seqs = log_->SnapshotSeqs(kTenant);
  ASSERT_TRUE(seqs.ok());
  ASSERT_EQ(seqs->size(), 2u) << "two are kept";
  EXPECT_EQ(seqs->front(), head) << "the shutdown's";
  EXPECT_LT(seqs->back(), head);

  StartBus();
  EXPECT_EQ(Loaded(), 1);
  EXPECT_EQ(Rejected(), 0);
  ExpectDecidesLikeTheLog(kTenant, kBookings);
}

TEST_F(SnapshotBusTest, DamagedNewestFallsBackToTheOlderThenToTheWholeLog) {
  StartBus();
  ASSERT_NO_FATAL_FAILURE(Fill(kTenant, kBookings));
  StopBus();
  const auto seqs = *log_->SnapshotSeqs(kTenant);
  ASSERT_EQ(seqs.size(), 2u);
  Tamper(kTenant, seqs[0], [](std::string* b) { (*b)[b->size() - 3] ^= 0x40; });
  StartBus();
  EXPECT_EQ(Rejected(), 1);
  EXPECT_EQ(Loaded(), 1) << "the older snapshot";
  ExpectDecidesLikeTheLog(kTenant, kBookings);
  StopBus();  // stores a fresh one

  // Now every snapshot is damaged: the whole log is folded.
  const auto all = *log_->SnapshotSeqs(kTenant);
  for (Seq s : all) {
    Tamper(kTenant, s, [](std::string* b) { (*b)[b->size() / 2] ^= 0x01; });
  }
  StartBus();
  EXPECT_EQ(Loaded(), 0);
  EXPECT_EQ(Rejected(), 2);
  ExpectDecidesLikeTheLog(kTenant, kBookings + 1);
}

TEST_F(SnapshotBusTest, UnknownFormatIsIgnored) {
  StartBus();
  ASSERT_NO_FATAL_FAILURE(Fill(kTenant, kBookings));
  StopBus();
  const auto seqs = *log_->SnapshotSeqs(kTenant);
  for (Seq s : seqs) {
    Tamper(kTenant, s, [](std::string* b) { (*b)[4] = static_cast<char>(kSnapshotFormat + 1); });
  }
  StartBus();
  EXPECT_EQ(Loaded(), 0);
  EXPECT_EQ(Rejected(), 2);
  ExpectDecidesLikeTheLog(kTenant, kBookings);
}

// The long tenant's snapshots copied to the short one (kOther): the newest
// lies beyond its head; one at its head has another chain hash.
class SnapshotOfAnotherLogTest : public SnapshotBusTest {
 protected:
  void SetUp() override {
    SnapshotBusTest::SetUp();
    ASSERT_NO_FATAL_FAILURE(CopySnapshots());
  }
  void CopySnapshots() {
    StartBus();
    ASSERT_NO_FATAL_FAILURE(Fill(kTenant, kBookings));
    ASSERT_NO_FATAL_FAILURE(Fill(kOther, kBookings / 3));
    StopBus();
    head_ = log_->GetHead(kTenant)->seq;
    other_head_ = log_->GetHead(kOther)->seq;
    ASSERT_GT(head_, other_head_);
    auto newest = log_->GetSnapshot(kTenant, head_);
    ASSERT_TRUE(newest.ok());
    ASSERT_TRUE(log_->PutSnapshot(kOther, head_, *newest, 10).ok());
    TenantModel early;
    Sha256 early_hash{};
    ASSERT_TRUE(FoldLog(*log_, kTenant, other_head_, &early, &early_hash).ok());
    ASSERT_TRUE(log_->PutSnapshot(kOther, other_head_, EncodeSnapshot(early, early_hash), 10).ok());
    ASSERT_EQ(*log_->SnapshotSeqs(kOther), (std::vector<Seq>{head_, other_head_}));
  }
  Seq head_ = 0, other_head_ = 0;
};

TEST_F(SnapshotOfAnotherLogTest, HoldsTheTenantNamingThePositionAndKeepsTheEvidence) {
  StartBus();
  EXPECT_EQ(Loaded(), 1) << "kTenant loads its own";
  EXPECT_FALSE(bus_->Hold(kTenant).has_value());
  const auto hold = bus_->Hold(kOther);
  ASSERT_TRUE(hold.has_value());
  EXPECT_EQ(hold->code, "integrity_alarm");
  EXPECT_EQ(hold->position, other_head_ + 1) << "the newest snapshot: records after the head are gone";
  EXPECT_NE(hold->message.find("are gone"), std::string::npos) << hold->message;
  EXPECT_EQ(bus_->Holds().size(), 1u);
  // The held tenant decides nothing; the other is served as before.
  Outcome refused = Run(kOther, Place(kBookings));
  EXPECT_EQ(refused.kind, Outcome::Kind::kFailed);
  EXPECT_EQ(refused.body["code"], "integrity_alarm") << refused.body.dump();
  ExpectDecidesLikeTheLog(kTenant, kBookings);
  StopBus();
  // No snapshot replaced the evidence at shutdown: held again at the next start.
  EXPECT_EQ(*log_->SnapshotSeqs(kOther), (std::vector<Seq>{head_, other_head_}));
  StartBus();
  ASSERT_TRUE(bus_->Hold(kOther).has_value());
}

TEST_F(SnapshotOfAnotherLogTest, TheSnapshotAtTheHeadWithAnotherChainHashIsAnAlarmToo) {
  const std::string at_head = *log_->GetSnapshot(kOther, other_head_);
  ASSERT_TRUE(log_->DropSnapshots(kOther).ok());
  ASSERT_TRUE(log_->PutSnapshot(kOther, other_head_, at_head, 2).ok());
  StartBus();
  const auto hold = bus_->Hold(kOther);
  ASSERT_TRUE(hold.has_value());
  EXPECT_EQ(hold->position, other_head_);
  EXPECT_NE(hold->message.find("another chain hash"), std::string::npos) << hold->message;
}

TEST_F(SnapshotOfAnotherLogTest, AnAcceptedLogIsFoldedAndItsSnapshotsReplaced) {
  StartBus(40, {kOther.get()});
  EXPECT_FALSE(bus_->Hold(kOther).has_value());
  EXPECT_EQ(Rejected(), 2);
  ExpectDecidesLikeTheLog(kOther, kBookings / 3);
  StopBus();
  // Only snapshots of the log as it stands are left: the next start, without
  // the operator's flag, finds nothing that disagrees.
  const std::vector<Seq> left = *log_->SnapshotSeqs(kOther);
  for (Seq s : left) {
    EXPECT_LE(s, other_head_ + 1);
  }
  StartBus();
  EXPECT_FALSE(bus_->Hold(kOther).has_value());
  EXPECT_EQ(Rejected(), 0);
}

TEST_F(SnapshotBusTest, SnapshotBeyondTheHeadOrOfAnotherLogIsNotLoaded) {
  StartBus();
  ASSERT_NO_FATAL_FAILURE(Fill(kTenant, kBookings));
  ASSERT_NO_FATAL_FAILURE(Fill(kOther, kBookings / 3));  // a shorter log
  StopBus();
  const Seq head = log_->GetHead(kTenant)->seq;
  const Seq other_head = log_->GetHead(kOther)->seq;
  ASSERT_GT(head, other_head);
  // Copy the long tenant's snapshots to the short one: the newest lies
  // beyond its head; one at or below its head has another chain hash.
  auto newest = log_->GetSnapshot(kTenant, head);
  ASSERT_TRUE(newest.ok());
  ASSERT_TRUE(log_->PutSnapshot(kOther, head, *newest, 10).ok());
  // The tenant's model at a position the other log also has.
  TenantModel early;
  Sha256 early_hash{};
  ASSERT_TRUE(FoldLog(*log_, kTenant, other_head, &early, &early_hash).ok());
  ASSERT_EQ(early.position(), other_head);
  ASSERT_TRUE(log_->PutSnapshot(kOther, other_head, EncodeSnapshot(early, early_hash), 10).ok());

  // (Its own, taken at shutdown, was at other_head and is replaced.)
  ASSERT_EQ(*log_->SnapshotSeqs(kOther), (std::vector<Seq>{head, other_head}));

  StartBus(40, {kOther.get()});  // accepted, or kOther would be held (above)
  // kTenant loads its own; kOther rejects both and folds its log.
  EXPECT_EQ(Loaded(), 1);
  EXPECT_EQ(Rejected(), 2);
  ExpectDecidesLikeTheLog(kOther, kBookings / 3);
  ExpectDecidesLikeTheLog(kTenant, kBookings);
}

TEST_F(SnapshotBusTest, NoSnapshotsWhenTurnedOff) {
  StartBus(0);
  ASSERT_NO_FATAL_FAILURE(Fill(kTenant, 50));
  StopBus();
  EXPECT_TRUE(log_->SnapshotSeqs(kTenant)->empty());
}

TEST_F(SnapshotBusTest, NeverMoreOftenThanEveryTenthOfTheLog) {
  StartBus(1);  // "after every record", were it not for the tenth
  ASSERT_NO_FATAL_FAILURE(Fill(kTenant, 200));
  const double writes = Metric("saalbuch_snapshot_writes_total", "ok");
  // Every record up to 19, then every 2nd up to 39, every 3rd…: about 45
  // for 202 records, never one per record.
  EXPECT_GE(writes, 20);
  EXPECT_LE(writes, 60);
}

}  // namespace
}  // namespace saalbuch::commands
