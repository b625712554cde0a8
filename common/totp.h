// Time-based one-time passwords (RFC 6238 with the defaults every
// authenticator app uses: HMAC-SHA1, 30-second steps, 6 digits), the back
// office's optional second factor.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace saalbuch {

inline constexpr std::int64_t kTotpStepSeconds = 30;
inline constexpr std::size_t kTotpSecretBytes = 20;  // 160 bits, as RFC 4226 recommends

// The 6-digit code of `secret` (raw bytes) for time step `step`
// (Unix seconds / 30).
std::string TotpCode(std::string_view secret, std::int64_t step);

// The time step whose code `code` is, among the step of `now_us` (Unix
// microseconds) and the one before and after it (a phone's clock may be
// off by a little); nullopt when none matches or `code` is not 6 digits.
std::optional<std::int64_t> TotpMatch(std::string_view secret, std::string_view code, std::int64_t now_us);

// RFC 4648 base32 without padding (how authenticator apps take a secret),
// and back (letters of either case, spaces ignored); nullopt when not base32.
std::string Base32(std::string_view bytes);
std::optional<std::string> FromBase32(std::string_view text);

}  // namespace saalbuch
