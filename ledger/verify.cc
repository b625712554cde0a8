#include "ledger/verify.h"

#include <algorithm>

namespace saalbuch::ledger {

Result<VerifyReport> VerifyChain(const Log& log, const TenantId& tenant,
                                 const std::function<void(Seq)>& progress,
                                 const std::function<void(const Record&, const schema::Envelope&)>& visit) {
  VerifyReport rep;
  constexpr std::size_t kChunk = 1024;
  std::vector<Record> chunk;
  auto fail = [&](Seq seq, std::string why) {
    rep.first_bad = seq;
    rep.problem = std::move(why);
    return rep;
  };
  for (;;) {
    chunk.clear();
    auto s = log.Read(tenant, rep.head.seq + 1, kChunk, &chunk);
    if (!s.ok()) return s;
    for (const auto& r : chunk) {
      const Seq expected = rep.head.seq + 1;
      if (r.seq != expected)
        return fail(expected, "record missing (next stored is " + std::to_string(r.seq) + ")");
      if (ChainHash(rep.head.hash, r.bytes) != r.hash) {
        return fail(r.seq, "stored hash does not match SHA-256(previous hash ‖ record bytes)");
      }
      const schema::Envelope* env = DecodeEnvelope(r.bytes);
      if (env == nullptr) return fail(r.seq, "bytes are not a well-formed Envelope");
      if (env->seq() != r.seq) return fail(r.seq, "envelope names seq " + std::to_string(env->seq()));
      if (env->tenant() == nullptr || env->tenant()->string_view() != tenant.get()) {
        return fail(r.seq, "envelope names another tenant");
      }
      const auto* prev = env->prev_hash();
      if (prev == nullptr || prev->size() != 32 ||
          !std::equal(prev->begin(), prev->end(), rep.head.hash.begin())) {
        return fail(r.seq, "prev_hash does not equal the previous record's hash");
      }
      rep.head = {r.seq, r.hash};
      ++rep.records;
      if (visit) visit(r, *env);
    }
    if (progress && !chunk.empty()) progress(rep.records);
    if (chunk.size() < kChunk) break;
  }
  auto stored = log.GetHead(tenant);
  if (!stored.ok()) return stored.status();
  if (stored->seq != rep.head.seq || stored->hash != rep.head.hash) {
    const std::string what = "stored head (seq " + std::to_string(stored->seq) + ", hash " +
                             ToHex(stored->hash) + ") does not match the chain (seq " +
                             std::to_string(rep.head.seq) + ")";
    if (stored->seq < rep.head.seq) {
      // Records exist beyond the head the store acknowledges: the first of
      // them is the first record nobody vouches for.
      rep.records = stored->seq;
      return fail(stored->seq + 1, what + "; records after the head are not part of the log");
    }
    if (stored->seq > rep.head.seq) return fail(rep.head.seq + 1, what + "; records are missing");
    return fail(rep.head.seq, what + "; the head names another hash for this record");
  }
  return rep;
}

}  // namespace saalbuch::ledger
