#include <retort/engine/connection.hpp>
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
  for (; result.has_row(); result.next())
    step.sink->row(result.row().statement());
  if (step.want_last_insert_id)
    if (auto id = connection.driver().last_insert_id()) step.sink->last_insert_id(*id);
  step.sink->done(result.rows_affected());
}

void run_batch(std::vector<PlanStep>& batch, Connection& connection) {
  if (batch.empty()) return;
  std::vector<Connection::Pipelined> statements;
  statements.reserve(batch.size());
  for (const auto& step : batch)
    statements.push_back({&step.sql, step.params});
  auto results = connection.execute_pipeline(statements);
  for (std::size_t i = 0; i < results.size(); ++i)
    deliver(batch[i], results[i], connection);
  batch.clear();
}

} // namespace

void run_plan(Plan& plan, Connection& connection) {
  const bool pipelining = connection.can_pipeline();
  std::vector<PlanStep> batch;
  PlanStep step;
  while (plan.next(step)) {
    if (pipelining && step.independent) {
      batch.push_back(std::move(step));
      step = PlanStep{};
      if (batch.size() >= max_pipelined) run_batch(batch, connection);
      continue;
    }
    run_batch(batch, connection);
    Result result = connection.execute_sql(step.sql, step.params);
    deliver(step, result, connection);
    step = PlanStep{};
  }
  run_batch(batch, connection);
}

} // namespace retort
