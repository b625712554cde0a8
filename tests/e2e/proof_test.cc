// Merkle proofs end to end (issue 18, part 3): the real server signs the
// root of its log's Merkle tree, serves inclusion and consistency proofs,
// and saalbuch-replay check-proof checks them against signed checkpoints,
// rejecting a changed record and a checkpoint of a forked log.

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "common/crypto.h"
#include "common/merkle.h"
#include "common/note.h"
#include "tests/e2e/harness.h"

namespace saalbuch::e2e {
namespace {

using nlohmann::json;

TEST(ProofTest, ServerProvesInclusionAndConsistencyAndTheToolChecksThem) {
  const auto dir = FreshDir("proofs");
  Server server(dir / "data", {"--checkpoint-every", "5", "--checkpoint-interval", "1"});
  server.Start();
  const int port = server.port();
  auto t = CallJson(port, "POST", "/v1/tenants", {{"id", "stadt"}, {"name", "Stadt"}}, kOperatorKey);
  ASSERT_EQ(t.status, 201) << t.body;
  const std::string admin = t.json()["admin_key"]["key"];
  const std::map<std::string, std::string> auth = {{"Authorization", "Bearer " + admin}};
  ASSERT_EQ(
      CallJson(port, "POST", "/v1/tenants/stadt/resources", {{"id", "saal"}, {"name", "Saal"}}, admin).status,
      201);
  auto book = [&](int from, int to) {
    for (int i = from; i < to; ++i) {
      const std::string day = "2027-07-" + std::string(i < 9 ? "0" : "") + std::to_string(i + 1);
      ASSERT_EQ(CallJson(port, "POST", "/v1/tenants/stadt/bookings",
                         {{"resource", "saal"}, {"start", day + "T10:00:00Z"}, {"end", day + "T11:00:00Z"}})
                    .status,
                201);
    }
  };
  // The newest checkpoint once it covers `at_least`.
  auto checkpoint_covering = [&](Seq at_least) { return CheckpointCovering(port, "stadt", admin, at_least); };
  std::ofstream(dir / "stadt.vkey") << Call(port, "GET", "/v1/tenants/stadt/checkpoint/key").body;
  book(0, 6);
  const json old_cp = checkpoint_covering(8);
  ASSERT_FALSE(old_cp.is_null());
  const Seq m = old_cp["position"];
  std::ofstream(dir / "old.checkpoint") << old_cp["note"].get<std::string>();
  // The note is a C2SP checkpoint whose third line is the real root.
  auto body = NoteBody(old_cp["note"].get<std::string>());
  ASSERT_TRUE(body);
  auto signed_cp = ParseCheckpointBody(*body);
  ASSERT_TRUE(signed_cp);
  EXPECT_EQ(signed_cp->size, m);
  book(6, 14);
  const json new_cp = checkpoint_covering(m + 8);
  ASSERT_FALSE(new_cp.is_null());
  const Seq n = new_cp["position"];

  // Inclusion of the first booking's record in the latest checkpoint's tree.
  auto ev = Call(port, "GET", "/v1/tenants/stadt/events?limit=20&with_bytes=true", "", auth);
  ASSERT_EQ(ev.status, 200);
  const json events = ev.json();
  json booked;
  for (const auto& item : events["items"]) {
    if (booked.is_null() && item["record"].dump().find("BookingPlaced") != std::string::npos) booked = item;
  }
  ASSERT_FALSE(booked.is_null()) << ev.body;
  const std::string p = std::to_string(booked["seq"].get<Seq>());
  auto inc = Call(port, "GET", "/v1/tenants/stadt/proof/inclusion?position=" + p, "", auth);
  ASSERT_EQ(inc.status, 200) << inc.body;
  const json proof = inc.json();
  // The latest checkpoint: n, or a newer one the timer signed since.
  EXPECT_GE(proof["size"].get<Seq>(), n);
  EXPECT_EQ(proof["checkpoint"]["position"], proof["size"]);
  EXPECT_EQ(proof["bytes"], booked["bytes"]);  // the leaf is the record's stored bytes
  std::ofstream(dir / "inclusion.json") << proof.dump();
  auto ok = Replay({"check-proof", "--proof", (dir / "inclusion.json").string(), "--verifier-key",
                    (dir / "stadt.vkey").string()});
  EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.err;
  EXPECT_NE(ok.out.find("OK — record " + p + " (BookingPlaced"), std::string::npos) << ok.out;
  EXPECT_NE(ok.out.find("signatures verified"), std::string::npos) << ok.out;

  // The same proof with one byte of the record changed, or with a path hash changed.
  json changed = proof;
  std::string bytes = changed["bytes"];
  bytes[bytes.size() - 2] = bytes[bytes.size() - 2] == '0' ? '1' : '0';
  changed["bytes"] = bytes;
  std::ofstream(dir / "changed.json") << changed.dump();
  auto no = Replay({"check-proof", "--proof", (dir / "changed.json").string(), "--verifier-key",
                    (dir / "stadt.vkey").string()});
  EXPECT_EQ(no.exit_code, 1) << no.out << no.err;
  EXPECT_NE(no.out.find("NOT INCLUDED: record " + p), std::string::npos) << no.out;
  // A proof for a size the checkpoint does not have is refused, not passed.
  auto sized =
      Call(port, "GET", "/v1/tenants/stadt/proof/inclusion?position=" + p + "&size=" + std::to_string(m), "",
           auth);
  ASSERT_EQ(sized.status, 200);
  EXPECT_FALSE(sized.json().contains("checkpoint"));
  std::ofstream(dir / "sized.json") << sized.body;
  EXPECT_EQ(Replay({"check-proof", "--proof", (dir / "sized.json").string(), "--checkpoint",
                    (dir / "old.checkpoint").string(), "--verifier-key", (dir / "stadt.vkey").string()})
                .exit_code,
            0);
  std::ofstream(dir / "new.checkpoint") << new_cp["note"].get<std::string>();
  auto wrong_size = Replay({"check-proof", "--proof", (dir / "sized.json").string(), "--checkpoint",
                            (dir / "new.checkpoint").string()});
  EXPECT_EQ(wrong_size.exit_code, 2) << wrong_size.out;
  EXPECT_NE(wrong_size.err.find("the checkpoint covers " + std::to_string(n)), std::string::npos)
      << wrong_size.err;

  // Consistency from the auditor's kept checkpoint to the latest.
  auto con = Call(port, "GET", "/v1/tenants/stadt/proof/consistency?from=" + std::to_string(m), "", auth);
  ASSERT_EQ(con.status, 200) << con.body;
  EXPECT_GE(con.json()["to"].get<Seq>(), n);
  EXPECT_EQ(con.json()["checkpoint"]["position"], con.json()["to"]);
  std::ofstream(dir / "consistency.json") << con.body;
  auto extends = Replay({"check-proof", "--proof", (dir / "consistency.json").string(), "--old-checkpoint",
                         (dir / "old.checkpoint").string(), "--verifier-key", (dir / "stadt.vkey").string()});
  EXPECT_EQ(extends.exit_code, 0) << extends.out << extends.err;
  EXPECT_NE(extends.out.find("extends the one at size " + std::to_string(m)), std::string::npos)
      << extends.out;
  // Consistency needs the auditor's own older checkpoint.
  auto alone = Replay({"check-proof", "--proof", (dir / "consistency.json").string()});
  EXPECT_EQ(alone.exit_code, 2) << alone.out;
  EXPECT_NE(alone.err.find("--old-checkpoint"), std::string::npos) << alone.err;

  // A fork: a checkpoint at size m over other records (what a server shows
  // one auditor after rewriting its log). Its root is no prefix of the
  // latest checkpoint's tree, whoever signed it.
  const std::string seed = RandomBytes(32);
  const Sha256 other_root = Sha256Of("another history");
  std::ofstream(dir / "fork.checkpoint") << SignNote(
      CheckpointBody({signed_cp->origin, m, std::string(AsBytes(other_root))}), signed_cp->origin, seed);
  auto fork = Replay({"check-proof", "--proof", (dir / "consistency.json").string(), "--old-checkpoint",
                      (dir / "fork.checkpoint").string()});
  EXPECT_EQ(fork.exit_code, 1) << fork.out << fork.err;
  EXPECT_NE(fork.out.find("INCONSISTENT"), std::string::npos) << fork.out;
  EXPECT_NE(fork.out.find("signatures NOT checked"), std::string::npos) << fork.out;

  // Bad questions get clear problems.
  for (const std::string& q : std::vector<std::string>{
           "inclusion?position=0", "inclusion?position=abc", "inclusion", "inclusion?position=3&size=0",
           "inclusion?position=3&size=999999",
           "inclusion?position=" + std::to_string(m + 1) + "&size=" + std::to_string(m), "consistency?from=0",
           "consistency", "consistency?from=" + std::to_string(n + 1) + "&to=" + std::to_string(n),
           "consistency?from=1&to=999999"}) {
    auto r = Call(port, "GET", "/v1/tenants/stadt/proof/" + q, "", auth);
    EXPECT_EQ(r.status, 400) << q << ": " << r.body;
    EXPECT_EQ(r.json()["code"], "invalid_query") << q;
  }
  EXPECT_EQ(Call(port, "GET", "/v1/tenants/stadt/proof/inclusion?position=3").status, 401);
  EXPECT_EQ(server.Terminate(), 0);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace saalbuch::e2e
