// Transaction: RAII over BEGIN/COMMIT/ROLLBACK and SAVEPOINTs. Dies rolled back unless committed,
// so an exception between begin() and commit() never leaves half a unit of work behind.
#pragma once

#include <retort/core/export.hpp>

#include <memory>
#include <string>
#include <utility>

namespace retort {

struct ConnectionState;

/// A transaction or savepoint on a Connection.
class RETORT_API Transaction {
public:
  /// Made by Connection::begin() (`savepoint` 0) and begin_nested() (the savepoint's number).
  Transaction(std::shared_ptr<ConnectionState> connection, int savepoint) noexcept
      : connection_(std::move(connection)), savepoint_(savepoint), active_(true) {}
  /// Takes over `other`'s transaction; `other` is left inactive.
  Transaction(Transaction&& other) noexcept
      : connection_(std::move(other.connection_)), savepoint_(other.savepoint_),
        active_(std::exchange(other.active_, false)) {}
  Transaction& operator=(Transaction&& other) noexcept;
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  /// Rolls back if still active.
  ~Transaction() {
    if (active_) abandon();
  }

  /// Commits (or releases the savepoint).
  void commit();
  /// Rolls back (to the savepoint).
  void rollback();
  /// True until commit() or rollback().
  bool is_active() const noexcept { return active_; }
  /// True for a savepoint.
  bool is_nested() const noexcept { return savepoint_ != 0; }

private:
  friend class Connection;  // send_commit() ends the transaction
  friend class PipelineRun; // so does a pipeline that commits
  // Over, whatever the statement that ends it answers: neither active nor untouched.
  void end() noexcept;
  // The destructor's rollback of an active transaction; a rollback that fails drops the
  // connection.
  void abandon() noexcept;
  // The savepoint's SQL name.
  std::string savepoint_name() const;

  std::shared_ptr<ConnectionState> connection_;
  // 0 for the top-level transaction; a savepoint's name is made from its number only when its
  // SQL is (a std::string here cost every Transaction's move and destruction).
  int savepoint_ = 0;
  bool active_ = false;
};

} // namespace retort
