// The payment-provider adapter against the simulated provider
// (tools/payprovider/payprovider.py as a child process on a loopback port)
// and a real webhook receiver in this process: checkouts, idempotency,
// signed webhooks with retries, duplicates and reordering, refunds, payouts,
// a provider that is down, slow or talks too much. Then the signature check
// and the webhook parser on their own, mostly with wrong input.

#include "integrations/provider.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <thread>
#include <vector>

#include "common/crypto.h"
#include "common/money.h"
#include "tests/support/payprovider.h"

namespace saalbuch::integrations {
namespace {

namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace net = boost::asio;
using net::ip::tcp;
using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr const char* kApiKey = "sk_test_0123456789abcdef";
constexpr const char* kSecret = "whsec_test_fedcba9876543210";

std::int64_t Now() {
  return std::chrono::duration_cast<seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// The expected fee with the simulator's default flags (--fee-bp 140 --fee-fixed 25).
std::int64_t Fee(std::int64_t amount) { return MulDivRound(amount, 140, 10000) + 25; }

struct Reply {
  int status = 0;  // 0: no connection
  std::string body;
  std::string location;
  json Json() const { return json::parse(body, nullptr, false); }
};

// One HTTP/1.1 request on a connection of its own.
Reply Call(int port, bhttp::verb method, const std::string& target, const std::string& body = "",
           const std::map<std::string, std::string>& headers = {}) {
  net::io_context io;
  tcp::socket socket(io);
  beast::error_code ec;
  socket.connect({net::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)}, ec);
  if (ec) return {};
  bhttp::request<bhttp::string_body> req(method, target, 11);
  req.set(bhttp::field::host, "127.0.0.1");
  for (const auto& [name, value] : headers) req.set(name, value);
  req.body() = body;
  req.prepare_payload();
  bhttp::write(socket, req, ec);
  if (ec) return {};
  beast::flat_buffer buffer;
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(8 << 20);
  bhttp::read(socket, buffer, parser, ec);
  if (ec) return {};
  const auto& res = parser.get();
  return {static_cast<int>(res.result_int()), res.body(), std::string(res[bhttp::field::location])};
}

Reply PostJson(int port, const std::string& target, const json& body) {
  return Call(port, bhttp::verb::post, target, body.dump(), {{"Content-Type", "application/json"}});
}

// A webhook endpoint on 127.0.0.1: records every request and answers it, 500 to the first `fail_first`
// ones. Doubles as a misbehaving provider (Answer, Delay). One thread, one connection at a time; the
// recorded hits are guarded by mu_.
class WebhookReceiver {
 public:
  struct Hit {
    std::string target, signature, body;
    int answered = 0;
  };

  WebhookReceiver() : acceptor_(io_, {net::ip::make_address("127.0.0.1"), 0}) {
    thread_ = std::thread([this] { Serve(); });
  }
  ~WebhookReceiver() {
    stopping_ = true;
    // Wakes the blocking accept.
    net::io_context io;
    tcp::socket poke(io);
    beast::error_code ec;
    poke.connect({net::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port())}, ec);
    thread_.join();
  }
  WebhookReceiver(const WebhookReceiver&) = delete;
  WebhookReceiver& operator=(const WebhookReceiver&) = delete;

  int port() const { return acceptor_.local_endpoint().port(); }
  std::string base() const { return "http://127.0.0.1:" + std::to_string(port()); }
  std::string url() const { return base() + "/hooks/payments"; }

  void FailFirst(int n) {
    std::lock_guard lock(mu_);
    fail_first_ = n;
  }
  void Answer(int status, std::string body) {
    std::lock_guard lock(mu_);
    status_ = status;
    body_ = std::move(body);
  }
  void Delay(milliseconds d) {
    std::lock_guard lock(mu_);
    delay_ = d;
  }
  std::vector<Hit> Hits() const {
    std::lock_guard lock(mu_);
    return hits_;
  }

 private:
  void Serve() {
    while (!stopping_) {
      tcp::socket socket(io_);
      beast::error_code ec;
      acceptor_.accept(socket, ec);
      if (stopping_) return;
      if (ec) continue;
      // Synchronous reads have no deadline of their own; a silent peer must not hang the test.
      timeval tv{5, 0};
      ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      beast::flat_buffer buffer;
      bhttp::request_parser<bhttp::string_body> parser;
      parser.body_limit(1 << 20);
      bhttp::read(socket, buffer, parser, ec);
      if (ec) continue;
      const auto& req = parser.get();
      bhttp::response<bhttp::string_body> res;
      milliseconds delay{0};
      {
        std::lock_guard lock(mu_);
        const int status = static_cast<int>(hits_.size()) < fail_first_ ? 500 : status_;
        hits_.push_back(
            {std::string(req.target()),
             std::string(req[beast::string_view(kSignatureHeader.data(), kSignatureHeader.size())]),
             req.body(), status});
        res.result(static_cast<unsigned>(status));
        res.body() = body_;
        delay = delay_;
      }
      std::this_thread::sleep_for(delay);
      res.version(11);
      res.set(bhttp::field::content_type, "application/json");
      res.keep_alive(false);
      res.prepare_payload();
      bhttp::write(socket, res, ec);  // the peer may have given up already (timeout, size limit)
      socket.shutdown(tcp::socket::shutdown_both, ec);
    }
  }

  net::io_context io_;
  tcp::acceptor acceptor_;
  std::atomic<bool> stopping_{false};
  mutable std::mutex mu_;
  std::vector<Hit> hits_;
  int fail_first_ = 0;
  int status_ = 200;
  std::string body_;
  milliseconds delay_{0};
  std::thread thread_;  // last: starts after everything it uses
};

// tools/payprovider/payprovider.py on a free loopback port, with kApiKey and kSecret.
class Simulator {
 public:
  explicit Simulator(const std::vector<std::string>& flags) : process_(kApiKey, kSecret, flags) {}

  void Stop() { process_.Stop(); }
  int port() const { return process_.port(); }
  std::string url() const { return process_.url(); }

  // The control API. Pay returns the payment id.
  std::string Pay(const std::string& checkout, const std::string& outcome) const {
    const Reply r = PostJson(port(), "/control/checkouts/" + checkout + "/pay", {{"outcome", outcome}});
    EXPECT_EQ(r.status, 200) << r.body;
    return r.Json().value("payment", "");
  }
  json Flush() const { return PostJson(port(), "/control/flush", json::object()).Json(); }
  json Deliveries() const { return Call(port(), bhttp::verb::get, "/control/deliveries").Json(); }

 private:
  testing_support::PayProvider process_;
};

class ProviderTest : public ::testing::Test {
 protected:
  virtual std::vector<std::string> Flags() const { return {}; }

  void SetUp() override {
    sim_ = std::make_unique<Simulator>(Flags());
    ASSERT_GT(sim_->port(), 0);
    provider_ = MakeHttpProvider({sim_->url(), kApiKey, kSecret, 5000});
  }
  void TearDown() override { sim_.reset(); }

  CheckoutRequest Request(std::int64_t amount, const std::string& invoice = "inv_0001") const {
    CheckoutRequest r;
    r.tenant = "stadt";
    r.invoice = invoice;
    r.number = "R-2027-0001";
    r.amount = amount;
    r.description = "Saalmiete Bürgerhaus, 3. Mai 2027";
    r.return_url = "https://buchen.example/v1/tenants/stadt/invoices/" + invoice + "/paid";
    r.webhook_url = receiver_.url();
    r.idempotency_key = "checkout-" + invoice;
    return r;
  }

  // A checkout for `amount`, paid through the control API; the payment's id.
  std::string PaidPayment(std::int64_t amount, const std::string& invoice = "inv_0001") {
    auto c = provider_->CreateCheckout(Request(amount, invoice));
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return c.ok() ? sim_->Pay(c->id, "succeed") : "";
  }

  // The hits' events, parsed; a hit that does not parse or verify fails the test.
  std::vector<WebhookEvent> Events() const {
    std::vector<WebhookEvent> out;
    for (const auto& hit : receiver_.Hits()) {
      EXPECT_EQ(hit.target, "/hooks/payments");
      EXPECT_EQ(VerifyWebhookSignature(kSecret, hit.signature, hit.body, Now()), SignatureCheck::kValid)
          << hit.signature << " " << hit.body;
      auto e = ParseWebhook(hit.body);
      EXPECT_TRUE(e.ok()) << e.status().ToString() << " " << hit.body;
      if (e.ok()) out.push_back(*e);
    }
    return out;
  }

  WebhookReceiver receiver_;
  std::unique_ptr<Simulator> sim_;
  std::unique_ptr<PaymentProvider> provider_;
};

TEST_F(ProviderTest, CheckoutIsCreatedWithAPayPageOnTheProvider) {
  auto c = provider_->CreateCheckout(Request(2500));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->id.rfind("cs_", 0), 0u) << c->id;
  EXPECT_EQ(c->url, sim_->url() + "/pay/" + c->id);
  const Reply page = Call(sim_->port(), bhttp::verb::get, "/pay/" + c->id);
  EXPECT_EQ(page.status, 200);
  EXPECT_NE(page.body.find("25,00 EUR"), std::string::npos) << page.body;
  EXPECT_NE(page.body.find("Bezahlen"), std::string::npos) << page.body;
  EXPECT_NE(page.body.find("Saalmiete Bürgerhaus"), std::string::npos) << page.body;
}

TEST_F(ProviderTest, LongRequestIsSentAtOnceWithoutWaitingForContinue) {
  auto r = Request(2500);
  // Over 1 KiB: older curls send "Expect: 100-continue" from there on and wait a second for an answer.
  r.return_url += "?back=" + std::string(1800, 'x');
  EXPECT_TRUE(provider_->CreateCheckout(r).ok());
  // The receiver, like many servers, never sends "100 Continue".
  auto fake = MakeHttpProvider({receiver_.base(), kApiKey, kSecret, 5000});
  receiver_.Answer(201, R"({"id": "cs_1", "url": "https://pay.example/cs_1", "status": "open"})");
  const auto start = std::chrono::steady_clock::now();
  auto c = fake->CreateCheckout(r);
  EXPECT_LT(std::chrono::steady_clock::now() - start, milliseconds(800));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->id, "cs_1");
  EXPECT_EQ(c->url, "https://pay.example/cs_1");
  ASSERT_EQ(receiver_.Hits().size(), 1u);
  EXPECT_EQ(json::parse(receiver_.Hits()[0].body)["return_url"], r.return_url);
}

TEST_F(ProviderTest, SameIdempotencyKeyReturnsTheSameCheckout) {
  auto first = provider_->CreateCheckout(Request(2500));
  auto again = provider_->CreateCheckout(Request(2500));
  ASSERT_TRUE(first.ok() && again.ok()) << first.status().ToString() << again.status().ToString();
  EXPECT_EQ(first->id, again->id);
  auto other = provider_->CreateCheckout(Request(2500, "inv_0002"));
  ASSERT_TRUE(other.ok()) << other.status().ToString();
  EXPECT_NE(other->id, first->id);
  // The same key for a different request is the caller's mistake, not a new checkout.
  auto changed = Request(9900);
  auto refused = provider_->CreateCheckout(changed);
  EXPECT_EQ(refused.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(refused.status().message().find("Idempotency-Key"), std::string::npos)
      << refused.status().message();
}

TEST_F(ProviderTest, WrongApiKeyIsRefusedWithTheProvidersMessage) {
  auto wrong = MakeHttpProvider({sim_->url(), "sk_test_wrong", kSecret, 5000});
  auto c = wrong->CreateCheckout(Request(2500));
  ASSERT_EQ(c.status().code(), StatusCode::kInvalidArgument) << c.status().ToString();
  EXPECT_NE(c.status().message().find("401"), std::string::npos) << c.status().message();
  EXPECT_NE(c.status().message().find("invalid API key"), std::string::npos) << c.status().message();
  auto r = wrong->Refund({"rf_1", "pay_000000000000000000000000", 100, "EUR"});
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << r.status().ToString();
}

TEST_F(ProviderTest, InputTheProviderRefusesComesBackAsInvalidArgument) {
  auto usd = Request(2500);
  usd.currency = "USD";  // a valid code, but the provider takes euros only
  auto c = provider_->CreateCheckout(usd);
  ASSERT_EQ(c.status().code(), StatusCode::kInvalidArgument) << c.status().ToString();
  EXPECT_NE(c.status().message().find("provider refused (400): currency"), std::string::npos)
      << c.status().message();
}

TEST_F(ProviderTest, RequestsThatCannotBeSentAreRefusedBeforeTheCall) {
  auto zero = Request(0);
  EXPECT_EQ(provider_->CreateCheckout(zero).status().code(), StatusCode::kInvalidArgument);
  auto injected = Request(2500);
  injected.idempotency_key = "k\r\nX-Evil: 1";
  EXPECT_EQ(provider_->CreateCheckout(injected).status().code(), StatusCode::kInvalidArgument);
  auto no_key = Request(2500);
  no_key.idempotency_key.clear();
  EXPECT_EQ(provider_->CreateCheckout(no_key).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(provider_->Refund({"rf_1", "pay_x", -5, "EUR"}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(provider_->Refund({"", "pay_x", 5, "EUR"}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(provider_->Refund({"rf_1", "pay_x", 5, "euro"}).status().code(), StatusCode::kInvalidArgument);
  sim_->Flush();
  EXPECT_TRUE(receiver_.Hits().empty());
  auto off = MakeHttpProvider({});
  EXPECT_EQ(off->CreateCheckout(Request(2500)).status().code(), StatusCode::kUnavailable);
}

TEST_F(ProviderTest, PaidCheckoutSendsASignedPaymentSucceededWebhook) {
  auto c = provider_->CreateCheckout(Request(2500));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  const std::string payment = sim_->Pay(c->id, "succeed");
  EXPECT_EQ(payment.rfind("pay_", 0), 0u) << payment;
  const json flushed = sim_->Flush();
  EXPECT_EQ(flushed["delivered"], 1) << flushed;
  EXPECT_EQ(flushed["pending"], 0) << flushed;
  const auto hits = receiver_.Hits();
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(VerifyWebhookSignature(kSecret, hits[0].signature, hits[0].body, Now()), SignatureCheck::kValid);
  EXPECT_EQ(VerifyWebhookSignature("whsec_other", hits[0].signature, hits[0].body, Now()),
            SignatureCheck::kMismatch);
  auto e = ParseWebhook(hits[0].body);
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ(e->id.rfind("evt_", 0), 0u) << e->id;
  EXPECT_EQ(e->type, "payment.succeeded");
  EXPECT_LE(std::abs(e->created - Now()), 5);
  EXPECT_EQ(e->tenant, "stadt");
  EXPECT_EQ(e->checkout, c->id);
  EXPECT_EQ(e->payment, payment);
  EXPECT_EQ(e->invoice, "inv_0001");
  EXPECT_EQ(e->amount, 2500);
  EXPECT_EQ(e->fee, Fee(2500));
  EXPECT_EQ(e->fee, 60);
  EXPECT_EQ(e->currency, "EUR");
  EXPECT_TRUE(e->refund.empty() && e->failure_reason.empty());
  // A completed checkout cannot be paid twice.
  EXPECT_EQ(PostJson(sim_->port(), "/control/checkouts/" + c->id + "/pay", {{"outcome", "succeed"}}).status,
            409);
}

TEST_F(ProviderTest, BuyerPagePaymentRedirectsBackAndSendsTheWebhook) {
  auto c = provider_->CreateCheckout(Request(4200));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  const Reply r = Call(sim_->port(), bhttp::verb::post, "/pay/" + c->id, "outcome=succeed",
                       {{"Content-Type", "application/x-www-form-urlencoded"}});
  EXPECT_EQ(r.status, 303) << r.body;
  EXPECT_EQ(r.location, Request(4200).return_url + "?checkout=" + c->id + "&status=succeeded");
  sim_->Flush();
  const auto events = Events();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].type, "payment.succeeded");
  EXPECT_EQ(events[0].amount, 4200);
}

TEST_F(ProviderTest, DeclinedPaymentSendsPaymentFailedWithAReason) {
  auto c = provider_->CreateCheckout(Request(2500));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  const std::string payment = sim_->Pay(c->id, "fail");
  sim_->Flush();
  const auto events = Events();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].type, "payment.failed");
  EXPECT_EQ(events[0].payment, payment);
  EXPECT_EQ(events[0].fee, 0);
  EXPECT_FALSE(events[0].failure_reason.empty());
  // Nothing was captured, so nothing can be refunded.
  auto refund = provider_->Refund({"rf_1", payment, 100, "EUR"});
  EXPECT_EQ(refund.status().code(), StatusCode::kInvalidArgument) << refund.status().ToString();
}

TEST_F(ProviderTest, ReceiverFailingTwiceGetsTheEventOnTheThirdAttempt) {
  receiver_.FailFirst(2);
  PaidPayment(2500);
  const json flushed = sim_->Flush();
  EXPECT_EQ(flushed["delivered"], 1) << flushed;
  EXPECT_EQ(flushed["pending"], 0) << flushed;
  const auto hits = receiver_.Hits();
  ASSERT_EQ(hits.size(), 3u);
  EXPECT_EQ(hits[0].answered, 500);
  EXPECT_EQ(hits[1].answered, 500);
  EXPECT_EQ(hits[2].answered, 200);
  const auto events = Events();  // every attempt signed and valid
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].id, events[1].id);
  EXPECT_EQ(events[0].id, events[2].id);
  const json log = sim_->Deliveries();
  ASSERT_EQ(log.size(), 3u) << log;
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(log[i]["event"], events[0].id);
    EXPECT_EQ(log[i]["type"], "payment.succeeded");
    EXPECT_EQ(log[i]["attempt"], i + 1);
    EXPECT_EQ(log[i]["status"], i < 2 ? 500 : 200);
  }
}

TEST_F(ProviderTest, RefundBeyondTheCapturedAmountIsRefused) {
  const std::string payment = PaidPayment(2500);
  auto first = provider_->Refund({"rf_1", payment, 2000, "EUR"});
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->id.rfind("re_", 0), 0u) << first->id;
  EXPECT_EQ(first->status, "pending");
  auto beyond = provider_->Refund({"rf_2", payment, 501, "EUR"});
  ASSERT_EQ(beyond.status().code(), StatusCode::kInvalidArgument) << beyond.status().ToString();
  EXPECT_NE(beyond.status().message().find("amount"), std::string::npos) << beyond.status().message();
  auto rest = provider_->Refund({"rf_3", payment, 500, "EUR"});
  EXPECT_TRUE(rest.ok()) << rest.status().ToString();
}

TEST_F(ProviderTest, RefundOfAnUnknownPaymentIsRefused) {
  auto r = provider_->Refund({"rf_1", "pay_000000000000000000000000", 100, "EUR"});
  ASSERT_EQ(r.status().code(), StatusCode::kInvalidArgument) << r.status().ToString();
  EXPECT_NE(r.status().message().find("payment"), std::string::npos) << r.status().message();
}

TEST_F(ProviderTest, RefundRetriedWithTheSameIdRefundsOnce) {
  const std::string payment = PaidPayment(2500);
  auto first = provider_->Refund({"rf_1", payment, 2500, "EUR"});
  auto retry = provider_->Refund({"rf_1", payment, 2500, "EUR"});
  ASSERT_TRUE(first.ok() && retry.ok()) << first.status().ToString() << retry.status().ToString();
  EXPECT_EQ(first->id, retry->id);
  // Nothing is left: the retry did not refund a second time.
  auto more = provider_->Refund({"rf_2", payment, 1, "EUR"});
  EXPECT_EQ(more.status().code(), StatusCode::kInvalidArgument) << more.status().ToString();
  sim_->Flush();
  int refunds = 0;
  for (const auto& e : Events()) {
    if (e.type != "refund.succeeded") continue;
    ++refunds;
    EXPECT_EQ(e.refund, first->id);
    EXPECT_EQ(e.refund_reference, "rf_1");
    EXPECT_EQ(e.payment, payment);
    EXPECT_EQ(e.invoice, "inv_0001");
    EXPECT_EQ(e.amount, 2500);
    EXPECT_EQ(e.fee, 0);
  }
  EXPECT_EQ(refunds, 1);
}

TEST_F(ProviderTest, ProviderThatIsDownIsUnavailable) {
  sim_->Stop();
  auto c = provider_->CreateCheckout(Request(2500));
  ASSERT_EQ(c.status().code(), StatusCode::kUnavailable) << c.status().ToString();
  EXPECT_NE(c.status().message().find("unreachable"), std::string::npos) << c.status().message();
  auto r = provider_->Refund({"rf_1", "pay_000000000000000000000000", 100, "EUR"});
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable) << r.status().ToString();
}

TEST_F(ProviderTest, ProviderAnswering503Or429IsUnavailable) {
  auto fake = MakeHttpProvider({receiver_.base(), kApiKey, kSecret, 5000});
  receiver_.Answer(503, R"({"error": "maintenance"})");
  auto c = fake->CreateCheckout(Request(2500));
  ASSERT_EQ(c.status().code(), StatusCode::kUnavailable) << c.status().ToString();
  EXPECT_NE(c.status().message().find("503: maintenance"), std::string::npos) << c.status().message();
  receiver_.Answer(429, R"({"error": "slow down"})");
  EXPECT_EQ(fake->CreateCheckout(Request(2500)).status().code(), StatusCode::kUnavailable);
  // A 2xx without the promised fields: the provider may have acted; a retry with the same key is safe.
  receiver_.Answer(201, R"({"status": "open"})");
  EXPECT_EQ(fake->CreateCheckout(Request(2500)).status().code(), StatusCode::kUnavailable);
  const auto hits = receiver_.Hits();
  ASSERT_EQ(hits.size(), 3u);
  EXPECT_EQ(hits[0].target, "/v1/checkouts");
  const json sent = json::parse(hits[0].body);
  EXPECT_EQ(sent["reference"], "inv_0001");
  EXPECT_EQ(sent["number"], "R-2027-0001");
  EXPECT_EQ(sent["amount"], 2500);
  EXPECT_EQ(sent["webhook_url"], receiver_.url());
}

TEST_F(ProviderTest, OversizedProviderAnswerIsUnavailable) {
  auto fake = MakeHttpProvider({receiver_.base(), kApiKey, kSecret, 5000});
  receiver_.Answer(201, std::string(kMaxProviderResponseBytes + 1, ' '));
  auto c = fake->CreateCheckout(Request(2500));
  ASSERT_EQ(c.status().code(), StatusCode::kUnavailable) << c.status().ToString();
  EXPECT_NE(c.status().message().find("larger than"), std::string::npos) << c.status().message();
}

TEST_F(ProviderTest, SlowProviderTimesOut) {
  auto fake = MakeHttpProvider({receiver_.base(), kApiKey, kSecret, 300});
  receiver_.Delay(milliseconds(1500));
  const auto start = std::chrono::steady_clock::now();
  auto c = fake->CreateCheckout(Request(2500));
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(c.status().code(), StatusCode::kUnavailable) << c.status().ToString();
  EXPECT_LT(took, milliseconds(1200));
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

TEST_F(ProviderTest, PayoutSettlementCsvHasTheHeaderAndTheRightSums) {
  const std::string first = PaidPayment(2500, "inv_0001");
  const std::string second = PaidPayment(1250, "inv_0002");  // 17.5 cents of fee round up to 18
  ASSERT_TRUE(provider_->Refund({"rf_1", first, 500, "EUR"}).ok());
  sim_->Flush();  // the refund has settled
  const Reply payout = PostJson(sim_->port(), "/control/payouts", {{"date", "2027-02-01"}});
  ASSERT_EQ(payout.status, 200) << payout.body;
  const json po = payout.Json();
  const std::string id = po["id"];
  EXPECT_EQ(id.rfind("po_", 0), 0u) << id;
  EXPECT_EQ(Fee(1250), 43);
  EXPECT_EQ(po["net"], (2500 - Fee(2500)) + (1250 - Fee(1250)) - 500);
  const std::string csv = po["csv"];
  EXPECT_EQ(csv.find('\r'), std::string::npos);
  ASSERT_FALSE(csv.empty());
  EXPECT_EQ(csv.back(), '\n');
  const auto lines = Lines(csv);
  ASSERT_EQ(lines.size(), 4u) << csv;
  EXPECT_EQ(lines[0], "payout_id,payout_date,currency,type,payment_reference,invoice_reference,amount,fee");
  EXPECT_EQ(lines[1], id + ",2027-02-01,EUR,payment," + first + ",inv_0001,25.00,0.60");
  EXPECT_EQ(lines[2], id + ",2027-02-01,EUR,payment," + second + ",inv_0002,12.50,0.43");
  EXPECT_EQ(lines[3], id + ",2027-02-01,EUR,refund," + first + ",inv_0001,-5.00,0.00");
  // The sums of the columns give the net.
  std::int64_t amounts = 0, fees = 0;
  for (std::size_t i = 1; i < lines.size(); ++i) {
    const std::string& l = lines[i];
    const auto fee_at = l.rfind(',');
    const auto amount_at = l.rfind(',', fee_at - 1);
    amounts += ParseDecimal(l.substr(amount_at + 1, fee_at - amount_at - 1)).value_or(0);
    fees += ParseDecimal(l.substr(fee_at + 1)).value_or(0);
  }
  EXPECT_EQ(amounts - fees, po["net"]);

  const std::string path = "/v1/settlements/" + id + ".csv";
  const Reply file =
      Call(sim_->port(), bhttp::verb::get, path, "", {{"Authorization", std::string("Bearer ") + kApiKey}});
  EXPECT_EQ(file.status, 200);
  EXPECT_EQ(file.body, csv);
  EXPECT_EQ(Call(sim_->port(), bhttp::verb::get, path).status, 401);
  // Everything was paid out: the next payout is empty.
  EXPECT_EQ(PostJson(sim_->port(), "/control/payouts", {{"date", "2027-02-02"}}).status, 204);
}

class DuplicatingProviderTest : public ProviderTest {
 protected:
  std::vector<std::string> Flags() const override { return {"--duplicates", "3"}; }
};

TEST_F(DuplicatingProviderTest, EachEventArrivesThreeTimesWithTheSameId) {
  const std::string payment = PaidPayment(2500);
  const json flushed = sim_->Flush();
  EXPECT_EQ(flushed["delivered"], 3) << flushed;
  const auto events = Events();
  ASSERT_EQ(events.size(), 3u);
  for (const auto& e : events) {
    EXPECT_EQ(e.id, events[0].id);
    EXPECT_EQ(e.type, "payment.succeeded");
    EXPECT_EQ(e.payment, payment);
  }
}

class ReorderingProviderTest : public ProviderTest {
 protected:
  std::vector<std::string> Flags() const override { return {"--reorder", "--seed", "7"}; }
};

TEST_F(ReorderingProviderTest, PaymentAndItsRefundQueuedTogetherBothArrive) {
  const std::string payment = PaidPayment(2500);
  auto refund = provider_->Refund({"rf_1", payment, 1000, "EUR"});
  ASSERT_TRUE(refund.ok()) << refund.status().ToString();
  sim_->Flush();
  // Either order is allowed; both must arrive, once each.
  const json log = sim_->Deliveries();
  std::map<std::string, int> delivered;
  for (const auto& d : log) {
    if (d["status"] == 200) ++delivered[d["type"].get<std::string>()];
  }
  EXPECT_EQ(delivered["payment.succeeded"], 1) << log;
  EXPECT_EQ(delivered["refund.succeeded"], 1) << log;
  const auto events = Events();
  ASSERT_EQ(events.size(), 2u);
  for (const auto& e : events) EXPECT_EQ(e.payment, payment);
}

class FailingRefundsProviderTest : public ProviderTest {
 protected:
  std::vector<std::string> Flags() const override { return {"--refund-outcome", "fail"}; }
};

TEST_F(FailingRefundsProviderTest, FailedRefundSendsRefundFailedAndFreesTheAmount) {
  const std::string payment = PaidPayment(2500);
  auto refund = provider_->Refund({"rf_1", payment, 2500, "EUR"});
  ASSERT_TRUE(refund.ok()) << refund.status().ToString();
  sim_->Flush();
  std::optional<WebhookEvent> failed;
  for (const auto& e : Events()) {
    if (e.type == "refund.failed") failed = e;
  }
  ASSERT_TRUE(failed.has_value());
  EXPECT_EQ(failed->refund, refund->id);
  EXPECT_EQ(failed->refund_reference, "rf_1");
  EXPECT_FALSE(failed->failure_reason.empty());
  // The failed refund holds nothing back: a new one for the full amount is accepted.
  EXPECT_TRUE(provider_->Refund({"rf_2", payment, 2500, "EUR"}).ok());
}

// ---- the signature check on its own ----

constexpr std::int64_t kT = 1700000000;
constexpr const char* kBody = R"({"id":"evt_1"})";

TEST(WebhookSignatureTest, SignatureMatchesAnIndependentHmacSha256) {
  // Computed with Python's hmac: hmac.new(b"whsec_test", b"1700000000." + body, sha256).hexdigest()
  EXPECT_EQ(SignWebhook("whsec_test", kT, kBody),
            "t=1700000000,v1=c89214b5b5da833daed6f0b8c5bb6bd58cea9022bd80ccc78230f3942d632925");
}

TEST(WebhookSignatureTest, ValidWithinTheToleranceEitherWay) {
  const std::string h = SignWebhook(kSecret, kT, kBody);
  EXPECT_EQ(VerifyWebhookSignature(kSecret, h, kBody, kT), SignatureCheck::kValid);
  EXPECT_EQ(VerifyWebhookSignature(kSecret, h, kBody, kT + 300), SignatureCheck::kValid);
  EXPECT_EQ(VerifyWebhookSignature(kSecret, h, kBody, kT - 300), SignatureCheck::kValid);
  EXPECT_EQ(VerifyWebhookSignature(kSecret, " t=1700000000 , " + h.substr(h.find("v1=")), kBody, kT),
            SignatureCheck::kValid);
}

TEST(WebhookSignatureTest, TooOldIsStale) {
  const std::string h = SignWebhook(kSecret, kT, kBody);
  EXPECT_EQ(VerifyWebhookSignature(kSecret, h, kBody, kT + 301), SignatureCheck::kStale);
  EXPECT_EQ(VerifyWebhookSignature(kSecret, h, kBody, kT + 86400 * 365), SignatureCheck::kStale);
  EXPECT_EQ(VerifyWebhookSignature(kSecret, h, kBody, kT + 10, 5), SignatureCheck::kStale);
}

TEST(WebhookSignatureTest, TooFarInTheFutureIsStale) {
  const std::string h = SignWebhook(kSecret, kT, kBody);
  EXPECT_EQ(VerifyWebhookSignature(kSecret, h, kBody, kT - 301), SignatureCheck::kStale);
  const std::string far = SignWebhook(kSecret, 999999999999999999, kBody);
  EXPECT_EQ(VerifyWebhookSignature(kSecret, far, kBody, kT), SignatureCheck::kStale);
}

TEST(WebhookSignatureTest, OneChangedByteOfTheBodyIsAMismatch) {
  const std::string h = SignWebhook(kSecret, kT, kBody);
  std::string body = kBody;
  body[8] ^= 1;
  EXPECT_EQ(VerifyWebhookSignature(kSecret, h, body, kT), SignatureCheck::kMismatch);
  EXPECT_EQ(VerifyWebhookSignature(kSecret, h, std::string(kBody) + " ", kT), SignatureCheck::kMismatch);
}

TEST(WebhookSignatureTest, AnotherSecretOrAnotherTimestampIsAMismatch) {
  const std::string h = SignWebhook(kSecret, kT, kBody);
  EXPECT_EQ(VerifyWebhookSignature("whsec_other", h, kBody, kT), SignatureCheck::kMismatch);
  EXPECT_EQ(VerifyWebhookSignature("", h, kBody, kT), SignatureCheck::kMismatch);
  EXPECT_EQ(VerifyWebhookSignature("", SignWebhook("", kT, kBody), kBody, kT), SignatureCheck::kMismatch);
  // The timestamp is signed too: moving it forward breaks the signature.
  const std::string moved = "t=1700000100" + h.substr(h.find(','));
  EXPECT_EQ(VerifyWebhookSignature(kSecret, moved, kBody, kT + 100), SignatureCheck::kMismatch);
}

TEST(WebhookSignatureTest, MalformedHeadersAreMalformed) {
  const std::string h = SignWebhook(kSecret, kT, kBody);
  const std::string v1 = h.substr(h.find("v1="));
  const std::string hex = v1.substr(3);
  std::string upper_z = hex;
  upper_z[0] = 'z';
  std::string nine = "t=1700000000";
  for (int i = 0; i < 9; ++i) nine += "," + v1;
  const std::vector<std::string> bad = {
      v1,                                       // no t
      "t=1700000000",                           // no v1
      "t=1700000000,v1=" + upper_z,             // not hex
      "t=1700000000,v1=" + hex.substr(2),       // too short
      "t=1700000000,v1=" + hex + "00",          // too long
      "t=1700000000,v1=",                       // empty v1
      "garbage",                                // no key=value at all
      "t=," + v1,                               // empty t
      "t=-1700000000," + v1,                    // signed t
      "t=17e8," + v1,                           // not digits
      "t=1700000000.5," + v1,                   // fraction
      "t=1234567890123456789," + v1,            // 19 digits
      "t=1700000000,t=1700000000," + v1,        // t twice
      "t=1700000000,," + v1,                    // empty item
      "=1700000000," + v1,                      // empty key
      "t=1700000000;" + v1,                     // wrong separator
      h + "," + std::string(4100, 'x') + "=1",  // longer than 4 KiB
      nine,                                     // more than 8 v1 entries
  };
  for (const auto& header : bad) {
    EXPECT_EQ(VerifyWebhookSignature(kSecret, header, kBody, kT), SignatureCheck::kMalformed) << header;
  }
}

TEST(WebhookSignatureTest, TwoV1ValuesOneOfWhichMatchesIsValid) {
  const std::string h = SignWebhook(kSecret, kT, kBody);
  const std::string old_secret = SignWebhook("whsec_old", kT, kBody);
  const std::string right = h.substr(h.find("v1="));
  const std::string wrong = old_secret.substr(old_secret.find("v1="));
  EXPECT_EQ(VerifyWebhookSignature(kSecret, "t=1700000000," + wrong + "," + right, kBody, kT),
            SignatureCheck::kValid);
  EXPECT_EQ(VerifyWebhookSignature(kSecret, "t=1700000000," + right + "," + wrong, kBody, kT),
            SignatureCheck::kValid);
  EXPECT_EQ(VerifyWebhookSignature("whsec_old", "t=1700000000," + right + "," + wrong, kBody, kT),
            SignatureCheck::kValid);
  // Schemes we do not know are ignored, not fatal.
  EXPECT_EQ(VerifyWebhookSignature(kSecret, "t=1700000000,v0=abc," + right, kBody, kT),
            SignatureCheck::kValid);
  EXPECT_EQ(VerifyWebhookSignature(kSecret, "t=1700000000," + wrong + "," + wrong, kBody, kT),
            SignatureCheck::kMismatch);
}

TEST(WebhookSignatureTest, MissingHeaderIsMissing) {
  EXPECT_EQ(VerifyWebhookSignature(kSecret, "", kBody, kT), SignatureCheck::kMissing);
  EXPECT_EQ(VerifyWebhookSignature(kSecret, "  \t ", kBody, kT), SignatureCheck::kMissing);
}

TEST(WebhookSignatureTest, NamesOfTheResults) {
  EXPECT_STREQ(SignatureCheckName(SignatureCheck::kValid), "valid");
  EXPECT_STREQ(SignatureCheckName(SignatureCheck::kMissing), "missing");
  EXPECT_STREQ(SignatureCheckName(SignatureCheck::kMalformed), "malformed");
  EXPECT_STREQ(SignatureCheckName(SignatureCheck::kMismatch), "mismatch");
  EXPECT_STREQ(SignatureCheckName(SignatureCheck::kStale), "stale");
}

// ---- the webhook parser on its own ----

json PaymentEvent() {
  return {{"id", "evt_0123"},
          {"type", "payment.succeeded"},
          {"created", kT},
          {"data",
           {{"tenant", "stadt"},
            {"checkout", "cs_01"},
            {"payment", "pay_01"},
            {"invoice", "inv_0001"},
            {"amount", 2500},
            {"fee", 60},
            {"currency", "EUR"}}}};
}

json RefundEvent() {
  json e = PaymentEvent();
  e["type"] = "refund.failed";
  e["data"]["refund"] = "re_01";
  e["data"]["refund_reference"] = "rf_1";
  e["data"]["fee"] = 0;
  e["data"]["failure_reason"] = "insufficient_balance";
  return e;
}

TEST(WebhookParseTest, PaymentEventParsesEveryField) {
  json doc = PaymentEvent();
  doc["data"]["something_new"] = {1, 2, 3};  // unknown fields are ignored
  auto e = ParseWebhook(doc.dump());
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ(e->id, "evt_0123");
  EXPECT_EQ(e->type, "payment.succeeded");
  EXPECT_EQ(e->created, kT);
  EXPECT_EQ(e->tenant, "stadt");
  EXPECT_EQ(e->checkout, "cs_01");
  EXPECT_EQ(e->payment, "pay_01");
  EXPECT_EQ(e->invoice, "inv_0001");
  EXPECT_EQ(e->amount, 2500);
  EXPECT_EQ(e->fee, 60);
  EXPECT_EQ(e->currency, "EUR");
  EXPECT_TRUE(e->refund.empty() && e->refund_reference.empty() && e->failure_reason.empty());
}

TEST(WebhookParseTest, RefundEventParsesEveryField) {
  auto e = ParseWebhook(RefundEvent().dump());
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ(e->type, "refund.failed");
  EXPECT_EQ(e->refund, "re_01");
  EXPECT_EQ(e->refund_reference, "rf_1");
  EXPECT_EQ(e->failure_reason, "insufficient_balance");
}

TEST(WebhookParseTest, BadInputIsRefusedNamingTheField) {
  struct Case {
    std::string body;
    std::string field;  // expected at the start of the message
  };
  auto with = [](json doc, const std::string& pointer, json value) {
    doc[json::json_pointer(pointer)] = std::move(value);
    return doc.dump();
  };
  auto without = [](json doc, const std::string& key) {
    if (doc.contains(key)) {
      doc.erase(key);
    } else {
      doc["data"].erase(key);
    }
    return doc.dump();
  };
  const json p = PaymentEvent();
  const std::vector<Case> cases = {
      {"", "body"},
      {"not json", "body"},
      {"{\"id\": ", "body"},
      {"[1, 2]", "body"},
      {"\"evt\"", "body"},
      {std::string(kMaxWebhookBytes + 1, ' '), "body"},
      {without(p, "id"), "id"},
      {with(p, "/id", ""), "id"},
      {with(p, "/id", 17), "id"},
      {with(p, "/type", "payment.refunded"), "type"},
      {with(p, "/type", "PAYMENT.SUCCEEDED"), "type"},
      {without(p, "type"), "type"},
      {with(p, "/created", -1), "created"},
      {with(p, "/created", "1700000000"), "created"},
      {with(p, "/data", "x"), "data"},
      {without(p, "data"), "data"},
      {without(p, "payment"), "data.payment"},
      {with(p, "/data/payment", ""), "data.payment"},
      {with(p, "/data/payment", json::array()), "data.payment"},
      {without(p, "tenant"), "data.tenant"},
      {without(p, "invoice"), "data.invoice"},
      {with(p, "/data/amount", 0), "data.amount"},
      {with(p, "/data/amount", -5), "data.amount"},
      {with(p, "/data/amount", 12.5), "data.amount"},
      {with(p, "/data/amount", 25.0), "data.amount"},
      {with(p, "/data/amount", "2500"), "data.amount"},
      {with(p, "/data/amount", true), "data.amount"},
      {with(p, "/data/amount", 18446744073709551615ULL), "data.amount"},
      {without(p, "amount"), "data.amount"},
      {with(p, "/data/fee", -1), "data.fee"},
      {without(p, "fee"), "data.fee"},
      {with(p, "/data/currency", "eur"), "data.currency"},
      {with(p, "/data/tenant", std::string(201, 'a')), "data.tenant"},
      {with(p, "/data/invoice", std::string(1000, 'a')), "data.invoice"},
      {with(p, "/data/failure_reason", std::string(201, 'a')), "data.failure_reason"},
      {with(p, "/type", "refund.succeeded"), "data.refund"},
      {without(RefundEvent(), "refund"), "data.refund"},
      {without(RefundEvent(), "refund_reference"), "data.refund_reference"},
  };
  for (const auto& c : cases) {
    auto e = ParseWebhook(c.body);
    ASSERT_EQ(e.status().code(), StatusCode::kInvalidArgument) << c.body.substr(0, 300);
    EXPECT_EQ(e.status().message().rfind(c.field + ":", 0), 0u)
        << e.status().message() << " for " << c.body.substr(0, 300);
  }
  // 200 bytes is still fine.
  EXPECT_TRUE(ParseWebhook(with(p, "/data/tenant", std::string(200, 'a'))).ok());
}

}  // namespace
}  // namespace saalbuch::integrations
