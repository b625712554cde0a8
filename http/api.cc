#include "http/api.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "common/crypto.h"
#include "http/edge.h"
#include "http/router.h"

namespace saalbuch::http {

using beast_http::status;

namespace {
std::vector<Route> Routes() {
  auto all = AllRoutes();
  auto pages = PageRoutes();
  all.insert(all.end(), pages.begin(), pages.end());
  return all;
}
}  // namespace

struct Api::Impl {
  Impl(Api* api, boost::asio::io_context& ioc, commands::CommandBus& bus, projections::Runner& runner,
       const ledger::Log& log, prometheus::Registry& registry, ApiOptions options)
      : edge(api, ioc, bus, runner, log, registry, std::move(options)), router(Routes()) {}
  Edge edge;
  Router router;
};

Api::Api(boost::asio::io_context& ioc, commands::CommandBus& bus, projections::Runner& runner,
         const ledger::Log& log, prometheus::Registry& registry, ApiOptions options)
    : impl_(std::make_unique<Impl>(this, ioc, bus, runner, log, registry, std::move(options))) {
  impl_->edge.StartRetention();
  impl_->edge.StartFunnel();
}

void Api::FlushFunnel() { impl_->edge.FlushFunnel(); }

Api::~Api() { Shutdown(); }

void Api::Shutdown() { impl_->edge.pool.join(); }

void Api::SetPublicUrl(std::string url, bool configured) {
  impl_->edge.options.public_url = std::move(url);
  impl_->edge.options.public_url_configured = configured;
}

void Api::AddEarlyHeaders(const Request& req, Response& res) const {
  try {
    const Target target = ParseTarget(SV(req.target()));
    if (UnderTenant(target.segments)) impl_->edge.Cors(req, target.segments, res);
  } catch (const std::exception& e) {
    spdlog::error("early reply to {}: {}", std::string(req.target()), e.what());
  }
}

void Api::Handle(Request&& req, const std::string& peer, Respond respond) {
  in_flight_.fetch_add(1);
  auto c = std::make_shared<Call>();
  c->req = std::move(req);
  c->client = ClientOf(impl_->edge.options.trusted_proxies, peer, c->req);
  c->respond = std::move(respond);
  auto rid = c->req.find("X-Request-Id");
  if (rid != c->req.end() && rid->value().size() <= 64 && !rid->value().empty() &&
      std::all_of(rid->value().begin(), rid->value().end(), [](char ch) { return ch > 0x20 && ch < 0x7f; })) {
    c->request_id = std::string(rid->value());
  } else {
    c->request_id = RandomHex(8);
  }
  Edge& edge = impl_->edge;
  try {
    c->target = ParseTarget(SV(c->req.target()));
    // Under a tenant every reply carries its CORS headers, whatever ends the
    // request (429 here, 404 and 405 in the router), so that a widget can
    // read why; the router clears this for routes of keys only.
    c->public_cors = UnderTenant(c->target.segments);
    if (double wait = edge.limiter.Take(c->client.address); wait > 0) return edge.TooMany(c, wait);
    impl_->router.Dispatch(edge, c);
  } catch (const std::exception& e) {
    // A programming error; never a reason to take the server down.
    spdlog::error("msg=\"request threw\" id={} route={} error=\"{}\"", c->request_id, c->route, e.what());
    edge.Problem(c, status::internal_server_error, "internal_error", "an internal error occurred");
  }
}

}  // namespace saalbuch::http
