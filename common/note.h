// Signed checkpoints as C2SP signed notes (https://c2sp.org/signed-note),
// with a body in the shape of a C2SP checkpoint
// (https://c2sp.org/tlog-checkpoint): origin, size, hash.
//
// The third line is the RFC 6962 Merkle root of the log's first `size`
// records (checkpoints recorded before the tree signed the chain hash of
// record `size`, see ledger/). Ed25519 signatures, key ids SHA-256(name ‖
// "\n" ‖ 0x01 ‖ public key)[:4], signature lines "— <name> <base64(key id ‖
// signature)>", verifier keys "<name>+<hex key id>+<base64(0x01 ‖ public
// key)>".
//
// Witnesses cosign checkpoints per C2SP tlog-cosignature
// (https://c2sp.org/tlog-cosignature), Ed25519 type 0x04: key id
// SHA-256(name ‖ "\n" ‖ 0x04 ‖ public key)[:4], signature u64 BE timestamp ‖
// Ed25519 over "cosignature/v1\ntime <timestamp>\n" ‖ checkpoint body.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/types.h"

namespace saalbuch {

struct Checkpoint {
  std::string origin;  // "saalbuch/<tenant>"
  Seq size = 0;        // the log position covered
  std::string hash;    // 32 raw bytes: the chain hash of record `size`
};

std::string CheckpointBody(const Checkpoint& c);
std::optional<Checkpoint> ParseCheckpointBody(std::string_view body);

inline constexpr char kNoteSigner = 0x01;  // the log's own signature
inline constexpr char kCosigner = 0x04;    // a witness's cosignature/v1

struct NoteVerifier {
  std::string name;
  std::string public_key;  // 32 raw bytes
  char type = kNoteSigner;
};

// `body` (ending in "\n") signed by `name` with the Ed25519 `seed`.
std::string SignNote(std::string_view body, std::string_view name, std::string_view seed);
std::string VerifierKey(std::string_view name, std::string_view public_key, char type = kNoteSigner);
// A verifier key of `type`: a key of the other type is none.
std::optional<NoteVerifier> ParseVerifierKey(std::string_view text, char type = kNoteSigner);

// A witness's cosignature of checkpoint `body` at `timestamp` (POSIX
// seconds): one signature line "— <name> <base64>\n".
std::string CosignatureLine(std::string_view body, std::string_view name, std::string_view seed,
                            std::uint64_t timestamp);
// The timestamp of `line` when it is a valid cosignature of `verifier` (a
// kCosigner key) on `body`; nullopt otherwise.
std::optional<std::uint64_t> VerifyCosignature(std::string_view body, std::string_view line,
                                               const NoteVerifier& verifier);
// The body of `note` without checking any signature: for a note its reader
// kept itself (an auditor's trusted checkpoint). nullopt when not a note.
std::optional<std::string> NoteBody(std::string_view note);
// The body of `note` when it carries a valid signature of `verifier` (of
// either type).
std::optional<std::string> OpenNote(std::string_view note, const NoteVerifier& verifier);

}  // namespace saalbuch
