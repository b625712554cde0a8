// Signed checkpoints end to end: the real server signs its tenants' logs;
// saalbuch-replay verifies every signature against the key an auditor kept,
// and catches a history that was rewritten with a recomputed hash chain —
// which the chain alone cannot.

#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include <chrono>
#include <cstring>
#include <fstream>
#include <thread>

#include "common/crypto.h"
#include "common/note.h"
#include "ledger/keys.h"
#include "schemas/event_generated.h"
#include "tests/e2e/harness.h"

namespace saalbuch::e2e {
namespace {

using nlohmann::json;

// An attacker with the files: changes one byte of a string in record `seq`
// and recomputes every later prev_hash, chain hash and the stored head, so
// that the chain verifies again.
void RewriteHistory(const std::filesystem::path& data, const std::string& tenant, Seq seq, Seq head) {
  rocksdb::Options opts;
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
  for (const char* n : {"default", "log", "meta", "idempotency", "projections"}) cfs.emplace_back(n, opts);
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* db = nullptr;
  ASSERT_TRUE(rocksdb::DB::Open(opts, (data / "db").string(), cfs, &handles, &db).ok());
  std::string prev;
  {
    std::string v;
    ASSERT_TRUE(db->Get(rocksdb::ReadOptions(), handles[1], ledger::keys::LogKey(tenant, seq - 1), &v).ok());
    prev = v.substr(0, 32);
  }
  for (Seq s = seq; s <= head; ++s) {
    std::string v;
    const std::string key = ledger::keys::LogKey(tenant, s);
    ASSERT_TRUE(db->Get(rocksdb::ReadOptions(), handles[1], key, &v).ok());
    std::string bytes = v.substr(32);
    // The bytes are ours: write through the accessors' pointers into them.
    const auto* env = schema::GetEnvelope(bytes.data());
    if (s == seq) {
      // Change the actor's first letter: the record still decodes.
      ASSERT_GT(env->actor()->size(), 0u);
      char* actor = const_cast<char*>(env->actor()->c_str());
      actor[0] = static_cast<char>(actor[0] ^ 0x01);
    }
    ASSERT_EQ(env->prev_hash()->size(), 32u);
    std::memcpy(const_cast<std::uint8_t*>(env->prev_hash()->data()), prev.data(), 32);
    const Sha256 h = Sha256Of(prev, bytes);
    prev.assign(AsBytes(h));
    ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), handles[1], key, prev + bytes).ok());
  }
  std::string head_value;
  ledger::keys::AppendBigEndian64(&head_value, head);
  head_value += prev;
  ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), handles[2], ledger::keys::HeadKey(tenant), head_value).ok());
  for (auto* h : handles) ASSERT_TRUE(db->DestroyColumnFamilyHandle(h).ok());
  ASSERT_TRUE(db->Close().ok());
  delete db;
}

TEST(CheckpointTest, ServerSignsAndReplayVerifiesAndCatchesARewrittenChain) {
  const auto dir = FreshDir("checkpoints");
  const auto data = dir / "data";
  std::string vkey;
  Seq head = 0;
  {
    Server server(data, {"--checkpoint-every", "5", "--checkpoint-interval", "1"});
    server.Start();
    const int port = server.port();
    auto t = CallJson(port, "POST", "/v1/tenants", {{"id", "stadt"}, {"name", "Stadt"}}, kOperatorKey);
    ASSERT_EQ(t.status, 201) << t.body;
    const std::string admin = t.json()["admin_key"]["key"];
    ASSERT_EQ(CallJson(port, "POST", "/v1/tenants/stadt/resources", {{"id", "saal"}, {"name", "Saal"}}, admin)
                  .status,
              201);
    for (int i = 0; i < 8; ++i) {
      const std::string day = "2027-06-" + std::string(i < 9 ? "0" : "") + std::to_string(i + 1);
      ASSERT_EQ(CallJson(port, "POST", "/v1/tenants/stadt/bookings",
                         {{"resource", "saal"}, {"start", day + "T10:00:00Z"}, {"end", day + "T11:00:00Z"}})
                    .status,
                201);
    }
    // The auditor fetches the public key and waits for a checkpoint that
    // covers the bookings.
    auto key = Call(port, "GET", "/v1/tenants/stadt/checkpoint/key");
    ASSERT_EQ(key.status, 200);
    vkey = key.body;
    EXPECT_EQ(vkey.rfind("saalbuch/stadt+", 0), 0u) << vkey;
    const json cp = CheckpointCovering(port, "stadt", admin, 11);
    ASSERT_FALSE(cp.is_null());
    EXPECT_GE(cp["position"].get<Seq>(), 11u);
    EXPECT_NE(cp["note"].get<std::string>().find("\n\n\xe2\x80\x94 saalbuch/stadt "), std::string::npos);
    EXPECT_EQ(cp["verifier_key"].get<std::string>() + "\n", vkey);
    EXPECT_EQ(Call(port, "GET", "/v1/tenants/stadt/checkpoint").status, 401);  // auditors only
    EXPECT_EQ(server.Terminate(), 0);
    auto events = Replay({"verify", "--data", data.string(), "--json"});
    ASSERT_EQ(events.exit_code, 0) << events.out;
    head = json::parse(events.out)[0]["head"];
  }
  std::ofstream(dir / "stadt.vkey") << vkey;
  auto ok = Replay({"verify", "--data", data.string(), "--tenant", "stadt", "--verifier-key",
                    (dir / "stadt.vkey").string()});
  EXPECT_EQ(ok.exit_code, 0) << ok.out;
  EXPECT_NE(ok.out.find("signed checkpoints verify (key from the auditor)"), std::string::npos) << ok.out;

  // Another key: the signatures do not verify.
  std::ofstream(dir / "other.vkey") << "saalbuch/stadt+00000000+" +
                                           Base64Encode(std::string(1, '\x01') + std::string(32, 'x'));
  auto wrong = Replay({"verify", "--data", data.string(), "--tenant", "stadt", "--verifier-key",
                       (dir / "other.vkey").string()});
  EXPECT_EQ(wrong.exit_code, 2) << wrong.out;  // not even a valid key (its id does not match)

  // A rewritten history with a recomputed chain: the chain verifies, the
  // signatures do not.
  const auto copy = dir / "rewritten";
  std::filesystem::copy(data, copy, std::filesystem::copy_options::recursive);
  RewriteHistory(copy, "stadt", 4, head);
  auto rewritten = Replay({"verify", "--data", copy.string(), "--tenant", "stadt", "--verifier-key",
                           (dir / "stadt.vkey").string()});
  EXPECT_EQ(rewritten.exit_code, 1) << rewritten.out;
  EXPECT_NE(rewritten.out.find("BAD CHECKPOINT"), std::string::npos) << rewritten.out;
  EXPECT_NE(rewritten.out.find("was changed after it was signed"), std::string::npos) << rewritten.out;
  std::filesystem::remove_all(dir);
}

// The installation names its origin (--log-origin), so that two
// installations' logs of one tenant id never pass for each other; renaming
// it later keeps the key, raises no alarm, and verify follows the rename.
TEST(CheckpointTest, TheInstallationNamesItsOriginAndMayRenameIt) {
  const auto dir = FreshDir("origin");
  const auto data = dir / "data";
  const std::vector<std::string> signing = {"--checkpoint-every", "5", "--checkpoint-interval", "1"};
  auto book = [](int port, int day) {
    const std::string d = "2027-08-" + std::string(day < 10 ? "0" : "") + std::to_string(day);
    return CallJson(port, "POST", "/v1/tenants/stadt/bookings",
                    {{"resource", "saal"}, {"start", d + "T10:00:00Z"}, {"end", d + "T11:00:00Z"}})
        .status;
  };
  auto latest = [](int port, const std::string& admin, Seq at_least) {
    return CheckpointCovering(port, "stadt", admin, at_least);
  };
  std::string admin, named_key;
  Seq first_position = 0;
  {
    auto args = signing;
    args.insert(args.end(), {"--log-origin", "buergerhaus.example/saalbuch"});
    Server server(data, args);
    server.Start();
    const int port = server.port();
    auto t = CallJson(port, "POST", "/v1/tenants", {{"id", "stadt"}, {"name", "Stadt"}}, kOperatorKey);
    ASSERT_EQ(t.status, 201) << t.body;
    admin = t.json()["admin_key"]["key"];
    ASSERT_EQ(CallJson(port, "POST", "/v1/tenants/stadt/resources", {{"id", "saal"}, {"name", "Saal"}}, admin)
                  .status,
              201);
    for (int i = 1; i <= 6; ++i) ASSERT_EQ(book(port, i), 201);
    named_key = Call(port, "GET", "/v1/tenants/stadt/checkpoint/key").body;
    EXPECT_EQ(named_key.rfind("buergerhaus.example/saalbuch/stadt+", 0), 0u) << named_key;
    const json cp = latest(port, admin, 8);
    ASSERT_FALSE(cp.is_null());
    first_position = cp["position"];
    EXPECT_EQ(cp["note"].get<std::string>().rfind("buergerhaus.example/saalbuch/stadt\n", 0), 0u);
    EXPECT_NE(cp["note"].get<std::string>().find("\n\xe2\x80\x94 buergerhaus.example/saalbuch/stadt "),
              std::string::npos);
    EXPECT_EQ(server.Terminate(), 0);
  }
  std::ofstream(dir / "stadt.vkey") << named_key;
  const std::string trusted = (dir / "stadt.checkpoint").string();
  auto first = Replay({"verify", "--data", data.string(), "--tenant", "stadt", "--verifier-key",
                       (dir / "stadt.vkey").string(), "--trusted-checkpoint", trusted});
  EXPECT_EQ(first.exit_code, 0) << first.out << first.err;

  // Renamed back to the default: the same key under the new name, no hold.
  {
    Server server(data, signing);
    server.Start();
    const int port = server.port();
    EXPECT_EQ(Call(port, "GET", "/readyz").status, 200);
    for (int i = 10; i <= 16; ++i) ASSERT_EQ(book(port, i), 201);
    const std::string key = Call(port, "GET", "/v1/tenants/stadt/checkpoint/key").body;
    EXPECT_EQ(key.rfind("saalbuch/stadt+", 0), 0u) << key;
    EXPECT_EQ(key.substr(key.rfind('+')), named_key.substr(named_key.rfind('+')));  // the same public key
    const json cp = latest(port, admin, first_position + 7);
    ASSERT_FALSE(cp.is_null());
    EXPECT_EQ(cp["note"].get<std::string>().rfind("saalbuch/stadt\n", 0), 0u);
    EXPECT_EQ(server.Terminate(), 0);
  }
  // The auditor's key file still has the old name: verify follows the rename.
  auto again = Replay({"verify", "--data", data.string(), "--tenant", "stadt", "--verifier-key",
                       (dir / "stadt.vkey").string(), "--trusted-checkpoint", trusted});
  EXPECT_EQ(again.exit_code, 0) << again.out << again.err;
  // …and the kept checkpoint is now one under the new name, opened with the old key file.
  {
    std::ifstream kept(trusted);
    std::string first_line;
    std::getline(kept, first_line);
    EXPECT_EQ(first_line, "saalbuch/stadt");
  }
  auto third = Replay({"verify", "--data", data.string(), "--tenant", "stadt", "--verifier-key",
                       (dir / "stadt.vkey").string(), "--trusted-checkpoint", trusted});
  EXPECT_EQ(third.exit_code, 0) << third.out << third.err;
  // Another key named like the tenant's is still refused.
  const std::string other = VerifierKey("saalbuch/stadt", Ed25519PublicKey(RandomBytes(32)));
  std::ofstream(dir / "other.vkey") << other;
  auto wrong = Replay({"verify", "--data", data.string(), "--tenant", "stadt", "--verifier-key",
                       (dir / "other.vkey").string()});
  EXPECT_EQ(wrong.exit_code, 1) << wrong.out;

  // Origins that would break the note grammar are refused at start.
  for (const std::string bad : {"with space", "a+b", "trailing/", ""}) {
    auto r = RunTool(SAALBUCHD_PATH, {"--data", (dir / "unused").string(), "--log-origin", bad});
    EXPECT_NE(r.exit_code, 0) << bad << ": " << r.err;
    EXPECT_NE(r.err.find("--log-origin"), std::string::npos) << r.err;
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace saalbuch::e2e
