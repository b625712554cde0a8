// Witnesses (issue 18, parts 2 and 6): the real saalbuch-replay witness as
// its own process, spoken to over HTTP as C2SP tlog-witness says; the real
// saalbuchd submitting its checkpoints to it; verify requiring its
// cosignatures; and an attacker with write access to a copy of the data
// directory (a rewrite re-signed with the stored key, a truncation, deleted
// cosignatures, the rewritten log's checkpoint shown to the witness) caught
// each time.

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "common/crypto.h"
#include "common/merkle.h"
#include "common/note.h"
#include "ledger/keys.h"
#include "tests/e2e/forger.h"
#include "tests/e2e/harness.h"

namespace saalbuch::e2e {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

class WitnessTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = FreshDir("witness"); }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

// A log of fake records, as the witness sees one: leaves, roots, proofs and
// checkpoints signed with the log's key.
struct FakeLog {
  std::string origin = "saalbuch/stadt";
  Ed25519Keys keys = Ed25519Generate();
  std::vector<Sha256> leaves;

  explicit FakeLog(std::size_t n, const std::string& salt = "") {
    for (std::size_t i = 0; i < n; ++i)
      leaves.push_back(merkle::LeafHash(salt + "record " + std::to_string(i)));
  }
  merkle::NodeFn Nodes() const {
    return [this](int level, std::uint64_t index) -> Result<Sha256> {
      const std::uint64_t width = std::uint64_t{1} << level;
      merkle::Frontier f;
      for (std::uint64_t i = index * width; i < (index + 1) * width; ++i) f.Append(leaves.at(i));
      return f.Root();
    };
  }
  std::string Root(Seq size) const { return std::string(AsBytes(merkle::Root(size, Nodes()).value())); }
  std::string Note(Seq size) const {
    return SignNote(CheckpointBody({origin, size, Root(size)}), origin, keys.seed);
  }
  std::string Key() const { return VerifierKey(origin, keys.public_key); }
  std::string Request(Seq old, Seq size) const {
    std::string r = "old " + std::to_string(old) + "\n";
    if (old > 0) {
      const auto proof = merkle::ConsistencyProof(old, size, Nodes());
      for (const auto& h : proof.value()) r += Base64Encode(AsBytes(h)) + "\n";
    }
    return r + "\n" + Note(size);
  }
};

HttpResult Add(int port, const std::string& body) { return Call(port, "POST", "/add-checkpoint", body); }

std::size_t Refused(const WitnessProcess& w) {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(w.state_dir() / "refused")) ++n;
  return n;
}

TEST_F(WitnessTest, CosignsConsistentExtensionsOnlyAsTlogWitnessSays) {
  const FakeLog log(20);
  WitnessProcess w(dir_ / "witness", {log.Key()});
  w.Start();
  const auto witness_key = ParseVerifierKey(w.verifier_key(), kCosigner);
  ASSERT_TRUE(witness_key) << w.verifier_key();
  EXPECT_EQ(witness_key->name, WitnessProcess::name());
  auto hello = Call(w.port(), "GET", "/");
  EXPECT_EQ(hello.status, 200);
  EXPECT_NE(hello.body.find(w.verifier_key()), std::string::npos) << hello.body;

  // Unknown origin: 404; a known origin signed by another key: 403.
  FakeLog stranger(20);
  stranger.origin = "saalbuch/dorf";
  EXPECT_EQ(Add(w.port(), stranger.Request(0, 5)).status, 404);
  FakeLog impostor(20);  // same origin, another key
  EXPECT_EQ(Add(w.port(), impostor.Request(0, 5)).status, 403);
  // Malformed requests and an old size above the checkpoint's: 400.
  EXPECT_EQ(Add(w.port(), "hello").status, 400);
  EXPECT_EQ(Add(w.port(), "old 01\n\n" + log.Note(5)).status, 400);
  EXPECT_EQ(Add(w.port(), "old 0\nnot base64\n\n" + log.Note(5)).status, 400);
  EXPECT_EQ(Add(w.port(), "old 9\n\n" + log.Note(5)).status, 400);
  EXPECT_EQ(Add(w.port(), std::string(70 * 1024, 'x')).status, 413);
  EXPECT_FALSE(fs::exists(w.state_file(log.origin)));

  // The first checkpoint: a cosignature of the body, timestamped now.
  auto first = Add(w.port(), log.Request(0, 5));
  ASSERT_EQ(first.status, 200) << first.body;
  const std::string body5 = CheckpointBody({log.origin, 5, log.Root(5)});
  const auto when = VerifyCosignature(body5, first.body, *witness_key);
  ASSERT_TRUE(when) << first.body;
  const auto now =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  EXPECT_LE(std::llabs(static_cast<long long>(*when) - now), 60);
  // Its state: the log's note with the witness's cosignature, a note that
  // opens with either key (an auditor's trusted checkpoint).
  const std::string state = FileText(w.state_file(log.origin));
  EXPECT_EQ(state, log.Note(5) + first.body);
  EXPECT_EQ(OpenNote(state, *witness_key), body5);
  EXPECT_EQ(OpenNote(state, *ParseVerifierKey(log.Key())), body5);

  // A stale old size: 409 with the size it holds.
  auto stale = Add(w.port(), log.Request(0, 8));
  EXPECT_EQ(stale.status, 409);
  EXPECT_EQ(stale.header("content-type"), "text/x.tlog.size");
  EXPECT_EQ(stale.body, "5\n");
  // A consistent extension with its proof: cosigned.
  auto second = Add(w.port(), log.Request(5, 12));
  ASSERT_EQ(second.status, 200) << second.body;
  EXPECT_TRUE(VerifyCosignature(CheckpointBody({log.origin, 12, log.Root(12)}), second.body, *witness_key));
  // The same checkpoint again: cosigned again.
  EXPECT_EQ(Add(w.port(), log.Request(12, 12)).status, 200);
  EXPECT_EQ(Refused(w), 0U);

  // A fork: record 3 changed, signed with the log's own key. Extending it
  // from 12 fails the proof (422); at 12 itself the root differs (409).
  FakeLog fork = log;
  fork.leaves[3] = merkle::LeafHash("changed");
  auto extended = Add(w.port(), fork.Request(12, 15));
  EXPECT_EQ(extended.status, 422) << extended.body;
  auto same_size = Add(w.port(), fork.Request(12, 12));
  EXPECT_EQ(same_size.status, 409) << same_size.body;
  EXPECT_NE(same_size.header("content-type"), "text/x.tlog.size");
  EXPECT_EQ(Refused(w), 2U);  // both kept as evidence
  // A proof of another extension does not fit either.
  std::string wrong = log.Request(12, 15);
  wrong.replace(wrong.find('\n') + 1, 44, Base64Encode(std::string(32, '\x07')));
  EXPECT_EQ(Add(w.port(), wrong).status, 422);

  // The state survives a kill, unchanged by every refusal.
  w.Kill();
  w.Start();
  auto after = Add(w.port(), log.Request(0, 15));
  EXPECT_EQ(after.status, 409);
  EXPECT_EQ(after.body, "12\n");
  EXPECT_EQ(Add(w.port(), log.Request(12, 15)).status, 200);
  // A state file without the witness's own cosignature is not taken as its
  // state.
  { std::ofstream(w.state_file(log.origin), std::ios::trunc) << log.Note(15); }
  EXPECT_EQ(Add(w.port(), log.Request(15, 20)).status, 500);
}

// saalbuchd's metrics count a submission to the witness with `result`
// (within 10 s: the submitter stores a cosignature before it counts it).
void ExpectSubmissions(int port, const std::string& result) {
  const std::string line =
      "saalbuch_witness_submissions_total{result=\"" + result + "\",witness=\"rpa.example/witness\"}";
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  std::string body;
  while (std::chrono::steady_clock::now() < deadline) {
    body = Call(port, "GET", "/metrics", "", {{"Authorization", std::string("Bearer ") + kOperatorKey}}).body;
    if (body.find(line) != std::string::npos) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ADD_FAILURE() << "no " << line << " in\n" << body;
}

// The tenant's checkpoint key, from a first run of the server (the key is
// made with the tenant's first checkpoint).
struct Tenant {
  std::string admin;
  std::string key;
};

Tenant CreateTenant(const fs::path& data) {
  Server server(data, {"--checkpoint-every", "5", "--checkpoint-interval", "1"});
  server.Start();
  auto t = CallJson(server.port(), "POST", "/v1/tenants", {{"id", "stadt"}, {"name", "Stadt"}}, kOperatorKey);
  EXPECT_EQ(t.status, 201) << t.body;
  Tenant out{t.json()["admin_key"]["key"].get<std::string>(), ""};
  EXPECT_EQ(CallJson(server.port(), "POST", "/v1/tenants/stadt/resources", {{"id", "saal"}, {"name", "Saal"}},
                     out.admin)
                .status,
            201);
  EXPECT_TRUE(CheckpointCovering(server.port(), "stadt", out.admin, 1).is_object());
  auto key = Call(server.port(), "GET", "/v1/tenants/stadt/checkpoint/key");
  EXPECT_EQ(key.status, 200);
  out.key = key.body.substr(0, key.body.find('\n'));
  EXPECT_EQ(server.Terminate(), 0);
  return out;
}

void Book(int port, int day) {
  const std::string d = "2027-06-" + std::string(day < 10 ? "0" : "") + std::to_string(day);
  EXPECT_EQ(CallJson(port, "POST", "/v1/tenants/stadt/bookings",
                     {{"resource", "saal"}, {"start", d + "T10:00:00Z"}, {"end", d + "T11:00:00Z"}})
                .status,
            201);
}

// The latest checkpoint once it covers every record before its own and
// carries a cosignature; null after 15 s.
json CosignedCheckpoint(int port, const std::string& admin) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  while (std::chrono::steady_clock::now() < deadline) {
    auto r = Call(port, "GET", "/v1/tenants/stadt/checkpoint", "", {{"Authorization", "Bearer " + admin}});
    auto events =
        Call(port, "GET", "/v1/tenants/stadt/events?limit=1", "", {{"Authorization", "Bearer " + admin}});
    if (r.status == 200 && events.status == 200) {
      const json cp = r.json();
      if (cp["record"] == events.json()["head"] && !cp.value("cosignatures", json::array()).empty())
        return cp;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return nullptr;
}

ToolResult VerifyStadt(const fs::path& data, std::vector<std::string> more) {
  std::vector<std::string> args = {"verify", "--data", data.string(), "--tenant", "stadt"};
  args.insert(args.end(), more.begin(), more.end());
  return Replay(args);
}

TEST_F(WitnessTest, EveryCheckpointIsCosignedAndAnAttackerWithTheFilesIsCaught) {
  const fs::path data = dir_ / "data";
  const Tenant tenant = CreateTenant(data);
  WitnessProcess w(dir_ / "witness", {tenant.key});
  w.Start();
  Seq witnessed = 0;
  {
    Server server(data, {"--checkpoint-every", "5", "--checkpoint-interval", "1", "--witness", w.spec()});
    server.Start();
    for (int day = 1; day <= 12; ++day) Book(server.port(), day);
    const json cp = CosignedCheckpoint(server.port(), tenant.admin);
    ASSERT_TRUE(cp.is_object()) << "no cosigned checkpoint of the whole log";
    witnessed = cp["position"].get<Seq>();
    ASSERT_GE(witnessed, 14U);
    // The cosigned note opens with the witness's key and the log's.
    const auto witness_key = ParseVerifierKey(w.verifier_key(), kCosigner);
    const auto body = OpenNote(cp["cosigned_note"].get<std::string>(), *witness_key);
    ASSERT_TRUE(body) << cp.dump();
    EXPECT_EQ(OpenNote(cp["cosigned_note"].get<std::string>(), *ParseVerifierKey(tenant.key)), body);
    EXPECT_EQ(ParseCheckpointBody(*body)->size, witnessed);
    // The witness holds the same checkpoint.
    EXPECT_EQ(OpenNote(FileText(w.state_file("saalbuch/stadt")), *witness_key), body);
    ExpectSubmissions(server.port(), "cosigned");
    EXPECT_EQ(server.Terminate(), 0);
  }
  EXPECT_EQ(Refused(w), 0U);
  const std::string wk = w.verifier_key();
  auto good = VerifyStadt(data, {"--witness", wk});
  EXPECT_EQ(good.exit_code, 0) << good.out << good.err;
  EXPECT_NE(good.out.find("witnessed (1 of 1) up to position " + std::to_string(witnessed)),
            std::string::npos)
      << good.out;
  // The export ends with that checkpoint and its cosignature.
  auto exported = Replay({"export", "--data", data.string(), "--tenant", "stadt"});
  ASSERT_EQ(exported.exit_code, 0) << exported.err;
  const std::string last = exported.out.substr(exported.out.rfind('\n', exported.out.size() - 2) + 1);
  const json end = json::parse(last)["checkpoint"];
  EXPECT_EQ(end["position"], witnessed) << last;
  ASSERT_EQ(end["cosignatures"].size(), 1U) << last;
  EXPECT_TRUE(OpenNote(end["cosigned_note"].get<std::string>(), *ParseVerifierKey(wk, kCosigner))) << last;
  // A second witness that never cosigned: not witnessed, unless one of two
  // is enough.
  const std::string other = VerifierKey("rpa.example/other", Ed25519Generate().public_key, kCosigner);
  auto two = VerifyStadt(data, {"--witness", wk, "--witness", other});
  EXPECT_EQ(two.exit_code, 1) << two.out;
  EXPECT_NE(two.out.find("NOT WITNESSED: the newest checkpoint (position " + std::to_string(witnessed) +
                         ") carries 1 of the 2 required"),
            std::string::npos)
      << two.out;
  EXPECT_EQ(VerifyStadt(data, {"--witness", wk, "--witness", other, "--witness-quorum", "1"}).exit_code, 0);
  EXPECT_EQ(VerifyStadt(data, {"--witness", wk, "--witness-quorum", "2"}).exit_code, 2);
  EXPECT_EQ(VerifyStadt(data, {"--witness", tenant.key}).exit_code, 2);  // a log's key is no witness's

  // 1. Record 3 rewritten and every later checkpoint re-signed with the
  // stored key: the log alone verifies, the witness's cosignatures do not.
  const fs::path forged = CopyOf(data, dir_ / "forged");
  ForgeAndResign(forged, "stadt", 3, ChangeActor);
  EXPECT_EQ(VerifyStadt(forged, {}).exit_code, 0);
  auto rewritten = VerifyStadt(forged, {"--witness", wk, "--json"});
  EXPECT_EQ(rewritten.exit_code, 1) << rewritten.out;
  const json report = json::parse(rewritten.out)[0];
  EXPECT_EQ(report["witness_problem"], "rewritten");
  EXPECT_NE(
      report["finding"].get<std::string>().find("REWRITTEN: the cosignature of witness rpa.example/witness"),
      std::string::npos)
      << report.dump();

  // 2. The same, with the cosignatures deleted too: nothing is witnessed.
  {
    ForgerDb f(forged);
    for (Seq size = 1; size <= witnessed; ++size) {
      std::string key = ledger::keys::TenantPrefix("stadt") + "c";
      ledger::keys::AppendBigEndian64(&key, size);
      f.Delete(f.meta(), key + WitnessProcess::name());
    }
  }
  auto unwitnessed = VerifyStadt(forged, {"--witness", wk});
  EXPECT_EQ(unwitnessed.exit_code, 1);
  EXPECT_NE(unwitnessed.out.find("NOT WITNESSED"), std::string::npos) << unwitnessed.out;
  EXPECT_NE(unwitnessed.out.find("no checkpoint is witnessed"), std::string::npos) << unwitnessed.out;

  // 3. The log cut back before the witnessed checkpoint: the stored
  // cosignature names the size it had; with those deleted as well, a copy
  // of the witness's state as the auditor's trusted checkpoint does.
  const fs::path cut = CopyOf(data, dir_ / "cut");
  Truncate(cut, "stadt", witnessed - 3);
  auto truncated = VerifyStadt(cut, {"--witness", wk});
  EXPECT_EQ(truncated.exit_code, 1);
  EXPECT_NE(truncated.out.find("TRUNCATED: the cosignature of witness rpa.example/witness for size " +
                               std::to_string(witnessed)),
            std::string::npos)
      << truncated.out;
  const fs::path trusted = dir_ / "auditor.checkpoint";
  fs::copy_file(w.state_file("saalbuch/stadt"), trusted);
  auto by_state = VerifyStadt(cut, {"--trusted-checkpoint", trusted.string()});
  EXPECT_EQ(by_state.exit_code, 1);
  EXPECT_NE(by_state.out.find("TRUNCATED"), std::string::npos) << by_state.out;

  // Cut back with the cut-off cosignatures deleted as well: what is stored
  // beside the log no longer shows it, the witness's own state does (verify
  // asks the witness with its URL).
  const fs::path cut2 = CopyOf(data, dir_ / "cut2");
  Truncate(cut2, "stadt", witnessed - 3);
  {
    ForgerDb f(cut2);
    std::string key = ledger::keys::TenantPrefix("stadt") + "c";
    ledger::keys::AppendBigEndian64(&key, witnessed);
    f.Delete(f.meta(), key + WitnessProcess::name());
  }
  auto asked = VerifyStadt(cut2, {"--witness", w.spec()});
  EXPECT_EQ(asked.exit_code, 1) << asked.out << asked.err;
  EXPECT_NE(asked.out.find("TRUNCATED: witness rpa.example/witness holds a cosigned checkpoint of size " +
                           std::to_string(witnessed)),
            std::string::npos)
      << asked.out;
  auto asked_good = VerifyStadt(data, {"--witness", w.spec(), "--json"});
  EXPECT_EQ(asked_good.exit_code, 0) << asked_good.out << asked_good.err;
  EXPECT_EQ(json::parse(asked_good.out)[0]["witness_sizes"][WitnessProcess::name()], witnessed);
  auto fetched = Call(w.port(), "GET", "/checkpoint/saalbuch%2Fstadt");
  EXPECT_EQ(fetched.status, 200);
  EXPECT_EQ(fetched.body, FileText(w.state_file("saalbuch/stadt")));
  EXPECT_EQ(Call(w.port(), "GET", "/checkpoint/saalbuch%2Fdorf").status, 404);
  EXPECT_EQ(Call(w.port(), "GET", "/checkpoint/..%2F..%2Fetc").status, 404);
  EXPECT_EQ(Call(w.port(), "GET", "/checkpoint/a/b").status, 400);

  // With --witness the kept checkpoint must carry the witness's cosignature
  // itself (the witness's state does), and verify keeps it with it.
  auto both = VerifyStadt(cut, {"--trusted-checkpoint", trusted.string(), "--witness", wk});
  EXPECT_EQ(both.exit_code, 1);
  EXPECT_NE(both.out.find("TRUNCATED"), std::string::npos) << both.out;
  const fs::path plain = dir_ / "plain.checkpoint";
  ASSERT_EQ(VerifyStadt(data, {"--trusted-checkpoint", plain.string()}).exit_code, 0);
  auto unsigned_trust = VerifyStadt(data, {"--trusted-checkpoint", plain.string(), "--witness", wk});
  EXPECT_EQ(unsigned_trust.exit_code, 2);
  EXPECT_NE(unsigned_trust.err.find("carries 0 of the 1 required witness cosignatures"), std::string::npos)
      << unsigned_trust.err;
  const fs::path kept = dir_ / "kept.checkpoint";
  ASSERT_EQ(VerifyStadt(data, {"--trusted-checkpoint", kept.string(), "--witness", wk}).exit_code, 0);
  EXPECT_TRUE(OpenNote(FileText(kept), *ParseVerifierKey(wk, kCosigner))) << FileText(kept);
  auto again = VerifyStadt(data, {"--trusted-checkpoint", kept.string(), "--witness", wk, "--json"});
  EXPECT_EQ(again.exit_code, 0) << again.out << again.err;
  EXPECT_FALSE(json::parse(again.out)[0].contains("newest_cosignature_lines")) << again.out;

  // 4. The rewritten log shown to the witness: the forger starts the server
  // on it, accepting it, so that it signs the forged log and submits that
  // checkpoint. The witness refuses and keeps the request; its state stays.
  const std::string before = FileText(w.state_file("saalbuch/stadt"));
  {
    Server server(forged, {"--checkpoint-every", "5", "--checkpoint-interval", "1", "--witness", w.spec(),
                           "--accept-log", "stadt"});
    server.Start();
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
    while (Refused(w) == 0 && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    // The accepted log's checkpoint, and perhaps the re-signed one at the
    // witnessed size before it.
    EXPECT_GE(Refused(w), 1U);
    auto cp = Call(server.port(), "GET", "/v1/tenants/stadt/checkpoint", "",
                   {{"Authorization", "Bearer " + tenant.admin}});
    ASSERT_EQ(cp.status, 200);
    EXPECT_TRUE(cp.json()["cosignatures"].empty()) << cp.body;
    ExpectSubmissions(server.port(), "refused");
    EXPECT_EQ(server.Terminate(), 0);
  }
  EXPECT_EQ(FileText(w.state_file("saalbuch/stadt")), before);
  auto shown = VerifyStadt(forged, {"--witness", wk});
  EXPECT_EQ(shown.exit_code, 1);
  EXPECT_NE(shown.out.find("NOT WITNESSED"), std::string::npos) << shown.out;
}

}  // namespace
}  // namespace saalbuch::e2e
