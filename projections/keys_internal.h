// Key encodings of the projections column family (grammar in
// projections/README.md). Resource and booking ids never contain '/', which
// sorts below every id character, so "<id>/" is an exact prefix.
#pragma once

#include <cstdio>
#include <string>
#include <string_view>

#include "common/types.h"
#include "ledger/keys.h"

namespace saalbuch::projections {

// a ‖ b. Use it (or name the temporary) instead of "literal" + a temporary
// std::string such as "r" + S(…): for that, GCC 12 at -O3 reports a false
// -Wrestrict (GCC PR 105329) that breaks the Release build.
inline std::string Cat(std::string_view a, std::string_view b) {
  std::string s;
  s.reserve(a.size() + b.size());
  s.append(a).append(b);
  return s;
}

// tenant-prefix ‖ projection tag ‖ rest
inline std::string Key(const TenantId& t, char tag, const std::string& rest) {
  std::string k = ledger::keys::TenantPrefix(t.get());
  k.push_back(tag);
  k.append(rest);
  return k;
}

inline std::string CheckpointKey(const TenantId& t, char tag) { return Key(t, 'P', std::string(1, tag)); }

// Signed time → big-endian bytes that sort like the numbers.
inline void AppendTime(std::string* k, TimeUs t) {
  ledger::keys::AppendBigEndian64(k, static_cast<std::uint64_t>(t) ^ (std::uint64_t{1} << 63));
}
inline TimeUs ReadTime(std::string_view s) {
  return static_cast<TimeUs>(ledger::keys::ReadBigEndian64(s) ^ (std::uint64_t{1} << 63));
}

// availability: what bookings take from a counter (a resource, an event's
// session "<resource>@<session>", an add-on "+<addon>"), by blocked start.
inline std::string UsagePrefix(const TenantId& t, const std::string& counter) {
  return Key(t, 'A', "x" + counter + "/");
}

// availability: the sessions of an event resource by start.
inline std::string SessionPrefix(const TenantId& t, const std::string& resource) {
  return Key(t, 'A', "s" + resource + "/");
}

// bookings: every booking of a customer by start.
inline std::string ByCustomerPrefix(const TenantId& t, const std::string& customer) {
  return Key(t, 'B', "c" + customer + "/");
}
inline std::string ByCustomerKey(const TenantId& t, const std::string& customer, TimeUs start,
                                 const std::string& booking) {
  std::string k = ByCustomerPrefix(t, customer);
  AppendTime(&k, start);
  return k + booking;
}

// bookings: every booking of a resource by start.
inline std::string ByResourcePrefix(const TenantId& t, const std::string& resource) {
  return Key(t, 'B', "r" + resource + "/");
}
inline std::string ByResourceKey(const TenantId& t, const std::string& resource, TimeUs start,
                                 const std::string& booking) {
  std::string k = ByResourcePrefix(t, resource);
  AppendTime(&k, start);
  return k + booking;
}

// The smallest key greater than every key starting with `prefix`.
inline std::string PrefixEnd(std::string prefix) {
  while (!prefix.empty() && static_cast<unsigned char>(prefix.back()) == 0xff) prefix.pop_back();
  if (!prefix.empty()) prefix.back() = static_cast<char>(static_cast<unsigned char>(prefix.back()) + 1);
  return prefix;
}

inline std::string MinuteText(int minute) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%02d:%02d", minute / 60, minute % 60);
  return buf;
}

}  // namespace saalbuch::projections
