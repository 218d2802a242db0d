// The plan executor's contract on every backend: a step's text may live in the step or be
// shared (a mapper's SQL cache), so may its parameters (a get()'s key), a single_row step delivers
// one row and completes, independent steps (pipelined where the driver can) deliver in order, and a
// reset step keeps its buffers.
#include "test_core_fixture.hpp"

#include <retort/orm/plan.hpp>

using namespace retort;
using conformance::engine;
using core_conf::fetch;
using core_conf::Schema;

namespace {

Table plan_items(MetaData& md) {
  return Table(md, "core_plan_items", Column("id", Integer).primary_key(), Column("qty", Integer));
}

/// Records what one step delivered.
struct Recorder final : RowSink {
  std::vector<std::int64_t> rows;
  std::vector<std::int64_t> affected;
  void row(const DriverStatement& row) override { rows.push_back(row.get_int64(0)); }
  void done(std::int64_t rows_affected) override { affected.push_back(rows_affected); }
};

/// Hands out prepared steps in order.
struct ListPlan final : Plan {
  std::vector<PlanStep> steps;
  std::size_t next_step = 0;
  bool next(PlanStep& step) override {
    if (next_step == steps.size()) return false;
    step = steps[next_step++];
    return true;
  }
};

PlanStep step_of(const CompiledSql& compiled, RowSink* sink) {
  PlanStep step;
  step.sql = compiled.sql;
  step.params.assign(compiled.params.begin(), compiled.params.end());
  step.sink = sink;
  return step;
}

} // namespace

TEST_CASE("plans: shared text, single-row steps and independent steps", "[orm][plan]") {
  Schema s;
  Table items = plan_items(s.md);
  s.create();
  const SqlDialect& dialect = engine().dialect();
  auto conn = engine().connect();
  for (std::int64_t id = 1; id <= 3; ++id)
    conn.execute(insert(items).values({{"id", id}, {"qty", 10 * id}}));

  const Select all_ids =
      select(items.c("id")).where(items.c("id") > Expr(0)).order_by(items.c("id"));
  const CompiledSql ids = compile(all_ids, dialect);
  // The shared text outlives the plan, as a mapper's cached SQL does.
  const std::string shared_text = ids.sql;

  Recorder first_only, all_rows, update_a, update_b;
  // The second UPDATE's parameters are the plan's own, borrowed by its step (as a get()'s key).
  std::vector<Value> borrowed;
  ListPlan plan;
  PlanStep single = step_of(ids, &first_only);
  single.single_row = true;
  plan.steps.push_back(single);
  PlanStep shared = step_of(ids, &all_rows);
  shared.sql.clear();
  shared.shared_sql = &shared_text;
  plan.steps.push_back(shared);
  for (auto [id, sink] :
       {std::pair{std::int64_t{1}, &update_a}, std::pair{std::int64_t{3}, &update_b}}) {
    PlanStep update_step = step_of(
        compile(update(items).set("qty", Expr(std::int64_t{0})).where(items.c("id") == Expr(id)),
                dialect),
        sink);
    update_step.independent = true;
    if (id == 3) {
      borrowed = std::move(update_step.params);
      update_step.params = {Value(std::int64_t{-1}), Value(std::int64_t{-1})}; // must not be used
      update_step.shared_params = borrowed;
    }
    plan.steps.push_back(update_step);
  }

  auto tx = conn.begin();
  run_plan(plan, conn);
  tx.commit();

  CHECK(first_only.rows == std::vector<std::int64_t>{1}); // stopped after its one row
  CHECK(first_only.affected.size() == 1);                 // and still completed
  CHECK(all_rows.rows == std::vector<std::int64_t>{1, 2, 3});
  CHECK(update_a.affected == std::vector<std::int64_t>{1});
  CHECK(update_b.affected == std::vector<std::int64_t>{1});
  CHECK(fetch<std::int64_t>(conn, select(items.c("qty")).order_by(items.c("id"))) ==
        std::vector<std::int64_t>{0, 20, 0});
  // The connection is sound after a step that stopped reading early.
  CHECK(fetch<std::int64_t>(conn, all_ids) == std::vector<std::int64_t>{1, 2, 3});
}

TEST_CASE("plans: a reset step is empty but keeps its buffers", "[orm][plan]") {
  PlanStep step;
  step.sql = "SELECT a rather long statement text that does not fit inline";
  step.params.assign(8, Value(std::int64_t{7}));
  const std::string other = "SELECT 1";
  step.shared_sql = &other;
  const std::vector<Value> borrowed{Value(std::int64_t{1})};
  step.shared_params = borrowed;
  CHECK(step.parameters().data() == borrowed.data());
  step.sink = nullptr;
  step.independent = step.want_last_insert_id = step.final = step.single_row = true;
  const auto text_capacity = step.sql.capacity();
  const auto params_capacity = step.params.capacity();
  step.reset();
  CHECK(step.sql.empty());
  CHECK(step.params.empty());
  CHECK(step.shared_sql == nullptr);
  CHECK(step.shared_params.empty());
  CHECK(step.parameters().empty());
  CHECK(step.text().empty());
  CHECK_FALSE(step.independent);
  CHECK_FALSE(step.want_last_insert_id);
  CHECK_FALSE(step.final);
  CHECK_FALSE(step.single_row);
  CHECK(step.sql.capacity() == text_capacity);
  CHECK(step.params.capacity() == params_capacity);
}
