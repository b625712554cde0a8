// Door access through a smart-lock provider: the adapter that issues,
// changes and revokes a booking's door code, and the dispatcher that keeps
// the provider in step with the log.
//
// The doors projection (projections/doors_fold.cc) says per booking what it
// needs: a code valid at its resource's access point over its window
// widened by the tenant's margins, or none (cancelled, rejected, expired,
// erased, the door unlinked). The dispatcher works through the pending
// bookings on its own thread: it asks the provider to issue (or change) the
// code under a key derived from the booking, seals the code with the
// booker's vault key and records DoorCodeIssued; or it revokes and records
// DoorCodeRevoked. Every call is idempotent by that key, so a crash
// between the call and its record repeats the call with the same effect
// and the provider holds exactly one code per booking. A refusal is
// recorded (DoorCodeFailed, refused) and not retried until the booking or
// its door changes; an unreachable provider is retried with backoff, and
// recorded once (not refused) after three attempts so that staff see it.
// The booking itself never waits for any of this.
//
// The protocol is written down in tools/locksim/README.md; the simulator
// there speaks it.
#pragma once

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "commands/bus.h"
#include "common/result.h"
#include "common/time.h"
#include "ledger/log.h"
#include "ledger/vault.h"
#include "projections/runner.h"

namespace saalbuch::integrations {

struct DoorConfig {
  std::string base_url;  // e.g. http://127.0.0.1:9100 ; empty: no door access
  std::string api_key;
  long timeout_ms = 10000;  // per call
};

struct DoorRequest {
  std::string key;  // derived from the booking: "<tenant>:<booking>"
  std::string access_point;
  TimeUs from = 0;
  TimeUs to = 0;
};

// What the provider holds for a key.
struct DoorGrant {
  std::string grant;  // the provider's id of the code
  std::string code;   // what the booker types
  std::string access_point;
  TimeUs from = 0;
  TimeUs to = 0;
};

// The adapter interface: one implementation per lock provider. Thread-safe.
// kUnavailable: unreachable, timeout, 429 or 5xx (retry later);
// kInvalidArgument: the provider refused (4xx), with its message.
class DoorProvider {
 public:
  virtual ~DoorProvider() = default;
  // A code for `r.key`; when the key holds one already, that one, as it is
  // (a repeated call after a crash), with its own window.
  virtual Result<DoorGrant> Issue(const DoorRequest& r) = 0;
  // The code of `r.key` moved to r's door and window (same code).
  virtual Result<DoorGrant> Change(const DoorRequest& r) = 0;
  // The code of `key` opens nothing any more; an unknown key is no error.
  virtual Status Revoke(const std::string& key) = 0;
};

// The HTTP adapter (libcurl, through http_post.h): JSON over POST with
// "Authorization: Bearer <api_key>", answers bounded to 64 KiB.
std::unique_ptr<DoorProvider> MakeHttpDoorProvider(DoorConfig config);

struct DoorDispatcherOptions {
  std::chrono::milliseconds poll{500};    // how often the pending list is read
  std::chrono::seconds max_backoff{300};  // longest wait after network failures
};

class DoorDispatcher {
 public:
  // None of the references is owned; all must outlive the dispatcher.
  DoorDispatcher(commands::CommandBus& bus, const projections::Runner& runner, const ledger::Log& log,
                 ledger::Vault& vault, DoorProvider& provider, DoorDispatcherOptions options = {});
  ~DoorDispatcher();  // calls Stop()
  DoorDispatcher(const DoorDispatcher&) = delete;
  DoorDispatcher& operator=(const DoorDispatcher&) = delete;

  void Start();
  void Stop();

 private:
  struct Retry {
    int attempts = 0;
    std::chrono::steady_clock::time_point next;
  };
  void Loop();
  void Dispatch(const TenantId& tenant, const projections::DoorWork& work);
  bool Record(const TenantId& tenant, commands::RecordDoor record);

  commands::CommandBus& bus_;
  const projections::Runner& runner_;
  const ledger::Log& log_;
  ledger::Vault& vault_;
  DoorProvider& provider_;
  DoorDispatcherOptions options_;
  std::map<std::string, Retry> retries_;  // dispatcher thread only
  std::map<std::string, Seq> recorded_;   // per tenant, the position of the last record (dispatcher thread)

  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;  // guarded by mu_
  std::thread thread_;
};

}  // namespace saalbuch::integrations
