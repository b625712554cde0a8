// Who the client is behind a reverse proxy (--trusted-proxies).
//
// Municipal deployments terminate TLS in a proxy (nginx, HAProxy, Apache)
// in front of saalbuchd, so every connection comes from the proxy. Only
// when the connection's peer is a trusted proxy are the proxy's headers
// believed, and only the family the proxy writes (--forwarded-header):
// `X-Forwarded-For`, `X-Forwarded-Proto` and `X-Forwarded-Host` (the
// default, what nginx, HAProxy and Apache set), or `Forwarded` (RFC 7239).
// The other family is ignored: a proxy passes through what a client sent
// in a header it does not write itself. From any other peer both are
// ignored, so that a client cannot choose the address it is counted under.
//
// The client is the rightmost address of the forwarding chain that is not
// itself a trusted proxy (each proxy appends the address it saw, so the
// addresses left of an untrusted hop were written by the client and prove
// nothing). It is the address of the per-client limits and of the access
// log. The scheme and host are those the nearest proxy reports; they are
// the origin the client used, for the URLs Saalbuch builds in a reply.
#pragma once

#include <boost/asio/ip/address.hpp>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "http/server.h"

namespace saalbuch::http {

// The headers the trusted proxies write.
enum class ForwardedHeader { kXForwarded, kForwarded };

class TrustedProxies {
 public:
  TrustedProxies() = default;
  // A comma-separated list of addresses, each with an optional prefix
  // length: "127.0.0.1, 10.0.0.0/8, fd00::/8". Throws std::invalid_argument
  // naming the entry that is not one. An empty list trusts no peer.
  static TrustedProxies Parse(std::string_view list, ForwardedHeader header = ForwardedHeader::kXForwarded);
  ForwardedHeader header() const { return header_; }

  bool Contains(const boost::asio::ip::address& address) const;
  bool Contains(std::string_view address) const;
  bool empty() const { return nets_.empty(); }

 private:
  struct Net {
    std::array<std::uint8_t, 16> bytes;  // IPv4 in the first 4
    int bits;
    bool v4;
  };
  std::vector<Net> nets_;
  ForwardedHeader header_ = ForwardedHeader::kXForwarded;
};

struct ClientView {
  // The client's address: the peer's, or the one a trusted proxy names.
  std::string address;
  // "https" when a trusted proxy says the client used it; else "http".
  std::string scheme = "http";
  // The host (and port) the client asked for, as a trusted proxy reports
  // it (X-Forwarded-Host, Forwarded host=, else its Host header); "" when
  // the peer is not a trusted proxy or the value is not a host name.
  std::string host;
  // The connection came from a trusted proxy.
  bool proxied = false;
};

// What `req`, received from `peer`, says about its client under `trusted`.
ClientView ClientOf(const TrustedProxies& trusted, const std::string& peer, const Request& req);

// `address` as saalbuchd spells it: an IPv4-mapped IPv6 address as IPv4.
boost::asio::ip::address Unmapped(const boost::asio::ip::address& address);

}  // namespace saalbuch::http
