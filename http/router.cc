#include "http/router.h"

#include <algorithm>
#include <stdexcept>

#include "common/crypto.h"

namespace saalbuch::http {

using beast_http::status;
using beast_http::verb;

namespace {

bool IsPathId(std::string_view s) {
  return !s.empty() && s.size() <= 64 && std::all_of(s.begin(), s.end(), [](char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '-' ||
           ch == '_' || ch == '.';
  });
}

std::vector<std::string_view> Split(std::string_view pattern) {
  std::vector<std::string_view> out;
  std::size_t pos = 0;
  while (pos < pattern.size()) {
    auto next = pattern.find('/', pos);
    if (next == std::string_view::npos) next = pattern.size();
    if (next > pos) out.push_back(pattern.substr(pos, next - pos));
    pos = next + 1;
  }
  return out;
}

bool IsParam(std::string_view segment) { return segment.size() > 2 && segment.front() == '{'; }

}  // namespace

std::vector<Route> AllRoutes() {
  std::vector<Route> all;
  for (auto topic :
       {OperatorRoutes, TenantRoutes, CatalogRoutes, BookingRoutes, CustomerRoutes, FinanceRoutes,
        BooksRoutes, AuditRoutes, AccountRoutes, OperatorAccountRoutes, DoorRoutes}) {
    auto routes = topic();
    all.insert(all.end(), routes.begin(), routes.end());
  }
  return all;
}

Router::Router(std::vector<Route> routes) : routes_(std::move(routes)) {
  for (const Route& r : routes_) {
    Node* node = &root_;
    for (std::string_view seg : Split(r.pattern)) {
      if (IsParam(seg)) {
        if (!node->param) node->param = std::make_unique<Node>();
        node = node->param.get();
      } else {
        auto it = node->literal.find(seg);
        if (it == node->literal.end())
          it = node->literal.emplace(std::string(seg), std::make_unique<Node>()).first;
        node = it->second.get();
      }
    }
    for (const Route* other : node->routes) {
      if (other->method == r.method)
        throw std::logic_error("route declared twice: " + std::string(r.pattern));
    }
    node->routes.push_back(&r);
  }
}

const Router::Node* Router::Find(const Node& node, const std::vector<std::string>& segments, std::size_t at,
                                 std::vector<std::string>* params) const {
  if (at == segments.size()) return node.routes.empty() ? nullptr : &node;
  if (auto it = node.literal.find(segments[at]); it != node.literal.end()) {
    if (const Node* found = Find(*it->second, segments, at + 1, params)) return found;
  }
  if (node.param) {
    params->push_back(segments[at]);
    if (const Node* found = Find(*node.param, segments, at + 1, params)) return found;
    params->pop_back();
  }
  return nullptr;
}

void Router::Dispatch(Edge& edge, const CallPtr& c) const {
  const auto& s = c->target.segments;
  const verb m = c->req.method();
  const bool under_tenant = UnderTenant(s);
  if (under_tenant && m == verb::options) return edge.Preflight(c);
  if (under_tenant) {
    c->tenant = TenantId(s[2]);
    if (!IsValidSlug(c->tenant.get()) || !edge.bus.TenantExists(c->tenant)) {
      c->route = "tenant";
      return edge.Problem(c, status::not_found, "not_found", "no such tenant");
    }
    // A held tenant (commands/bus.h) answers nothing but why, whatever the
    // route: its log disagrees with what the server wrote beside it, or its
    // local times cannot be computed.
    if (auto hold = edge.bus.Hold(c->tenant)) {
      c->route = "tenant_held";
      return edge.Problem(
          c, status::service_unavailable, hold->code,
          "tenant '" + c->tenant.get() + "' is held until the operator acts: " + hold->message,
          {{"position", hold->position}});
    }
  }
  // The operator's own accounts are a tenant's accounts (OperatorTenant).
  if (s.size() >= 2 && s[0] == "v1" && s[1] == "operator") c->tenant = OperatorTenant();
  std::vector<std::string> params;
  const Node* node = Find(root_, s, 0, &params);
  if (node == nullptr) {
    // A person who mistyped a page's address gets a page, a program JSON.
    auto accept = c->req.find(beast_http::field::accept);
    const bool page = (s.empty() || s[0] != "v1") && accept != c->req.end() &&
                      SV(accept->value()).find("text/html") != std::string_view::npos;
    if (page && (m == verb::get || m == verb::head)) return edge.NotFoundPage(c);
    return edge.Problem(c, status::not_found, "no_route", "no such route");
  }
  // The first parameter under /v1/tenants/ is the tenant; the others are
  // slugs or generated ids, and anything else cannot exist: it never reaches
  // a handler or the bus.
  if (under_tenant) params.erase(params.begin());
  for (const std::string& p : params) {
    if (!IsPathId(p)) {
      c->route = "unknown_id";
      return edge.Problem(c, status::not_found, "not_found", "no such resource, booking or document");
    }
  }
  const verb wanted = m == verb::head ? verb::get : m;
  const Route* route = nullptr;
  for (const Route* r : node->routes) {
    if (r->method == wanted) route = r;
  }
  if (route == nullptr) {
    std::vector<std::string> allow;
    for (const Route* r : node->routes) {
      allow.emplace_back(beast_http::to_string(r->method));
      if (r->method == verb::get) allow.emplace_back("HEAD");
    }
    std::sort(allow.begin(), allow.end());
    std::string text;
    for (const auto& a : allow) text += (text.empty() ? "" : ", ") + a;
    return edge.NotAllowed(c, text);
  }
  c->route = std::string(route->label);
  c->params = std::move(params);
  c->public_cors = (route->access & (kPublic | kManageToken | kCustomerToken)) != 0;
  if (!edge.Authorize(c, route->access)) return;
  (edge.*(route->handler))(c);
}

}  // namespace saalbuch::http
