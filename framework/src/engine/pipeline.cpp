#include "connection_state.hpp"

#include <retort/core/error.hpp>
#include <retort/core/log.hpp>
#include <retort/engine/pipeline.hpp>
#include <retort/engine/transaction.hpp>
#include <retort/sql/dialect.hpp>

#include <utility>

namespace retort {

namespace {

bool failed(ResultStatus status) {
  return status == ResultStatus::error || status == ResultStatus::pipeline_aborted;
}

} // namespace

PipelineRun::PipelineRun(std::shared_ptr<ConnectionState> state,
                         std::span<const PipelinedStatement> statements, Transaction* transaction,
                         bool send_commit)
    : state_(std::move(state)), statements_(statements), transaction_(transaction),
      send_commit_(send_commit) {
  nb_ = state_->driver().non_blocking();
  if (nb_ == nullptr) throw InvalidStateError("this driver cannot pipeline statements");
  received_.reserve(statements.size());
  try {
    queue();
  } catch (...) {
    abandon();
    throw;
  }
}

PipelineRun::PipelineRun(PipelineRun&& other) noexcept
    : state_(std::move(other.state_)), nb_(other.nb_), statements_(other.statements_),
      transaction_(other.transaction_), send_commit_(other.send_commit_),
      sent_(std::move(other.sent_)), prepared_(std::move(other.prepared_)),
      received_(std::move(other.received_)), commit_error_(std::move(other.commit_error_)),
      next_answer_(other.next_answer_), next_statement_(other.next_statement_),
      failed_statement_(other.failed_statement_), phase_(other.phase_), finished_(other.finished_),
      sync_error_ended_(other.sync_error_ended_) {
  other.finished_ = true; // the moved-from run owns nothing to clean up
}

PipelineRun::~PipelineRun() {
  if (!finished_ && phase_ != Phase::done) abandon();
}

void PipelineRun::queue() {
  DriverConnection& driver = state_->driver();
  const bool echo = state_->engine.echo();
  if (echo) log_line("-- pipeline of " + std::to_string(statements_.size()) + " statements");
  nb_->enter_pipeline_mode();
  // Each shape is prepared by name once per connection (inside the pipeline that first uses
  // it), then only executed: the server parses and plans it once, as with cached statements.
  for (const auto& s : statements_) {
    if (echo) echo_statement(*s.sql, s.params);
    const std::string* name = driver.pipelined_statement(*s.sql);
    if (name == nullptr) {
      name = driver.add_pipelined_statement(*s.sql);
      if (name != nullptr) {
        nb_->send_prepare(*name, *s.sql);
        prepared_.push_back(*s.sql);
        sent_.push_back(Sent::prepare);
      }
    }
    if (name != nullptr)
      nb_->send_prepared(*name, s.params);
    else
      nb_->send_query(*s.sql, s.params);
    sent_.push_back(Sent::statement);
  }
  // In the same segment as the statements: a failure among them aborts the COMMIT too.
  if (send_commit_) {
    nb_->send_query(commit_sql(), {});
    sent_.push_back(Sent::commit);
  }
  nb_->pipeline_sync();
}

int PipelineRun::socket() const { return nb_->socket(); }

SocketWait PipelineRun::pump() {
  try {
    if (phase_ == Phase::sending) {
      if (!nb_->flush()) {
        nb_->consume_input();
        return SocketWait::read_or_write;
      }
      phase_ = next_answer_ < sent_.size() ? Phase::reading : Phase::sync;
      // Just sent: no answer can be there yet, so wait before trying to read (a read now
      // would only find the socket empty, one wasted system call per round trip).
      if (nb_->is_busy()) return SocketWait::read;
    }
    while (phase_ != Phase::done) {
      if (nb_->is_busy()) {
        nb_->consume_input();
        if (nb_->is_busy()) return SocketWait::read;
      }
      auto result = nb_->next_result();
      if (phase_ == Phase::sync)
        take_sync(std::move(result));
      else
        take(std::move(result));
    }
    return SocketWait::none;
  } catch (...) {
    abandon();
    throw;
  }
}

const std::string& PipelineRun::commit_sql() const { return state_->engine.dialect().commit_sql(); }

const std::string& PipelineRun::sql_of(Sent kind) const {
  if (kind == Sent::commit) return commit_sql();
  return next_statement_ < statements_.size() ? *statements_[next_statement_].sql : commit_sql();
}

void PipelineRun::take(std::unique_ptr<NonBlockingResult> result) {
  const Sent kind = sent_[next_answer_];
  const std::string& sql = sql_of(kind);
  if (phase_ == Phase::end_marker) {
    // A statement has one result, then the end marker; anything more is a protocol error.
    if (result) throw InternalError("unexpected extra result in a pipeline", "", 0, sql);
    if (kind == Sent::statement) ++next_statement_;
    ++next_answer_;
    phase_ = next_answer_ < sent_.size() ? Phase::reading : Phase::sync;
    return;
  }
  if (!result) throw InternalError("pipeline ended early", "", 0, sql);
  phase_ = Phase::end_marker;
  const auto status = result->status();
  if (kind != Sent::commit && failed(status) && failed_statement_ == npos)
    failed_statement_ = next_statement_;
  switch (kind) {
  case Sent::prepare:
    if (failed(status)) state_->driver().forget_pipelined_statement(sql);
    // The preparation's error explains the aborted execution that follows it.
    if (status == ResultStatus::error) received_.push_back(std::move(result));
    return;
  case Sent::commit:
    if (status == ResultStatus::error) {
      try {
        result->throw_if_error();
      } catch (...) {
        commit_error_ = std::current_exception();
      }
    }
    return;
  case Sent::statement: received_.push_back(std::move(result)); return;
  }
}

void PipelineRun::take_sync(std::unique_ptr<NonBlockingResult> result) {
  // Outside BEGIN the segment commits at its sync: a failing commit (a deferred constraint)
  // answers there, before the sync's own result (and the end marker of that answer).
  if (transaction_ != nullptr && !commit_error_ && result &&
      result->status() == ResultStatus::error) {
    try {
      result->throw_if_error();
    } catch (...) {
      commit_error_ = std::current_exception();
    }
    return;
  }
  // That error's own end marker, once.
  if (!result && commit_error_ && !sync_error_ended_) {
    sync_error_ended_ = true;
    return;
  }
  if (!result || result->status() != ResultStatus::pipeline_sync)
    throw InternalError("pipeline did not end with its sync", "", 0, "");
  nb_->exit_pipeline_mode();
  phase_ = Phase::done;
}

void PipelineRun::abandon() noexcept {
  if (!state_ || !state_->pooled) return;
  for (const auto& sql : prepared_)
    state_->pooled->forget_pipelined_statement(sql);
  prepared_.clear();
  state_->note_failure();
  // A connection left inside a half-read pipeline must not be reused.
  if (nb_ != nullptr && nb_->in_pipeline_mode()) state_->pooled.invalidate();
  finished_ = true;
}

std::vector<Result> PipelineRun::finish() {
  if (phase_ != Phase::done || finished_)
    throw InvalidStateError("finish(): the pipeline's answers are not all in, or were taken");
  finished_ = true;
  std::vector<Result> results;
  results.reserve(received_.size());
  std::exception_ptr first_error;
  for (auto& result : received_) {
    if (failed(result->status())) {
      if (!first_error) {
        try {
          result->throw_if_error();
        } catch (...) {
          first_error = std::current_exception();
        }
      }
      continue;
    }
    DriverStatement* statement = result.get();
    const bool has_row = statement->step();
    std::unique_ptr<DriverStatement> owned(result.release());
    results.emplace_back(state_, statement, std::move(owned), has_row);
  }
  if (first_error) std::rethrow_exception(first_error);
  if (transaction_ == nullptr) return results;
  transaction_->end();
  if (commit_error_) {
    state_->close_failed_commit();
    std::rethrow_exception(commit_error_);
  }
  if (state_->engine.echo()) log_line("COMMIT");
  return results;
}

} // namespace retort
