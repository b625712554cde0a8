#include "formats/csv.h"

#include <cmath>
#include <cstdio>

#include "common/money.h"

namespace saalbuch::formats {
namespace {

std::string CsvField(const std::string& s) {
  if (s.find_first_of(";\"\r\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char ch : s) {
    if (ch == '"') out += '"';
    out += ch;
  }
  return out + "\"";
}

// Minutes as hours with two decimals ("1.50").
std::string Hours(std::int64_t minutes) {
  return FormatDecimal(static_cast<std::int64_t>(std::llround(static_cast<double>(minutes) * 100.0 / 60.0)));
}

}  // namespace

std::string JournalCsv(const std::vector<JournalEntry>& entries) {
  std::string out = "date;document;text;account;debit;credit;position\r\n";
  for (const auto& e : entries) {
    for (const auto& l : e.lines) {
      out += FormatLocalDay(e.date) + ";" + CsvField(e.document) + ";" + CsvField(e.text) + ";" + l.account +
             ";" + FormatDecimal(l.debit) + ";" + FormatDecimal(l.credit) + ";" + std::to_string(e.seq) +
             "\r\n";
    }
  }
  return out;
}

std::string OpenItemsCsv(const std::vector<OpenItem>& items) {
  std::string out = "number;customer;due;gross;open;currency;kassenzeichen;recipient\r\n";
  for (const auto& i : items) {
    out += CsvField(i.number) + ";" + CsvField(i.customer) + ";" + FormatUtc(i.due) + ";" +
           FormatDecimal(i.gross) + ";" + FormatDecimal(i.open) + ";" + i.currency + ";" +
           CsvField(i.kassenzeichen) + ";" + CsvField(i.recipient) + "\r\n";
  }
  return out;
}

std::string UsageCsv(const std::vector<UsageRow>& rows) {
  std::string out =
      "month;resource;group;placed;bookings;booked_hours;unit_hours;open_hours;capacity;utilisation;approved;"
      "rejected;expired;cancelled;no_show;net;gross;currency\r\n";
  for (const auto& r : rows) {
    std::string utilisation;
    if (r.utilisation) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.4f", *r.utilisation);
      utilisation = buf;
    }
    out += r.month + ";" + CsvField(r.resource) + ";" + CsvField(r.group) + ";" + std::to_string(r.placed) +
           ";" + std::to_string(r.bookings) + ";" + Hours(r.booked_minutes) + ";" + Hours(r.unit_minutes) +
           ";" + (r.open_minutes ? Hours(*r.open_minutes) : "") + ";" +
           (r.capacity ? std::to_string(*r.capacity) : "") + ";" + utilisation + ";" +
           std::to_string(r.approved) + ";" + std::to_string(r.rejected) + ";" + std::to_string(r.expired) +
           ";" + std::to_string(r.cancelled) + ";" + std::to_string(r.no_show) + ";" + FormatDecimal(r.net) +
           ";" + FormatDecimal(r.gross) + ";" + r.currency + "\r\n";
  }
  return out;
}

std::string FunnelCsv(const std::vector<FunnelRow>& rows) {
  std::string out = "month;resource;views;attempts;refused;booked;paid;refusals\r\n";
  for (const auto& r : rows) {
    std::string refusals;
    for (const auto& [code, n] : r.refusals) {
      refusals += (refusals.empty() ? "" : ", ") + code + "=" + std::to_string(n);
    }
    out += r.month + ";" + CsvField(r.resource) + ";" + std::to_string(r.views) + ";" +
           std::to_string(r.attempts) + ";" + std::to_string(r.refused) + ";" + std::to_string(r.booked) +
           ";" + std::to_string(r.paid) + ";" + CsvField(refusals) + "\r\n";
  }
  return out;
}

}  // namespace saalbuch::formats
