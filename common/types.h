// Strong vocabulary types shared by every module. Ids are opaque strings on
// the wire; in code they never mix: a ResourceId is not a BookingId.
#pragma once

#include <compare>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace saalbuch {

template <typename T, typename Tag>
class NamedType {
 public:
  NamedType() = default;
  explicit NamedType(T v) : v_(std::move(v)) {}
  const T& get() const { return v_; }
  auto operator<=>(const NamedType&) const = default;

 private:
  T v_{};
};

using TenantId = NamedType<std::string, struct TenantIdTag>;
using ResourceId = NamedType<std::string, struct ResourceIdTag>;
using BookingId = NamedType<std::string, struct BookingIdTag>;

// The operator's own log: the accounts of the operator pages (/betrieb/)
// live in a tenant of their own. Its id is no slug, so that no route under
// /v1/tenants/ reaches it and no tenant can be created with it.
inline TenantId OperatorTenant() { return TenantId("_operator"); }
// Where a tenant's back office is served (the links of its invitations).
inline std::string BackOfficePath(const TenantId& t) {
  return t == OperatorTenant() ? "/betrieb" : "/admin/" + t.get();
}

// A position in one tenant's log; records are numbered gaplessly from 1, and
// 0 means "before the first record".
using Seq = std::uint64_t;

// UTC microseconds since the Unix epoch.
using TimeUs = std::int64_t;

inline constexpr TimeUs kUsPerSecond = 1'000'000;
inline constexpr TimeUs kUsPerMinute = 60 * kUsPerSecond;

// A half-open range [start, end) of UTC microseconds.
struct TimeRange {
  TimeUs start = 0;
  TimeUs end = 0;
  bool empty() const { return end <= start; }
  bool Overlaps(const TimeRange& o) const { return start < o.end && o.start < end; }
  bool Contains(const TimeRange& o) const { return start <= o.start && o.end <= end; }
  auto operator<=>(const TimeRange&) const = default;
};

// Ids chosen by clients (tenants, resources) are slugs: 1–64 of [a-z0-9-],
// not starting with '-'. They appear in URLs and in RocksDB keys.
inline bool IsValidSlug(std::string_view s) {
  if (s.empty() || s.size() > 64 || s.front() == '-') return false;
  for (char c : s) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) {
      return false;
    }
  }
  return true;
}

}  // namespace saalbuch

template <typename T, typename Tag>
struct std::hash<saalbuch::NamedType<T, Tag>> {
  size_t operator()(const saalbuch::NamedType<T, Tag>& v) const { return std::hash<T>{}(v.get()); }
};
