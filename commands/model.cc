#include "commands/model.h"

#include <algorithm>
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

const char* KindName(Kind k) {
  switch (k) {
    case Kind::kRoom:
      return "room";
    case Kind::kDevice:
      return "device";
    case Kind::kPool:
      return "pool";
    case Kind::kEvent:
      return "event";
  }
  return "room";
}

std::optional<Kind> ParseKind(std::string_view s) {
  for (Kind k : {Kind::kRoom, Kind::kDevice, Kind::kPool, Kind::kEvent}) {
    if (s == KindName(k)) return k;
  }
  return std::nullopt;
}

const char* StatusName(BookingStatus s) {
  switch (s) {
    case BookingStatus::kRequested:
      return "requested";
    case BookingStatus::kHeld:
      return "held";
    case BookingStatus::kConfirmed:
      return "confirmed";
    case BookingStatus::kCompleted:
      return "completed";
    case BookingStatus::kNoShow:
      return "no_show";
    case BookingStatus::kRejected:
      return "rejected";
    case BookingStatus::kCancelled:
      return "cancelled";
    case BookingStatus::kExpired:
      return "expired";
  }
  return "confirmed";
}

std::vector<std::pair<std::string, std::uint32_t>> TenantModel::Takes(const Booking& b) {
  std::vector<std::pair<std::string, std::uint32_t>> out;
  out.emplace_back(b.session.empty() ? b.resource.get() : SessionCounter(b.resource, b.session), b.units);
  for (const auto& a : b.addons) out.emplace_back(AddonCounter(a.addon), a.quantity);
  return out;
}

void TenantModel::Take(const Booking& b) {
  for (const auto& [name, amount] : Takes(b)) {
    Counter& c = counters_[name];
    c.by_start.emplace(b.blocked.start, Usage{b.blocked, amount, b.id});
    c.max_len = std::max(c.max_len, b.blocked.end - b.blocked.start);
  }
}

void TenantModel::Release(const Booking& b) {
  for (const auto& [name, amount] : Takes(b)) {
    auto c = counters_.find(name);
    if (c == counters_.end()) continue;
    auto [lo, hi] = c->second.by_start.equal_range(b.blocked.start);
    for (auto it = lo; it != hi; ++it) {
      if (it->second.booking == b.id) {
        c->second.by_start.erase(it);
        break;
      }
    }
  }
}

void TenantModel::SetStatus(Booking& b, BookingStatus s, std::uint64_t version) {
  if (Occupies(b.status) && !Occupies(s)) Release(b);
  if (b.status == BookingStatus::kHeld) holds_.erase({b.hold_until, b.id});
  b.status = s;
  b.version = version;
}

void TenantModel::ArchiveEnded() {
  if (archive_after_ == 0) return;
  const TimeUs cutoff = clock_ - archive_after_;
  for (auto it = by_end_.begin(); it != by_end_.end() && it->first < cutoff;) {
    auto b = bookings_.find(it->second);
    if (b != bookings_.end() && b->second.status == BookingStatus::kHeld) {
      ++it;  // expires first
      continue;
    }
    if (b != bookings_.end()) {
      const Booking& old = b->second;
      if (Occupies(old.status)) Release(old);
      auto erase_from = [&](auto& index, const std::string& key) {
        auto list = index.find(key);
        if (list == index.end()) return;
        std::erase(list->second, old.id);
        if (list->second.empty()) index.erase(list);
      };
      if (!old.customer.empty()) erase_from(bookings_by_customer_, old.customer);
      if (!old.series.empty()) erase_from(series_, old.series);
      books_.ArchiveBookingMoney(old.id, IsOpen(old.status));
      bookings_.erase(b);
    }
    it = by_end_.erase(it);
  }
}

std::uint32_t TenantModel::Peak(const std::string& counter, const TimeRange& range, const BookingId& exclude,
                                const std::vector<Usage>& extra, Usage* clash) const {
  // Sweep over the usages overlapping `range`: +amount at start, -amount at
  // end (ends first at equal instants: ranges are half-open).
  std::vector<std::pair<TimeUs, std::int64_t>> steps;
  auto add = [&](const Usage& u) {
    if (u.booking == exclude || !u.range.Overlaps(range) || u.amount == 0) return;
    if (clash != nullptr && clash->amount == 0) *clash = u;
    steps.emplace_back(std::max(u.range.start, range.start), u.amount);
    steps.emplace_back(std::min(u.range.end, range.end), -static_cast<std::int64_t>(u.amount));
  };
  if (clash != nullptr) *clash = Usage{};
  if (auto c = counters_.find(counter); c != counters_.end()) {
    const auto& idx = c->second.by_start;
    for (auto it = idx.lower_bound(range.start - c->second.max_len); it != idx.end() && it->first < range.end;
         ++it) {
      add(it->second);
    }
  }
  for (const auto& u : extra) add(u);
  std::sort(steps.begin(), steps.end());
  std::int64_t level = 0, peak = 0;
  for (const auto& [t, delta] : steps) {
    level += delta;
    peak = std::max(peak, level);
  }
  return static_cast<std::uint32_t>(peak);
}

void TenantModel::Apply(Seq seq, std::uint64_t stream_version, TimeUs recorded_at,
                        const schema::PayloadUnion& ev) {
  position_ = seq;
  books_.Apply(ev, recorded_at);
  if (ApplyAccount(stream_version, ev)) return;
  auto booking = [&](const std::string& id) -> Booking* {
    auto it = bookings_.find(BookingId(id));
    return it == bookings_.end() ? nullptr : &it->second;
  };
  switch (ev.type) {
    case schema::Payload::TenantCreated: {
      const auto* e = ev.AsTenantCreated();
      name_ = e->name;
      created_ = recorded_at;
      zone_ = RecordedZone(e->zone_rules, e->time_zone);
      if (zone_ == nullptr) zone_ = UtcZone();  // an old log's zone this host lacks: held (bus)
      break;
    }
    case schema::Payload::ApiKeyCreated: {
      const auto* e = ev.AsApiKeyCreated();
      std::string hash(e->key_hash.begin(), e->key_hash.end());
      keys_[hash] =
          ApiKey{e->key_id, ParseRole(e->role).value_or(Role::kAuditor), 0, stream_version, e->label};
      break;
    }
    case schema::Payload::ApiKeyRevoked: {
      const auto* e = ev.AsApiKeyRevoked();
      std::erase_if(keys_, [&](const auto& entry) { return entry.second.id == e->key_id; });
      break;
    }
    case schema::Payload::ApiKeyRotated: {
      const auto* e = ev.AsApiKeyRotated();
      for (auto& [hash, key] : keys_) {
        if (key.id != e->key_id) continue;
        key.expires = e->expires_us;
        key.version = stream_version;
      }
      break;
    }
    case schema::Payload::ResourceCreated: {
      const auto* e = ev.AsResourceCreated();
      Resource r;
      r.id = ResourceId(e->resource_id);
      r.kind = ParseKind(e->kind).value_or(Kind::kRoom);
      r.name = e->name;
      r.capacity = std::max<std::uint32_t>(1, e->capacity);
      r.parent = ResourceId(e->parent_id);
      r.requires_qualification = e->requires_qualification;
      r.rules = Rules::AlwaysOpen();
      r.version = stream_version;
      if (!r.parent.get().empty()) {
        if (auto p = resources_.find(r.parent); p != resources_.end()) p->second.parts.push_back(r.id);
      }
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
    case schema::Payload::SessionScheduled: {
      const auto* e = ev.AsSessionScheduled();
      auto it = resources_.find(ResourceId(e->resource_id));
      if (it != resources_.end()) {
        it->second.sessions[e->session_id] = Session{e->session_id, {e->start_us, e->end_us}, e->seats};
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
      b.session = e->session_id;
      b.range = {e->start_us, e->end_us};
      b.blocked = {e->blocked_start_us, e->blocked_end_us};
      b.units = std::max<std::uint32_t>(1, e->units);
      for (const auto& a : e->addons) b.addons.push_back({a->addon_id, a->quantity});
      b.status = e->status == "requested" ? BookingStatus::kRequested
                 : e->status == "held"    ? BookingStatus::kHeld
                                          : BookingStatus::kConfirmed;
      b.customer = e->customer_id;
      b.group = e->group_id;
      b.right = e->right_id;
      if (b.right.empty()) {
        // Placed before usage rights existed (schema v1/v2).
        b.right = e->channel == "staff" ? "staff" : "open";
        if (b.right == "open") b.group = "public";
      }
      b.series = e->series_id;
      b.person = e->person_id;
      b.recipient.assign(e->recipient.begin(), e->recipient.end());
      if (!b.person.empty()) persons_.try_emplace(b.person, false);
      b.hold_until = e->hold_until_us;
      b.placed_at = e->placed_at_us;
      b.manage_token_hash.assign(e->manage_token_hash.begin(), e->manage_token_hash.end());
      b.version = stream_version;
      Take(b);
      by_end_.insert({b.blocked.end, b.id});
      if (b.status == BookingStatus::kHeld) holds_.insert({b.hold_until, b.id});
      if (!b.customer.empty()) bookings_by_customer_[b.customer].push_back(b.id);
      if (!b.series.empty()) series_[b.series].push_back(b.id);
      // Numbers are "B-<year>-<counter>"; the counter per year follows the log.
      int year = 0;
      unsigned long long n = 0;
      if (std::sscanf(b.number.c_str(), "B-%d-%llu", &year, &n) == 2) {
        auto& c = numbers_per_year_[year];
        if (n > c) c = n;
      }
      clock_ = std::max(clock_, b.placed_at);
      bookings_[b.id] = std::move(b);
      ArchiveEnded();
      break;
    }
    case schema::Payload::BookingCancelled: {
      if (Booking* b = booking(ev.AsBookingCancelled()->booking_id)) {
        SetStatus(*b, BookingStatus::kCancelled, stream_version);
      }
      break;
    }
    case schema::Payload::BookingApproved: {
      const auto* e = ev.AsBookingApproved();
      if (Booking* b = booking(e->booking_id)) {
        const bool held = e->status == "held";
        SetStatus(*b, held ? BookingStatus::kHeld : BookingStatus::kConfirmed, stream_version);
        if (held) {
          b->hold_until = e->hold_until_us;
          holds_.insert({b->hold_until, b->id});
        }
      }
      break;
    }
    case schema::Payload::BookingRejected:
      if (Booking* b = booking(ev.AsBookingRejected()->booking_id)) {
        SetStatus(*b, BookingStatus::kRejected, stream_version);
      }
      break;
    case schema::Payload::BookingConfirmed:
      if (Booking* b = booking(ev.AsBookingConfirmed()->booking_id)) {
        SetStatus(*b, BookingStatus::kConfirmed, stream_version);
      }
      break;
    case schema::Payload::BookingExpired:
      if (Booking* b = booking(ev.AsBookingExpired()->booking_id)) {
        SetStatus(*b, BookingStatus::kExpired, stream_version);
      }
      break;
    case schema::Payload::BookingCompleted: {
      const auto* e = ev.AsBookingCompleted();
      if (Booking* b = booking(e->booking_id)) {
        SetStatus(*b, e->outcome == "no_show" ? BookingStatus::kNoShow : BookingStatus::kCompleted,
                  stream_version);
      }
      break;
    }
    case schema::Payload::BookingRescheduled: {
      const auto* e = ev.AsBookingRescheduled();
      if (Booking* b = booking(e->booking_id)) {
        if (Occupies(b->status)) Release(*b);
        by_end_.erase({b->blocked.end, b->id});
        b->range = {e->start_us, e->end_us};
        b->blocked = {e->blocked_start_us, e->blocked_end_us};
        by_end_.insert({b->blocked.end, b->id});
        b->session = e->session_id;
        b->version = stream_version;
        if (Occupies(b->status)) Take(*b);
      }
      break;
    }
    case schema::Payload::SeriesPlaced:
      series_.try_emplace(ev.AsSeriesPlaced()->series_id);
      break;
    case schema::Payload::AddonSet: {
      const auto* e = ev.AsAddonSet();
      Addon a{e->addon_id, e->name, e->stock, {}, stream_version};
      for (const auto& o : e->offers) a.offers.push_back({ResourceId(o->resource_id), o->mandatory});
      addons_[a.id] = std::move(a);
      break;
    }
    case schema::Payload::GroupDefined:
      groups_.insert(ev.AsGroupDefined()->group_id);
      break;
    case schema::Payload::CustomerRegistered: {
      const auto* e = ev.AsCustomerRegistered();
      Customer c{e->customer_id, e->group_id, {}, stream_version, {}};
      customer_by_token_[std::string(e->token_hash.begin(), e->token_hash.end())] = c.id;
      customers_[c.id] = std::move(c);
      break;
    }
    case schema::Payload::CustomerBillingSet: {
      const auto* e = ev.AsCustomerBillingSet();
      if (auto it = customers_.find(e->customer_id); it != customers_.end()) {
        it->second.recipient.assign(e->recipient.begin(), e->recipient.end());
        it->second.version = stream_version;
      }
      break;
    }
    case schema::Payload::CustomerGroupChanged: {
      const auto* e = ev.AsCustomerGroupChanged();
      if (auto it = customers_.find(e->customer_id); it != customers_.end()) {
        it->second.group = e->group_id;
        it->second.version = stream_version;
      }
      break;
    }
    case schema::Payload::QualificationGranted: {
      const auto* e = ev.AsQualificationGranted();
      if (auto it = customers_.find(e->customer_id); it != customers_.end()) {
        it->second.qualifications[e->qualification] = e->valid_until_us;
        it->second.version = stream_version;
      }
      break;
    }
    case schema::Payload::QualificationRevoked: {
      const auto* e = ev.AsQualificationRevoked();
      if (auto it = customers_.find(e->customer_id); it != customers_.end()) {
        it->second.qualifications.erase(e->qualification);
        it->second.version = stream_version;
      }
      break;
    }
    case schema::Payload::RightGranted: {
      const auto* e = ev.AsRightGranted();
      Right r;
      r.id = e->right_id;
      r.resource = ResourceId(e->resource_id);
      r.group = e->group_id;
      r.may_book = e->may_book;
      r.needs_approval = e->needs_approval;
      r.hold = e->hold;
      r.quota = static_cast<TimeUs>(e->quota_minutes) * kUsPerMinute;
      r.quota_period = e->quota_period;
      r.basis = e->basis;
      r.valid_from = e->valid_from_us;
      r.valid_until = e->valid_until_us;
      rights_by_resource_[r.resource].push_back(r.id);
      rights_[r.id] = std::move(r);
      break;
    }
    case schema::Payload::RightRevoked:
      if (auto it = rights_.find(ev.AsRightRevoked()->right_id); it != rights_.end())
        it->second.revoked = true;
      break;
    case schema::Payload::PersonErased:
      persons_[ev.AsPersonErased()->person_id] = true;
      break;
    case schema::Payload::NotificationSent:
      notifications_.insert(ev.AsNotificationSent()->notification_id);
      break;
    case schema::Payload::CheckpointSigned:
      ++checkpoints_;
      last_checkpoint_record_ = seq;
      break;
    case schema::Payload::TenantSettingsSet:
      hold_ = ev.AsTenantSettingsSet()->hold_s * kUsPerSecond;
      settings_version_ = stream_version;
      break;
    case schema::Payload::HolidaysSet: {
      holidays_.clear();
      holidays_version_ = stream_version;
      for (const auto& h : ev.AsHolidaysSet()->holidays) holidays_[h->day] = h->name;
      break;
    }
    case schema::Payload::PublicSettingsSet: {
      const auto* e = ev.AsPublicSettingsSet();
      public_ =
          PublicSettings{e->allowed_origins, e->display_name, e->logo_url,   e->accent_color, e->privacy_url,
                         e->terms_url,       e->consent_de,   e->consent_en, stream_version};
      break;
    }
    default:  // the money events: books_ above
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

const Addon* TenantModel::FindAddon(const std::string& id) const {
  auto it = addons_.find(id);
  return it == addons_.end() ? nullptr : &it->second;
}

const Customer* TenantModel::FindCustomer(const std::string& id) const {
  auto it = customers_.find(id);
  return it == customers_.end() ? nullptr : &it->second;
}

const Customer* TenantModel::FindCustomerByToken(std::string_view token_hash) const {
  auto it = customer_by_token_.find(std::string(token_hash));
  return it == customer_by_token_.end() ? nullptr : FindCustomer(it->second);
}

const Right* TenantModel::FindRight(const std::string& id) const {
  auto it = rights_.find(id);
  return it == rights_.end() ? nullptr : &it->second;
}

std::vector<const Booking*> TenantModel::SeriesBookings(const std::string& series) const {
  std::vector<const Booking*> out;
  if (auto it = series_.find(series); it != series_.end()) {
    for (const auto& id : it->second) {
      if (const Booking* b = FindBooking(id)) out.push_back(b);
    }
  }
  std::sort(out.begin(), out.end(), [](const Booking* a, const Booking* b) { return a->range < b->range; });
  return out;
}

ResourceId TenantModel::RightsScope(const ResourceId& resource) const {
  ResourceId at = resource;
  // Composites are one level deep; the bound only guards against a cycle.
  for (int depth = 0; depth < 8; ++depth) {
    if (rights_by_resource_.count(at) != 0) return at;
    const Resource* r = FindResource(at);
    if (r == nullptr || r->parent.get().empty()) break;
    at = r->parent;
  }
  return resource;
}

std::optional<Right> TenantModel::ApplicableRight(const ResourceId& resource, const std::string& group,
                                                  TimeUs now) const {
  const ResourceId scope = RightsScope(resource);
  auto list = rights_by_resource_.find(scope);
  if (list == rights_by_resource_.end()) {
    Right open;
    open.id = "open";
    open.resource = resource;
    open.group = group;
    return open;
  }
  for (auto it = list->second.rbegin(); it != list->second.rend(); ++it) {
    const Right& r = rights_.at(*it);
    if (r.group == group && r.ValidAt(now)) return r;
  }
  return std::nullopt;
}

TimeUs TenantModel::UsedQuota(const std::string& customer, const ResourceId& resource, LocalDay first,
                              LocalDay last, const BookingId& exclude) const {
  TimeUs used = 0;
  auto it = bookings_by_customer_.find(customer);
  if (it == bookings_by_customer_.end()) return 0;
  const ResourceId scope = RightsScope(resource);
  for (const auto& id : it->second) {
    const Booking* b = FindBooking(id);
    if (b == nullptr || b->id == exclude || !Occupies(b->status)) continue;
    if (b->resource != resource && RightsScope(b->resource) != scope) continue;
    const LocalDay day = LocalDayOf(b->range.start, zone_);
    if (day >= first && day <= last) used += b->range.end - b->range.start;
  }
  return used;
}

std::string TenantModel::NextBookingNumber(int year) const { return BookingNumberAfter(year, 0); }

std::string TenantModel::BookingNumberAfter(int year, std::uint64_t n) const {
  auto it = numbers_per_year_.find(year);
  std::uint64_t next = (it == numbers_per_year_.end() ? 0 : it->second) + 1 + n;
  char buf[48];
  std::snprintf(buf, sizeof buf, "B-%04d-%06llu", year, static_cast<unsigned long long>(next));
  return buf;
}

Status FoldLog(const ledger::Log& log, const TenantId& tenant, Seq to, TenantModel* model,
               Sha256* last_hash) {
  constexpr std::size_t kChunk = 4096;
  std::vector<ledger::Record> chunk;
  for (Seq next = model->position() + 1; to == 0 || next <= to;) {
    chunk.clear();
    const std::size_t max = to == 0 ? kChunk : static_cast<std::size_t>(std::min<Seq>(kChunk, to - next + 1));
    if (Status s = log.Read(tenant, next, max, &chunk); !s.ok()) return s;
    for (const auto& r : chunk) {
      const schema::Envelope* env = ledger::DecodeEnvelope(r.bytes);
      if (env == nullptr || r.seq != next) {
        return {StatusCode::kCorruption, "tenant '" + tenant.get() + "': record " + std::to_string(next) +
                                             " cannot be decoded; run saalbuch-replay verify"};
      }
      schema::PayloadUnion payload;
      payload.type = env->payload_type();
      payload.value = schema::PayloadUnion::UnPack(env->payload(), env->payload_type(), nullptr);
      model->Apply(r.seq, env->stream_version(), env->recorded_at_us(), payload);
      if (last_hash != nullptr) *last_hash = r.hash;
      ++next;
    }
    if (chunk.size() < max) break;
  }
  return Status::Ok();
}

const ApiKey* TenantModel::FindKey(std::string_view id) const {
  for (const auto& [hash, key] : keys_) {
    if (key.id == id) return &key;
  }
  return nullptr;
}

const Account* TenantModel::FindAccount(const std::string& id) const {
  auto it = accounts_.find(id);
  return it == accounts_.end() ? nullptr : &it->second;
}

const Account* TenantModel::FindAccountByLogin(std::string_view login_hash) const {
  const Account* found = nullptr;
  for (const auto& [id, a] : accounts_) {
    if (a.login_hash != login_hash) continue;
    if (!a.disabled) return &a;
    found = &a;
  }
  return found;
}

bool TenantModel::ApplyAccount(std::uint64_t stream_version, const schema::PayloadUnion& ev) {
  auto bytes = [](const std::vector<std::uint8_t>& v) { return std::string(v.begin(), v.end()); };
  auto account = [&](const std::string& id) -> Account& {
    Account& a = accounts_[id];
    a.id = id;
    a.version = stream_version;
    return a;
  };
  switch (ev.type) {
    case schema::Payload::AccountInvited: {
      const auto* e = ev.AsAccountInvited();
      Account& a = account(e->account_id);
      a.role = ParseRole(e->role).value_or(Role::kAuditor);
      a.login_hash = bytes(e->login_hash);
      a.person = e->person;
      a.personal = bytes(e->personal);
      a.invite_hash = bytes(e->invite_hash);
      a.invite_expires = e->invite_expires_us;
      return true;
    }
    case schema::Payload::AccountPasswordSet: {
      const auto* e = ev.AsAccountPasswordSet();
      Account& a = account(e->account_id);
      a.credential = bytes(e->credential);
      a.invite_hash.clear();  // used: an invitation admits once
      a.invite_expires = 0;
      return true;
    }
    case schema::Payload::AccountRoleChanged: {
      const auto* e = ev.AsAccountRoleChanged();
      account(e->account_id).role = ParseRole(e->role).value_or(Role::kAuditor);
      return true;
    }
    case schema::Payload::AccountDisabled: {
      Account& a = account(ev.AsAccountDisabled()->account_id);
      a.disabled = true;
      a.sessions.clear();
      a.invite_hash.clear();
      return true;
    }
    case schema::Payload::AccountSignedIn: {
      const auto* e = ev.AsAccountSignedIn();
      Account& a = account(e->account_id);
      a.failures.clear();
      a.locked_until = 0;
      a.sessions[bytes(e->session_hash)] = e->expires_us;
      if (e->totp_step > 0) a.totp_step = e->totp_step;
      while (a.sessions.size() > Account::kMaxSessions) {
        auto oldest = std::min_element(a.sessions.begin(), a.sessions.end(),
                                       [](const auto& x, const auto& y) { return x.second < y.second; });
        a.sessions.erase(oldest);
      }
      return true;
    }
    case schema::Payload::AccountSignInFailed: {
      const auto* e = ev.AsAccountSignInFailed();
      Account& a = account(e->account_id);
      a.failures.push_back(e->at_us);
      if (a.failures.size() > Account::kMaxFailures) a.failures.erase(a.failures.begin());
      if (e->locked_until_us > 0) {
        a.locked_until = e->locked_until_us;
        a.failures.clear();
      }
      return true;
    }
    case schema::Payload::AccountTotpSet: {
      const auto* e = ev.AsAccountTotpSet();
      account(e->account_id).totp = bytes(e->secret);
      return true;
    }
    case schema::Payload::TotpPolicySet: {
      totp_roles_.clear();
      for (const auto& r : ev.AsTotpPolicySet()->roles) {
        if (auto role = ParseRole(r)) totp_roles_.insert(*role);
      }
      totp_policy_version_ = stream_version;
      return true;
    }
    case schema::Payload::AccountSignedOut: {
      const auto* e = ev.AsAccountSignedOut();
      Account& a = account(e->account_id);
      if (e->session_hash.empty()) {
        a.sessions.clear();
      } else {
        a.sessions.erase(bytes(e->session_hash));
      }
      return true;
    }
    default:
      return false;
  }
}

}  // namespace saalbuch::commands
