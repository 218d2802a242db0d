#include <retort/engine/connection.hpp>
#include <retort/orm/plan.hpp>

namespace retort {

RowSink::~RowSink() = default;
Plan::~Plan() = default;

void run_plan(Plan& plan, Connection& connection) {
  PlanStep step;
  while (plan.next(step)) {
    Result result = connection.execute_sql(step.sql, step.params);
    if (step.sink == nullptr) continue;
    for (; result.has_row(); result.next())
      step.sink->row(result.row().statement());
    step.sink->done(result.rows_affected());
    step = PlanStep{};
  }
}

} // namespace retort
