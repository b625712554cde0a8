// Hashing, randomness and authenticated encryption (OpenSSL).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace saalbuch {

using Sha256 = std::array<std::uint8_t, 32>;

// SHA-256 of the concatenation a ‖ b.
Sha256 Sha256Of(std::string_view a, std::string_view b = {});

// HMAC-SHA-256 of `message` under `key` (RFC 2104).
Sha256 HmacSha256(std::string_view key, std::string_view message);

std::string ToHex(std::string_view bytes);
// The bytes of lower- or upper-case `hex`; nullopt when it is not hex.
std::optional<std::string> FromHex(std::string_view hex);
inline std::string ToHex(const Sha256& h) {
  return ToHex(std::string_view(reinterpret_cast<const char*>(h.data()), h.size()));
}
inline std::string_view AsBytes(const Sha256& h) {
  return {reinterpret_cast<const char*>(h.data()), h.size()};
}

// `n` bytes from the OS CSPRNG, hex encoded (2n characters). Aborts if the
// CSPRNG fails: there is no safe way to continue without randomness.
std::string RandomHex(std::size_t n);

// `n` raw bytes from the OS CSPRNG (aborts like RandomHex).
std::string RandomBytes(std::size_t n);

// AES-256-GCM with a random 96-bit nonce: nonce ‖ ciphertext ‖ 16-byte tag.
// `key` has 32 bytes; `aad` is authenticated but not encrypted (bind the
// ciphertext to where it belongs, e.g. tenant and person).
std::string Seal(std::string_view key, std::string_view plaintext, std::string_view aad);
// The plaintext, or nullopt when `sealed` was not made by Seal with this key
// and aad (or was altered).
std::optional<std::string> Open(std::string_view key, std::string_view sealed, std::string_view aad);

// Ed25519 (RFC 8032). A private key is its 32-byte seed.
struct Ed25519Keys {
  std::string seed;        // 32 bytes, secret
  std::string public_key;  // 32 bytes
};
Ed25519Keys Ed25519Generate();
// The public key of `seed`; empty when the seed is malformed.
std::string Ed25519PublicKey(std::string_view seed);
std::string Ed25519Sign(std::string_view seed, std::string_view message);  // 64 bytes
bool Ed25519Verify(std::string_view public_key, std::string_view message, std::string_view signature);

std::string Base64Encode(std::string_view bytes);
std::optional<std::string> Base64Decode(std::string_view text);

// Constant-time equality of two equally long byte strings.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

// Whether `secret` is the one whose SHA-256 is `stored_hash` (raw bytes).
// An empty secret or an empty stored hash never matches.
bool SecretMatches(std::string_view secret, std::string_view stored_hash);

}  // namespace saalbuch
