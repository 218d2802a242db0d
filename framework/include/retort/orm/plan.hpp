// Plans: "decide once, execute twice" (DESIGN.md). The ORM never performs I/O while it decides
// what to do; it produces a Plan, a pull-based sequence of statements where each statement is
// built only when the previous ones have run (so it can use generated keys or parent ids). An
// executor drives a plan over a connection: run_plan() blocks; the async layer drives the same
// plans with co_await.
#pragma once

#include <retort/core/export.hpp>
#include <retort/core/value.hpp>
#include <retort/engine/driver.hpp>

#include <cstdint>
#include <exception>
#include <string>
#include <vector>

namespace retort {

class Connection;
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
  std::vector<Value> params;
  /// Where the rows go; nullptr when the statement returns none that matter.
  RowSink* sink = nullptr;
  /// The plan can build its next step before this one's results are delivered (they still
  /// arrive in order): the executor may then pipeline it with the following steps.
  bool independent = false;
  /// Deliver the driver's last_insert_id() to the sink after the step.
  bool want_last_insert_id = false;
  /// No step follows this one, and its sink never rejects its result: an executor that commits
  /// after the plan may send COMMIT together with it (one round trip on PostgreSQL).
  bool final = false;
  /// The statement returns at most one row (a lookup by the whole primary key): the executor
  /// stops reading after it instead of stepping on to the end of the result.
  bool single_row = false;

  /// The statement's text.
  const std::string& text() const noexcept { return shared_sql != nullptr ? *shared_sql : sql; }

  /// Empties the step for the next statement, keeping the capacity of its text and parameter
  /// buffers (a flush of 1000 UPDATEs would otherwise allocate both 1000 times).
  void reset() noexcept {
    sql.clear();
    shared_sql = nullptr;
    params.clear();
    sink = nullptr;
    independent = false;
    want_last_insert_id = false;
    final = false;
    single_row = false;
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

/// Runs `plan` to completion on `connection`, blocking.
RETORT_API void run_plan(Plan& plan, Connection& connection);

/// Runs `plan`, then commits `transaction`; a `final` step goes out with the COMMIT. Throws
/// what a step throws (then nothing is committed and `transaction` is left for the caller to
/// roll back); an error of the COMMIT itself, after every step succeeded, is returned instead,
/// so that the caller can record the plan's effects before reporting it.
RETORT_API std::exception_ptr run_plan_and_commit(Plan& plan, Connection& connection,
                                                  Transaction& transaction);

} // namespace retort
