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

  /// How long a statement waits for another connection's lock (the busy_timeout option).
  int busy_timeout_ms = 5000;
  /// Calls wait for other connections' locks (SqliteConnection::set_waiting()).
  bool waiting = true;
  /// Waiting is off and SQLite asked to wait for a lock: the SQLITE_BUSY that follows is a
  /// WouldWaitError (see fail()).
  bool wait_refused = false;
  /// What SqliteConnection::set_waiting() and commit_cannot_wait() go by, read from the
  /// database (Durability); a PRAGMA statement may change it, so one clears `known`.
  struct Durability {
    bool known = false;
    /// The main database is in WAL mode.
    bool wal = false;
    /// PRAGMA synchronous: 0 off, 1 normal, 2 full, 3 extra.
    int synchronous = 2;
    /// PRAGMA wal_autocheckpoint: the WAL's size in pages from which a COMMIT checkpoints.
    int autocheckpoint = 1000;
  } durability;
  /// A COMMIT made while waiting was off left the WAL at or past its checkpoint size; the
  /// checkpoint, which syncs, waits for the next COMMIT made with waiting on.
  bool checkpoint_owed = false;
};

/// A run of more SQLite VM steps than this (tens of microseconds: a scan of a few hundred rows)
/// is long: while waiting is off (the async layer's own thread) the statement's next run is
/// refused as a WouldWaitError and goes to a worker thread, where the long statements of several
/// sessions run side by side on all cores; a thread hop costs about as much. Measured on
/// tests/async/test_sqlite_concurrency (50 sessions whose reads scan a growing table): 10,000
/// steps left most scans on the one io thread (2,300-2,400 tx/s), 2,000 spread them (4,200-4,600).
inline constexpr int long_run_steps = 2000;

/// True when the last run of `sql` on any connection of the process was long (long_run_steps).
bool known_long(const std::string& sql);

/// Runs a statement without parameters or rows that is prepared once (from `sql`) and kept
/// (BEGIN, COMMIT, ROLLBACK); throws the translated error.
void run_kept(Handle& handle, StmtPtr& stmt, const std::string& sql);

/// Prepares exactly one statement from `sql`; throws ProgrammingError for bad or multiple
/// statements.
StmtPtr prepare_one(Handle& handle, const std::string& sql);

/// Throws the translated error for `code` and marks `handle` invalid when it is fatal.
[[noreturn]] void fail(Handle& handle, int code, Phase phase, std::string_view sql);
/// Throws WouldWaitError when `code` is the SQLITE_BUSY of a lock `handle` refused to wait for
/// (Handle::wait_refused); returns otherwise.
void throw_if_wait_refused(Handle& handle, int code, const std::string& message,
                           std::string_view sql);

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
  /// True when the last run of this statement's SQL, on any connection, was long
  /// (long_run_steps).
  bool is_long() const noexcept {
    return run_length_->load(std::memory_order_relaxed) > long_run_steps;
  }

private:
  enum class State { ready, running, done };

  void bind_all(std::span<const Value> params, sqlite3_destructor_type lifetime);
  void bind_one(int position, const Value& value, sqlite3_destructor_type lifetime);
  std::int64_t changes_since_start() const;
  // Keeps how many VM steps the run that just ended took (and starts the count again).
  void note_run_length() noexcept;

  std::shared_ptr<Handle> handle_;
  StmtPtr stmt_;
  std::string sql_;
  int parameter_count_;
  bool read_only_;
  // A query (SELECT or WITH ... SELECT) that changes nothing.
  bool plain_read_;
  // A PRAGMA, which may change the journal mode or the sync level (Handle::durability).
  bool pragma_;
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
  // SQLite VM steps of the last run of this SQL text on any connection (note_run_length()).
  std::shared_ptr<std::atomic<int>> run_length_;
  std::int64_t rows_affected_ = 0;
};

} // namespace retort::sqlite
