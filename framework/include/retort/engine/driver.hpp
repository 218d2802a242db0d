// The driver SPI: how a database is *talked to*. A dialect plugin implements these classes over
// its client library; the engine layer uses nothing else to reach a database.
#pragma once

#include <retort/core/error.hpp>
#include <retort/core/export.hpp>
#include <retort/core/value.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>

namespace retort {

class NonBlockingConnection;

/// A prepared statement on one connection: bind, execute, step rows with typed column access.
/// It is reused across executions; `reset()` makes it ready for the next one.
class RETORT_API DriverStatement {
public:
  virtual ~DriverStatement();

  /// Binds every parameter of the next execution (positions 1..n in order).
  virtual void bind(std::span<const Value> params) = 0;
  /// Binds like bind() for a caller that keeps the Values alive and unchanged until the first
  /// step() returns, so a driver may refer to them instead of copying what only that step reads.
  virtual void bind_borrowed(std::span<const Value> params) { bind(params); }
  /// Executes on first call, then advances; true while a row is current. Throws DatabaseError.
  virtual bool step() = 0;
  /// Discards the current result so the statement can be bound and executed again.
  virtual void reset() = 0;

  /// Number of result columns.
  virtual int column_count() const = 0;
  /// Name of result column `i` (0-based).
  virtual std::string_view column_name(int i) const = 0;
  /// True when column `i` of the current row is NULL. The typed getters below read a NULL as
  /// 0, 0.0, false or empty text and bytes, so callers need this only for such values.
  virtual bool is_null(int i) const = 0;
  /// Column `i` as an integer.
  virtual std::int64_t get_int64(int i) const = 0;
  /// Column `i` as a double.
  virtual double get_double(int i) const = 0;
  /// Column `i` as text; valid until the next step() or reset().
  virtual std::string_view get_text(int i) const = 0;
  /// Column `i` as bytes; valid until the next step() or reset().
  virtual std::span<const std::byte> get_blob(int i) const = 0;
  /// Column `i` as a boolean.
  virtual bool get_bool(int i) const { return get_int64(i) != 0; }
  /// Column `i` boxed in a Value, by the column's runtime type (slow path).
  virtual Value get_value(int i) const = 0;
  /// Rows inserted, updated or deleted by the last execution.
  virtual std::int64_t rows_affected() const = 0;
  /// The SQL text this statement was prepared from.
  virtual const std::string& sql() const = 0;
};

/// Thrown by a driver call made while waiting is off (DriverConnection::set_waiting()) that
/// would have waited for another connection's lock, or would hold the thread long (a statement
/// whose last run was long). The call left no trace: it may be made again, with waiting on.
/// Never reaches the application from Retort's own executors.
class RETORT_API WouldWaitError final : public OperationalError {
public:
  using OperationalError::OperationalError;
  ~WouldWaitError() override;
};

/// One open database connection. The base class keeps a per-connection cache of prepared
/// statements so that a statement shape is prepared once per connection, not once per use.
class RETORT_API DriverConnection {
public:
  DriverConnection();
  virtual ~DriverConnection();
  DriverConnection(const DriverConnection&) = delete;
  DriverConnection& operator=(const DriverConnection&) = delete;

  /// Prepares `sql`; throws DatabaseError (ProgrammingError for bad SQL).
  virtual std::unique_ptr<DriverStatement> prepare(const std::string& sql) = 0;
  /// Runs `sql` without parameters or result rows (DDL, BEGIN, SAVEPOINT ...).
  virtual void execute(const std::string& sql) = 0;
  /// Starts a transaction.
  virtual void begin() = 0;
  /// The transaction begun will write after it has read: a driver whose BEGIN waits for the
  /// first statement takes the write lock now, before anything is read (SQLite sends BEGIN
  /// IMMEDIATE: a deferred transaction that read first cannot wait for the lock, and fails with
  /// "database is locked" where its write alone would have waited). Executors call it before a
  /// plan's read that writes follow (PlanStep::writes_follow). Default: nothing; a driver with a
  /// non-blocking side must not block here.
  virtual void will_write() {}
  /// Commits the current transaction.
  virtual void commit() = 0;
  /// True when commit() now cannot wait for another connection's lock or for the disk: the
  /// transaction wrote nothing (ending it only lets go of what it read), or the database
  /// commits without waiting or syncing (SQLite in WAL mode with synchronous normal or off, a
  /// private in-memory database). The async layer then commits on the caller's thread instead
  /// of a worker's. Default: false.
  virtual bool commit_cannot_wait() const { return false; }
  /// Rolls the current transaction back.
  virtual void rollback() = 0;
  /// Turns waiting for other connections' locks off (false) or back on (true, the default).
  /// Returns false, changing nothing, where the driver cannot promise what follows. While
  /// waiting is off, a call that would wait for a lock another connection holds throws
  /// WouldWaitError instead, and leaves the connection as it was before the call, so that the
  /// same call can be made again once waiting is on (a driver may refuse a statement it knows
  /// to be long the same way); commit() and rollback() are not refused
  /// (see commit_cannot_wait()). The async layer runs a blocking driver's plans on its own
  /// thread this way and hands a plan to a worker thread only from a call that would have
  /// waited: a thread hop costs more than a SQLite statement. Default: false.
  virtual bool set_waiting(bool allowed) {
    (void)allowed;
    return false;
  }
  /// While waiting is off: true when `sql`, run now, would be refused with WouldWaitError before
  /// it started, for a reason known beforehand (a statement whose last run was long). The async
  /// layer asks before each round of a plan, so that the common refusal costs no exception (an
  /// exception thrown through the engine's layers costs more than the statement hop it avoids).
  /// No I/O. Default: false.
  virtual bool would_wait(const std::string& sql) {
    (void)sql;
    return false;
  }
  /// True while a transaction is open.
  virtual bool in_transaction() const = 0;
  /// Checks the connection with a round trip; false (never a throw) when it is dead.
  virtual bool ping() = 0;
  /// False once the connection is known broken, judged from what the driver already knows
  /// (status flags, a failed request) without any I/O; a pool asks this when a connection comes
  /// back, and discards it when false.
  virtual bool is_valid() const = 0;
  /// Looks at the connection without blocking and without a round trip: reads what the server
  /// sent unasked (an answer still unread, its last word before it closed the connection, the
  /// end of the stream). False when the connection turns out dead. A pool asks this when it
  /// hands a connection out; the default, for connections without a socket, is is_valid().
  virtual bool check_alive() { return is_valid(); }
  /// The key the last INSERT generated on this connection, where the database keeps one
  /// (SQLite's rowid); nullopt otherwise. See SqlDialect::prefers_last_insert_id().
  virtual std::optional<std::int64_t> last_insert_id() const { return std::nullopt; }
  /// The key that `insert`, a one-row INSERT into `table` just run on this connection, generated
  /// for `key_column`, exactly: where last_insert_id() is not always that key (SQLite's rowid is
  /// the key only when the column is its alias), the driver proves it or reads the key of the
  /// row. nullopt when it cannot say. Default: last_insert_id() (right where the database's last
  /// insert id is always the generated key, as MySQL's AUTO_INCREMENT).
  virtual std::optional<std::int64_t> generated_key(DriverStatement& insert, std::string_view table,
                                                    std::string_view key_column) {
    (void)insert;
    (void)table;
    (void)key_column;
    return last_insert_id();
  }
  /// The non-blocking side of the driver, or nullptr when the database cannot do it.
  virtual NonBlockingConnection* non_blocking() { return nullptr; }

  /// The cached prepared statement for `sql`, preparing it on first use. The statement is reset
  /// and owned by the connection; callers must not keep it past the connection's life.
  DriverStatement& cached_statement(const std::string& sql);
  /// The cached statement for `sql` without resetting it (it counts as recently used), or
  /// nullptr when none is cached.
  DriverStatement* find_cached_statement(const std::string& sql) noexcept;
  /// Drops every cached statement (e.g. after a schema change).
  void clear_statement_cache() noexcept;
  /// The server-side name `sql` was prepared under for pipelines on this connection, or nullptr.
  const std::string* pipelined_statement(const std::string& sql) const noexcept;
  /// Records a new server-side name for `sql` (nullptr once the bounded set is full).
  const std::string* add_pipelined_statement(const std::string& sql);
  /// Forgets the pipeline name of `sql` (its preparation failed).
  void forget_pipelined_statement(const std::string& sql) noexcept { pipelined_.erase(sql); }
  /// Number of statements prepared on this connection so far (for tests and benchmarks).
  std::size_t statements_prepared() const noexcept { return statements_prepared_; }

private:
  // Bounded so that ad-hoc statements cannot grow memory without limit; 256 shapes covers the
  // working set of a typical application with room to spare.
  static constexpr std::size_t statement_cache_capacity = 256;
  using LruList = std::list<std::pair<std::string, std::unique_ptr<DriverStatement>>>;
  LruList lru_;
  std::unordered_map<std::string_view, LruList::iterator> by_sql_;
  std::size_t statements_prepared_ = 0;
  // Statements prepared by name for pipelined execution, as many as the statement cache holds.
  std::unordered_map<std::string, std::string> pipelined_;
  std::size_t pipelined_counter_ = 0;
};

/// A connection being opened without blocking (DialectPlugin::start_connect()): the caller
/// waits until socket() is ready for what poll() asked, then polls again, until it is open.
class RETORT_API PendingConnection {
public:
  /// What the next poll() waits for.
  enum class Need { read, write, nothing };

  PendingConnection() = default;
  virtual ~PendingConnection();
  PendingConnection(const PendingConnection&) = delete;
  PendingConnection& operator=(const PendingConnection&) = delete;

  /// Advances the connect as far as it goes without blocking; Need::nothing once it is open.
  /// The first call does no I/O and asks to wait until the socket is writable. Throws
  /// OperationalError (password masked) when the connect fails.
  virtual Need poll() = 0;
  /// The socket to wait on; read it again after every poll(), since it may change (libpq
  /// tries the next host address on a new socket).
  virtual int socket() const = 0;
  /// When the attempt gives up (the driver's connect timeout), if it has such a limit.
  virtual std::optional<std::chrono::steady_clock::time_point> deadline() const {
    return std::nullopt;
  }
  /// Throws the OperationalError for an attempt that passed its deadline().
  [[noreturn]] virtual void throw_timed_out() const = 0;
  /// The open connection, once poll() returned Need::nothing.
  virtual std::unique_ptr<DriverConnection> finish() = 0;
};

} // namespace retort
