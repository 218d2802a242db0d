#include <retort/core/error.hpp>
#include <retort/engine/connection.hpp>
#include <retort/engine/transaction.hpp>
#include <retort/orm/plan.hpp>

namespace retort {

RowSink::~RowSink() = default;
Plan::~Plan() = default;

namespace {

// Up to this many independent statements share one round trip. Beyond a few hundred the saving
// is small while the batch's memory grows.
constexpr std::size_t max_pipelined = 1000;

void deliver(PlanStep& step, Result& result, Connection& connection) {
  if (step.sink == nullptr) return;
  for (; result.has_row(); result.next()) {
    step.sink->row(result.row().statement());
    if (step.single_row) break;
  }
  if (step.want_last_insert_id)
    if (auto id = connection.driver().last_insert_id()) step.sink->last_insert_id(*id);
  step.sink->done(result.rows_affected());
}

void run_batch(std::vector<PlanStep>& batch, Connection& connection) {
  if (batch.empty()) return;
  std::vector<Connection::Pipelined> statements;
  statements.reserve(batch.size());
  for (const auto& step : batch)
    statements.push_back({&step.text(), step.params});
  auto results = connection.execute_pipeline(statements);
  for (std::size_t i = 0; i < results.size(); ++i)
    deliver(batch[i], results[i], connection);
  batch.clear();
}

// Runs the steps before a final one (or all of them); returns true with `step` holding the
// final step when there is one.
bool run_until_final(Plan& plan, Connection& connection, PlanStep& step, bool stop_at_final) {
  const bool pipelining = connection.can_pipeline();
  std::vector<PlanStep> batch;
  while (plan.next(step)) {
    if (stop_at_final && step.final) {
      run_batch(batch, connection);
      return true;
    }
    if (pipelining && step.independent) {
      batch.push_back(std::move(step));
      step = PlanStep{};
      if (batch.size() >= max_pipelined) run_batch(batch, connection);
      continue;
    }
    run_batch(batch, connection);
    Result result = connection.execute_sql(step.text(), step.params);
    deliver(step, result, connection);
    step.reset();
  }
  run_batch(batch, connection);
  return false;
}

} // namespace

void run_plan(Plan& plan, Connection& connection) {
  PlanStep step;
  run_until_final(plan, connection, step, false);
}

std::exception_ptr run_plan_and_commit(Plan& plan, Connection& connection,
                                       Transaction& transaction) {
  PlanStep step;
  if (!run_until_final(plan, connection, step, true)) {
    try {
      transaction.commit();
    } catch (...) {
      return std::current_exception();
    }
    return nullptr;
  }
  const Connection::Pipelined statement{&step.text(), step.params};
  bool delivered = false;
  try {
    connection.execute_and_commit(std::span(&statement, 1), transaction,
                                  [&](std::size_t, Result& result) {
                                    deliver(step, result, connection);
                                    delivered = true;
                                  });
  } catch (...) {
    if (!delivered) throw; // the statement failed: nothing was committed
    return std::current_exception();
  }
  PlanStep after;
  if (plan.next(after))
    throw InternalError("a plan produced a step after its final one", "", 0, after.text());
  return nullptr;
}

} // namespace retort
