// The write model of one tenant: exactly the state `Decide` needs, folded
// from the tenant's log (at start) and from each accepted event (live), by
// the same `Apply`.
//
// Thread-safety: none; a TenantModel is confined to its tenant's writer.
#pragma once

#include <date/tz.h>

#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/time.h"
#include "common/types.h"
#include "schemas/event_generated.h"

namespace saalbuch::commands {

enum class Role { kAdmin, kStaff, kFinance, kAuditor };
const char* RoleName(Role r);
std::optional<Role> ParseRole(std::string_view s);

// Rules of a resource. Durations in microseconds; 0 means "no limit" (for
// granularity: any start). Opening hours are weekly, in the tenant's zone.
struct Closure {
  LocalDay first = 0;  // inclusive
  LocalDay last = 0;   // inclusive
  std::string reason;
  auto operator<=>(const Closure&) const = default;
};

struct Rules {
  std::vector<WeeklyInterval> opening;
  // Days whose hours replace the weekly ones (empty: closed that day).
  std::map<LocalDay, std::vector<DayInterval>> special_days;
  std::vector<Closure> closures;
  TimeUs buffer_before = 0;
  TimeUs buffer_after = 0;
  TimeUs granularity = 0;
  TimeUs min_duration = 0;
  TimeUs max_duration = 0;
  TimeUs lead_time = 0;
  TimeUs horizon = 0;
  // Open every day around the clock, nothing else limited: the rules of a
  // resource created without any.
  static Rules AlwaysOpen();
};

struct Resource {
  ResourceId id;
  std::string kind;
  std::string name;
  Rules rules;
  std::uint64_t version = 0;
};

enum class BookingStatus { kConfirmed, kCancelled };

struct Booking {
  BookingId id;
  std::string number;
  ResourceId resource;
  TimeRange range;
  TimeRange blocked;  // range plus buffers, as decided at placement
  BookingStatus status = BookingStatus::kConfirmed;
  std::string manage_token_hash;  // raw SHA-256 bytes; empty for staff bookings
  std::uint64_t version = 0;
};

struct ApiKey {
  std::string id;
  Role role = Role::kAuditor;
};

class TenantModel {
 public:
  // Folds one event. `seq` is its log position, `stream_version` the version
  // the event gives its stream.
  void Apply(Seq seq, std::uint64_t stream_version, const schema::PayloadUnion& event);

  bool exists() const { return zone_ != nullptr; }
  const std::string& name() const { return name_; }
  const date::time_zone* zone() const { return zone_; }
  Seq position() const { return position_; }

  // Public holidays of the tenant (local day → name).
  const std::map<LocalDay, std::string>& holidays() const { return holidays_; }
  std::uint64_t holidays_version() const { return holidays_version_; }
  // The opening calendar of `r`: its rules plus the tenant's holidays.
  OpeningCalendar Calendar(const Resource& r) const;

  const Resource* FindResource(const ResourceId& id) const;
  const Booking* FindBooking(const BookingId& id) const;
  // A live booking of `resource` whose blocked range overlaps `blocked`.
  const Booking* FindClash(const ResourceId& resource, const TimeRange& blocked) const;
  // The next human booking number for `year` ("B-2026-000123").
  std::string NextBookingNumber(int year) const;
  // Key hash (raw SHA-256 bytes) → key. For the auth index only.
  const std::unordered_map<std::string, ApiKey>& keys() const { return keys_; }

 private:
  std::string name_;
  const date::time_zone* zone_ = nullptr;
  Seq position_ = 0;
  std::unordered_map<std::string, ApiKey> keys_;
  std::map<ResourceId, Resource> resources_;
  std::unordered_map<BookingId, Booking> bookings_;
  // Live (non-cancelled) bookings per resource, keyed by blocked start. They
  // never overlap, which makes the clash check a single predecessor lookup.
  std::map<ResourceId, std::map<TimeUs, BookingId>> live_;
  std::map<int, std::uint64_t> numbers_per_year_;
  std::map<LocalDay, std::string> holidays_;
  std::uint64_t holidays_version_ = 0;
};

}  // namespace saalbuch::commands
