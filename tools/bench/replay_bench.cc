// saalbuch-replay-bench: how fast long logs are verified, rebuilt and
// started from (BENCHMARKS.md, "Long logs").
//
//   generate  writes one tenant's log of --events records straight through
//             ledger::RocksLog, deciding every command with the real
//             commands::Decide against an in-process TenantModel (so every
//             event is one the server would have written) and appending the
//             events in batches of --batch records, one durable append (one
//             WAL sync) per batch. Copies of the database are taken at the
//             --copy-at lengths (RocksDB checkpoints: hard links, little
//             disk), so one run yields logs of several lengths.
//   rebuild   folds a data directory's projections from seq 1 into its
//             RocksDB projections column family with the server's own
//             projections::Runner::Start (version check, then CatchUp).
//   snapshot  times a write-model snapshot's parts on a data directory:
//             folding the log, encoding, storing, reading back, decoding.
//   startup   starts saalbuchd on a data directory and times how long it
//             takes until it prints its URL (it is ready then), then stops
//             it with SIGTERM (which stores a write-model snapshot when the
//             model changed since the last) and reports its peak memory.
//
// A program that prints figures, not a test: it asserts nothing about speed.

#include <rocksdb/utilities/checkpoint.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "commands/commands.h"
#include "commands/snapshot.h"
#include "common/build_info.h"
#include "common/crypto.h"
#include "common/merkle.h"
#include "common/note.h"
#include "common/time.h"
#include "ledger/database.h"
#include "ledger/rocks_log.h"
#include "ledger/tree.h"
#include "ledger/vault.h"
#include "projections/runner.h"

extern char** environ;

namespace fs = std::filesystem;
using namespace saalbuch;
using namespace saalbuch::commands;

namespace {

using Clock = std::chrono::steady_clock;
constexpr TimeUs kUsPerHour = 60 * kUsPerMinute;
constexpr TimeUs kUsPerDay = 24 * kUsPerHour;

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

// Resident set size of this process now, in MiB (from /proc).
double RssMiB() {
  std::ifstream in("/proc/self/statm");
  long pages = 0, resident = 0;
  in >> pages >> resident;
  return static_cast<double>(resident) * static_cast<double>(::sysconf(_SC_PAGESIZE)) / (1024.0 * 1024.0);
}

void Check(const Status& s, const std::string& what) {
  if (!s.ok()) throw std::runtime_error(what + ": " + s.ToString());
}

// ---------------------------------------------------------------------------
// generate

struct GenerateOptions {
  std::string out;
  std::uint64_t events = 1'000'000;
  std::vector<std::uint64_t> copy_at;
  std::size_t batch = 5000;
  std::uint64_t checkpoint_every = 5000;
  std::uint64_t seed = 1;
  int rooms = 440;
  int devices = 60;
};

// The simulated municipality: 500 rooms and devices open 07:00–23:00 on a
// 15-minute grid, a pool of tablets, a course with a session every day,
// two add-ons, two customer groups with usage rights (one needs approval),
// thousands of customers, tariffs on a part of the rooms. Each simulated day
// places bookings on non-overlapping slots 14 days ahead and then pays,
// approves, rejects, cancels and expires some of them.
class Generator {
 public:
  Generator(const GenerateOptions& opt, ledger::Database* db, ledger::RocksLog* log)
      : opt_(opt), db_(db), log_(log), vault_(db), rng_(opt.seed) {
    copies_.insert(opt.copy_at.begin(), opt.copy_at.end());
  }

  void Run() {
    const auto start = Clock::now();
    auto seed = vault_.SigningSeed(tenant_);
    Check(seed.status(), "signing seed");
    signing_seed_ = *seed;
    zone_ = FindZone("Europe/Berlin");
    day_ = LocalDayOf(ParseRfc3339("2020-01-06T12:00:00Z").value(), zone_);
    now_ = LocalNoon(day_, zone_) - 5 * kUsPerHour;
    Setup();
    while (seq_ < opt_.events) {
      SimulateDay();
      if (++days_ % 100 == 0) {
        std::cerr << "day " << days_ << ": " << seq_ << " records, " << bookings_ << " bookings, "
                  << static_cast<int>(RssMiB()) << " MiB, " << static_cast<int>(Seconds(Clock::now() - start))
                  << " s\n";
      }
    }
    Flush();
    const double secs = Seconds(Clock::now() - start);
    std::cout << "generated " << seq_ << " records (" << bookings_ << " bookings, " << days_
              << " simulated days) in " << secs << " s: " << static_cast<std::uint64_t>(seq_ / secs)
              << " records/s; " << appends_ << " durable appends; peak RSS " << static_cast<int>(RssMiB())
              << " MiB now\n";
    std::cout << "events by type:\n";
    for (const auto& [type, n] : counts_) std::cout << "  " << type << " " << n << "\n";
    std::cout << "commands refused: " << refused_total_ << "\n";
    for (const auto& [code, n] : refused_) std::cout << "  " << code << " " << n << "\n";
  }

 private:
  Context Ctx(const char* actor) {
    Context c;
    c.tenant = tenant_;
    c.now = now_;
    c.actor = actor;
    c.command_id = "cmd_" + std::to_string(++commands_);
    c.correlation_id = "gen";
    return c;
  }

  // Decides `cmd` now; applies and queues the events when accepted.
  bool Do(const Command& cmd, const char* actor = "key:staff") {
    Decision d = Decide(model_, Ctx(actor), cmd);
    if (auto* r = std::get_if<Rejection>(&d)) {
      ++refused_total_;
      ++refused_[std::string(CommandName(cmd)) + " " + r->code];
      return false;
    }
    auto& a = std::get<Acceptance>(d);
    for (auto& ev : a.events) {
      model_.Apply(++seq_, ev.stream_version, ev.recorded_at, ev.payload);
      ++counts_[schema::EnumNamePayload(ev.payload.type)];
      pending_.push_back(std::move(ev));
    }
    if (pending_.size() >= opt_.batch) Flush();
    if (seq_ - last_checkpoint_ >= opt_.checkpoint_every) Checkpoint();
    return true;
  }

  void Flush() {
    if (pending_.empty()) return;
    auto r = log_->Append(tenant_, std::move(pending_), {});
    Check(r.status(), "append");
    if (r->head.seq != seq_) throw std::runtime_error("log head and model disagree");
    pending_.clear();
    ++appends_;
    while (!copies_.empty() && *copies_.begin() <= seq_) {
      const fs::path dir = fs::path(opt_.out) / std::to_string(*copies_.begin());
      fs::create_directories(dir);
      rocksdb::Checkpoint* raw = nullptr;
      Check(ledger::FromRocks(rocksdb::Checkpoint::Create(db_->db(), &raw)), "checkpoint");
      std::unique_ptr<rocksdb::Checkpoint> cp(raw);
      Check(ledger::FromRocks(cp->CreateCheckpoint((dir / "db").string())), "copy");
      std::cerr << "copy of " << seq_ << " records in " << dir.string() << "\n";
      copies_.erase(copies_.begin());
    }
  }

  // As the bus's timer does: sign the durable head, record the checkpoint.
  void Checkpoint() {
    Flush();
    auto head = log_->GetHead(tenant_);
    Check(head.status(), "head");
    const std::string name = "saalbuch/" + tenant_.get();
    auto root = merkle::Root(head->seq, ledger::TreeNodes(*log_, tenant_));
    Check(root.status(), "root");
    const std::string body = CheckpointBody({name, head->seq, std::string(AsBytes(*root))});
    last_checkpoint_ = seq_;
    Do(SignCheckpoint{head->seq, std::string(AsBytes(head->hash)), SignNote(body, name, signing_seed_),
                      VerifierKey(name, Ed25519PublicKey(signing_seed_)), std::string(AsBytes(*root))},
       "system");
  }

  TimeUs LocalTime(LocalDay day, int minute) const {
    return LocalNoon(day, zone_) + (minute - 12 * 60) * kUsPerMinute;
  }
  bool Chance(double p) { return std::uniform_real_distribution<double>(0, 1)(rng_) < p; }
  int Pick(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng_); }
  static std::string Room(int i) { return "raum-" + std::to_string(i); }

  void Setup() {
    CreateTenant t;
    t.id = tenant_;
    t.name = "Stadt Musterhausen";
    t.time_zone = "Europe/Berlin";
    t.admin_key_id = "admin";
    t.admin_key = "sba_" + std::string(32, 'a');
    Do(t, "operator");
    Do(CreateApiKey{"staff", "sbk_" + std::string(32, 's'), "staff", "Bürgerbüro"}, "key:admin");
    Do(CreateApiKey{"finance", "sbk_" + std::string(32, 'f'), "finance", "Kasse"}, "key:admin");
    Do(DefineGroup{"verein", "Vereine"}, "key:admin");
    Do(DefineGroup{"schule", "Schulen"}, "key:admin");
    for (int i = 0; i < 2000; ++i) AddCustomer();
    Rules rules;
    for (int d = 1; d <= 7; ++d) rules.opening.push_back({d, 7 * 60, 23 * 60});
    rules.granularity = 15 * kUsPerMinute;
    rules.buffer_after = 15 * kUsPerMinute;
    rules.min_duration = 30 * kUsPerMinute;
    rules.max_duration = 6 * kUsPerHour;
    rules.lead_time = kUsPerHour;
    rules.horizon = 365 * kUsPerDay;
    for (int i = 0; i < opt_.rooms + opt_.devices; ++i) {
      CreateResource c;
      c.id = ResourceId(Room(i));
      c.kind = i < opt_.rooms ? "room" : "device";
      c.name = (i < opt_.rooms ? "Raum " : "Gerät ") + std::to_string(i);
      c.description = "Erdgeschoss, barrierefrei, 40 Plätze";
      c.rules = rules;
      Do(c, "key:admin");
    }
    CreateResource pool;
    pool.id = ResourceId("tablets");
    pool.kind = "pool";
    pool.name = "Tablets";
    pool.capacity = 20;
    pool.rules = rules;
    Do(pool, "key:admin");
    CreateResource course;
    course.id = ResourceId("kurs");
    course.kind = "event";
    course.name = "Volkshochschulkurs";
    course.capacity = 30;
    Do(course, "key:admin");
    SetAddon beamer;
    beamer.id = "beamer";
    beamer.name = "Beamer";
    beamer.stock = 40;
    for (int i = 0; i < 40; ++i) beamer.offers.push_back({ResourceId(Room(i)), false});
    Do(beamer, "key:admin");
    SetAddon catering;
    catering.id = "catering";
    catering.name = "Kaffee und Kuchen";
    for (int i = 0; i < opt_.rooms; ++i) catering.offers.push_back({ResourceId(Room(i)), false});
    Do(catering, "key:admin");
    // Rooms 0–119 have usage rights: clubs need approval, schools and the
    // public may book; the rest are open to everyone.
    for (int i = 0; i < 120; ++i) {
      for (const char* g : {"verein", "schule", "public"}) {
        GrantRight r;
        r.right.id = std::string("r-") + g + "-" + std::to_string(i);
        r.right.resource = ResourceId(Room(i));
        r.right.group = g;
        r.right.needs_approval = std::string(g) == "verein";
        r.right.basis = "Benutzungsordnung §3";
        Do(r, "key:admin");
      }
    }
    // Rooms 0–99 cost 25 € an hour (19 %), free for clubs; catering 15 €.
    for (int i = 0; i < 100; ++i) {
      Do(Tariff("t-" + std::to_string(i), "resource/" + Room(i), "", TariffUnit::kHour, 2500), "key:finance");
      Do(Tariff("tv-" + std::to_string(i), "resource/" + Room(i), "verein", TariffUnit::kHour, 0),
         "key:finance");
    }
    Do(Tariff("t-catering", "addon/catering", "", TariffUnit::kBooking, 1500), "key:finance");
    for (int i = 0; i < 500; ++i) {
      const std::string person = "p-" + std::to_string(i);
      auto sealed = vault_.Seal(tenant_, person,
                                "{\"name\":\"Erika Mustermann " + std::to_string(i) + "\",\"email\":\"erika" +
                                    std::to_string(i) + "@example.org\",\"phone\":\"+49 30 1234567\"}");
      Check(sealed.status(), "seal");
      contacts_.emplace_back(person, *sealed);
    }
  }

  static SetTariff Tariff(const std::string& id, const std::string& target, const std::string& group,
                          TariffUnit unit, std::int64_t amount) {
    SetTariff t;
    t.id = id;
    t.target = target;
    t.group = group;
    t.currency = "EUR";
    t.version.unit = unit;
    t.version.amount = amount;
    t.version.tax_rate_bp = 1900;
    t.version.description = "Nutzungsentgelt";
    t.version.product = "25.20.01";
    t.version.cost_center = "4711";
    return t;
  }

  void AddCustomer() {
    const int n = static_cast<int>(customers_.size());
    RegisterCustomer c;
    c.id = "k-" + std::to_string(n);
    c.group = n % 3 == 0 ? "schule" : "verein";
    c.token = "sbc_" + std::to_string(n) + "_" + std::string(24, 'c');
    Do(c, "key:admin");
    customers_.push_back(c.token);
  }

  // One booking of `resource` for [start, end); returns its id if placed.
  std::optional<BookingId> Place(const std::string& resource, TimeUs start, TimeUs end, bool addons) {
    PlaceBooking p;
    p.id = BookingId("bk-" + std::to_string(++booking_ids_));
    p.resource = ResourceId(resource);
    p.range = {start, end};
    const char* actor = "public";
    const double who = std::uniform_real_distribution<double>(0, 1)(rng_);
    if (who < 0.55) {
      p.manage_token = "sbm_" + std::to_string(booking_ids_);
    } else if (who < 0.80) {
      p.by_staff = true;
      p.customer = "k-" + std::to_string(Pick(static_cast<int>(customers_.size())));
      actor = "key:staff";
    } else if (who < 0.92) {
      const int n = Pick(static_cast<int>(customers_.size()));
      p.customer_token = customers_[static_cast<std::size_t>(n)];
      actor = "customer";
    } else {
      p.by_staff = true;
      actor = "key:staff";
    }
    if (Chance(0.3)) {
      const auto& [person, sealed] =
          contacts_[static_cast<std::size_t>(Pick(static_cast<int>(contacts_.size())))];
      if (erased_.count(person) == 0) {
        p.person = person;
        p.personal = sealed;
      }
    }
    if (addons && Chance(0.1)) p.addons.push_back({"catering", 1});
    if (addons && Chance(0.05) && std::stoi(resource.substr(5)) < 40) p.addons.push_back({"beamer", 1});
    if (!Do(p, actor)) return std::nullopt;
    ++bookings_;
    return p.id;
  }

  void SimulateDay() {
    const LocalDay target = day_ + 14;
    now_ = std::max(now_, LocalTime(day_, 7 * 60));
    std::vector<BookingId> placed;
    const int resources = opt_.rooms + opt_.devices;
    for (int r = 0; r < resources; ++r) {
      int minute = 7 * 60 + 15 * Pick(8);
      for (;;) {
        const int length = 60 * (1 + Pick(3));
        if (minute + length > 23 * 60) break;
        now_ += 5 * kUsPerSecond;
        if (auto id = Place(Room(r), LocalTime(target, minute), LocalTime(target, minute + length),
                            r < opt_.rooms)) {
          placed.push_back(*id);
          PayIfPriced(*id);
        }
        minute += length + 15 * (1 + Pick(8));  // the 15-minute buffer at least
      }
    }
    // Tablets: 2-hour slots, a few units each, never more than 20 at once.
    for (int slot = 0; slot < 7; ++slot) {
      now_ += 5 * kUsPerSecond;
      for (int k = 0; k < 3; ++k) {
        PlaceBooking p;
        p.id = BookingId("bk-" + std::to_string(++booking_ids_));
        p.resource = ResourceId("tablets");
        p.range = {LocalTime(target, (8 + 2 * slot) * 60), LocalTime(target, (10 + 2 * slot) * 60)};
        p.units = static_cast<std::uint32_t>(1 + Pick(5));
        p.by_staff = true;
        if (Do(p)) {
          ++bookings_;
          placed.push_back(p.id);
        }
      }
    }
    // The course: one session a day, booked by the public.
    ScheduleSession s;
    s.resource = ResourceId("kurs");
    s.session_id = "s-" + std::to_string(target);
    s.range = {LocalTime(target, 18 * 60), LocalTime(target, 20 * 60)};
    s.seats = 30;
    s.title = "Spanisch für Anfänger";
    Do(s, "key:admin");
    for (int k = 0; k < 10; ++k) {
      PlaceBooking p;
      p.id = BookingId("bk-" + std::to_string(++booking_ids_));
      p.resource = ResourceId("kurs");
      p.session = s.session_id;
      p.units = static_cast<std::uint32_t>(1 + Pick(3));
      p.manage_token = "sbm_" + std::to_string(booking_ids_);
      if (Do(p, "public")) {
        ++bookings_;
        placed.push_back(p.id);
      }
    }
    // Evening: clubs' requests decided, some cancellations, holds expire.
    now_ = std::max(now_, LocalTime(day_, 19 * 60));
    for (const BookingId& id : placed) {
      const Booking* b = model_.FindBooking(id);
      if (b == nullptr) continue;
      if (b->status == BookingStatus::kRequested) {
        if (Chance(0.85)) {
          Do(ApproveBooking{id, "Vereinsnutzung genehmigt", std::nullopt});
          PayIfPriced(id);
        } else {
          Do(RejectBooking{id, "Raum wird renoviert", std::nullopt});
        }
      } else if (IsOpen(b->status) && Chance(0.07)) {
        CancelBooking c;
        c.id = id;
        c.by_staff = true;
        c.reason = "Veranstaltung fällt aus";
        c.waive_fee = Chance(0.5);
        Do(c);
      }
    }
    now_ += kUsPerHour;
    Do(ExpireHolds{}, "system");
    if (days_ % 7 == 0) {
      for (int i = 0; i < 20; ++i) AddCustomer();
    }
    if (days_ % 30 == 29) {
      const auto& person =
          contacts_[static_cast<std::size_t>(Pick(static_cast<int>(contacts_.size())))].first;
      if (erased_.insert(person).second) Do(ErasePerson{person, "Art. 17 DSGVO"}, "key:admin");
    }
    if (days_ % 365 == 364) {
      // A price rise from next month, and the books of last year closed.
      for (int i = 0; i < 100; ++i) {
        SetTariff t = Tariff("t-" + std::to_string(i), "resource/" + Room(i), "", TariffUnit::kHour,
                             2500 + 100 * (days_ / 365 + 1));
        t.version.valid_from = now_ + 30 * kUsPerDay;
        Do(t, "key:finance");
      }
      const int year = LocalYear(now_, zone_);
      auto through = ParseLocalDay(std::to_string(year - 1) + "-12-31");
      if (through) Do(ClosePeriod{*through}, "key:finance");
    }
    ++day_;
  }

  // A priced held booking is paid through the provider (mostly); a priced
  // confirmed staff booking by bank transfer (mostly).
  void PayIfPriced(const BookingId& id) {
    const Invoice* inv = model_.books().InvoiceOf(id);
    const Booking* b = model_.FindBooking(id);
    if (inv == nullptr || b == nullptr || inv->open() <= 0) return;
    if (b->status == BookingStatus::kHeld) {
      if (!Chance(0.8)) return;  // left to expire
      RecordProviderEvent e;
      e.event_id = "evt_" + id.get();
      e.type = "payment.succeeded";
      e.payment = "pay_" + id.get();
      e.invoice = inv->id;
      e.amount = inv->open();
      e.fee = 25;
      e.currency = "EUR";
      Do(e, "provider");
    } else if (b->status == BookingStatus::kConfirmed && Chance(0.7)) {
      RecordPayment p;
      p.invoice = inv->id;
      p.reference = "KZ-" + id.get();
      p.method = Chance(0.8) ? "bank_transfer" : "cash";
      p.amount = inv->open();
      p.currency = "EUR";
      Do(p, "key:finance");
    }
  }

  const GenerateOptions& opt_;
  ledger::Database* db_;
  ledger::RocksLog* log_;
  ledger::Vault vault_;
  std::mt19937_64 rng_;
  const TenantId tenant_{"stadt"};
  std::string signing_seed_;
  const Zone* zone_ = nullptr;
  TenantModel model_;
  std::vector<ledger::EventDraft> pending_;
  std::set<std::uint64_t> copies_;
  std::vector<std::string> customers_;  // tokens
  std::vector<std::pair<std::string, std::string>> contacts_;
  std::set<std::string> erased_;
  Seq seq_ = 0;
  Seq last_checkpoint_ = 0;
  TimeUs now_ = 0;
  LocalDay day_ = 0;
  std::uint64_t days_ = 0;
  std::uint64_t commands_ = 0;
  std::uint64_t booking_ids_ = 0;
  std::uint64_t bookings_ = 0;
  std::uint64_t appends_ = 0;
  std::uint64_t refused_total_ = 0;
  std::map<std::string, std::uint64_t> counts_;
  std::map<std::string, std::uint64_t> refused_;
};

int Generate(const GenerateOptions& opt) {
  const fs::path dir = fs::path(opt.out) / std::to_string(opt.events);
  if (fs::exists(dir)) throw std::runtime_error(dir.string() + " exists already");
  fs::create_directories(dir);
  auto db = ledger::Database::Open((dir / "db").string(), {});
  Check(db.status(), "open");
  ledger::RocksLog log(db->get());
  Generator g(opt, db->get(), &log);
  g.Run();
  return 0;
}

// ---------------------------------------------------------------------------
// rebuild

int Rebuild(const std::string& data) {
  auto db = ledger::Database::Open((fs::path(data) / "db").string(), {});
  Check(db.status(), "open");
  ledger::RocksLog log(db->get());
  std::uint64_t records = 0;
  for (const auto& t : log.Tenants()) {
    auto h = log.GetHead(t);
    Check(h.status(), "head");
    records += h->seq;
  }
  projections::Runner runner(db->get(), &log);
  const auto start = Clock::now();
  Check(runner.Start(), "projections");
  const double secs = Seconds(Clock::now() - start);
  runner.Shutdown();
  rusage ru{};
  ::getrusage(RUSAGE_SELF, &ru);
  std::cout << "rebuild " << data << ": " << records << " records in " << secs << " s, "
            << static_cast<std::uint64_t>(static_cast<double>(records) / secs) << " records/s, peak RSS "
            << ru.ru_maxrss / 1024 << " MiB\n";
  return 0;
}

// ---------------------------------------------------------------------------
// snapshot

// The parts of a write-model snapshot, timed one by one on each tenant: the
// fold of the whole log, encoding, storing (RocksLog::PutSnapshot), reading
// back and decoding; then checks that the decoded model equals the folded.
int SnapshotParts(const std::string& data) {
  auto db = ledger::Database::Open((fs::path(data) / "db").string(), {});
  Check(db.status(), "open");
  ledger::RocksLog log(db->get());
  for (const auto& t : log.Tenants()) {
    auto start = Clock::now();
    commands::TenantModel model;
    Sha256 hash{};
    Check(commands::FoldLog(log, t, 0, &model, &hash), "fold");
    const double fold = Seconds(Clock::now() - start);
    start = Clock::now();
    const std::string bytes = commands::EncodeSnapshot(model, hash);
    const double encode = Seconds(Clock::now() - start);
    start = Clock::now();
    Check(log.PutSnapshot(t, model.position(), bytes, 2), "store");
    const double store = Seconds(Clock::now() - start);
    start = Clock::now();
    auto read = log.GetSnapshot(t, model.position());
    Check(read.status(), "read back");
    const double get = Seconds(Clock::now() - start);
    start = Clock::now();
    auto decoded = commands::DecodeSnapshot(*read);
    Check(decoded.status(), "decode");
    const double decode = Seconds(Clock::now() - start);
    rusage ru{};
    ::getrusage(RUSAGE_SELF, &ru);
    std::cout << "snapshot " << t.get() << " at " << model.position() << " (" << model.booking_count()
              << " bookings, " << model.books().invoices().size()
              << " invoices held): " << bytes.size() / (std::size_t{1024} * 1024) << " MiB; fold " << fold
              << " s, encode " << encode << " s, store " << store << " s, read " << get << " s, decode "
              << decode << " s; equal " << (*decoded == model ? "yes" : "NO") << "; peak RSS "
              << ru.ru_maxrss / 1024 << " MiB\n";
    if (!(*decoded == model)) return 1;
  }
  return 0;
}

// ---------------------------------------------------------------------------
// startup

int Startup(const std::string& data, const std::string& saalbuchd, const std::string& log_level,
            const std::vector<std::string>& extra) {
  int out[2];
  if (::pipe(out) != 0) throw std::runtime_error("pipe");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
  posix_spawn_file_actions_addclose(&actions, out[0]);
  std::vector<std::string> args = {saalbuchd,     "--data",      data,     "--listen",
                                   "127.0.0.1:0", "--log-level", log_level};
  args.insert(args.end(), extra.begin(), extra.end());
  std::vector<char*> argv;
  argv.reserve(args.size() + 1);
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  ::setenv("SAALBUCH_OPERATOR_KEY", "sbo_replay_bench_operator_key_000", 1);
  pid_t pid = 0;
  const auto start = Clock::now();
  if (posix_spawn(&pid, saalbuchd.c_str(), &actions, nullptr, argv.data(), environ) != 0) {
    throw std::runtime_error("cannot start " + saalbuchd);
  }
  posix_spawn_file_actions_destroy(&actions);
  ::close(out[1]);
  std::string seen;
  char buf[4096];
  double ready = -1;
  for (;;) {
    const ssize_t n = ::read(out[0], buf, sizeof buf);
    if (n <= 0) break;
    seen.append(buf, static_cast<std::size_t>(n));
    if (seen.find("Saalbuch listening on") != std::string::npos &&
        seen.find('\n', seen.find("listening")) != std::string::npos) {
      ready = Seconds(Clock::now() - start);
      break;
    }
  }
  const auto stop = Clock::now();
  ::kill(pid, SIGTERM);
  while (::read(out[0], buf, sizeof buf) > 0) {
  }
  ::close(out[0]);
  int status = 0;
  rusage ru{};
  ::wait4(pid, &status, 0, &ru);
  const double stopped = Seconds(Clock::now() - stop);
  if (ready < 0) {
    std::cerr << "saalbuchd did not become ready; its output:\n" << seen;
    return 1;
  }
  std::cout << "startup " << data << ": ready after " << ready << " s; stopped in " << stopped << " s (exit "
            << (WIFEXITED(status) ? WEXITSTATUS(status) : -1) << "); peak RSS " << ru.ru_maxrss / 1024
            << " MiB; CPU " << ru.ru_utime.tv_sec + ru.ru_stime.tv_sec << " s\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"saalbuch-replay-bench — long logs: generate, rebuild projections, time server start-up"};
  app.set_version_flag("--version", VersionLine("saalbuch-replay-bench"),
                       "Print the version and the git revision, then exit");
  app.require_subcommand(1);
  GenerateOptions gen;
  auto* generate = app.add_subcommand("generate", "Write a tenant's log of --events records");
  generate
      ->add_option("--out", gen.out, "Directory; the log goes to <out>/<events>/db, copies to <out>/<n>/db")
      ->required();
  generate->add_option("--events", gen.events, "Records to write (at least; the last day is finished)")
      ->capture_default_str();
  generate->add_option("--copy-at", gen.copy_at, "Also keep copies at these lengths (list)")->delimiter(',');
  generate->add_option("--batch", gen.batch, "Records per durable append (one WAL sync each)")
      ->check(CLI::Range(1, 1'000'000))
      ->capture_default_str();
  generate->add_option("--checkpoint-every", gen.checkpoint_every, "Records between signed checkpoints")
      ->check(CLI::Range(1, 100'000'000))
      ->capture_default_str();
  generate->add_option("--seed", gen.seed, "Random seed")->capture_default_str();
  std::string data;
  auto* rebuild = app.add_subcommand("rebuild", "Fold every projection from seq 1 into RocksDB, timed");
  rebuild->add_option("--data", data, "Data directory (holds db/)")->required();
  auto* snapshot = app.add_subcommand(
      "snapshot", "Time a write-model snapshot's parts: fold, encode, store, read, decode (stores one)");
  snapshot->add_option("--data", data, "Data directory (holds db/)")->required();
  std::string saalbuchd = SAALBUCHD_PATH;
  std::vector<std::string> extra;
  auto* startup = app.add_subcommand("startup", "Time saalbuchd from start until it prints its URL");
  startup->add_option("--data", data, "Data directory (holds db/)")->required();
  startup->add_option("--saalbuchd", saalbuchd, "The server binary")->capture_default_str();
  startup->add_option("--server-arg", extra, "Extra argument for saalbuchd (repeatable)");
  std::string log_level = "warn";
  startup
      ->add_option("--server-log-level", log_level,
                   "saalbuchd's --log-level; with info its log (on stderr) times the write model's rebuild "
                   "and snapshot writes")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  try {
    if (*generate) return Generate(gen);
    if (*rebuild) return Rebuild(data);
    if (*snapshot) return SnapshotParts(data);
    if (*startup) return Startup(data, saalbuchd, log_level, extra);
  } catch (const std::exception& e) {
    std::cerr << "saalbuch-replay-bench: " << e.what() << "\n";
    return 2;
  }
  return 0;
}
