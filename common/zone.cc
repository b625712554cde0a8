#include "common/zone.h"

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <limits>
#include <map>
#include <memory>
#include <mutex>

namespace saalbuch {
namespace {

constexpr std::int64_t kMaxOffset = std::int64_t{26} * 3600;  // beyond every offset there was

std::mutex& Mu() {
  static std::mutex mu;
  return mu;
}
std::map<std::string, std::unique_ptr<Zone>, std::less<>>& ByRules() {
  static std::map<std::string, std::unique_ptr<Zone>, std::less<>> zones;
  return zones;
}
std::map<std::string, const Zone*, std::less<>>& ByName() {
  static std::map<std::string, const Zone*, std::less<>> zones;
  return zones;
}

template <class T>
bool ParseNumber(std::string_view text, T* out) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && end == text.data() + text.size() && !text.empty();
}

// The rules of `z` for 1900–2199 as text.
std::string HostRules(const date::time_zone* z) {
  using namespace date;
  const sys_seconds from{sys_days{year{1900} / January / 1}};
  const sys_seconds to{sys_days{year{2200} / January / 1}};
  auto info = z->get_info(from);
  std::string out = "sbz1 " + z->name() + "\n" + std::to_string(info.offset.count()) + "\n";
  auto offset = info.offset;
  for (auto t = info.end; t < to; t = info.end) {
    info = z->get_info(t);
    if (info.offset == offset) continue;  // only the abbreviation or the DST flag changed
    offset = info.offset;
    out += std::to_string(t.time_since_epoch().count()) + " " + std::to_string(offset.count()) + "\n";
  }
  return out;
}

}  // namespace

std::int32_t Zone::OffsetAt(std::int64_t utc_seconds) const {
  const auto it = std::upper_bound(begins_.begin(), begins_.end(), utc_seconds);
  if (it == begins_.begin()) return first_offset_;
  return offsets_[static_cast<std::size_t>(it - begins_.begin()) - 1];
}

// Period k (0 = before the first change) runs from begin(k) to begin(k+1)
// with offset(k). Local time L is instant L - offset(k) if that lies in
// period k; the neighbours of the period L itself falls in (as if UTC) are
// the only candidates, offsets being less than a day and changes further
// apart than that.
Zone::Resolved Zone::Resolve(std::int64_t local, bool latest) const {
  const auto n = static_cast<std::int64_t>(begins_.size());
  auto begin = [&](std::int64_t k) {
    return k <= 0 ? std::numeric_limits<std::int64_t>::min() : begins_[static_cast<std::size_t>(k - 1)];
  };
  auto offset = [&](std::int64_t k) -> std::int64_t {
    return k <= 0 ? first_offset_ : offsets_[static_cast<std::size_t>(k - 1)];
  };
  const std::int64_t around = std::upper_bound(begins_.begin(), begins_.end(), local) - begins_.begin();
  bool found = false;
  std::int64_t chosen = 0;
  for (std::int64_t k = std::max<std::int64_t>(0, around - 2); k <= std::min(n, around + 2); ++k) {
    const std::int64_t s = local - offset(k);
    if (s < begin(k) || (k < n && s >= begin(k + 1))) continue;
    // Later periods give later instants: the first valid one is the earliest.
    if (!found || latest) chosen = offset(k);
    found = true;
    if (!latest) break;
  }
  if (found) return {false, chosen};
  // A skipped hour: the change whose gap holds L.
  for (std::int64_t k = std::max<std::int64_t>(1, around - 2); k <= std::min(n, around + 2); ++k) {
    if (local - offset(k - 1) >= begin(k) && local - offset(k) < begin(k)) return {true, begin(k)};
  }
  return {false, offset(around)};  // unreachable for rules from a tz database
}

const Zone* ZoneFromRules(std::string_view rules) {
  std::lock_guard lock(Mu());
  auto& zones = ByRules();
  if (auto it = zones.find(rules); it != zones.end()) return it->second.get();
  auto z = Zone::Parse(rules);
  if (!z) return nullptr;
  const Zone* out = z.get();
  zones.emplace(std::string(rules), std::move(z));
  return out;
}

const Zone* FindZone(std::string_view name) {
  if (name.empty() || name.size() > 64) return nullptr;
  {
    std::lock_guard lock(Mu());
    if (auto it = ByName().find(name); it != ByName().end()) return it->second;
  }
  const date::time_zone* host = nullptr;
  try {
    host = date::locate_zone(std::string(name));
  } catch (const std::exception&) {
    return nullptr;
  }
  const Zone* z = ZoneFromRules(HostRules(host));
  std::lock_guard lock(Mu());
  ByName().emplace(std::string(name), z);
  return z;
}

const Zone* ZoneOf(std::string_view rules_or_name) {
  return rules_or_name.starts_with("sbz1 ") ? ZoneFromRules(rules_or_name) : FindZone(rules_or_name);
}

const Zone* RecordedZone(std::string_view rules, std::string_view name) {
  if (const Zone* z = rules.empty() ? nullptr : ZoneFromRules(rules)) return z;
  return FindZone(name);
}

std::string RecordedZoneText(std::string_view rules, std::string_view name) {
  const Zone* z = RecordedZone(rules, name);
  return z != nullptr ? z->Rules() : std::string(name);
}

const Zone* UtcZone() {
  static const Zone* utc = FindZone("UTC");
  return utc;
}

std::unique_ptr<Zone> Zone::Parse(std::string_view text) {
  auto z = std::make_unique<Zone>();
  auto next_line = [&](std::string_view* line) {
    const auto nl = text.find('\n');
    if (nl == std::string_view::npos) return false;
    *line = text.substr(0, nl);
    text.remove_prefix(nl + 1);
    return true;
  };
  const std::string_view all = text;
  std::string_view line;
  if (!next_line(&line) || !line.starts_with("sbz1 ")) return nullptr;
  line.remove_prefix(5);
  if (line.empty() || line.size() > 64 || line.find(' ') != std::string_view::npos) return nullptr;
  z->name_ = std::string(line);
  std::int64_t first = 0;
  if (!next_line(&line) || !ParseNumber(line, &first) || std::llabs(first) > kMaxOffset) return nullptr;
  z->first_offset_ = static_cast<std::int32_t>(first);
  while (!text.empty()) {
    if (!next_line(&line)) return nullptr;
    const auto space = line.find(' ');
    std::int64_t begin = 0, offset = 0;
    if (space == std::string_view::npos || !ParseNumber(line.substr(0, space), &begin) ||
        !ParseNumber(line.substr(space + 1), &offset) || std::llabs(offset) > kMaxOffset ||
        (!z->begins_.empty() && begin <= z->begins_.back())) {
      return nullptr;
    }
    z->begins_.push_back(begin);
    z->offsets_.push_back(static_cast<std::int32_t>(offset));
  }
  z->rules_ = std::string(all);
  return z;
}

}  // namespace saalbuch
