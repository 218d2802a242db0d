// What a Connection, its Results and its Transactions share. Internal to the engine layer.
#pragma once

#include <retort/engine/engine.hpp>
#include <retort/engine/pipeline.hpp>
#include <retort/engine/pool.hpp>
#include <retort/engine/result.hpp>

#include <algorithm>
#include <array>
#include <cstddef>
#include <span>
#include <string>
#include <vector>

namespace retort {

/// The statements that live Results are stepping. Rarely more than one or two at a time, so they
/// sit in a short inline array (a hash set cost two heap blocks per checkout), overflowing into
/// a vector.
class BusyStatements {
public:
  /// True when `statement` is being stepped.
  bool contains(const DriverStatement* statement) const noexcept {
    // Mostly nothing is stepped when a statement runs: a plain loop that g++ inlines (std::find
    // was unrolled into an out-of-line call per execution). `more_` holds statements only
    // while `few_` is full.
    for (std::size_t i = 0; i < count_; ++i)
      if (few_[i] == statement) return true;
    return !more_.empty() && std::find(more_.begin(), more_.end(), statement) != more_.end();
  }
  /// Records `statement` as being stepped.
  void insert(DriverStatement* statement) {
    if (count_ < few_.size())
      few_[count_++] = statement;
    else
      more_.push_back(statement);
  }
  /// Forgets `statement` (nothing happens when it is not recorded).
  void erase(const DriverStatement* statement) noexcept {
    for (std::size_t i = 0; i < count_; ++i) {
      if (few_[i] != statement) continue;
      few_[i] = few_[--count_];
      if (!more_.empty()) {
        few_[count_++] = more_.back();
        more_.pop_back();
      }
      return;
    }
    if (more_.empty()) return;
    if (auto found = std::find(more_.begin(), more_.end(), statement); found != more_.end()) {
      *found = more_.back();
      more_.pop_back();
    }
  }

private:
  std::array<DriverStatement*, 4> few_{};
  std::size_t count_ = 0;
  std::vector<DriverStatement*> more_;
};

struct ConnectionState {
  ConnectionState(Engine&& e, PooledConnection&& p) : engine(std::move(e)), pooled(std::move(p)) {}
  // Checks out a connection of `e`'s pool straight into `pooled` (no PooledConnection to move).
  explicit ConnectionState(const Engine& e) : engine(e), pooled(e.pool().checkout()) {}

  Engine engine;
  PooledConnection pooled;
  // Cached statements stepped by a live Result; executing the same SQL again meanwhile gets a
  // private statement instead of resetting the one being read.
  BusyStatements busy;
  int savepoint_counter = 0;
  // Set by the connection's owner when begin_nested() would desynchronise it (see
  // Connection::refuse_nested()).
  const char* nested_refusal = nullptr;
  // A top-level transaction has begun and nothing ran in it yet, as far as the engine can tell
  // (driver() hands the connection out, so it counts as use).
  bool untouched_transaction = false;
  // Nothing was asked of the connection since it left the pool (Connection::first_request()).
  bool fresh = true;

  /// The driver connection; throws InvalidStateError once closed.
  DriverConnection& driver();
  /// After a failure: a connection the driver reports broken is discarded by the pool.
  void note_failure() noexcept;
  /// After a COMMIT that failed: nothing may stay open (PostgreSQL ends such a transaction, a
  /// busy SQLite one stays open), so the transaction is rolled back or the connection dropped.
  void close_failed_commit() noexcept;
};

/// Drives a pipeline to its end with poll() and returns its results (PipelineRun::finish()).
std::vector<Result> drive_pipeline(PipelineRun& run);

/// Logs `sql` and its parameters (the engine's echo).
void echo_statement(const std::string& sql, std::span<const Value> params);

} // namespace retort
