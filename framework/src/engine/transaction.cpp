#include "connection_state.hpp"

#include <retort/core/error.hpp>
#include <retort/core/log.hpp>
#include <retort/engine/transaction.hpp>
#include <retort/sql/dialect.hpp>

#include <string>
#include <utility>

namespace retort {

Transaction& Transaction::operator=(Transaction&& other) noexcept {
  if (this == &other) return *this;
  if (active_) abandon();
  connection_ = std::move(other.connection_);
  savepoint_ = other.savepoint_;
  active_ = std::exchange(other.active_, false);
  return *this;
}

void Transaction::abandon() noexcept {
  try {
    rollback();
  } catch (...) {
    // A rollback that fails leaves the connection in an unknown state: never reuse it.
    if (connection_) connection_->pooled.invalidate();
  }
}

std::string Transaction::savepoint_name() const {
  return "retort_sp_" + std::to_string(savepoint_);
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
      std::string sql = connection_->engine.dialect().release_savepoint_sql(savepoint_name());
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
      const std::string name = savepoint_name();
      std::string sql = dialect.rollback_to_savepoint_sql(name);
      if (echo) log_line(sql);
      driver.execute(sql);
      driver.execute(dialect.release_savepoint_sql(name));
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
