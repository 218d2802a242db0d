// The non-blocking side of the driver SPI: a socket and a state machine that an event loop (the
// async layer's Asio io_context) drives, the shape of libpq's asynchronous API. Nothing here
// waits on the network except next_result() called while is_busy() is true, which the caller
// avoids by waiting for the socket to become readable and calling consume_input() first.
//
// A typical round trip:
//   nb.send_query(sql, params);
//   while (!nb.flush()) wait_writable(nb.socket());
//   while (nb.is_busy()) { wait_readable(nb.socket()); nb.consume_input(); }
//   while (auto r = nb.next_result()) { ... }       // nullptr ends this query's results
#pragma once

#include <retort/core/export.hpp>
#include <retort/core/value.hpp>
#include <retort/engine/driver.hpp>

#include <cstdint>
#include <memory>
#include <span>
#include <string>

namespace retort {

/// What one result of a non-blocking query reports.
enum class ResultStatus {
  /// A statement that returns rows (possibly none) completed.
  rows,
  /// A statement without result rows (DML without RETURNING, DDL, PREPARE) completed.
  command,
  /// The statement failed; step() and throw_if_error() throw its DatabaseError.
  error,
  /// Not executed because an earlier statement of the same pipeline segment failed.
  pipeline_aborted,
  /// The end of a pipeline segment, the answer to pipeline_sync().
  pipeline_sync,
};

/// One result of a non-blocking query. Rows are read with the typed access of DriverStatement
/// (step() walks them); bind() throws InvalidStateError because a result is not a statement,
/// and reset() rewinds to before the first row.
class RETORT_API NonBlockingResult : public DriverStatement {
public:
  ~NonBlockingResult() override;
  /// What kind of result this is.
  virtual ResultStatus status() const = 0;
  /// Throws the typed DatabaseError when status() is error or pipeline_aborted.
  virtual void throw_if_error() const = 0;
  /// Number of rows the result holds.
  virtual std::int64_t row_count() const = 0;
};

/// A connection's non-blocking interface (DriverConnection::non_blocking()). It shares the
/// connection with the blocking API: while any query sent here has results not yet read, the
/// blocking calls of that connection must not be used.
class RETORT_API NonBlockingConnection {
public:
  virtual ~NonBlockingConnection();

  /// The socket to wait on; read it again before every wait, since it may change.
  virtual int socket() const = 0;
  /// Queues `sql` with `params` bound to $1..$n (unnamed statement); call flush() next.
  virtual void send_query(const std::string& sql, std::span<const Value> params) = 0;
  /// Queues the preparation of `sql` as server-side statement `name`; its result is a command.
  /// Names starting with "retort_" are reserved for the driver's own statement cache.
  virtual void send_prepare(const std::string& name, const std::string& sql) = 0;
  /// Queues an execution of the prepared statement `name` with `params`.
  virtual void send_prepared(const std::string& name, std::span<const Value> params) = 0;
  /// Sends what is queued; true when everything went out, false when the socket must become
  /// writable before calling it again. Throws OperationalError when the connection is lost.
  virtual bool flush() = 0;
  /// Reads what has arrived on the socket; call it when the socket is readable.
  /// Throws OperationalError when the connection is lost.
  virtual void consume_input() = 0;
  /// True when next_result() would have to wait for more input.
  virtual bool is_busy() = 0;
  /// The next result, or nullptr at the end of the current query's results. Blocks when
  /// is_busy() is true.
  virtual std::unique_ptr<NonBlockingResult> next_result() = 0;

  /// Asks the server to cancel the statement in progress, over a separate short-lived
  /// connection (a brief blocking round trip). The statement's results then end with an
  /// OperationalError (SQLSTATE 57014) and the connection stays usable once they are read.
  /// False when the request could not be delivered; nothing in progress is not an error.
  virtual bool request_cancel() = 0;

  /// Enters pipeline mode: queries are sent without waiting for earlier results. Only when
  /// no query is in progress.
  virtual void enter_pipeline_mode() = 0;
  /// Marks the end of a pipeline segment; an error aborts the rest of its segment only.
  virtual void pipeline_sync() = 0;
  /// Leaves pipeline mode; only after every result has been read.
  virtual void exit_pipeline_mode() = 0;
  /// True while in pipeline mode.
  virtual bool in_pipeline_mode() const = 0;
  /// Queues the COMMIT of the open top-level transaction, to be sent and read like a query;
  /// false when there is nothing to send (the transaction ran nothing). A failed transaction is
  /// rolled back instead and DatabaseError (25P02) thrown, as DriverConnection::commit() does.
  /// Not in pipeline mode (a COMMIT there belongs in the pipeline's segment).
  virtual bool send_commit() = 0;
  /// Reads, without waiting, what has arrived of the connection's own unfinished business (the
  /// answer to a ROLLBACK the driver sent without waiting for it); true when a request can go
  /// out without blocking on it, false when the socket must become readable first.
  virtual bool settle() = 0;
};

} // namespace retort
