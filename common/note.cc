#include "common/note.h"

#include <charconv>

#include "common/crypto.h"

namespace saalbuch {
namespace {

constexpr char kEd25519 = 0x01;
constexpr std::string_view kDash = "\xe2\x80\x94 ";  // "— " (em dash, space)

std::string KeyId(std::string_view name, std::string_view public_key) {
  std::string input(name);
  input += '\n';
  input += kEd25519;
  input.append(public_key);
  Sha256 h = Sha256Of(input);
  return std::string(reinterpret_cast<const char*>(h.data()), 4);
}

bool ValidName(std::string_view name) {
  return !name.empty() && name.find_first_of(" \t\n+") == std::string_view::npos;
}

}  // namespace

std::string CheckpointBody(const Checkpoint& c) {
  return c.origin + "\n" + std::to_string(c.size) + "\n" + Base64Encode(c.hash) + "\n";
}

std::optional<Checkpoint> ParseCheckpointBody(std::string_view body) {
  Checkpoint c;
  auto line = [&](std::string* out) {
    auto nl = body.find('\n');
    if (nl == std::string_view::npos) return false;
    *out = std::string(body.substr(0, nl));
    body.remove_prefix(nl + 1);
    return true;
  };
  std::string size, hash;
  if (!line(&c.origin) || !line(&size) || !line(&hash) || c.origin.empty()) return std::nullopt;
  auto [end, ec] = std::from_chars(size.data(), size.data() + size.size(), c.size);
  if (ec != std::errc() || end != size.data() + size.size()) return std::nullopt;
  auto raw = Base64Decode(hash);
  if (!raw || raw->size() != 32) return std::nullopt;
  c.hash = *raw;
  return c;
}

std::string SignNote(std::string_view body, std::string_view name, std::string_view seed) {
  const std::string sig = Ed25519Sign(seed, body);
  const std::string id = KeyId(name, Ed25519PublicKey(seed));
  return std::string(body) + "\n" + std::string(kDash) + std::string(name) + " " + Base64Encode(id + sig) +
         "\n";
}

std::string VerifierKey(std::string_view name, std::string_view public_key) {
  return std::string(name) + "+" + ToHex(KeyId(name, public_key)) + "+" +
         Base64Encode(std::string(1, kEd25519) + std::string(public_key));
}

std::optional<NoteVerifier> ParseVerifierKey(std::string_view text) {
  auto p1 = text.find('+');
  auto p2 = p1 == std::string_view::npos ? p1 : text.find('+', p1 + 1);
  if (p2 == std::string_view::npos) return std::nullopt;
  NoteVerifier v{std::string(text.substr(0, p1)), {}};
  auto key = Base64Decode(text.substr(p2 + 1));
  if (!ValidName(v.name) || !key || key->size() != 33 || (*key)[0] != kEd25519) return std::nullopt;
  v.public_key = key->substr(1);
  if (ToHex(KeyId(v.name, v.public_key)) != text.substr(p1 + 1, p2 - p1 - 1)) return std::nullopt;
  return v;
}

std::optional<std::string> NoteBody(std::string_view note) {
  const auto split = note.rfind("\n\n");
  if (split == std::string_view::npos) return std::nullopt;
  return std::string(note.substr(0, split + 1));
}

std::optional<std::string> OpenNote(std::string_view note, const NoteVerifier& v) {
  const auto split = note.rfind("\n\n");
  if (split == std::string_view::npos) return std::nullopt;
  const std::string_view body = note.substr(0, split + 1);
  std::string_view sigs = note.substr(split + 2);
  const std::string id = KeyId(v.name, v.public_key);
  while (!sigs.empty()) {
    auto nl = sigs.find('\n');
    if (nl == std::string_view::npos) return std::nullopt;  // lines end in "\n"
    std::string_view line = sigs.substr(0, nl);
    sigs.remove_prefix(nl + 1);
    if (line.substr(0, kDash.size()) != kDash) return std::nullopt;
    line.remove_prefix(kDash.size());
    auto sp = line.find(' ');
    if (sp == std::string_view::npos || line.substr(0, sp) != v.name) continue;
    auto raw = Base64Decode(line.substr(sp + 1));
    if (!raw || raw->size() != 68 || raw->substr(0, 4) != id) continue;
    if (Ed25519Verify(v.public_key, body, raw->substr(4))) return std::string(body);
  }
  return std::nullopt;
}

}  // namespace saalbuch
