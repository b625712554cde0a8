// The CommandBus over a real RocksLog: concurrent submitters to one tenant,
// idempotency, and rebuilding the write model after a restart.

#include "commands/bus.h"

#include <gtest/gtest.h>
#include <prometheus/registry.h>

#include <condition_variable>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "ledger/database.h"
#include "ledger/rocks_log.h"
#include "tests/commands/decide_fixture.h"
#include "tests/support/scratch_dir.h"

namespace saalbuch::commands {
namespace {

using testing_support::ScratchDir;

class CommandBusTest : public ::testing::Test {
 protected:
  void SetUp() override {
    now_ = T("2026-03-02T08:00:00Z");
    auto db = ledger::Database::Open(dir_.Sub("db"), {});
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(db).value();
    log_ = std::make_unique<ledger::RocksLog>(db_.get());
    StartBus();
  }
  void TearDown() override { StopBus(); }

  void StartBus() {
    registry_ = std::make_unique<prometheus::Registry>();
    BusOptions opts;
    opts.writer_threads = 4;
    opts.clock = [this] { return now_; };
    bus_ = std::make_unique<CommandBus>(log_.get(), registry_.get(), std::move(opts));
    Status s = bus_->Start();
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  void StopBus() {
    bus_.reset();
    registry_.reset();
  }

  static Submission Sub(Command cmd, std::string idem = "", std::string fingerprint = "") {
    Submission s;
    s.ctx.tenant = kTenant;
    s.ctx.actor = "key:admin";
    s.command = std::move(cmd);
    s.idempotency_key = std::move(idem);
    s.fingerprint = std::move(fingerprint);
    return s;
  }

  Outcome Run(Submission s) {
    std::promise<Outcome> p;
    auto f = p.get_future();
    bus_->Submit(std::move(s), [&p](Outcome o) { p.set_value(std::move(o)); });
    return f.get();
  }

  void SetUpTenantAndRoom(Rules rules) {
    Outcome t = Run(Sub(CreateTenant{kTenant, "Stadt", "Europe/Berlin", "admin", "admin-secret"}));
    ASSERT_EQ(t.kind, Outcome::Kind::kCreated) << t.body.dump();
    CreateResource r{ResourceId("saal"), "room", "Saal", "", std::move(rules), 1, {}, {}};
    Outcome o = Run(Sub(r));
    ASSERT_EQ(o.kind, Outcome::Kind::kCreated) << o.body.dump();
  }

  static PlaceBooking Place(const std::string& id, TimeUs start, TimeUs end) {
    PlaceBooking p;
    p.id = BookingId(id);
    p.resource = ResourceId("saal");
    p.range = {start, end};
    p.by_staff = true;
    return p;
  }

  std::vector<ledger::Record> ReadLog() {
    std::vector<ledger::Record> out;
    EXPECT_TRUE(log_->Read(kTenant, 1, 100000, &out).ok());
    return out;
  }

  ScratchDir dir_;
  std::unique_ptr<ledger::Database> db_;
  std::unique_ptr<ledger::RocksLog> log_;
  std::unique_ptr<prometheus::Registry> registry_;
  std::unique_ptr<CommandBus> bus_;
  TimeUs now_ = 0;
};

TEST_F(CommandBusTest, ConcurrentSubmittersNeverGetOverlappingBookings) {
  Rules rules = Rules::AlwaysOpen();
  rules.buffer_after = 15 * kUsPerMinute;
  SetUpTenantAndRoom(rules);
  const Seq start_position = log_->GetHead(kTenant)->seq;

  constexpr int kThreads = 6;
  constexpr int kPerThread = 40;
  const TimeUs day = T("2026-03-03T06:00:00Z");
  struct Sent {
    PlaceBooking cmd;
    Outcome outcome;
  };
  std::vector<std::vector<Sent>> results(kThreads, std::vector<Sent>(kPerThread));
  std::mutex mu;
  std::condition_variable cv;
  int pending = kThreads * kPerThread;

  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 rng(1000 + t);
      for (int i = 0; i < kPerThread; ++i) {
        const TimeUs start = day + static_cast<TimeUs>(rng() % 48) * 30 * kUsPerMinute;
        const TimeUs len = static_cast<TimeUs>(1 + rng() % 4) * 30 * kUsPerMinute;
        results[t][i].cmd = Place("bk-" + std::to_string(t) + "-" + std::to_string(i), start, start + len);
        bus_->Submit(Sub(results[t][i].cmd), [&, t, i](Outcome o) {
          std::lock_guard lock(mu);
          results[t][i].outcome = std::move(o);
          if (--pending == 0) cv.notify_all();
        });
      }
    });
  }
  for (auto& th : threads) th.join();
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(30), [&] { return pending == 0; }))
        << pending << " callbacks never came";
  }

  std::vector<TimeRange> accepted_blocked;
  std::map<Seq, std::string> position_to_booking;
  int accepted = 0;
  for (int t = 0; t < kThreads; ++t) {
    Seq last_accepted_position = 0;
    for (int i = 0; i < kPerThread; ++i) {
      const Sent& r = results[t][i];
      if (r.outcome.kind == Outcome::Kind::kCreated) {
        ++accepted;
        accepted_blocked.push_back({r.cmd.range.start, r.cmd.range.end + 15 * kUsPerMinute});
        EXPECT_GT(r.outcome.position, last_accepted_position)
            << "a later command of one submitter must land later in the log";
        last_accepted_position = r.outcome.position;
        EXPECT_TRUE(position_to_booking.emplace(r.outcome.position, r.cmd.id.get()).second)
            << "position " << r.outcome.position << " given to two commands";
      } else {
        ASSERT_EQ(r.outcome.kind, Outcome::Kind::kRejected) << r.outcome.body.dump();
        EXPECT_EQ(r.outcome.body.at("code"), "booking_conflict");
      }
    }
  }
  ASSERT_GT(accepted, 5);
  ASSERT_LT(accepted, kThreads * kPerThread) << "the test should provoke conflicts";

  std::sort(accepted_blocked.begin(), accepted_blocked.end());
  for (std::size_t i = 1; i < accepted_blocked.size(); ++i) {
    EXPECT_LE(accepted_blocked[i - 1].end, accepted_blocked[i].start)
        << "accepted bookings overlap (buffers included): " << FormatUtc(accepted_blocked[i - 1].start)
        << " and " << FormatUtc(accepted_blocked[i].start);
  }

  // Each accepted command's position is the seq of its own event.
  auto records = ReadLog();
  ASSERT_EQ(records.size(), start_position + accepted);
  for (const auto& [pos, id] : position_to_booking) {
    const auto* env = ledger::DecodeEnvelope(records.at(pos - 1).bytes);
    ASSERT_NE(env, nullptr);
    ASSERT_EQ(env->payload_type(), schema::Payload::BookingPlaced);
    EXPECT_EQ(env->payload_as_BookingPlaced()->booking_id()->str(), id) << "position " << pos;
  }
  std::set<std::string> numbers;
  for (std::size_t i = start_position; i < records.size(); ++i) {
    numbers.insert(ledger::DecodeEnvelope(records[i].bytes)->payload_as_BookingPlaced()->number()->str());
  }
  EXPECT_EQ(numbers.size(), static_cast<std::size_t>(accepted)) << "booking numbers must be unique";
}

TEST_F(CommandBusTest, RetryWithSameKeyAndFingerprintReplaysTheOutcome) {
  SetUpTenantAndRoom(Rules::AlwaysOpen());
  const TimeUs s = T("2026-03-04T09:00:00Z");
  Outcome first = Run(Sub(Place("bk-1", s, s + kHour), "idem-1", "fp-1"));
  ASSERT_EQ(first.kind, Outcome::Kind::kCreated) << first.body.dump();
  EXPECT_FALSE(first.replayed);

  // A retry gets the stored outcome instead of a second decision (which
  // would now be a conflict with the first).
  Outcome retry = Run(Sub(Place("bk-1", s, s + kHour), "idem-1", "fp-1"));
  EXPECT_TRUE(retry.replayed);
  EXPECT_EQ(retry.kind, Outcome::Kind::kCreated);
  EXPECT_EQ(retry.body, first.body);
  EXPECT_EQ(retry.position, first.position);

  Outcome reused = Run(Sub(Place("bk-2", s + 2 * kHour, s + 3 * kHour), "idem-1", "fp-other"));
  ASSERT_EQ(reused.kind, Outcome::Kind::kRejected);
  EXPECT_EQ(reused.body.at("code"), "idempotency_key_reused");

  // Nothing of the retry or the misuse reached the log.
  EXPECT_EQ(log_->GetHead(kTenant)->seq, first.position);

  // Rejections are remembered too.
  Outcome clash = Run(Sub(Place("bk-3", s, s + kHour), "idem-2", "fp-2"));
  ASSERT_EQ(clash.kind, Outcome::Kind::kRejected);
  EXPECT_EQ(clash.body.at("code"), "booking_conflict");
  Outcome clash_again = Run(Sub(Place("bk-3", s, s + kHour), "idem-2", "fp-2"));
  EXPECT_TRUE(clash_again.replayed);
  EXPECT_EQ(clash_again.body, clash.body);
}

TEST_F(CommandBusTest, DuplicatesInFlightAreDecidedOnce) {
  SetUpTenantAndRoom(Rules::AlwaysOpen());
  const Seq before = log_->GetHead(kTenant)->seq;
  const TimeUs s = T("2026-03-04T09:00:00Z");
  constexpr int kCopies = 8;
  std::vector<std::promise<Outcome>> promises(kCopies);
  for (int i = 0; i < kCopies; ++i) {
    bus_->Submit(Sub(Place("bk-" + std::to_string(i), s, s + kHour), "same-key", "same-fp"),
                 [&promises, i](Outcome o) { promises[i].set_value(std::move(o)); });
  }
  int fresh = 0;
  std::vector<Outcome> outcomes;
  for (auto& p : promises) outcomes.push_back(p.get_future().get());
  for (const auto& o : outcomes) {
    EXPECT_EQ(o.kind, Outcome::Kind::kCreated) << o.body.dump();
    EXPECT_EQ(o.body, outcomes[0].body);
    EXPECT_EQ(o.position, outcomes[0].position);
    if (!o.replayed) ++fresh;
  }
  EXPECT_EQ(fresh, 1);
  EXPECT_EQ(log_->GetHead(kTenant)->seq, before + 1);
}

TEST_F(CommandBusTest, RestartedBusRebuildsTheModelFromTheLog) {
  SetUpTenantAndRoom(Rules::AlwaysOpen());
  const TimeUs s = T("2026-03-04T09:00:00Z");
  Outcome placed = Run(Sub(Place("bk-1", s, s + 2 * kHour), "idem-1", "fp-1"));
  ASSERT_EQ(placed.kind, Outcome::Kind::kCreated) << placed.body.dump();
  Outcome cancelled_place = Run(Sub(Place("bk-2", s + 3 * kHour, s + 4 * kHour)));
  ASSERT_EQ(cancelled_place.kind, Outcome::Kind::kCreated);
  CancelBooking cancel;
  cancel.id = BookingId("bk-2");
  cancel.by_staff = true;
  ASSERT_EQ(Run(Sub(cancel)).kind, Outcome::Kind::kOk);

  StopBus();
  StartBus();

  EXPECT_TRUE(bus_->TenantExists(kTenant));
  auto key = bus_->Authenticate(kTenant, "admin-secret");
  ASSERT_TRUE(key.has_value());
  EXPECT_EQ(key->role, Role::kAdmin);
  EXPECT_FALSE(bus_->Authenticate(kTenant, "wrong").has_value());

  Outcome clash = Run(Sub(Place("bk-3", s + kHour, s + 3 * kHour)));
  ASSERT_EQ(clash.kind, Outcome::Kind::kRejected) << clash.body.dump();
  EXPECT_EQ(clash.body.at("code"), "booking_conflict");

  // The cancelled booking's slot is free again after the rebuild.
  Outcome freed = Run(Sub(Place("bk-4", s + 3 * kHour, s + 4 * kHour)));
  ASSERT_EQ(freed.kind, Outcome::Kind::kCreated) << freed.body.dump();
  EXPECT_EQ(freed.body.at("number"), "B-2026-000003") << "numbers continue after a restart";

  Outcome replay = Run(Sub(Place("bk-1", s, s + 2 * kHour), "idem-1", "fp-1"));
  EXPECT_TRUE(replay.replayed);
  EXPECT_EQ(replay.body, placed.body);
  EXPECT_EQ(replay.position, placed.position);
}

TEST_F(CommandBusTest, UnknownTenantIsNotFoundAndCreatesNoState) {
  Submission s = Sub(Place("bk-1", now_ + kDay, now_ + kDay + kHour));
  s.ctx.tenant = TenantId("nirgendwo");
  Outcome o = Run(std::move(s));
  ASSERT_EQ(o.kind, Outcome::Kind::kRejected);
  EXPECT_EQ(o.refusal, Refusal::kNotFound);
  EXPECT_FALSE(bus_->TenantExists(TenantId("nirgendwo")));
  EXPECT_TRUE(log_->Tenants().empty());
}

TEST_F(CommandBusTest, CommandsAfterShutdownAreRefused) {
  SetUpTenantAndRoom(Rules::AlwaysOpen());
  bus_->Shutdown();
  Outcome o = Run(Sub(Place("bk-1", now_ + kDay, now_ + kDay + kHour)));
  ASSERT_EQ(o.kind, Outcome::Kind::kFailed);
  EXPECT_EQ(o.body.at("code"), "shutting_down");
}

}  // namespace
}  // namespace saalbuch::commands
