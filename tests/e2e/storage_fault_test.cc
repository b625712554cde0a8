// Storage faults seen through the real HTTP stack: the server's parts run in
// this process over a RocksDB Env that fails the write-ahead log on demand
// (InProcessServer, tests/support/failing_env.h); a real HTTP client talks
// to it on loopback. Two tenants share the WAL. When tenant A's append
// fails, A's client gets a 503 problem document and nothing is
// acknowledged; A refuses further commands until a restart; tenant B
// carries on. After the restart A's log verifies and A takes commands
// again, and a retry with the first Idempotency-Key has exactly one effect.

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>

#include "common/time.h"
#include "tests/e2e/harness.h"
#include "tests/support/failing_env.h"

namespace saalbuch::e2e {
namespace {

using nlohmann::json;
using testing_support::FailingEnv;

enum class Fault { kWalWrite, kWalSync };

// Whole hours from a day 60 days ahead: distinct, free, bookable slots.
std::string Slot(int hour) {
  const TimeUs now = std::chrono::duration_cast<std::chrono::microseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
  const TimeUs day = 24LL * 3600 * kUsPerSecond;
  return FormatUtc((now / day + 60) * day + static_cast<TimeUs>(hour) * 3600 * kUsPerSecond);
}

class StorageFaultTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = FreshDir("storage-fault"); }
  void TearDown() override {
    server_.reset();
    std::filesystem::remove_all(dir_);
  }

  void Start(rocksdb::Env* env) {
    server_.reset();
    server_ = std::make_unique<InProcessServer>(dir_ / "data", env);
  }
  int port() const { return server_->port(); }

  // A tenant with one room "saal"; returns its admin key.
  std::string NewTenant(const std::string& id) {
    auto t = CallJson(port(), "POST", "/v1/tenants", {{"id", id}, {"name", id}}, kOperatorKey);
    EXPECT_EQ(t.status, 201) << t.body;
    std::string admin = t.json()["admin_key"]["key"];
    auto r = CallJson(port(), "POST", "/v1/tenants/" + id + "/resources", {{"id", "saal"}, {"name", "Saal"}},
                      admin);
    EXPECT_EQ(r.status, 201) << r.body;
    return admin;
  }

  HttpResult Book(const std::string& tenant, const std::string& admin, int hour,
                  const std::string& idempotency_key = "") {
    std::map<std::string, std::string> headers;
    if (!idempotency_key.empty()) headers["Idempotency-Key"] = idempotency_key;
    return CallJson(port(), "POST", "/v1/tenants/" + tenant + "/bookings",
                    {{"resource", "saal"}, {"start", Slot(hour)}, {"end", Slot(hour + 1)}}, admin, headers);
  }

  // GET of a booking once the projections have reached `position`.
  HttpResult GetBooking(const std::string& tenant, const std::string& admin, const std::string& id,
                        const std::string& position) {
    return Call(port(), "GET", "/v1/tenants/" + tenant + "/bookings/" + id + "?min_position=" + position, "",
                {{"Authorization", "Bearer " + admin}});
  }

  // Every record of the tenant's log, through the audit route.
  json Events(const std::string& tenant, const std::string& admin) {
    json all = json::array();
    std::string after = "0";
    for (;;) {
      std::string target = "/v1/tenants/" + tenant + "/events?limit=500&after=";
      target += after;
      auto r = Call(port(), "GET", target, "", {{"Authorization", "Bearer " + admin}});
      EXPECT_EQ(r.status, 200) << r.body;
      if (r.status != 200) return all;
      auto j = r.json();
      for (auto& item : j["items"]) all.push_back(item["record"]);
      if (j["next_cursor"].is_null()) return all;
      after = j["next_cursor"].get<std::string>();
    }
  }

  static std::string Id(const HttpResult& r) { return r.json().value("id", ""); }

  static int CountPlaced(const json& events, const std::string& booking) {
    int n = 0;
    for (const auto& e : events) {
      n += e["payload_type"] == "BookingPlaced" && e["payload"]["booking_id"] == booking ? 1 : 0;
    }
    return n;
  }

  // An RFC 9457 problem document with a stable code.
  static void ExpectProblem(const HttpResult& r, int status, const std::string& code,
                            const std::string& instance) {
    EXPECT_EQ(r.status, status) << r.body;
    EXPECT_EQ(r.header("content-type"), "application/problem+json");
    if (status == 503) {
      EXPECT_FALSE(r.header("retry-after").empty());
    }
    auto p = json::parse(r.body, nullptr, false);
    ASSERT_TRUE(p.is_object()) << r.body;
    EXPECT_EQ(p.value("type", ""), "urn:saalbuch:problem:" + code) << r.body;
    EXPECT_EQ(p.value("title", ""), "Service Unavailable") << r.body;
    EXPECT_EQ(p.value("status", 0), status) << r.body;
    EXPECT_EQ(p.value("code", ""), code) << r.body;
    EXPECT_FALSE(p.value("detail", "").empty()) << r.body;
    EXPECT_EQ(p.value("instance", ""), instance) << r.body;
  }

  std::filesystem::path dir_;
  FailingEnv env_;  // outlives every server
  std::unique_ptr<InProcessServer> server_;
};

class OneWalFaultTest : public StorageFaultTest, public ::testing::WithParamInterface<Fault> {};

TEST_P(OneWalFaultTest, TheFailingTenantGets503AndRefusesUntilRestartWhileTheOtherContinues) {
  Start(&env_);
  const std::string a = NewTenant("amt-a");
  const std::string b = NewTenant("amt-b");
  auto a1 = Book("amt-a", a, 0);
  ASSERT_EQ(a1.status, 201) << a1.body;
  auto b1 = Book("amt-b", b, 0);
  ASSERT_EQ(b1.status, 201) << b1.body;
  // Let the projections catch up, so that nothing but A's append writes
  // when the fault is armed.
  ASSERT_EQ(GetBooking("amt-a", a, Id(a1), a1.header("saalbuch-position")).status, 200);
  ASSERT_EQ(GetBooking("amt-b", b, Id(b1), b1.header("saalbuch-position")).status, 200);
  const std::size_t a_records = Events("amt-a", a).size();

  const std::string key = "fault-test-key-0123456789";
  if (GetParam() == Fault::kWalWrite) {
    env_.wal_appends_to_fail = 1;
  } else {
    env_.wal_syncs_to_fail = 1;
  }
  auto failed = Book("amt-a", a, 1, key);
  ASSERT_EQ(env_.wal_appends_to_fail + env_.wal_syncs_to_fail, 0) << "the fault did not hit A's append";
  ExpectProblem(failed, 503, "storage_failure", "/v1/tenants/amt-a/bookings");
  EXPECT_TRUE(failed.header("saalbuch-position").empty());

  // A refuses everything that would write, also the retry, until a restart.
  ExpectProblem(Book("amt-a", a, 2), 503, "tenant_unavailable", "/v1/tenants/amt-a/bookings");
  ExpectProblem(Book("amt-a", a, 1, key), 503, "tenant_unavailable", "/v1/tenants/amt-a/bookings");
  ExpectProblem(
      CallJson(port(), "POST", "/v1/tenants/amt-a/resources", {{"id", "halle"}, {"name", "Halle"}}, a), 503,
      "tenant_unavailable", "/v1/tenants/amt-a/resources");
  // Nothing was acknowledged, and A still answers queries. A failed write
  // left nothing; a failed sync comes after the write (group commit:
  // commands/bus.h), so the log shows the unacknowledged batch, whole.
  const bool synced_late = GetParam() == Fault::kWalSync;
  EXPECT_EQ(Events("amt-a", a).size(), a_records + (synced_late ? 1 : 0));
  EXPECT_EQ(GetBooking("amt-a", a, Id(a1), "0").status, 200);

  // B shares the WAL and carries on: commands, two-event commands, reads.
  auto b2 = Book("amt-b", b, 1);
  ASSERT_EQ(b2.status, 201) << b2.body;
  auto b_room =
      CallJson(port(), "POST", "/v1/tenants/amt-b/resources", {{"id", "halle"}, {"name", "Halle"}}, b);
  ASSERT_EQ(b_room.status, 201) << b_room.body;
  auto b2_read = GetBooking("amt-b", b, Id(b2), b_room.header("saalbuch-position"));
  ASSERT_EQ(b2_read.status, 200) << b2_read.body;
  EXPECT_EQ(b2_read.json()["status"], "confirmed");

  // Restart on a healthy disk.
  Start(nullptr);
  const std::string data = (dir_ / "data").string();
  auto verify = Replay({"verify", "--data", data});
  EXPECT_EQ(verify.exit_code, 0) << verify.out;
  auto diff = Replay({"diff", "--data", data});
  EXPECT_EQ(diff.exit_code, 0) << diff.out;
  // After a failed write the store recovered at once, so the failed batch
  // is gone for good: the retry is decided afresh, once. After a failed
  // sync the batch had been written, and the next sync (B's) stored it in
  // table files without trusting the WAL file: it is there, whole, and the
  // retry gets its stored reply.
  EXPECT_EQ(Events("amt-a", a).size(), a_records + (synced_late ? 1 : 0));
  auto retry = Book("amt-a", a, 1, key);
  ASSERT_EQ(retry.status, 201) << retry.body;
  EXPECT_EQ(retry.header("idempotent-replayed"), synced_late ? "true" : "");
  auto again = Book("amt-a", a, 1, key);
  ASSERT_EQ(again.status, 201) << again.body;
  EXPECT_EQ(again.header("idempotent-replayed"), "true");
  EXPECT_EQ(Id(again), Id(retry));
  EXPECT_EQ(CountPlaced(Events("amt-a", a), Id(retry)), 1);
  EXPECT_EQ(Book("amt-a", a, 2).status, 201);
  EXPECT_EQ(GetBooking("amt-b", b, Id(b2), "0").status, 200);
}

INSTANTIATE_TEST_SUITE_P(WalFaults, OneWalFaultTest, ::testing::Values(Fault::kWalWrite, Fault::kWalSync),
                         [](const auto& info) { return info.param == Fault::kWalWrite ? "Write" : "Sync"; });

// A failed fsync after a successful write() leaves the batch in the WAL.
// When the store cannot recover before the process ends, the restart
// replays it: the unacknowledged command is there, whole, and the client's
// retry with its Idempotency-Key gets the stored reply instead of a second
// booking.
TEST_F(StorageFaultTest, AnUnacknowledgedCommandThatReachedTheDiskIsWholeAndItsRetryReplays) {
  Start(&env_);
  const std::string a = NewTenant("amt-a");
  const std::string b = NewTenant("amt-b");
  auto a1 = Book("amt-a", a, 0);
  ASSERT_EQ(a1.status, 201) << a1.body;
  ASSERT_EQ(GetBooking("amt-a", a, Id(a1), a1.header("saalbuch-position")).status, 200);
  const std::size_t a_records = Events("amt-a", a).size();

  const std::string key = "fault-test-key-abcdef0123";
  env_.wal_syncs_to_fail = 1'000'000;  // the disk stays broken
  ExpectProblem(Book("amt-a", a, 1, key), 503, "storage_failure", "/v1/tenants/amt-a/bookings");
  // Written, then the sync failed: in the log, not acknowledged.
  EXPECT_EQ(Events("amt-a", a).size(), a_records + 1);
  server_.reset();  // the process ends while the disk is broken
  env_.wal_syncs_to_fail = 0;

  Start(nullptr);
  auto verify = Replay({"verify", "--data", (dir_ / "data").string()});
  EXPECT_EQ(verify.exit_code, 0) << verify.out;
  const json events = Events("amt-a", a);
  ASSERT_EQ(events.size(), a_records + 1) << "the failed booking was written before its fsync failed";
  const json& placed = events.back();
  EXPECT_EQ(placed["payload_type"], "BookingPlaced");
  auto retry = Book("amt-a", a, 1, key);
  ASSERT_EQ(retry.status, 201) << retry.body;
  EXPECT_EQ(retry.header("idempotent-replayed"), "true");
  EXPECT_EQ(Id(retry), placed["payload"]["booking_id"]);
  EXPECT_EQ(CountPlaced(Events("amt-a", a), Id(retry)), 1);
  EXPECT_EQ(GetBooking("amt-a", a, Id(retry), retry.header("saalbuch-position")).status, 200);
  EXPECT_EQ(Book("amt-a", a, 2).status, 201);
  EXPECT_EQ(Book("amt-b", b, 0).status, 201);
}

// While the disk stays broken, other tenants' commands are refused without
// being written (503 storage_unavailable) but those tenants are not
// poisoned: once the disk heals they book again, without a restart.
TEST_F(StorageFaultTest, OtherTenantsAreRefusedWhileTheDiskIsBrokenAndContinueWhenItHeals) {
  Start(&env_);
  const std::string a = NewTenant("amt-a");
  const std::string b = NewTenant("amt-b");
  auto b1 = Book("amt-b", b, 0);
  ASSERT_EQ(b1.status, 201) << b1.body;
  ASSERT_EQ(GetBooking("amt-b", b, Id(b1), b1.header("saalbuch-position")).status, 200);
  const std::size_t b_records = Events("amt-b", b).size();
  env_.wal_syncs_to_fail = 1'000'000;  // the disk stays broken
  ExpectProblem(Book("amt-a", a, 1), 503, "storage_failure", "/v1/tenants/amt-a/bookings");
  ExpectProblem(Book("amt-b", b, 1), 503, "storage_unavailable", "/v1/tenants/amt-b/bookings");
  EXPECT_EQ(Events("amt-b", b).size(), b_records);
  env_.wal_syncs_to_fail = 0;  // healed
  auto b2 = Book("amt-b", b, 1);
  ASSERT_EQ(b2.status, 201) << b2.body;
  EXPECT_EQ(GetBooking("amt-b", b, Id(b2), b2.header("saalbuch-position")).status, 200);
  ExpectProblem(Book("amt-a", a, 2), 503, "tenant_unavailable", "/v1/tenants/amt-a/bookings");
}

}  // namespace
}  // namespace saalbuch::e2e
