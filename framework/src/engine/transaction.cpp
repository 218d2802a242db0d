#include "connection_state.hpp"

#include <retort/core/error.hpp>
#include <retort/core/log.hpp>
#include <retort/engine/transaction.hpp>
#include <retort/sql/dialect.hpp>

#include <utility>

namespace retort {

Transaction::Transaction(std::shared_ptr<ConnectionState> connection, std::string savepoint)
    : connection_(std::move(connection)), savepoint_(std::move(savepoint)), active_(true) {}

Transaction::Transaction(Transaction&& other) noexcept
    : connection_(std::move(other.connection_)), savepoint_(std::move(other.savepoint_)),
      active_(std::exchange(other.active_, false)) {}

Transaction& Transaction::operator=(Transaction&& other) noexcept {
  if (this == &other) return *this;
  if (active_) {
    try {
      rollback();
    } catch (...) {
      if (connection_) connection_->pooled.invalidate();
    }
  }
  connection_ = std::move(other.connection_);
  savepoint_ = std::move(other.savepoint_);
  active_ = std::exchange(other.active_, false);
  return *this;
}

Transaction::~Transaction() {
  if (!active_) return;
  try {
    rollback();
  } catch (...) {
    // A rollback that fails leaves the connection in an unknown state: never reuse it.
    connection_->pooled.invalidate();
  }
}

void Transaction::end() noexcept {
  active_ = false;
  if (!is_nested()) connection_->untouched_transaction = false;
}

void Transaction::commit() {
  if (!active_) throw InvalidStateError("commit(): the transaction is no longer active");
  end();
  DriverConnection& driver = connection_->driver();
  const bool echo = connection_->engine.echo();
  try {
    if (is_nested()) {
      std::string sql = connection_->engine.dialect().release_savepoint_sql(savepoint_);
      if (echo) log_line(sql);
      driver.execute(sql);
      return;
    }
    if (echo) log_line("COMMIT");
    driver.commit();
  } catch (...) {
    // A failed COMMIT can leave the transaction open (e.g. SQLITE_BUSY): it is closed so that
    // the connection goes back to the pool clean. A failed RELEASE leaves the outer
    // transaction to its owner.
    if (is_nested())
      connection_->note_failure();
    else
      connection_->close_failed_commit();
    throw;
  }
}

void Transaction::rollback() {
  if (!active_) return;
  end();
  DriverConnection& driver = connection_->driver();
  const bool echo = connection_->engine.echo();
  try {
    if (is_nested()) {
      const SqlDialect& dialect = connection_->engine.dialect();
      std::string sql = dialect.rollback_to_savepoint_sql(savepoint_);
      if (echo) log_line(sql);
      driver.execute(sql);
      driver.execute(dialect.release_savepoint_sql(savepoint_));
      return;
    }
    if (echo) log_line("ROLLBACK");
    if (driver.in_transaction()) driver.rollback();
  } catch (...) {
    connection_->note_failure();
    throw;
  }
}

} // namespace retort
