// Submitting checkpoints to witnesses (C2SP tlog-witness) and keeping their
// cosignatures (ledger/cosignatures.h).
//
// saalbuchd --witness "<witness verifier key>@<url>" names each witness; a
// witness is run by someone the operator does not control (saalbuch-replay
// witness, tools/replay/witness.h). Every checkpoint saalbuchd signs is
// queued here (the newest per tenant replaces an older one still waiting:
// a witness accepts any consistent extension) and sent from one thread to
// every witness with a consistency proof from the size that witness last
// cosigned. A valid cosignature is stored; a refusal (409 from a fork, 422,
// 403, 404) is logged as an error and counted; an unreachable witness is
// retried with backoff. Nothing here ever blocks or refuses a command.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/note.h"
#include "common/result.h"
#include "ledger/database.h"
#include "ledger/log.h"

namespace saalbuch::integrations {

struct WitnessEndpoint {
  NoteVerifier key;  // a cosigner (kCosigner) key
  std::string url;   // the submission prefix: POST <url>/add-checkpoint
};

// "<verifier key>@<http(s) URL>"; kInvalidArgument with a reason otherwise.
Result<WitnessEndpoint> ParseWitness(std::string_view spec);

class WitnessSubmitter {
 public:
  // `db` and `log` must outlive the submitter.
  WitnessSubmitter(ledger::Database* db, const ledger::Log* log, std::vector<WitnessEndpoint> witnesses,
                   prometheus::Registry& registry, long timeout_ms = 10000);
  ~WitnessSubmitter();
  WitnessSubmitter(const WitnessSubmitter&) = delete;
  WitnessSubmitter& operator=(const WitnessSubmitter&) = delete;

  // Queues checkpoint `note` of `tenant` at tree size `size`; returns at once.
  void Submit(const TenantId& tenant, Seq size, std::string note);
  // The tenant's log is durable up to `head` (the bus's on_appended, and
  // each head at start). A checkpoint is sent only once all it covers is:
  // the writers sign while the previous batch's sync is still under way,
  // and no witness may cosign records a power loss could take back.
  void Durable(const TenantId& tenant, Seq head);

 private:
  struct Pending {
    Seq size = 0;
    std::string note;
    std::vector<bool> done;  // per witness
    int attempts = 0;
    std::chrono::steady_clock::time_point not_before;
  };
  enum class Outcome { kCosigned, kRetry, kRefused };

  void Run();
  Outcome SendTo(std::size_t w, const TenantId& tenant, const Pending& p);
  // The size witness `w` last cosigned for `tenant`: remembered, or the
  // largest one stored, or 0.
  Seq KnownSize(std::size_t w, const TenantId& tenant);
  void Count(std::size_t w, const char* result);

  ledger::Database* db_;
  const ledger::Log* log_;
  std::vector<WitnessEndpoint> witnesses_;
  long timeout_ms_;
  prometheus::Family<prometheus::Counter>* submissions_;
  prometheus::Gauge* backlog_;

  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::map<std::string, Pending> pending_;                    // by tenant
  std::map<std::string, Seq> durable_;                        // by tenant
  std::map<std::pair<std::size_t, std::string>, Seq> known_;  // only the worker thread
  std::thread worker_;
};

}  // namespace saalbuch::integrations
