#include "integrations/provider.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <charconv>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <vector>

#include "common/crypto.h"
#include "common/money.h"
#include "integrations/http_post.h"

namespace saalbuch::integrations {

using nlohmann::json;

namespace {

constexpr std::size_t kMaxHeaderValue = 255;  // Idempotency-Key
constexpr std::size_t kMaxSignatureHeader = 4096;
constexpr std::size_t kMaxSignatures = 8;         // v1 entries per header
constexpr std::size_t kMaxEventString = 200;      // bytes per webhook string field
constexpr std::size_t kMaxResponseString = 2048;  // bytes per id or URL the provider returns
constexpr std::size_t kMaxQuoted = 200;           // bytes of a provider's answer quoted in a message

Status Invalid(std::string message) { return {StatusCode::kInvalidArgument, std::move(message)}; }
Status Unavailable(std::string message) { return {StatusCode::kUnavailable, std::move(message)}; }

// The raw HMAC-SHA256(secret, t "." body).
std::string Mac(std::string_view secret, std::int64_t t, std::string_view body) {
  std::string message = std::to_string(t);
  message += '.';
  message.append(body);
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  // The one-shot HMAC() is not among OpenSSL 3's deprecated HMAC_CTX calls.
  if (HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
           reinterpret_cast<const unsigned char*>(message.data()), message.size(), out, &len) == nullptr) {
    return {};
  }
  return {reinterpret_cast<const char*>(out), len};
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Printable ASCII only: a CR or LF in a header value would start a header of the caller's choosing.
bool HeaderSafe(std::string_view v) {
  return v.size() <= kMaxHeaderValue &&
         std::all_of(v.begin(), v.end(), [](char c) { return c >= 0x20 && c < 0x7f; });
}

// Up to kMaxQuoted bytes of the provider's words, control characters replaced: they end up in our logs.
std::string Quote(std::string_view s) {
  std::string out(s.substr(0, kMaxQuoted));
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  }
  return out;
}

// The provider's "error" text, else the start of its body.
std::string ErrorText(const json& doc, std::string_view body) {
  if (doc.is_object()) {
    if (auto it = doc.find("error"); it != doc.end() && it->is_string()) {
      return Quote(it->get_ref<const std::string&>());
    }
  }
  return Quote(body);
}

// The string member `name` of a provider answer; empty when absent, not a string or unreasonably long.
std::string AnswerString(const json& doc, const char* name) {
  auto it = doc.find(name);
  if (it == doc.end() || !it->is_string() || it->get_ref<const std::string&>().size() > kMaxResponseString) {
    return {};
  }
  return it->get<std::string>();
}

class HttpProvider final : public PaymentProvider {
 public:
  explicit HttpProvider(ProviderConfig config) : config_(std::move(config)) {
    while (!config_.base_url.empty() && config_.base_url.back() == '/') config_.base_url.pop_back();
  }

  Result<Checkout> CreateCheckout(const CheckoutRequest& r) override {
    if (r.tenant.empty() || r.invoice.empty() || r.number.empty() || r.return_url.empty() ||
        r.webhook_url.empty() || r.idempotency_key.empty()) {
      return Invalid(
          "checkout: tenant, invoice, number, return_url, webhook_url and idempotency_key are required");
    }
    if (r.amount <= 0) return Invalid("checkout: amount must be positive");
    if (!IsValidCurrency(r.currency)) return Invalid("checkout: currency is not an ISO 4217 code");
    if (!HeaderSafe(r.idempotency_key))
      return Invalid("checkout: idempotency_key is not a printable header value");
    const json body = {{"reference", r.invoice},     {"number", r.number},
                       {"tenant", r.tenant},         {"amount", r.amount},
                       {"currency", r.currency},     {"description", r.description},
                       {"return_url", r.return_url}, {"webhook_url", r.webhook_url}};
    auto answer = Post("/v1/checkouts", body, r.idempotency_key);
    if (!answer.ok()) return answer.status();
    Checkout c{AnswerString(*answer, "id"), AnswerString(*answer, "url")};
    if (c.id.empty() || c.url.empty()) return Unavailable("provider answered a checkout without id or url");
    return c;
  }

  Result<RefundTicket> Refund(const RefundRequest& r) override {
    if (r.refund.empty() || r.payment.empty()) return Invalid("refund: refund and payment are required");
    if (r.amount <= 0) return Invalid("refund: amount must be positive");
    if (!IsValidCurrency(r.currency)) return Invalid("refund: currency is not an ISO 4217 code");
    if (!HeaderSafe(r.refund)) return Invalid("refund: refund id is not a printable header value");
    const json body = {
        {"payment", r.payment}, {"amount", r.amount}, {"currency", r.currency}, {"reference", r.refund}};
    auto answer = Post("/v1/refunds", body, r.refund);
    if (!answer.ok()) return answer.status();
    RefundTicket t{AnswerString(*answer, "id"), AnswerString(*answer, "status")};
    if (t.id.empty() || t.status.empty())
      return Unavailable("provider answered a refund without id or status");
    return t;
  }

 private:
  // POSTs `body` to base_url + path; the answer of a 2xx as a JSON object, or the error per the contract.
  Result<json> Post(const std::string& path, const json& body, const std::string& idempotency_key) const {
    if (config_.base_url.empty()) return Unavailable("payments through a provider are off");
    // Invalid UTF-8 from a caller becomes U+FFFD instead of an exception from dump().
    const std::string payload = body.dump(-1, ' ', false, json::error_handler_t::replace);
    auto answer =
        HttpPost(config_.base_url + path, payload,
                 {"Content-Type: application/json", "Accept: application/json",
                  "Authorization: Bearer " + config_.api_key, "Idempotency-Key: " + idempotency_key},
                 config_.timeout_ms, kMaxProviderResponseBytes);
    if (!answer.ok()) {
      const std::string& m = answer.status().message();
      return Unavailable(m.starts_with("answer larger") ? "provider " + m : "provider unreachable: " + m);
    }
    const long status = answer->status;
    const std::string& text = answer->body;
    json doc = json::parse(text, nullptr, false);
    const std::string code = std::to_string(status);
    if (status >= 400 && status < 500 && status != 429) {
      return Invalid("provider refused (" + code + "): " + ErrorText(doc, text));
    }
    // 429, 5xx and the unexpected: the request may or may not have been acted on, and retrying with the same
    // Idempotency-Key is safe either way.
    if (status < 200 || status >= 300)
      return Unavailable("provider answered " + code + ": " + ErrorText(doc, text));
    if (!doc.is_object()) return Unavailable("provider answered " + code + " without a JSON object");
    return doc;
  }

  ProviderConfig config_;  // immutable after construction: calls share nothing else
};

// ---- webhook parsing ----

// obj[name] as a string into *out. Absent or null is fine unless required; present must be a string of at
// most kMaxEventString bytes, and non-empty when required.
Status ReadString(const json& obj, const std::string& field, const char* name, bool required,
                  std::string* out) {
  auto it = obj.find(name);
  if (it == obj.end() || it->is_null()) return required ? Invalid(field + ": missing") : Status::Ok();
  if (!it->is_string()) return Invalid(field + ": not a string");
  const auto& s = it->get_ref<const std::string&>();
  if (required && s.empty()) return Invalid(field + ": empty");
  if (s.size() > kMaxEventString)
    return Invalid(field + ": longer than " + std::to_string(kMaxEventString) + " bytes");
  *out = s;
  return Status::Ok();
}

// obj[name], required, as an integer ≥ min into *out; `what` names the expectation in the message.
Status ReadInt(const json& obj, const std::string& field, const char* name, std::int64_t min,
               const char* what, std::int64_t* out) {
  auto it = obj.find(name);
  if (it == obj.end() || it->is_null()) return Invalid(field + ": missing");
  const bool fits =
      it->is_number_integer() &&
      (!it->is_number_unsigned() ||
       it->get<std::uint64_t>() <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()));
  if (!fits || it->get<std::int64_t>() < min) return Invalid(field + ": not " + what);
  *out = it->get<std::int64_t>();
  return Status::Ok();
}

}  // namespace

std::unique_ptr<PaymentProvider> MakeHttpProvider(ProviderConfig config) {
  return std::make_unique<HttpProvider>(std::move(config));
}

const char* SignatureCheckName(SignatureCheck c) {
  switch (c) {
    case SignatureCheck::kValid:
      return "valid";
    case SignatureCheck::kMissing:
      return "missing";
    case SignatureCheck::kMalformed:
      return "malformed";
    case SignatureCheck::kMismatch:
      return "mismatch";
    case SignatureCheck::kStale:
      return "stale";
  }
  return "unknown";
}

std::string SignWebhook(std::string_view secret, std::int64_t t, std::string_view body) {
  return "t=" + std::to_string(t) + ",v1=" + ToHex(Mac(secret, t, body));
}

SignatureCheck VerifyWebhookSignature(std::string_view secret, std::string_view header, std::string_view body,
                                      std::int64_t now_unix, std::int64_t tolerance_s) {
  header = Trim(header);
  if (header.empty()) return SignatureCheck::kMissing;
  if (header.size() > kMaxSignatureHeader) return SignatureCheck::kMalformed;
  std::optional<std::int64_t> t;
  std::vector<std::string> signatures;
  while (true) {
    const std::size_t comma = header.find(',');
    const std::string_view item = Trim(header.substr(0, comma));
    const std::size_t eq = item.find('=');
    if (eq == std::string_view::npos || eq == 0) return SignatureCheck::kMalformed;
    const std::string_view key = item.substr(0, eq);
    const std::string_view value = item.substr(eq + 1);
    if (key == "t") {
      std::int64_t v = 0;
      // At most 18 digits: t ± tolerance cannot overflow, and no sign or blank is accepted.
      const bool digits =
          !value.empty() && value.size() <= 18 &&
          std::all_of(value.begin(), value.end(), [](char ch) { return ch >= '0' && ch <= '9'; });
      if (t || !digits) return SignatureCheck::kMalformed;
      std::from_chars(value.data(), value.data() + value.size(), v);
      t = v;
    } else if (key == "v1") {
      std::optional<std::string> raw = value.size() == 64 ? FromHex(value) : std::nullopt;
      if (!raw || signatures.size() == kMaxSignatures) return SignatureCheck::kMalformed;
      signatures.push_back(std::move(*raw));
    }  // other schemes are ignored, as providers announce new ones alongside the old
    if (comma == std::string_view::npos) break;
    header.remove_prefix(comma + 1);
  }
  if (!t || signatures.empty()) return SignatureCheck::kMalformed;
  if (secret.empty()) return SignatureCheck::kMismatch;  // an unset secret must not verify anything
  const std::string expected = Mac(secret, *t, body);
  bool match = false;
  for (const std::string& s : signatures) match |= ConstantTimeEquals(s, expected);
  if (!match) return SignatureCheck::kMismatch;
  const std::int64_t tolerance = std::clamp<std::int64_t>(tolerance_s, 0, std::int64_t{1} << 40);
  const std::int64_t now = std::clamp<std::int64_t>(now_unix, 0, std::int64_t{1} << 60);
  if (*t > now + tolerance || *t < now - tolerance) return SignatureCheck::kStale;
  return SignatureCheck::kValid;
}

Result<WebhookEvent> ParseWebhook(std::string_view body) {
  if (body.size() > kMaxWebhookBytes) {
    return Invalid("body: larger than " + std::to_string(kMaxWebhookBytes) + " bytes");
  }
  const json doc = json::parse(body, nullptr, false);
  if (doc.is_discarded()) return Invalid("body: not JSON");
  if (!doc.is_object()) return Invalid("body: not a JSON object");
  WebhookEvent e;
  Status s = ReadString(doc, "id", "id", true, &e.id);
  if (s.ok()) s = ReadString(doc, "type", "type", true, &e.type);
  if (!s.ok()) return s;
  const bool refund = e.type == "refund.succeeded" || e.type == "refund.failed";
  if (!refund && e.type != "payment.succeeded" && e.type != "payment.failed") {
    return Invalid("type: unknown event type \"" + Quote(e.type) + "\"");
  }
  if (s = ReadInt(doc, "created", "created", 0, "a non-negative integer", &e.created); !s.ok()) return s;
  auto data = doc.find("data");
  if (data == doc.end() || !data->is_object()) return Invalid("data: missing or not an object");
  const json& d = *data;
  struct Text {
    const char* name;
    bool required;
    std::string* out;
  };
  const Text texts[] = {{"tenant", true, &e.tenant},
                        {"checkout", true, &e.checkout},
                        {"payment", true, &e.payment},
                        {"invoice", true, &e.invoice},
                        {"currency", true, &e.currency},
                        {"refund", refund, &e.refund},
                        {"refund_reference", refund, &e.refund_reference},
                        {"failure_reason", false, &e.failure_reason}};
  for (const Text& f : texts) {
    if (s = ReadString(d, std::string("data.") + f.name, f.name, f.required, f.out); !s.ok()) return s;
  }
  if (!IsValidCurrency(e.currency)) return Invalid("data.currency: not an ISO 4217 code");
  if (s = ReadInt(d, "data.amount", "amount", 1, "a positive integer", &e.amount); !s.ok()) return s;
  if (s = ReadInt(d, "data.fee", "fee", 0, "a non-negative integer", &e.fee); !s.ok()) return s;
  return e;
}

}  // namespace saalbuch::integrations
