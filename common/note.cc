#include "common/note.h"

#include <charconv>
#include <cstdint>
#include <vector>

#include "common/crypto.h"

namespace saalbuch {
namespace {

constexpr std::string_view kDash = "\xe2\x80\x94 ";  // "— " (em dash, space)

std::string KeyId(std::string_view name, std::string_view public_key, char type = kNoteSigner) {
  std::string input(name);
  input += '\n';
  input += type;
  input.append(public_key);
  Sha256 h = Sha256Of(input);
  return std::string(reinterpret_cast<const char*>(h.data()), 4);
}

// Key names: non-empty, no "+", no Unicode space (C2SP signed-note).
bool ValidName(std::string_view name) {
  if (name.empty() || name.find_first_of(" \t\n+") != std::string_view::npos) return false;
  for (std::string_view space : {"\xc2\x85", "\xc2\xa0", "\xe1\x9a\x80", "\xe2\x80\xa8", "\xe2\x80\xa9",
                                 "\xe2\x80\xaf", "\xe2\x81\x9f", "\xe3\x80\x80"}) {
    if (name.find(space) != std::string_view::npos) return false;
  }
  // U+2000 to U+200A: E2 80 80 to E2 80 8A.
  for (std::size_t i = 0; i + 2 < name.size(); ++i) {
    if (name[i] == '\xe2' && name[i + 1] == '\x80' && static_cast<unsigned char>(name[i + 2]) >= 0x80 &&
        static_cast<unsigned char>(name[i + 2]) <= 0x8a) {
      return false;
    }
  }
  return true;
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

std::string VerifierKey(std::string_view name, std::string_view public_key, char type) {
  return std::string(name) + "+" + ToHex(KeyId(name, public_key, type)) + "+" +
         Base64Encode(std::string(1, type) + std::string(public_key));
}

std::optional<NoteVerifier> ParseVerifierKey(std::string_view text, char type) {
  auto p1 = text.find('+');
  auto p2 = p1 == std::string_view::npos ? p1 : text.find('+', p1 + 1);
  if (p2 == std::string_view::npos) return std::nullopt;
  NoteVerifier v{std::string(text.substr(0, p1)), {}};
  auto key = Base64Decode(text.substr(p2 + 1));
  if (!ValidName(v.name) || !key || key->size() != 33 || (*key)[0] != type) return std::nullopt;
  v.type = type;
  v.public_key = key->substr(1);
  if (ToHex(KeyId(v.name, v.public_key, v.type)) != text.substr(p1 + 1, p2 - p1 - 1)) return std::nullopt;
  return v;
}

namespace {

// "cosignature/v1\ntime <timestamp>\n" ‖ body: what a cosigner signs.
std::string CosignedMessage(std::string_view body, std::uint64_t timestamp) {
  return "cosignature/v1\ntime " + std::to_string(timestamp) + "\n" + std::string(body);
}

// A cosignature's raw bytes: key id (4) ‖ u64 BE timestamp ‖ signature (64).
constexpr std::size_t kCosignatureBytes = 4 + 8 + 64;

std::optional<std::uint64_t> CheckCosignature(std::string_view body, std::string_view raw,
                                              const NoteVerifier& v) {
  if (v.type != kCosigner || raw.size() != kCosignatureBytes ||
      raw.substr(0, 4) != KeyId(v.name, v.public_key, kCosigner)) {
    return std::nullopt;
  }
  std::uint64_t timestamp = 0;
  for (std::size_t i = 4; i < 12; ++i) timestamp = (timestamp << 8) | static_cast<unsigned char>(raw[i]);
  if (timestamp > (std::uint64_t{1} << 63) - 1) return std::nullopt;
  if (!Ed25519Verify(v.public_key, CosignedMessage(body, timestamp), raw.substr(12))) return std::nullopt;
  return timestamp;
}

}  // namespace

std::string CosignatureLine(std::string_view body, std::string_view name, std::string_view seed,
                            std::uint64_t timestamp) {
  std::string raw = KeyId(name, Ed25519PublicKey(seed), kCosigner);
  for (int i = 7; i >= 0; --i) raw.push_back(static_cast<char>((timestamp >> (8 * i)) & 0xff));
  raw += Ed25519Sign(seed, CosignedMessage(body, timestamp));
  return std::string(kDash) + std::string(name) + " " + Base64Encode(raw) + "\n";
}

std::optional<std::uint64_t> VerifyCosignature(std::string_view body, std::string_view line,
                                               const NoteVerifier& v) {
  if (!line.starts_with(kDash)) return std::nullopt;
  line.remove_prefix(kDash.size());
  if (line.ends_with('\n')) line.remove_suffix(1);
  const auto sp = line.find(' ');
  if (sp == std::string_view::npos || line.substr(0, sp) != v.name) return std::nullopt;
  const auto raw = Base64Decode(line.substr(sp + 1));
  if (!raw) return std::nullopt;
  return CheckCosignature(body, *raw, v);
}

namespace {

// Valid UTF-8 with no control character but the newline (C2SP signed-note:
// "MUST NOT contain any ASCII control characters ... other than newline").
bool ValidText(std::string_view text) {
  for (std::size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      if ((c < 0x20 && c != '\n') || c == 0x7f) return false;
      ++i;
      continue;
    }
    std::size_t n = 0;
    std::uint32_t cp = 0;
    if ((c & 0xe0) == 0xc0)
      n = 1, cp = c & 0x1f;
    else if ((c & 0xf0) == 0xe0)
      n = 2, cp = c & 0x0f;
    else if ((c & 0xf8) == 0xf0)
      n = 3, cp = c & 0x07;
    else
      return false;
    if (i + n >= text.size()) return false;
    for (std::size_t k = 1; k <= n; ++k) {
      const auto d = static_cast<unsigned char>(text[i + k]);
      if ((d & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (d & 0x3f);
    }
    // Overlong forms, surrogates and values past U+10FFFF are not UTF-8.
    if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
        (cp >= 0xd800 && cp <= 0xdfff)) {
      return false;
    }
    i += n + 1;
  }
  return true;
}

struct NoteSignature {
  std::string_view name;
  std::string raw;  // key id (4 bytes) ‖ signature
};

struct SplitNote {
  std::string_view body;  // ends in "\n"
  std::vector<NoteSignature> signatures;
};

// A signed note per https://c2sp.org/signed-note: UTF-8 text without control
// characters but newlines; a non-empty body ending in a newline; a blank
// line; one to 100 signature lines "— <name> <base64(key id ‖ signature)>",
// each name non-empty without spaces or "+". nullopt otherwise.
std::optional<SplitNote> Split(std::string_view note) {
  constexpr std::size_t kMaxSignatures = 100;
  if (!ValidText(note) || note.empty() || note.back() != '\n') return std::nullopt;
  const auto split = note.rfind("\n\n");
  if (split == std::string_view::npos || split == 0) return std::nullopt;
  SplitNote out{note.substr(0, split + 1), {}};
  std::string_view sigs = note.substr(split + 2);
  if (sigs.empty()) return std::nullopt;
  while (!sigs.empty()) {
    const auto nl = sigs.find('\n');
    std::string_view line = sigs.substr(0, nl);
    sigs.remove_prefix(nl + 1);
    if (!line.starts_with(kDash)) return std::nullopt;
    line.remove_prefix(kDash.size());
    const auto sp = line.find(' ');
    if (sp == std::string_view::npos) return std::nullopt;
    const std::string_view name = line.substr(0, sp);
    auto raw = Base64Decode(line.substr(sp + 1));
    if (!ValidName(name) || !raw || raw->size() < 5) return std::nullopt;
    if (out.signatures.size() == kMaxSignatures) return std::nullopt;
    out.signatures.push_back({name, std::move(*raw)});
  }
  return out;
}

}  // namespace

std::optional<std::string> NoteBody(std::string_view note) {
  auto split = Split(note);
  if (!split) return std::nullopt;
  return std::string(split->body);
}

std::optional<std::string> OpenNote(std::string_view note, const NoteVerifier& v) {
  auto split = Split(note);
  if (!split) return std::nullopt;
  const std::string id = KeyId(v.name, v.public_key, v.type);
  for (const auto& sig : split->signatures) {
    if (sig.name != v.name) continue;
    if (v.type == kCosigner) {
      if (CheckCosignature(split->body, sig.raw, v)) return std::string(split->body);
      continue;
    }
    if (sig.raw.size() != 68 || sig.raw.substr(0, 4) != id) continue;
    if (Ed25519Verify(v.public_key, split->body, sig.raw.substr(4))) return std::string(split->body);
  }
  return std::nullopt;
}

}  // namespace saalbuch
