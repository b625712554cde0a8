#include "tools/replay/source.h"

#include <filesystem>
#include <stdexcept>
#include <system_error>

namespace saalbuch::tools {

namespace fs = std::filesystem;

void AddSourceOptions(CLI::App* cmd, SourceFlags* flags) {
  auto* data = cmd->add_option("--data", flags->data,
                               "Data directory: a copy, or a running server's (read as a RocksDB "
                               "secondary instance; never written)")
                   ->capture_default_str();
  auto* backup =
      cmd->add_option("--backup", flags->backup_dir,
                      "Read a backup directory (saalbuchd --backup-dir) in place instead of --data");
  cmd->add_option("--backup-id", flags->backup_id, "With --backup: which backup (default: the newest)")
      ->needs(backup);
  backup->excludes(data);
}

Source OpenSource(const SourceFlags& flags) {
  Source s;
  if (!flags.backup_dir.empty()) {
    ledger::BackupInfo info;
    auto db = ledger::OpenBackup(flags.backup_dir, flags.backup_id, &info);
    if (!db.ok()) throw std::runtime_error(db.status().message());
    s.db = std::move(db).value();
    s.name = "backup " + std::to_string(info.id) + " in " + flags.backup_dir;
  } else {
    const fs::path db_dir = fs::path(flags.data) / "db";
    std::error_code ec;
    if (!fs::exists(db_dir / "CURRENT", ec)) {
      throw std::runtime_error("no Saalbuch data directory at '" + flags.data + "' (expected " +
                               db_dir.string() + " with a RocksDB database)");
    }
    ledger::DatabaseOptions o;
    o.secondary = true;
    auto db = ledger::Database::Open(db_dir.string(), o);
    if (!db.ok()) throw std::runtime_error(db.status().message());
    s.db = std::move(db).value();
    s.name = "data directory " + flags.data;
  }
  s.log = std::make_unique<ledger::RocksLog>(s.db.get());
  return s;
}

}  // namespace saalbuch::tools
