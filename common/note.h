// Signed checkpoints as C2SP signed notes (https://c2sp.org/signed-note),
// with a body in the shape of a C2SP checkpoint
// (https://c2sp.org/tlog-checkpoint): origin, size, hash.
//
// Saalbuch's log is a hash chain, not a Merkle tree, so the third line is
// the chain hash of record `size` (SHA-256(previous hash ‖ record), see
// ledger/), base64 — not a tree root. Everything else follows the specs:
// Ed25519 signatures, key ids SHA-256(name ‖ "\n" ‖ 0x01 ‖ public key)[:4],
// signature lines "— <name> <base64(key id ‖ signature)>", verifier keys
// "<name>+<hex key id>+<base64(0x01 ‖ public key)>".
#pragma once

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

struct NoteVerifier {
  std::string name;
  std::string public_key;  // 32 raw bytes
};

// `body` (ending in "\n") signed by `name` with the Ed25519 `seed`.
std::string SignNote(std::string_view body, std::string_view name, std::string_view seed);
std::string VerifierKey(std::string_view name, std::string_view public_key);
std::optional<NoteVerifier> ParseVerifierKey(std::string_view text);
// The body of `note` without checking any signature: for a note its reader
// kept itself (an auditor's trusted checkpoint). nullopt when not a note.
std::optional<std::string> NoteBody(std::string_view note);
// The body of `note` when it carries a valid signature of `verifier`.
std::optional<std::string> OpenNote(std::string_view note, const NoteVerifier& verifier);

}  // namespace saalbuch
