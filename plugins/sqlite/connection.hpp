// An SQLite connection behind Retort's DriverConnection SPI.
#pragma once

#include "generated_key.hpp"
#include "statement.hpp"

#include <retort/core/options.hpp>
#include <retort/core/url.hpp>
#include <retort/engine/driver.hpp>

#include <memory>
#include <string>

namespace retort::sqlite {

/// True when `url` names an in-memory database (":memory:", empty, or a memory URI).
bool is_memory(const Url& url);
/// Validates the URL's query and the options as a connection would, without opening anything;
/// throws OptionError naming a bad option.
void check_settings(const Url& url, const Options& options);

/// One sqlite3 connection. Not thread-safe: a pool hands it to one thread at a time.
class SqliteConnection final : public DriverConnection {
public:
  /// Opens the database `url` names; URL query parameters and `options` (which win) accept
  /// busy_timeout (ms), foreign_keys, journal_mode, synchronous, mode, uri, transaction_mode.
  SqliteConnection(const Url& url, const Options& options);
  ~SqliteConnection() override;

  std::unique_ptr<DriverStatement> prepare(const std::string& sql) override;
  void execute(const std::string& sql) override;
  void begin() override;
  /// A pending (deferred) BEGIN goes out as BEGIN IMMEDIATE.
  void will_write() override;
  void commit() override;
  void rollback() override;
  /// Nothing written (or BEGIN still pending): COMMIT only drops the read lock; or a WAL
  /// database with synchronous normal or off, or a private in-memory one: COMMIT never syncs.
  bool commit_cannot_wait() const override;
  /// Refusing waits is offered in WAL mode and on a private in-memory database.
  bool set_waiting(bool allowed) override;
  /// While waiting is off: the statement's last run (on any connection) was long.
  bool would_wait(const std::string& sql) override;
  bool in_transaction() const override {
    return handle_->begin_pending || sqlite3_get_autocommit(handle_->db) == 0;
  }
  bool ping() override;
  bool is_valid() const override { return handle_->valid.load(std::memory_order_relaxed); }
  std::optional<std::int64_t> last_insert_id() const override {
    return sqlite3_last_insert_rowid(handle_->db);
  }
  /// last_insert_rowid() once the key column is proven the rowid's alias (KeyProver).
  std::optional<std::int64_t> generated_key(DriverStatement& insert, std::string_view table,
                                            std::string_view key_column) override {
    return key_prover_.key_of(*handle_, insert, table, key_column);
  }

private:
  // Reads the journal mode, the sync level and the checkpoint size into Handle::durability,
  // and installs the WAL hook (on_wal_commit()).
  void refresh_durability();

  std::shared_ptr<Handle> handle_;
  // BEGIN may wait for the first statement (transaction_mode deferred, the default).
  bool defer_begin_ = true;
  StmtPtr begin_immediate_;
  StmtPtr commit_;
  StmtPtr rollback_;
  StmtPtr ping_;
  KeyProver key_prover_;
};

} // namespace retort::sqlite
