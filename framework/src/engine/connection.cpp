#include "connection_state.hpp"
#include "spare_block.hpp"

#include <retort/core/log.hpp>
#include <retort/engine/connection.hpp>
#include <retort/engine/nonblocking.hpp>
#include <retort/sql/dialect.hpp>

#include <cerrno>
#include <poll.h>
#include <utility>

namespace retort {

DriverConnection& ConnectionState::driver() {
  if (!pooled) throw InvalidStateError("the connection is closed");
  return *pooled;
}

void ConnectionState::note_failure() noexcept {
  if (pooled && !pooled->is_valid()) pooled.invalidate();
}

void ConnectionState::close_failed_commit() noexcept {
  note_failure();
  try {
    DriverConnection& connection = driver();
    if (connection.is_valid() && connection.in_transaction()) connection.rollback();
  } catch (...) {
    pooled.invalidate();
  }
}

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

// The state and its control block live in one block, recycled per thread (SpareBlockAllocator).
Connection::Connection(const Engine& engine)
    : state_(
          std::allocate_shared<ConnectionState>(SpareBlockAllocator<ConnectionState>{}, engine)) {}

Connection::Connection(Engine engine, PooledConnection&& pooled)
    : state_(std::allocate_shared<ConnectionState>(SpareBlockAllocator<ConnectionState>{},
                                                   std::move(engine), std::move(pooled))) {}

Connection::~Connection() = default;

namespace {

// execute_sql() once the driver's cache was asked for `sql`: `statement` is what it found
// (nullptr: nothing yet). Inlined into both callers: a call more cost execute_sql() more than the
// lookup it saves run_alone_and_commit().
[[gnu::always_inline]] inline Result execute_found(const std::shared_ptr<ConnectionState>& state,
                                                   DriverConnection& driver, const std::string& sql,
                                                   DriverStatement* statement,
                                                   std::span<const Value> params) {
  state->untouched_transaction = false;
  state->fresh = false;
  if (state->engine.echo()) echo_statement(sql, params);
  std::unique_ptr<DriverStatement> owned;
  try {
    if (statement == nullptr) {
      statement = &driver.cached_statement(sql);
    } else if (state->busy.contains(statement)) {
      // A live Result steps the cached one: this execution gets a private statement.
      owned = driver.prepare(sql);
      statement = owned.get();
    } else {
      statement->reset();
    }
    // Bound and stepped at once: `params` outlives the first step, the only one that may read
    // values the driver did not copy.
    statement->bind_borrowed(params);
    bool has_row = statement->step();
    state->busy.insert(statement);
    return Result(state, statement, std::move(owned), has_row);
  } catch (...) {
    if (statement != nullptr) statement->reset();
    state->note_failure();
    throw;
  }
}

} // namespace

namespace {

// A server that went away: the connection is lost (class 08), or the server shut down or
// crashed and ended it (57P01 admin_shutdown, 57P02 crash_shutdown, 57P03 cannot_connect_now).
bool is_connection_loss(const std::string& sqlstate) {
  return sqlstate.starts_with("08") || sqlstate == "57P01" || sqlstate == "57P02" ||
         sqlstate == "57P03";
}

} // namespace

Connection::FirstRequest Connection::first_request() noexcept {
  FirstRequest request;
  request.retryable =
      state_->fresh && state_->untouched_transaction && state_->savepoint_counter == 0;
  state_->fresh = false;
  return request;
}

bool Connection::lost_before_use(const FirstRequest& request, const std::exception_ptr& error) {
  if (!request.retryable || !error || !state_->pooled || state_->pooled->is_valid()) return false;
  try {
    std::rethrow_exception(error);
  } catch (const DatabaseError& e) {
    if (!is_connection_loss(e.sqlstate())) return false;
  } catch (...) {
    return false;
  }
  state_->engine.pool().dispose();
  return true;
}

void Connection::replace_lost(Connection&& fresh) {
  ConnectionState& state = *state_;
  state.pooled.invalidate();
  state.pooled = std::move(fresh.state_->pooled); // the lost one goes back, to be closed
  state.busy = BusyStatements{};
  state.fresh = false;
  if (state.engine.echo()) log_line("-- connection lost before use: again on a fresh one");
  state.untouched_transaction = false;
  state.driver().begin();
  state.untouched_transaction = true;
}

template <typename Request> auto Connection::retrying(Request request) -> decltype(request()) {
  const FirstRequest first = first_request();
  try {
    return request();
  } catch (...) {
    if (!lost_before_use(first, std::current_exception())) throw;
  }
  replace_lost(Connection(state_->engine));
  return request();
}

Result Connection::execute_sql(const std::string& sql, std::span<const Value> params) {
  if (state_->fresh)
    return retrying([&] {
      DriverConnection& driver = state_->driver();
      return execute_found(state_, driver, sql, driver.find_cached_statement(sql), params);
    });
  DriverConnection& driver = state_->driver();
  return execute_found(state_, driver, sql, driver.find_cached_statement(sql), params);
}

bool Connection::can_pipeline() const { return state_->driver().non_blocking() != nullptr; }

bool Connection::would_wait(const std::string& sql) const {
  return state_->driver().would_wait(sql);
}

// Drives `run` to its end, waiting with plain poll(): this executor blocks anyway (the async
// layer waits with Asio instead).
std::vector<Result> drive_pipeline(PipelineRun& run) {
  for (SocketWait wait; (wait = run.pump()) != SocketWait::none;) {
    const short events = wait == SocketWait::read ? POLLIN : (POLLIN | POLLOUT);
    pollfd fd{run.socket(), events, 0};
    while (::poll(&fd, 1, -1) < 0)
      if (errno != EINTR)
        throw OperationalError("poll() on the database socket failed", "", errno, "");
  }
  return run.finish();
}

PipelineRun Connection::start_pipeline(std::span<const Pipelined> statements) {
  state_->untouched_transaction = false;
  state_->fresh = false;
  return PipelineRun(state_, statements, nullptr, false);
}

std::vector<Result> Connection::execute_pipeline(std::span<const Pipelined> statements) {
  if (!can_pipeline()) {
    std::vector<Result> results;
    results.reserve(statements.size());
    for (const auto& s : statements)
      results.push_back(execute_sql(*s.sql, s.params));
    return results;
  }
  auto run_all = [&] {
    PipelineRun run = start_pipeline(statements);
    return drive_pipeline(run);
  };
  return state_->fresh ? retrying(run_all) : run_all();
}

void Connection::check_top_level(const Transaction& transaction, const char* caller) const {
  if (!transaction.is_active() || transaction.is_nested() || transaction.connection_ != state_)
    throw InvalidStateError(std::string(caller) +
                            ": needs the active top-level transaction of this connection");
}

void Connection::execute_and_commit(std::span<const Pipelined> statements, Transaction& transaction,
                                    const ResultHandler& handle) {
  check_top_level(transaction, "execute_and_commit()");
  if (!can_pipeline()) {
    if (run_alone_and_commit(statements, transaction, handle)) return;
    for (std::size_t i = 0; i < statements.size(); ++i) {
      Result result = execute_sql(*statements[i].sql, statements[i].params);
      handle(i, result);
    }
    transaction.commit();
    return;
  }
  PipelineRun run = start_pipeline_and_commit(statements, transaction);
  auto results = drive_pipeline(run);
  for (std::size_t i = 0; i < results.size(); ++i)
    handle(i, results[i]);
}

PipelineRun Connection::start_pipeline_and_commit(std::span<const Pipelined> statements,
                                                  Transaction& transaction) {
  check_top_level(transaction, "start_pipeline_and_commit()");
  if (!can_pipeline())
    throw InvalidStateError("start_pipeline_and_commit(): this driver cannot pipeline statements");
  // Nothing ran in the transaction yet: its statements can be a transaction of their own, as a
  // pipeline segment outside BEGIN is (atomic, committed at its sync, rolled back whole when a
  // statement fails). Then neither BEGIN nor COMMIT is sent: a driver that defers BEGIN ends
  // the empty transaction without a round trip.
  const bool implicit = std::exchange(state_->untouched_transaction, false);
  state_->fresh = false;
  if (implicit) state_->driver().commit();
  return PipelineRun(state_, statements, &transaction, !implicit);
}

bool Connection::run_alone_and_commit(std::span<const Pipelined> statements,
                                      Transaction& transaction, const ResultHandler& handle) {
  // One statement that yields no rows, in a transaction where nothing ran yet: run on its own
  // (autocommit) it is the same transaction, atomic and committed by its only step, so that
  // step also reports a failing commit (a deferred constraint). The empty transaction ends
  // first: free where the driver defers BEGIN (SQLite), a bare COMMIT elsewhere. A statement
  // with rows is left to the general path: its own commit would wait for its last row.
  if (statements.size() != 1 || !state_->untouched_transaction) return false;
  DriverConnection& driver = state_->driver();
  DriverStatement* cached = driver.find_cached_statement(*statements[0].sql);
  if (cached == nullptr || cached->column_count() != 0 || state_->busy.contains(cached))
    return false;
  state_->untouched_transaction = false;
  try {
    driver.commit();
  } catch (...) {
    state_->note_failure();
    throw;
  }
  // A failure propagates with `transaction` active: the caller's rollback finds nothing open.
  // The statement found above serves (ending a transaction leaves the driver's cache alone).
  Result result = execute_found(state_, driver, *statements[0].sql, cached, statements[0].params);
  transaction.end();
  if (state_->engine.echo()) log_line("-- committed by the statement (autocommit)");
  handle(0, result);
  return true;
}

void Connection::execute_ddl(const std::string& sql) {
  DriverConnection& driver = state_->driver();
  state_->untouched_transaction = false;
  state_->fresh = false;
  if (state_->engine.echo()) echo_statement(sql, {});
  try {
    driver.execute(sql);
  } catch (...) {
    state_->note_failure();
    throw;
  }
}

bool Connection::send_commit(Transaction& transaction) {
  check_top_level(transaction, "send_commit()");
  NonBlockingConnection* nb = state_->driver().non_blocking();
  if (nb == nullptr)
    throw InvalidStateError("send_commit(): the driver has no non-blocking side; use "
                            "Transaction::commit()");
  transaction.end();
  state_->fresh = false;
  if (state_->engine.echo()) log_line("COMMIT");
  try {
    return nb->send_commit();
  } catch (...) {
    state_->close_failed_commit();
    throw;
  }
}

void Connection::commit_failed() noexcept { state_->close_failed_commit(); }

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
  state_->untouched_transaction = true;
  return Transaction(state_, 0);
}

void Connection::will_write() {
  DriverConnection& driver = state_->driver();
  try {
    driver.will_write();
  } catch (...) {
    state_->note_failure();
    throw;
  }
}

void Connection::refuse_nested(const char* why) noexcept {
  if (state_) state_->nested_refusal = why;
}

Transaction Connection::begin_nested() {
  DriverConnection& driver = state_->driver();
  if (state_->nested_refusal != nullptr) throw InvalidStateError(state_->nested_refusal);
  state_->untouched_transaction = false;
  state_->fresh = false;
  if (!driver.in_transaction()) driver.begin();
  Transaction savepoint(state_, ++state_->savepoint_counter);
  try {
    execute_ddl(state_->engine.dialect().savepoint_sql(savepoint.savepoint_name()));
  } catch (...) {
    savepoint.active_ = false; // never set: nothing to roll back to
    throw;
  }
  return savepoint;
}

bool Connection::in_transaction() const { return state_->driver().in_transaction(); }
const Engine& Connection::engine() const { return state_->engine; }
DriverConnection& Connection::driver() const {
  DriverConnection& driver = state_->driver();
  // Whatever runs through the driver directly is unseen by the engine: count it as use.
  state_->untouched_transaction = false;
  return driver;
}

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
