#include "tests/e2e/forger.h"

#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <sstream>

#include "common/crypto.h"
#include "common/merkle.h"
#include "common/note.h"
#include "ledger/keys.h"

namespace saalbuch::e2e {

namespace fs = std::filesystem;

// Rewrites record `seq` of `tenant` with `edit` applied to its envelope (in
// place: the bytes keep their size) and recomputes every later prev_hash,
// chain hash and the stored head, so that the chain verifies again.
void ForgeRecord(const fs::path& data, const std::string& tenant, Seq seq,
                 const std::function<void(const schema::Envelope&)>& edit) {
  ForgerDb f(data);
  std::string head_value = f.Get(f.meta(), ledger::keys::HeadKey(tenant));
  const Seq head = ledger::keys::ReadBigEndian64(head_value);
  std::string prev(32, '\0');
  if (seq > 1) prev = f.Get(f.log(), ledger::keys::LogKey(tenant, seq - 1)).substr(0, 32);
  for (Seq s = seq; s <= head; ++s) {
    const std::string key = ledger::keys::LogKey(tenant, s);
    std::string bytes = f.Get(f.log(), key).substr(32);
    const auto* env = schema::GetEnvelope(bytes.data());
    if (s == seq) edit(*env);
    std::memcpy(const_cast<std::uint8_t*>(env->prev_hash()->data()), prev.data(), 32);
    prev.assign(AsBytes(Sha256Of(prev, bytes)));
    f.Put(f.log(), key, prev + bytes);
  }
  head_value.resize(8);
  f.Put(f.meta(), ledger::keys::HeadKey(tenant), head_value + prev);
}

// What an attacker with the files and the signing seed stored beside them
// does (issue 18): rewrites record `seq` like ForgeRecord and re-signs every
// later checkpoint (its Merkle root and chain hash) with the tenant's own
// key, so that the chain, every root and every note verify again, also
// against the verifier key an auditor kept.
void ForgeAndResign(const fs::path& data, const std::string& tenant, Seq seq,
                    const std::function<void(const schema::Envelope&)>& edit) {
  ForgerDb f(data);
  const std::string seed = f.Get(f.meta(), ledger::keys::TenantPrefix(tenant) + "k");
  ASSERT_EQ(seed.size(), 32u);
  std::string head_value = f.Get(f.meta(), ledger::keys::HeadKey(tenant));
  const Seq head = ledger::keys::ReadBigEndian64(head_value);
  std::vector<std::string> chain(head + 1);  // chain hash per position
  for (Seq s = 1; s < seq; ++s) chain[s] = f.Get(f.log(), ledger::keys::LogKey(tenant, s)).substr(0, 32);
  chain[0] = std::string(32, '\0');
  std::vector<Sha256> leaves;  // the Merkle tree's, per record
  for (Seq s = 1; s < seq; ++s)
    leaves.push_back(merkle::LeafHash(f.Get(f.log(), ledger::keys::LogKey(tenant, s)).substr(32)));
  const auto root_at = [&](Seq size) {
    merkle::Frontier tree;
    for (Seq i = 0; i < size; ++i) tree.Append(leaves[i]);
    return std::string(AsBytes(tree.Root()));
  };
  int resigned = 0;
  for (Seq s = seq; s <= head; ++s) {
    const std::string key = ledger::keys::LogKey(tenant, s);
    std::string bytes = f.Get(f.log(), key).substr(32);
    const auto* env = schema::GetEnvelope(bytes.data());
    if (s == seq) edit(*env);
    if (const auto* cp = env->payload_as_CheckpointSigned(); cp != nullptr && s > seq) {
      const std::string origin = "saalbuch/" + tenant;
      const std::string root = root_at(cp->position());
      const std::string note = SignNote(CheckpointBody({origin, cp->position(), root}), origin, seed);
      ASSERT_EQ(note.size(), cp->note()->size());
      std::memcpy(const_cast<char*>(cp->note()->c_str()), note.data(), note.size());
      std::memcpy(const_cast<std::uint8_t*>(cp->head_hash()->data()), chain[cp->position()].data(), 32);
      ASSERT_NE(cp->root_hash(), nullptr);
      std::memcpy(const_cast<std::uint8_t*>(cp->root_hash()->data()), root.data(), 32);
      ++resigned;
    }
    std::memcpy(const_cast<std::uint8_t*>(env->prev_hash()->data()), chain[s - 1].data(), 32);
    chain[s].assign(AsBytes(Sha256Of(chain[s - 1], bytes)));
    leaves.push_back(merkle::LeafHash(bytes));
    f.Put(f.log(), key, chain[s] + bytes);
  }
  ASSERT_GT(resigned, 0) << "no checkpoint after record " << seq;
  head_value.resize(8);
  f.Put(f.meta(), ledger::keys::HeadKey(tenant), head_value + chain[head]);
}

// Cuts the log of `tenant` back to position `keep`: what an attacker who
// removes records at the end does.
void Truncate(const fs::path& data, const std::string& tenant, Seq keep) {
  ForgerDb f(data);
  std::string head_value = f.Get(f.meta(), ledger::keys::HeadKey(tenant));
  const Seq head = ledger::keys::ReadBigEndian64(head_value);
  for (Seq s = keep + 1; s <= head; ++s) f.Delete(f.log(), ledger::keys::LogKey(tenant, s));
  const std::string hash = f.Get(f.log(), ledger::keys::LogKey(tenant, keep)).substr(0, 32);
  std::string value(8, '\0');
  for (int i = 0; i < 8; ++i) value[i] = static_cast<char>((keep >> (56 - 8 * i)) & 0xff);
  f.Put(f.meta(), ledger::keys::HeadKey(tenant), value + hash);
}

// The edit of the issue: the actor's first letter changed.
void ChangeActor(const schema::Envelope& env) {
  ASSERT_GT(env.actor()->size(), 0u);
  char* actor = const_cast<char*>(env.actor()->c_str());
  actor[0] = static_cast<char>(actor[0] ^ 0x01);
}

fs::path CopyOf(const fs::path& data, const fs::path& to) {
  fs::copy(data, to, fs::copy_options::recursive);
  fs::remove(to / "saalbuchd.stderr");
  return to;
}

std::string FileText(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace saalbuch::e2e
