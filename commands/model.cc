#include "commands/model.h"

#include <cstdio>

namespace saalbuch::commands {

const char* RoleName(Role r) {
  switch (r) {
    case Role::kAdmin:
      return "admin";
    case Role::kStaff:
      return "staff";
    case Role::kFinance:
      return "finance";
    case Role::kAuditor:
      return "auditor";
  }
  return "auditor";
}

std::optional<Role> ParseRole(std::string_view s) {
  if (s == "admin") return Role::kAdmin;
  if (s == "staff") return Role::kStaff;
  if (s == "finance") return Role::kFinance;
  if (s == "auditor") return Role::kAuditor;
  return std::nullopt;
}

Rules Rules::AlwaysOpen() {
  Rules r;
  for (int d = 1; d <= 7; ++d) r.opening.push_back({d, 0, 24 * 60});
  return r;
}

namespace {

Rules RulesFromEvent(const schema::RulesSetT& e) {
  Rules r;
  for (const auto& h : e.opening) {
    r.opening.push_back({h.weekday(), h.start_minute(), h.end_minute()});
  }
  r.buffer_before = e.buffer_before_s * kUsPerSecond;
  r.buffer_after = e.buffer_after_s * kUsPerSecond;
  r.granularity = e.granularity_s * kUsPerSecond;
  r.min_duration = e.min_duration_s * kUsPerSecond;
  r.max_duration = e.max_duration_s * kUsPerSecond;
  r.lead_time = e.lead_time_s * kUsPerSecond;
  r.horizon = e.horizon_s * kUsPerSecond;
  for (const auto& d : e.special_days) {
    auto& hours = r.special_days[d->day];
    for (const auto& h : d->opening) hours.push_back({h.start_minute(), h.end_minute()});
  }
  for (const auto& c : e.closures) r.closures.push_back({c->first_day, c->last_day, c->reason});
  return r;
}

}  // namespace

void TenantModel::Apply(Seq seq, std::uint64_t stream_version, const schema::PayloadUnion& ev) {
  position_ = seq;
  switch (ev.type) {
    case schema::Payload::TenantCreated: {
      const auto* e = ev.AsTenantCreated();
      name_ = e->name;
      zone_ = FindZone(e->time_zone);
      if (zone_ == nullptr) zone_ = date::locate_zone("UTC");  // decided valid; tz db changed
      break;
    }
    case schema::Payload::ApiKeyCreated: {
      const auto* e = ev.AsApiKeyCreated();
      std::string hash(e->key_hash.begin(), e->key_hash.end());
      keys_[hash] = ApiKey{e->key_id, ParseRole(e->role).value_or(Role::kAuditor)};
      break;
    }
    case schema::Payload::ResourceCreated: {
      const auto* e = ev.AsResourceCreated();
      Resource r{ResourceId(e->resource_id), e->kind, e->name, Rules::AlwaysOpen(), stream_version};
      resources_[r.id] = std::move(r);
      break;
    }
    case schema::Payload::RulesSet: {
      const auto* e = ev.AsRulesSet();
      auto it = resources_.find(ResourceId(e->resource_id));
      if (it != resources_.end()) {
        it->second.rules = RulesFromEvent(*e);
        it->second.version = stream_version;
      }
      break;
    }
    case schema::Payload::BookingPlaced: {
      const auto* e = ev.AsBookingPlaced();
      Booking b;
      b.id = BookingId(e->booking_id);
      b.number = e->number;
      b.resource = ResourceId(e->resource_id);
      b.range = {e->start_us, e->end_us};
      b.blocked = {e->blocked_start_us, e->blocked_end_us};
      b.manage_token_hash.assign(e->manage_token_hash.begin(), e->manage_token_hash.end());
      b.version = stream_version;
      live_[b.resource][b.blocked.start] = b.id;
      // Numbers are "B-<year>-<counter>"; the counter per year follows the log.
      int year = 0;
      unsigned long long n = 0;
      if (std::sscanf(b.number.c_str(), "B-%d-%llu", &year, &n) == 2) {
        auto& c = numbers_per_year_[year];
        if (n > c) c = n;
      }
      bookings_[b.id] = std::move(b);
      break;
    }
    case schema::Payload::BookingCancelled: {
      const auto* e = ev.AsBookingCancelled();
      auto it = bookings_.find(BookingId(e->booking_id));
      if (it == bookings_.end()) break;
      Booking& b = it->second;
      if (b.status != BookingStatus::kCancelled) {
        auto& idx = live_[b.resource];
        auto li = idx.find(b.blocked.start);
        if (li != idx.end() && li->second == b.id) idx.erase(li);
      }
      b.status = BookingStatus::kCancelled;
      b.version = stream_version;
      break;
    }
    case schema::Payload::HolidaysSet: {
      holidays_.clear();
      holidays_version_ = stream_version;
      for (const auto& h : ev.AsHolidaysSet()->holidays) holidays_[h->day] = h->name;
      break;
    }
    case schema::Payload::NONE:
      break;
  }
}

OpeningCalendar TenantModel::Calendar(const Resource& r) const {
  OpeningCalendar c;
  c.weekly = r.rules.opening;
  c.special_days = r.rules.special_days;
  for (const auto& cl : r.rules.closures) c.closures.emplace_back(cl.first, cl.last);
  for (const auto& [day, name] : holidays_) c.holidays.insert(day);
  return c;
}

const Resource* TenantModel::FindResource(const ResourceId& id) const {
  auto it = resources_.find(id);
  return it == resources_.end() ? nullptr : &it->second;
}

const Booking* TenantModel::FindBooking(const BookingId& id) const {
  auto it = bookings_.find(id);
  return it == bookings_.end() ? nullptr : &it->second;
}

const Booking* TenantModel::FindClash(const ResourceId& resource, const TimeRange& blocked) const {
  auto r = live_.find(resource);
  if (r == live_.end() || r->second.empty()) return nullptr;
  auto it = r->second.lower_bound(blocked.end);
  if (it == r->second.begin()) return nullptr;
  --it;
  const Booking* b = FindBooking(it->second);
  return (b != nullptr && b->blocked.Overlaps(blocked)) ? b : nullptr;
}

std::string TenantModel::NextBookingNumber(int year) const {
  auto it = numbers_per_year_.find(year);
  std::uint64_t next = (it == numbers_per_year_.end() ? 0 : it->second) + 1;
  char buf[48];
  std::snprintf(buf, sizeof buf, "B-%04d-%06llu", year, static_cast<unsigned long long>(next));
  return buf;
}

}  // namespace saalbuch::commands
