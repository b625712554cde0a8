// The read side: projections folded from a tenant's log, and the queries
// that read them. Key grammar: projections/README.md.
//
// Seven projections, each with its own checkpoint written in the same batch
// as its updates, and a version whose change rebuilds it from seq 1:
//   catalog      — the tenant, resources, add-ons, groups, customers, rights
//   availability — opening rules, sessions and what bookings take per counter
//   bookings     — every booking with its history; indexes for staff lists
//   outbox       — notifications to send (integrations/notifier.h sends them)
//   finance      — invoices, credit notes, payments, refunds, the journal
//                  with balances, open items, revenue, reconciliation
//   usage        — per month, resource and customer group: bookings, booked
//                  time, what happened to them, revenue (statistics)
//   doors        — per booking the door code it needs and what the lock
//                  provider did (integrations/doors.h)
#pragma once

#include <nlohmann/json.hpp>

#include <functional>

#include "common/result.h"
#include "common/types.h"
#include "ledger/log.h"
#include "projections/availability.h"
#include "projections/store.h"

namespace saalbuch::projections {

struct ProjectionInfo {
  const char* name;
  char tag;     // key-space letter after the tenant prefix
  int version;  // bump to rebuild from seq 1
};
inline constexpr ProjectionInfo kProjections[] = {
    {"catalog", 'C', 5}, {"availability", 'A', 3}, {"bookings", 'B', 2}, {"outbox", 'O', 3},
    {"finance", 'F', 3}, {"usage", 'U', 2},        {"doors", 'D', 1}};

// The lowest checkpoint of the tenant's projections (0 = nothing folded).
Result<Seq> LowestCheckpoint(const KvView& kv, const TenantId& tenant);

// Folds record `seq` into every projection whose checkpoint is below `seq`
// and advances those checkpoints. Pure apart from reads through `txn`.
Status FoldRecord(const TenantId& tenant, Seq seq, const schema::Envelope& env, Txn* txn);

// Folds the tenant's log from its lowest checkpoint up to `upto` (inclusive;
// 0 = the head) into `store`. Used by the replay tool and by tests.
// `progress`, when set, is called after every chunk of 4096 records with the
// position reached.
Status FoldInto(MemoryStore* store, const ledger::Log& log, const TenantId& tenant, Seq upto = 0,
                const std::function<void(Seq)>& progress = {});

// Every projection key of `tenant` with its value (for byte-for-byte
// comparison between a live store and a replay).
Result<std::map<std::string, std::string>> TenantKeys(const KvView& kv, const TenantId& tenant);

// ---- Queries. kNotFound for unknown tenants and ids. ----

Result<nlohmann::json> QueryTenant(const KvView& kv, const TenantId& tenant);
// Resources by id, paginated: {"items": [...], "next_cursor": "..."|null}.
Result<nlohmann::json> QueryResources(const KvView& kv, const TenantId& tenant, std::size_t limit = 500,
                                      std::string_view cursor = {});
// A resource with the add-ons offered with it.
Result<nlohmann::json> QueryResource(const KvView& kv, const TenantId& tenant, const ResourceId& id);

// Catalog documents of one kind as an array (at most 10000): 'a' add-ons,
// 'g' customer groups, 'i' usage rights, 'u' customers.
Result<nlohmann::json> QueryList(const KvView& kv, const TenantId& tenant, char kind);
Result<nlohmann::json> QueryCustomer(const KvView& kv, const TenantId& tenant, const std::string& id);

// The latest signed checkpoint: {"position","note","verifier_key",
// "signed_at","record"}; kNotFound before the first.
Result<nlohmann::json> QueryCheckpoint(const KvView& kv, const TenantId& tenant);

// Pending notifications of `tenant` due at `now`, oldest first (at most
// `limit`): {"id","booking","kind","due","seq","cmd","mail"}. `mail` is what
// the mail says, as of the event that caused it (`seq`, of command `cmd`;
// later records of the same command may still add to it, e.g. the fee and
// refund of a cancellation): {"booking","number","resource",
// "resource_name","tenant_name","zone","start","end" (µs),"status","units",
// "hold_until" (µs, while held), "money": {"currency","number","gross",
// "owed","paid","open","refund"} (minor units; with an invoice)}.
Result<std::vector<nlohmann::json>> QueryOutbox(const KvView& kv, const TenantId& tenant, TimeUs now,
                                                std::size_t limit);

struct BookingView {
  nlohmann::json doc;             // the booking with its history
  std::string manage_token_hash;  // raw SHA-256; empty for staff bookings
};
Result<BookingView> QueryBooking(const KvView& kv, const TenantId& tenant, const BookingId& id);

// The booking documents of `person` (at most `limit`, by booking id); none
// for an unknown person. The contact stays sealed ("personal_sealed").
Result<std::vector<nlohmann::json>> QueryPersonBookings(const KvView& kv, const TenantId& tenant,
                                                        const std::string& person, std::size_t limit);

// The retention rule's view of a tenant's persons (those not erased): per
// person the last time a booking of theirs mattered — its end, or for a
// cancelled, rejected or expired booking the earlier of its end and the
// time it stopped — how many bookings they have, and whether an invoice of
// one of them is not settled (open ≠ 0). By person id.
struct RetentionPerson {
  std::string person;
  TimeUs last = 0;
  std::size_t bookings = 0;
  bool open_invoice = false;
};
Result<std::vector<RetentionPerson>> QueryRetention(const KvView& kv, const TenantId& tenant);

// Bookings that start within `window`, by start, optionally only of one
// status, resource or customer; paginated like the lists below (a page may
// hold fewer than `limit` items when many bookings are filtered out; follow
// next_cursor until it is null).
struct BookingFilter {
  std::string status;
  std::string resource;
  std::string customer;
  TimeRange window;
};
Result<nlohmann::json> QueryBookings(const KvView& kv, const TenantId& tenant, const BookingFilter& filter,
                                     std::size_t limit, std::string_view cursor);

// Bookings of `resource` that start within `window`, by start, paginated:
// {"items": [...], "next_cursor": "..."|null}.
Result<nlohmann::json> QueryResourceBookings(const KvView& kv, const TenantId& tenant,
                                             const ResourceId& resource, TimeRange window, std::size_t limit,
                                             std::string_view cursor);

// ---- Finance (finance_queries.cc). Amounts are minor units. ----

// The finance settings with the chart of accounts and closed period.
Result<nlohmann::json> QueryFinanceSettings(const KvView& kv, const TenantId& tenant);
// One finance document: 'i' invoice by id, 'c' credit note by number, 'p'
// payment by reference, 'r' refund by id, 't' tariff by id, 'x' import by id.
Result<nlohmann::json> QueryFinanceDoc(const KvView& kv, const TenantId& tenant, char kind,
                                       const std::string& id);
// Which document a number names: {"kind": "invoice"|"credit_note"|"receipt", "id", "invoice"}.
Result<nlohmann::json> QueryDocumentNumber(const KvView& kv, const TenantId& tenant,
                                           const std::string& number);
// Documents of one kind (as QueryFinanceDoc), paginated by id.
Result<nlohmann::json> QueryFinanceList(const KvView& kv, const TenantId& tenant, char kind,
                                        std::size_t limit, std::string_view cursor);
// The booking an invoice belongs to: {"number","resource","start_us","end_us"}.
Result<nlohmann::json> QueryFinanceBooking(const KvView& kv, const TenantId& tenant,
                                           const std::string& booking);

// Journal entries with a date in [from, to] ("YYYY-MM-DD", inclusive; empty:
// open-ended), in log order, paginated.
Result<nlohmann::json> QueryJournal(const KvView& kv, const TenantId& tenant, const std::string& from,
                                    const std::string& to, std::size_t limit, std::string_view cursor);
// Every account with debit, credit and balance (debit minus credit), and the
// trial balance (the sum of all balances: zero).
Result<nlohmann::json> QueryBalances(const KvView& kv, const TenantId& tenant);
// Invoices with an open amount (> 0 owed, < 0 to pay back), by due date.
Result<nlohmann::json> QueryOpenItems(const KvView& kv, const TenantId& tenant, const std::string& customer);
// Usage statistics (the usage projection) per month in [from, to]
// ("YYYY-MM", both required), resource (`resource`; empty: all) and
// customer group ("public", a group id, "internal" for staff's own
// bookings): {"time_zone","from","to","items":[{"month","resource","group",
// "placed","bookings","booked_minutes","unit_minutes","approved",
// "rejected","expired","cancelled","no_show","revenue":{"net","gross",
// "currency"},"open_minutes","capacity","utilisation"}]}, by month,
// resource and group. `open_minutes`: the resource's opening time in the
// month in the tenant's zone (an event: its sessions'); `utilisation`: the
// share of it (of a pool's units × time, of an event's seats × time) this
// group booked, 4 decimals, null when it is never open. kInvalidArgument for
// bad months, kNotFound for an unknown tenant.
Result<nlohmann::json> QueryUsage(const KvView& kv, const AvailabilityIndex& index, const TenantId& tenant,
                                  const std::string& from, const std::string& to,
                                  const std::string& resource);
// The public booking funnel for months [from, to] ("YYYY-MM"), optionally of
// one resource: {"time_zone","from","to","items":[{"month","resource",
// "views","attempts","refused":{code: n},"refused_total","booked","paid"}]}
// by month and resource (usage_fold.cc says which month each counts in).
// Errors as QueryUsage.
Result<nlohmann::json> QueryFunnel(const KvView& kv, const TenantId& tenant, const std::string& from,
                                   const std::string& to, const std::string& resource);
// Net revenue per month and resource or add-on, months in [from, to] ("YYYY-MM").
Result<nlohmann::json> QueryRevenue(const KvView& kv, const TenantId& tenant, const std::string& from,
                                    const std::string& to);
// Reconciliation: imports, matches, differences, duplicates, and what is
// still unmatched (provider payments in no payout, payouts not on the bank
// statement, bank lines matched to nothing).
Result<nlohmann::json> QueryReconciliation(const KvView& kv, const TenantId& tenant);
// Refunds to hand to the payment provider, oldest first (at most `limit`).
Result<std::vector<nlohmann::json>> QueryPendingRefunds(const KvView& kv, const TenantId& tenant,
                                                        std::size_t limit);

// ---- Doors (doors_fold.cc) ----

// The tenant's door settings and doors: {"before_minutes","after_minutes",
// "reveal_minutes","doors":{resource: access point}}.
Result<nlohmann::json> QueryDoorSettings(const KvView& kv, const TenantId& tenant);

// A booking the lock provider still has to serve: `issue` a code valid at
// access_point over [from, to) (or change the one it holds), else revoke
// whatever it may hold for the booking.
struct DoorWork {
  std::string booking;
  std::string person;  // whose vault key seals the code; empty: none
  bool issue = false;
  std::string access_point;
  TimeUs from = 0;
  TimeUs to = 0;
  std::string grant;  // the provider's id of the code it holds, if recorded
};
// The pending bookings, by id, at most `limit`.
Result<std::vector<DoorWork>> QueryDoorWork(const KvView& kv, const TenantId& tenant, std::size_t limit);

// Door states for staff: index 'q' the pending bookings, 'f' those whose
// last call failed; {"items":[{"booking","resource","start","state","pending",
// "access_point","valid_from","valid_to","failure"}]}, by booking id.
Result<nlohmann::json> QueryDoors(const KvView& kv, const TenantId& tenant, char index, std::size_t limit);

// One booking's door: the view above plus "shown_from" (when the booker may
// see the code) and the sealed code; nullopt: the booking has no door.
struct DoorState {
  nlohmann::json view;
  std::string person;       // the vault key that sealed the code
  std::string sealed_code;  // empty: no code held
  TimeUs start = 0;
  TimeUs from = 0;
  TimeUs reveal = 0;  // the booker sees the code from here
};
Result<std::optional<DoorState>> QueryDoor(const KvView& kv, const TenantId& tenant,
                                           const BookingId& booking);

}  // namespace saalbuch::projections
