#include "formats/pdf.h"

#include <cairo-pdf.h>
#include <cairo.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <string_view>

#include "common/money.h"

namespace saalbuch::formats {
namespace {

// A4 in points, 20 mm margins; the last 50 pt hold the page number.
constexpr double kPageW = 595.276, kPageH = 841.89, kMargin = 56.69;
constexpr double kRight = kPageW - kMargin, kBottom = kPageH - 70;
constexpr double kBody = 9.5, kTable = 8.5, kSmall = 7.5, kTitle = 16;
// Right edges of the numeric columns; the description wraps left of kQty.
constexpr double kGross = kRight, kTax = kRight - 66, kNet = kRight - 132, kRate = kRight - 198,
                 kQty = kRight - 234, kDesc = kMargin + 24, kDescW = kQty - 62 - kDesc;
constexpr char kFont[] = "DejaVu Sans";

enum class Align { kLeft, kRight };

struct Destroy {
  void operator()(cairo_t* c) const { cairo_destroy(c); }
  void operator()(cairo_surface_t* s) const { cairo_surface_destroy(s); }
};

cairo_status_t Append(void* closure, const unsigned char* data, unsigned int length) {
  static_cast<std::string*>(closure)->append(reinterpret_cast<const char*>(data), length);
  return CAIRO_STATUS_SUCCESS;
}

std::string Rate(std::int32_t bp) {
  std::string s = std::to_string(bp / 100);
  if (bp % 100 != 0) {
    char frac[4];
    std::snprintf(frac, sizeof frac, "%02d", bp % 100);
    s += ',' + std::string(frac[1] == '0' ? std::string_view(frac, 1) : std::string_view(frac, 2));
  }
  return s + " %";
}

// Draws the document, or with draw == false only measures it: the first
// pass counts the pages so that every page can say "n/N".
class Layout {
 public:
  Layout(cairo_t* cr, const PdfDocument& d, int pages, bool draw)
      : cr_(cr), d_(d), pages_(pages), draw_(draw), symbol_(d.currency == "EUR" ? "€" : d.currency) {}

  int Run() {
    double top = 50;
    for (const std::string& l : d_.letterhead)
      Text(kRight, top += kSmall * 1.4, l, kSmall, false, Align::kRight);
    y_ = 150;
    for (const std::string& l : d_.recipient) Text(kMargin, y_ += kBody * 1.4, l, kBody);
    y_ = std::max(y_, top) + 40;
    Text(kMargin, y_, d_.title, kTitle, true);
    y_ += 8;
    Meta("Nummer", d_.number);
    Meta("Datum", d_.issued_on);
    if (!d_.due_on.empty()) Meta("Fällig am", d_.due_on);
    if (!d_.related.empty()) Text(kMargin, y_ += kBody * 1.5, d_.related, kBody);
    y_ += 8;
    for (const std::string& l : d_.intro) Text(kMargin, y_ += kBody * 1.5, l, kBody);
    y_ += 18;
    if (!d_.lines.empty()) {
      TableHeader();
      for (std::size_t i = 0; i < d_.lines.size(); ++i) Row(i + 1, d_.lines[i]);
    }
    Totals();
    if (!d_.lines.empty()) TaxSummary();
    y_ += 14;
    for (const std::string& l : d_.footer) {
      Ensure(kBody * 1.5, false);
      Text(kMargin, y_ += kBody * 1.5, l, kBody);
    }
    EndPage();
    return page_;
  }

 private:
  void Font(double size, bool bold) {
    cairo_select_font_face(cr_, kFont, CAIRO_FONT_SLANT_NORMAL,
                           bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(cr_, size);
  }
  double Width(std::string_view s, double size, bool bold) {
    Font(size, bold);
    cairo_text_extents_t e;
    cairo_text_extents(cr_, std::string(s).c_str(), &e);
    return e.x_advance;
  }
  void Text(double x, double y, std::string_view s, double size, bool bold = false, Align a = Align::kLeft,
            double gray = 0) {
    if (!draw_ || s.empty()) return;
    const double w = a == Align::kRight ? Width(s, size, bold) : 0;
    Font(size, bold);
    cairo_set_source_rgb(cr_, gray, gray, gray);
    cairo_move_to(cr_, x - w, y);
    cairo_show_text(cr_, std::string(s).c_str());
  }
  void Rule(double y) {
    if (!draw_) return;
    cairo_set_source_rgb(cr_, 0.6, 0.6, 0.6);
    cairo_set_line_width(cr_, 0.5);
    cairo_move_to(cr_, kMargin, y);
    cairo_line_to(cr_, kRight, y);
    cairo_stroke(cr_);
  }
  std::string Money(std::int64_t minor) { return FormatDecimalDe(minor) + " " + symbol_; }
  void Meta(std::string_view label, const std::string& value) {
    Text(kMargin, y_ += kBody * 1.5, label, kBody, false, Align::kLeft, 0.35);
    Text(kMargin + 70, y_, value, kBody);
  }

  // Words onto lines no wider than `width`; a single longer word keeps its line.
  std::vector<std::string> Wrap(const std::string& s, double width, double size) {
    std::vector<std::string> lines(1);
    std::size_t start = 0;
    while (start < s.size()) {
      std::size_t end = s.find(' ', start);
      if (end == std::string::npos) end = s.size();
      const std::string word = s.substr(start, end - start);
      const std::string joined = lines.back().empty() ? word : lines.back() + " " + word;
      if (lines.back().empty() || Width(joined, size, false) <= width) {
        lines.back() = joined;
      } else {
        lines.push_back(word);
      }
      start = end + 1;
    }
    return lines;
  }

  void TableHeader() {
    const double y = y_ += kTable * 1.4;
    Text(kMargin, y, "Pos.", kTable, true);
    Text(kDesc, y, "Beschreibung", kTable, true);
    Text(kQty, y, "Menge", kTable, true, Align::kRight);
    Text(kRate, y, "USt", kTable, true, Align::kRight);
    Text(kNet, y, "Netto", kTable, true, Align::kRight);
    Text(kTax, y, "Steuer", kTable, true, Align::kRight);
    Text(kGross, y, "Brutto", kTable, true, Align::kRight);
    Rule(y_ += 5);
  }

  void Row(std::size_t n, const PdfLine& l) {
    const std::vector<std::string> desc = Wrap(l.description, kDescW, kTable);
    const double h = desc.size() * kTable * 1.35 + (l.budget.empty() ? 0 : kSmall * 1.35) + 6;
    Ensure(h, true);
    double y = y_ + kTable * 1.35 + 2;
    Text(kMargin, y, std::to_string(n), kTable);
    Text(kQty, y, l.quantity, kTable, false, Align::kRight);
    Text(kRate, y, Rate(l.tax_rate_bp), kTable, false, Align::kRight);
    Text(kNet, y, Money(l.net), kTable, false, Align::kRight);
    Text(kTax, y, Money(l.tax), kTable, false, Align::kRight);
    Text(kGross, y, Money(l.gross), kTable, false, Align::kRight);
    for (std::size_t i = 0; i < desc.size(); ++i) Text(kDesc, y + i * kTable * 1.35, desc[i], kTable);
    if (!l.budget.empty())
      Text(kDesc, y + desc.size() * kTable * 1.35 - 1, l.budget, kSmall, false, Align::kLeft, 0.4);
    y_ += h;
  }

  void Totals() {
    Ensure(3 * kBody * 1.6 + 8, false);
    Rule(y_ += 2);
    if (!d_.tax_block) {
      Text(kNet - 60, y_ += kBody * 1.6, "Gesamtbetrag", kBody, true);
      Text(kGross, y_, Money(d_.total_gross), kBody, true, Align::kRight);
      return;
    }
    Text(kNet - 60, y_ += kBody * 1.6, "Summe netto", kBody);
    Text(kGross, y_, Money(d_.total_net), kBody, false, Align::kRight);
    Text(kNet - 60, y_ += kBody * 1.6, "Umsatzsteuer", kBody);
    Text(kGross, y_, Money(d_.total_tax), kBody, false, Align::kRight);
    Text(kNet - 60, y_ += kBody * 1.6, "Gesamtbetrag", kBody, true);
    Text(kGross, y_, Money(d_.total_gross), kBody, true, Align::kRight);
  }

  void TaxSummary() {
    std::map<std::int32_t, Taxed> by_rate;
    for (const PdfLine& l : d_.lines) {
      Taxed& t = by_rate[l.tax_rate_bp];
      t.net += l.net;
      t.tax += l.tax;
      t.gross += l.gross;
    }
    Ensure((by_rate.size() + 2) * kTable * 1.5 + 16, false);
    y_ += 16;
    Text(kMargin, y_ += kTable * 1.5, "Steuerübersicht", kTable, true);
    Text(kNet, y_, "Netto", kTable, true, Align::kRight);
    Text(kTax, y_, "Steuer", kTable, true, Align::kRight);
    Text(kGross, y_, "Brutto", kTable, true, Align::kRight);
    for (const auto& [rate, t] : by_rate) {
      Text(kMargin, y_ += kTable * 1.5, "USt " + Rate(rate), kTable);
      Text(kNet, y_, Money(t.net), kTable, false, Align::kRight);
      Text(kTax, y_, Money(t.tax), kTable, false, Align::kRight);
      Text(kGross, y_, Money(t.gross), kTable, false, Align::kRight);
    }
  }

  // Starts a new page when `h` more points do not fit on this one.
  void Ensure(double h, bool table_header) {
    if (y_ + h <= kBottom) return;
    EndPage();
    ++page_;
    y_ = 60;
    Text(kMargin, y_, d_.title + " " + d_.number + " – Fortsetzung", kSmall, false, Align::kLeft, 0.35);
    y_ += 16;
    if (table_header) TableHeader();
  }

  void EndPage() {
    Text(kRight, kPageH - 40, "Seite " + std::to_string(page_) + "/" + std::to_string(pages_), kSmall, false,
         Align::kRight, 0.35);
    if (draw_) cairo_show_page(cr_);
  }

  cairo_t* cr_;
  const PdfDocument& d_;
  const int pages_;
  const bool draw_;
  const std::string symbol_;
  double y_ = 0;
  int page_ = 1;
};

Status CheckFigures(const PdfDocument& d) {
  auto bad = [](const std::string& what) { return Status(StatusCode::kInvalidArgument, what); };
  if (!IsValidCurrency(d.currency)) return bad("unknown currency '" + d.currency + "'");
  if (d.total_net + d.total_tax != d.total_gross) {
    return bad("totals disagree: net " + FormatDecimal(d.total_net) + " + tax " + FormatDecimal(d.total_tax) +
               " != gross " + FormatDecimal(d.total_gross));
  }
  if (d.lines.empty()) return Status::Ok();
  Taxed sum;
  for (std::size_t i = 0; i < d.lines.size(); ++i) {
    const PdfLine& l = d.lines[i];
    if (l.net + l.tax != l.gross) return bad("line " + std::to_string(i + 1) + ": net + tax != gross");
    sum.net += l.net;
    sum.tax += l.tax;
    sum.gross += l.gross;
  }
  if (sum.net != d.total_net || sum.tax != d.total_tax || sum.gross != d.total_gross) {
    return bad("the lines add up to net " + FormatDecimal(sum.net) + ", tax " + FormatDecimal(sum.tax) +
               ", gross " + FormatDecimal(sum.gross) + " but the totals say " + FormatDecimal(d.total_net) +
               ", " + FormatDecimal(d.total_tax) + ", " + FormatDecimal(d.total_gross));
  }
  return Status::Ok();
}

std::string PdfDate(std::int64_t us) {
  using namespace std::chrono;
  const sys_seconds t = floor<seconds>(sys_time<microseconds>(microseconds(us)));
  const sys_days day = floor<days>(t);
  const year_month_day ymd{day};
  const hh_mm_ss<seconds> hms{t - day};
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02dZ", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                static_cast<int>(hms.seconds().count()));
  return buf;
}

}  // namespace

#if defined(__SANITIZE_ADDRESS__)
// fontconfig, which cairo asks for "DejaVu Sans", allocates its
// configuration once per process and never frees it: LeakSanitizer reports
// the same ~1 KB at exit whether one document was rendered or a hundred.
// Any program that renders PDFs under AddressSanitizer links this object
// and so gets the suppression; nothing of ours is hidden by it.
// NOLINTNEXTLINE(bugprone-reserved-identifier): the name is the sanitizer runtime's hook
extern "C" const char* __lsan_default_suppressions() { return "leak:libfontconfig.so\n"; }
#endif

Result<std::string> RenderPdf(const PdfDocument& d) {
  if (Status s = CheckFigures(d); !s.ok()) return s;
  std::string out;
  std::unique_ptr<cairo_surface_t, Destroy> surface(
      cairo_pdf_surface_create_for_stream(Append, &out, kPageW, kPageH));
  // Without these cairo stamps the current time; with them the bytes depend
  // on the input alone (cairo writes no /ID and names font subsets by content).
  const std::string date = PdfDate(d.created_at_us);
  cairo_pdf_surface_set_metadata(surface.get(), CAIRO_PDF_METADATA_CREATE_DATE, date.c_str());
  cairo_pdf_surface_set_metadata(surface.get(), CAIRO_PDF_METADATA_MOD_DATE, date.c_str());
  cairo_pdf_surface_set_metadata(surface.get(), CAIRO_PDF_METADATA_TITLE, (d.title + " " + d.number).c_str());
  cairo_pdf_surface_set_metadata(surface.get(), CAIRO_PDF_METADATA_CREATOR, "Saalbuch");
  std::unique_ptr<cairo_t, Destroy> cr(cairo_create(surface.get()));
  const int pages = Layout(cr.get(), d, 0, /*draw=*/false).Run();
  Layout(cr.get(), d, pages, /*draw=*/true).Run();
  // A drawing error puts the context, not the surface, into an error state;
  // unchecked, the PDF would silently lack the rest of the text.
  const cairo_status_t drawn = cairo_status(cr.get());
  if (drawn == CAIRO_STATUS_INVALID_STRING) {
    return Status(StatusCode::kInvalidArgument, "a text of the document is not valid UTF-8");
  }
  if (drawn != CAIRO_STATUS_SUCCESS) {
    return Status(StatusCode::kIOError, std::string("cairo: ") + cairo_status_to_string(drawn));
  }
  cr.reset();
  cairo_surface_finish(surface.get());
  const cairo_status_t status = cairo_surface_status(surface.get());
  if (status != CAIRO_STATUS_SUCCESS) {
    return Status(StatusCode::kIOError, std::string("cairo: ") + cairo_status_to_string(status));
  }
  return out;
}

}  // namespace saalbuch::formats
