// The books as plain CSV for spreadsheets: the journal, the open items and
// the usage statistics.
//
//   file   = header CRLF *(row CRLF)
//   field  = bare / DQUOTE *(any but DQUOTE / 2DQUOTE) DQUOTE
//            ; quoted only when it holds ';', '"', CR or LF
//   row    = field *(";" field)
// UTF-8 without BOM; amounts with a decimal point and two decimals ("25.00").
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/time.h"
#include "formats/journal.h"

namespace saalbuch::formats {

// "date;document;text;account;debit;credit;position", one row per line of
// each entry in the given order; date YYYY-MM-DD, position the entry's seq.
std::string JournalCsv(const std::vector<JournalEntry>& entries);

// An invoice with money still owed.
struct OpenItem {
  std::string number;  // the invoice number
  std::string customer;
  TimeUs due = 0;             // written in UTC, RFC 3339
  std::int64_t gross = 0;     // minor units
  std::int64_t open = 0;      // minor units still owed
  std::string currency;       // ISO 4217
  std::string kassenzeichen;  // the reference a payer quotes
  std::string recipient;      // the invoice recipient's name; may be empty
};

// "number;customer;due;gross;open;currency;kassenzeichen;recipient", one row per item
// in the given order.
std::string OpenItemsCsv(const std::vector<OpenItem>& items);

// One month of one resource and customer group (projections::QueryUsage).
struct UsageRow {
  std::string month, resource, group;  // month YYYY-MM
  std::int64_t placed = 0, bookings = 0, booked_minutes = 0, unit_minutes = 0;
  std::int64_t approved = 0, rejected = 0, expired = 0, cancelled = 0, no_show = 0;
  std::int64_t net = 0, gross = 0;  // minor units
  std::string currency;
  std::optional<std::int64_t> open_minutes;  // none: the resource is unknown
  std::optional<std::uint32_t> capacity;     // none: an event (seats per session)
  std::optional<double> utilisation;         // none: never open
};

// "month;resource;group;placed;bookings;booked_hours;unit_hours;open_hours;
// capacity;utilisation;approved;rejected;expired;cancelled;no_show;net;
// gross;currency", one row per item in the given order; hours with two
// decimals, utilisation with four (0.2500 is a quarter), an unknown value
// empty.
std::string UsageCsv(const std::vector<UsageRow>& rows);

// One month of one resource's public booking funnel (projections::QueryFunnel).
struct FunnelRow {
  std::string month, resource;
  std::int64_t views = 0, attempts = 0, refused = 0, booked = 0, paid = 0;
  std::vector<std::pair<std::string, std::int64_t>> refusals;  // by code
};
// "month;resource;views;attempts;refused;booked;paid;refusals", refusals as
// "code=n" joined by ", ".
std::string FunnelCsv(const std::vector<FunnelRow>& rows);

}  // namespace saalbuch::formats
