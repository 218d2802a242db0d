// Pieces shared by the blocking and the non-blocking side of the PostgreSQL driver: the
// connection state, error translation, parameter encoding and typed reading of text results.
#pragma once

#include <retort/core/value.hpp>

#include <libpq-fe.h>

#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace retort::pg {

/// Frees a PGresult.
struct ResultDeleter {
  void operator()(PGresult* r) const noexcept { PQclear(r); }
};
/// An owned PGresult.
using ResultPtr = std::unique_ptr<PGresult, ResultDeleter>;

/// The state of one libpq connection, shared by the connection and its statements so that a
/// statement outliving its connection finds the handle closed instead of dangling.
class Session {
public:
  Session(PGconn* conn, std::string password) noexcept;
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  /// The handle; nullptr once closed.
  PGconn* conn() const noexcept { return conn_; }
  /// The handle, ready for a new request (an unawaited ROLLBACK's answer read first); throws
  /// OperationalError when the connection is closed or known broken.
  PGconn* usable(const std::string& sql);
  /// The handle without any I/O; throws OperationalError when closed or known broken.
  PGconn* open_handle(const std::string& sql);
  /// Closes the handle (idempotent).
  void close() noexcept;
  /// False once the connection is closed or known broken.
  bool valid() const noexcept;
  /// Marks the connection broken (lost, terminated by the server).
  void mark_broken() noexcept { broken_ = true; }
  /// Takes the server's unasked messages: notices are dropped, but a FATAL error (the server's
  /// last word before it closes the connection) marks the connection broken.
  void watch_notices() noexcept;
  /// Looks at the socket without blocking and without sending anything: reads an unawaited
  /// ROLLBACK's answer if it has arrived, or what an idle server sent unasked, and notices the
  /// end of the stream. A connection found closed is marked broken.
  void look_at_socket() noexcept;

  /// Records that a transaction is open but BEGIN is not sent yet: it goes out in the same
  /// round trip as the first statement (see take_begin()).
  void defer_begin() noexcept { begin_pending_ = true; }
  /// True while BEGIN is deferred.
  bool begin_pending() const noexcept { return begin_pending_; }
  /// Clears the deferred BEGIN; true when there was one (the caller sends it now).
  bool take_begin() noexcept { return std::exchange(begin_pending_, false); }
  /// Sends ROLLBACK, in a pipeline of its own, without waiting for its answer. Locks are
  /// released as soon as the server reads it. The answer is read before the connection's next
  /// request (usable()), or right after the next transaction's first request was queued behind
  /// it (read_rollback_ahead()).
  void send_rollback();
  /// True while an unawaited ROLLBACK's answer is unread (the connection is in pipeline mode).
  bool rollback_in_flight() const noexcept { return rollback_in_flight_; }
  /// Reads the answer of an unawaited ROLLBACK if it has arrived (never waits); a failure marks
  /// the connection broken.
  void reap_rollback() noexcept;
  /// Reads the unawaited ROLLBACK's answer ahead of requests queued behind it in the same
  /// pipeline (which stays on); a failure marks the connection broken.
  void read_rollback_ahead() noexcept { finish_rollback(true, true); }
  /// What of an unawaited ROLLBACK's pipeline segment is still to be read.
  enum class RollbackLeft { nothing, answer_and_sync, sync };
  /// Hands the unread rest of an unawaited ROLLBACK's segment to the caller, which queues its
  /// own requests behind it in the same pipeline (which stays on) and reads that rest first.
  RollbackLeft hand_over_rollback() noexcept;

  /// A fresh server-side statement name, unique on this connection.
  std::string next_statement_name();
  /// Queues `name` for DEALLOCATE at the next safe moment (never inside a transaction).
  void forget_statement(std::string name);
  /// Deallocates queued statements when the connection is idle outside a transaction.
  void deallocate_forgotten() noexcept;

  /// Throws the typed DatabaseError for a failed `result` (nullptr: the connection's error).
  [[noreturn]] void raise(const PGresult* result, const std::string& sql);
  /// The typed DatabaseError for a failed `result`, marking the connection broken if needed.
  std::exception_ptr error_for(const PGresult* result, const std::string& sql);
  /// `text` with the connection's password replaced by ***.
  std::string scrub(std::string text) const;

private:
  /// Reads the unawaited ROLLBACK's results, waiting for them when `wait`, and leaves pipeline
  /// mode unless `keep_pipeline`; a failure marks the connection broken.
  void finish_rollback(bool wait, bool keep_pipeline) noexcept;

  PGconn* conn_;
  std::string password_;
  bool broken_ = false;
  bool begin_pending_ = false;
  bool rollback_in_flight_ = false;
  // What the unawaited ROLLBACK's pipeline answers next: its result, its end, the sync.
  enum class RollbackStage { result, end, sync } rollback_stage_ = RollbackStage::result;
  std::uint64_t statements_named_ = 0;
  std::vector<std::string> forgotten_;
};

/// The typed DatabaseError for SQLSTATE `sqlstate` (DB-API classes; table in README.md).
std::exception_ptr make_database_error(const std::string& sqlstate, std::string message,
                                       std::string sql);

/// Parameters encoded for libpq: text format, except bytes in binary format.
class Params {
public:
  /// Encodes `params`; the values are copied, so they need not outlive this object. Text with
  /// a NUL byte is a DataError naming its column in `sql` (or its position), before anything
  /// is sent.
  void assign(std::span<const Value> params, const std::string& sql);
  int count() const noexcept { return static_cast<int>(values_.size()); }
  const char* const* values() const noexcept { return values_.data(); }
  const int* lengths() const noexcept { return lengths_.data(); }
  const int* formats() const noexcept { return formats_.data(); }
  /// Type OIDs for unnamed statements: 0 (inferred by the server) except bytea for bytes.
  const Oid* types() const noexcept { return types_.data(); }

private:
  std::string arena_;
  std::vector<std::size_t> offsets_;
  std::vector<const char*> values_;
  std::vector<int> lengths_;
  std::vector<int> formats_;
  std::vector<Oid> types_;
};

/// Typed access to the rows of a text-format PGresult, walked row by row.
class Rows {
public:
  /// Takes `result` (may be null: no rows, no columns) and positions before the first row.
  void reset(ResultPtr result, std::string* sql_for_errors);
  /// Drops the result.
  void clear() noexcept;
  /// Rewinds to before the first row.
  void rewind() noexcept { row_ = -1; }
  /// Advances; true while a row is current.
  bool next() noexcept {
    if (row_ < rows_) ++row_;
    return row_ < rows_;
  }
  const PGresult* result() const noexcept { return result_.get(); }
  int rows() const noexcept { return rows_; }

  int column_count() const noexcept;
  std::string_view column_name(int i) const;
  bool is_null(int i) const;
  std::int64_t get_int64(int i) const;
  double get_double(int i) const;
  std::string_view get_text(int i) const;
  std::span<const std::byte> get_blob(int i) const;
  bool get_bool(int i) const;
  Value get_value(int i) const;
  std::int64_t rows_affected() const;

private:
  // Every cell read checks its position: inline, against counts kept from reset(), since a
  // libpq call per check cost more than reading the cell.
  void check_cell(int i) const {
    if (row_ < 0 || row_ >= rows_ || i < 0 || i >= columns_) bad_position(i);
  }
  [[noreturn]] void bad_position(int i) const;
  [[noreturn]] void bad_cell(int i, const char* wanted) const;
  Oid type_of(int i) const noexcept { return types_[static_cast<std::size_t>(i)]; }

  ResultPtr result_;
  int rows_ = 0;
  int row_ = -1;
  int columns_ = 0;
  // Column type OIDs, read once per result instead of once per cell.
  std::vector<Oid> types_;
  std::string* sql_ = nullptr;
  // Decoded bytea per column, valid until the next row, like the text it came from.
  mutable std::vector<Blob> blobs_;
};

/// Decodes PostgreSQL's hex bytea output ("\x0a1b...") or the legacy escape format.
Blob decode_bytea(std::string_view text);

} // namespace retort::pg
