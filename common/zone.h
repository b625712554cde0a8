// A time zone as a table of UTC offsets, so that what a tenant's local
// times mean can be written into its log (issue 18, part 4) instead of being
// looked up in whatever tz database the host running a replay has.
//
// A Zone holds, for the years 1900 to 2199, every instant at which the UTC
// offset changes and the offset from then on; before the first it uses the
// first offset, from 2200 on the last one (no DST past 2199). It answers the
// questions Saalbuch asks date::time_zone — to_local, to_sys with a choice
// for the repeated and the skipped hour, the offset at an instant, the name
// — with the same results (tests/ledger/zone_test.cc compares every one of
// them with date/tz).
//
// Rules as text (what TenantCreated.zone_rules carries):
//   sbz1 <name>\n
//   <offset before the first change, seconds>\n
//   <UTC seconds of a change> <offset from then on>\n   (ascending)
//
// Zones are interned: FindZone and ZoneFromRules return pointers that live
// as long as the process. Thread-safe.
#pragma once

#include <date/tz.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace saalbuch {

class Zone {
 public:
  struct Info {
    std::chrono::seconds offset;
  };

  const std::string& name() const { return name_; }
  // The rules as text (see above); ZoneFromRules(Rules()) is this zone.
  const std::string& Rules() const { return rules_; }

  Info get_info(date::sys_seconds t) const {
    return {std::chrono::seconds(OffsetAt(t.time_since_epoch().count()))};
  }

  template <class D>
  date::local_time<std::common_type_t<D, std::chrono::seconds>> to_local(date::sys_time<D> t) const {
    using R = std::common_type_t<D, std::chrono::seconds>;
    const auto s = date::floor<std::chrono::seconds>(t).time_since_epoch().count();
    return date::local_time<R>(R(t.time_since_epoch()) + std::chrono::seconds(OffsetAt(s)));
  }

  // The instant of local time `t`: on the repeated hour the earlier
  // (choose::earliest, the default; date/tz would throw) or the later one;
  // in a skipped hour the instant the gap ends (as date/tz does).
  template <class D>
  date::sys_time<std::common_type_t<D, std::chrono::seconds>> to_sys(
      date::local_time<D> t, date::choose c = date::choose::earliest) const {
    using R = std::common_type_t<D, std::chrono::seconds>;
    const auto local = date::floor<std::chrono::seconds>(t).time_since_epoch().count();
    const Resolved r = Resolve(local, c == date::choose::latest);
    if (r.gap) return date::sys_time<R>(std::chrono::seconds(r.value));
    return date::sys_time<R>(R(t.time_since_epoch()) - std::chrono::seconds(r.value));
  }

 private:
  friend const Zone* ZoneFromRules(std::string_view rules);
  static std::unique_ptr<Zone> Parse(std::string_view text);

  struct Resolved {
    bool gap = false;
    std::int64_t value = 0;  // the offset to subtract, or (gap) the UTC seconds the gap ends
  };
  std::int32_t OffsetAt(std::int64_t utc_seconds) const;
  Resolved Resolve(std::int64_t local_seconds, bool latest) const;

  std::string name_;
  std::string rules_;
  std::int32_t first_offset_ = 0;
  std::vector<std::int64_t> begins_;  // UTC seconds at which offsets_[i] begins
  std::vector<std::int32_t> offsets_;
};

// The zone named `name` as the host's tz database has it (1900–2199; which
// version of the database made a table is not kept: the offsets are), or
// nullptr when the database does not know it.
const Zone* FindZone(std::string_view name);
// The zone of rules text (see above), or nullptr when it is not such text.
const Zone* ZoneFromRules(std::string_view rules);
const Zone* UtcZone();
// What a record or a projection keeps of a zone: rules text (see above), or
// the zone's name only (written before the rules were; the host's zone of
// that name then). nullptr when it is neither.
const Zone* ZoneOf(std::string_view rules_or_name);
// The zone a TenantCreated record names: its rules when it carries valid
// ones, else the host's zone of its name (a log written before the rules
// were); nullptr when neither.
const Zone* RecordedZone(std::string_view rules, std::string_view name);
// What to keep of it: the rules of RecordedZone, else the name.
std::string RecordedZoneText(std::string_view rules, std::string_view name);

}  // namespace saalbuch
