// The state of one libpq connection, shared by the connection and its statements, and what
// reading a request's answer needs on both the blocking and the non-blocking side.
#pragma once

#include <libpq-fe.h>

#include <cstdint>
#include <exception>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace retort::postgresql {

/// Frees a PGresult.
struct ResultDeleter {
  void operator()(PGresult* r) const noexcept { PQclear(r); }
};
/// An owned PGresult.
using ResultPtr = std::unique_ptr<PGresult, ResultDeleter>;

/// The state of one libpq connection, shared by the connection and its statements so that a
/// statement outliving its connection finds the handle closed instead of dangling.
class PgHandle {
public:
  PgHandle(PGconn* conn, std::string password) noexcept;
  ~PgHandle();
  PgHandle(const PgHandle&) = delete;
  PgHandle& operator=(const PgHandle&) = delete;

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

/// True when `result` reports a completed command or query.
bool completed(const PGresult* result);
/// Sends BEGIN inside the current pipeline (a deferred transaction start riding along with the
/// statement that needs it).
bool queue_begin(PGconn* conn);

} // namespace retort::postgresql
