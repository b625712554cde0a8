// Payments through an external provider: the adapter that creates checkouts
// and refunds, and the webhook side (signature check, parsing).
//
// The protocol is written down as a grammar in tools/payprovider/README.md;
// tools/payprovider/payprovider.py is a simulated provider that speaks it.
//
// Money is in minor units (cents). Nothing here knows about invoices or
// bookings beyond passing our ids through: what a webhook means for an
// invoice is decided in commands/.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/result.h"

namespace saalbuch::integrations {

struct ProviderConfig {
  std::string base_url;  // e.g. http://127.0.0.1:9000 ; empty: payments through a provider are off
  std::string api_key;
  std::string webhook_secret;  // shared secret of the webhook signatures
  long timeout_ms = 10000;     // per provider call
};

struct CheckoutRequest {
  std::string tenant;
  std::string invoice;  // our invoice id: the provider's "reference"
  std::string number;   // the invoice's human number
  std::int64_t amount = 0;
  std::string currency = "EUR";
  std::string description;
  std::string return_url;
  std::string webhook_url;
  std::string idempotency_key;
};

struct Checkout {
  std::string id;
  std::string url;
};

struct RefundRequest {
  std::string refund;   // our refund id; also the Idempotency-Key, so a retry after a crash refunds once
  std::string payment;  // the provider's payment reference
  std::int64_t amount = 0;
  std::string currency = "EUR";
};

struct RefundTicket {
  std::string id;
  std::string status;
};

// The adapter interface: one implementation per provider. Thread-safe.
class PaymentProvider {
 public:
  virtual ~PaymentProvider() = default;
  // kUnavailable: network failure, timeout or 5xx (retry later); kInvalidArgument: the provider refused
  // (4xx), with its message.
  virtual Result<Checkout> CreateCheckout(const CheckoutRequest& r) = 0;
  virtual Result<RefundTicket> Refund(const RefundRequest& r) = 0;
};

// The largest provider response the HTTP provider reads; a larger one fails the call with kUnavailable.
inline constexpr std::size_t kMaxProviderResponseBytes = std::size_t{1} << 20;

// The HTTP provider above (libcurl, already a dependency: CURL::libcurl). Bounded: timeout, response size
// ≤ 1 MiB. Each call is one request on a connection of its own; redirects are not followed; the usual proxy
// variables (https_proxy, no_proxy) apply.
//
// Beyond the interface's contract:
//  * kUnavailable also for 429, for an unexpected status (1xx, 3xx) and for a 2xx whose body is not what
//    the protocol promises: the provider may have acted, and a retry with the same Idempotency-Key returns
//    the same checkout or refund.
//  * kInvalidArgument without a request when the request cannot be sent: amount ≤ 0, a required field
//    empty, an idempotency key or refund id with control characters or longer than 255 bytes. The message
//    of a refusal starts with "provider refused (<status>): ".
//  * With an empty base_url every call fails with kUnavailable ("payments through a provider are off").
std::unique_ptr<PaymentProvider> MakeHttpProvider(ProviderConfig config);

// The request header that carries a webhook's signature.
inline constexpr std::string_view kSignatureHeader = "Provider-Signature";

enum class SignatureCheck { kValid, kMissing, kMalformed, kMismatch, kStale };
const char* SignatureCheckName(SignatureCheck c);  // "valid", "missing", "malformed", "mismatch", "stale"

// Verifies a `Provider-Signature` header over `body`: t within ±tolerance of now, some v1 equal (constant
// time, CRYPTO_memcmp) to HMAC-SHA256(secret, t "." body). Several v1 entries are allowed (secret rotation).
//
// kMissing: the header is empty (or only blanks). kMalformed: not `t=<digits>` exactly once and at least
// one `v1=<64 hex digits>` in comma-separated `key=value` items, or longer than 4 KiB, or more than 8 v1
// entries; other keys (e.g. a future v2) are ignored. kMismatch: well formed, no v1 matches (also for an
// empty secret). kStale: some v1 matches, but t is more than tolerance_s away from now_unix — a replay or
// a wrong clock. The signature is judged before the time, so kStale means "authentic but old".
SignatureCheck VerifyWebhookSignature(std::string_view secret, std::string_view header, std::string_view body,
                                      std::int64_t now_unix, std::int64_t tolerance_s = 300);

// The header value for body at time t (tests and the simulator's C++ twin): "t=<t>,v1=<lowercase hex>".
std::string SignWebhook(std::string_view secret, std::int64_t t, std::string_view body);

struct WebhookEvent {
  std::string id;    // the provider's event id
  std::string type;  // payment.succeeded | payment.failed | refund.succeeded | refund.failed
  std::int64_t created = 0;
  std::string tenant, checkout, payment, invoice;
  std::int64_t amount = 0, fee = 0;
  std::string currency;
  std::string refund, refund_reference, failure_reason;
};

// The largest webhook body ParseWebhook accepts.
inline constexpr std::size_t kMaxWebhookBytes = std::size_t{64} * 1024;

// kInvalidArgument with a message naming the field: not JSON, unknown type, missing payment, amount not a
// positive integer, fee negative, refund events without refund id, oversized strings (> 200 bytes).
//
// Also refused: a body over kMaxWebhookBytes; a missing or empty id, tenant or invoice; created not a
// non-negative integer; a field of the wrong JSON type; refund events without refund_reference; a currency
// that is not three upper-case letters. Unknown fields are ignored (the provider may add some). Call it only
// on a body whose signature was verified.
Result<WebhookEvent> ParseWebhook(std::string_view body);

}  // namespace saalbuch::integrations
