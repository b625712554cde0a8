#include "common/password.h"

#include <sodium.h>

#include <cstdlib>

namespace saalbuch {
namespace {

void Init() {
  // Thread-safe and idempotent; fails only when no randomness is available.
  if (sodium_init() < 0) std::abort();
}

}  // namespace

std::optional<std::string> HashPassword(std::string_view password) {
  Init();
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str(out, password.data(), password.size(), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                        crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
    return std::nullopt;
  }
  return std::string(out);
}

bool PasswordMatches(std::string_view password, std::string_view hash) {
  Init();
  if (hash.empty() || hash.size() >= crypto_pwhash_STRBYTES) return false;
  const std::string terminated(hash);  // crypto_pwhash_str_verify reads a C string
  return crypto_pwhash_str_verify(terminated.c_str(), password.data(), password.size()) == 0;
}

void PasswordDecoy(std::string_view password) {
  static const std::string decoy = HashPassword("saalbuch decoy password").value_or("");
  (void)PasswordMatches(password, decoy);
}

}  // namespace saalbuch
