// The outbox projection ('O'): notifications to send, one per booking event
// of a booking whose placement carried contact data. Each entry carries what
// its mail says, as of the event that caused it (the booking's number,
// resource and its name, times, status, hold, and the money of its invoice),
// so that a mail sent late still tells what happened then. An invitation to
// the back office is an entry too (kind "invitation": the invitee's sealed
// data, role and expiry), dropped when the invitation is used or the
// account disabled before it went out. Everything comes from the log;
// nothing is read from another projection, which may stand at another
// position. Grammar: projections/README.md.
#include <algorithm>
#include <cstdio>
#include <functional>

#include "common/crypto.h"
#include "projections/fold_internal.h"

namespace saalbuch::projections {

using nlohmann::json;

namespace {

// One record folded into the outbox.
class OutboxFold {
 public:
  OutboxFold(const TenantId& t, Seq seq, const schema::Envelope& env, Txn* txn)
      : t_(t), seq_(seq), env_(env), txn_(txn), at_(env.recorded_at_us()) {}

  Status Apply();

 private:
  // Keys are built with Cat: GCC 12 at -O3 reports a false -Wrestrict on
  // "literal" + std::string (PR 105329).
  std::string K(std::string_view kind, std::string_view id = {}) const { return Key(t_, 'O', Cat(kind, id)); }
  void PutJson(std::string_view kind, std::string_view id, const json& j) {
    txn_->Put(K(kind, id), j.dump());
  }

  Status Placed(const schema::BookingPlaced& e);
  // The booking's facts changed (`change`); then a mail of `kind` (none when
  // empty), ending a pending reminder when `ends_hold`.
  Status Booking(const std::string& booking, const char* kind, bool ends_hold,
                 const std::function<void(json&)>& change);
  // An invoice of a booking with contact data changed (`change`); `refund`:
  // money this record sends back.
  Status Invoice(const std::string& invoice, std::int64_t refund, const std::function<void(json&)>& change);

  Result<json> Facts(const std::string& booking) const;  // null: no contact data
  Result<json> Mail(const std::string& booking, const json& facts) const;
  std::string Enqueue(const std::string& booking, const std::string& kind, TimeUs due, const json& mail,
                      const std::string& suffix);
  // Entries of this command for `booking` (to add what later records of the
  // same command tell, e.g. the fee and refund after a cancellation).
  Result<std::vector<std::string>> SameCommand(const std::string& booking) const;
  Status RememberCommand(const std::string& booking, const std::string& id);
  Status RefreshEntry(const std::string& id, const json& mail, std::int64_t refund);
  Status DropExpiring(const std::string& booking);
  // A door code issued or changed: its mail (the sealed code beside the
  // booking's facts) is due when the booker may see it, replacing one of
  // an earlier code still waiting; a revoked code's mail is dropped.
  Status DoorCode(const schema::DoorCodeIssued& e);
  Status DropDoorMail(const std::string& booking);
  // A new reveal time: door mails still waiting are due at it.
  Status DoorReveal(std::uint32_t minutes);

  const TenantId& t_;
  Seq seq_;
  const schema::Envelope& env_;
  Txn* txn_;
  TimeUs at_;
};

Result<json> OutboxFold::Facts(const std::string& booking) const { return GetJson(txn_, K("b", booking)); }

// The mail's content as of now: the booking's facts with the tenant's and the
// resource's names and the invoice's money.
Result<json> OutboxFold::Mail(const std::string& booking, const json& facts) const {
  auto tenant = GetJson(txn_, K("t"));
  if (!tenant.ok()) return tenant.status();
  json mail = facts;
  mail["booking"] = booking;
  mail["tenant_name"] = tenant->is_object() ? tenant->value("name", t_.get()) : t_.get();
  mail["zone"] = tenant->is_object() ? tenant->value("zone", "UTC") : "UTC";
  auto resource = GetJson(txn_, K("n", facts.value("resource", "")));
  if (!resource.ok()) return resource.status();
  mail["resource_name"] = resource->is_object() ? resource->value("name", facts.value("resource", ""))
                                                : facts.value("resource", "");
  mail.erase("invoice");
  if (facts.contains("invoice")) {
    auto inv = GetJson(txn_, K("i", facts.value("invoice", "")));
    if (!inv.ok()) return inv.status();
    if (inv->is_object()) {
      const std::int64_t gross = inv->value("gross", std::int64_t{0});
      const std::int64_t owed = gross - inv->value("credited", std::int64_t{0});
      const std::int64_t kept =
          inv->value("captured", std::int64_t{0}) - inv->value("refunded", std::int64_t{0});
      mail["money"] = {{"currency", inv->value("currency", "EUR")},
                       {"number", inv->value("number", "")},
                       {"gross", gross},
                       {"owed", owed},
                       {"paid", kept},
                       {"open", owed - kept},
                       {"refund", 0}};
    }
  }
  return mail;
}

std::string OutboxFold::Enqueue(const std::string& booking, const std::string& kind, TimeUs due,
                                const json& mail, const std::string& suffix) {
  char num[32];
  std::snprintf(num, sizeof num, "n-%020llu", static_cast<unsigned long long>(seq_));
  std::string id(num);
  id += suffix;
  PutJson("q", id,
          {{"id", id},
           {"booking", booking},
           {"kind", kind},
           {"due", due},
           {"seq", seq_},
           {"cmd", Str(env_.command_id())},
           {"mail", mail}});
  return id;
}

Result<std::vector<std::string>> OutboxFold::SameCommand(const std::string& booking) const {
  auto last = GetJson(txn_, K("l", booking));
  if (!last.ok()) return last.status();
  std::vector<std::string> ids;
  if (last->is_object() && last->value("cmd", "") == Str(env_.command_id())) {
    for (const auto& id : (*last)["ids"]) ids.push_back(id.get<std::string>());
  }
  return ids;
}

Status OutboxFold::RememberCommand(const std::string& booking, const std::string& id) {
  auto ids = SameCommand(booking);
  if (!ids.ok()) return ids.status();
  json list = json::array();
  for (const auto& i : *ids) list.push_back(i);
  list.push_back(id);
  PutJson("l", booking, {{"cmd", Str(env_.command_id())}, {"ids", list}});
  return Status::Ok();
}

// Replaces an entry's mail (kind, due and id stay); `refund` adds to the
// money sent back by the entry's own command.
Status OutboxFold::RefreshEntry(const std::string& id, const json& mail, std::int64_t refund) {
  auto entry = GetJson(txn_, K("q", id));
  if (!entry.ok()) return entry.status();
  if (!entry->is_object()) return Status::Ok();  // sent already
  json fresh = mail;
  if (fresh.contains("money") && (*entry)["mail"].contains("money")) {
    fresh["money"]["refund"] = (*entry)["mail"]["money"].value("refund", std::int64_t{0}) + refund;
  } else if (fresh.contains("money")) {
    fresh["money"]["refund"] = refund;
  }
  if (entry->value("kind", "") == "expiring") fresh["status"] = "held";
  (*entry)["mail"] = std::move(fresh);
  (*entry)["seq"] = seq_;
  (*entry)["cmd"] = Str(env_.command_id());
  PutJson("q", id, *entry);
  return Status::Ok();
}

Status OutboxFold::DropExpiring(const std::string& booking) {
  auto pending = txn_->Get(K("e", booking));
  if (!pending.ok()) return pending.status();
  if (pending->has_value()) {
    txn_->Delete(K("q", **pending));
    txn_->Delete(K("e", booking));
  }
  return Status::Ok();
}

Status OutboxFold::DropDoorMail(const std::string& booking) {
  auto pending = txn_->Get(K("d", booking));
  if (!pending.ok()) return pending.status();
  if (pending->has_value()) {
    txn_->Delete(K("q", **pending));
    txn_->Delete(K("d", booking));
  }
  return Status::Ok();
}

Status OutboxFold::DoorReveal(std::uint32_t minutes) {
  PutJson("r", {}, {{"reveal", minutes}});
  const std::string prefix = K("d");
  std::vector<std::string> ids;
  Status s = txn_->Scan(prefix, PrefixEnd(prefix), [&](std::string_view, std::string_view v) {
    ids.emplace_back(v);
    return true;
  });
  if (!s.ok()) return s;
  for (const auto& id : ids) {
    auto entry = GetJson(txn_, K("q", id));
    if (!entry.ok()) return entry.status();
    if (!entry->is_object()) continue;
    const TimeUs start = (*entry)["mail"].value("start", at_);
    (*entry)["due"] = std::max(at_, start - TimeUs{minutes} * 60'000'000);
    PutJson("q", id, *entry);
  }
  return Status::Ok();
}

Status OutboxFold::DoorCode(const schema::DoorCodeIssued& e) {
  const std::string booking = Str(e.booking_id());
  auto facts = Facts(booking);
  if (!facts.ok()) return facts.status();
  if (!facts->is_object()) return Status::Ok();  // no contact data: no mail
  if (Status s = DropDoorMail(booking); !s.ok()) return s;
  auto mail = Mail(booking, *facts);
  if (!mail.ok()) return mail.status();
  auto settings = GetJson(txn_, K("r"));
  if (!settings.ok()) return settings.status();
  const TimeUs reveal = (settings->is_object() ? settings->value("reveal", 2880) : 2880) * TimeUs{60'000'000};
  const auto* code = e.code();
  (*mail)["door"] = {
      {"access_point", Str(e.access_point())},
      {"from", e.valid_from_us()},
      {"to", e.valid_to_us()},
      {"person", Str(e.person_id())},
      {"code", code == nullptr ? std::string() : ToHex(std::string(code->begin(), code->end()))}};
  const TimeUs due = std::max(at_, facts->value("start", at_) - reveal);
  txn_->Put(K("d", booking), Enqueue(booking, "door", due, *mail, "-door"));
  return Status::Ok();
}

Status OutboxFold::Placed(const schema::BookingPlaced& e) {
  if (Str(e.person_id()).empty() || e.personal() == nullptr) return Status::Ok();
  const std::string id = Str(e.booking_id());
  const std::string status = Str(e.status()).empty() ? "confirmed" : Str(e.status());
  json facts = {{"number", Str(e.number())}, {"resource", Str(e.resource_id())},
                {"start", e.start_us()},     {"end", e.end_us()},
                {"status", status},          {"units", std::max<std::uint32_t>(1, e.units())}};
  if (status == "held") facts["hold_until"] = e.hold_until_us();
  PutJson("b", id, facts);
  const char* kind = status == "requested" ? "received" : status == "held" ? "held" : "confirmed";
  return Booking(id, kind, false, [](json&) {});
}

Status OutboxFold::Booking(const std::string& booking, const char* kind, bool ends_hold,
                           const std::function<void(json&)>& change) {
  auto facts = Facts(booking);
  if (!facts.ok()) return facts.status();
  if (!facts->is_object()) return Status::Ok();
  change(*facts);
  if (facts->value("status", "") != "held") facts->erase("hold_until");
  PutJson("b", booking, *facts);
  if (ends_hold) {
    if (Status s = DropExpiring(booking); !s.ok()) return s;
  }
  auto mail = Mail(booking, *facts);
  if (!mail.ok()) return mail.status();
  if (kind != nullptr) {
    if (Status s = RememberCommand(booking, Enqueue(booking, kind, at_, *mail, "")); !s.ok()) return s;
  }
  // A hold that starts here gets a reminder when three quarters of it have
  // passed; one already pending shows the booking as it is now.
  auto pending = txn_->Get(K("e", booking));
  if (!pending.ok()) return pending.status();
  if (pending->has_value()) return RefreshEntry(**pending, *mail, 0);
  if (facts->value("status", "") == "held" && kind != nullptr) {
    const TimeUs until = facts->value("hold_until", at_);
    json reminder = *mail;
    const std::string id = Enqueue(booking, "expiring", until - (until - at_) / 4, reminder, "-expiring");
    txn_->Put(K("e", booking), id);
    return RememberCommand(booking, id);
  }
  return Status::Ok();
}

Status OutboxFold::Invoice(const std::string& invoice, std::int64_t refund,
                           const std::function<void(json&)>& change) {
  auto inv = GetJson(txn_, K("i", invoice));
  if (!inv.ok()) return inv.status();
  if (!inv->is_object()) return Status::Ok();  // not of a booking with contact data
  change(*inv);
  PutJson("i", invoice, *inv);
  const std::string booking = inv->value("booking", "");
  auto facts = Facts(booking);
  if (!facts.ok()) return facts.status();
  if (!facts->is_object()) return Status::Ok();
  auto mail = Mail(booking, *facts);
  if (!mail.ok()) return mail.status();
  auto same = SameCommand(booking);
  if (!same.ok()) return same.status();
  for (const auto& id : *same) {
    if (Status s = RefreshEntry(id, *mail, refund); !s.ok()) return s;
  }
  auto pending = txn_->Get(K("e", booking));
  if (!pending.ok()) return pending.status();
  if (pending->has_value() && std::find(same->begin(), same->end(), **pending) == same->end()) {
    return RefreshEntry(**pending, *mail, 0);
  }
  return Status::Ok();
}

Status OutboxFold::Apply() {
  auto add = [](const char* field, std::int64_t amount) {
    return [=](json& inv) { inv[field] = inv.value(field, std::int64_t{0}) + amount; };
  };
  switch (env_.payload_type()) {
    case schema::Payload::TenantCreated: {
      const auto* e = env_.payload_as_TenantCreated();
      PutJson("t", {}, {{"name", Str(e->name())}, {"zone", Str(e->time_zone())}});
      break;
    }
    case schema::Payload::ResourceCreated: {
      const auto* e = env_.payload_as_ResourceCreated();
      PutJson("n", Str(e->resource_id()), {{"name", Str(e->name())}});
      break;
    }
    case schema::Payload::BookingPlaced:
      return Placed(*env_.payload_as_BookingPlaced());
    case schema::Payload::BookingApproved: {
      const auto* e = env_.payload_as_BookingApproved();
      const bool held = Str(e->status()) == "held";
      return Booking(Str(e->booking_id()), "approved", false, [&](json& f) {
        f["status"] = held ? "held" : "confirmed";
        if (held) f["hold_until"] = e->hold_until_us();
      });
    }
    case schema::Payload::BookingRejected:
      return Booking(Str(env_.payload_as_BookingRejected()->booking_id()), "rejected", true,
                     [](json& f) { f["status"] = "rejected"; });
    case schema::Payload::BookingConfirmed:
      return Booking(Str(env_.payload_as_BookingConfirmed()->booking_id()), "confirmed", true,
                     [](json& f) { f["status"] = "confirmed"; });
    case schema::Payload::BookingCancelled:
      return Booking(Str(env_.payload_as_BookingCancelled()->booking_id()), "cancelled", true,
                     [](json& f) { f["status"] = "cancelled"; });
    case schema::Payload::BookingExpired:
      return Booking(Str(env_.payload_as_BookingExpired()->booking_id()), "expired", true,
                     [](json& f) { f["status"] = "expired"; });
    case schema::Payload::BookingCompleted: {
      const bool no_show = Str(env_.payload_as_BookingCompleted()->outcome()) == "no_show";
      return Booking(Str(env_.payload_as_BookingCompleted()->booking_id()), nullptr, true,
                     [&](json& f) { f["status"] = no_show ? "no_show" : "completed"; });
    }
    case schema::Payload::BookingRescheduled: {
      const auto* e = env_.payload_as_BookingRescheduled();
      return Booking(Str(e->booking_id()), "rescheduled", false, [&](json& f) {
        f["start"] = e->start_us();
        f["end"] = e->end_us();
      });
    }
    case schema::Payload::InvoiceIssued: {
      const auto* e = env_.payload_as_InvoiceIssued();
      const std::string booking = Str(e->booking_id());
      auto facts = Facts(booking);
      if (!facts.ok()) return facts.status();
      if (!facts->is_object()) break;
      (*facts)["invoice"] = Str(e->invoice_id());
      PutJson("b", booking, *facts);
      PutJson("i", Str(e->invoice_id()),
              {{"booking", booking},
               {"number", Str(e->number())},
               {"currency", Str(e->currency())},
               {"gross", e->gross()}});
      return Invoice(Str(e->invoice_id()), 0, [](json&) {});
    }
    case schema::Payload::CreditNoteIssued: {
      const auto* e = env_.payload_as_CreditNoteIssued();
      return Invoice(Str(e->invoice_id()), 0, add("credited", e->gross()));
    }
    case schema::Payload::PaymentCaptured: {
      const auto* e = env_.payload_as_PaymentCaptured();
      return Invoice(Str(e->invoice_id()), 0, add("captured", e->amount()));
    }
    case schema::Payload::RefundRequested: {
      const auto* e = env_.payload_as_RefundRequested();
      auto inv = GetJson(txn_, K("i", Str(e->invoice_id())));
      if (!inv.ok()) return inv.status();
      if (!inv->is_object()) break;
      PutJson("u", Str(e->refund_id()), {{"invoice", Str(e->invoice_id())}, {"amount", e->amount()}});
      return Invoice(Str(e->invoice_id()), e->amount(), add("refunded", e->amount()));
    }
    case schema::Payload::RefundSettled: {
      const auto* e = env_.payload_as_RefundSettled();
      if (Str(e->outcome()) != "failed") break;
      auto refund = GetJson(txn_, K("u", Str(e->refund_id())));
      if (!refund.ok()) return refund.status();
      if (!refund->is_object()) break;
      return Invoice(refund->value("invoice", ""), 0,
                     add("refunded", -refund->value("amount", std::int64_t{0})));
    }
    case schema::Payload::AccountInvited: {
      const auto* e = env_.payload_as_AccountInvited();
      auto tenant = GetJson(txn_, K("t"));
      if (!tenant.ok()) return tenant.status();
      const std::string account = Str(e->account_id());
      char num[48];
      std::snprintf(num, sizeof num, "n-%020llu-invitation", static_cast<unsigned long long>(seq_));
      const std::string id(num);
      const auto* sealed = e->personal();
      const std::string personal =
          sealed == nullptr ? std::string() : std::string(sealed->begin(), sealed->end());
      PutJson("q", id,
              {{"id", id},
               {"kind", "invitation"},
               {"account", account},
               {"due", at_},
               {"seq", seq_},
               {"cmd", Str(env_.command_id())},
               {"mail",
                {{"tenant_name", tenant->is_object() ? tenant->value("name", t_.get()) : t_.get()},
                 {"zone", tenant->is_object() ? tenant->value("zone", "UTC") : "UTC"},
                 {"role", Str(e->role())},
                 {"expires", e->invite_expires_us()},
                 {"person", Str(e->person())},
                 {"personal", ToHex(personal)}}}});
      txn_->Put(K("a", account), id);
      break;
    }
    case schema::Payload::AccountPasswordSet:
    case schema::Payload::AccountDisabled: {
      // An invitation used or withdrawn before its mail went out: no mail.
      const std::string account = env_.payload_type() == schema::Payload::AccountPasswordSet
                                      ? Str(env_.payload_as_AccountPasswordSet()->account_id())
                                      : Str(env_.payload_as_AccountDisabled()->account_id());
      auto pending = txn_->Get(K("a", account));
      if (!pending.ok()) return pending.status();
      if (pending->has_value()) {
        txn_->Delete(K("q", **pending));
        txn_->Delete(K("a", account));
      }
      break;
    }
    case schema::Payload::DoorSettingsSet:
      return DoorReveal(env_.payload_as_DoorSettingsSet()->reveal_min());
    case schema::Payload::DoorCodeIssued:
      return DoorCode(*env_.payload_as_DoorCodeIssued());
    case schema::Payload::DoorCodeRevoked:
      return DropDoorMail(Str(env_.payload_as_DoorCodeRevoked()->booking_id()));
    case schema::Payload::NotificationSent: {
      const auto* e = env_.payload_as_NotificationSent();
      txn_->Delete(K("q", Str(e->notification_id())));
      if (Str(e->kind()) == "door" || Str(e->kind()) == "skipped-door") {
        txn_->Delete(K("d", Str(e->booking_id())));
      }
      if (Str(e->kind()) == "expiring" || Str(e->kind()) == "skipped-expiring") {
        txn_->Delete(K("e", Str(e->booking_id())));
      }
      break;
    }
    default:
      break;
  }
  return Status::Ok();
}

}  // namespace

Status FoldOutbox(const TenantId& t, Seq seq, const schema::Envelope& env, Txn* txn) {
  return OutboxFold(t, seq, env, txn).Apply();
}

}  // namespace saalbuch::projections
