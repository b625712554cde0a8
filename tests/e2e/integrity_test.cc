// Integrity alarms end to end (README, "Integrity alarms"): the real server
// writes a tenant's log; a forger with the files changes it while the server
// is down (a record rewritten with a recomputed chain and head, the signing
// key deleted, the time zone renamed); at the next start the server holds
// the tenant instead of serving, signing or re-keying it, says which log
// position disagrees, and resumes only when the operator accepts the log.
// The tools fail loudly on what they cannot do right.

#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include "common/crypto.h"
#include "common/merkle.h"
#include "common/note.h"
#include "ledger/database.h"
#include "ledger/keys.h"
#include "ledger/rocks_log.h"
#include "schemas/event_generated.h"
#include "tests/e2e/booking_load.h"
#include "tests/e2e/forger.h"
#include "tests/e2e/harness.h"
#include "tests/ledger/drafts.h"

namespace saalbuch::e2e {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

struct WrittenLog {
  Seq head = 0;
  Seq signed_position = 0;  // the latest signed checkpoint's position (0: none)
  std::string admin;
};

// The arguments of a server that signs a checkpoint every 5 records and,
// while records arrive, every second; and of one that signs none.
const std::vector<std::string> kSigning = {"--checkpoint-every", "5", "--checkpoint-interval", "1"};
const std::vector<std::string> kNotSigning = {"--checkpoint-every", "0"};
// One that signs a tenant's first checkpoint and then only after 10^8
// records or a day.
const std::vector<std::string> kRarelySigning = {"--checkpoint-every", "100000000", "--checkpoint-interval",
                                                 "86400"};

std::vector<std::string> With(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// Tenant "stadt" with a room and `bookings` (≤ 9) bookings, written by the
// real server started with `args`; waits until a signed checkpoint covers
// position `covered` (0: none awaited), books once more, and stops it
// cleanly (which stores a write-model snapshot unless --snapshot-every 0).
WrittenLog WriteLog(const fs::path& data, const std::vector<std::string>& args, int bookings, Seq covered) {
  WrittenLog out;
  Server server(data, args);
  server.Start();
  const int port = server.port();
  auto t = CallJson(port, "POST", "/v1/tenants", {{"id", "stadt"}, {"name", "Stadt"}}, kOperatorKey);
  EXPECT_EQ(t.status, 201) << t.body;
  out.admin = t.json()["admin_key"]["key"].get<std::string>();
  EXPECT_EQ(
      CallJson(port, "POST", "/v1/tenants/stadt/resources", {{"id", "saal"}, {"name", "Saal"}}, out.admin)
          .status,
      201);
  auto book = [&](int day) {
    const std::string d = "2027-06-0" + std::to_string(day);
    EXPECT_EQ(CallJson(port, "POST", "/v1/tenants/stadt/bookings",
                       {{"resource", "saal"}, {"start", d + "T10:00:00Z"}, {"end", d + "T11:00:00Z"}})
                  .status,
              201);
  };
  for (int i = 1; i <= bookings; ++i) book(i);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  while (covered > 0 && std::chrono::steady_clock::now() < deadline) {
    auto r =
        Call(port, "GET", "/v1/tenants/stadt/checkpoint", "", {{"Authorization", "Bearer " + out.admin}});
    if (r.status == 200 && r.json()["position"].get<Seq>() >= covered) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  book(9);
  EXPECT_EQ(server.Terminate(), 0);
  auto verify = Replay({"verify", "--data", data.string(), "--json"});
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
  const json report = json::parse(verify.out)[0];
  out.head = report["head"].get<Seq>();
  out.signed_position = report.value("last_position", Seq{0});
  if (covered > 0) {
    EXPECT_GE(out.signed_position, covered);
  }
  return out;
}

// The problem a held tenant's routes answer.
void ExpectHeld(int port, const std::string& target, const std::string& code, Seq position,
                const std::string& says) {
  auto r = Call(port, "GET", target);
  ASSERT_EQ(r.status, 503) << target << ": " << r.body;
  const json p = r.json();
  EXPECT_EQ(p["code"], code) << r.body;
  EXPECT_EQ(p["details"]["position"], position) << r.body;
  EXPECT_NE(p["detail"].get<std::string>().find(says), std::string::npos) << r.body;
  EXPECT_EQ(r.header("retry-after"), "3600");
}

class IntegrityTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = FreshDir("integrity"); }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(IntegrityTest, ALogRewrittenAfterTheLastCheckpointIsHeldUntilTheOperatorAcceptsIt) {
  const WrittenLog w = WriteLog(dir_ / "data", kSigning, 8, 11);
  ASSERT_GT(w.head, w.signed_position);
  // verify says how much no signature covers yet.
  auto text = Replay({"verify", "--data", (dir_ / "data").string()});
  EXPECT_NE(text.out.find("; " + std::to_string(w.head - w.signed_position) +
                          (w.head - w.signed_position == 1 ? " record" : " records") +
                          " not covered by any signed checkpoint (after position " +
                          std::to_string(w.signed_position) + ")"),
            std::string::npos)
      << text.out;

  // The forger changes the last record, which no checkpoint covers, and
  // recomputes the chain and the head: verify finds nothing.
  const fs::path data = CopyOf(dir_ / "data", dir_ / "forged");
  ForgeRecord(data, "stadt", w.head, ChangeActor);
  ASSERT_EQ(Replay({"verify", "--data", data.string()}).exit_code, 0);

  {
    Server server(data, kSigning);
    server.Start();
    const int port = server.port();
    // The snapshot taken at the clean stop names the head with its old hash.
    ExpectHeld(port, "/v1/tenants/stadt/resources", "integrity_alarm", w.head, "snapshot");
    ExpectHeld(port, "/v1/tenants/stadt/checkpoint/key", "integrity_alarm", w.head, "snapshot");
    auto booking =
        CallJson(port, "POST", "/v1/tenants/stadt/bookings",
                 {{"resource", "saal"}, {"start", "2027-07-01T10:00:00Z"}, {"end", "2027-07-01T11:00:00Z"}});
    EXPECT_EQ(booking.status, 503) << booking.body;
    EXPECT_EQ(booking.json()["code"], "integrity_alarm");
    auto ready = Call(port, "GET", "/readyz");
    EXPECT_EQ(ready.status, 503);
    EXPECT_EQ(ready.json()["code"], "integrity_alarm") << ready.body;
    EXPECT_EQ(ready.json()["details"]["tenants"]["stadt"]["position"], w.head) << ready.body;
    auto metrics =
        Call(port, "GET", "/metrics", "", {{"Authorization", std::string("Bearer ") + kOperatorKey}});
    EXPECT_NE(metrics.body.find("saalbuch_tenant_held{code=\"integrity_alarm\",position=\"" +
                                std::to_string(w.head) + "\",tenant=\"stadt\"} 1"),
              std::string::npos)
        << metrics.body;
    // The operator pages list it held, with the position and why.
    auto tenants = Call(port, "GET", "/v1/operator/tenants", "",
                        {{"Authorization", std::string("Bearer ") + kOperatorKey}});
    ASSERT_EQ(tenants.status, 200) << tenants.body;
    const nlohmann::json held = tenants.json()["items"][0];
    EXPECT_EQ(held["id"], "stadt");
    EXPECT_EQ(held["hold"]["code"], "integrity_alarm") << tenants.body;
    EXPECT_EQ(held["hold"]["position"], w.head) << tenants.body;
    EXPECT_FALSE(held["hold"]["message"].get<std::string>().empty());
    // Long enough for the checkpoint timer (every second) to have signed
    // the forged log, had it not been held.
    std::this_thread::sleep_for(std::chrono::milliseconds(2500));
    EXPECT_EQ(server.Terminate(), 0);
  }
  const std::string log = FileText(data / "saalbuchd.stderr");
  EXPECT_NE(log.find("level=error msg=\"tenant held"), std::string::npos) << log;
  EXPECT_NE(log.find("tenant=stadt code=integrity_alarm position=" + std::to_string(w.head)),
            std::string::npos)
      << log;
  auto after = Replay({"verify", "--data", data.string(), "--json"});
  EXPECT_EQ(json::parse(after.out)[0]["head"], w.head) << "nothing signed or written: " << after.out;

  {
    // Still held at the next start: the evidence was kept.
    Server server(data, kSigning);
    server.Start();
    EXPECT_EQ(Call(server.port(), "GET", "/readyz").status, 503);
    EXPECT_EQ(server.Terminate(), 0);
  }
  {
    // The operator accepts the log as it stands: served again, and the
    // decision is a checkpoint in the log, recorded as the operator's.
    Server server(data, With(kSigning, {"--accept-log", "stadt"}));
    server.Start();
    const int port = server.port();
    EXPECT_EQ(Call(port, "GET", "/readyz").status, 200);
    EXPECT_EQ(Call(port, "GET", "/v1/tenants/stadt/resources").status, 200);
    auto cp = Call(port, "GET", "/v1/tenants/stadt/checkpoint", "", {{"Authorization", "Bearer " + w.admin}});
    ASSERT_EQ(cp.status, 200) << cp.body;
    EXPECT_EQ(cp.json()["position"], w.head);
    EXPECT_EQ(server.Terminate(), 0);
  }
  auto exported = Replay({"export", "--data", data.string(), "--tenant", "stadt", "--from",
                          std::to_string(w.head + 1), "--to", std::to_string(w.head + 1)});
  ASSERT_EQ(exported.exit_code, 0) << exported.err;
  const json accepted = json::parse(exported.out.substr(0, exported.out.find('\n')))["record"];
  EXPECT_EQ(accepted["payload_type"], "CheckpointSigned");
  EXPECT_EQ(accepted["actor"], "operator");
  EXPECT_EQ(accepted["correlation_id"], "accept-log");
  // The accepted checkpoint signs the root of the records as they are now.
  auto verified = Replay({"verify", "--data", data.string(), "--tenant", "stadt"});
  EXPECT_EQ(verified.exit_code, 0) << verified.out << verified.err;
  {
    Server server(data, kSigning);  // the flag removed: nothing disagrees any more
    server.Start();
    EXPECT_EQ(Call(server.port(), "GET", "/readyz").status, 200);
    EXPECT_EQ(server.Terminate(), 0);
  }
  EXPECT_EQ(Replay({"verify", "--data", data.string()}).exit_code, 0);
}

TEST_F(IntegrityTest, WithoutSnapshotsThePositionOfTheProjectionsCatchesTheRewrite) {
  const WrittenLog w = WriteLog(dir_ / "data", With(kNotSigning, {"--snapshot-every", "0"}), 3, 0);
  const fs::path data = CopyOf(dir_ / "data", dir_ / "forged");
  ForgeRecord(data, "stadt", w.head, ChangeActor);
  Server server(data, With(kNotSigning, {"--snapshot-every", "0"}));
  server.Start();
  ExpectHeld(server.port(), "/v1/tenants/stadt/resources", "integrity_alarm", w.head, "projections");
  EXPECT_EQ(server.Terminate(), 0);
}

TEST_F(IntegrityTest, ARewriteBeforeTheLastCheckpointDisagreesWithTheSignedHash) {
  const WrittenLog w = WriteLog(dir_ / "data", With(kSigning, {"--snapshot-every", "0"}), 8, 11);
  const fs::path data = CopyOf(dir_ / "data", dir_ / "forged");
  ForgeRecord(data, "stadt", 4, ChangeActor);
  Server server(data, With(kSigning, {"--snapshot-every", "0"}));
  server.Start();
  ExpectHeld(server.port(), "/v1/tenants/stadt/resources", "integrity_alarm", w.signed_position,
             "differs from the one signed");
  EXPECT_EQ(server.Terminate(), 0);
}

// Since the Merkle tree the note signs the root, not the checkpoint record's
// chain hash: a forger without the key who also patches that hash (and the
// chain after it) leaves the stored tree as it was. The start still names
// the rewrite: record p's bytes do not fit under the signed root.
TEST_F(IntegrityTest, ARewriteThatAlsoPatchesTheCheckpointsChainHashIsCaught) {
  const WrittenLog w = WriteLog(dir_ / "data", With(kSigning, {"--snapshot-every", "0"}), 8, 11);
  const fs::path data = CopyOf(dir_ / "data", dir_ / "forged");
  ForgeRecord(data, "stadt", 4, ChangeActor);
  Seq record = 0;  // the last checkpoint record
  std::string chain_at_p;
  {
    ForgerDb f(data);
    const Seq head = ledger::keys::ReadBigEndian64(f.Get(f.meta(), ledger::keys::HeadKey("stadt")));
    for (Seq s = head; s > 0 && record == 0; --s) {
      const std::string v = f.Get(f.log(), ledger::keys::LogKey("stadt", s));
      if (schema::GetEnvelope(v.data() + 32)->payload_as_CheckpointSigned() != nullptr) record = s;
    }
    chain_at_p = f.Get(f.log(), ledger::keys::LogKey("stadt", w.signed_position)).substr(0, 32);
  }
  ASSERT_GT(record, w.signed_position);
  ForgeRecord(data, "stadt", record, [&](const schema::Envelope& env) {
    const auto* cp = env.payload_as_CheckpointSigned();
    ASSERT_EQ(cp->position(), w.signed_position);
    std::memcpy(const_cast<std::uint8_t*>(cp->head_hash()->data()), chain_at_p.data(), 32);
  });
  Server server(data, With(kSigning, {"--snapshot-every", "0"}));
  server.Start();
  ExpectHeld(server.port(), "/v1/tenants/stadt/resources", "integrity_alarm", w.signed_position,
             "is not the one under the Merkle root signed by");
  EXPECT_EQ(server.Terminate(), 0);
}

TEST_F(IntegrityTest, ADeletedSigningKeyIsAnAlarmNotAFreshStart) {
  const WrittenLog w = WriteLog(dir_ / "data", kSigning, 8, 11);
  const fs::path data = CopyOf(dir_ / "data", dir_ / "forged");
  const std::string key = ledger::keys::TenantPrefix("stadt") + "k";
  {
    ForgerDb f(data);
    ASSERT_TRUE(f.Has(f.meta(), key));
    f.Delete(f.meta(), key);
  }
  {
    Server server(data, kSigning);
    server.Start();
    const int port = server.port();
    auto r = Call(port, "GET", "/v1/tenants/stadt/checkpoint/key");
    ASSERT_EQ(r.status, 503) << "a new key was published: " << r.body;
    EXPECT_EQ(r.json()["code"], "integrity_alarm");
    EXPECT_NE(r.json()["detail"].get<std::string>().find("signing key is missing"), std::string::npos)
        << r.body;
    EXPECT_EQ(Call(port, "GET", "/readyz").json()["code"], "integrity_alarm");
    std::this_thread::sleep_for(std::chrono::milliseconds(2500));
    EXPECT_EQ(server.Terminate(), 0);
  }
  {
    ForgerDb f(data);
    EXPECT_FALSE(f.Has(f.meta(), key)) << "no new key was created";
  }
  auto after = Replay({"verify", "--data", data.string(), "--json"});
  EXPECT_EQ(json::parse(after.out)[0]["head"], w.head) << "nothing was signed: " << after.out;
}

// Record 1 (TenantCreated) carries the zone's offsets (common/zone.h): a
// zone name no tz database has does not matter while they are there. A log
// whose record 1 has no readable rules (written before them) needs the
// host's zone, and fails loudly without it.
TEST_F(IntegrityTest, AZoneTheHostLacksFailsLoudlyInTheServerAndTheToolsUnlessTheLogCarriesIt) {
  const std::vector<std::string> args = With(kNotSigning, {"--snapshot-every", "0"});
  WriteLog(dir_ / "data", args, 2, 0);
  const std::vector<std::string> june = {
      "--tenant", "stadt", "--from", "2027-06-01T00:00:00Z", "--to", "2027-06-30T00:00:00Z"};
  auto fine = Replay(With({"state", "--data", (dir_ / "data").string()}, june));
  EXPECT_EQ(fine.exit_code, 0) << fine.err;
  ASSERT_FALSE(json::parse(fine.out)["bookings"]["saal"]["items"].empty()) << fine.out;
  const auto rename = [](const schema::Envelope& env) {
    const auto* created = env.payload_as_TenantCreated();
    ASSERT_NE(created, nullptr);
    ASSERT_EQ(created->time_zone()->str(), "Europe/Berlin");
    const_cast<char*>(created->time_zone()->c_str())[12] = 'x';
  };
  const fs::path carried = CopyOf(dir_ / "data", dir_ / "carried");
  ForgeRecord(carried, "stadt", 1, rename);
  auto with_rules = Replay(With({"state", "--data", carried.string()}, june));
  EXPECT_EQ(with_rules.exit_code, 0) << with_rules.err;
  EXPECT_EQ(json::parse(with_rules.out)["bookings"], json::parse(fine.out)["bookings"]);

  // The zone renamed and its rules unreadable; the projections' position is
  // dropped too, so that the zone is all that disagrees.
  const fs::path data = CopyOf(dir_ / "data", dir_ / "zone");
  ForgeRecord(data, "stadt", 1, [&](const schema::Envelope& env) {
    rename(env);
    const auto* created = env.payload_as_TenantCreated();
    ASSERT_NE(created->zone_rules(), nullptr);
    ASSERT_EQ(created->zone_rules()->str().rfind("sbz1 Europe/Berlin\n", 0), 0U);
    const_cast<char*>(created->zone_rules()->c_str())[0] = 'x';
  });
  {
    ForgerDb f(data);
    f.Delete(f.projections(), std::string(1, '\0') + "Hstadt");
  }
  auto state = Replay({"state", "--data", data.string(), "--tenant", "stadt"});
  EXPECT_EQ(state.exit_code, 2) << state.out;
  EXPECT_NE(state.err.find("time zone 'Europe/Berlix'"), std::string::npos) << state.err;
  auto diff = Replay({"diff", "--data", data.string()});
  EXPECT_EQ(diff.exit_code, 2) << diff.out;

  Server server(data, args);
  server.Start();
  ExpectHeld(server.port(), "/v1/tenants/stadt/resources", "time_zone_unknown", 1, "Europe/Berlix");
  auto ready = Call(server.port(), "GET", "/readyz");
  EXPECT_EQ(ready.status, 503);
  EXPECT_EQ(ready.json()["code"], "time_zone_unknown") << ready.body;
  EXPECT_EQ(server.Terminate(), 0);
}

TEST_F(IntegrityTest, ExportOfADamagedLogExitsOneAndNamesTheRecord) {
  const WrittenLog w = WriteLog(dir_ / "data", kNotSigning, 2, 0);
  auto text = Replay({"verify", "--data", (dir_ / "data").string()});
  EXPECT_NE(text.out.find("; " + std::to_string(w.head) + " records not covered by any signed checkpoint\n"),
            std::string::npos)
      << text.out;
  const fs::path data = CopyOf(dir_ / "data", dir_ / "damaged");
  {
    // One byte of record 3's actor flipped; nothing recomputed.
    ForgerDb f(data);
    const std::string key = ledger::keys::LogKey("stadt", 3);
    std::string v = f.Get(f.log(), key);
    const auto* env = schema::GetEnvelope(v.data() + 32);
    v[static_cast<std::size_t>(env->actor()->c_str() - v.data())] ^= 0x01;
    f.Put(f.log(), key, v);
  }
  auto ex = Replay({"export", "--data", data.string(), "--tenant", "stadt"});
  EXPECT_EQ(ex.exit_code, 1) << ex.err;
  EXPECT_NE(ex.err.find("damaged at record 3"), std::string::npos) << ex.err;
  const fs::path file = dir_ / "stadt.jsonl";
  auto to_file = Replay({"export", "--data", data.string(), "--tenant", "stadt", "--out", file.string()});
  EXPECT_EQ(to_file.exit_code, 1) << to_file.err;
  EXPECT_FALSE(fs::exists(file));
  EXPECT_EQ(Replay({"export", "--data", data.string(), "--tenant", "stadt", "--to", "2"}).exit_code, 0)
      << "the records before the damage";
}

// ---- issue 18: an auditor who keeps state ----

// The first run of verify with --trusted-checkpoint stores the newest
// checkpoint it verified; the auditor keeps that file on their own machine.
Seq KeepTrustedCheckpoint(const fs::path& data, const fs::path& trusted) {
  auto first = Replay({"verify", "--data", data.string(), "--tenant", "stadt", "--trusted-checkpoint",
                       trusted.string(), "--json"});
  EXPECT_EQ(first.exit_code, 0) << first.out << first.err;
  EXPECT_TRUE(fs::exists(trusted));
  EXPECT_EQ(fs::status(trusted).permissions() & fs::perms::others_read, fs::perms::none);
  const json report = json::parse(first.out)[0];
  EXPECT_EQ(report["trusted_position_now"], report["last_position"]) << first.out;
  return report["last_position"].get<Seq>();
}

TEST_F(IntegrityTest, ARewriteResignedWithTheStoredKeyFoolsTheLogAloneButNotTheAuditorsCheckpoint) {
  WriteLog(dir_ / "data", kSigning, 8, 11);
  const fs::path trusted = dir_ / "auditor" / "stadt.checkpoint";
  fs::create_directories(trusted.parent_path());
  const Seq kept = KeepTrustedCheckpoint(dir_ / "data", trusted);
  ASSERT_GE(kept, 11u);
  const std::string kept_note = FileText(trusted);
  const fs::path data = CopyOf(dir_ / "data", dir_ / "forged");
  ForgeAndResign(data, "stadt", 3, ChangeActor);

  // The forged log verifies on its own: chain, notes, cadence.
  auto alone = Replay({"verify", "--data", data.string(), "--tenant", "stadt"});
  EXPECT_EQ(alone.exit_code, 0) << alone.out << alone.err;
  // The auditor's kept checkpoint names the rewrite.
  auto held = Replay(
      {"verify", "--data", data.string(), "--tenant", "stadt", "--trusted-checkpoint", trusted.string()});
  EXPECT_EQ(held.exit_code, 1) << held.out << held.err;
  EXPECT_NE(held.out.find("REWRITTEN: the Merkle root at position " + std::to_string(kept)),
            std::string::npos)
      << held.out;
  // The tenant comes from the kept note itself; the JSON report names it too.
  auto as_json =
      Replay({"verify", "--data", data.string(), "--trusted-checkpoint", trusted.string(), "--json"});
  EXPECT_EQ(as_json.exit_code, 1) << as_json.err;
  EXPECT_EQ(json::parse(as_json.out)[0]["trust_problem"], "rewritten") << as_json.out;
  // A finding never moves the auditor's state.
  EXPECT_EQ(FileText(trusted), kept_note);
}

// A log signed before the Merkle tree: its notes sign the chain hash and its
// checkpoint records carry no root. verify still checks them, and a rewrite
// re-chained without the key is still caught. (A writer opening such a log
// stores its tree: rocks_log_test.)
TEST_F(IntegrityTest, CheckpointsSignedBeforeTheTreeStillVerify) {
  const fs::path data = dir_ / "old";
  const std::string seed = RandomBytes(32), name = "saalbuch/stadt";
  const fs::path vkey = dir_ / "stadt.vkey";
  std::ofstream(vkey) << VerifierKey(name, Ed25519PublicKey(seed));
  {
    auto db = ledger::Database::Open((data / "db").string(), {});
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    ledger::RocksLog log(db->get());
    const TenantId t("stadt");
    for (int i = 0; i < 4; ++i)
      ASSERT_TRUE(log.Append(t, testing_support::OneResource("r" + std::to_string(i)), {}).ok());
    const ledger::Head head = *log.GetHead(t);
    ledger::EventDraft d = testing_support::ResourceDraft("checkpoint");
    d.stream_id = "checkpoint";
    schema::CheckpointSignedT cp;
    cp.position = head.seq;
    cp.head_hash.assign(head.hash.begin(), head.hash.end());
    cp.note = SignNote(CheckpointBody({name, head.seq, std::string(AsBytes(head.hash))}), name, seed);
    cp.verifier_key = VerifierKey(name, Ed25519PublicKey(seed));
    d.payload.Set(std::move(cp));
    ASSERT_TRUE(log.Append(t, testing_support::One(std::move(d)), {}).ok());
    ASSERT_TRUE(log.Append(t, testing_support::OneResource("after"), {}).ok());
  }
  auto ok = Replay({"verify", "--data", data.string(), "--tenant", "stadt", "--verifier-key", vkey.string()});
  EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.err;
  EXPECT_NE(ok.out.find("1 signed checkpoints verify (key from the auditor)"), std::string::npos) << ok.out;

  const fs::path forged = CopyOf(data, dir_ / "forged");
  ForgeRecord(forged, "stadt", 2, ChangeActor);
  auto bad =
      Replay({"verify", "--data", forged.string(), "--tenant", "stadt", "--verifier-key", vkey.string()});
  EXPECT_EQ(bad.exit_code, 1) << bad.out;
  EXPECT_NE(bad.out.find("the log's chain hash at position 4 is not the signed one"), std::string::npos)
      << bad.out;
}

TEST_F(IntegrityTest, ALogCutBeforeTheAuditorsCheckpointIsTruncatedAndAGoodRunAdvancesTheCheckpoint) {
  const WrittenLog w = WriteLog(dir_ / "data", kSigning, 8, 11);
  const fs::path trusted = dir_ / "stadt.checkpoint";
  const Seq kept = KeepTrustedCheckpoint(dir_ / "data", trusted);
  const std::string kept_note = FileText(trusted);
  // Cut back to before the kept checkpoint (and every checkpoint after it).
  const fs::path data = CopyOf(dir_ / "data", dir_ / "cut");
  Truncate(data, "stadt", kept - 2);
  auto cut = Replay(
      {"verify", "--data", data.string(), "--tenant", "stadt", "--trusted-checkpoint", trusted.string()});
  EXPECT_EQ(cut.exit_code, 1) << cut.out << cut.err;
  EXPECT_NE(cut.out.find("TRUNCATED: the log ends at position " + std::to_string(kept - 2) +
                         ", but the trusted checkpoint"),
            std::string::npos)
      << cut.out;
  EXPECT_EQ(FileText(trusted), kept_note);

  // The genuine log grows; the next good run moves the auditor's checkpoint on.
  {
    Server server(dir_ / "data", kSigning);
    server.Start();
    for (int i = 1; i <= 6; ++i) {
      const std::string d = "2027-07-0" + std::to_string(i);
      EXPECT_EQ(CallJson(server.port(), "POST", "/v1/tenants/stadt/bookings",
                         {{"resource", "saal"}, {"start", d + "T10:00:00Z"}, {"end", d + "T11:00:00Z"}})
                    .status,
                201);
    }
    EXPECT_EQ(server.Terminate(), 0);
  }
  auto grown = Replay(
      {"verify", "--data", (dir_ / "data").string(), "--trusted-checkpoint", trusted.string(), "--json"});
  ASSERT_EQ(grown.exit_code, 0) << grown.out << grown.err;
  const json report = json::parse(grown.out)[0];
  EXPECT_EQ(report["trusted_position"], kept);
  EXPECT_GT(report["trusted_position_now"].get<Seq>(), kept) << grown.out;
  EXPECT_GT(report["head"].get<Seq>(), w.head);
  EXPECT_NE(FileText(trusted), kept_note);
}

TEST_F(IntegrityTest, TheWriterKeepsTheCheckpointCadenceAndVerifyCallsAGapAFinding) {
  // Signing every 5 records, with twelve clients booking at once (batches of
  // several commands): never more than 5 records, plus those of one command
  // beyond its first (a room created with its hours is 2), between two
  // checkpoints, nor after the last.
  {
    Server server(dir_ / "signing", {"--checkpoint-every", "5", "--checkpoint-interval", "3600"});
    server.Start();
    const std::vector<std::string> rooms = {"a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l"};
    const std::string admin = TenantWithRooms(server.port(), "stadt", rooms);
    BookingLoad load(server.port(), "stadt", rooms, admin);
    load.Start();
    load.WaitFor(300);
    load.Stop();
    EXPECT_EQ(load.failures(), 0) << load.last_failure();
    EXPECT_EQ(server.Terminate(), 0);
  }
  auto kept = Replay({"verify", "--data", (dir_ / "signing").string(), "--checkpoint-every", "5", "--json"});
  ASSERT_EQ(kept.exit_code, 0) << kept.out << kept.err;
  const json report = json::parse(kept.out)[0];
  EXPECT_LE(report["largest_gap"].get<Seq>(), 6u) << kept.out;
  EXPECT_GE(report["checkpoints"].get<Seq>(), (report["records"].get<Seq>() - 6) / 7) << kept.out;

  // A server that signs only its first checkpoint, verified as if it signed
  // every 5 records: the unsigned run of records is a finding, not OK.
  const WrittenLog w = WriteLog(dir_ / "sparse", kRarelySigning, 8, 0);
  EXPECT_GT(w.signed_position, 0u) << "a tenant's first checkpoint comes at once";
  auto sparse = Replay({"verify", "--data", (dir_ / "sparse").string(), "--checkpoint-every", "1"});
  EXPECT_EQ(sparse.exit_code, 1) << sparse.out << sparse.err;
  EXPECT_NE(sparse.out.find("CHECKPOINTS MISSING"), std::string::npos) << sparse.out;
  // With the cadence that server really had, the same log is OK.
  auto fine = Replay({"verify", "--data", (dir_ / "sparse").string(), "--checkpoint-every", "100000000"});
  EXPECT_EQ(fine.exit_code, 0) << fine.out << fine.err;
}

TEST_F(IntegrityTest, AnUnusableTrustedCheckpointIsAFailureNotAVerdict) {
  WriteLog(dir_ / "data", kSigning, 2, 0);
  std::ofstream(dir_ / "junk.checkpoint") << "not a note\n";
  auto junk = Replay({"verify", "--data", (dir_ / "data").string(), "--trusted-checkpoint",
                      (dir_ / "junk.checkpoint").string()});
  EXPECT_EQ(junk.exit_code, 2) << junk.out;
  EXPECT_NE(junk.err.find("it is not a signed note"), std::string::npos) << junk.err;
  // A first run needs to know whose checkpoint to keep.
  auto whose = Replay({"verify", "--data", (dir_ / "data").string(), "--trusted-checkpoint",
                       (dir_ / "new.checkpoint").string()});
  EXPECT_EQ(whose.exit_code, 2) << whose.out;
  EXPECT_FALSE(fs::exists(dir_ / "new.checkpoint"));
}

}  // namespace
}  // namespace saalbuch::e2e
