// saalbuch-bench: durable booking commands per second.
//
// Two ways in, each with 1, 10 and 100 tenants by default:
//   inproc  a RocksDB directory under /tmp, RocksLog, CommandBus and the
//           projections Runner wired like saalbuchd; client threads submit
//           PlaceBooking commands directly to the bus.
//   http    the real saalbuchd on loopback; client threads POST bookings over
//           keep-alive HTTP/1.1 connections (Boost.Beast, synchronous).
//
// Clients run a closed loop: each waits for its answer before it sends the
// next command, so `--clients` is the number of outstanding commands. Every
// booking asks for a 15-minute slot days ahead in a room that is always
// open; slots are handed out per room so that they do not overlap, except
// for `--clash-percent` of them, which repeat a slot already handed out and
// should be refused (409 booking_conflict).
//
// This is a program that prints figures, not a test: it asserts nothing
// about speed. It exits non-zero only when the set-up fails.

#include <fcntl.h>
#include <poll.h>
#include <prometheus/registry.h>
#include <rocksdb/env.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <iostream>
#include <latch>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "commands/bus.h"
#include "common/build_info.h"
#include "common/crypto.h"
#include "common/time.h"
#include "ledger/database.h"
#include "ledger/rocks_log.h"
#include "projections/runner.h"

extern char** environ;

namespace fs = std::filesystem;
namespace net = boost::asio;
namespace beast_http = boost::beast::http;
using net::ip::tcp;
using namespace saalbuch;

namespace {

using Clock = std::chrono::steady_clock;
constexpr TimeUs kUsPerHour = 60 * kUsPerMinute;
constexpr TimeUs kSlot = 15 * kUsPerMinute;

struct Options {
  double seconds = 5;
  double warmup = 1;
  std::vector<int> clients{64};
  std::vector<int> tenants{1, 10, 100};
  std::string mode = "all";
  int rooms = 4;
  int clash_percent = 5;
  int writer_threads = 2;  // as saalbuchd
  int io_threads = 2;
  std::string tmp = "/tmp";
  std::string saalbuchd = SAALBUCHD_PATH;
  bool count_syncs = true;
  // http: client 0 follows each accepted booking with an availability query
  // naming the reply's position (Saalbuch-Min-Position), and the bench
  // reports how long those took: the projection lag a client sees when it
  // reads its own write under full booking load.
  bool read_your_writes = false;
};

// ---------------------------------------------------------------------------
// Helpers

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

void SleepFor(double seconds) { std::this_thread::sleep_for(std::chrono::duration<double>(seconds)); }

// CPU seconds (user + system) this process has used.
double SelfCpuSeconds() {
  rusage ru{};
  ::getrusage(RUSAGE_SELF, &ru);
  auto tv = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
  return tv(ru.ru_utime) + tv(ru.ru_stime);
}

// CPU seconds (user + system) of process `pid`, from /proc; -1 if unknown.
double ProcessCpuSeconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto paren = all.rfind(')');
  if (paren == std::string::npos) return -1;
  std::istringstream rest(all.substr(paren + 2));
  std::string field;
  // After "pid (comm) ", fields start at 3 (state); utime is 14, stime 15.
  double utime = 0, stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14) utime = std::stod(field);
    if (i == 15) stime = std::stod(field);
  }
  return (utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

// A fresh directory under `parent`, removed with everything in it when the
// guard goes out of scope.
class TempDir {
 public:
  explicit TempDir(const std::string& parent) {
    std::string templ = (fs::path(parent) / "saalbuch-bench-XXXXXX").string();
    if (::mkdtemp(templ.data()) == nullptr) {
      throw std::runtime_error("mkdtemp in " + parent + ": " + std::strerror(errno));
    }
    path_ = templ;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

std::string TenantName(int i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "bench-%03d", i);
  return buf;
}

std::string RoomName(int i) { return "room-" + std::to_string(i + 1); }

// Hands out 15-minute slots per (tenant, room), from two days ahead (a
// minute-scale load on one room stays well inside the 5-year horizon). A
// clash repeats a slot already handed out.
class Slots {
 public:
  Slots(int tenants, int rooms)
      : tenants_(tenants), rooms_(rooms), next_(static_cast<std::size_t>(tenants) * rooms) {
    const TimeUs now = std::chrono::duration_cast<std::chrono::microseconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count();
    base_ = (now / kUsPerHour + TimeUs{2} * 24) * kUsPerHour;
  }

  struct Pick {
    int tenant = 0;
    int room = 0;
    TimeRange range;
    bool clash = false;
  };

  Pick Next(std::mt19937_64& rng, int clash_percent) {
    Pick p;
    p.tenant = static_cast<int>(rng() % tenants_);
    p.room = static_cast<int>(rng() % rooms_);
    auto& counter = next_[static_cast<std::size_t>(p.tenant) * rooms_ + p.room];
    std::uint64_t slot = 0;
    const std::uint64_t handed_out = counter.load(std::memory_order_relaxed);
    if (handed_out > 0 && static_cast<int>(rng() % 100) < clash_percent) {
      slot = rng() % handed_out;
      p.clash = true;
    } else {
      slot = counter.fetch_add(1, std::memory_order_relaxed);
    }
    p.range.start = base_ + static_cast<TimeUs>(slot) * kSlot;
    p.range.end = p.range.start + kSlot;
    return p;
  }

 private:
  int tenants_;
  int rooms_;
  TimeUs base_ = 0;
  std::vector<std::atomic<std::uint64_t>> next_;
};

// What the clients saw during the measured window.
struct Tally {
  std::vector<std::uint32_t> latency_us;
  std::uint64_t created = 0;
  std::uint64_t conflict = 0;
  std::map<std::string, std::uint64_t> other;  // "<status> <code>" → count
  // --read-your-writes: latencies of the follow-up queries, and those that
  // did not answer 200 with the booking busy.
  std::vector<std::uint32_t> read_own_us;
  std::uint64_t read_own_missed = 0;

  void Merge(Tally&& t) {
    latency_us.insert(latency_us.end(), t.latency_us.begin(), t.latency_us.end());
    read_own_us.insert(read_own_us.end(), t.read_own_us.begin(), t.read_own_us.end());
    read_own_missed += t.read_own_missed;
    created += t.created;
    conflict += t.conflict;
    for (auto& [k, v] : t.other) other[k] += v;
  }
  std::uint64_t total() const {
    std::uint64_t n = created + conflict;
    for (const auto& [k, v] : other) n += v;
    return n;
  }
};

// The state a run goes through: warm-up (not counted), measured, stop.
enum Phase : int { kWarmup = 0, kMeasure = 1, kStop = 2 };

// Server-side figures from the command bus's metrics.
struct BusStats {
  double batches = 0;         // batches drained (commands per batch: histogram)
  double batch_commands = 0;  // sum of their sizes
  double appends = 0;         // durable log appends
  double append_seconds = 0;  // their total time
  double syncs = 0;           // syncs of the log (group commit across tenants)
  double sync_seconds = 0;    // their total time
  double synced_batches = 0;  // batches they made durable
};

BusStats operator-(const BusStats& a, const BusStats& b) {
  return {a.batches - b.batches,
          a.batch_commands - b.batch_commands,
          a.appends - b.appends,
          a.append_seconds - b.append_seconds,
          a.syncs - b.syncs,
          a.sync_seconds - b.sync_seconds,
          a.synced_batches - b.synced_batches};
}

BusStats StatsFromRegistry(prometheus::Registry& registry) {
  BusStats s;
  for (const auto& family : registry.Collect()) {
    for (const auto& m : family.metric) {
      if (family.name == "saalbuch_log_append_batch_commands") {
        s.batches += static_cast<double>(m.histogram.sample_count);
        s.batch_commands += m.histogram.sample_sum;
      } else if (family.name == "saalbuch_log_append_seconds") {
        s.appends += static_cast<double>(m.histogram.sample_count);
        s.append_seconds += m.histogram.sample_sum;
      } else if (family.name == "saalbuch_log_sync_seconds") {
        s.syncs += static_cast<double>(m.histogram.sample_count);
        s.sync_seconds += m.histogram.sample_sum;
      } else if (family.name == "saalbuch_log_sync_batches") {
        s.synced_batches += m.histogram.sample_sum;
      }
    }
  }
  return s;
}

// Sums the samples of `name` (with any labels) in Prometheus text format.
double SumMetric(const std::string& text, const std::string& name) {
  double sum = 0;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.size() <= name.size() || line.compare(0, name.size(), name) != 0) continue;
    const char next = line[name.size()];
    if (next != ' ' && next != '{') continue;
    const auto space = line.rfind(' ');
    sum += std::strtod(line.c_str() + space + 1, nullptr);
  }
  return sum;
}

BusStats StatsFromText(const std::string& text) {
  return {SumMetric(text, "saalbuch_log_append_batch_commands_count"),
          SumMetric(text, "saalbuch_log_append_batch_commands_sum"),
          SumMetric(text, "saalbuch_log_append_seconds_count"),
          SumMetric(text, "saalbuch_log_append_seconds_sum"),
          SumMetric(text, "saalbuch_log_sync_seconds_count"),
          SumMetric(text, "saalbuch_log_sync_seconds_sum"),
          SumMetric(text, "saalbuch_log_sync_batches_sum")};
}

// Counts the syncs of RocksDB's write-ahead log (files "*.log") and the time
// they take. Installed through DatabaseOptions::env; everything else goes to
// the default Env unchanged.
struct SyncCounter {
  std::atomic<std::uint64_t> syncs{0};
  std::atomic<std::uint64_t> nanos{0};
};

class CountingWalFile final : public rocksdb::WritableFileWrapper {
 public:
  CountingWalFile(std::unique_ptr<rocksdb::WritableFile> target, SyncCounter* counter)
      : rocksdb::WritableFileWrapper(target.get()), owned_(std::move(target)), counter_(counter) {}
  rocksdb::Status Sync() override {
    return Count([&] { return WritableFileWrapper::Sync(); });
  }
  rocksdb::Status Fsync() override {
    return Count([&] { return WritableFileWrapper::Fsync(); });
  }

 private:
  template <typename F>
  rocksdb::Status Count(F f) {
    const auto t0 = Clock::now();
    rocksdb::Status s = f();
    counter_->nanos += static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t0).count());
    ++counter_->syncs;
    return s;
  }
  std::unique_ptr<rocksdb::WritableFile> owned_;
  SyncCounter* counter_;
};

class CountingEnv final : public rocksdb::EnvWrapper {
 public:
  CountingEnv() : rocksdb::EnvWrapper(rocksdb::Env::Default()) {}
  const char* Name() const override { return "SaalbuchBenchCountingEnv"; }

  rocksdb::Status NewWritableFile(const std::string& f, std::unique_ptr<rocksdb::WritableFile>* r,
                                  const rocksdb::EnvOptions& options) override {
    auto s = target()->NewWritableFile(f, r, options);
    if (s.ok() && f.ends_with(".log")) *r = std::make_unique<CountingWalFile>(std::move(*r), &wal);
    return s;
  }
  rocksdb::Status ReopenWritableFile(const std::string& f, std::unique_ptr<rocksdb::WritableFile>* r,
                                     const rocksdb::EnvOptions& options) override {
    auto s = target()->ReopenWritableFile(f, r, options);
    if (s.ok() && f.ends_with(".log")) *r = std::make_unique<CountingWalFile>(std::move(*r), &wal);
    return s;
  }
  rocksdb::Status ReuseWritableFile(const std::string& f, const std::string& old,
                                    std::unique_ptr<rocksdb::WritableFile>* r,
                                    const rocksdb::EnvOptions& options) override {
    auto s = target()->ReuseWritableFile(f, old, r, options);
    if (s.ok() && f.ends_with(".log")) *r = std::make_unique<CountingWalFile>(std::move(*r), &wal);
    return s;
  }

  SyncCounter wal;
};

// Figures of one scenario.
struct Figures {
  std::string mode;
  int tenants = 0;
  int clients = 0;
  double seconds = 0;
  Tally tally;
  BusStats bus;
  double wal_syncs = -1;   // inproc only: WAL syncs in the window
  double wal_sync_ms = 0;  // inproc only: their mean duration
  double cpu_self = 0;     // CPU seconds of this process in the window
  double cpu_server = -1;  // http only: CPU seconds of saalbuchd
  std::uint64_t http_5xx = 0;
  std::uint64_t transport_errors = 0;

  double rate() const { return seconds > 0 ? static_cast<double>(tally.total()) / seconds : 0; }
};

double Percentile(const std::vector<std::uint32_t>& sorted, double q) {
  if (sorted.empty()) return 0;
  auto i = static_cast<std::size_t>(q * static_cast<double>(sorted.size()));
  return sorted[std::min(i, sorted.size() - 1)] / 1000.0;  // ms
}

void Print(Figures& r) {
  auto& lat = r.tally.latency_us;
  std::sort(lat.begin(), lat.end());
  std::printf("%-6s tenants=%-3d clients=%-3d  %8.0f cmd/s  (%llu in %.2f s)\n", r.mode.c_str(), r.tenants,
              r.clients, r.rate(), static_cast<unsigned long long>(r.tally.total()), r.seconds);
  std::printf("       accepted %llu, booking_conflict %llu", static_cast<unsigned long long>(r.tally.created),
              static_cast<unsigned long long>(r.tally.conflict));
  for (const auto& [k, v] : r.tally.other) {
    std::printf(", %s: %llu", k.c_str(), static_cast<unsigned long long>(v));
  }
  std::printf("\n       latency ms: p50 %.2f  p90 %.2f  p99 %.2f  max %.2f\n", Percentile(lat, 0.5),
              Percentile(lat, 0.9), Percentile(lat, 0.99), Percentile(lat, 1.0));
  if (auto& own = r.tally.read_own_us; !own.empty()) {
    std::sort(own.begin(), own.end());
    std::printf(
        "       read-your-writes ms (%zu queries naming their booking's position): p50 %.2f  p99 %.2f  "
        "max %.2f; %llu without the booking\n",
        own.size(), Percentile(own, 0.5), Percentile(own, 0.99), Percentile(own, 1.0),
        static_cast<unsigned long long>(r.tally.read_own_missed));
  }
  if (r.bus.batches > 0) {
    std::printf("       bus: %.0f batches, %.1f commands/batch; %.0f log appends, %.2f ms/append",
                r.bus.batches, r.bus.batch_commands / r.bus.batches, r.bus.appends,
                r.bus.appends > 0 ? 1000 * r.bus.append_seconds / r.bus.appends : 0.0);
    if (r.bus.syncs > 0) {
      std::printf("\n       group commit: %.0f syncs (%.2f ms each), %.1f batches/sync", r.bus.syncs,
                  1000 * r.bus.sync_seconds / r.bus.syncs, r.bus.synced_batches / r.bus.syncs);
    }
    if (r.wal_syncs > 0) {
      std::printf("\n       WAL: %.0f syncs (%.2f ms each), %.1f commands/sync, %.1f log appends/sync",
                  r.wal_syncs, r.wal_sync_ms, static_cast<double>(r.tally.total()) / r.wal_syncs,
                  r.bus.appends / r.wal_syncs);
    }
    std::printf("\n");
  }
  std::printf("       CPU: %s %.0f%%",
              r.mode == "inproc" ? "process (clients + bus + RocksDB)" : "bench clients",
              100 * r.cpu_self / r.seconds);
  if (r.cpu_server >= 0) std::printf(", saalbuchd %.0f%%", 100 * r.cpu_server / r.seconds);
  std::printf(" of one core\n");
  if (r.mode == "http" && (r.http_5xx > 0 || r.transport_errors > 0)) {
    std::printf("       WARNING: %llu 5xx responses, %llu transport errors\n",
                static_cast<unsigned long long>(r.http_5xx),
                static_cast<unsigned long long>(r.transport_errors));
  }
  std::fflush(stdout);
}

// Runs `clients` threads of `client(index, phase, tally)` through warm-up and
// the measured window; `before`/`after` run at the window's edges.
template <typename Client>
double RunClients(const Options& opt, int clients, Client client, const std::function<void()>& before,
                  const std::function<void()>& after, std::vector<Tally>* tallies) {
  std::atomic<int> phase{kWarmup};
  tallies->assign(clients, Tally{});
  std::vector<std::thread> threads;
  threads.reserve(clients);
  for (int i = 0; i < clients; ++i) {
    threads.emplace_back([&, i] { client(i, phase, (*tallies)[i]); });
  }
  SleepFor(opt.warmup);
  before();
  const auto start = Clock::now();
  phase = kMeasure;
  SleepFor(opt.seconds);
  after();
  phase = kStop;
  const double elapsed = Seconds(Clock::now() - start);
  for (auto& t : threads) t.join();
  return elapsed;
}

// ---------------------------------------------------------------------------
// In process

commands::Outcome RunCommand(commands::CommandBus& bus, commands::Submission s) {
  // The callback owns the promise, so that nothing it touches can go away
  // while it still runs on the writer thread.
  auto done = std::make_shared<std::promise<commands::Outcome>>();
  auto answer = done->get_future();
  bus.Submit(std::move(s), [done](commands::Outcome o) { done->set_value(std::move(o)); });
  return answer.get();
}

// Submits all at once and waits; throws unless every one was created.
void RunAll(commands::CommandBus& bus, std::vector<commands::Submission> subs) {
  std::latch done(static_cast<std::ptrdiff_t>(subs.size()));
  std::mutex mu;
  std::string failure;
  for (auto& s : subs) {
    bus.Submit(std::move(s), [&](const commands::Outcome& o) {
      if (o.kind != commands::Outcome::Kind::kCreated) {
        std::lock_guard lock(mu);
        failure = o.body.dump();
      }
      done.count_down();
    });
  }
  done.wait();
  if (!failure.empty()) throw std::runtime_error("set-up command failed: " + failure);
}

commands::Context SetupContext(const TenantId& t, const char* actor) {
  commands::Context c;
  c.tenant = t;
  c.actor = actor;
  c.command_id = "setup-" + RandomHex(6);
  c.correlation_id = "bench-setup";
  return c;
}

Figures RunInProcess(const Options& opt, int tenants, int clients) {
  TempDir dir(opt.tmp);
  CountingEnv env;  // outlives the database
  ledger::DatabaseOptions db_options;
  if (opt.count_syncs) db_options.env = &env;
  auto db = ledger::Database::Open((dir.path() / "db").string(), db_options);
  if (!db.ok()) throw std::runtime_error("opening RocksDB: " + db.status().ToString());
  ledger::RocksLog log(db->get());
  prometheus::Registry registry;
  projections::Runner runner(db->get(), &log);
  commands::BusOptions bus_options;
  bus_options.writer_threads = opt.writer_threads;
  bus_options.on_appended = [&runner](const TenantId& t, Seq head) { runner.Notify(t, head); };
  commands::CommandBus bus(&log, &registry, bus_options);
  if (Status s = bus.Start(); !s.ok()) throw std::runtime_error("bus: " + s.ToString());
  if (Status s = runner.Start(); !s.ok()) throw std::runtime_error("runner: " + s.ToString());

  std::vector<TenantId> ids;
  std::vector<commands::Submission> setup;
  for (int i = 0; i < tenants; ++i) {
    ids.emplace_back(TenantName(i));
    commands::Submission s;
    s.ctx = SetupContext(ids.back(), "operator");
    s.command = commands::CreateTenant{ids.back(), "Bench " + ids.back().get(), "Europe/Berlin",
                                       "key_" + RandomHex(6), "sbk_" + RandomHex(24)};
    setup.push_back(std::move(s));
  }
  RunAll(bus, std::move(setup));
  setup.clear();
  for (int i = 0; i < tenants; ++i) {
    for (int r = 0; r < opt.rooms; ++r) {
      commands::Submission s;
      s.ctx = SetupContext(ids[i], "operator");
      s.command = commands::CreateResource{
          ResourceId(RoomName(r)), "room", "Room " + std::to_string(r + 1), "", std::nullopt, 1, {}, {}};
      setup.push_back(std::move(s));
    }
  }
  RunAll(bus, std::move(setup));

  Slots slots(tenants, opt.rooms);
  BusStats stats_before, stats_after;
  std::uint64_t syncs_before = 0, syncs_after = 0, nanos_before = 0, nanos_after = 0;
  double cpu_before = 0, cpu_after = 0;
  auto client = [&](int index, std::atomic<int>& phase, Tally& tally) {
    std::mt19937_64 rng(0x5aa1b0c4ULL * (index + 1));
    std::uint64_t n = 0;
    const std::string prefix = "bk_c" + std::to_string(index) + "_";
    while (phase.load(std::memory_order_relaxed) != kStop) {
      const Slots::Pick pick = slots.Next(rng, opt.clash_percent);
      commands::Submission s;
      s.ctx.tenant = ids[pick.tenant];
      s.ctx.actor = "key:bench";
      s.ctx.command_id = prefix + std::to_string(n);
      s.ctx.correlation_id = s.ctx.command_id;
      commands::PlaceBooking place;
      place.id = BookingId(prefix + std::to_string(n));
      place.resource = ResourceId(RoomName(pick.room));
      place.range = pick.range;
      place.by_staff = true;
      s.command = std::move(place);
      ++n;
      const auto t0 = Clock::now();
      commands::Outcome o = RunCommand(bus, std::move(s));
      const auto t1 = Clock::now();
      if (phase.load(std::memory_order_relaxed) != kMeasure) continue;
      tally.latency_us.push_back(
          static_cast<std::uint32_t>(std::chrono::duration_cast<std::chrono::microseconds>(t1 - t0).count()));
      using K = commands::Outcome::Kind;
      const std::string code = o.body.value("code", "");
      if (o.kind == K::kCreated) {
        ++tally.created;
      } else if (o.kind == K::kRejected && code == "booking_conflict") {
        ++tally.conflict;
      } else {
        ++tally.other[std::string(o.kind == K::kRejected ? "rejected " : "failed ") + code];
      }
    }
  };
  std::vector<Tally> tallies;
  Figures r;
  r.seconds = RunClients(
      opt, clients, client,
      [&] {
        stats_before = StatsFromRegistry(registry);
        syncs_before = env.wal.syncs;
        nanos_before = env.wal.nanos;
        cpu_before = SelfCpuSeconds();
      },
      [&] {
        stats_after = StatsFromRegistry(registry);
        syncs_after = env.wal.syncs;
        nanos_after = env.wal.nanos;
        cpu_after = SelfCpuSeconds();
      },
      &tallies);
  bus.Shutdown();
  runner.Shutdown();

  r.mode = "inproc";
  r.tenants = tenants;
  r.clients = clients;
  for (auto& t : tallies) r.tally.Merge(std::move(t));
  r.bus = stats_after - stats_before;
  if (opt.count_syncs && syncs_after > syncs_before) {
    r.wal_syncs = static_cast<double>(syncs_after - syncs_before);
    r.wal_sync_ms = static_cast<double>(nanos_after - nanos_before) / 1e6 / r.wal_syncs;
  }
  r.cpu_self = cpu_after - cpu_before;
  return r;
}

// ---------------------------------------------------------------------------
// Over HTTP

// One keep-alive HTTP/1.1 connection; reconnects after an error.
class HttpClient {
 public:
  HttpClient(std::string host, unsigned short port) : host_(std::move(host)), port_(port), socket_(ioc_) {}

  struct Reply {
    int status = 0;  // 0: transport error
    std::string body;
    std::string error;
    std::string position;  // Saalbuch-Position
  };

  Reply Call(beast_http::verb method, const std::string& target, const std::string& key,
             const std::string& body = {}) {
    Reply r;
    boost::system::error_code ec;
    if (!socket_.is_open()) {
      socket_.connect(tcp::endpoint(net::ip::make_address(host_), port_), ec);
      if (ec) {
        Close();
        r.error = "connect: " + ec.message();
        return r;
      }
      socket_.set_option(tcp::no_delay(true), ec);
    }
    beast_http::request<beast_http::string_body> req{method, target, 11};
    req.set(beast_http::field::host, host_ + ":" + std::to_string(port_));
    req.set(beast_http::field::user_agent, "saalbuch-bench");
    if (!key.empty()) req.set(beast_http::field::authorization, "Bearer " + key);
    if (method == beast_http::verb::post) {
      req.set(beast_http::field::content_type, "application/json");
      req.body() = body;
    }
    req.keep_alive(true);
    req.prepare_payload();
    beast_http::write(socket_, req, ec);
    if (ec) {
      Close();
      r.error = "write: " + ec.message();
      return r;
    }
    beast_http::response<beast_http::string_body> res;
    beast_http::read(socket_, buffer_, res, ec);
    if (ec) {
      Close();
      r.error = "read: " + ec.message();
      return r;
    }
    r.status = static_cast<int>(res.result_int());
    r.body = std::move(res.body());
    if (auto p = res.find("Saalbuch-Position"); p != res.end()) r.position = std::string(p->value());
    if (!res.keep_alive()) Close();
    return r;
  }

 private:
  void Close() {
    boost::system::error_code ec;
    socket_.shutdown(tcp::socket::shutdown_both, ec);
    socket_.close(ec);
    buffer_.clear();
  }

  std::string host_;
  unsigned short port_;
  net::io_context ioc_;
  tcp::socket socket_;
  boost::beast::flat_buffer buffer_;
};

// saalbuchd as a child process. Start() returns once it listens.
class ServerProcess {
 public:
  ServerProcess() = default;
  ~ServerProcess() {
    if (pid_ > 0) Stop();
  }
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  void Start(const Options& opt, const fs::path& data, const std::string& operator_key) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);

    std::vector<std::string> args = {opt.saalbuchd,
                                     "--data",
                                     data.string(),
                                     "--listen",
                                     "127.0.0.1:0",
                                     "--rate-limit",
                                     "1000000",
                                     "--public-booking-rate",
                                     "1000000",
                                     "--max-connections-per-ip",
                                     "100000",
                                     "--writer-threads",
                                     std::to_string(opt.writer_threads),
                                     "--io-threads",
                                     std::to_string(opt.io_threads),
                                     "--log-level",
                                     "warn"};
    std::vector<std::string> env;
    for (char** e = environ; *e != nullptr; ++e) {
      if (std::strncmp(*e, "SAALBUCH_", 9) != 0) env.emplace_back(*e);
    }
    env.push_back("SAALBUCH_OPERATOR_KEY=" + operator_key);
    auto pointers = [](std::vector<std::string>& v) {
      std::vector<char*> p;
      p.reserve(v.size() + 1);
      for (auto& s : v) p.push_back(s.data());
      p.push_back(nullptr);
      return p;
    };
    auto argv = pointers(args);
    auto envp = pointers(env);
    const int rc = ::posix_spawn(&pid_, opt.saalbuchd.c_str(), &actions, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    ::close(fds[1]);
    if (rc != 0) {
      ::close(fds[0]);
      pid_ = -1;
      throw std::runtime_error("cannot start " + opt.saalbuchd + ": " + std::strerror(rc));
    }
    out_fd_ = fds[0];

    // Read stdout until the "listening on http://HOST:PORT" line.
    const auto deadline = Clock::now() + std::chrono::seconds(60);
    std::string text;
    for (;;) {
      const auto nl = text.find('\n');
      if (nl != std::string::npos) {
        const std::string line = text.substr(0, nl);
        text.erase(0, nl + 1);
        const auto at = line.find("listening on http://");
        if (at != std::string::npos) {
          const std::string rest = line.substr(at + std::strlen("listening on http://"));
          const std::string hostport = rest.substr(0, rest.find(' '));
          port_ = static_cast<unsigned short>(std::stoi(hostport.substr(hostport.rfind(':') + 1)));
          break;
        }
        continue;
      }
      const int left = static_cast<int>(
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count());
      pollfd p{out_fd_, POLLIN, 0};
      if (left <= 0 || ::poll(&p, 1, left) <= 0)
        throw std::runtime_error("saalbuchd did not start listening");
      char buf[4096];
      const ssize_t n = ::read(out_fd_, buf, sizeof buf);
      if (n <= 0) throw std::runtime_error("saalbuchd exited before listening");
      text.append(buf, static_cast<std::size_t>(n));
    }
    // Keep its stdout drained (it says little more) so that it never blocks.
    drain_ = std::thread([fd = out_fd_] {
      char buf[4096];
      while (::read(fd, buf, sizeof buf) > 0) {
      }
    });
  }

  // SIGTERM, then waits (SIGKILL after 30 s). Returns a description of how it
  // ended, e.g. "exit 0".
  std::string Stop() {
    if (pid_ <= 0) return "not running";
    ::kill(pid_, SIGTERM);
    int status = 0;
    const auto deadline = Clock::now() + std::chrono::seconds(30);
    std::string how;
    for (;;) {
      const pid_t w = ::waitpid(pid_, &status, WNOHANG);
      if (w == pid_) break;
      if (w < 0) {
        how = std::string("waitpid: ") + std::strerror(errno);
        break;
      }
      if (Clock::now() > deadline) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &status, 0);
        how = "killed after 30 s; ";
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (WIFEXITED(status)) how += "exit " + std::to_string(WEXITSTATUS(status));
    if (WIFSIGNALED(status)) how += "signal " + std::to_string(WTERMSIG(status));
    pid_ = -1;
    if (drain_.joinable()) drain_.join();
    ::close(out_fd_);
    out_fd_ = -1;
    return how;
  }

  unsigned short port() const { return port_; }
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  int out_fd_ = -1;
  unsigned short port_ = 0;
  std::thread drain_;
};

std::string Expect201(const HttpClient::Reply& r, const std::string& what) {
  if (r.status != 201) {
    throw std::runtime_error(
        what + " failed: " + (r.status == 0 ? r.error : std::to_string(r.status) + " " + r.body));
  }
  return r.body;
}

Figures RunHttp(const Options& opt, int tenants, int clients) {
  TempDir dir(opt.tmp);
  const std::string operator_key = "sbo_" + RandomHex(14);  // 32 characters
  ServerProcess server;
  server.Start(opt, dir.path(), operator_key);
  const std::string host = "127.0.0.1";
  const unsigned short port = server.port();

  // Set-up: tenants, a staff key each, rooms; a few connections in parallel.
  std::vector<std::string> staff_keys(tenants);
  {
    const int workers = std::min(tenants, 16);
    std::vector<std::thread> threads;
    threads.reserve(static_cast<std::size_t>(workers));
    std::mutex mu;
    std::string failure;
    for (int w = 0; w < workers; ++w) {
      threads.emplace_back([&, w] {
        try {
          HttpClient http(host, port);
          for (int i = w; i < tenants; i += workers) {
            const std::string t = TenantName(i);
            auto created = nlohmann::json::parse(
                Expect201(http.Call(beast_http::verb::post, "/v1/tenants", operator_key,
                                    nlohmann::json{{"id", t}, {"name", "Bench " + t}}.dump()),
                          "POST /v1/tenants"));
            const std::string admin = created.at("admin_key").at("key").get<std::string>();
            auto key = nlohmann::json::parse(
                Expect201(http.Call(beast_http::verb::post, "/v1/tenants/" + t + "/keys", admin,
                                    nlohmann::json{{"role", "staff"}, {"label", "bench"}}.dump()),
                          "POST /keys"));
            staff_keys[i] = key.at("key").get<std::string>();
            for (int r = 0; r < opt.rooms; ++r) {
              Expect201(
                  http.Call(
                      beast_http::verb::post, "/v1/tenants/" + t + "/resources", admin,
                      nlohmann::json{{"id", RoomName(r)}, {"name", "Room " + std::to_string(r + 1)}}.dump()),
                  "POST /resources");
            }
          }
        } catch (const std::exception& e) {
          std::lock_guard lock(mu);
          failure = e.what();
        }
      });
    }
    for (auto& t : threads) t.join();
    if (!failure.empty()) throw std::runtime_error("set-up: " + failure);
  }

  Slots slots(tenants, opt.rooms);
  std::vector<std::string> booking_targets;
  booking_targets.reserve(static_cast<std::size_t>(tenants));
  for (int i = 0; i < tenants; ++i) booking_targets.push_back("/v1/tenants/" + TenantName(i) + "/bookings");
  std::mutex sample_mu;
  std::vector<std::string> samples;  // first bodies of unexpected answers
  auto client = [&](int index, std::atomic<int>& phase, Tally& tally) {
    std::mt19937_64 rng(0x5aa1b0c4ULL * (index + 1));
    HttpClient http(host, port);
    while (phase.load(std::memory_order_relaxed) != kStop) {
      const Slots::Pick pick = slots.Next(rng, opt.clash_percent);
      const std::string body = nlohmann::json{{"resource", RoomName(pick.room)},
                                              {"start", FormatUtc(pick.range.start)},
                                              {"end", FormatUtc(pick.range.end)}}
                                   .dump();
      const auto t0 = Clock::now();
      auto reply =
          http.Call(beast_http::verb::post, booking_targets[pick.tenant], staff_keys[pick.tenant], body);
      const auto t1 = Clock::now();
      if (phase.load(std::memory_order_relaxed) != kMeasure) continue;
      tally.latency_us.push_back(
          static_cast<std::uint32_t>(std::chrono::duration_cast<std::chrono::microseconds>(t1 - t0).count()));
      if (reply.status == 201) {
        ++tally.created;
        if (opt.read_your_writes && index == 0) {
          // The day of the booking, asked with the position of its reply.
          const TimeUs day = pick.range.start - pick.range.start % (24LL * 3600 * kUsPerSecond);
          const std::string target = "/v1/tenants/" + TenantName(pick.tenant) + "/resources/" +
                                     RoomName(pick.room) + "/availability?from=" + FormatUtc(day) +
                                     "&to=" + FormatUtc(day + 24LL * 3600 * kUsPerSecond) +
                                     "&min_position=" + reply.position;
          const auto q0 = Clock::now();
          auto own = http.Call(beast_http::verb::get, target, "");
          tally.read_own_us.push_back(static_cast<std::uint32_t>(
              std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - q0).count()));
          if (own.status != 200 || own.body.find(FormatUtc(pick.range.start)) == std::string::npos) {
            ++tally.read_own_missed;
          }
        }
        continue;
      }
      std::string code;
      if (reply.status != 0) {
        auto j = nlohmann::json::parse(reply.body, nullptr, false);
        if (j.is_object()) code = j.value("code", "");
      }
      if (reply.status == 409 && code == "booking_conflict") {
        ++tally.conflict;
        continue;
      }
      ++tally.other[reply.status == 0 ? "transport error" : std::to_string(reply.status) + " " + code];
      std::lock_guard lock(sample_mu);
      if (samples.size() < 5) samples.push_back(reply.status == 0 ? reply.error : reply.body);
    }
  };

  HttpClient monitor(host, port);
  auto metrics = [&] {
    auto r = monitor.Call(beast_http::verb::get, "/metrics", operator_key);
    return r.status == 200 ? StatsFromText(r.body) : BusStats{};
  };
  BusStats stats_before, stats_after;
  double cpu_before = 0, cpu_after = 0, server_before = 0, server_after = 0;
  std::vector<Tally> tallies;
  Figures r;
  r.seconds = RunClients(
      opt, clients, client,
      [&] {
        stats_before = metrics();
        cpu_before = SelfCpuSeconds();
        server_before = ProcessCpuSeconds(server.pid());
      },
      [&] {
        cpu_after = SelfCpuSeconds();
        server_after = ProcessCpuSeconds(server.pid());
        stats_after = metrics();
      },
      &tallies);
  const std::string how = server.Stop();
  if (how != "exit 0") std::printf("       WARNING: saalbuchd ended with %s\n", how.c_str());
  for (const auto& s : samples) std::printf("       unexpected answer: %s\n", s.c_str());

  r.mode = "http";
  r.tenants = tenants;
  r.clients = clients;
  for (auto& t : tallies) r.tally.Merge(std::move(t));
  for (const auto& [k, v] : r.tally.other) {
    if (k.starts_with("5")) r.http_5xx += v;
    if (k == "transport error") r.transport_errors += v;
  }
  r.bus = stats_after - stats_before;
  r.cpu_self = cpu_after - cpu_before;
  r.cpu_server = server_before >= 0 && server_after >= 0 ? server_after - server_before : -1;
  return r;
}

void PrintSummary(std::vector<Figures>& results) {
  std::printf(
      "\n| mode | tenants | clients | commands/s | accepted | conflict | other | p50 ms | p99 ms |"
      " commands/batch | ms/append | batches/sync | ms/sync |\n");
  std::printf("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
  for (auto& r : results) {
    const auto& lat = r.tally.latency_us;  // sorted by Print
    const std::uint64_t other = r.tally.total() - r.tally.created - r.tally.conflict;
    std::printf("| %s | %d | %d | %.0f | %llu | %llu | %llu | %.2f | %.2f | %.1f | %.2f | %.1f | %.2f |\n",
                r.mode.c_str(), r.tenants, r.clients, r.rate(),
                static_cast<unsigned long long>(r.tally.created),
                static_cast<unsigned long long>(r.tally.conflict), static_cast<unsigned long long>(other),
                Percentile(lat, 0.5), Percentile(lat, 0.99),
                r.bus.batches > 0 ? r.bus.batch_commands / r.bus.batches : 0.0,
                r.bus.appends > 0 ? 1000 * r.bus.append_seconds / r.bus.appends : 0.0,
                r.bus.syncs > 0 ? r.bus.synced_batches / r.bus.syncs : 0.0,
                r.bus.syncs > 0 ? 1000 * r.bus.sync_seconds / r.bus.syncs : 0.0);
  }
}

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  CLI::App app{
      "saalbuch-bench — durable booking commands per second, in process and over HTTP.\n"
      "Prints figures; asserts nothing."};
  app.set_version_flag("--version", VersionLine("saalbuch-bench"),
                       "Print the version and the git revision, then exit");
  app.add_option("--seconds", opt.seconds, "Measured seconds per scenario")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--warmup", opt.warmup, "Unmeasured seconds before each measurement")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--clients", opt.clients, "Concurrent closed-loop clients (list: 16,64,128)")
      ->delimiter(',')
      ->check(CLI::Range(1, 4096))
      ->capture_default_str();
  app.add_option("--tenants", opt.tenants, "Tenant counts to run (list)")
      ->delimiter(',')
      ->check(CLI::Range(1, 999))
      ->capture_default_str();
  app.add_option("--mode", opt.mode, "inproc, http or all")
      ->check(CLI::IsMember({"inproc", "http", "all"}))
      ->capture_default_str();
  app.add_option("--rooms", opt.rooms, "Rooms per tenant")->check(CLI::Range(1, 100))->capture_default_str();
  app.add_option("--clash-percent", opt.clash_percent, "Bookings that repeat a slot already handed out")
      ->check(CLI::Range(0, 100))
      ->capture_default_str();
  app.add_option("--writer-threads", opt.writer_threads, "Command bus writer threads (both modes)")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  app.add_option("--io-threads", opt.io_threads, "saalbuchd --io-threads (http mode)")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  app.add_flag("--count-syncs,!--no-count-syncs", opt.count_syncs,
               "inproc: count WAL syncs through a wrapping RocksDB Env")
      ->capture_default_str();
  app.add_option("--tmp", opt.tmp, "Where the data directories go (removed afterwards)")
      ->capture_default_str();
  app.add_option("--saalbuchd", opt.saalbuchd, "The server binary (http mode)")->capture_default_str();
  app.add_flag("--read-your-writes", opt.read_your_writes,
               "http: client 0 follows each booking with an availability query naming the reply's position, "
               "and the projection lag it saw is reported");
  CLI11_PARSE(app, argc, argv);

  ::signal(SIGPIPE, SIG_IGN);
  std::printf(
      "saalbuch-bench: %.1f s per scenario after %.1f s warm-up, %d rooms per tenant, %d%% clashes, "
      "%d writer threads, %u hardware threads\n\n",
      opt.seconds, opt.warmup, opt.rooms, opt.clash_percent, opt.writer_threads,
      std::thread::hardware_concurrency());
  std::fflush(stdout);
  std::vector<Figures> results;
  try {
    for (const char* mode : {"inproc", "http"}) {
      if (opt.mode != "all" && opt.mode != mode) continue;
      for (int clients : opt.clients) {
        for (int tenants : opt.tenants) {
          Figures r = std::string(mode) == "inproc" ? RunInProcess(opt, tenants, clients)
                                                    : RunHttp(opt, tenants, clients);
          Print(r);
          results.push_back(std::move(r));
        }
      }
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "saalbuch-bench: %s\n", e.what());
    return 1;
  }
  PrintSummary(results);
  return 0;
}
