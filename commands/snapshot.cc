#include "commands/snapshot.h"

#include <cereal/archives/portable_binary.hpp>
#include <cereal/types/map.hpp>
#include <cereal/types/optional.hpp>
#include <cereal/types/set.hpp>
#include <cereal/types/string.hpp>
#include <cereal/types/unordered_map.hpp>
#include <cereal/types/utility.hpp>
#include <cereal/types/vector.hpp>
#include <streambuf>
#include <type_traits>

namespace saalbuch {

// cereal finds these by argument-dependent lookup. Every member, in
// declaration order; see the format rule in snapshot.h.
template <class A, class T, class Tag>
T save_minimal(const A& /*ar*/, const NamedType<T, Tag>& v) {
  return v.get();
}
// (The value's type is not deduced: cereal probes for load_minimal with a
// placeholder that converts to anything.)
template <class A, class T, class Tag>
void load_minimal(const A& /*ar*/, NamedType<T, Tag>& v, const std::type_identity_t<T>& value) {
  v = NamedType<T, Tag>(value);
}
template <class A>
void serialize(A& ar, TimeRange& r) {
  ar(r.start, r.end);
}
template <class A>
void serialize(A& ar, WeeklyInterval& w) {
  ar(w.weekday, w.start_minute, w.end_minute);
}
template <class A>
void serialize(A& ar, DayInterval& d) {
  ar(d.start_minute, d.end_minute);
}

namespace commands {

template <class A>
void serialize(A& ar, Closure& c) {
  ar(c.first, c.last, c.reason);
}
template <class A>
void serialize(A& ar, Rules& r) {
  ar(r.opening, r.special_days, r.closures, r.buffer_before, r.buffer_after, r.granularity, r.min_duration,
     r.max_duration, r.lead_time, r.horizon);
}
template <class A>
void serialize(A& ar, Session& s) {
  ar(s.id, s.range, s.seats);
}
template <class A>
void serialize(A& ar, Resource& r) {
  ar(r.id, r.kind, r.name, r.capacity, r.parent, r.parts, r.requires_qualification, r.sessions, r.rules,
     r.version);
}
template <class A>
void serialize(A& ar, AddonOffer& o) {
  ar(o.resource, o.mandatory);
}
template <class A>
void serialize(A& ar, Addon& a) {
  ar(a.id, a.name, a.stock, a.offers, a.version);
}
template <class A>
void serialize(A& ar, Customer& c) {
  ar(c.id, c.group, c.qualifications, c.version, c.recipient);
}
template <class A>
void serialize(A& ar, Right& r) {
  ar(r.id, r.resource, r.group, r.may_book, r.needs_approval, r.hold, r.quota, r.quota_period, r.basis,
     r.valid_from, r.valid_until, r.revoked);
}
template <class A>
void serialize(A& ar, AddonLine& l) {
  ar(l.addon, l.quantity);
}
template <class A>
void serialize(A& ar, Booking& b) {
  ar(b.id, b.number, b.resource, b.session, b.range, b.blocked, b.units, b.addons, b.status, b.customer,
     b.group, b.right, b.series, b.person, b.recipient, b.hold_until, b.placed_at, b.manage_token_hash,
     b.version);
}
template <class A>
void serialize(A& ar, Usage& u) {
  ar(u.range, u.amount, u.booking);
}
template <class A>
void serialize(A& ar, ApiKey& k) {
  ar(k.id, k.role, k.expires, k.version, k.label);
}
template <class A>
void serialize(A& ar, Account& a) {
  ar(a.id, a.role, a.login_hash, a.person, a.personal, a.invite_hash, a.invite_expires, a.credential,
     a.disabled, a.failures, a.locked_until, a.sessions, a.version, a.totp, a.totp_step);
}
template <class A>
void serialize(A& ar, TariffVersion& v) {
  ar(v.valid_from, v.unit, v.amount, v.gross, v.tax_rate_bp, v.description, v.product, v.cost_center);
}
template <class A>
void serialize(A& ar, Tariff& t) {
  ar(t.id, t.target, t.group, t.currency, t.versions);
}
template <class A>
void serialize(A& ar, CancellationTier& t) {
  ar(t.min_notice, t.fee_bp);
}
template <class A>
void serialize(A& ar, FinanceSettings& s) {
  ar(s.currency, s.payment_terms_days, s.tiers, s.letterhead, s.accounts, s.kassenzeichen_prefix,
     s.datev_consultant, s.datev_client, s.version);
}
template <class A>
void serialize(A& ar, PublicSettings& s) {
  ar(s.allowed_origins, s.display_name, s.logo_url, s.accent_color, s.privacy_url, s.terms_url, s.consent_de,
     s.consent_en, s.version);
}
template <class A>
void serialize(A& ar, Line& l) {
  ar(l.description, l.item, l.tariff, l.unit, l.quantity_milli, l.unit_amount, l.gross_priced, l.tax_rate_bp,
     l.net, l.tax, l.gross, l.product, l.cost_center);
}
template <class A>
void serialize(A& ar, Totals& t) {
  ar(t.net, t.tax, t.gross);
}
template <class A>
void serialize(A& ar, Invoice& i) {
  ar(i.id, i.number, i.booking, i.customer, i.lines, i.totals, i.due, i.issued, i.kassenzeichen,
     i.line_credited, i.credited, i.captured, i.refunded, i.payments);
}
template <class A>
void serialize(A& ar, Payment& p) {
  ar(p.ref, p.invoice, p.method, p.amount, p.refunded);
}
template <class A>
void serialize(A& ar, Refund& r) {
  ar(r.id, r.payment, r.invoice, r.amount, r.state, r.method);
}
template <class A>
void serialize(A& ar, PayoutSeen& p) {
  ar(p.net, p.day, p.on_bank);
}
template <class A>
void serialize(A& ar, Books::BankCredit& c) {
  ar(c.amount, c.day, c.remittance);
}

// The private members of TenantModel and Books.
struct SnapshotCodec {
  template <class A>
  static void Books(A& ar, commands::Books& b) {
    ar(b.settings_, b.tariffs_, b.tariff_by_target_, b.invoices_, b.invoice_by_booking_, b.payments_,
       b.refunds_, b.numbers_, b.files_, b.failed_payments_, b.bank_lines_, b.settled_in_, b.payouts_,
       b.closed_through_, b.refund_by_provider_, b.refunds_by_payment_, b.unmatched_bank_, b.orphans_,
       b.recipients_);
  }
  // Everything but the zone and the counters, whose types need care.
  template <class A>
  static void Plain(A& ar, TenantModel& m) {
    ar(m.name_, m.position_, m.hold_, m.settings_version_, m.keys_, m.resources_, m.bookings_, m.holds_,
       m.addons_, m.groups_, m.customers_, m.customer_by_token_, m.bookings_by_customer_, m.rights_,
       m.rights_by_resource_, m.series_, m.persons_, m.notifications_, m.checkpoints_,
       m.last_checkpoint_record_, m.numbers_per_year_, m.holidays_, m.holidays_version_, m.clock_, m.public_,
       m.created_, m.accounts_, m.totp_roles_, m.totp_policy_version_);
    Books(ar, m.books_);
  }

  static void Save(cereal::PortableBinaryOutputArchive& ar, const TenantModel& model) {
    auto& m = const_cast<TenantModel&>(model);  // cereal's serialize() takes non-const; it only reads here
    Plain(ar, m);
    ar(std::string(m.zone_ == nullptr ? "" : m.zone_->Rules()));
    ar(cereal::make_size_tag(static_cast<cereal::size_type>(m.counters_.size())));
    for (auto& [name, c] : m.counters_) {
      ar(name, c.max_len, cereal::make_size_tag(static_cast<cereal::size_type>(c.by_start.size())));
      for (auto& [start, usage] : c.by_start) ar(start, usage);
    }
  }

  static void Load(cereal::PortableBinaryInputArchive& ar, TenantModel& m) {
    Plain(ar, m);
    std::string zone;
    ar(zone);
    m.zone_ = nullptr;
    if (!zone.empty()) {
      m.zone_ = ZoneOf(zone);  // rules; a name in snapshots written before
      if (m.zone_ == nullptr) throw std::runtime_error("unknown time zone '" + zone.substr(0, 64) + "'");
    }
    cereal::size_type n = 0;
    ar(cereal::make_size_tag(n));
    for (cereal::size_type i = 0; i < n; ++i) {
      std::string name;
      TenantModel::Counter c;
      cereal::size_type usages = 0;
      ar(name, c.max_len, cereal::make_size_tag(usages));
      // In stored order, also among equal starts (cereal's own multimap
      // loader would reverse those, and the first clash a refusal names
      // would change).
      for (cereal::size_type u = 0; u < usages; ++u) {
        TimeUs start = 0;
        Usage usage;
        ar(start, usage);
        c.by_start.emplace_hint(c.by_start.end(), start, std::move(usage));
      }
      m.counters_.emplace(std::move(name), std::move(c));
    }
    for (const auto& [id, b] : m.bookings_) m.by_end_.insert({b.blocked.end, id});
  }
};

namespace {

constexpr std::string_view kMagic = "SBWM";
constexpr std::size_t kHeaderSize = 4 + 4 + 8 + 32 + 32;

void PutLittleEndian(std::string* out, std::uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

std::uint64_t GetLittleEndian(std::string_view in, int bytes) {
  std::uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(in[i]);
  return v;
}

// An output stream buffer appending to a string, and an input one reading a
// string_view in place: no copy of a body that may be large.
class StringSink final : public std::streambuf {
 public:
  explicit StringSink(std::string* out) : out_(out) {}

 protected:
  std::streamsize xsputn(const char* s, std::streamsize n) override {
    out_->append(s, static_cast<std::size_t>(n));
    return n;
  }
  int_type overflow(int_type c) override {
    if (!traits_type::eq_int_type(c, traits_type::eof())) out_->push_back(traits_type::to_char_type(c));
    return traits_type::not_eof(c);
  }

 private:
  std::string* out_;
};

class ViewSource final : public std::streambuf {
 public:
  explicit ViewSource(std::string_view in) {
    char* p = const_cast<char*>(in.data());  // never written: no put area
    setg(p, p, p + in.size());
  }
};

}  // namespace

std::string EncodeSnapshot(const TenantModel& model, const Sha256& chain_hash) {
  std::string body;
  {
    StringSink sink(&body);
    std::ostream os(&sink);
    cereal::PortableBinaryOutputArchive ar(os);
    SnapshotCodec::Save(ar, model);
  }
  std::string out(kMagic);
  out.reserve(kHeaderSize + body.size());
  PutLittleEndian(&out, kSnapshotFormat, 4);
  PutLittleEndian(&out, model.position(), 8);
  out.append(AsBytes(chain_hash));
  out.append(AsBytes(Sha256Of(body)));
  out.append(body);
  return out;
}

Result<SnapshotHeader> ReadSnapshotHeader(std::string_view bytes) {
  if (bytes.size() < kHeaderSize || bytes.substr(0, 4) != kMagic) {
    return Status(StatusCode::kCorruption, "not a write-model snapshot");
  }
  SnapshotHeader h;
  h.format = static_cast<std::uint32_t>(GetLittleEndian(bytes.substr(4), 4));
  h.seq = GetLittleEndian(bytes.substr(8), 8);
  std::copy_n(bytes.begin() + 16, 32, h.chain_hash.begin());
  return h;
}

Result<TenantModel> DecodeSnapshot(std::string_view bytes) {
  auto header = ReadSnapshotHeader(bytes);
  if (!header.ok()) return header.status();
  if (header->format != kSnapshotFormat) {
    return Status(StatusCode::kInvalidArgument, "snapshot format " + std::to_string(header->format) +
                                                    ", this build reads format " +
                                                    std::to_string(kSnapshotFormat));
  }
  const std::string_view body = bytes.substr(kHeaderSize);
  if (AsBytes(Sha256Of(body)) != bytes.substr(48, 32)) {
    return Status(StatusCode::kCorruption, "snapshot checksum mismatch");
  }
  TenantModel m;
  try {
    ViewSource source(body);
    std::istream is(&source);
    cereal::PortableBinaryInputArchive ar(is);
    SnapshotCodec::Load(ar, m);
    if (is.peek() != std::char_traits<char>::eof()) throw std::runtime_error("bytes after the model");
  } catch (const std::exception& e) {
    return Status(StatusCode::kCorruption, std::string("snapshot does not decode: ") + e.what());
  }
  if (m.position() != header->seq)
    return Status(StatusCode::kCorruption, "snapshot header and body disagree");
  return m;
}

}  // namespace commands
}  // namespace saalbuch
