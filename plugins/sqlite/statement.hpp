// A prepared SQLite statement behind Retort's DriverStatement SPI.
#pragma once

#include "errors.hpp"

#include <retort/engine/driver.hpp>

#include <sqlite3.h>

#include <atomic>
#include <memory>
#include <string>

namespace retort::sqlite {

/// Finalizes a statement.
struct StmtDeleter {
  void operator()(sqlite3_stmt* stmt) const noexcept { sqlite3_finalize(stmt); }
};
using StmtPtr = std::unique_ptr<sqlite3_stmt, StmtDeleter>;

/// The open sqlite3 handle, shared by a connection and its statements so that a statement
/// kept past its connection never outlives the handle; closed when the last owner goes.
struct Handle {
  explicit Handle(sqlite3* db) noexcept : db(db) {}
  ~Handle() {
    begin.reset();
    sqlite3_close_v2(db);
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;

  /// Sends the BEGIN that SqliteConnection::begin() left pending.
  void start_transaction();
  /// True when a query may run before the pending BEGIN: no other connection can change what
  /// it reads (see SqliteStatement::step()).
  bool reads_are_private() const noexcept {
#if SQLITE_VERSION_NUMBER >= 3039000
    // sqlite3_db_name(db, 2) names the first attached database, which may be shared.
    return private_main && sqlite3_db_name(db, 2) == nullptr;
#else
    return false;
#endif
  }

  sqlite3* db;
  /// Cleared after an error that leaves the database unusable (corrupt file, I/O error).
  std::atomic<bool> valid{true};
  /// A deferred BEGIN was asked for and is sent just before the next statement runs (see
  /// SqliteConnection::begin()).
  bool begin_pending = false;
  /// The BEGIN text (with the transaction mode) and its statement, prepared once and kept.
  std::string begin_sql = "BEGIN";
  StmtPtr begin;
  /// The main database is a private in-memory one (":memory:", no shared cache): only this
  /// connection can ever read or write it.
  bool private_main = false;
};

/// Runs a statement without parameters or rows that is prepared once (from `sql`) and kept
/// (BEGIN, COMMIT, ROLLBACK); throws the translated error.
void run_kept(Handle& handle, StmtPtr& stmt, const std::string& sql);

/// Prepares exactly one statement from `sql`; throws ProgrammingError for bad or multiple
/// statements.
StmtPtr prepare_one(Handle& handle, const std::string& sql);

/// Throws the translated error for `code` and marks `handle` invalid when it is fatal.
[[noreturn]] void fail(Handle& handle, int code, Phase phase, std::string_view sql);

/// A statement over sqlite3_stmt; column access goes straight to sqlite3_column_*.
class SqliteStatement final : public DriverStatement {
public:
  SqliteStatement(std::shared_ptr<Handle> handle, StmtPtr stmt, std::string sql);

  void bind(std::span<const Value> params) override;
  /// Refers to text and bytes instead of copying them when the statement yields no rows.
  void bind_borrowed(std::span<const Value> params) override;
  bool step() override;
  void reset() override;

  int column_count() const override { return sqlite3_column_count(stmt_.get()); }
  std::string_view column_name(int i) const override;
  bool is_null(int i) const override { return sqlite3_column_type(stmt_.get(), i) == SQLITE_NULL; }
  std::int64_t get_int64(int i) const override { return sqlite3_column_int64(stmt_.get(), i); }
  double get_double(int i) const override { return sqlite3_column_double(stmt_.get(), i); }
  std::string_view get_text(int i) const override;
  std::span<const std::byte> get_blob(int i) const override;
  bool get_bool(int i) const override { return sqlite3_column_int64(stmt_.get(), i) != 0; }
  Value get_value(int i) const override;
  /// Known once step() has returned false; 0 while rows are still being read.
  std::int64_t rows_affected() const override;
  const std::string& sql() const override { return sql_; }

  /// How many times SQLite prepared the statement anew since it was made (each time the schema
  /// had changed since it was last prepared).
  int times_prepared_again() const noexcept {
    return sqlite3_stmt_status(stmt_.get(), SQLITE_STMTSTATUS_REPREPARE, 0);
  }
  /// For an INSERT: times_prepared_again() when its table's key was last proven to be the
  /// rowid's alias, -1 when it was not (see KeyProver).
  int rowid_key_proven_at = -1;

private:
  enum class State { ready, running, done };

  void bind_all(std::span<const Value> params, sqlite3_destructor_type lifetime);
  void bind_one(int position, const Value& value, sqlite3_destructor_type lifetime);
  std::int64_t changes_since_start() const;

  std::shared_ptr<Handle> handle_;
  StmtPtr stmt_;
  std::string sql_;
  int parameter_count_;
  bool read_only_;
  // A query (SELECT or WITH ... SELECT) that changes nothing.
  bool plain_read_;
  // The first step() runs the whole statement (no result columns, or DML with RETURNING),
  // while borrowed parameters still live (DriverStatement::bind_borrowed), so text and bytes
  // need no copy.
  bool runs_in_one_step_;
  // Text or bytes are bound without a copy.
  bool borrowed_ = false;
  // The execution that could use borrowed parameters is over: they may be gone, so the
  // statement must be bound again before it runs again.
  bool stale_ = false;
  State state_ = State::ready;
  std::int64_t total_changes_at_start_ = 0;
  std::int64_t rows_affected_ = 0;
};

} // namespace retort::sqlite
