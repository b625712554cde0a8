// Signed checkpoints: Ed25519 and C2SP signed notes with a checkpoint body.

#include "common/note.h"

#include <gtest/gtest.h>

#include "common/crypto.h"

namespace saalbuch {
namespace {

// RFC 8032, section 7.1, test 1: the empty message.
TEST(Ed25519Test, MatchesRfc8032TestVector) {
  auto hex = [](std::string_view h) {
    std::string out;
    for (std::size_t i = 0; i < h.size(); i += 2)
      out.push_back(static_cast<char>(std::stoi(std::string(h.substr(i, 2)), nullptr, 16)));
    return out;
  };
  const std::string seed = hex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
  EXPECT_EQ(ToHex(Ed25519PublicKey(seed)),
            "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
  const std::string sig = Ed25519Sign(seed, "");
  EXPECT_EQ(ToHex(sig),
            "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46b"
            "d25bf5f0595bbe"
            "24655141438e7a100b");
  EXPECT_TRUE(Ed25519Verify(Ed25519PublicKey(seed), "", sig));
  EXPECT_FALSE(Ed25519Verify(Ed25519PublicKey(seed), "x", sig));
}

TEST(NoteTest, SignedCheckpointRoundTripsAndRejectsTampering) {
  const Ed25519Keys keys = Ed25519Generate();
  const std::string hash(32, '\x5a');
  const std::string body = CheckpointBody({"saalbuch/stadt", 1234, hash});
  EXPECT_EQ(body, "saalbuch/stadt\n1234\n" + Base64Encode(hash) + "\n");
  const std::string note = SignNote(body, "saalbuch/stadt", keys.seed);
  EXPECT_EQ(note.rfind(body + "\n\xe2\x80\x94 saalbuch/stadt ", 0), 0u) << note;

  const std::string vkey = VerifierKey("saalbuch/stadt", keys.public_key);
  auto v = ParseVerifierKey(vkey);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->name, "saalbuch/stadt");
  EXPECT_EQ(v->public_key, keys.public_key);
  auto opened = OpenNote(note, *v);
  ASSERT_TRUE(opened);
  auto cp = ParseCheckpointBody(*opened);
  ASSERT_TRUE(cp);
  EXPECT_EQ(cp->size, 1234u);
  EXPECT_EQ(cp->hash, hash);

  std::string altered = note;
  altered.replace(altered.find("1234"), 4, "1235");
  EXPECT_FALSE(OpenNote(altered, *v));
  EXPECT_FALSE(OpenNote(note, {"saalbuch/stadt", Ed25519Generate().public_key}));
  EXPECT_FALSE(OpenNote(note, {"saalbuch/dorf", keys.public_key}));
  std::string bad_key = vkey;
  bad_key[bad_key.find('+') + 1] = bad_key[bad_key.find('+') + 1] == '0' ? '1' : '0';  // wrong key id
  EXPECT_FALSE(ParseVerifierKey(bad_key));
  EXPECT_FALSE(ParseCheckpointBody("origin\nnot-a-number\nAAAA\n"));
  EXPECT_EQ(Base64Decode(Base64Encode("ab")), "ab");
  EXPECT_EQ(Base64Decode(Base64Encode("abcd")), "abcd");
  EXPECT_EQ(Base64Decode(""), "");
  // Found by fuzz_note: four '=' took more off the length than there was.
  EXPECT_FALSE(Base64Decode("===="));
  EXPECT_FALSE(Base64Decode("A==="));
  EXPECT_FALSE(ParseVerifierKey("sa419++===="));
  EXPECT_FALSE(Base64Decode("QQ=A"));
  EXPECT_EQ(FromHex(ToHex(hash)), hash);
  EXPECT_EQ(FromHex("0aFF"), std::string("\x0a\xff"));
  EXPECT_FALSE(FromHex("abc"));
  EXPECT_FALSE(FromHex("zz"));
}

// C2SP tlog-cosignature/v1, spelled out from the spec: key id SHA-256(name ‖
// "\n" ‖ 0x04 ‖ key)[:4], then the timestamp as u64 big-endian, then Ed25519
// over "cosignature/v1\ntime <t>\n" ‖ the checkpoint body.
TEST(NoteTest, CosignaturesFollowTlogCosignature) {
  const Ed25519Keys log = Ed25519Generate();
  const Ed25519Keys witness = Ed25519Generate();
  const std::string body = CheckpointBody({"saalbuch/stadt", 20852163, std::string(32, '\x2a')});
  const std::string line = CosignatureLine(body, "rpa.example/w1", witness.seed, 1679315147);
  ASSERT_EQ(line.rfind("\xe2\x80\x94 rpa.example/w1 ", 0), 0U) << line;
  ASSERT_EQ(line.back(), '\n');
  auto raw = Base64Decode(line.substr(line.rfind(' ') + 1, line.size() - line.rfind(' ') - 2));
  ASSERT_TRUE(raw);
  ASSERT_EQ(raw->size(), 76U);
  std::string id_input = "rpa.example/w1\n";
  id_input += '\x04';
  id_input += witness.public_key;
  const Sha256 id = Sha256Of(id_input);
  EXPECT_EQ(raw->substr(0, 4), std::string(reinterpret_cast<const char*>(id.data()), 4));
  EXPECT_EQ(ToHex(raw->substr(4, 8)), "00000000641850cb");  // 1679315147
  EXPECT_TRUE(Ed25519Verify(witness.public_key, "cosignature/v1\ntime 1679315147\n" + body, raw->substr(12)));

  const std::string vkey = VerifierKey("rpa.example/w1", witness.public_key, kCosigner);
  EXPECT_FALSE(ParseVerifierKey(vkey));  // not a log's key
  auto v = ParseVerifierKey(vkey, kCosigner);
  ASSERT_TRUE(v);
  EXPECT_EQ(VerifyCosignature(body, line, *v), 1679315147U);
  // The cosigned note opens with the witness's key, and still with the log's.
  const std::string note = SignNote(body, "saalbuch/stadt", log.seed) + line;
  EXPECT_EQ(OpenNote(note, *v), body);
  EXPECT_EQ(OpenNote(note, {"saalbuch/stadt", log.public_key}), body);
  // Another body (a fork at the same size), another witness, another name, a
  // note signature in its place: none verifies.
  const std::string fork = CheckpointBody({"saalbuch/stadt", 20852163, std::string(32, '\x2b')});
  EXPECT_FALSE(VerifyCosignature(fork, line, *v));
  EXPECT_FALSE(OpenNote(SignNote(fork, "saalbuch/stadt", log.seed) + line, *v));
  EXPECT_FALSE(VerifyCosignature(body, line, {"rpa.example/w1", Ed25519Generate().public_key, kCosigner}));
  EXPECT_FALSE(VerifyCosignature(body, line, {"rpa.example/w2", witness.public_key, kCosigner}));
  EXPECT_FALSE(VerifyCosignature(body, line, {"rpa.example/w1", witness.public_key, kNoteSigner}));
  const std::string plain = SignNote(body, "rpa.example/w1", witness.seed);
  EXPECT_FALSE(OpenNote(plain, *v));
  EXPECT_FALSE(VerifyCosignature(body, "", *v));
  EXPECT_FALSE(VerifyCosignature(body, "\xe2\x80\x94 rpa.example/w1 ====\n", *v));
}

// What the C2SP signed-note grammar rejects, the parser rejects too: a note
// that differs from a good one only in its framing opens nowhere, and its
// body is not taken either.
TEST(NoteTest, WhatTheSignedNoteGrammarRejectsIsRejected) {
  const Ed25519Keys keys = Ed25519Generate();
  const std::string body = CheckpointBody({"saalbuch/stadt", 7, std::string(32, '\x11')});
  const std::string note = SignNote(body, "saalbuch/stadt", keys.seed);
  const NoteVerifier v{"saalbuch/stadt", keys.public_key};
  ASSERT_TRUE(OpenNote(note, v));
  ASSERT_EQ(NoteBody(note), body);
  const std::string sig_line = note.substr(body.size() + 1);  // "— saalbuch/stadt …\n"
  const std::string other = SignNote(body, "witness.example", Ed25519Generate().seed).substr(body.size() + 1);
  // A second signature by another key is fine; the note opens with each key.
  EXPECT_TRUE(OpenNote(note + other, v));
  EXPECT_TRUE(OpenNote(body + "\n" + other + sig_line, v));

  const std::vector<std::pair<std::string, std::string>> bad = {
      {"no signature line", body + "\n"},
      {"no blank line", body + sig_line},
      {"no newline at the end", note.substr(0, note.size() - 1)},
      {"an empty body", "\n" + sig_line},
      {"a hyphen for the em dash", body + "\n- saalbuch/stadt " + sig_line.substr(sig_line.find(' ', 4) + 1)},
      {"a signature line without a space", body + "\n\xe2\x80\x94 saalbuch/stadt\n"},
      {"a carriage return", body + "\n" + sig_line.substr(0, sig_line.size() - 1) + "\r\n"},
      {"a tab in the body", "saalbuch/stadt\t\n7\n" + body.substr(body.find('\n') + 3) + "\n" + sig_line},
      {"a NUL", std::string("saalbuch/stadt\n7\0\n", 18) + "\n" + sig_line},
      {"invalid UTF-8", "saalbuch/st\xc3(adt\n" + body.substr(body.find('\n') + 1) + "\n" + sig_line},
      {"an overlong encoding",
       "saalbuch/st\xc0\xaf"
       "adt\n" +
           body.substr(body.find('\n') + 1) + "\n" + sig_line},
      {"a name with a plus", body + "\n\xe2\x80\x94 saal+buch " + sig_line.substr(sig_line.rfind(' ') + 1)},
      {"a name with a no-break space", body +
                                           "\n\xe2\x80\x94 saal\xc2\xa0"
                                           "buch " +
                                           sig_line.substr(sig_line.rfind(' ') + 1)},
      {"a signature that is not base64", body + "\n\xe2\x80\x94 saalbuch/stadt !!!!\n"},
      {"a signature shorter than a key id",
       body + "\n\xe2\x80\x94 saalbuch/stadt " + Base64Encode("abcd") + "\n"},
  };
  for (const auto& [why, text] : bad) {
    EXPECT_FALSE(OpenNote(text, v)) << why;
    EXPECT_FALSE(NoteBody(text)) << why;
  }
  // A blank line among the signatures makes what is above it body (as Go's
  // note package reads it): the key's signature is then not a signature.
  EXPECT_FALSE(OpenNote(note + "\n" + other, v));
  std::string many = body + "\n";
  for (int i = 0; i < 101; ++i) many += other;
  EXPECT_FALSE(NoteBody(many)) << "more than 100 signatures";
  EXPECT_TRUE(NoteBody(body + "\n" + other)) << "one signature by any key";
}

}  // namespace
}  // namespace saalbuch
