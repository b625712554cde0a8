// saalbuch-replay witness: a transparency-log witness for Saalbuch logs, run
// by someone the server's operator does not control (the
// Rechnungsprüfungsamt, on its own machine).
//
// It speaks C2SP tlog-witness (https://c2sp.org/tlog-witness): saalbuchd
// POSTs each new checkpoint to <url>/add-checkpoint with a consistency proof
// from the size the witness last cosigned; the witness checks the log's
// signature against the keys it was given, checks the proof against the
// root it kept, keeps the new checkpoint durably and answers with its
// cosignature (C2SP tlog-cosignature, common/note.h). A fork, a rewrite or
// a truncation of an already witnessed log cannot be extended consistently
// and is refused (409/422); the refused request is kept as evidence.
//
// State: one file per log in --state, "<origin, percent-encoded>.checkpoint",
// holding the latest cosigned checkpoint (the log's note with the witness's
// cosignature line): readable by `verify --trusted-checkpoint` (copy it; do
// not point verify at the live file). Refused requests go to
// --state/refused/. Requests are served one at a time, so that checking the
// old size and keeping the new checkpoint are one step (the race the spec
// warns about cannot happen).
#pragma once

#include <CLI/CLI.hpp>

#include <optional>
#include <string>
#include <vector>

namespace saalbuch::tools {

struct WitnessArgs {
  std::string listen = "127.0.0.1:7380";
  std::string name;      // the witness's key name, e.g. rpa.stadt.example/witness
  std::string key_file;  // its Ed25519 seed (hex), created owner-only when missing
  std::string state_dir;
  std::vector<std::string> logs;  // verifier keys of the logs it witnesses
  std::string logs_file;          // more of them, one per line
  bool print_key = false;
};

CLI::App* AddWitnessCommand(CLI::App* app, WitnessArgs* args);

// The latest checkpoint of log `origin` the witness at `url` (http://…)
// cosigned: its note with the cosignature, "" when it holds none, nullopt
// with *error when it cannot be read.
std::optional<std::string> FetchWitnessCheckpoint(const std::string& url, const std::string& origin,
                                                  std::string* error);
// Serves until killed; returns 2 when it cannot start.
int RunWitness(const WitnessArgs& args);

}  // namespace saalbuch::tools
