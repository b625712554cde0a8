// Keys at rest (issue 17, part 8): everything saalbuchd and the tools create
// is owner-only — the data directory, RocksDB's files, the operator key,
// backups and a restored copy — whatever the umask of whoever started them;
// a data directory others may enter is made owner-only at start.

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <rocksdb/db.h>

#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "common/crypto.h"
#include "ledger/database.h"
#include "tests/e2e/harness.h"
#include "tests/support/files.h"

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

// A master key file as an operator makes one (openssl rand -hex 32), 0600.
fs::path MasterKeyFile(const fs::path& dir, const std::string& name) {
  fs::create_directories(dir);
  const fs::path p = dir / name;
  std::ofstream(p) << ToHex(RandomBytes(32)) << "\n";
  fs::permissions(p, fs::perms::owner_read | fs::perms::owner_write);
  return p;
}

std::string ReadAll(const fs::path& p) {
  std::ifstream in(p);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// The vault's stored values (the meta family's "v" and "k" slots), as
// someone with a copy of the data directory reads them.
std::vector<std::string> VaultValues(const fs::path& data) {
  ledger::DatabaseOptions options;
  options.read_only = true;
  auto db = ledger::Database::Open((data / "db").string(), options);
  EXPECT_TRUE(db.ok()) << db.status().ToString();
  std::vector<std::string> values;
  if (!db.ok()) return values;
  std::unique_ptr<rocksdb::Iterator> it(
      (*db)->db()->NewIterator(rocksdb::ReadOptions(), (*db)->cf(ledger::Cf::kMeta)));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    const std::string k = it->key().ToString();
    const std::size_t at = 1 + static_cast<unsigned char>(k[0]);
    if (at < k.size() && (k[at] == 'v' || ((k[at] == 'k' || k[at] == 'b') && k.size() == at + 1)))
      values.push_back(it->value().ToString());
  }
  return values;
}

TEST_F(FileModesTest, AMasterKeyWrapsTheVaultSoThatTheDataDirectoryAloneRevealsNothing) {
  const fs::path data = dir_ / "data";
  const fs::path keys = dir_ / "keys";
  std::string booking;
  std::string token;
  std::vector<std::string> bare;
  {
    // Before the master key: a tenant (its signing seed) and a booker's contact.
    Server server(data);
    server.Start();
    auto t =
        CallJson(server.port(), "POST", "/v1/tenants", {{"id", "stadt"}, {"name", "Stadt"}}, kOperatorKey);
    ASSERT_EQ(t.status, 201) << t.body;
    const std::string admin = t.json()["admin_key"]["key"];
    ASSERT_EQ(CallJson(server.port(), "POST", "/v1/tenants/stadt/resources",
                       {{"id", "saal"}, {"name", "Saal"}}, admin)
                  .status,
              201);
    auto b = CallJson(server.port(), "POST", "/v1/tenants/stadt/bookings",
                      {{"resource", "saal"},
                       {"start", "2027-03-01T10:00:00+01:00"},
                       {"end", "2027-03-01T11:00:00+01:00"},
                       {"contact", {{"name", "Erika Muster"}, {"email", "erika@example.org"}}}});
    ASSERT_EQ(b.status, 201) << b.body;
    booking = b.json()["id"];
    token = b.json()["manage_token"];
    EXPECT_EQ(server.Terminate(), 0);
  }
  bare = VaultValues(data);
  ASSERT_EQ(bare.size(), 3U);  // the person's key, the signing seed and the blind-index key, 32 bytes each
  for (const auto& v : bare) EXPECT_EQ(v.size(), 32U);

  // A master key given later wraps them at the start, and the bare bytes
  // leave every file.
  const fs::path first = MasterKeyFile(keys, "first.key");
  {
    Server server(data, {"--master-key-file", first.string()});
    server.Start();
    auto view = Call(server.port(), "GET", "/v1/tenants/stadt/bookings/" + booking + "?token=" + token);
    ASSERT_EQ(view.status, 200) << view.body;
    EXPECT_NE(view.body.find("Erika Muster"), std::string::npos) << view.body;
    EXPECT_EQ(server.Terminate(), 0);
  }
  EXPECT_NE(ReadAll(data / "saalbuchd.stderr").find("vault keys wrapped with the master key\" keys=3"),
            std::string::npos);
  for (const auto& v : VaultValues(data)) {
    EXPECT_EQ(v.size(), 64U);
    EXPECT_EQ(v.substr(0, 4), "sbw1");
  }
  for (const auto& v : bare)
    EXPECT_FALSE(testing_support::AnyFileContains(data, v)) << "a bare key is still on disk";

  // Without it, with another one, or with a careless file: no start.
  auto refused = [&](std::vector<std::string> args, const std::string& why) {
    fs::remove(data / "saalbuchd.stderr");
    Server server(data, std::move(args));
    EXPECT_THROW(server.Start(), std::runtime_error) << why;
    EXPECT_NE(ReadAll(data / "saalbuchd.stderr").find(why), std::string::npos)
        << ReadAll(data / "saalbuchd.stderr");
  };
  refused({}, "wrapped with a master key, and none was given");
  refused({"--master-key-file", MasterKeyFile(keys, "other.key").string()}, "does not open the vault");
  const fs::path open_key = MasterKeyFile(keys, "open.key");
  fs::permissions(open_key, fs::perms::group_read | fs::perms::others_read, fs::perm_options::add);
  refused({"--master-key-file", open_key.string()}, "open to other accounts");
  fs::copy_file(first, data / "master.key");
  refused({"--master-key-file", (data / "master.key").string()}, "inside the data directory");
  fs::remove(data / "master.key");

  // Rotation: the new key, and the old one for this start; then the new alone.
  const fs::path second = MasterKeyFile(keys, "second.key");
  {
    Server server(data, {"--master-key-file", second.string(), "--previous-master-key-file", first.string()});
    server.Start();
    EXPECT_EQ(server.Terminate(), 0);
  }
  refused({"--master-key-file", first.string()}, "does not open the vault");
  Server server(data, {"--master-key-file", second.string()});
  server.Start();
  auto view = Call(server.port(), "GET", "/v1/tenants/stadt/bookings/" + booking + "?token=" + token);
  ASSERT_EQ(view.status, 200) << view.body;
  EXPECT_NE(view.body.find("Erika Muster"), std::string::npos) << view.body;
}

}  // namespace
}  // namespace saalbuch::e2e
