// Transaction: RAII over BEGIN/COMMIT/ROLLBACK and SAVEPOINTs. Dies rolled back unless committed,
// so an exception between begin() and commit() never leaves half a unit of work behind.
#pragma once

#include <retort/core/export.hpp>

#include <memory>
#include <string>

namespace retort {

struct ConnectionState;

/// A transaction or savepoint on a Connection.
class RETORT_API Transaction {
public:
  /// Made by Connection::begin() / begin_nested().
  Transaction(std::shared_ptr<ConnectionState> connection, std::string savepoint);
  Transaction(Transaction&& other) noexcept;
  Transaction& operator=(Transaction&& other) noexcept;
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  /// Rolls back if still active.
  ~Transaction();

  /// Commits (or releases the savepoint).
  void commit();
  /// Rolls back (to the savepoint).
  void rollback();
  /// True until commit() or rollback().
  bool is_active() const noexcept { return active_; }
  /// True for a savepoint.
  bool is_nested() const noexcept { return !savepoint_.empty(); }

private:
  friend class Connection;  // send_commit() ends the transaction
  friend class PipelineRun; // so does a pipeline that commits
  // Over, whatever the statement that ends it answers: neither active nor untouched.
  void end() noexcept;

  std::shared_ptr<ConnectionState> connection_;
  std::string savepoint_;
  bool active_ = false;
};

} // namespace retort
