// The HTTP/1.1 server: a listener and one session per connection, after the
// Boost.Beast examples. It knows nothing about Saalbuch's routes; it hands
// each complete request to a Handler and writes what comes back.
//
// Limits: header and body size, time per request (read, handle and write),
// connection count, and graceful shutdown. Threading: the io_context may be
// run by several threads; each session is confined to its own strand.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace saalbuch::http {

namespace beast_http = boost::beast::http;
using Request = beast_http::request<beast_http::string_body>;
using Response = beast_http::response<beast_http::string_body>;

// Calls back exactly once with the response, from any thread.
using Respond = std::function<void(Response)>;
using Handler = std::function<void(Request&& req, const std::string& remote_ip, Respond respond)>;

struct ServerOptions {
  // Largest request body accepted; larger ones get 413 and the connection
  // is closed. 64 KiB is far above any command Saalbuch takes.
  std::uint64_t max_body_bytes = std::uint64_t{64} * 1024;
  // Largest body of a file import (paths containing "/reconciliation/": bank
  // statements and settlement reports, which grow with a month's payments).
  std::uint64_t max_import_bytes = std::uint64_t{8} * 1024 * 1024;
  // Largest request header block; larger ones get 431.
  std::uint32_t max_header_bytes = 8 * 1024;
  // Time for one request: reading it, handling it and writing the reply.
  // A slow or silent client is disconnected after it.
  std::chrono::seconds request_timeout{15};
  // Idle time allowed between requests on a keep-alive connection.
  std::chrono::seconds idle_timeout{30};
  // Open connections; further ones get 503 and are closed at once.
  int max_connections = 1024;
  // Open connections from one client address; further ones get 503, so that
  // one host cannot take every connection.
  int max_connections_per_ip = 64;
  // A peer many clients share (a trusted reverse proxy): its connections
  // count toward max_connections only. Empty: none.
  std::function<bool(const std::string& peer)> shared_peer;
  // Adds headers to the replies the server writes by itself, before a
  // request reaches the handler: 413, 431, 400 (malformed) and 503 while
  // shutting down. Gets the request as far as it was read (after 431 its
  // header may be incomplete). saalbuchd adds the CORS headers the API
  // would (Api::AddEarlyHeaders), so that a browser can read the refusal.
  // Runs on an I/O thread and must not block. Empty: nothing is added.
  std::function<void(const Request& partial, Response& res)> early_headers;
  // Where connections live, taken in turn: each context run by one thread
  // of its own, so that a connection's reads, handling and writes never
  // change threads (in a VM every cross-thread wake-up costs a hypervisor
  // round trip). Empty: every connection on the server's io_context.
  std::vector<boost::asio::io_context*> connection_contexts;
};

class Server {
 public:
  Server(boost::asio::io_context& ioc, ServerOptions options, Handler handler);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and starts accepting. Throws boost::system::system_error when the
  // address cannot be bound (a start-up failure).
  void Listen(const boost::asio::ip::tcp::endpoint& endpoint);
  boost::asio::ip::tcp::endpoint local_endpoint() const;

  // Stops accepting; open connections finish their current request and
  // close.
  void StopAccepting();
  int connections() const { return state_->connections.load(); }

  struct State {
    std::atomic<int> connections{0};
    std::atomic<bool> draining{false};
    std::mutex per_ip_mu;
    std::unordered_map<std::string, int> per_ip;  // guarded by per_ip_mu
  };

 private:
  class Listener;
  boost::asio::io_context& ioc_;
  ServerOptions options_;
  Handler handler_;
  std::shared_ptr<State> state_;
  std::shared_ptr<Listener> listener_;
};

}  // namespace saalbuch::http
