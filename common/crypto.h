// Hashing and randomness (OpenSSL).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace saalbuch {

using Sha256 = std::array<std::uint8_t, 32>;

// SHA-256 of the concatenation a ‖ b.
Sha256 Sha256Of(std::string_view a, std::string_view b = {});

std::string ToHex(std::string_view bytes);
inline std::string ToHex(const Sha256& h) {
  return ToHex(std::string_view(reinterpret_cast<const char*>(h.data()), h.size()));
}
inline std::string_view AsBytes(const Sha256& h) {
  return {reinterpret_cast<const char*>(h.data()), h.size()};
}

// `n` bytes from the OS CSPRNG, hex encoded (2n characters). Aborts if the
// CSPRNG fails: there is no safe way to continue without randomness.
std::string RandomHex(std::size_t n);

// Constant-time equality of two equally long byte strings.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

// Whether `secret` is the one whose SHA-256 is `stored_hash` (raw bytes).
// An empty secret or an empty stored hash never matches.
bool SecretMatches(std::string_view secret, std::string_view stored_hash);

}  // namespace saalbuch
