// The tenant's settings for its public side: allowed browser origins and how
// the widget and the manage page present the tenant.
#include <algorithm>
#include <cctype>
#include <set>

#include "commands/decide_internal.h"

namespace saalbuch::commands::detail {
namespace {

using nlohmann::json;

// Field errors in the shape http/ reports decoding errors in, so that a
// client sees one kind of 422 whichever side found the problem.
class Problems {
 public:
  void Add(std::string field, std::string problem) {
    fields_.push_back({{"field", std::move(field)}, {"problem", std::move(problem)}});
  }
  bool empty() const { return fields_.empty(); }
  Rejection Rejected() const {
    return Reject(Refusal::kUnprocessable, "validation_failed", "the request has invalid fields",
                  {{"fields", fields_}});
  }

 private:
  json fields_ = json::array();
};

char Lower(char ch) { return static_cast<char>(std::tolower(static_cast<unsigned char>(ch))); }

std::string Lowered(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), Lower);
  return out;
}

bool IsDigit(char ch) { return ch >= '0' && ch <= '9'; }
bool IsHex(char ch) { return IsDigit(ch) || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F'); }

// A DNS name (ASCII; IDNs in their xn-- form), an IPv4 address (which has
// the same shape) or a bracketed IPv6 address.
bool ValidHost(std::string_view host) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    const std::string_view inner = host.substr(1, host.size() - 2);
    return inner.size() >= 2 && inner.size() <= 45 && inner.find(':') != std::string_view::npos &&
           std::all_of(inner.begin(), inner.end(),
                       [](char ch) { return IsHex(ch) || ch == ':' || ch == '.'; });
  }
  if (host.empty() || host.size() > 253) return false;
  std::size_t start = 0;
  for (;;) {
    const std::size_t dot = host.find('.', start);
    const std::string_view label = host.substr(start, dot == std::string_view::npos ? dot : dot - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') return false;
    const bool ok = std::all_of(label.begin(), label.end(), [](char ch) {
      const char c = Lower(ch);
      return (c >= 'a' && c <= 'z') || IsDigit(c) || c == '-';
    });
    if (!ok) return false;
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

// Splits "scheme://authority<rest>" with scheme http or https; false when
// it is not such a URL. `rest` starts with '/', '?', '#' or is empty.
bool SplitUrl(std::string_view url, std::string* scheme, std::string_view* authority,
              std::string_view* rest) {
  const std::size_t colon = url.find("://");
  if (colon == std::string_view::npos) return false;
  *scheme = Lowered(url.substr(0, colon));
  if (*scheme != "http" && *scheme != "https") return false;
  const std::string_view after = url.substr(colon + 3);
  const std::size_t end = after.find_first_of("/?#");
  *authority = after.substr(0, end);
  *rest = end == std::string_view::npos ? std::string_view() : after.substr(end);
  return true;
}

// host[:port] with a valid host and a port 1–65535; *host and *port (0:
// none) get the parts.
bool SplitAuthority(std::string_view authority, std::string_view* host, int* port) {
  if (authority.find('@') != std::string_view::npos) return false;  // no user information
  const std::size_t bracket = authority.rfind(']');
  const std::size_t colon = authority.rfind(':');
  *port = 0;
  *host = authority;
  if (colon != std::string_view::npos && (bracket == std::string_view::npos || colon > bracket)) {
    const std::string_view digits = authority.substr(colon + 1);
    if (digits.empty() || digits.size() > 5 || !std::all_of(digits.begin(), digits.end(), IsDigit))
      return false;
    *port = std::stoi(std::string(digits));
    if (*port < 1 || *port > 65535) return false;
    *host = authority.substr(0, colon);
  }
  return ValidHost(*host);
}

// The canonical form of a browser origin as browsers send it in `Origin`
// (RFC 6454: lower-case scheme and host, no default port), or "" with
// *problem set.
std::string CanonicalOrigin(std::string_view s, std::string* problem) {
  std::string scheme;
  std::string_view authority, rest, host;
  int port = 0;
  if (!SplitUrl(s, &scheme, &authority, &rest)) {
    *problem = "must start with http:// or https://";
    return "";
  }
  if (!rest.empty()) {
    *problem = "an origin has no path, query or fragment (not even a trailing '/')";
    return "";
  }
  if (!SplitAuthority(authority, &host, &port)) {
    *problem = "must be scheme://host[:port] with a valid host name or address (IDNs as xn--)";
    return "";
  }
  std::string out = scheme + "://" + Lowered(host);
  const bool default_port = (scheme == "https" && port == 443) || (scheme == "http" && port == 80);
  if (port != 0 && !default_port) out += ":" + std::to_string(port);
  return out;
}

// An absolute http(s) URL of printable ASCII (other characters
// percent-encoded), without user information or characters that cannot
// stand in a URL unencoded.
bool ValidUrl(std::string_view url) {
  std::string scheme;
  std::string_view authority, rest, host;
  int port = 0;
  if (!SplitUrl(url, &scheme, &authority, &rest) || !SplitAuthority(authority, &host, &port)) return false;
  return std::all_of(rest.begin(), rest.end(), [](char ch) {
    return ch > 0x20 && ch < 0x7f && std::string_view("\"<>\\^`{|}").find(ch) == std::string_view::npos;
  });
}

// Valid UTF-8 without control characters (newlines only where `multiline`).
bool ValidText(std::string_view s, bool multiline) {
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      if ((c < 0x20 && !(multiline && c == '\n')) || c == 0x7f) return false;
      ++i;
      continue;
    }
    std::size_t n = 0;
    std::uint32_t cp = 0;
    if ((c & 0xe0) == 0xc0) {
      n = 1;
      cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      n = 2;
      cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + n >= s.size()) return false;
    for (std::size_t k = 1; k <= n; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3f);
    }
    static constexpr std::uint32_t kMin[] = {0, 0x80, 0x800, 0x10000};
    if (cp < kMin[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    if (cp >= 0x80 && cp < 0xa0) return false;  // C1 controls
    i += n + 1;
  }
  return true;
}

json Nullable(const std::string& s) { return s.empty() ? json(nullptr) : json(s); }

// The shape of `public` in GET /v1/tenants/{tenant} (projections/catalog_fold.cc).
json PublicSettingsJson(const PublicSettings& s) {
  return {{"allowed_origins", s.allowed_origins},
          {"display_name", Nullable(s.display_name)},
          {"logo_url", Nullable(s.logo_url)},
          {"accent_color", Nullable(s.accent_color)},
          {"privacy_url", Nullable(s.privacy_url)},
          {"terms_url", Nullable(s.terms_url)},
          {"consent", {{"de", Nullable(s.consent_de)}, {"en", Nullable(s.consent_en)}}},
          {"version", s.version}};
}

}  // namespace

Decision DecideSetPublicSettings(const TenantModel& m, const Context& ctx, const SetPublicSettings& c) {
  const PublicSettings& in = c.settings;
  Problems problems;
  PublicSettings out;
  if (in.allowed_origins.size() > kMaxPublicOrigins) {
    problems.Add("allowed_origins", "at most " + std::to_string(kMaxPublicOrigins) + " origins");
  }
  std::set<std::string> seen;
  for (std::size_t i = 0; i < in.allowed_origins.size() && i < kMaxPublicOrigins; ++i) {
    const std::string field = "allowed_origins[" + std::to_string(i) + "]";
    std::string problem;
    if (in.allowed_origins[i].size() > kMaxOriginBytes) {
      problems.Add(field, "longer than " + std::to_string(kMaxOriginBytes) + " bytes");
      continue;
    }
    std::string origin = CanonicalOrigin(in.allowed_origins[i], &problem);
    if (origin.empty()) {
      problems.Add(field, problem);
    } else if (!seen.insert(origin).second) {
      problems.Add(field, "listed twice (" + origin + ")");
    } else {
      out.allowed_origins.push_back(std::move(origin));
    }
  }
  if (in.display_name.size() > kMaxDisplayNameBytes || !ValidText(in.display_name, false)) {
    problems.Add("display_name", "at most " + std::to_string(kMaxDisplayNameBytes) +
                                     " bytes of text without control characters");
  }
  out.display_name = in.display_name;
  const std::pair<const char*, const std::string*> urls[] = {
      {"logo_url", &in.logo_url}, {"privacy_url", &in.privacy_url}, {"terms_url", &in.terms_url}};
  for (const auto& [name, url] : urls) {
    if (url->empty()) continue;
    if (url->size() > kMaxPublicUrlBytes || !ValidUrl(*url)) {
      problems.Add(name, "must be an absolute http:// or https:// URL of at most " +
                             std::to_string(kMaxPublicUrlBytes) + " bytes (non-ASCII percent-encoded)");
    }
  }
  out.logo_url = in.logo_url;
  out.privacy_url = in.privacy_url;
  out.terms_url = in.terms_url;
  if (!in.accent_color.empty()) {
    const std::string& a = in.accent_color;
    if (a.size() != 7 || a[0] != '#' || !std::all_of(a.begin() + 1, a.end(), IsHex)) {
      problems.Add("accent_color", "must be a colour #rrggbb");
    }
    out.accent_color = Lowered(a);
  }
  const std::pair<const char*, const std::string*> texts[] = {{"consent.de", &in.consent_de},
                                                              {"consent.en", &in.consent_en}};
  for (const auto& [name, text] : texts) {
    if (text->size() > kMaxConsentBytes || !ValidText(*text, true)) {
      problems.Add(name, "at most " + std::to_string(kMaxConsentBytes) +
                             " bytes of plain text (newlines allowed, no other control characters)");
    }
  }
  out.consent_de = in.consent_de;
  out.consent_en = in.consent_en;
  if (!problems.empty()) return problems.Rejected();

  out.version = m.public_settings().version + 1;
  schema::PublicSettingsSetT e;
  e.allowed_origins = out.allowed_origins;
  e.display_name = out.display_name;
  e.logo_url = out.logo_url;
  e.accent_color = out.accent_color;
  e.privacy_url = out.privacy_url;
  e.terms_url = out.terms_url;
  e.consent_de = out.consent_de;
  e.consent_en = out.consent_en;
  auto d = Draft(ctx, "tenant/public", out.version);
  d.payload.Set(std::move(e));
  Acceptance a;
  a.events.push_back(std::move(d));
  a.reply = PublicSettingsJson(out);
  return a;
}

}  // namespace saalbuch::commands::detail
