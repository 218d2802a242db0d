#include "result.hpp"

#include <retort/core/error.hpp>

namespace retort::postgresql {

namespace {

ResultStatus status_of(const PGresult* r, bool failed) {
  if (failed) return ResultStatus::error;
  switch (PQresultStatus(r)) {
  case PGRES_TUPLES_OK:
  case PGRES_SINGLE_TUPLE: return ResultStatus::rows;
  case PGRES_PIPELINE_SYNC: return ResultStatus::pipeline_sync;
  case PGRES_PIPELINE_ABORTED: return ResultStatus::pipeline_aborted;
  default: return ResultStatus::command;
  }
}

} // namespace

PgResult::PgResult(ResultPtr result, std::string sql, std::exception_ptr error)
    : status_(status_of(result.get(), error != nullptr)), sql_(std::move(sql)),
      error_(std::move(error)) {
  if (status_ == ResultStatus::pipeline_aborted)
    error_ = std::make_exception_ptr(DatabaseError(
        "not executed: an earlier statement of this pipeline segment failed", "", 0, sql_));
  rows_.reset(std::move(result), &sql_);
}

void PgResult::throw_if_error() const {
  if (error_) std::rethrow_exception(error_);
}

void PgResult::bind(std::span<const Value>) {
  throw InvalidStateError("a non-blocking result cannot be bound; send a new query instead");
}

bool PgResult::step() {
  throw_if_error();
  return rows_.next();
}

} // namespace retort::postgresql
