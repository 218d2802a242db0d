// The blocking side of a connection: statements, transactions and liveness. Its connect is in
// connect.cpp, its non-blocking side in nonblocking.cpp.
#include "connection.hpp"
#include "statement.hpp"

#include <retort/core/error.hpp>

namespace retort::postgresql {

PgConnection::~PgConnection() {
  clear_statement_cache();
  handle_->close();
}

std::unique_ptr<DriverStatement> PgConnection::prepare(const std::string& sql) {
  handle_->usable(sql);
  handle_->deallocate_forgotten();
  return std::make_unique<PgStatement>(handle_, sql);
}

void PgConnection::execute(const std::string& sql) {
  PGconn* conn = handle_->usable(sql);
  // A deferred BEGIN goes first in the same simple query (one round trip); a failure of `sql`
  // then leaves the transaction open and failed, as after an eager BEGIN.
  ResultPtr result(PQexec(conn, handle_->take_begin() ? ("BEGIN;" + sql).c_str() : sql.c_str()));
  if (!completed(result.get())) handle_->raise(result.get(), sql);
}

// BEGIN waits for the transaction's first statement and travels with it (execute(),
// PgStatement::execute, prepare, enter_pipeline_mode): a transaction costs no round trip of its
// own, and one that runs nothing costs none at all.
void PgConnection::begin() {
  handle_->open_handle("BEGIN");
  handle_->defer_begin();
}

void PgConnection::commit() {
  if (!commit_needed()) return;
  execute("COMMIT");
}

bool PgConnection::send_commit() {
  if (!commit_needed()) return false;
  send_query("COMMIT", {});
  return true;
}

bool PgConnection::settle() {
  // Nothing to wait for: a pipeline queues behind an unawaited ROLLBACK and reads its answer
  // first (enter_pipeline_mode()), and a COMMIT never follows one (a transaction that ran
  // nothing commits nothing). What has already arrived is read now. A broken connection is
  // settled too: the next request reports it.
  if (handle_->rollback_in_flight() && handle_->valid()) handle_->reap_rollback();
  return true;
}

// What commit() and send_commit() decide before COMMIT goes out: a transaction that ran
// nothing needs none, and a failed one is rolled back (PostgreSQL would answer its COMMIT with
// a silent ROLLBACK) and reported as the error it is.
bool PgConnection::commit_needed() {
  handle_->open_handle("COMMIT");
  if (handle_->take_begin()) return false; // nothing ran: nothing to commit
  PGconn* conn = handle_->usable("COMMIT");
  if (PQtransactionStatus(conn) == PQTRANS_INERROR) {
    handle_->send_rollback(); // not awaited, as rollback(): an event loop must not wait here
    throw DatabaseError("the transaction had failed and was rolled back instead of committed",
                        "25P02", 0, "COMMIT");
  }
  return true;
}

// Not awaited: the server releases the transaction's locks when it reads ROLLBACK; its answer
// is read before the next request (PgHandle::usable) or when the pool hands the connection out
// (check_alive), and a failure there discards the connection.
void PgConnection::rollback() {
  handle_->open_handle("ROLLBACK");
  if (handle_->take_begin()) return; // nothing ran: nothing to roll back
  handle_->send_rollback();
}

bool PgConnection::in_transaction() const {
  PGconn* conn = handle_->conn();
  if (!conn) return false;
  if (handle_->begin_pending()) return true;
  if (handle_->rollback_in_flight()) return false;
  auto status = PQtransactionStatus(conn);
  return status == PQTRANS_INTRANS || status == PQTRANS_INERROR;
}

// No I/O: asked at checkin, right after a ROLLBACK went out, when its answer cannot be there yet.
bool PgConnection::is_valid() const { return handle_->valid(); }

bool PgConnection::check_alive() {
  handle_->look_at_socket();
  return handle_->valid();
}

bool PgConnection::ping() {
  if (!handle_->valid()) return false;
  try {
    handle_->usable("SELECT 1");
  } catch (const DatabaseError&) {
    return false;
  }
  PGconn* conn = handle_->conn();
  // With a non-blocking query in flight a round trip is impossible; the status must do.
  if (PQtransactionStatus(conn) == PQTRANS_ACTIVE || PQpipelineStatus(conn) != PQ_PIPELINE_OFF)
    return true;
  ResultPtr result(PQexec(conn, "SELECT 1"));
  if (completed(result.get())) return true;
  // An error on a live connection (e.g. in an aborted transaction) still proves it alive.
  handle_->error_for(result.get(), "SELECT 1");
  return handle_->valid();
}

} // namespace retort::postgresql
