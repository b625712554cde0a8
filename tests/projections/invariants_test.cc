// DOMAIN.md invariants 1, 2 and 6 over every kind of resource, with the real
// command bus (group commit, hold timer) and the real projection runner on
// RocksDB: concurrent clients send thousands of random commands — bookings
// of rooms, a hall and its parts, a pool, event sessions, add-ons with
// stock, a device needing a qualification; series; approvals, rejections,
// confirmations, moves and cancellations — while simulated time runs fast
// enough for holds to expire. Then the log is read back by an independent
// checker that, at every log position, recomputes what each booking takes
// and checks no capacity is exceeded and every booking obeyed the rules and
// rights in force when it was decided; and a replay from position 1 must
// give the live projections byte for byte.

#include <gtest/gtest.h>
#include <prometheus/registry.h>

#include <atomic>
#include <future>
#include <random>
#include <thread>

#include "commands/bus.h"
#include "projections/runner.h"
#include "tests/projections/projection_fixture.h"

namespace saalbuch::projections {
namespace {

using namespace commands;  // NOLINT: the test speaks in commands

struct Capacity {
  std::uint32_t capacity = 1;
  std::string parent;
};

// Reads the log and checks invariants 1 and 2 at every position.
class Checker {
 public:
  ::testing::AssertionResult Run(const ledger::Log& log) {
    std::vector<ledger::Record> records;
    if (Status s = log.Read(kTenant, 1, 1'000'000, &records); !s.ok()) {
      return ::testing::AssertionFailure() << s.ToString();
    }
    for (const auto& r : records) {
      const schema::Envelope* env = ledger::DecodeEnvelope(r.bytes);
      if (env == nullptr) return ::testing::AssertionFailure() << "record " << r.seq << " does not decode";
      if (auto bad = Fold(r.seq, *env); !bad.empty()) {
        return ::testing::AssertionFailure() << "at record " << r.seq << ": " << bad;
      }
    }
    return ::testing::AssertionSuccess() << records.size() << " records, " << placed_ << " bookings placed";
  }

  int placed_ = 0, expired_ = 0, requested_ = 0, series_ = 0, moved_ = 0;

 private:
  struct B {
    std::string resource, session, status, customer, group;
    TimeRange range, blocked;
    std::uint32_t units = 1;
    std::map<std::string, std::uint32_t> addons;
  };
  struct R {
    std::string resource, group;
    bool may_book = true, revoked = false;
    TimeUs from = 0, until = 0;
  };
  static bool Occupies(const std::string& s) {
    return s == "requested" || s == "held" || s == "confirmed" || s == "completed" || s == "no_show";
  }
  static std::string S(const flatbuffers::String* s) { return s == nullptr ? "" : s->str(); }

  // What `b` takes: counter → amount.
  static std::map<std::string, std::uint32_t> Takes(const B& b) {
    std::map<std::string, std::uint32_t> out;
    out[b.session.empty() ? b.resource : b.resource + "@" + b.session] = b.units;
    for (const auto& [a, q] : b.addons) out["+" + a] = q;
    return out;
  }

  std::uint32_t CapacityOf(const std::string& counter) const {
    if (counter[0] == '+') return addon_stock_.at(counter.substr(1));
    if (auto at = counter.find('@'); at != std::string::npos) return session_seats_.at(counter);
    return resources_.at(counter).capacity;
  }

  // Peak use of `counter` by occupying bookings during `range`.
  std::uint32_t Peak(const std::string& counter, TimeRange range) const {
    std::map<TimeUs, std::int64_t> delta;
    for (const auto& [id, b] : bookings_) {
      if (!Occupies(b.status) || !b.blocked.Overlaps(range)) continue;
      auto takes = Takes(b);
      auto it = takes.find(counter);
      if (it == takes.end()) continue;
      delta[std::max(b.blocked.start, range.start)] += it->second;
      delta[std::min(b.blocked.end, range.end)] -= it->second;
    }
    std::int64_t level = 0, peak = 0;
    for (const auto& [t, d] : delta) peak = std::max(peak, level += d);
    return static_cast<std::uint32_t>(peak);
  }

  // Invariant 1 for the counters `b` touches, and a whole against its parts.
  std::string CheckCapacity(const std::string& id, const B& b) const {
    for (const auto& [counter, amount] : Takes(b)) {
      const std::uint32_t cap =
          counter[0] == '+' && addon_stock_.at(counter.substr(1)) == 0 ? ~0u : CapacityOf(counter);
      if (Peak(counter, b.blocked) > cap) return id + " exceeds the capacity of " + counter;
    }
    for (const auto& [other, c] : resources_) {
      const bool related = c.parent == b.resource || (other == resources_.at(b.resource).parent);
      if (related && Peak(other, b.blocked) > 0) return id + " overlaps its whole or a part: " + other;
    }
    return {};
  }

  std::string Fold(Seq, const schema::Envelope& env) {
    const TimeUs at = env.recorded_at_us();
    switch (env.payload_type()) {
      case schema::Payload::ResourceCreated: {
        const auto* e = env.payload_as_ResourceCreated();
        resources_[S(e->resource_id())] = {S(e->kind()) == "pool" ? e->capacity() : 1u, S(e->parent_id())};
        break;
      }
      case schema::Payload::RulesSet: {
        const auto* e = env.payload_as_RulesSet();
        std::vector<WeeklyInterval> weekly;
        for (const auto* h : *e->opening())
          weekly.push_back({h->weekday(), h->start_minute(), h->end_minute()});
        opening_[S(e->resource_id())] = weekly;
        break;
      }
      case schema::Payload::SessionScheduled: {
        const auto* e = env.payload_as_SessionScheduled();
        session_seats_[S(e->resource_id()) + "@" + S(e->session_id())] = e->seats();
        break;
      }
      case schema::Payload::AddonSet:
        addon_stock_[S(env.payload_as_AddonSet()->addon_id())] = env.payload_as_AddonSet()->stock();
        break;
      case schema::Payload::CustomerRegistered: {
        const auto* e = env.payload_as_CustomerRegistered();
        customer_group_[S(e->customer_id())] = S(e->group_id());
        break;
      }
      case schema::Payload::QualificationGranted: {
        const auto* e = env.payload_as_QualificationGranted();
        qualified_[S(e->customer_id())] = e->valid_until_us();
        break;
      }
      case schema::Payload::RightGranted: {
        const auto* e = env.payload_as_RightGranted();
        rights_[S(e->right_id())] = {S(e->resource_id()), S(e->group_id()),   e->may_book(), false,
                                     e->valid_from_us(),  e->valid_until_us()};
        resources_with_rights_.insert(S(e->resource_id()));
        break;
      }
      case schema::Payload::BookingPlaced: {
        const auto* e = env.payload_as_BookingPlaced();
        B b;
        b.resource = S(e->resource_id());
        b.session = S(e->session_id());
        b.status = S(e->status());
        b.customer = S(e->customer_id());
        b.group = S(e->group_id());
        b.range = {e->start_us(), e->end_us()};
        b.blocked = {e->blocked_start_us(), e->blocked_end_us()};
        b.units = std::max<std::uint32_t>(1, e->units());
        if (e->addons() != nullptr) {
          for (const auto* a : *e->addons()) b.addons[S(a->addon_id())] = a->quantity();
        }
        const std::string id = S(e->booking_id());
        ++placed_;
        requested_ += b.status == "requested";
        series_ += !S(e->series_id()).empty();
        // Invariant 2: rules and rights in force at `at`.
        if (b.range.start < at) return id + " starts before it was decided";
        if (b.session.empty() && opening_.count(b.resource) != 0) {
          auto open = OpeningRanges(opening_.at(b.resource), zone_, b.range);
          if (open.size() != 1 || open[0] != b.range) return id + " lies outside the opening hours";
        }
        const std::string right = S(e->right_id());
        // A part of a hall without rights of its own obeys the hall's.
        std::string scope = b.resource;
        if (resources_with_rights_.count(scope) == 0 && !resources_.at(scope).parent.empty() &&
            resources_with_rights_.count(resources_.at(scope).parent) != 0) {
          scope = resources_.at(scope).parent;
        }
        if (right == "staff") {
          if (S(e->channel()) != "staff") return id + " relies on staff without a staff key";
        } else if (resources_with_rights_.count(scope) != 0) {
          auto it = rights_.find(right);
          if (it == rights_.end()) return id + " relies on an unknown right " + right;
          const R& r = it->second;
          if (r.resource != scope || r.group != b.group || !r.may_book || r.revoked || at < r.from ||
              (r.until != 0 && at >= r.until)) {
            return id + " relies on right " + right + " which did not allow it";
          }
          if (!b.customer.empty() && customer_group_.at(b.customer) != b.group) {
            return id + " has the wrong group for its customer";
          }
        } else if (right != "open") {
          return id + " names a right on a resource without rights";
        }
        if (b.resource == "laser" && right != "staff") {
          auto q = qualified_.find(b.customer);
          if (q == qualified_.end() || (q->second != 0 && q->second < b.range.end)) {
            return id + " books the laser without a valid qualification";
          }
        }
        bookings_[id] = b;
        return CheckCapacity(id, b);
      }
      case schema::Payload::BookingRescheduled: {
        const auto* e = env.payload_as_BookingRescheduled();
        const std::string id = S(e->booking_id());
        B& b = bookings_.at(id);
        b.range = {e->start_us(), e->end_us()};
        b.blocked = {e->blocked_start_us(), e->blocked_end_us()};
        b.session = S(e->session_id());
        ++moved_;
        if (b.range.start < at) return id + " was moved into the past";
        return CheckCapacity(id, b);
      }
      case schema::Payload::BookingApproved: {
        const auto* e = env.payload_as_BookingApproved();
        std::string& s = bookings_.at(S(e->booking_id())).status;
        if (s != "requested") return "approved a " + s + " booking";
        s = S(e->status());
        break;
      }
      case schema::Payload::BookingRejected:
        return Move(S(env.payload_as_BookingRejected()->booking_id()), {"requested"}, "rejected");
      case schema::Payload::BookingConfirmed:
        return Move(S(env.payload_as_BookingConfirmed()->booking_id()), {"held"}, "confirmed");
      case schema::Payload::BookingExpired:
        ++expired_;
        return Move(S(env.payload_as_BookingExpired()->booking_id()), {"held"}, "expired");
      case schema::Payload::BookingCancelled:
        return Move(S(env.payload_as_BookingCancelled()->booking_id()), {"requested", "held", "confirmed"},
                    "cancelled");
      default:
        break;
    }
    return {};
  }

  std::string Move(const std::string& id, std::initializer_list<const char*> from, const char* to) {
    auto it = bookings_.find(id);
    if (it == bookings_.end()) return std::string(to) + " an unknown booking " + id;
    if (std::none_of(from.begin(), from.end(), [&](const char* f) { return it->second.status == f; })) {
      return id + ": " + it->second.status + " cannot become " + to;
    }
    it->second.status = to;
    return {};
  }

  const Zone* zone_ = FindZone("Europe/Berlin");
  std::map<std::string, Capacity> resources_;
  std::map<std::string, std::vector<WeeklyInterval>> opening_;
  std::map<std::string, std::uint32_t> session_seats_, addon_stock_;
  std::map<std::string, std::string> customer_group_;
  std::map<std::string, TimeUs> qualified_;
  std::map<std::string, R> rights_;
  std::set<std::string> resources_with_rights_;
  std::map<std::string, B> bookings_;
};

class InvariantsTest : public ProjectionFixture {
 protected:
  void SetUp() override {
    ProjectionFixture::SetUp();
    runner_ = std::make_unique<Runner>(db_.get(), log_.get());
    ASSERT_TRUE(runner_->Start().ok());
    BusOptions o;
    o.writer_threads = 4;
    o.on_appended = [this](const TenantId& t, Seq head) { runner_->Notify(t, head); };
    // Simulated time: an hour per real second, so 30-minute holds expire
    // while the clients work.
    o.clock = [this] {
      const auto real = std::chrono::steady_clock::now() - started_;
      return base_ + std::chrono::duration_cast<std::chrono::microseconds>(real).count() * 3600;
    };
    o.hold_check_interval = std::chrono::milliseconds(20);
    bus_ = std::make_unique<CommandBus>(log_.get(), &registry_, o);
    ASSERT_TRUE(bus_->Start().ok());
  }
  void TearDown() override {
    bus_.reset();
    runner_.reset();
  }

  Outcome Run(Command cmd, const std::string& actor = "key:admin") {
    Submission s;
    s.ctx.tenant = kTenant;
    s.ctx.actor = actor;
    s.ctx.command_id = "cmd-" + std::to_string(++serial_);
    s.command = std::move(cmd);
    std::promise<Outcome> p;
    auto f = p.get_future();
    bus_->Submit(std::move(s), [&p](Outcome o) { p.set_value(std::move(o)); });
    return f.get();
  }

  void Must(Command cmd) {
    const std::string name = CommandName(cmd);
    Outcome o = Run(std::move(cmd));
    ASSERT_TRUE(o.kind == Outcome::Kind::kCreated || o.kind == Outcome::Kind::kOk)
        << name << ": " << o.body.dump();
  }

  void Resource(const std::string& id, const std::string& kind, std::uint32_t capacity = 1,
                const std::string& parent = "", const std::string& qualification = "") {
    CreateResource c;
    c.id = ResourceId(id);
    c.kind = kind;
    c.name = id;
    c.capacity = capacity;
    c.parent = ResourceId(parent);
    c.requires_qualification = qualification;
    Rules r;
    for (int d = 1; d <= 7; ++d) r.opening.push_back({d, 7 * 60, 22 * 60});
    r.buffer_after = kind == "room" ? 15 * kUsPerMinute : 0;
    r.granularity = 15 * kUsPerMinute;
    c.rules = r;
    Must(c);
  }

  prometheus::Registry registry_;
  std::unique_ptr<Runner> runner_;
  std::unique_ptr<CommandBus> bus_;
  const std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
  const TimeUs base_ = T("2026-06-01T05:00:00Z");
  std::atomic<int> serial_{0};
};

TEST_F(InvariantsTest, RandomCommandsFromConcurrentClientsKeepCapacityRulesAndReplay) {
  Must(CreateTenant{kTenant, "Stadt", "Europe/Berlin", "admin", "admin-secret"});
  Must(SetSettings{30 * kUsPerMinute});
  Resource("saal", "room");
  Resource("halle", "room");
  for (const char* p : {"halle-a", "halle-b", "halle-c"}) Resource(p, "room", 1, "halle");
  Resource("tablets", "pool", 5);
  Resource("laser", "device", 1, "", "laser");
  Resource("kurs", "event", 8);
  std::vector<std::string> sessions;
  for (int i = 0; i < 12; ++i) {
    const TimeUs start = T("2026-06-02T16:00:00Z") + i * 8 * kHour;
    sessions.push_back("s" + std::to_string(i));
    Must(ScheduleSession{ResourceId("kurs"), sessions.back(), {start, start + 2 * kHour}, 0, "Kurs"});
  }
  Must(SetAddon{"beamer",
                "Beamer",
                2,
                {{ResourceId("saal"), false}, {ResourceId("halle"), false}, {ResourceId("halle-a"), false}},
                {}});
  Must(DefineGroup{"verein", "Vereine"});
  Must(DefineGroup{"schule", "Schulen"});
  const std::vector<std::string> customers = {"tsv", "fc", "gs", "rs"};
  for (const auto& c : customers) Must(RegisterCustomer{c, c[1] == 's' ? "verein" : "schule", "sbc_" + c});
  Must(GrantQualification{"tsv", "laser", 0, "Einweisung"});
  Must(GrantQualification{"gs", "laser", T("2026-06-03T12:00:00Z"), "Einweisung, befristet"});
  // The hall needs approval for clubs and is held for schools; the public
  // may not book it.
  Right club;
  club.id = "r-halle-verein";
  club.resource = ResourceId("halle");
  club.group = "verein";
  club.needs_approval = true;
  Must(GrantRight{club});
  Right school = club;
  school.id = "r-halle-schule";
  school.group = "schule";
  school.needs_approval = false;
  school.hold = true;
  Must(GrantRight{school});
  Right saal = club;
  saal.id = "r-saal-public";
  saal.resource = ResourceId("saal");
  saal.group = "public";
  saal.needs_approval = false;
  saal.hold = true;
  Must(GrantRight{saal});

  constexpr int kClients = 4;
  constexpr int kCommands = 600;
  std::vector<std::thread> clients;
  std::atomic<int> accepted{0};
  std::mutex ids_mu;
  std::vector<std::string> booking_ids;
  const std::vector<std::string> resources = {"saal",    "halle",   "halle-a", "halle-b",
                                              "halle-c", "tablets", "laser",   "kurs"};
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      std::mt19937 rng(4242 + c);
      auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
      auto known = [&]() -> std::string {
        std::lock_guard lock(ids_mu);
        return booking_ids.empty() ? "none" : booking_ids[rng() % booking_ids.size()];
      };
      for (int i = 0; i < kCommands; ++i) {
        // Slots on a 15-minute grid within three days of the simulated start.
        const TimeUs start = base_ + 2 * kHour + pick(3 * 24 * 4) * 15 * kUsPerMinute;
        const TimeUs end = start + (1 + pick(8)) * 15 * kUsPerMinute;
        const int what = pick(100);
        Command cmd;
        std::string actor = "key:staff";
        std::string id = "b" + std::to_string(c) + "-" + std::to_string(i);
        if (what < 55) {
          PlaceBooking p;
          p.id = BookingId(id);
          p.resource = ResourceId(resources[pick(static_cast<int>(resources.size()))]);
          p.range = {start, end};
          p.manage_token = "sbm_" + id;
          if (p.resource.get() == "kurs") p.session = sessions[pick(static_cast<int>(sessions.size()))];
          if (p.resource.get() == "kurs" || p.resource.get() == "tablets") p.units = 1 + pick(3);
          if (pick(3) == 0 && (p.resource.get() == "saal" || p.resource.get() == "halle-a")) {
            p.addons = {{"beamer", 1u + pick(2)}};
          }
          const int who = pick(4);
          if (who == 0) {
            p.by_staff = true;
          } else if (who == 1) {
            p.customer_token = "sbc_" + customers[pick(4)];
            actor = "customer-token";
            // The hall has rights; its parts inherit them.
            if (pick(2) == 0) p.resource = ResourceId(pick(2) == 0 ? "halle" : "halle-a");
          } else {
            actor = "public";
          }
          cmd = p;
        } else if (what < 60) {
          PlaceSeries s;
          s.id = "sr-" + id;
          s.first.resource = ResourceId(pick(2) ? "saal" : "halle-b");
          // Also keyless series, which a part of the hall must refuse.
          s.first.by_staff = pick(2) == 0;
          if (!s.first.by_staff) actor = "public";
          s.first.manage_token = "sbm_" + id;
          s.rrule = "FREQ=DAILY;COUNT=3";
          s.skip_conflicts = pick(2) == 0;
          for (int k = 0; k < 3; ++k) {
            s.occurrences.push_back({start + k * kDay, end + k * kDay});
            s.ids.emplace_back(id + "-" + std::to_string(k));
          }
          cmd = s;
        } else if (what < 70) {
          cmd = CancelBooking{BookingId(known()), "random", true, "", {}};
        } else if (what < 80) {
          cmd = ApproveBooking{BookingId(known()), "", {}};
        } else if (what < 85) {
          cmd = RejectBooking{BookingId(known()), "", {}};
        } else if (what < 90) {
          cmd = ConfirmBooking{BookingId(known()), {}};
        } else {
          cmd = RescheduleBooking{BookingId(known()), {start, end}, "", true, "", {}};
        }
        Outcome o = Run(std::move(cmd), actor);
        if (o.kind == Outcome::Kind::kCreated || o.kind == Outcome::Kind::kOk) {
          ++accepted;
          std::lock_guard lock(ids_mu);
          if (o.body.contains("occurrences")) {
            for (const auto& occ : o.body["occurrences"]) {
              if (occ.contains("booking")) booking_ids.push_back(occ["booking"]);
            }
          } else if (o.body.contains("number") && what < 55) {
            booking_ids.push_back(id);
          }
        } else {
          ASSERT_EQ(o.kind, Outcome::Kind::kRejected) << o.body.dump();
        }
      }
    });
  }
  for (auto& t : clients) t.join();
  // Let the hold timer expire what is left (simulated time runs on).
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  Must(SetSettings{30 * kUsPerMinute});  // a last command: everything before it is in the log

  Checker checker;
  EXPECT_TRUE(checker.Run(*log_));
  SCOPED_TRACE(::testing::Message() << "placed " << checker.placed_ << ", requested " << checker.requested_
                                    << ", expired " << checker.expired_ << ", series " << checker.series_
                                    << ", moved " << checker.moved_ << ", accepted " << accepted.load());
  EXPECT_GT(accepted.load(), kClients * kCommands / 10);
  EXPECT_GT(checker.placed_, 150);
  EXPECT_GT(checker.requested_, 1);
  EXPECT_GT(checker.expired_, 1) << "holds should have expired by the timer";
  EXPECT_GT(checker.series_, 5);
  EXPECT_GT(checker.moved_, 5);

  // Invariant 6: a replay from position 1 equals the live projections.
  const Seq head = Head("stadt");
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (runner_->Position(kTenant) < head) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "runner stuck";
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  auto replay = Replay("stadt");
  EXPECT_TRUE(SameKeys(Keys(runner_->view(), "stadt"), Keys(*replay, "stadt")));

  // The hot read model the availability route reads (the runner's index in
  // memory, updated as it folds) equals the index decoded from the replay's
  // keys; and so does the one a restart loads from the column family.
  AvailabilityIndex want;
  ASSERT_TRUE(want.Load(*replay, kTenant).ok());
  const std::string described = want.Describe(kTenant);
  EXPECT_GT(want.usages(), 50u);
  EXPECT_NE(described.find("\nresource "), std::string::npos) << described;
  EXPECT_EQ(described.find("corrupt"), std::string::npos) << described;
  EXPECT_EQ(runner_->availability().Describe(kTenant), described);
  Runner restarted(db_.get(), log_.get());
  ASSERT_TRUE(restarted.Start().ok());
  EXPECT_EQ(restarted.availability().Describe(kTenant), described);
}

}  // namespace
}  // namespace saalbuch::projections
