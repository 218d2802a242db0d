#include "connection_state.hpp"

#include <retort/core/log.hpp>
#include <retort/engine/connection.hpp>
#include <retort/sql/dialect.hpp>

namespace retort {

DriverConnection& ConnectionState::driver() {
  if (!pooled) throw InvalidStateError("the connection is closed");
  return *pooled;
}

void ConnectionState::note_failure() noexcept {
  if (pooled && !pooled->is_valid()) pooled.invalidate();
}

namespace {

void echo_statement(const std::string& sql, std::span<const Value> params) {
  log_line(sql);
  std::string line = "[";
  for (std::size_t i = 0; i < params.size(); ++i) {
    if (i > 0) line += ", ";
    line += params[i].to_display();
  }
  line += "]";
  log_line(line);
}

} // namespace

Connection::Connection(Engine engine, PooledConnection pooled)
    : state_(std::make_shared<ConnectionState>(std::move(engine), std::move(pooled))) {}

Connection::~Connection() = default;

Result Connection::execute_sql(const std::string& sql, std::span<const Value> params) {
  DriverConnection& driver = state_->driver();
  if (state_->engine.echo()) echo_statement(sql, params);
  DriverStatement* statement = driver.find_cached_statement(sql);
  std::unique_ptr<DriverStatement> owned;
  try {
    if (statement != nullptr && state_->busy.contains(statement)) {
      owned = driver.prepare(sql);
      statement = owned.get();
    } else {
      statement = &driver.cached_statement(sql);
    }
    statement->bind(params);
    bool has_row = statement->step();
    state_->busy.insert(statement);
    return Result(state_, statement, std::move(owned), has_row);
  } catch (...) {
    if (statement != nullptr) statement->reset();
    state_->note_failure();
    throw;
  }
}

void Connection::execute_ddl(const std::string& sql) {
  DriverConnection& driver = state_->driver();
  if (state_->engine.echo()) echo_statement(sql, {});
  try {
    driver.execute(sql);
  } catch (...) {
    state_->note_failure();
    throw;
  }
}

Transaction Connection::begin() {
  DriverConnection& driver = state_->driver();
  if (driver.in_transaction())
    throw InvalidStateError("begin(): a transaction is already open on this connection; use "
                            "begin_nested() for a savepoint");
  if (state_->engine.echo()) log_line("BEGIN");
  try {
    driver.begin();
  } catch (...) {
    state_->note_failure();
    throw;
  }
  return Transaction(state_, {});
}

Transaction Connection::begin_nested() {
  DriverConnection& driver = state_->driver();
  if (!driver.in_transaction()) driver.begin();
  std::string name = "retort_sp_" + std::to_string(++state_->savepoint_counter);
  execute_ddl(state_->engine.dialect().savepoint_sql(name));
  return Transaction(state_, std::move(name));
}

bool Connection::in_transaction() const { return state_->driver().in_transaction(); }
const Engine& Connection::engine() const { return state_->engine; }
DriverConnection& Connection::driver() const { return state_->driver(); }

void Connection::close() noexcept {
  if (!state_) return;
  // Results and Transactions may still hold the state; the pooled connection goes back only
  // when the last of them is gone, so nothing they reference is yanked away.
  state_.reset();
}

void Connection::invalidate() noexcept {
  if (state_ && state_->pooled) state_->pooled.invalidate();
}

} // namespace retort
