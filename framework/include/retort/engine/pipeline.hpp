// PipelineRun: one pipeline segment on its way — statements (and a COMMIT, when asked) sent
// together, then their results read. The blocking Connection drives it with poll(); the async
// layer drives the very same object with Asio. So both executors share every decision about
// what is sent and what the answers mean; they differ only in how they wait for the socket.
//
//   PipelineRun run = connection.start_pipeline(statements);
//   for (SocketWait wait; (wait = run.pump()) != SocketWait::none;)
//     wait_for(run.socket(), wait);               // poll(), or co_await with Asio
//   std::vector<Result> results = run.finish();
#pragma once

#include <retort/core/export.hpp>
#include <retort/core/value.hpp>
#include <retort/engine/nonblocking.hpp>
#include <retort/engine/result.hpp>

#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace retort {

struct ConnectionState;
class Transaction;

/// What a pipeline waits for before its next pump().
enum class SocketWait : std::uint8_t {
  /// Every answer is in: call finish().
  none,
  /// The socket must become readable.
  read,
  /// The socket must become writable or readable, whichever comes first: a server that
  /// answers while we still send must be read, or both sides' buffers fill up (a deadlock).
  read_or_write,
};

/// One statement of a pipeline: its text and its bound values (both outlive the pipeline).
struct PipelinedStatement {
  const std::string* sql;
  std::span<const Value> params;
};

/// A pipeline segment in flight (made by Connection::start_pipeline()). Belongs to one thread
/// at a time; the connection must not be used otherwise until finish().
class RETORT_API PipelineRun {
public:
  PipelineRun(PipelineRun&&) noexcept;
  PipelineRun& operator=(PipelineRun&&) = delete;
  PipelineRun(const PipelineRun&) = delete;
  PipelineRun& operator=(const PipelineRun&) = delete;
  /// A run abandoned before finish() (an exception, a cancelled wait) leaves the connection
  /// half-read: it is marked for the pool to discard.
  ~PipelineRun();

  /// Sends and reads as far as the socket allows without blocking; returns what to wait for
  /// before calling it again. Throws OperationalError when the connection is lost.
  SocketWait pump();
  /// The socket to wait on; read it again before every wait (libpq may change it).
  int socket() const;
  /// After pump() returned none: the statements' results in order. Throws the first failing
  /// statement's DatabaseError (nothing was committed; a committing run leaves its transaction
  /// active and failed, for the caller to roll back). Then, for a committing run, the
  /// transaction is over, and a failed COMMIT throws its own error with nothing left open.
  std::vector<Result> finish();
  /// The index of the first statement that failed (its preparation or its execution), or
  /// `npos` while none has; what finish() throws belongs to it.
  std::size_t failed_statement() const noexcept { return failed_statement_; }
  /// No statement failed.
  static constexpr std::size_t npos = static_cast<std::size_t>(-1);

private:
  friend class Connection;
  // What each answer to read belongs to.
  enum class Sent : std::uint8_t { prepare, statement, commit };
  enum class Phase : std::uint8_t { sending, reading, end_marker, sync, done };

  // `transaction`: the run ends it (see finish()); `send_commit`: COMMIT goes last in the
  // segment (else the segment, sent outside BEGIN, commits at its sync).
  PipelineRun(std::shared_ptr<ConnectionState> state,
              std::span<const PipelinedStatement> statements, Transaction* transaction,
              bool send_commit);
  // Queues the statements (each shape prepared by name on first use), COMMIT, and the sync.
  void queue();
  // Files one answer; moves to the next phase.
  void take(std::unique_ptr<NonBlockingResult> result);
  void take_sync(std::unique_ptr<NonBlockingResult> result);
  // After any failure: forgets the names prepared in this pipeline and marks a half-read
  // connection for the pool to discard.
  void abandon() noexcept;
  const std::string& sql_of(Sent kind) const;
  // The dialect's COMMIT.
  const std::string& commit_sql() const;

  std::shared_ptr<ConnectionState> state_;
  NonBlockingConnection* nb_ = nullptr;
  std::span<const PipelinedStatement> statements_;
  Transaction* transaction_ = nullptr;
  bool send_commit_ = false;
  std::vector<Sent> sent_;                                   // in the order the answers come
  std::vector<std::string> prepared_;                        // shapes first prepared here
  std::vector<std::unique_ptr<NonBlockingResult>> received_; // the statements' answers
  std::exception_ptr commit_error_;
  std::size_t next_answer_ = 0;    // index into sent_
  std::size_t next_statement_ = 0; // index into statements_
  std::size_t failed_statement_ = npos;
  Phase phase_ = Phase::sending;
  bool finished_ = false;
  bool sync_error_ended_ = false; // the end marker of a COMMIT error at the sync was read
};

} // namespace retort
