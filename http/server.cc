#include "http/server.h"

#include "http/forwarded.h"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>

#include <spdlog/spdlog.h>
#include <algorithm>
#include <optional>

namespace saalbuch::http {

namespace net = boost::asio;
namespace beast = boost::beast;
using tcp = net::ip::tcp;

namespace {

Response PlainProblem(beast_http::status status, const std::string& code, const std::string& detail) {
  Response res{status, 11};
  res.set(beast_http::field::content_type, "application/problem+json");
  res.set(beast_http::field::connection, "close");
  res.body() = R"({"type":"urn:saalbuch:problem:)" + code + R"(","title":")" +
               std::string(beast_http::obsolete_reason(status)) + R"(","status":)" +
               std::to_string(static_cast<int>(status)) + R"(,"code":")" + code + R"(","detail":")" + detail +
               R"("})";
  res.keep_alive(false);
  res.prepare_payload();
  return res;
}

// One connection. Reads one request at a time (no pipelining), hands it to
// the handler and writes the response before reading the next.
class Session : public std::enable_shared_from_this<Session> {
 public:
  // REQUIRES: the connection was counted in state->connections and, unless
  // `shared` (ServerOptions::shared_peer), in state->per_ip[remote]; the
  // session gives both back when it ends.
  Session(tcp::socket&& socket, std::string remote, bool shared, const ServerOptions& options,
          const Handler& handler, std::shared_ptr<Server::State> state)
      : stream_(std::move(socket)),
        options_(options),
        handler_(handler),
        state_(std::move(state)),
        remote_(std::move(remote)),
        shared_(shared) {}
  ~Session() {
    state_->connections.fetch_sub(1);
    if (shared_) return;
    std::lock_guard lock(state_->per_ip_mu);
    if (--state_->per_ip[remote_] <= 0) state_->per_ip.erase(remote_);
  }

  void Run() {
    net::dispatch(stream_.get_executor(), beast::bind_front_handler(&Session::Read, shared_from_this()));
  }

 private:
  void Read() {
    parser_.emplace();
    // Until the target is known, the larger of the two limits: Beast checks
    // a declared Content-Length against the limit while it reads the head,
    // before OnHeader could choose. OnHeader then sets the path's own.
    body_limit_ = std::max(options_.max_body_bytes, options_.max_import_bytes);
    parser_->body_limit(body_limit_);
    parser_->header_limit(options_.max_header_bytes);
    stream_.expires_after(first_ ? options_.request_timeout : options_.idle_timeout);
    first_ = false;
    beast_http::async_read_header(stream_, buffer_, *parser_,
                                  beast::bind_front_handler(&Session::OnHeader, shared_from_this()));
  }

  // File imports may be larger than commands: the limit follows the path,
  // for a declared length (checked here, from the head) and for a chunked
  // body (checked by the parser as the chunks arrive).
  void OnHeader(beast::error_code ec, std::size_t) {
    // A length beyond both limits fails while the head is read; the target
    // is known by then, and names the limit in the reply.
    if (ec && ec != beast_http::error::body_limit) return OnRead(ec, 0);
    body_limit_ = parser_->get().target().find("/reconciliation/") != beast::string_view::npos
                      ? options_.max_import_bytes
                      : options_.max_body_bytes;
    if (ec) return OnRead(ec, 0);
    if (auto length = parser_->content_length(); length && *length > body_limit_) {
      return OnRead(beast_http::error::body_limit, 0);
    }
    parser_->body_limit(body_limit_);
    beast_http::async_read(stream_, buffer_, *parser_,
                           beast::bind_front_handler(&Session::OnRead, shared_from_this()));
  }

  void OnRead(beast::error_code ec, std::size_t) {
    if (ec == beast_http::error::end_of_stream || ec == net::error::eof || ec == beast::error::timeout ||
        ec == net::error::connection_reset || ec == net::error::operation_aborted) {
      return Close();
    }
    if (ec == beast_http::error::body_limit) {
      return WriteEarly(PlainProblem(beast_http::status::payload_too_large, "body_too_large",
                                     "request body exceeds " + std::to_string(body_limit_) + " bytes"));
    }
    if (ec == beast_http::error::header_limit) {
      return WriteEarly(
          PlainProblem(beast_http::status::request_header_fields_too_large, "headers_too_large",
                       "request headers exceed " + std::to_string(options_.max_header_bytes) + " bytes"));
    }
    if (ec) {
      return WriteEarly(PlainProblem(beast_http::status::bad_request, "malformed_http",
                                     "the request is not valid HTTP/1.1"));
    }
    stream_.expires_after(options_.request_timeout);
    if (state_->draining.load()) {
      Response res = PlainProblem(beast_http::status::service_unavailable, "shutting_down",
                                  "the server is shutting down");
      res.set(beast_http::field::retry_after, "5");
      return WriteEarly(std::move(res));
    }
    Request req = parser_->release();
    const unsigned version = req.version();
    const bool keep_alive = req.keep_alive();
    auto self = shared_from_this();
    handler_(std::move(req), remote_, [self, version, keep_alive](Response res) {
      res.version(version);
      if (!keep_alive) res.keep_alive(false);
      net::post(
          self->stream_.get_executor(),
          [self, r = std::make_shared<Response>(std::move(res))]() mutable { self->Write(std::move(*r)); });
    });
  }

  // A reply of the server's own, with the headers the handler's side adds.
  void WriteEarly(Response res) {
    if (options_.early_headers) options_.early_headers(parser_->get(), res);
    // The access log's line (Edge::Send writes the others); only the peer
    // is known here.
    spdlog::info("msg=\"request\" route=early status={} client={}", res.result_int(), remote_);
    Write(std::move(res));
  }

  void Write(Response res) {
    if (state_->draining.load()) res.keep_alive(false);
    // A fresh deadline for writing: the reply of a command that waited in its
    // tenant's queue must not be dropped because handling took long.
    stream_.expires_after(options_.request_timeout);
    res_ = std::make_unique<Response>(std::move(res));
    beast_http::async_write(stream_, *res_, beast::bind_front_handler(&Session::OnWrite, shared_from_this()));
  }

  void OnWrite(beast::error_code ec, std::size_t) {
    const bool close = ec || !res_->keep_alive();
    res_.reset();
    if (close) return Close();
    Read();
  }

  void Close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_{8192};
  std::optional<beast_http::request_parser<beast_http::string_body>> parser_;
  std::unique_ptr<Response> res_;
  const ServerOptions& options_;
  const Handler& handler_;
  std::shared_ptr<Server::State> state_;
  std::string remote_;
  bool shared_;
  std::uint64_t body_limit_ = 0;  // of the request being read, in bytes
  bool first_ = true;
};

}  // namespace

class Server::Listener : public std::enable_shared_from_this<Server::Listener> {
 public:
  Listener(net::io_context& ioc, const ServerOptions& options, const Handler& handler,
           std::shared_ptr<State> state)
      : ioc_(ioc),
        acceptor_(net::make_strand(ioc)),
        options_(options),
        handler_(handler),
        state_(std::move(state)) {}

  void Open(const tcp::endpoint& ep) {
    acceptor_.open(ep.protocol());
    acceptor_.set_option(net::socket_base::reuse_address(true));
    acceptor_.bind(ep);
    acceptor_.listen(net::socket_base::max_listen_connections);
  }
  void Accept() {
    const auto& contexts = options_.connection_contexts;
    net::io_context& where = contexts.empty() ? ioc_ : *contexts[next_++ % contexts.size()];
    acceptor_.async_accept(net::make_strand(where),
                           beast::bind_front_handler(&Listener::OnAccept, shared_from_this()));
  }
  void Stop() {
    net::post(acceptor_.get_executor(), [self = shared_from_this()] {
      beast::error_code ec;
      IgnoreResult(self->acceptor_.close(ec));
    });
  }
  tcp::endpoint local() const { return acceptor_.local_endpoint(); }

 private:
  template <typename T>
  static void IgnoreResult(T&&) {}

  void OnAccept(beast::error_code ec, tcp::socket socket) {
    if (ec == net::error::operation_aborted || !acceptor_.is_open()) return;
    if (!ec) {
      beast::error_code ep_ec;
      auto ep = socket.remote_endpoint(ep_ec);
      std::string remote = ep_ec ? "unknown" : Unmapped(ep.address()).to_string();
      bool per_ip_full = false;
      const bool shared = options_.shared_peer && options_.shared_peer(remote);
      if (!shared) {
        std::lock_guard lock(state_->per_ip_mu);
        int& n = state_->per_ip[remote];
        per_ip_full = n >= options_.max_connections_per_ip;
        if (!per_ip_full) ++n;
      }
      if (per_ip_full || state_->connections.fetch_add(1) >= options_.max_connections) {
        if (!per_ip_full) {
          state_->connections.fetch_sub(1);
          if (!shared) {
            std::lock_guard lock(state_->per_ip_mu);
            if (--state_->per_ip[remote] <= 0) state_->per_ip.erase(remote);
          }
        }
        // Over the limit: tell the client why, then close, without a session.
        auto res = std::make_shared<Response>(PlainProblem(
            beast_http::status::service_unavailable, "too_many_connections", "too many open connections"));
        res->set(beast_http::field::retry_after, "1");
        auto sock = std::make_shared<tcp::socket>(std::move(socket));
        beast_http::async_write(*sock, *res, [sock, res](beast::error_code, std::size_t) {
          beast::error_code ignored;
          sock->shutdown(tcp::socket::shutdown_both, ignored);
        });
      } else {
        std::make_shared<Session>(std::move(socket), std::move(remote), shared, options_, handler_, state_)
            ->Run();
      }
    } else {
      spdlog::warn("accept failed: {}", ec.message());
    }
    Accept();
  }

  net::io_context& ioc_;
  tcp::acceptor acceptor_;
  std::size_t next_ = 0;  // the connection context of the next connection
  const ServerOptions& options_;
  const Handler& handler_;
  std::shared_ptr<State> state_;
};

Server::Server(net::io_context& ioc, ServerOptions options, Handler handler)
    : ioc_(ioc),
      options_(std::move(options)),
      handler_(std::move(handler)),
      state_(std::make_shared<State>()) {}

Server::~Server() = default;

void Server::Listen(const tcp::endpoint& endpoint) {
  listener_ = std::make_shared<Listener>(ioc_, options_, handler_, state_);
  listener_->Open(endpoint);
  listener_->Accept();
}

tcp::endpoint Server::local_endpoint() const { return listener_->local(); }

void Server::StopAccepting() {
  state_->draining = true;
  if (listener_) listener_->Stop();
}

}  // namespace saalbuch::http
