// Where saalbuch-replay reads from: a data directory (a copy, or the
// directory of a running server) or a backup directory, never written.
#pragma once

#include <CLI/CLI.hpp>

#include <memory>
#include <optional>
#include <string>

#include "ledger/backup.h"
#include "ledger/database.h"
#include "ledger/rocks_log.h"

namespace saalbuch::tools {

struct SourceFlags {
  std::string data = "./data";
  std::string backup_dir;
  std::optional<ledger::BackupId> backup_id;
};

// Adds --data, --backup and --backup-id to `cmd`.
void AddSourceOptions(CLI::App* cmd, SourceFlags* flags);

struct Source {
  std::unique_ptr<ledger::Database> db;
  std::unique_ptr<ledger::RocksLog> log;
  std::string name;  // for messages: "data directory ./data", "backup 3 in /b"
};

// Opens the data directory as a RocksDB secondary instance (the supported
// way to read beside a running server; fine on a copy too), or a backup in
// place, read-only. Throws std::runtime_error with a message for people.
Source OpenSource(const SourceFlags& flags);

}  // namespace saalbuch::tools
