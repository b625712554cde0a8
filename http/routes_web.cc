// The browser side: the widget script and the pages Saalbuch hosts (demo,
// booking, manage, payment), all files of web/ built into saalbuchd
// (web_assets.h). Pages are HTML templates whose {{name}} placeholders are
// filled with HTML-escaped values; everything else a page shows is drawn
// by the widget from the public API, as on any town's website.
//
// Caching: /widget/v1/saalbuch.js, the snippet's URL, may be cached for a
// day (then revalidated by ETag) so a fix reaches every site within a day;
// the files under their content hash (/widget/v1/saalbuch-<hash>.js, as the
// hosted pages load them) are immutable for a year; pages are revalidated on
// every load. gzip when the client accepts it.
#include <spdlog/spdlog.h>

#include <cstdlib>
#include <map>
#include <stdexcept>

#include "formats/html.h"
#include "http/edge.h"
#include "http/web_assets.h"

namespace saalbuch::http {

using beast_http::field;
using beast_http::status;
using beast_http::verb;

std::vector<Route> PageRoutes() {
  return {
      {verb::get, "/", kPublic, "page_home", &Edge::HomePage},
      {verb::get, "/demo", kPublic, "page_demo", &Edge::DemoPage},
      {verb::get, "/book/{tenant}", kPublic, "page_book", &Edge::CatalogPage},
      {verb::get, "/book/{tenant}/{resource}", kPublic, "page_book", &Edge::BookingPage},
      {verb::get, "/manage/{tenant}/{booking}", kPublic, "page_manage", &Edge::ManagePage},
      {verb::get, "/pay/{tenant}/{invoice}", kPublic, "page_pay", &Edge::PayPage},
      {verb::get, "/admin/{tenant}", kPublic, "page_admin", &Edge::AdminPage},
      {verb::get, "/admin/{tenant}/join", kPublic, "page_admin", &Edge::AdminPage},
      {verb::get, "/betrieb", kPublic, "page_operator", &Edge::OperatorPage},
      {verb::get, "/betrieb/join", kPublic, "page_operator", &Edge::OperatorPage},
      {verb::get, "/widget/v1/saalbuch.js", kPublic, "widget", &Edge::WidgetScript},
      {verb::get, "/widget/v1/{file}", kPublic, "widget", &Edge::WidgetFile},
  };
}

namespace {

// The Content-Security-Policy of Saalbuch's own pages: only its own script
// and styles (the widget's styles are constructed style sheets, which need
// no 'unsafe-inline'), its own API, a tenant's logo from anywhere.
constexpr const char* kPageCsp =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' https: data:; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

const WebAsset* Find(std::string_view name) {
  for (const WebAsset& a : WebAssets()) {
    if (a.name == name) return &a;
  }
  return nullptr;
}

// "saalbuch-0123456789abcdef.js" → the asset "widget/saalbuch.js" when the
// hash is the current one.
const WebAsset* FindVersioned(std::string_view file) {
  for (const WebAsset& a : WebAssets()) {
    const auto slash = a.name.rfind('/');
    const std::string_view base = a.name.substr(slash + 1);
    const auto dot = base.rfind('.');
    if (dot == std::string_view::npos) continue;
    std::string versioned(base.substr(0, dot));
    versioned.append("-").append(a.hash).append(base.substr(dot));
    if (versioned == file) return &a;
  }
  return nullptr;
}

// The URL path of an asset under its content hash.
std::string VersionedPath(std::string_view name) {
  const WebAsset* a = Find(name);
  if (a == nullptr) throw std::logic_error("no web asset " + std::string(name));
  const std::string_view base = a->name.substr(a->name.rfind('/') + 1);
  const auto dot = base.rfind('.');
  std::string path = "/widget/v1/";
  path.append(base.substr(0, dot)).append("-").append(a->hash).append(base.substr(dot));
  return path;
}

// Accept-Encoding names gzip with a q-value above 0.
bool AcceptsGzip(const Request& req) {
  auto it = req.find(field::accept_encoding);
  if (it == req.end()) return false;
  std::string_view v = SV(it->value());
  while (!v.empty()) {
    const auto comma = v.find(',');
    std::string_view item = v.substr(0, comma);
    v = comma == std::string_view::npos ? std::string_view() : v.substr(comma + 1);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    const auto semi = item.find(';');
    std::string_view coding = item.substr(0, semi);
    while (!coding.empty() && coding.back() == ' ') coding.remove_suffix(1);
    if (coding != "gzip") continue;
    if (semi == std::string_view::npos) return true;
    const auto q = item.find("q=", semi);
    return q == std::string_view::npos || std::strtod(std::string(item.substr(q + 2)).c_str(), nullptr) > 0;
  }
  return false;
}

}  // namespace

void Edge::SendAsset(const CallPtr& c, const WebAsset& a, const char* cache_control) {
  const std::string tag = "\"" + std::string(a.hash) + "\"";
  Response res{status::ok, 11};
  res.set(field::etag, tag);
  res.set(field::cache_control, cache_control);
  res.set(field::vary, "Accept-Encoding");
  res.set("X-Content-Type-Options", "nosniff");
  auto inm = c->req.find(field::if_none_match);
  if (inm != c->req.end() && IfNoneMatchHits(SV(inm->value()), tag)) {
    res.result(status::not_modified);
    return Send(c, std::move(res));
  }
  res.set(field::content_type, std::string(a.content_type));
  if (AcceptsGzip(c->req)) {
    res.set(field::content_encoding, "gzip");
    res.body() = std::string(a.gzip);
  } else {
    res.body() = std::string(a.body);
  }
  Send(c, std::move(res));
}

void Edge::SendPage(const CallPtr& c, status st, std::string_view name,
                    const std::vector<std::pair<std::string, std::string>>& values) {
  const WebAsset* page = Find(name);
  if (page == nullptr) throw std::logic_error("no page " + std::string(name));
  std::map<std::string, std::string, std::less<>> vars;
  for (const auto& [k, v] : values) vars[k] = formats::HtmlEscape(v);
  vars["script"] = VersionedPath("widget/saalbuch.js");
  vars["style"] = VersionedPath("pages/page.css");
  vars["admin_script"] = VersionedPath("admin/admin.js");
  vars["admin_style"] = VersionedPath("admin/admin.css");
  std::string lang = c->Param("lang");
  vars["lang"] = lang == "en" ? "en" : "de";
  // {{name}} → its value; an unknown name is a mistake in web/.
  std::string html;
  const std::string_view text = page->body;
  std::size_t pos = 0;
  while (pos < text.size()) {
    const auto open = text.find("{{", pos);
    if (open == std::string_view::npos) {
      html.append(text.substr(pos));
      break;
    }
    const auto close = text.find("}}", open);
    if (close == std::string_view::npos) throw std::logic_error("unclosed {{ in " + std::string(name));
    html.append(text.substr(pos, open - pos));
    auto it = vars.find(text.substr(open + 2, close - open - 2));
    if (it == vars.end()) throw std::logic_error("unknown placeholder in " + std::string(name));
    html.append(it->second);
    pos = close + 2;
  }
  const std::string tag = "\"" + ToHex(Sha256Of(html)).substr(0, 16) + "\"";
  Response res{st, 11};
  res.set(field::content_type, "text/html; charset=utf-8");
  res.set(field::cache_control, "no-cache");
  res.set(field::etag, tag);
  res.set("Content-Security-Policy", kPageCsp);
  res.set("X-Content-Type-Options", "nosniff");
  res.set("Referrer-Policy", "no-referrer");
  auto inm = c->req.find(field::if_none_match);
  if (st == status::ok && inm != c->req.end() && IfNoneMatchHits(SV(inm->value()), tag)) {
    res.result(status::not_modified);
    return Send(c, std::move(res));
  }
  res.body() = std::move(html);
  Send(c, std::move(res));
}

void Edge::NotFoundPage(const CallPtr& c) { SendPage(c, status::not_found, "pages/notfound.html", {}); }

// A page under /…/{tenant}/…: the tenant must exist, else the not-found page.
bool Edge::PageTenant(const CallPtr& c, std::string* tenant) {
  *tenant = c->params.at(0);
  if (!IsValidSlug(*tenant) || !bus.TenantExists(TenantId(*tenant))) {
    NotFoundPage(c);
    return false;
  }
  return true;
}

void Edge::HomePage(const CallPtr& c) {
  const bool demo = bus.TenantExists(TenantId("buergerhaus"));
  SendPage(c, status::ok, demo ? "pages/home-demo.html" : "pages/home.html", {});
}

void Edge::DemoPage(const CallPtr& c) {
  if (!bus.TenantExists(TenantId("buergerhaus"))) return NotFoundPage(c);
  SendPage(c, status::ok, "pages/demo.html", {{"origin", PublicUrl(*c)}});
}

void Edge::CatalogPage(const CallPtr& c) {
  std::string tenant;
  if (!PageTenant(c, &tenant)) return;
  SendPage(c, status::ok, "pages/book.html", {{"tenant", tenant}, {"kind", c->Param("kind")}});
}

void Edge::BookingPage(const CallPtr& c) {
  std::string tenant;
  if (!PageTenant(c, &tenant)) return;
  SendPage(c, status::ok, "pages/book-resource.html", {{"tenant", tenant}, {"resource", c->params.at(1)}});
}

void Edge::ManagePage(const CallPtr& c) {
  std::string tenant;
  if (!PageTenant(c, &tenant)) return;
  SendPage(c, status::ok, "pages/manage.html", {{"tenant", tenant}, {"booking", c->params.at(1)}});
}

void Edge::PayPage(const CallPtr& c) {
  std::string tenant;
  if (!PageTenant(c, &tenant)) return;
  SendPage(c, status::ok, "pages/pay.html", {{"tenant", tenant}, {"invoice", c->params.at(1)}});
}

void Edge::AdminPage(const CallPtr& c) {
  std::string tenant;
  if (!PageTenant(c, &tenant)) return;
  const bool join = c->target.segments.size() == 3 && c->target.segments[2] == "join";
  SendPage(c, status::ok, "pages/admin.html",
           {{"tenant", tenant}, {"view", join ? "join" : "app"}, {"mode", "tenant"}});
}

// The operator's pages: the back office's module in its operator mode.
void Edge::OperatorPage(const CallPtr& c) {
  const bool join = c->target.segments.size() == 2 && c->target.segments[1] == "join";
  SendPage(c, status::ok, "pages/admin.html",
           {{"tenant", ""}, {"view", join ? "join" : "app"}, {"mode", "operator"}});
}

void Edge::WidgetScript(const CallPtr& c) {
  SendAsset(c, *Find("widget/saalbuch.js"), "public, max-age=86400");
}

void Edge::WidgetFile(const CallPtr& c) {
  const WebAsset* a = FindVersioned(c->params.at(0));
  if (a == nullptr) return Problem(c, status::not_found, "not_found", "no such file");
  SendAsset(c, *a, "public, max-age=31536000, immutable");
}

}  // namespace saalbuch::http
