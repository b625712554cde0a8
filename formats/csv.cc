#include "formats/csv.h"

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

}  // namespace saalbuch::formats
