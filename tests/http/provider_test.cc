// The webhook signature check and the webhook parser, mostly with wrong
// input.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "http/provider.h"

namespace saalbuch::http {
namespace {

using nlohmann::json;

constexpr const char* kSecret = "whsec_test_fedcba9876543210";

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
}  // namespace saalbuch::http
