#include "common/crypto.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <cstdlib>
#include <stdexcept>

namespace saalbuch {

Sha256 HmacSha256(std::string_view key, std::string_view message) {
  Sha256 out{};
  unsigned int len = 0;
  if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(message.data()), message.size(), out.data(),
           &len) == nullptr ||
      len != out.size()) {
    throw std::runtime_error("HMAC-SHA-256 failed in OpenSSL");
  }
  return out;
}

Sha256 Sha256Of(std::string_view a, std::string_view b) {
  Sha256 out{};
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  unsigned int len = 0;
  bool ok = ctx != nullptr && EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr) == 1 &&
            EVP_DigestUpdate(ctx, a.data(), a.size()) == 1 &&
            EVP_DigestUpdate(ctx, b.data(), b.size()) == 1 && EVP_DigestFinal_ex(ctx, out.data(), &len) == 1;
  EVP_MD_CTX_free(ctx);
  if (!ok) throw std::runtime_error("SHA-256 failed in OpenSSL");
  return out;
}

std::string ToHex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 0xf]);
  }
  return out;
}

std::optional<std::string> FromHex(std::string_view hex) {
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  if (hex.size() % 2 != 0) return std::nullopt;
  std::string out;
  out.reserve(hex.size() / 2);
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    const int hi = nibble(hex[i]), lo = nibble(hex[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>((hi << 4) | lo));
  }
  return out;
}

std::string RandomHex(std::size_t n) {
  std::string buf(n, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(buf.data()), static_cast<int>(n)) != 1) {
    std::abort();
  }
  return ToHex(buf);
}

std::string RandomBytes(std::size_t n) {
  std::string buf(n, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(buf.data()), static_cast<int>(n)) != 1) std::abort();
  return buf;
}

namespace {

constexpr std::size_t kNonce = 12;
constexpr std::size_t kTag = 16;

const unsigned char* U(std::string_view s) { return reinterpret_cast<const unsigned char*>(s.data()); }

struct CipherCtx {
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  ~CipherCtx() { EVP_CIPHER_CTX_free(ctx); }
};

}  // namespace

std::string Seal(std::string_view key, std::string_view plaintext, std::string_view aad) {
  if (key.size() != 32) throw std::invalid_argument("Seal needs a 32-byte key");
  std::string out = RandomBytes(kNonce);
  out.resize(kNonce + plaintext.size() + kTag);
  auto* dst = reinterpret_cast<unsigned char*>(out.data());
  CipherCtx c;
  int len = 0, fin = 0;
  const bool ok =
      c.ctx != nullptr && EVP_EncryptInit_ex(c.ctx, EVP_aes_256_gcm(), nullptr, nullptr, nullptr) == 1 &&
      EVP_EncryptInit_ex(c.ctx, nullptr, nullptr, U(key), dst) == 1 &&
      EVP_EncryptUpdate(c.ctx, nullptr, &len, U(aad), static_cast<int>(aad.size())) == 1 &&
      EVP_EncryptUpdate(c.ctx, dst + kNonce, &len, U(plaintext), static_cast<int>(plaintext.size())) == 1 &&
      EVP_EncryptFinal_ex(c.ctx, dst + kNonce + len, &fin) == 1 &&
      EVP_CIPHER_CTX_ctrl(c.ctx, EVP_CTRL_GCM_GET_TAG, kTag, dst + kNonce + plaintext.size()) == 1;
  if (!ok) throw std::runtime_error("AES-256-GCM encryption failed in OpenSSL");
  return out;
}

std::optional<std::string> Open(std::string_view key, std::string_view sealed, std::string_view aad) {
  if (key.size() != 32 || sealed.size() < kNonce + kTag) return std::nullopt;
  const std::size_t n = sealed.size() - kNonce - kTag;
  std::string out(n, '\0');
  std::string tag(sealed.substr(kNonce + n));
  CipherCtx c;
  int len = 0, fin = 0;
  const bool ok = c.ctx != nullptr &&
                  EVP_DecryptInit_ex(c.ctx, EVP_aes_256_gcm(), nullptr, nullptr, nullptr) == 1 &&
                  EVP_DecryptInit_ex(c.ctx, nullptr, nullptr, U(key), U(sealed)) == 1 &&
                  EVP_DecryptUpdate(c.ctx, nullptr, &len, U(aad), static_cast<int>(aad.size())) == 1 &&
                  EVP_DecryptUpdate(c.ctx, reinterpret_cast<unsigned char*>(out.data()), &len,
                                    U(sealed) + kNonce, static_cast<int>(n)) == 1 &&
                  EVP_CIPHER_CTX_ctrl(c.ctx, EVP_CTRL_GCM_SET_TAG, kTag, tag.data()) == 1 &&
                  EVP_DecryptFinal_ex(c.ctx, reinterpret_cast<unsigned char*>(out.data()) + len, &fin) == 1;
  if (!ok) return std::nullopt;
  return out;
}

namespace {

struct PKey {
  EVP_PKEY* key = nullptr;
  ~PKey() { EVP_PKEY_free(key); }
};
struct MdCtx {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  ~MdCtx() { EVP_MD_CTX_free(ctx); }
};

}  // namespace

std::string Ed25519PublicKey(std::string_view seed) {
  if (seed.size() != 32) return {};
  PKey k{EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, U(seed), seed.size())};
  std::string pub(32, '\0');
  std::size_t len = pub.size();
  if (k.key == nullptr ||
      EVP_PKEY_get_raw_public_key(k.key, reinterpret_cast<unsigned char*>(pub.data()), &len) != 1 ||
      len != 32) {
    return {};
  }
  return pub;
}

Ed25519Keys Ed25519Generate() {
  Ed25519Keys k;
  k.seed = RandomBytes(32);
  k.public_key = Ed25519PublicKey(k.seed);
  if (k.public_key.empty()) throw std::runtime_error("Ed25519 key generation failed in OpenSSL");
  return k;
}

std::string Ed25519Sign(std::string_view seed, std::string_view message) {
  PKey k{EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, U(seed), seed.size())};
  MdCtx c;
  std::string sig(64, '\0');
  std::size_t len = sig.size();
  if (k.key == nullptr || c.ctx == nullptr ||
      EVP_DigestSignInit(c.ctx, nullptr, nullptr, nullptr, k.key) != 1 ||
      EVP_DigestSign(c.ctx, reinterpret_cast<unsigned char*>(sig.data()), &len, U(message), message.size()) !=
          1 ||
      len != 64) {
    throw std::runtime_error("Ed25519 signing failed in OpenSSL");
  }
  return sig;
}

bool Ed25519Verify(std::string_view public_key, std::string_view message, std::string_view signature) {
  if (public_key.size() != 32 || signature.size() != 64) return false;
  PKey k{EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, U(public_key), public_key.size())};
  MdCtx c;
  return k.key != nullptr && c.ctx != nullptr &&
         EVP_DigestVerifyInit(c.ctx, nullptr, nullptr, nullptr, k.key) == 1 &&
         EVP_DigestVerify(c.ctx, U(signature), signature.size(), U(message), message.size()) == 1;
}

std::string Base64Encode(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int n =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), U(bytes), static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::optional<std::string> Base64Decode(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  // Padding is at most two '=' at the very end; EVP_DecodeBlock counts them
  // as zero bytes, so they come off its length (and "====" is no text).
  std::size_t padding = 0;
  while (padding < text.size() && text[text.size() - 1 - padding] == '=') ++padding;
  if (padding > 2 || text.find('=') < text.size() - padding) return std::nullopt;
  std::string out(text.size() / 4 * 3, '\0');
  const int n =
      EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()), U(text), static_cast<int>(text.size()));
  if (n < 0 || static_cast<std::size_t>(n) < padding) return std::nullopt;
  out.resize(static_cast<std::size_t>(n) - padding);
  return out;
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

bool SecretMatches(std::string_view secret, std::string_view stored_hash) {
  return !secret.empty() && !stored_hash.empty() &&
         ConstantTimeEquals(AsBytes(Sha256Of(secret)), stored_hash);
}

}  // namespace saalbuch
