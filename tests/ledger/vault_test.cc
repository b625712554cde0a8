// Crypto-shredding (DOMAIN.md invariant 8): AES-256-GCM sealing, the key
// vault on a real RocksDB, and erasure that leaves no copy of the key in any
// file of the database.

#include "ledger/vault.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "common/crypto.h"
#include "common/names.h"
#include "tests/support/files.h"
#include "tests/support/scratch_dir.h"

namespace saalbuch::ledger {
namespace {

using testing_support::AnyFileContains;

using testing_support::ScratchDir;

TEST(SealTest, OpensOnlyWithTheSameKeyAndAadAndUnaltered) {
  const std::string key = RandomBytes(32);
  const std::string sealed = Seal(key, "Erika Mustermann, erika@example.org", "stadt/p_1");
  EXPECT_EQ(sealed.size(), 12 + 35 + 16u);
  EXPECT_EQ(sealed.find("Erika"), std::string::npos);
  EXPECT_EQ(Open(key, sealed, "stadt/p_1"), "Erika Mustermann, erika@example.org");
  EXPECT_FALSE(Open(key, sealed, "stadt/p_2"));  // moved to another person
  EXPECT_FALSE(Open(RandomBytes(32), sealed, "stadt/p_1"));
  std::string altered = sealed;
  altered[20] = static_cast<char>(altered[20] ^ 1);
  EXPECT_FALSE(Open(key, altered, "stadt/p_1"));
  EXPECT_FALSE(Open(key, sealed.substr(0, 20), "stadt/p_1"));
  EXPECT_NE(Seal(key, "x", "a"), Seal(key, "x", "a"));  // fresh nonce each time
}

TEST(VaultTest, KeysPersistPerTenantAndPersonUntilErasedEverywhere) {
  ScratchDir dir;
  const std::string path = dir.path() + "/db";
  std::string key;
  std::string sealed;
  {
    auto db = Database::Open(path, {});
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    Vault vault(db->get());
    auto k = vault.KeyFor(TenantId("stadt"), "p_1");
    ASSERT_TRUE(k.ok());
    key = *k;
    EXPECT_EQ(*vault.KeyFor(TenantId("stadt"), "p_1"), key);  // stable
    EXPECT_NE(*vault.KeyFor(TenantId("dorf"), "p_1"), key);   // per tenant
    EXPECT_FALSE(vault.Find(TenantId("stadt"), "p_2")->has_value());
    auto s = vault.Seal(TenantId("stadt"), "p_1", R"({"email":"erika@example.org"})");
    ASSERT_TRUE(s.ok());
    sealed = *s;
  }
  auto db = Database::Open(path, {});  // reopened: the key survived
  ASSERT_TRUE(db.ok());
  Vault vault(db->get());
  EXPECT_EQ(**vault.Find(TenantId("stadt"), "p_1"), key);
  EXPECT_EQ(**vault.Open(TenantId("stadt"), "p_1", sealed), R"({"email":"erika@example.org"})");
  EXPECT_TRUE(AnyFileContains(path, key));

  ASSERT_TRUE(vault.Erase(TenantId("stadt"), "p_1").ok());
  EXPECT_FALSE(vault.Find(TenantId("stadt"), "p_1")->has_value());
  EXPECT_FALSE(vault.Open(TenantId("stadt"), "p_1", sealed)->has_value());
  EXPECT_TRUE(vault.Find(TenantId("dorf"), "p_1")->has_value());  // others untouched
  EXPECT_TRUE(vault.Erase(TenantId("stadt"), "p_1").ok());        // again: no error
  // No file of the database holds the key any more: not the WAL, not an SST.
  EXPECT_FALSE(AnyFileContains(path, key));
}

TEST(NameWordsTest, LowerCaseWordsAndTheirBeginnings) {
  using V = std::vector<std::string>;
  EXPECT_EQ(NameWords("Dr. Max MÜLLER-Lüdenscheidt"), (V{"dr", "max", "müller", "lüdenscheidt"}));
  EXPECT_EQ(NameWords("  ÀÉÎÕÜ×Þ  "), (V{"àéîõü", "þ"}));  // × separates
  EXPECT_EQ(NameWords("erika ERIKA Erika"), V{"erika"});
  EXPECT_EQ(NameWords(", - ."), V{});
  EXPECT_EQ(NameWords("a b c d e f g h i j"), (V{"a", "b", "c", "d", "e", "f", "g", "h"}));
  EXPECT_EQ(NameWords(std::string(100, 'x')), V{std::string(40, 'x')});
  EXPECT_EQ(NameIndexWords("Li Jürgen"), (V{"li", "jür", "jürg", "jürge", "jürgen"}));
  EXPECT_EQ(NameIndexWords("Ole Olaf"), (V{"ole", "ola", "olaf"}));
  EXPECT_EQ(NameIndexWords(""), V{});
  // A cut UTF-8 character at the end stays one (odd) character, no crash.
  EXPECT_EQ(NameWords("ab\xC3").size(), 1u);
}

TEST(VaultTest, NameTermsFindEveryTermsPersonsAndLeaveWithTheErasure) {
  ScratchDir dir;
  const std::string path = dir.path() + "/db";
  auto db = Database::Open(path, {});
  ASSERT_TRUE(db.ok());
  Vault vault(db->get());
  const TenantId stadt("stadt");
  const std::string a(32, 'a'), b(32, 'b'), c(32, 'c');
  ASSERT_TRUE(vault.KeyFor(stadt, "p_1").ok());
  ASSERT_TRUE(vault.IndexName(stadt, "p_1", {a, b}).ok());
  ASSERT_TRUE(vault.IndexName(stadt, "p_1", {a, b}).ok());  // again: nothing new
  ASSERT_TRUE(vault.IndexName(stadt, "p_2", {a, c}).ok());
  ASSERT_TRUE(vault.IndexName(TenantId("dorf"), "p_3", {a}).ok());
  using V = std::vector<std::string>;
  EXPECT_EQ(*vault.PersonsByName(stadt, {a}, 10), (V{"p_1", "p_2"}));
  EXPECT_EQ(*vault.PersonsByName(stadt, {a}, 1), V{"p_1"});
  EXPECT_EQ(*vault.PersonsByName(stadt, {a, b}, 10), V{"p_1"});
  EXPECT_EQ(*vault.PersonsByName(stadt, {c, a}, 10), V{"p_2"});
  EXPECT_EQ(*vault.PersonsByName(stadt, {b, c}, 10), V{});
  EXPECT_EQ(*vault.PersonsByName(stadt, {}, 10), V{});
  EXPECT_EQ(*vault.PersonsByName(TenantId("dorf"), {a}, 10), V{"p_3"});

  ASSERT_TRUE(vault.Erase(stadt, "p_1").ok());
  EXPECT_EQ(*vault.PersonsByName(stadt, {a}, 10), V{"p_2"});
  EXPECT_EQ(*vault.PersonsByName(stadt, {b}, 10), V{});
  // No file keeps the erased person's terms (the term ‖ person keys).
  EXPECT_FALSE(AnyFileContains(path, b + "p_1"));
  EXPECT_TRUE(AnyFileContains(path, c + "p_2"));
}

TEST(VaultTest, WithAMasterKeyNoFileHoldsAKeyAndOnlyThatMasterOpensThem) {
  ScratchDir dir;
  const std::string path = dir.path() + "/db";
  const std::string master = RandomBytes(32);
  std::string person_key;
  std::string seed;
  {
    auto db = Database::Open(path, {});
    ASSERT_TRUE(db.ok());
    Vault vault(db->get(), master);
    ASSERT_EQ(*vault.Prepare(), 0u);  // nothing stored yet
    person_key = *vault.KeyFor(TenantId("stadt"), "p_1");
    seed = *vault.SigningSeed(TenantId("stadt"));
    EXPECT_EQ(**vault.Find(TenantId("stadt"), "p_1"), person_key);
    EXPECT_EQ(**vault.FindSigningSeed(TenantId("stadt")), seed);
  }
  // Someone with the disk: neither key is in any file, WAL or table.
  EXPECT_FALSE(AnyFileContains(path, person_key));
  EXPECT_FALSE(AnyFileContains(path, seed));
  auto db = Database::Open(path, {});
  ASSERT_TRUE(db.ok());
  {
    Vault without(db->get());
    EXPECT_EQ(without.Prepare().status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(without.Find(TenantId("stadt"), "p_1").status().code(), StatusCode::kInvalidArgument);
    EXPECT_FALSE(without.SigningSeed(TenantId("stadt")).ok());  // no new seed beside the wrapped one
    Vault wrong(db->get(), RandomBytes(32));
    EXPECT_EQ(wrong.Prepare().status().code(), StatusCode::kInvalidArgument);
    EXPECT_FALSE(wrong.FindSigningSeed(TenantId("stadt")).ok());
  }
  Vault vault(db->get(), master);
  EXPECT_EQ(**vault.Find(TenantId("stadt"), "p_1"), person_key);
  EXPECT_EQ(**vault.FindSigningSeed(TenantId("stadt")), seed);
}

TEST(VaultTest, AMasterKeyGivenLaterWrapsTheBareKeysAndARotationRewrapsThem) {
  ScratchDir dir;
  const std::string path = dir.path() + "/db";
  auto db = Database::Open(path, {});
  ASSERT_TRUE(db.ok());
  std::string sealed;
  std::string key;
  {
    Vault bare(db->get());  // a data directory of before the master key
    key = *bare.KeyFor(TenantId("stadt"), "p_1");
    ASSERT_TRUE(bare.SigningSeed(TenantId("stadt")).ok());
    sealed = *bare.Seal(TenantId("stadt"), "p_1", "Erika");
    ASSERT_TRUE(bare.Erase(TenantId("stadt"), "p_gone").ok());
    EXPECT_EQ(*bare.Prepare(), 0u);  // without a master key nothing changes
  }
  EXPECT_TRUE(AnyFileContains(path, key));
  const std::string first = RandomBytes(32);
  {
    Vault vault(db->get(), first);
    EXPECT_EQ(*vault.Prepare(), 2u);  // the person's key and the seed
    EXPECT_EQ(*vault.Prepare(), 0u);  // done once
    EXPECT_EQ(**vault.Open(TenantId("stadt"), "p_1", sealed), "Erika");
  }
  // The bare key is gone from every file, WAL and tables alike.
  EXPECT_FALSE(AnyFileContains(path, key));
  // Rotation: a new master key, the previous one named for this start.
  const std::string second = RandomBytes(32);
  {
    Vault wrong(db->get(), second);
    EXPECT_FALSE(wrong.Prepare().ok());  // without the previous key: refused
    Vault vault(db->get(), second);
    EXPECT_EQ(*vault.Prepare(first), 2u);
    EXPECT_EQ(**vault.Open(TenantId("stadt"), "p_1", sealed), "Erika");
  }
  Vault old(db->get(), first);
  EXPECT_FALSE(old.Prepare().ok());  // the first master key opens nothing any more
}

}  // namespace
}  // namespace saalbuch::ledger
