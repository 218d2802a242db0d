// Plans: "decide once, execute twice" (DESIGN.md). The ORM never performs I/O while it decides
// what to do; it produces a Plan, a pull-based sequence of statements where each statement is
// built only when the previous ones have run (so it can use generated keys or parent ids). An
// executor drives a plan over a connection: run_plan() blocks; the async layer drives the same
// plans with co_await.
#pragma once

#include <retort/core/export.hpp>
#include <retort/core/value.hpp>
#include <retort/engine/driver.hpp>
#include <retort/engine/pipeline.hpp>

#include <boost/container/small_vector.hpp>

#include <cstddef>
#include <cstdint>
#include <exception>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace retort {

class Connection;
class Select;
class SqlDialect;
class StatementCache;
class Transaction;

/// Receives the rows of one plan step, then its completion.
class RETORT_API RowSink {
public:
  virtual ~RowSink();
  /// One result row.
  virtual void row(const DriverStatement& row) = 0;
  /// The key the step's INSERT generated (only for steps that ask with want_last_insert_id).
  virtual void last_insert_id(std::int64_t id) { (void)id; }
  /// The step finished; `rows_affected` as reported by the driver.
  virtual void done(std::int64_t rows_affected) { (void)rows_affected; }
};

/// One statement of a plan.
struct PlanStep {
  /// The statement's text, unless `shared_sql` is set.
  std::string sql;
  /// The statement's text when it outlives the step (a mapper's compiled-SQL cache, whose
  /// entries are never removed): the ORM's hot statements are then not copied per execution.
  const std::string* shared_sql = nullptr;
  /// The parameters, unless `shared_params` is set.
  std::vector<Value> params;
  /// The parameters when the plan keeps them alive and unchanged until the step has run (a
  /// get()'s key): not copied per execution.
  std::span<const Value> shared_params;
  /// Where the rows go; nullptr when the statement returns none that matter.
  RowSink* sink = nullptr;
  /// The plan can build its next step before this one's results are delivered (they still
  /// arrive in order): the executor may then pipeline it with the following steps.
  bool independent = false;
  /// Deliver the driver's last_insert_id() to the sink after the step.
  bool want_last_insert_id = false;
  /// With want_last_insert_id, for a one-row INSERT whose key nothing in the plan has proven to
  /// be last_insert_id(): the table and key column the driver proves it for (or reads the key
  /// of), DriverConnection::generated_key(). Empty when the plan knows last_insert_id() is right.
  std::string_view key_table;
  std::string_view key_column;
  /// No step follows this one, and its sink never rejects its result: an executor that commits
  /// after the plan may send COMMIT together with it (one round trip on PostgreSQL).
  bool final = false;
  /// The statement returns at most one row (a lookup by the whole primary key): the executor
  /// stops reading after it instead of stepping on to the end of the result.
  bool single_row = false;
  /// The statement reads and the plan writes after it (the flush's generated-key probe): the
  /// executor calls Connection::will_write() before it, so that the transaction holds the write
  /// lock before it reads (SQLite).
  bool writes_follow = false;

  /// The statement's text.
  const std::string& text() const noexcept { return shared_sql != nullptr ? *shared_sql : sql; }
  /// The statement's parameters.
  std::span<const Value> parameters() const noexcept {
    return shared_params.empty() ? std::span<const Value>(params) : shared_params;
  }

  /// Empties the step for the next statement, keeping the capacity of its text and parameter
  /// buffers (a flush of 1000 UPDATEs would otherwise allocate both 1000 times).
  void reset() noexcept {
    sql.clear();
    shared_sql = nullptr;
    params.clear();
    shared_params = {};
    sink = nullptr;
    independent = false;
    want_last_insert_id = false;
    key_table = {};
    key_column = {};
    final = false;
    single_row = false;
    writes_follow = false;
  }
};

/// A sequence of statements decided by the ORM.
class RETORT_API Plan {
public:
  virtual ~Plan();
  /// Fills `step` with the next statement; false when the plan is complete. Called only after
  /// the previous step's rows and completion were delivered, unless it was `independent`.
  virtual bool next(PlanStep& step) = 0;
};

/// A plan of one SELECT whose rows go to `sink`: what Query::count(), exists() and values()
/// run, so that the blocking and the async session share them.
class RETORT_API SelectPlan final : public Plan {
public:
  /// Compiles `select` for `dialect` (through `cache` when given).
  SelectPlan(const Select& select, const SqlDialect& dialect, StatementCache* cache, RowSink& sink);
  /// The SELECT, once.
  bool next(PlanStep& step) override;

private:
  std::string sql_;
  std::vector<Value> params_;
  RowSink& sink_;
  bool done_ = false;
};

/// Groups a plan's steps into round trips, the one decision both executors share: independent
/// steps travel together in one pipeline where the connection can pipeline (up to a limit),
/// any other step alone; a final step, when the caller commits after the plan, is held back to
/// go out with the COMMIT.
class RETORT_API PlanRounds {
public:
  /// Rounds of `plan`; `pipelining`: the connection can pipeline; `keep_final`: the caller
  /// commits after the plan.
  PlanRounds(Plan& plan, bool pipelining, bool keep_final);
  /// Hands the first step's parameter buffer back to the thread for the next plan.
  ~PlanRounds();
  PlanRounds(const PlanRounds&) = delete;
  PlanRounds& operator=(const PlanRounds&) = delete;
  /// Collects the next round; false when the plan is done. The previous round's results must
  /// have been delivered first (the plan builds a dependent step from them).
  bool next();
  /// The round's steps, in order.
  std::span<PlanStep> steps() noexcept { return {round_.data(), size_}; }
  /// The round's statements, for Connection::execute_pipeline() and its relatives.
  std::span<const PipelinedStatement> statements();
  /// True when the round is a batch of independent steps, to be pipelined.
  bool is_batch() const noexcept { return batch_; }
  /// True when the round is the plan's final step, held back for the COMMIT.
  bool is_final() const noexcept { return final_; }
  /// True when a step of the round has PlanStep::writes_follow: the executor calls
  /// Connection::will_write() before it runs the round.
  bool writes_follow() const noexcept { return writes_follow_; }
  /// Hands the round's results (one per step, in order) to the steps' sinks.
  void deliver(std::span<Result> results, Connection& connection);

private:
  Plan& plan_;
  bool pipelining_;
  bool keep_final_;
  // Steps are reused round after round (reset() keeps their text and parameter buffers); the
  // round is the first size_ of them. Most plans are one statement (a get(), a commit of one
  // object): their round and its statement live inline, with no heap block.
  boost::container::small_vector<PlanStep, 1> round_;
  std::size_t size_ = 0;
  boost::container::small_vector<PipelinedStatement, 1> statements_;
  // round_[size_] was taken from the plan but goes alone, in the round after this batch.
  bool held_ = false;
  // The plan said it was complete: it is not asked again.
  bool ended_ = false;
  bool batch_ = false;
  bool final_ = false;
  bool writes_follow_ = false;
};

/// Hands one step's result to its sink (rows, generated key, completion).
RETORT_API void deliver_step(PlanStep& step, Result& result, Connection& connection);

/// Where BlockingPlanRun::run_until_final() stopped.
enum class PlanRunStop {
  /// The plan ended.
  ended,
  /// The final step is next (BlockingPlanRun::rounds() holds it), as `keep_final` asked.
  final_next,
  /// The next round would be refused before it started (DriverConnection::would_wait()); none
  /// of it ran.
  would_wait,
};

/// A plan driven over a connection with blocking calls, which can stop at a call that would
/// have waited for a lock (WouldWaitError: the driver's waiting was off, see
/// DriverConnection::set_waiting()) and go on later, on another thread: the round that stopped
/// runs again first, since that call left no trace. What run_plan() and run_plan_and_commit()
/// drive, and the async layer on SQLite.
class RETORT_API BlockingPlanRun {
public:
  /// A run of `plan`; `pipelining` and `keep_final` as for PlanRounds.
  BlockingPlanRun(Plan& plan, bool pipelining, bool keep_final)
      : rounds_(plan, pipelining, keep_final) {}
  /// Runs rounds on `connection` until the plan ends, or, with `keep_final`, its final step is
  /// next, or, with `stop_before_waits`, the next round would be refused before it started
  /// (asked of the driver, so that the refusal costs no exception).
  PlanRunStop run_until_final(Connection& connection, bool stop_before_waits = false);
  /// The rounds.
  PlanRounds& rounds() noexcept { return rounds_; }

private:
  // Runs the round taken, then hands its results to the steps.
  void run_round(Connection& connection);
  // True when a statement of the round taken would be refused before it started.
  bool round_would_wait(Connection& connection);

  PlanRounds rounds_;
  // A round was taken from the plan and has not yet run (it stopped at a call that would have
  // waited): the next run_until_final() runs it before taking another.
  bool round_taken_ = false;
};

/// Runs `plan` to completion on `connection`, blocking.
RETORT_API void run_plan(Plan& plan, Connection& connection);

/// Runs `plan`, then commits `transaction`; a `final` step goes out with the COMMIT. Throws
/// what a step throws (then nothing is committed and `transaction` is left for the caller to
/// roll back); an error of the COMMIT itself, after every step succeeded, is returned instead,
/// so that the caller can record the plan's effects before reporting it.
RETORT_API std::exception_ptr run_plan_and_commit(Plan& plan, Connection& connection,
                                                  Transaction& transaction);

} // namespace retort
