// Connection: a pooled database connection in use. Executes Core statements and text, runs
// transactions. Belongs to one thread at a time; returned to the pool when the last handle
// (Connection, Result or Transaction) goes away.
#pragma once

#include <retort/core/export.hpp>
#include <retort/core/value.hpp>
#include <retort/engine/engine.hpp>

#include <exception>
#include <retort/engine/pipeline.hpp>
#include <retort/engine/result.hpp>
#include <retort/engine/transaction.hpp>
#include <retort/sql/bindparam.hpp>
#include <retort/sql/statement.hpp>

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace retort {

struct ConnectionState;
class SqlDialect;
class StatementCache;

/// A checked-out connection of an Engine.
class RETORT_API Connection {
public:
  /// Checks out a connection of `engine`'s pool (Engine::connect()).
  explicit Connection(const Engine& engine);
  /// Wraps a connection checked out of `engine`'s pool (the async checkout).
  Connection(Engine engine, PooledConnection&& pooled);
  Connection(Connection&&) noexcept = default;
  Connection& operator=(Connection&&) noexcept = default;
  ~Connection();

  /// Executes raw SQL text with positional parameters in the dialect's placeholder style.
  Result execute_sql(const std::string& sql, std::span<const Value> params = {});
  /// Compiles a Core statement (select, insert, update, delete, text) through the engine's
  /// statement cache and executes it; the rows of a bulk insert are bound without copies.
  /// Include <retort/sql/compiler.hpp> to use it.
  template <typename Statement>
  requires requires(const Statement& s, const SqlDialect& d, StatementCache* c) {
    compile_for_execute(s, d, c).sql;
    compile_for_execute(s, d, c).params;
  }
  Result execute(const Statement& statement) {
    auto compiled = compile_for_execute(statement, engine().dialect(), &engine().statement_cache());
    return execute_sql(compiled.sql, compiled.params);
  }
  /// Executes an INSERT. One whose rows need more bound parameters than the dialect allows in
  /// one statement is split into as few statements as its limit permits, run in one
  /// transaction (a savepoint inside an open one), so it stays all or nothing; the Result then
  /// counts every row in rows_affected(). A split INSERT with RETURNING is refused
  /// (ArgumentError): its rows would come from several statements.
  Result execute(const Insert& statement);
  /// Executes an INSERT, UPDATE, DELETE or text() once per parameter set (SQLAlchemy's
  /// executemany): compiled and prepared once, each set filling its bindparam()s by name; an
  /// INSERT without rows inserts one row per set into the columns the sets name. All sets run
  /// in one transaction (a savepoint inside an open one): on SQLite one after the other, on
  /// PostgreSQL pipelined, in segments of at most max_bound_parameters() values. Returns the
  /// rows affected by all sets. Errors: a set whose values miss a name, or do not fit a typed
  /// bindparam, is an ArgumentError; a database error at set k is thrown as its own type with
  /// "parameter set k" in front of its message, and none of the sets' changes remain (the
  /// transaction or savepoint is rolled back).
  template <typename S>
  requires(std::same_as<S, Insert> || std::same_as<S, Update> || std::same_as<S, Delete> ||
           std::same_as<S, TextClause>) std::int64_t
      execute(const S& statement, const ParameterSets& sets) {
    return execute_many(Statement(statement), sets);
  }
  /// execute(statement, sets) for a Statement variant.
  std::int64_t execute_many(const Statement& statement, const ParameterSets& sets);
  /// One statement of a pipeline.
  using Pipelined = PipelinedStatement;
  /// True when the driver can send several statements before reading their results.
  bool can_pipeline() const;
  /// While the driver's waiting is off: true when `sql` would be refused before it started
  /// (DriverConnection::would_wait()).
  bool would_wait(const std::string& sql) const;
  /// Sends every statement, then reads every result, in one round trip where the driver can
  /// pipeline (PostgreSQL); results come back in order, fully received. The first failing
  /// statement's DatabaseError is thrown after the pipeline has been drained. Without
  /// pipelining, statements run one after the other.
  std::vector<Result> execute_pipeline(std::span<const Pipelined> statements);
  /// execute_pipeline() for an event loop (the async layer): queues the statements and
  /// returns the run for the caller to drive (see PipelineRun). Only where can_pipeline().
  PipelineRun start_pipeline(std::span<const Pipelined> statements);
  /// Receives each result of execute_and_commit(), in statement order.
  using ResultHandler = std::function<void(std::size_t index, Result& result)>;
  /// Runs `statements`, then commits `transaction` (a top-level one). Where the driver can
  /// pipeline (PostgreSQL) everything goes in one round trip: the statements and COMMIT in one
  /// pipeline segment, so that a failing statement keeps COMMIT from taking effect; when
  /// nothing ran in the transaction before, the segment alone is the transaction (atomic,
  /// committed at its sync: no BEGIN or COMMIT is sent; statements that need a transaction
  /// block, such as LOCK or SAVEPOINT, fail there). Then `handle` gets every result, after the
  /// commit. Elsewhere each statement runs and is handled in turn, then the transaction
  /// commits; there a lone statement without result rows, with nothing run in the transaction
  /// before it, runs on its own (autocommit), which is the same transaction without BEGIN and
  /// COMMIT.
  /// Errors: a statement's failure is thrown as that statement's DatabaseError, nothing is
  /// committed and `transaction` stays active (failed) for the caller to roll back; a COMMIT
  /// that fails throws its own error and ends `transaction`. An exception from `handle` is
  /// passed on; on PostgreSQL the commit has then already taken effect, so `handle` must not be
  /// what decides whether to commit (e.g. a row-count check).
  void execute_and_commit(std::span<const Pipelined> statements, Transaction& transaction,
                          const ResultHandler& handle);
  /// execute_and_commit() for an event loop, where can_pipeline(): queues the statements and
  /// the COMMIT of `transaction` as one segment and returns the run for the caller to drive;
  /// its finish() ends `transaction` and reports errors as execute_and_commit() does.
  PipelineRun start_pipeline_and_commit(std::span<const Pipelined> statements,
                                        Transaction& transaction);
  /// Transaction::commit() for an event loop (the async layer): ends `transaction`, the active
  /// top-level one, and queues its COMMIT on the driver's non-blocking side; false when nothing
  /// must be sent (nothing ran). The caller sends it and reads its result; if that fails, it
  /// calls commit_failed().
  bool send_commit(Transaction& transaction);
  /// After a COMMIT sent by send_commit() failed: leaves no transaction open (or drops the
  /// connection).
  void commit_failed() noexcept;
  /// Executes raw SQL with no parameters and no rows (DDL, PRAGMA).
  void execute_ddl(const std::string& sql);

  /// Starts a transaction; rolled back when the returned object dies uncommitted.
  Transaction begin();
  /// Starts a savepoint inside the current transaction (begins one if none is open).
  /// InvalidStateError on a connection whose owner keeps its own savepoints (refuse_nested()).
  Transaction begin_nested();
  /// For an owner that keeps the books of its transaction (an ORM session): begin_nested()
  /// then throws InvalidStateError saying `why` (static text), instead of opening a savepoint
  /// the owner would not know of; nullptr allows it again.
  void refuse_nested(const char* why) noexcept;
  /// True while a transaction is open.
  bool in_transaction() const;
  /// Declares that the open transaction will write after it reads: where the driver has not
  /// sent BEGIN yet, it takes the write lock at once (DriverConnection::will_write(); SQLite:
  /// BEGIN IMMEDIATE, waiting up to busy_timeout), so that the later write cannot fail with
  /// "database is locked" for the read before it. Nothing where the transaction already ran a
  /// statement.
  void will_write();

  /// The engine this connection came from.
  const Engine& engine() const;
  /// The driver connection (for the SPI level: non-blocking side, statistics).
  DriverConnection& driver() const;
  /// Returns the connection to its pool; the object is unusable afterwards.
  void close() noexcept;
  /// Marks the connection broken so that the pool discards it.
  void invalidate() noexcept;

  /// What a request about to go out knows of the connection, for lost_before_use().
  struct FirstRequest {
    /// The first request since checkout, in the top-level transaction it begins (its BEGIN
    /// goes with it), with no savepoint.
    bool retryable = false;
  };
  /// Called just before a request (a statement, a pipeline) that may be sent again; marks the
  /// connection used.
  FirstRequest first_request() noexcept;
  /// After a request marked by `request` failed with `error`: true when the connection turned
  /// out lost (the driver reports it broken with SQLSTATE class 08, or 57P01-57P03: the server
  /// shut down) at the first request since checkout, which began the transaction. Nothing of
  /// the transaction can have taken effect (no COMMIT went out), so the request may go once
  /// more on a fresh connection (replace_lost()): a pool cannot know every dead idle connection
  /// (a server restarted behind a proxy that keeps the client's side open), and the user must
  /// not see a failure a second connection avoids. A request that may have committed is never
  /// retried. When true, the pool has also closed its idle connections, which the same cause
  /// (a server restart) most likely killed too, so that the next checkout opens a new one
  /// (SQLAlchemy invalidates its pool on a disconnect the same way: Pool::dispose()).
  bool lost_before_use(const FirstRequest& request, const std::exception_ptr& error);
  /// Puts the driver connection of `fresh` (checked out of the same engine) in place of the
  /// lost one, which the pool discards, and begins the transaction on it again; this object
  /// and its Transaction stay valid. Nothing is retried a second time.
  void replace_lost(Connection&& fresh);

private:
  // Throws InvalidStateError unless `transaction` is the active top-level one of this connection.
  void check_top_level(const Transaction& transaction, const char* caller) const;
  // execute_and_commit() of one row-less statement as its own transaction; false when that
  // does not apply (see there).
  bool run_alone_and_commit(std::span<const Pipelined> statements, Transaction& transaction,
                            const ResultHandler& handle);
  // execute(Insert) of an INSERT that does not fit one statement.
  Result execute_split(const Insert& statement);
  // A transaction for a batch of statements: a savepoint inside an open one.
  Transaction begin_batch();
  // Runs `request` (one request on this connection); when the connection turns out lost
  // before use (lost_before_use()), once more on one checked out of the pool.
  template <typename Request> auto retrying(Request request) -> decltype(request());

  std::shared_ptr<ConnectionState> state_;
};

} // namespace retort
