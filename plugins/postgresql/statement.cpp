// The statement side of the driver: prepare and describe, execute, with a deferred BEGIN riding
// along in the same round trip.
#include "statement.hpp"

#include <retort/core/error.hpp>

namespace retort::postgresql {

namespace {

// Reads the results of one pipelined request up to the nullptr that ends them; keeps the first.
ResultPtr take_pipelined(PGconn* conn) {
  ResultPtr first(PQgetResult(conn));
  while (ResultPtr extra{PQgetResult(conn)}) {
  }
  return first;
}

// What a pipelined request answered: BEGIN's result when a deferred BEGIN was sent with it, and
// the request's own results.
struct Pipelined {
  ResultPtr begin;
  ResultPtr first;
  ResultPtr second;
};

// Prepares `sql` as `name` and describes it (parameter count, result columns) in one round
// trip by pipelining both requests (after BEGIN when `begin`); PQprepare followed by
// PQdescribePrepared would take two. Without pipeline mode, one request after the other.
Pipelined prepare_and_describe(PGconn* conn, const std::string& name, const std::string& sql,
                               bool begin) {
  Pipelined out;
  if (PQpipelineStatus(conn) != PQ_PIPELINE_OFF || !PQenterPipelineMode(conn)) {
    if (begin) {
      out.begin.reset(PQexec(conn, "BEGIN"));
      if (!completed(out.begin.get())) return out;
    }
    out.first.reset(PQprepare(conn, name.c_str(), sql.c_str(), 0, nullptr));
    return out;
  }
  if ((!begin || queue_begin(conn)) && PQsendPrepare(conn, name.c_str(), sql.c_str(), 0, nullptr) &&
      PQsendDescribePrepared(conn, name.c_str()) && PQpipelineSync(conn)) {
    if (begin) out.begin = take_pipelined(conn);
    out.first = take_pipelined(conn);
    out.second = take_pipelined(conn);
    // The sync's own result: PGRES_PIPELINE_SYNC, not followed by a nullptr.
    ResultPtr sync(PQgetResult(conn));
  }
  PQexitPipelineMode(conn);
  if (completed(out.first.get()) && !out.second)
    out.second.reset(PQdescribePrepared(conn, name.c_str()));
  return out;
}

// BEGIN and an execution of prepared statement `name` in one pipeline: one round trip. Behind
// an unawaited ROLLBACK they join its pipeline, and its answer is read first.
Pipelined begin_and_execute(PgHandle& handle, PGconn* conn, const std::string& name,
                            const PgParams& params) {
  Pipelined out;
  const bool behind_rollback = handle.rollback_in_flight();
  if (!behind_rollback &&
      (PQpipelineStatus(conn) != PQ_PIPELINE_OFF || !PQenterPipelineMode(conn))) {
    out.begin.reset(PQexec(conn, "BEGIN"));
    if (completed(out.begin.get()))
      out.first.reset(PQexecPrepared(conn, name.c_str(), params.count(), params.values(),
                                     params.lengths(), params.formats(), 0));
    return out;
  }
  if (queue_begin(conn) &&
      PQsendQueryPrepared(conn, name.c_str(), params.count(), params.values(), params.lengths(),
                          params.formats(), 0) &&
      PQpipelineSync(conn)) {
    if (behind_rollback) handle.read_rollback_ahead();
    out.begin = take_pipelined(conn);
    out.first = take_pipelined(conn);
    ResultPtr sync(PQgetResult(conn));
  }
  PQexitPipelineMode(conn);
  return out;
}

} // namespace

PgStatement::PgStatement(std::shared_ptr<PgHandle> handle, std::string sql)
    : handle_(std::move(handle)), sql_(std::move(sql)) {
  PGconn* conn = handle_->usable(sql_);
  name_ = handle_->next_statement_name();
  // A deferred BEGIN goes out with the preparation, so that a statement that fails to prepare
  // aborts the transaction exactly as it would have after an eager BEGIN.
  const bool begin = handle_->take_begin();
  auto answer = prepare_and_describe(conn, name_, sql_, begin);
  if (begin && !completed(answer.begin.get())) handle_->raise(answer.begin.get(), "BEGIN");
  if (!completed(answer.first.get())) handle_->raise(answer.first.get(), sql_);
  if (!completed(answer.second.get())) {
    handle_->forget_statement(name_);
    handle_->raise(answer.second.get(), sql_);
  }
  description_ = std::move(answer.second);
  parameter_count_ = PQnparams(description_.get());
}

PgStatement::~PgStatement() { handle_->forget_statement(std::move(name_)); }

void PgStatement::bind(std::span<const Value> params) {
  if (static_cast<int>(params.size()) != parameter_count_)
    throw ArgumentError("statement takes " + std::to_string(parameter_count_) + " parameters, " +
                        std::to_string(params.size()) + " given: " + sql_);
  rows_.clear();
  executed_ = false;
  params_.assign(params, sql_);
  bound_ = true;
}

void PgStatement::execute() {
  if (parameter_count_ > 0 && !bound_)
    throw ArgumentError("statement takes " + std::to_string(parameter_count_) +
                        " parameters, none bound: " + sql_);
  ResultPtr result;
  if (handle_->take_begin()) {
    // The transaction's first statement: BEGIN rides along, one round trip for both, and
    // neither waits for the previous transaction's ROLLBACK to be answered.
    PGconn* conn = handle_->open_handle(sql_);
    const bool behind_rollback = handle_->rollback_in_flight();
    auto answer = begin_and_execute(*handle_, conn, name_, params_);
    // A failed ROLLBACK ahead: what ran after it is never committed, the connection goes.
    if (behind_rollback && !handle_->valid())
      throw OperationalError("the connection failed while rolling back its previous "
                             "transaction",
                             "08006", 0, sql_);
    if (!completed(answer.begin.get())) handle_->raise(answer.begin.get(), "BEGIN");
    result = std::move(answer.first);
  } else {
    PGconn* conn = handle_->usable(sql_);
    // Results come back in text format (0): parsing text is cheap and keeps every type readable.
    result.reset(PQexecPrepared(conn, name_.c_str(), params_.count(), params_.values(),
                                params_.lengths(), params_.formats(), 0));
  }
  if (!completed(result.get())) handle_->raise(result.get(), sql_);
  rows_.reset(std::move(result), &sql_);
  executed_ = true;
}

bool PgStatement::step() {
  if (!executed_) execute();
  return rows_.next();
}

void PgStatement::reset() {
  rows_.clear();
  executed_ = false;
}

int PgStatement::column_count() const {
  return executed_ ? rows_.column_count() : PQnfields(description_.get());
}

std::string_view PgStatement::column_name(int i) const {
  if (executed_) return rows_.column_name(i);
  if (i < 0 || i >= PQnfields(description_.get()))
    throw ArgumentError("column index " + std::to_string(i) + " out of range");
  return PQfname(description_.get(), i);
}

} // namespace retort::postgresql
