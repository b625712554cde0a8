// Password hashing for people's accounts: Argon2id through libsodium
// (crypto_pwhash_str), with libsodium's interactive limits (2 passes,
// 64 MiB). Hashing and checking take tens of milliseconds of CPU and that
// memory on purpose: call them off the I/O threads.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace saalbuch {

// The self-describing Argon2id string ("$argon2id$v=19$m=…") of `password`;
// nullopt when libsodium cannot get the memory.
std::optional<std::string> HashPassword(std::string_view password);
// Whether `password` is the one of `hash` (a HashPassword result). A
// malformed hash never matches.
bool PasswordMatches(std::string_view password, std::string_view hash);
// Spends about the time of a PasswordMatches that fails, so that an unknown
// sign-in name answers no faster than a wrong password.
void PasswordDecoy(std::string_view password);

}  // namespace saalbuch
