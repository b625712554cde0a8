// The write model of one tenant: exactly the state `Decide` needs, folded
// from the tenant's log (at start) and from each accepted event (live), by
// the same `Apply`.
//
// Capacity is kept in *counters*: every resource has one (a room or device
// holds 1, a pool n units), every session of an event one (its seats), every
// add-on with a stock one. A booking takes an amount of its resource's (or
// session's) counter and of each add-on's counter for its blocked range.
// Composite resources need no counter of their own: a whole also checks its
// parts' counters and a part its whole's, so either blocks the other.
//
// Thread-safety: none; a TenantModel is confined to its tenant's writer.
#pragma once

#include <date/tz.h>

#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "commands/finance.h"
#include "common/time.h"
#include "common/types.h"
#include "ledger/log.h"
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
  bool operator==(const Rules&) const = default;
};

enum class Kind { kRoom, kDevice, kPool, kEvent };
std::optional<Kind> ParseKind(std::string_view s);
const char* KindName(Kind k);
inline bool IsExclusive(Kind k) { return k == Kind::kRoom || k == Kind::kDevice; }

struct Session {
  std::string id;
  TimeRange range;
  std::uint32_t seats = 0;
  bool operator==(const Session&) const = default;
};

struct Resource {
  ResourceId id;
  Kind kind = Kind::kRoom;
  std::string name;
  std::uint32_t capacity = 1;  // pool units; an event's default seats
  ResourceId parent;           // the whole of a composite; empty: none
  std::vector<ResourceId> parts;
  std::string requires_qualification;
  std::map<std::string, Session> sessions;  // event resources
  Rules rules;
  std::uint64_t version = 0;
  bool operator==(const Resource&) const = default;
};

struct AddonOffer {
  ResourceId resource;
  bool mandatory = false;
  bool operator==(const AddonOffer&) const = default;
};

struct Addon {
  std::string id;
  std::string name;
  std::uint32_t stock = 0;  // 0: unlimited
  std::vector<AddonOffer> offers;
  std::uint64_t version = 0;
  bool operator==(const Addon&) const = default;
};

struct Customer {
  std::string id;
  std::string group;
  std::map<std::string, TimeUs> qualifications;  // name → valid until (0: always)
  std::uint64_t version = 0;
  std::string recipient;  // billing profile sealed under "rc_" ‖ id; empty: none
  bool operator==(const Customer&) const = default;
};

struct Right {
  std::string id;
  ResourceId resource;
  std::string group;
  bool may_book = true;
  bool needs_approval = false;
  bool hold = false;
  TimeUs quota = 0;  // per customer and period; 0: none
  std::string quota_period;
  std::string basis;
  TimeUs valid_from = 0;
  TimeUs valid_until = 0;  // 0: open-ended
  bool revoked = false;
  bool ValidAt(TimeUs t) const {
    return !revoked && valid_from <= t && (valid_until == 0 || t < valid_until);
  }
  bool operator==(const Right&) const = default;
};

enum class BookingStatus {
  kRequested,
  kHeld,
  kConfirmed,
  kCompleted,
  kNoShow,
  kRejected,
  kCancelled,
  kExpired
};
const char* StatusName(BookingStatus s);
// Whether a booking in this status keeps its capacity (invariant 1 covers
// requested, held and confirmed; completed and no-show lie in the past and
// keep what they used).
inline bool Occupies(BookingStatus s) {
  return s == BookingStatus::kRequested || s == BookingStatus::kHeld || s == BookingStatus::kConfirmed ||
         s == BookingStatus::kCompleted || s == BookingStatus::kNoShow;
}
// Whether the booking can still be cancelled, moved, approved…
inline bool IsOpen(BookingStatus s) {
  return s == BookingStatus::kRequested || s == BookingStatus::kHeld || s == BookingStatus::kConfirmed;
}

struct AddonLine {
  std::string addon;
  std::uint32_t quantity = 0;
  auto operator<=>(const AddonLine&) const = default;
};

struct Booking {
  BookingId id;
  std::string number;
  ResourceId resource;
  std::string session;  // event resources
  TimeRange range;
  TimeRange blocked;  // range plus buffers, as decided at placement
  std::uint32_t units = 1;
  std::vector<AddonLine> addons;
  BookingStatus status = BookingStatus::kConfirmed;
  std::string customer;  // empty: anonymous (public) or internal (staff)
  std::string group;
  std::string right;
  std::string series;
  std::string person;     // whose sealed contact the placement carries
  std::string recipient;  // sealed invoice recipient (PlaceBooking::recipient); empty: none
  TimeUs hold_until = 0;
  TimeUs placed_at = 0;           // prices in force then apply
  std::string manage_token_hash;  // raw SHA-256 bytes; empty for staff bookings
  std::uint64_t version = 0;
  bool operator==(const Booking&) const = default;
};

// What a booking takes from one counter.
struct Usage {
  TimeRange range;
  std::uint32_t amount = 0;
  BookingId booking;
  bool operator==(const Usage&) const = default;
};

// The tenant's settings for its public side (PublicSettingsSet): who may
// call the public API from a browser, and how the widget and the manage
// page present the tenant. Empty strings: not set.
struct PublicSettings {
  // Exact origins ("https://www.musterstadt.de"), canonical: lower case, no
  // default port. Empty: any origin (CORS "*").
  std::vector<std::string> allowed_origins;
  std::string display_name;
  std::string logo_url;
  std::string accent_color;  // "#rrggbb"
  std::string privacy_url;
  std::string terms_url;
  std::string consent_de;  // plain text
  std::string consent_en;
  std::uint64_t version = 0;  // of the stream "tenant/public"; 0: never set
  bool operator==(const PublicSettings&) const = default;
};

struct ApiKey {
  std::string id;
  Role role = Role::kAuditor;
  TimeUs expires = 0;         // rotated: it stops working at this time; 0: never
  std::uint64_t version = 1;  // of its stream "key/" id
  std::string label;
  // Whether it lets a request in at `now`.
  bool ValidAt(TimeUs now) const { return expires == 0 || now < expires; }
  bool operator==(const ApiKey&) const = default;
};

// A person's account for the back office (AccountInvited …
// AccountSignedOut). Secrets are kept as hashes (raw SHA-256 bytes); the
// holder's e-mail, name and password hash only sealed (the vault's key of
// `person` opens them, in http/).
struct Account {
  // Back-office policy, decided in commands/decide_accounts.cc.
  static constexpr TimeUs kInviteLife = 7LL * 24 * 3600 * kUsPerSecond;
  static constexpr TimeUs kSessionLife = 12LL * 3600 * kUsPerSecond;
  static constexpr std::size_t kMaxSessions = 10;  // the oldest ends first
  static constexpr std::size_t kMaxFailures = 5;   // within kFailureWindow …
  static constexpr TimeUs kFailureWindow = 15LL * 60 * kUsPerSecond;
  static constexpr TimeUs kLockout = 15LL * 60 * kUsPerSecond;  // … lock it this long

  std::string id;
  Role role = Role::kAuditor;
  std::string login_hash;  // SHA-256 of the lower-case e-mail address
  std::string person;
  std::string personal;  // sealed {"email", "name", "invite_token"}
  std::string invite_hash;
  TimeUs invite_expires = 0;
  std::string credential;  // sealed Argon2id string; empty until joined
  bool disabled = false;
  std::vector<TimeUs> failures;  // the latest failed sign-ins, at most kMaxFailures
  TimeUs locked_until = 0;
  std::map<std::string, TimeUs> sessions;  // session hash → end
  std::uint64_t version = 0;               // of the stream "account/" id
  std::string totp;                        // sealed TOTP secret; empty: no second factor
  std::int64_t totp_step = 0;              // the time step of the last TOTP code used
  bool joined() const { return !credential.empty(); }
  bool operator==(const Account&) const = default;
};

class TenantModel {
 public:
  static constexpr TimeUs kDefaultHold = 60LL * 60 * kUsPerSecond;
  // A booking whose blocked time ended this long before the newest placement
  // is archived: it leaves the model (with its capacity, quota and series
  // entries), so the model holds the working set, not every booking ever
  // placed. No later decision can depend on it: a new or moved booking
  // starts after its decision time and its buffers are at most 31 days; a
  // quota period is at most a year. Commands naming it get not_found; its
  // history stays in the log and the projections. Held bookings stay until
  // they expire.
  static constexpr TimeUs kArchiveAfter = 400LL * 24 * 3600 * kUsPerSecond;

  // `archive_after` 0: keep every booking (tests compare both).
  explicit TenantModel(TimeUs archive_after = kArchiveAfter) : archive_after_(archive_after) {}

  // Folds one event. `seq` is its log position, `stream_version` the version
  // the event gives its stream, `recorded_at` its envelope's time.
  void Apply(Seq seq, std::uint64_t stream_version, TimeUs recorded_at, const schema::PayloadUnion& event);

  bool exists() const { return zone_ != nullptr; }
  const std::string& name() const { return name_; }
  // When the tenant was created: its books begin that local day.
  TimeUs created() const { return created_; }
  const Zone* zone() const { return zone_; }
  Seq position() const { return position_; }
  TimeUs hold() const { return hold_; }
  std::uint64_t settings_version() const { return settings_version_; }
  const PublicSettings& public_settings() const { return public_; }

  // Public holidays of the tenant (local day → name).
  const std::map<LocalDay, std::string>& holidays() const { return holidays_; }
  std::uint64_t holidays_version() const { return holidays_version_; }
  // The opening calendar of `r`: its rules plus the tenant's holidays.
  OpeningCalendar Calendar(const Resource& r) const;

  const Resource* FindResource(const ResourceId& id) const;
  const Booking* FindBooking(const BookingId& id) const;
  const Addon* FindAddon(const std::string& id) const;
  const std::map<std::string, Addon>& addons() const { return addons_; }
  const Customer* FindCustomer(const std::string& id) const;
  const Customer* FindCustomerByToken(std::string_view token_hash) const;
  const Right* FindRight(const std::string& id) const;
  bool HasGroup(const std::string& id) const { return id == "public" || groups_.count(id) != 0; }
  bool HasSeries(const std::string& id) const { return series_.count(id) != 0; }
  // Persons with personal data in the log; true once erased.
  const std::map<std::string, bool>& persons() const { return persons_; }
  bool NotificationSent(const std::string& id) const { return notifications_.count(id) != 0; }
  // Signed checkpoints so far, and the log position of the last one's record.
  std::uint64_t checkpoints() const { return checkpoints_; }
  Seq last_checkpoint_record() const { return last_checkpoint_record_; }
  // Bookings of a series, by start.
  std::vector<const Booking*> SeriesBookings(const std::string& series) const;

  // The resource whose usage rights govern `resource`: itself once it has
  // rights of its own, else the nearest whole (parent) that has some — a
  // part of a hall inherits the hall's rights unless it has its own — else
  // itself (and then it is open to everyone).
  ResourceId RightsScope(const ResourceId& resource) const;
  // The usage right of `group` for `resource` in force at `now`: the latest
  // granted one of its rights scope that is valid then. A resource whose
  // scope never had a right is open to everyone ("open"); nullopt: the
  // group may not book it.
  std::optional<Right> ApplicableRight(const ResourceId& resource, const std::string& group,
                                       TimeUs now) const;

  // Minutes (as µs) of open bookings of `customer` in `resource`'s rights
  // scope (the whole and the parts that inherit its rights) starting within
  // local days [first, last], without `exclude`.
  TimeUs UsedQuota(const std::string& customer, const ResourceId& resource, LocalDay first, LocalDay last,
                   const BookingId& exclude) const;

  // Counter names: a resource id, "<resource>@<session>", "+<addon>".
  static std::string SessionCounter(const ResourceId& r, const std::string& session) {
    return r.get() + "@" + session;
  }
  static std::string AddonCounter(const std::string& addon) { return "+" + addon; }
  // The counters a booking takes from, with amounts.
  static std::vector<std::pair<std::string, std::uint32_t>> Takes(const Booking& b);

  // The highest total amount in use on `counter` at any instant of `range`,
  // counting `extra` usages too and leaving out `exclude`'s. *clash gets one
  // overlapping usage (nullptr when none).
  std::uint32_t Peak(const std::string& counter, const TimeRange& range, const BookingId& exclude,
                     const std::vector<Usage>& extra, Usage* clash) const;

  // Held bookings by expiry.
  const std::set<std::pair<TimeUs, BookingId>>& holds() const { return holds_; }
  // Bookings in the model (archived ones have left it).
  std::size_t booking_count() const { return bookings_.size(); }
  // The newest placement time seen (the archive's clock).
  TimeUs clock() const { return clock_; }

  // The next human booking number for `year` ("B-2026-000123").
  std::string NextBookingNumber(int year) const;
  // The n-th next (0 = the next) booking number of `year`.
  std::string BookingNumberAfter(int year, std::uint64_t n) const;
  // The money side: tariffs, documents, payments, refunds, imports.
  const Books& books() const { return books_; }

  // Key hash (raw SHA-256 bytes) → key: every key not revoked (rotated
  // ones also after they expired).
  const std::unordered_map<std::string, ApiKey>& keys() const { return keys_; }
  // The key (not revoked) with this id, or nullptr.
  const ApiKey* FindKey(std::string_view id) const;
  // Back-office accounts by id.
  const std::map<std::string, Account>& accounts() const { return accounts_; }
  const Account* FindAccount(const std::string& id) const;
  // The account signing in as the e-mail whose hash this is (disabled ones
  // only when no other has it).
  const Account* FindAccountByLogin(std::string_view login_hash) const;
  // The roles that must sign in with a second factor (TotpPolicySet).
  const std::set<Role>& totp_roles() const { return totp_roles_; }
  std::uint64_t totp_policy_version() const { return totp_policy_version_; }

  // Every member equal: a model restored from a snapshot equals the one
  // folded from the log (tests/commands/snapshot_test.cc).
  bool operator==(const TenantModel&) const = default;

 private:
  friend struct SnapshotCodec;  // commands/snapshot.cc
  struct Counter {
    std::multimap<TimeUs, Usage> by_start;
    TimeUs max_len = 0;  // longest usage ever added; bounds the scan
    bool operator==(const Counter&) const = default;
  };
  // Folds an account event; false for any other event.
  bool ApplyAccount(std::uint64_t stream_version, const schema::PayloadUnion& ev);
  void Take(const Booking& b);
  void Release(const Booking& b);
  void SetStatus(Booking& b, BookingStatus s, std::uint64_t version);
  // Archives the bookings that ended before clock_ - archive_after_.
  void ArchiveEnded();

  std::string name_;
  const Zone* zone_ = nullptr;
  Seq position_ = 0;
  TimeUs hold_ = kDefaultHold;
  std::uint64_t settings_version_ = 0;
  std::unordered_map<std::string, ApiKey> keys_;
  std::map<std::string, Account> accounts_;
  std::set<Role> totp_roles_;
  std::uint64_t totp_policy_version_ = 0;
  std::map<ResourceId, Resource> resources_;
  std::unordered_map<BookingId, Booking> bookings_;
  std::unordered_map<std::string, Counter> counters_;
  std::set<std::pair<TimeUs, BookingId>> holds_;
  // Every booking in the model by the end of its blocked time; derived from
  // bookings_ (not in snapshots).
  std::set<std::pair<TimeUs, BookingId>> by_end_;
  TimeUs clock_ = 0;
  TimeUs created_ = 0;
  TimeUs archive_after_ = kArchiveAfter;  // configuration, not state
  std::map<std::string, Addon> addons_;
  std::set<std::string> groups_;
  std::map<std::string, Customer> customers_;
  std::unordered_map<std::string, std::string> customer_by_token_;
  std::unordered_map<std::string, std::vector<BookingId>> bookings_by_customer_;
  std::map<std::string, Right> rights_;
  std::map<ResourceId, std::vector<std::string>> rights_by_resource_;  // in grant order
  std::map<std::string, std::vector<BookingId>> series_;
  std::map<std::string, bool> persons_;
  std::set<std::string> notifications_;
  std::uint64_t checkpoints_ = 0;
  Seq last_checkpoint_record_ = 0;
  std::map<int, std::uint64_t> numbers_per_year_;
  std::map<LocalDay, std::string> holidays_;
  std::uint64_t holidays_version_ = 0;
  PublicSettings public_;
  Books books_;
};

// Folds the records of `tenant`'s log after model->position(), up to `to`
// (0: the head), into `model`; *last_hash (when given) gets the chain hash
// of the last record folded. kCorruption when a record does not decode or
// the numbering has a gap (saalbuch-replay verify names the damage).
Status FoldLog(const ledger::Log& log, const TenantId& tenant, Seq to, TenantModel* model,
               Sha256* last_hash = nullptr);

}  // namespace saalbuch::commands
