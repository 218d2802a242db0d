#include <retort/core/error.hpp>
#include <retort/engine/connection.hpp>
#include <retort/engine/driver.hpp>
#include <retort/engine/transaction.hpp>
#include <retort/orm/plan.hpp>
#include <retort/sql/compiler.hpp>
#include <retort/sql/select.hpp>

namespace retort {

RowSink::~RowSink() = default;
Plan::~Plan() = default;

namespace {

// Up to this many independent statements share one round trip. Beyond a few hundred the saving
// is small while the batch's memory grows.
constexpr std::size_t max_pipelined = 1000;

// The parameter buffer of the first step of the last plan this thread ran. A commit of one
// object is a plan of one step: without it, each such commit allocated and freed the buffer of
// its parameters. Kept only while small, so a bulk flush's array is not held for the thread's
// life.
constexpr std::size_t max_spare_params = 64;
thread_local std::vector<Value> spare_params;

} // namespace

SelectPlan::SelectPlan(const Select& select, const SqlDialect& dialect, StatementCache* cache,
                       RowSink& sink)
    : sink_(sink) {
  CompiledSql compiled = compile(select, dialect, cache);
  sql_ = std::move(compiled.sql);
  params_ = std::move(compiled.params);
}

bool SelectPlan::next(PlanStep& step) {
  if (done_) return false;
  done_ = true;
  // The plan outlives its step: the text and values are lent, not copied.
  step.shared_sql = &sql_;
  step.shared_params = params_;
  step.sink = &sink_;
  return true;
}

void deliver_step(PlanStep& step, Result& result, Connection& connection) {
  if (step.sink == nullptr) return;
  for (; result.has_row(); result.next()) {
    step.sink->row(result.row().statement());
    if (step.single_row) break;
  }
  if (step.want_last_insert_id) {
    DriverConnection& driver = connection.driver();
    const std::optional<std::int64_t> id =
        step.key_table.empty()
            ? driver.last_insert_id()
            : driver.generated_key(*result.statement(), step.key_table, step.key_column);
    if (id) step.sink->last_insert_id(*id);
  }
  step.sink->done(result.rows_affected());
}

PlanRounds::PlanRounds(Plan& plan, bool pipelining, bool keep_final)
    : plan_(plan), pipelining_(pipelining), keep_final_(keep_final) {
  round_.emplace_back();
  round_.front().params.swap(spare_params);
}

PlanRounds::~PlanRounds() {
  std::vector<Value>& params = round_.front().params;
  if (params.capacity() > max_spare_params || spare_params.capacity() >= params.capacity()) return;
  params.clear();
  spare_params.swap(params);
}

bool PlanRounds::next() {
  batch_ = false;
  final_ = false;
  writes_follow_ = false;
  statements_.clear();
  if (held_) {
    held_ = false;
    std::swap(round_[0], round_[size_]);
    for (std::size_t i = 1; i <= size_; ++i)
      round_[i].reset();
    size_ = 1;
    final_ = keep_final_ && round_[0].final;
    writes_follow_ = round_[0].writes_follow;
    return true;
  }
  for (std::size_t i = 0; i < size_; ++i)
    round_[i].reset();
  size_ = 0;
  for (;;) {
    if (round_.size() == size_) round_.emplace_back();
    PlanStep& step = round_[size_];
    if (ended_ || !plan_.next(step)) {
      ended_ = true;
      return size_ > 0;
    }
    const bool alone = (keep_final_ && step.final) || !(pipelining_ && step.independent);
    if (!alone) {
      writes_follow_ = writes_follow_ || step.writes_follow;
      batch_ = true;
      if (++size_ >= max_pipelined) return true;
      continue;
    }
    if (size_ > 0) {
      held_ = true; // the batch taken before it goes first
      return true;
    }
    size_ = 1;
    final_ = keep_final_ && step.final;
    writes_follow_ = step.writes_follow;
    return true;
  }
}

std::span<const PipelinedStatement> PlanRounds::statements() {
  statements_.clear();
  statements_.reserve(size_);
  for (const PlanStep& step : steps())
    statements_.push_back({&step.text(), step.parameters()});
  return {statements_.data(), statements_.size()};
}

void PlanRounds::deliver(std::span<Result> results, Connection& connection) {
  for (std::size_t i = 0; i < results.size() && i < size_; ++i)
    deliver_step(round_[i], results[i], connection);
}

PlanRunStop BlockingPlanRun::run_until_final(Connection& connection, bool stop_before_waits) {
  for (;;) {
    if (!round_taken_) {
      if (!rounds_.next()) return PlanRunStop::ended;
      round_taken_ = true;
    }
    // Made again with the round after a call that would have waited: it only acts once.
    if (rounds_.writes_follow()) connection.will_write();
    if (rounds_.is_final()) return PlanRunStop::final_next;
    if (stop_before_waits && round_would_wait(connection)) return PlanRunStop::would_wait;
    run_round(connection);
    round_taken_ = false;
  }
}

bool BlockingPlanRun::round_would_wait(Connection& connection) {
  if (!rounds_.is_batch()) return connection.would_wait(rounds_.steps().front().text());
  for (const PipelinedStatement& statement : rounds_.statements())
    if (connection.would_wait(*statement.sql)) return true;
  return false;
}

namespace {

// Delivers a round's results. From here the round cannot run again (a sink has seen rows): a
// lock wait refused now, which WAL mode never asks for once a statement began, is the
// statement's error.
template <typename Deliver> void deliver_once(Deliver deliver) {
  try {
    deliver();
  } catch (const WouldWaitError& e) {
    throw OperationalError(e.message(), e.sqlstate(), e.native_code(), e.sql());
  }
}

} // namespace

void BlockingPlanRun::run_round(Connection& connection) {
  if (rounds_.is_batch()) {
    auto results = connection.execute_pipeline(rounds_.statements());
    deliver_once([&] { rounds_.deliver(results, connection); });
    return;
  }
  PlanStep& step = rounds_.steps().front();
  Result result = connection.execute_sql(step.text(), step.parameters());
  deliver_once([&] { deliver_step(step, result, connection); });
}

void run_plan(Plan& plan, Connection& connection) {
  BlockingPlanRun(plan, connection.can_pipeline(), false).run_until_final(connection);
}

std::exception_ptr run_plan_and_commit(Plan& plan, Connection& connection,
                                       Transaction& transaction) {
  BlockingPlanRun run(plan, connection.can_pipeline(), true);
  PlanRounds& rounds = run.rounds();
  if (run.run_until_final(connection) != PlanRunStop::final_next) {
    try {
      transaction.commit();
    } catch (...) {
      return std::current_exception();
    }
    return nullptr;
  }
  // The handler captures one pointer, which std::function keeps inline (three references
  // cost a heap block per commit).
  struct Delivery {
    PlanStep& step;
    Connection& connection;
    bool delivered = false;
  } delivery{rounds.steps().front(), connection};
  try {
    connection.execute_and_commit(rounds.statements(), transaction,
                                  [&delivery](std::size_t, Result& result) {
                                    deliver_step(delivery.step, result, delivery.connection);
                                    delivery.delivered = true;
                                  });
  } catch (...) {
    if (!delivery.delivered) throw; // the statement failed: nothing was committed
    return std::current_exception();
  }
  if (rounds.next())
    throw InternalError("a plan produced a step after its final one", "", 0,
                        rounds.steps().front().text());
  return nullptr;
}

} // namespace retort
