// The availability read model in memory, decoded (ARCHITECTURE.md, "Read
// models are shaped for their queries"): per tenant its zone and holidays,
// per resource its kind, capacity, related wholes and parts and its opening
// calendar parsed once, per counter its usages ordered by start, per event
// its sessions. The fold writes the availability keys of the projections
// column family as before (projections/README.md); the runner loads this
// index from them at start and applies each committed Txn to it before it
// publishes the new position, so that it always equals a decoding of the
// stored keys (a test compares it with one loaded afresh and with a replay).
// Queries read no RocksDB, parse no JSON and take one shared lock.
#pragma once

#include <map>
#include <set>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "common/time.h"
#include "common/types.h"
#include "projections/store.h"

namespace saalbuch::projections {

class AvailabilityIndex {
 public:
  // A key this index decodes: availability ('A') keys except the fold's own
  // booking links ("Ak…") and add-on stock ("Aa…").
  static bool Mine(std::string_view key);
  // Adds every such key of the tenant from `from`.
  Status Load(const KvView& from, const TenantId& tenant);
  void Apply(const Txn& txn);
  void Drop(const TenantId& tenant);
  // Everything the index holds of `tenant`, one fact per line in a fixed
  // order: equal text, equal index (for tests and for reading by a person).
  std::string Describe(const TenantId& tenant) const;
  std::size_t usages() const;

 private:
  friend class AvailabilityQuery;

  struct Resource {
    bool corrupt = false;  // the stored document is not what the fold writes
    std::string kind;
    std::uint32_t capacity = 1;
    std::vector<std::string> related;  // its whole and parts
    OpeningCalendar calendar;          // without the tenant's holidays
  };
  struct Usage {
    TimeUs end = 0;
    std::uint32_t amount = 0;
  };
  struct Counter {
    TimeUs longest = -1;  // the longest usage ever put ("Am…"); -1: never used
    std::map<std::pair<TimeUs, std::string>, Usage> usages;  // by (blocked start, booking)
  };
  struct Session {
    TimeUs end = 0;
    std::uint32_t seats = 0;
    std::string title;
  };
  struct Tenant {
    std::string zone;  // empty: no TenantCreated folded yet
    // Keys (after the tenant) whose value is not what the fold writes: the
    // tenant's queries answer kCorruption while there is one.
    std::set<std::string> corrupt;
    bool holidays_corrupt = false;
    std::set<LocalDay> holidays;
    std::unordered_map<std::string, Resource> resources;
    std::unordered_map<std::string, Counter> counters;
    std::unordered_map<std::string, std::map<std::pair<TimeUs, std::string>, Session>> sessions;
  };

  void Put(std::string_view key, const std::string* value);  // value null: erase

  mutable std::shared_mutex mu_;
  std::unordered_map<std::string, Tenant> tenants_;  // guarded by mu_
};

// Free and busy ranges of `resource` within `window` (at most 62 days),
// given in UTC and in the tenant's zone. Busy ranges include buffers.
// Rooms and devices: busy also while their whole or a part is booked. Pools:
// free ranges carry the units remaining; busy = every unit taken. Events:
// their sessions with the seats remaining (free) or full (busy).
Result<nlohmann::json> QueryAvailability(const AvailabilityIndex& index, const TenantId& tenant,
                                         const ResourceId& resource, TimeRange window);

// How long `resource` is open within `window` (any length; the caller
// bounds it), by its opening calendar with the tenant's holidays, and how
// many it holds at once: a pool's units, 1 for a room or device. For an
// event: the sum of its sessions' lengths and their seats (in minutes ×
// seats as `seat_minutes`).
struct OpenTime {
  std::string kind;
  std::int64_t minutes = 0;
  std::uint32_t capacity = 1;
  std::int64_t seat_minutes = 0;  // events only
};
Result<OpenTime> QueryOpenTime(const AvailabilityIndex& index, const TenantId& tenant,
                               const ResourceId& resource, TimeRange window);

// A busy range (buffers included), for busy feeds: a booking of a room or
// device (or of its whole or parts), a range in which all units of a pool
// are taken, a full session of an event. The id is for stable identifiers
// only; it is not shown to the public.
struct BusyRange {
  TimeRange range;
  BookingId booking;
};
// Busy ranges of `resource` that overlap `window`, by start (any window
// length; the caller bounds it).
Result<std::vector<BusyRange>> QueryBusy(const AvailabilityIndex& index, const TenantId& tenant,
                                         const ResourceId& resource, TimeRange window);

}  // namespace saalbuch::projections
