#include "handle.hpp"
#include "errors.hpp"

#include <retort/core/error.hpp>

#include <cerrno>
#include <cstring>
#include <string_view>

#include <poll.h>
#include <sys/socket.h>

namespace retort::postgresql {

namespace {

// Notice receiver: the server's FATAL or PANIC outside a request announces that it closes the
// connection (pg_terminate_backend, shutdown, idle session timeout).
void on_notice(void* handle, const PGresult* notice) {
  const char* severity = PQresultErrorField(notice, PG_DIAG_SEVERITY_NONLOCALIZED);
  if (severity && (std::strcmp(severity, "FATAL") == 0 || std::strcmp(severity, "PANIC") == 0))
    static_cast<PgHandle*>(handle)->mark_broken();
}

// What a non-blocking peek at a socket shows.
enum class Peek { nothing, data, closed };

Peek peek(int socket) noexcept {
  char byte = 0;
  for (;;) {
    const auto n = ::recv(socket, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n > 0) return Peek::data;
    if (n == 0) return Peek::closed;
    if (errno == EINTR) continue;
    return errno == EAGAIN || errno == EWOULDBLOCK ? Peek::nothing : Peek::closed;
  }
}

} // namespace

// ---- PgHandle ---------------------------------------------------------------------------------

PgHandle::PgHandle(PGconn* conn, std::string password) noexcept
    : conn_(conn), password_(std::move(password)) {}

PgHandle::~PgHandle() { close(); }

void PgHandle::close() noexcept {
  if (conn_) PQfinish(conn_);
  conn_ = nullptr;
}

bool PgHandle::valid() const noexcept {
  return conn_ && !broken_ && PQstatus(conn_) == CONNECTION_OK;
}

PGconn* PgHandle::open_handle(const std::string& sql) {
  if (!conn_) throw OperationalError("the connection is closed", "08003", 0, sql);
  if (broken_ || PQstatus(conn_) != CONNECTION_OK) {
    broken_ = true;
    throw OperationalError("the connection to the server was lost", "08006", 0, sql);
  }
  return conn_;
}

PGconn* PgHandle::usable(const std::string& sql) {
  open_handle(sql);
  if (!rollback_in_flight_) return conn_;
  finish_rollback(true, false);
  if (broken_)
    throw OperationalError("the connection failed while rolling back its previous transaction",
                           "08006", 0, sql);
  return conn_;
}

void PgHandle::send_rollback() {
  PGconn* conn = usable("ROLLBACK");
  // Its own pipeline segment: the next transaction's first request may then be queued behind it
  // at once instead of waiting for this answer.
  if (!PQenterPipelineMode(conn)) raise(nullptr, "ROLLBACK");
  rollback_in_flight_ = true;
  rollback_stage_ = RollbackStage::result;
  if (!PQsendQueryParams(conn, "ROLLBACK", 0, nullptr, nullptr, nullptr, nullptr, 0) ||
      !PQpipelineSync(conn)) {
    broken_ = true;
    raise(nullptr, "ROLLBACK");
  }
  // A non-blocking connection may keep part of the request queued: the server must have it now,
  // so that the transaction's locks go at once, not at the next use of the connection.
  for (int sent = PQflush(conn); sent != 0; sent = PQflush(conn)) {
    if (sent < 0) raise(nullptr, "ROLLBACK");
    pollfd fd{PQsocket(conn), POLLOUT | POLLIN, 0};
    if (::poll(&fd, 1, -1) < 0 && errno != EINTR) raise(nullptr, "ROLLBACK");
    if (!PQconsumeInput(conn)) raise(nullptr, "ROLLBACK");
  }
}

void PgHandle::reap_rollback() noexcept {
  if (!rollback_in_flight_ || !conn_ || broken_) return;
  if (!PQconsumeInput(conn_)) {
    broken_ = true;
    return;
  }
  finish_rollback(false, false);
  // What arrived behind the answer, such as the server's FATAL before it closed the connection,
  // is parsed now (on_notice), not when the next request is already on its way.
  if (!rollback_in_flight_ && !broken_) PQisBusy(conn_);
}

PgHandle::RollbackLeft PgHandle::hand_over_rollback() noexcept {
  if (!rollback_in_flight_) return RollbackLeft::nothing;
  rollback_in_flight_ = false;
  // The answer read but not its end marker: the caller reads that marker as the answer's end.
  return rollback_stage_ == RollbackStage::sync ? RollbackLeft::sync
                                                : RollbackLeft::answer_and_sync;
}

void PgHandle::watch_notices() noexcept {
  if (conn_) PQsetNoticeReceiver(conn_, on_notice, this);
}

void PgHandle::look_at_socket() noexcept {
  if (!valid()) return;
  if (rollback_in_flight_) {
    reap_rollback();
    // The answer may have come before the server went away (a crash, a restart): the end of the
    // stream behind it is seen only by looking again, as at any idle connection.
    if (rollback_in_flight_ || !valid()) return;
  }
  // Only an idle connection has nothing to say; one with a request in flight is left alone.
  if (PQpipelineStatus(conn_) != PQ_PIPELINE_OFF || PQtransactionStatus(conn_) == PQTRANS_ACTIVE)
    return;
  switch (peek(PQsocket(conn_))) {
  case Peek::nothing: return;
  case Peek::closed: broken_ = true; return;
  case Peek::data: break;
  }
  // Sent unasked: most likely the server's FATAL (on_notice), then the end of the stream.
  if (!PQconsumeInput(conn_)) {
    broken_ = true;
    return;
  }
  PQisBusy(conn_);
  if (peek(PQsocket(conn_)) == Peek::closed) broken_ = true;
}

void PgHandle::finish_rollback(bool wait, bool keep_pipeline) noexcept {
  // Anything unexpected: the connection is not to be trusted again (the pool discards it).
  auto fail = [this] {
    rollback_in_flight_ = false;
    broken_ = true;
  };
  while (rollback_in_flight_) {
    // PQgetResult waits only while PQisBusy(); without `wait` whatever has arrived is read.
    if (!wait && PQisBusy(conn_)) return;
    ResultPtr result(PQgetResult(conn_));
    const auto status = result ? PQresultStatus(result.get()) : PGRES_FATAL_ERROR;
    switch (rollback_stage_) {
    case RollbackStage::result:
      if (!result || status != PGRES_COMMAND_OK) return fail();
      rollback_stage_ = RollbackStage::end;
      break;
    case RollbackStage::end:
      if (result) return fail();
      rollback_stage_ = RollbackStage::sync;
      break;
    case RollbackStage::sync:
      if (!result || status != PGRES_PIPELINE_SYNC) return fail();
      rollback_in_flight_ = false;
      if (keep_pipeline) return;
      if (!PQexitPipelineMode(conn_) || PQstatus(conn_) != CONNECTION_OK ||
          PQtransactionStatus(conn_) != PQTRANS_IDLE)
        broken_ = true;
      return;
    }
  }
}

std::string PgHandle::next_statement_name() {
  return "retort_" + std::to_string(++statements_named_);
}

void PgHandle::forget_statement(std::string name) {
  if (conn_ && !broken_) forgotten_.push_back(std::move(name));
}

void PgHandle::deallocate_forgotten() noexcept {
  if (forgotten_.empty() || !valid()) return;
  // DEALLOCATE fails in an aborted transaction and would abort a healthy one on error, so it
  // only runs between transactions, and never while a non-blocking query is in flight.
  if (PQtransactionStatus(conn_) != PQTRANS_IDLE || PQpipelineStatus(conn_) != PQ_PIPELINE_OFF)
    return;
  std::string sql;
  for (const auto& name : forgotten_)
    sql += "DEALLOCATE " + name + ";";
  forgotten_.clear();
  ResultPtr result(PQexec(conn_, sql.c_str()));
  if (PQstatus(conn_) != CONNECTION_OK) broken_ = true;
}

std::string PgHandle::scrub(std::string text) const {
  if (password_.empty()) return text;
  for (auto at = text.find(password_); at != std::string::npos; at = text.find(password_, at))
    text.replace(at, password_.size(), "***");
  return text;
}

std::exception_ptr PgHandle::error_for(const PGresult* result, const std::string& sql) {
  const char* state = result ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  const char* primary = result ? PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY) : nullptr;
  std::string sqlstate = state ? state : "";
  std::string message = primary  ? trimmed(primary)
                        : result ? trimmed(PQresultErrorMessage(result))
                                 : std::string();
  if (message.empty() && conn_) message = trimmed(PQerrorMessage(conn_));
  if (message.empty()) message = "unknown error from libpq";
  message = scrub(std::move(message));

  bool lost = !conn_ || PQstatus(conn_) == CONNECTION_BAD;
  if (lost || sqlstate.starts_with("08") || sqlstate.starts_with("57P")) broken_ = true;
  if (sqlstate.empty() && lost) sqlstate = "08006";
  if (sqlstate.empty()) return std::make_exception_ptr(InterfaceError(message, "", 0, sql));
  return make_database_error(sqlstate, std::move(message), sql);
}

void PgHandle::raise(const PGresult* result, const std::string& sql) {
  std::rethrow_exception(error_for(result, sql));
}

bool completed(const PGresult* r) {
  if (!r) return false;
  auto status = PQresultStatus(r);
  return status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK || status == PGRES_EMPTY_QUERY;
}

// Sends BEGIN inside the current pipeline (a deferred transaction start riding along with the
// statement that needs it).
bool queue_begin(PGconn* conn) {
  return PQsendQueryParams(conn, "BEGIN", 0, nullptr, nullptr, nullptr, nullptr, 0) != 0;
}

} // namespace retort::postgresql
