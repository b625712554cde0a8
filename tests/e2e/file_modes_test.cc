// Keys at rest (issue 17, part 8): everything saalbuchd and the tools create
// is owner-only — the data directory, RocksDB's files, the operator key,
// backups and a restored copy — whatever the umask of whoever started them;
// a data directory others may enter is made owner-only at start.

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <string>
#include <vector>

#include "tests/e2e/harness.h"

namespace saalbuch::e2e {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// Every path under `root` (and root itself) that a group or other account
// may read, write or enter, with its mode.
std::vector<std::string> OpenToOthers(const fs::path& root) {
  std::vector<std::string> open;
  auto check = [&](const fs::path& p) {
    struct stat st {};
    if (::lstat(p.c_str(), &st) != 0) return;
    if ((st.st_mode & 077) != 0) {
      char mode[8];
      std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
      open.push_back(p.string() + " " + mode);
    }
  };
  check(root);
  for (const auto& e : fs::recursive_directory_iterator(root)) {
    // The harness's capture of the server's stderr, made by this process.
    if (e.path().filename() != "saalbuchd.stderr") check(e.path());
  }
  return open;
}

std::size_t CountEntries(const fs::path& root) {
  return static_cast<std::size_t>(std::distance(fs::recursive_directory_iterator(root), {}));
}

class FileModesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = FreshDir("file-modes");
    // As a careless shell would start it: the server must not rely on it.
    old_umask_ = ::umask(022);
  }
  void TearDown() override {
    ::umask(old_umask_);
    fs::remove_all(dir_);
  }
  fs::path dir_;
  mode_t old_umask_ = 0;
};

TEST_F(FileModesTest, DataDirectoryBackupsAndRestoredCopyAreOwnerOnly) {
  const fs::path data = dir_ / "data", backups = dir_ / "backups";
  {
    Server server(data, {"--backup-dir", backups.string(), "--snapshot-every", "2"});
    server.Start();
    auto t =
        CallJson(server.port(), "POST", "/v1/tenants", {{"id", "stadt"}, {"name", "Stadt"}}, kOperatorKey);
    ASSERT_EQ(t.status, 201) << t.body;
    const std::string admin = t.json()["admin_key"]["key"];
    for (int i = 0; i < 4; ++i) {
      ASSERT_EQ(CallJson(server.port(), "POST", "/v1/tenants/stadt/resources",
                         {{"id", "raum-" + std::to_string(i)}, {"name", "Raum"}}, admin)
                    .status,
                201);
    }
    auto b = CallJson(server.port(), "POST", "/v1/operator/backups", json(nullptr), kOperatorKey);
    ASSERT_EQ(b.status, 201) << b.body;
    EXPECT_EQ(server.Terminate(), 0);
  }
  auto restored =
      BackupTool({"restore", "--backup-dir", backups.string(), "--to", (dir_ / "restored").string()});
  ASSERT_EQ(restored.exit_code, 0) << restored.err;
  for (const fs::path& root : {data, backups, dir_ / "restored"}) {
    EXPECT_GT(CountEntries(root), 3U) << root;  // there is something to check
    EXPECT_EQ(OpenToOthers(root), std::vector<std::string>{}) << root;
  }
}

TEST_F(FileModesTest, ExistingOpenDataDirectoryIsMadeOwnerOnlyAtStart) {
  const fs::path data = dir_ / "data";
  fs::create_directories(data);
  fs::permissions(data, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                            fs::perms::others_read | fs::perms::others_exec);
  Server server(data);
  server.Start();
  struct stat st {};
  ASSERT_EQ(::stat(data.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700U);
  EXPECT_EQ(OpenToOthers(data), std::vector<std::string>{});
}

}  // namespace
}  // namespace saalbuch::e2e
