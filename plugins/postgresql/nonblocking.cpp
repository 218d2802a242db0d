// The non-blocking side of a connection (NonBlockingConnection): send, flush, read results,
// pipeline mode, on the same handle as the blocking side.
#include "connection.hpp"
#include "errors.hpp"
#include "result.hpp"

#include <retort/core/error.hpp>

#include <utility>

namespace retort::postgresql {

int PgConnection::socket() const {
  PGconn* conn = handle_->conn();
  return conn ? PQsocket(conn) : -1;
}

PGconn* PgConnection::non_blocking_handle(const std::string& sql) {
  PGconn* conn = handle_->usable(sql);
  if (!PQisnonblocking(conn) && PQsetnonblocking(conn, 1) != 0) handle_->raise(nullptr, sql);
  // Outside pipeline mode a deferred BEGIN cannot share the request's round trip without
  // changing what the caller reads back, so it goes first, eagerly (as begin() used to do).
  // enter_pipeline_mode() instead sends it inside the pipeline (which is how the async
  // executor sends every statement, so as not to block here).
  if (PQpipelineStatus(conn) == PQ_PIPELINE_OFF && handle_->take_begin()) {
    ResultPtr result(PQexec(conn, "BEGIN"));
    if (!completed(result.get())) handle_->raise(result.get(), "BEGIN");
  }
  return conn;
}

void PgConnection::send_failed(const std::string& sql) { handle_->raise(nullptr, sql); }

void PgConnection::send_query(const std::string& sql, std::span<const Value> params) {
  async_params_.assign(params, sql);
  PGconn* conn = non_blocking_handle(sql);
  if (!PQsendQueryParams(conn, sql.c_str(), async_params_.count(), async_params_.types(),
                         async_params_.values(), async_params_.lengths(), async_params_.formats(),
                         0))
    send_failed(sql);
  in_flight_.push_back({sql, false});
}

void PgConnection::send_prepare(const std::string& name, const std::string& sql) {
  PGconn* conn = non_blocking_handle(sql);
  if (!PQsendPrepare(conn, name.c_str(), sql.c_str(), 0, nullptr)) send_failed(sql);
  prepared_sql_[name] = sql;
  in_flight_.push_back({sql, false});
}

void PgConnection::send_prepared(const std::string& name, std::span<const Value> params) {
  auto known = prepared_sql_.find(name);
  const std::string sql = known == prepared_sql_.end() ? "EXECUTE " + name : known->second;
  async_params_.assign(params, sql);
  PGconn* conn = non_blocking_handle(sql);
  if (!PQsendQueryPrepared(conn, name.c_str(), async_params_.count(), async_params_.values(),
                           async_params_.lengths(), async_params_.formats(), 0))
    send_failed(sql);
  in_flight_.push_back({sql, false});
}

bool PgConnection::flush() {
  PGconn* conn = handle_->usable("");
  int status = PQflush(conn);
  if (status < 0) handle_->raise(nullptr, in_flight_.empty() ? "" : in_flight_.front().sql);
  return status == 0;
}

void PgConnection::consume_input() {
  PGconn* conn = handle_->usable("");
  if (!PQconsumeInput(conn))
    handle_->raise(nullptr, in_flight_.empty() ? "" : in_flight_.front().sql);
}

bool PgConnection::skip_hidden(PGconn* conn, bool wait) {
  while (!in_flight_.empty() && in_flight_.front().hidden) {
    if (!wait && PQisBusy(conn)) return false;
    ResultPtr result(PQgetResult(conn));
    const InFlight& front = in_flight_.front();
    if (front.rollback) {
      const auto status = result ? PQresultStatus(result.get()) : PGRES_COMMAND_OK;
      if (status != (front.sync ? PGRES_PIPELINE_SYNC : PGRES_COMMAND_OK)) {
        handle_->mark_broken();
        rollback_failed_ = true;
      }
      // A sync has no end marker; the ROLLBACK's answer has one (nullptr), read next.
      if (front.sync || !result) in_flight_.pop_front();
      continue;
    }
    if (!result) {
      in_flight_.pop_front();
      continue;
    }
    if (!completed(result.get()) && !hidden_error_)
      hidden_error_ = handle_->error_for(result.get(), in_flight_.front().sql);
  }
  return true;
}

bool PgConnection::is_busy() {
  PGconn* conn = handle_->conn();
  if (!conn) return false;
  return !skip_hidden(conn, false) || PQisBusy(conn) != 0;
}

std::unique_ptr<NonBlockingResult> PgConnection::next_result() {
  PGconn* conn = handle_->conn();
  if (!conn) throw OperationalError("the connection is closed", "08003", 0, "");
  skip_hidden(conn, true);
  // As in the blocking begin_and_execute(): behind a failed ROLLBACK nothing is trusted.
  if (rollback_failed_)
    throw OperationalError("the connection failed while rolling back its previous transaction",
                           "08006", 0, in_flight_.empty() ? "" : in_flight_.front().sql);
  ResultPtr result(PQgetResult(conn));
  if (!result) {
    // The end of one query's results; a sync has no such end marker.
    if (!in_flight_.empty() && !in_flight_.front().sync) in_flight_.pop_front();
    return nullptr;
  }
  const auto status = PQresultStatus(result.get());
  std::string sql = in_flight_.empty() ? std::string() : in_flight_.front().sql;
  if (status == PGRES_PIPELINE_SYNC && !in_flight_.empty() && in_flight_.front().sync)
    in_flight_.pop_front();
  std::exception_ptr error;
  if (status == PGRES_FATAL_ERROR || status == PGRES_BAD_RESPONSE || status == PGRES_NONFATAL_ERROR)
    error = handle_->error_for(result.get(), sql);
  // Statements aborted because the pipeline's hidden BEGIN failed: the first one says why.
  if (status == PGRES_PIPELINE_ABORTED && hidden_error_) error = std::exchange(hidden_error_, {});
  if (status == PGRES_PIPELINE_SYNC) hidden_error_ = nullptr;
  return std::make_unique<PgResult>(std::move(result), std::move(sql), std::move(error));
}

bool PgConnection::request_cancel() {
  PGconn* conn = handle_->conn();
  if (!conn || !handle_->valid()) return false;
  std::unique_ptr<PGcancel, decltype(&PQfreeCancel)> cancel(PQgetCancel(conn), PQfreeCancel);
  if (!cancel) return false;
  char error[256] = {};
  return PQcancel(cancel.get(), error, sizeof error) == 1;
}

// The previous transaction's ROLLBACK went out in a pipeline segment of its own, unawaited. The
// new pipeline joins that one, and its answer is read and checked first (skip_hidden()), so
// that the new requests do not wait a round trip for it, as in the blocking
// begin_and_execute().
void PgConnection::queue_behind_rollback() {
  switch (handle_->hand_over_rollback()) {
  case PgHandle::RollbackLeft::nothing: return;
  case PgHandle::RollbackLeft::answer_and_sync:
    in_flight_.push_back({"ROLLBACK", false, true, true});
    [[fallthrough]];
  case PgHandle::RollbackLeft::sync: in_flight_.push_back({"ROLLBACK", true, true, true}); return;
  }
}

void PgConnection::enter_pipeline_mode() {
  if (handle_->valid()) queue_behind_rollback();
  PGconn* conn = handle_->usable("");
  if (!PQisnonblocking(conn) && PQsetnonblocking(conn, 1) != 0) handle_->raise(nullptr, "");
  if (!PQenterPipelineMode(conn))
    throw InvalidStateError("cannot enter pipeline mode: " + trimmed(PQerrorMessage(conn)));
  // A deferred BEGIN opens the pipeline; its answer is read and dropped by next_result().
  if (handle_->take_begin()) {
    if (!queue_begin(conn)) send_failed("BEGIN");
    in_flight_.push_back({"BEGIN", false, true});
  }
}

void PgConnection::pipeline_sync() {
  PGconn* conn = handle_->usable("");
  if (!PQpipelineSync(conn)) send_failed("");
  in_flight_.push_back({"", true});
}

void PgConnection::exit_pipeline_mode() {
  PGconn* conn = handle_->usable("");
  if (!PQexitPipelineMode(conn))
    throw InvalidStateError("cannot leave pipeline mode: " + trimmed(PQerrorMessage(conn)));
}

bool PgConnection::in_pipeline_mode() const {
  PGconn* conn = handle_->conn();
  // An unawaited ROLLBACK's own pipeline is the driver's business, not the caller's.
  return conn && !handle_->rollback_in_flight() && PQpipelineStatus(conn) != PQ_PIPELINE_OFF;
}

} // namespace retort::postgresql
