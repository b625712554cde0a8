// Reconciliation files are larger than commands: a month's bank statement
// of several MiB is imported over real HTTP whether its length is declared
// (Content-Length, what `curl --data-binary @file` sends) or the body is
// chunked; a command body stays bounded by the small limit either way.

#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cstdio>

#include "tests/e2e/harness.h"

namespace saalbuch::e2e {
namespace {

namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using nlohmann::json;

constexpr std::uint64_t kImportLimit = std::uint64_t{8} * 1024 * 1024;  // saalbuchd's default
constexpr std::uint64_t kBodyLimit = std::uint64_t{64} * 1024;          // saalbuchd's default

HttpResult Parse(tcp::socket& socket, const std::string& target) {
  HttpResult out = ReadReply(socket);
  ExpectDocumented("POST", target, out);
  return out;
}

tcp::socket Connect(net::io_context& ioc, int port) {
  tcp::socket socket(ioc);
  socket.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)));
  return socket;
}

// One request whose body is sent chunked (no Content-Length), as a client
// streaming a file does.
HttpResult CallChunked(int port, const std::string& target, const std::string& body,
                       const std::map<std::string, std::string>& headers) {
  net::io_context ioc;
  tcp::socket socket = Connect(ioc, port);
  bhttp::request<bhttp::string_body> req{bhttp::verb::post, target, 11};
  req.set(bhttp::field::host, "127.0.0.1");
  req.keep_alive(false);
  for (const auto& [k, v] : headers) req.set(k, v);
  req.body() = body;
  req.chunked(true);
  bhttp::write(socket, req);
  return Parse(socket, target);
}

// Sends the head of a POST that announces a body of `length` bytes — by
// Content-Length, or chunked with a first chunk of that size — and a few
// bytes of it; then reads the reply. The server must answer from what it has.
HttpResult Announce(int port, const std::string& target, const std::string& auth, std::uint64_t length,
                    bool chunked) {
  net::io_context ioc;
  tcp::socket socket = Connect(ioc, port);
  char hex[32];
  std::snprintf(hex, sizeof hex, "%llx", static_cast<unsigned long long>(length));
  const std::string head = "POST " + target +
                           " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                           "Content-Type: application/octet-stream\r\nAuthorization: Bearer " +
                           auth + "\r\n" +
                           (chunked ? "Transfer-Encoding: chunked\r\n\r\n" + std::string(hex) + "\r\n"
                                    : "Content-Length: " + std::to_string(length) + "\r\n\r\n") +
                           "payout_id,";
  net::write(socket, net::buffer(head));
  return Parse(socket, target);
}

// A camt.053.001.02 statement of at least `min_bytes`: debit lines of 1.00
// each (they match nothing), the closing balance their sum.
std::string BigCamt(const std::string& id, std::size_t min_bytes) {
  std::string entries;
  std::int64_t count = 0;
  while (entries.size() < min_bytes) {
    char ref[32];
    std::snprintf(ref, sizeof ref, "%s-%07lld", id.c_str(), static_cast<long long>(count++));
    entries +=
        "<Ntry><Amt Ccy=\"EUR\">1.00</Amt><CdtDbtInd>DBIT</CdtDbtInd><Sts>BOOK</Sts>"
        "<BookgDt><Dt>2026-01-15</Dt></BookgDt><ValDt><Dt>2026-01-15</Dt></ValDt>"
        "<AcctSvcrRef>" +
        std::string(ref) +
        "</AcctSvcrRef><BkTxCd><Prtry><Cd>NDDT+105</Cd><Issr>DK</Issr></Prtry></BkTxCd>"
        "<NtryDtls><TxDtls><Refs><EndToEndId>NOTPROVIDED</EndToEndId></Refs>"
        "<RltdPties><Cdtr><Nm>Stadtwerke Musterstadt GmbH</Nm></Cdtr></RltdPties>"
        "<RmtInf><Ustrd>Abschlag Strom Buergerhaus Januar, Vertragskonto 4711</Ustrd></RmtInf>"
        "</TxDtls></NtryDtls></Ntry>";
  }
  auto bal = [](const char* code, std::int64_t cents) {
    char amount[48];
    std::snprintf(amount, sizeof amount, "%lld.%02lld", static_cast<long long>(cents / 100),
                  static_cast<long long>(cents % 100));
    return "<Bal><Tp><CdOrPrtry><Cd>" + std::string(code) + "</Cd></CdOrPrtry></Tp><Amt Ccy=\"EUR\">" +
           amount + "</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2026-01-31</Dt></Dt></Bal>";
  };
  const std::int64_t opening = count * 100 + 500000;
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
         "<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.053.001.02\"><BkToCstmrStmt>"
         "<GrpHdr><MsgId>MSG-" +
         id + "</MsgId><CreDtTm>2026-01-31T20:00:00+01:00</CreDtTm></GrpHdr><Stmt><Id>STMT-" + id +
         "</Id><CreDtTm>2026-01-31T20:00:00+01:00</CreDtTm>"
         "<Acct><Id><IBAN>DE89370400440532013000</IBAN></Id><Ccy>EUR</Ccy></Acct>" +
         bal("OPBD", opening) + bal("CLBD", opening - count * 100) + entries +
         "</Stmt></BkToCstmrStmt></Document>";
}

class ImportSizeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = FreshDir("import-size");
    server_ = std::make_unique<Server>(dir_ / "data");
    server_->Start();
    auto t = CallJson(Port(), "POST", "/v1/tenants", {{"id", "stadt"}, {"name", "Stadt"}}, kOperatorKey);
    ASSERT_EQ(t.status, 201) << t.body;
    admin_ = t.json()["admin_key"]["key"];
    auto f = CallJson(Port(), "POST", "/v1/tenants/stadt/keys", {{"role", "finance"}}, admin_);
    ASSERT_EQ(f.status, 201) << f.body;
    finance_ = f.json()["key"];
  }
  void TearDown() override {
    server_.reset();
    std::filesystem::remove_all(dir_);
  }
  int Port() const { return server_->port(); }
  std::map<std::string, std::string> Headers(const std::string& type) const {
    return {{"Authorization", "Bearer " + finance_}, {"Content-Type", type}};
  }
  std::uint64_t Head() const {
    auto r =
        Call(Port(), "GET", "/v1/tenants/stadt/events?limit=1", "", {{"Authorization", "Bearer " + admin_}});
    EXPECT_EQ(r.status, 200) << r.body;
    return r.json()["head"].get<std::uint64_t>();
  }
  static void ExpectTooLarge(const HttpResult& r, std::uint64_t limit) {
    EXPECT_EQ(r.status, 413) << r.body;
    EXPECT_EQ(r.header("content-type"), "application/problem+json");
    auto j = json::parse(r.body, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << r.body;
    EXPECT_EQ(j["code"], "body_too_large");
    EXPECT_NE(j["detail"].get<std::string>().find(std::to_string(limit)), std::string::npos) << r.body;
  }

  std::filesystem::path dir_;
  std::unique_ptr<Server> server_;
  std::string admin_, finance_;
};

TEST_F(ImportSizeTest, MonthlyStatementOfFiveMebibytesImportsWithContentLengthAndChunked) {
  const std::string target = "/v1/tenants/stadt/reconciliation/bank-statements";
  const std::string declared = BigCamt("CL", std::size_t{5} * 1024 * 1024);
  ASSERT_GT(declared.size(), std::size_t{5} * 1024 * 1024);
  auto r = Call(Port(), "POST", target, declared, Headers("application/xml"));
  EXPECT_EQ(r.status, 201) << r.body.substr(0, 500);
  if (r.status == 201) {
    EXPECT_GT(r.json()["unmatched"].size(), 5000U);
  }

  const std::string chunked = BigCamt("CH", std::size_t{5} * 1024 * 1024);
  auto c = CallChunked(Port(), target, chunked, Headers("application/xml"));
  EXPECT_EQ(c.status, 201) << c.body.substr(0, 500);

  auto list =
      Call(Port(), "GET", "/v1/tenants/stadt/reconciliation?min_position=" + c.header("saalbuch-position"),
           "", Headers("application/json"));
  ASSERT_EQ(list.status, 200) << list.body.substr(0, 500);
  EXPECT_EQ(list.json()["imports"].size(), 2U) << "both statements were imported";
}

TEST_F(ImportSizeTest, BeyondEachLimitIs413NamingThatLimit) {
  const std::uint64_t head = Head();
  // An import over its own limit, declared or chunked, is refused from its
  // head, before the body is read.
  const std::string target = "/v1/tenants/stadt/reconciliation/settlements";
  ExpectTooLarge(Announce(Port(), target, finance_, kImportLimit + 1, false), kImportLimit);
  ExpectTooLarge(Announce(Port(), target, finance_, kImportLimit + 1, true), kImportLimit);
  // A command over the small limit, declared or chunked: the import limit
  // does not leak to other paths.
  ExpectTooLarge(Announce(Port(), "/v1/tenants/stadt/resources", admin_, kBodyLimit + 1, false), kBodyLimit);
  ExpectTooLarge(Announce(Port(), "/v1/tenants/stadt/resources", admin_, kBodyLimit + 1, true), kBodyLimit);
  ExpectTooLarge(Announce(Port(), "/v1/tenants/stadt/resources", admin_, kImportLimit + 1, false),
                 kBodyLimit);
  const std::string big = json{{"id", "raum"}, {"name", std::string(std::size_t{100} * 1024, 'x')}}.dump();
  ExpectTooLarge(Call(Port(), "POST", "/v1/tenants/stadt/resources", big,
                      {{"Authorization", "Bearer " + admin_}, {"Content-Type", "application/json"}}),
                 kBodyLimit);
  EXPECT_EQ(Call(Port(), "GET", "/healthz").status, 200);
  EXPECT_EQ(Head(), head) << "nothing was stored";
}

}  // namespace
}  // namespace saalbuch::e2e
