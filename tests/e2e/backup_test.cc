// Online backup through the real server while clients book, restored with
// saalbuch-backup into a fresh data directory, audited with saalbuch-replay
// and served again; and the wrong uses: no operator key, no backup
// directory, a restore onto a directory in use.

#include <gtest/gtest.h>

#include <set>
#include <sstream>

#include "tests/e2e/booking_load.h"

namespace saalbuch::e2e {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

class BackupTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = FreshDir("backup"); }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const char* name) const { return (dir_ / name).string(); }
  std::filesystem::path dir_;
};

HttpResult PostBackup(int port, const std::string& key = kOperatorKey) {
  return CallJson(port, "POST", "/v1/operator/backups", json(nullptr), key);
}

TEST_F(BackupTest, BackupUnderLoadRestoresEveryAcknowledgedBooking) {
  Server server(dir_ / "data", {"--rate-limit", "100000", "--backup-dir", path("backups")});
  server.Start();
  const int port = server.port();
  const std::string admin = TenantWithRooms(port, "stadt", {"a", "b", "c"});
  BookingLoad load(port, "stadt", {"a", "b", "c"}, admin);
  load.Start();
  load.WaitFor(30);
  const auto before = load.Acknowledged();  // acknowledged before the backup started
  const auto t0 = std::chrono::steady_clock::now();
  auto backup = PostBackup(port);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  load.WaitFor(load.Acknowledged().size() + 10);  // the server kept serving
  load.Stop();
  EXPECT_EQ(load.failures(), 0) << load.last_failure();
  ASSERT_EQ(backup.status, 201) << backup.body;
  const json b = backup.json();
  EXPECT_EQ(b["id"], 1);
  const Seq head_at_start = b["heads"]["stadt"].get<Seq>();
  EXPECT_GE(head_at_start, 2 + 6 + before.size());
  RecordProperty("backup_seconds", std::to_string(seconds));
  RecordProperty("backup_bytes", std::to_string(b["size_bytes"].get<std::uint64_t>()));
  std::cout << "backup under load: " << seconds << " s over HTTP (" << b["seconds"] << " s in the server), "
            << b["size_bytes"] << " bytes in " << b["files"] << " files, head " << head_at_start << "\n";

  auto list = Call(port, "GET", "/v1/operator/backups", "",
                   {{"Authorization", std::string("Bearer ") + kOperatorKey}});
  ASSERT_EQ(list.status, 200) << list.body;
  EXPECT_EQ(list.json()["items"].size(), 1u);
  EXPECT_EQ(list.json()["running"], false);

  auto verified = BackupTool({"verify", "--backup-dir", path("backups")});
  EXPECT_EQ(verified.exit_code, 0) << verified.out << verified.err;
  auto restored = BackupTool({"restore", "--backup-dir", path("backups"), "--to", path("restored")});
  ASSERT_EQ(restored.exit_code, 0) << restored.out << restored.err;

  auto verify = Replay({"verify", "--data", path("restored"), "--json"});
  ASSERT_EQ(verify.exit_code, 0) << verify.out << verify.err;
  const Seq records = json::parse(verify.out)[0]["records"].get<Seq>();
  EXPECT_GE(records, head_at_start);
  auto diff = Replay({"diff", "--data", path("restored")});
  EXPECT_EQ(diff.exit_code, 0) << diff.out << diff.err;

  auto exported = Replay({"export", "--data", path("restored"), "--tenant", "stadt"});
  ASSERT_EQ(exported.exit_code, 0) << exported.err;
  std::set<std::string> placed;
  std::istringstream lines(exported.out);
  for (std::string line; std::getline(lines, line);) {
    auto j = json::parse(line);
    if (j["record"]["payload_type"] == "BookingPlaced") placed.insert(j["record"]["payload"]["booking_id"]);
  }
  for (const auto& id : before)
    EXPECT_EQ(placed.count(id), 1u) << id << " was acknowledged before the backup";
  EXPECT_EQ(server.Terminate(), 0);

  // The restored directory serves: its projections catch up and answer.
  Server again(dir_ / "restored");
  again.Start();
  auto got = Call(again.port(), "GET", "/v1/tenants/stadt/bookings/" + before.back(), "",
                  {{"Authorization", "Bearer " + admin}});
  EXPECT_EQ(got.status, 200) << got.body;
  EXPECT_EQ(again.Terminate(), 0);
}

TEST_F(BackupTest, BackupRoutesNeedTheOperatorKeyAndABackupDirectory) {
  Server server(dir_ / "data", {"--backup-dir", path("backups")});
  server.Start();
  const std::string admin = TenantWithRooms(server.port(), "amt", {});
  auto none = PostBackup(server.port(), "");
  EXPECT_EQ(none.status, 401);
  EXPECT_EQ(none.json()["code"], "unauthenticated");
  EXPECT_EQ(PostBackup(server.port(), admin).status, 401);  // a tenant's admin is not the operator
  EXPECT_EQ(Call(server.port(), "GET", "/v1/operator/backups").status, 401);
  auto bad = CallJson(server.port(), "POST", "/v1/operator/backups", {{"full", true}}, kOperatorKey);
  EXPECT_EQ(bad.status, 422) << bad.body;
  EXPECT_FALSE(fs::exists(dir_ / "backups" / "meta" / "1"));
  EXPECT_EQ(server.Terminate(), 0);

  Server without(dir_ / "data");
  without.Start();
  auto off = PostBackup(without.port());
  EXPECT_EQ(off.status, 409) << off.body;
  EXPECT_EQ(off.json()["code"], "backups_not_configured");
  EXPECT_EQ(without.Terminate(), 0);
}

TEST_F(BackupTest, RestoreOntoANonEmptyDirectoryIsRefusedAndWritesNothing) {
  Server server(dir_ / "data", {"--backup-dir", path("backups")});
  server.Start();
  TenantWithRooms(server.port(), "amt", {"saal"});
  ASSERT_EQ(PostBackup(server.port()).status, 201);
  EXPECT_EQ(server.Terminate(), 0);

  // The live data directory itself, and any directory with something in it.
  const auto listing = [](const fs::path& p) {
    std::set<std::string> names;
    for (const auto& e : fs::recursive_directory_iterator(p)) names.insert(e.path().string());
    return names;
  };
  const auto data_before = listing(dir_ / "data");
  auto onto_data = BackupTool({"restore", "--backup-dir", path("backups"), "--to", path("data")});
  EXPECT_EQ(onto_data.exit_code, 2);
  EXPECT_NE(onto_data.err.find("refusing to restore"), std::string::npos) << onto_data.err;
  EXPECT_NE(onto_data.err.find("Nothing was written"), std::string::npos) << onto_data.err;
  EXPECT_EQ(listing(dir_ / "data"), data_before);

  auto unknown = BackupTool({"restore", "--backup-dir", path("backups"), "--id", "9", "--to", path("nine")});
  EXPECT_EQ(unknown.exit_code, 2) << unknown.err;
  EXPECT_FALSE(fs::exists(dir_ / "nine"));
  auto nowhere = BackupTool({"restore", "--backup-dir", path("no-backups"), "--to", path("ten")});
  EXPECT_EQ(nowhere.exit_code, 2) << nowhere.err;
  EXPECT_FALSE(fs::exists(dir_ / "ten"));
  for (const auto& e : fs::directory_iterator(dir_)) {
    EXPECT_EQ(e.path().filename().string().find(".restoring-"), std::string::npos) << e.path();
  }

  // An empty directory is fine.
  fs::create_directories(dir_ / "empty");
  auto into_empty = BackupTool({"restore", "--backup-dir", path("backups"), "--to", path("empty")});
  EXPECT_EQ(into_empty.exit_code, 0) << into_empty.err;
  EXPECT_EQ(Replay({"verify", "--data", path("empty")}).exit_code, 0);
}

}  // namespace
}  // namespace saalbuch::e2e
