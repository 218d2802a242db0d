#include <utility>

#include "blocking_driver.hpp"

#include <retort/async/async_session.hpp>
#include <retort/async/checkout.hpp>
#include <retort/engine/transaction.hpp>

namespace retort {

AsyncSession::AsyncSession(Engine engine, SessionOptions options)
    : core_(std::make_unique<detail::SessionCore>(std::move(engine), options)) {
  core_->forbid_lazy_loading();
  core_->forbid_blocking();
}

AsyncSession::~AsyncSession() = default;
AsyncSession::AsyncSession(AsyncSession&&) noexcept = default;
AsyncSession& AsyncSession::operator=(AsyncSession&&) noexcept = default;

namespace {

// The blocking session checks out inside SessionCore::connection(); here the checkout is
// awaited first, so that waiting for a free connection or opening one never blocks the thread.
boost::asio::awaitable<void> acquire(detail::SessionCore& core) {
  if (core.has_connection()) co_return;
  auto connection = co_await connect_async(core.engine());
  core.adopt_connection(std::move(connection));
}

// What run_on_blocking_driver() needs of the session: its connection, whose transaction
// begins with the plan, so that a BEGIN IMMEDIATE that has to wait for the database's write
// lock waits on a worker, never on the io_context's thread, where it would hold up every other
// session; and, when `commit`, the transaction to commit after the plan.
detail::BlockingTarget blocking_target(detail::SessionCore& core, bool commit) {
  Connection* held = core.held_connection();
  if (held == nullptr)
    throw InternalError("an async session ran a plan without a connection", "", 0, "");
  return {held->driver(), [&core]() -> Connection& { return core.connection(); },
          [&core, commit]() -> Transaction* { return commit ? core.open_transaction() : nullptr; }};
}

// Runs `plan` in the session's transaction (the caller has the connection).
boost::asio::awaitable<void> run(detail::SessionCore& core, Plan& plan) {
  if (core.connection_pipelines()) {
    co_await run_plan_async(plan, core.connection());
    co_return;
  }
  co_await detail::run_on_blocking_driver(plan, blocking_target(core, false));
}

// run(), then COMMIT; the COMMIT's failure is returned, as run_plan_and_commit() does.
boost::asio::awaitable<std::exception_ptr> run_and_commit(detail::SessionCore& core, Plan& plan) {
  if (core.connection_pipelines()) {
    Connection& connection = core.connection();
    co_return co_await run_plan_and_commit_async(plan, connection, *core.open_transaction());
  }
  co_return co_await detail::run_on_blocking_driver(plan, blocking_target(core, true));
}

// A flush inside an operation that already holds the session (AsyncUse).
boost::asio::awaitable<void> flush_core(detail::SessionCore& core) {
  auto job = core.begin_flush();
  if (!job) co_return;
  std::exception_ptr error;
  try {
    co_await acquire(core);
    detail::CountingPlan counted(core, job->plan());
    co_await run(core, counted);
  } catch (...) {
    error = std::current_exception();
  }
  core.end_flush(*job, error);
}

// Runs a savepoint statement inside the session's transaction (begun first when needed).
boost::asio::awaitable<void> run_savepoint(detail::SessionCore& core,
                                           detail::SessionCore::SavepointOp op, std::uint32_t id) {
  co_await acquire(core);
  detail::StatementPlan plan(core.savepoint_sql(op, id));
  detail::CountingPlan counted(core, plan);
  co_await run(core, counted);
}

} // namespace

boost::asio::awaitable<void> AsyncSession::flush() {
  detail::SessionCore::AsyncUse use(*core_);
  co_await flush_core(*core_);
}

boost::asio::awaitable<AsyncSavepoint> AsyncSession::begin_nested() {
  detail::SessionCore::AsyncUse use(*core_);
  co_await flush_core(*core_);
  co_await run_savepoint(*core_, detail::SessionCore::SavepointOp::begin,
                         core_->next_savepoint_id());
  co_return AsyncSavepoint(*core_, core_->savepoint_begun());
}

AsyncSavepoint::AsyncSavepoint(detail::SessionCore& core, std::uint32_t id)
    : core_(&core), alive_(core.lifetime()), id_(id) {}

AsyncSavepoint::AsyncSavepoint(AsyncSavepoint&& other) noexcept
    : core_(std::exchange(other.core_, nullptr)), alive_(std::move(other.alive_)), id_(other.id_) {}

AsyncSavepoint::~AsyncSavepoint() {
  if (!is_active()) return;
  try {
    detail::SessionCore::Entered(*core_)->rollback(); // not while another operation is under way
  } catch (...) {
  }
}

detail::SessionCore* AsyncSavepoint::core() const noexcept {
  return core_ != nullptr && !alive_.expired() ? core_ : nullptr;
}

bool AsyncSavepoint::is_active() const noexcept {
  detail::SessionCore* session = core();
  return session != nullptr && session->savepoint_active(id_);
}

boost::asio::awaitable<void> AsyncSavepoint::commit() {
  if (!is_active()) throw InvalidStateError("commit(): the savepoint is no longer active");
  detail::SessionCore& session = *core();
  detail::SessionCore::AsyncUse use(session);
  co_await flush_core(session);
  co_await run_savepoint(session, detail::SessionCore::SavepointOp::release, id_);
  session.savepoint_released(id_);
}

boost::asio::awaitable<void> AsyncSavepoint::rollback() {
  if (!is_active()) co_return;
  detail::SessionCore& session = *core();
  detail::SessionCore::AsyncUse use(session);
  co_await run_savepoint(session, detail::SessionCore::SavepointOp::rollback, id_);
  session.savepoint_rolled_back(id_);
}

// As SessionCore::flush_and_commit(): the flush's last statement, when nothing can follow it,
// goes out with the COMMIT (one round trip on PostgreSQL).
boost::asio::awaitable<void> AsyncSession::commit() {
  detail::SessionCore::AsyncUse use(*core_);
  // Nothing to write and no transaction to end: no connection is taken (as Session::commit()).
  if (core_->open_transaction() == nullptr && !core_->needs_flush()) {
    core_->after_commit();
    co_return;
  }
  auto job = core_->begin_flush();
  std::exception_ptr error;
  std::exception_ptr commit_error;
  if (job) {
    job->commit_follows();
    try {
      co_await acquire(*core_);
      detail::CountingPlan counted(*core_, job->plan());
      commit_error = co_await run_and_commit(*core_, counted);
    } catch (...) {
      error = std::current_exception();
    }
    core_->end_flush(*job, error);
  } else if (Transaction* transaction = core_->open_transaction()) {
    try {
      co_await commit_async(core_->connection(), *transaction);
    } catch (...) {
      commit_error = std::current_exception();
    }
  }
  if (commit_error) {
    core_->commit_failed();
    std::rethrow_exception(commit_error);
  }
  core_->after_commit();
}

void AsyncSession::rollback() { detail::SessionCore::Entered(*core_)->rollback(); }

boost::asio::awaitable<void> AsyncSession::select_rows(Select select, RowSink& sink) {
  detail::SessionCore::AsyncUse use(*core_);
  if (core_->options().autoflush && core_->needs_flush()) co_await flush_core(*core_);
  co_await acquire(*core_);
  SelectPlan plan(select, core_->engine().dialect(), &core_->engine().statement_cache(), sink);
  detail::CountingPlan counted(*core_, plan);
  co_await run(*core_, counted);
}

boost::asio::awaitable<detail::EntityRows>
AsyncSession::load(Select select, std::vector<detail::EntitySpec> entities,
                   std::vector<detail::EagerSpec> eager) {
  if (core_->options().autoflush && core_->needs_flush()) co_await flush_core(*core_);
  auto job = core_->begin_load(select, entities, eager);
  co_await acquire(*core_);
  detail::CountingPlan counted(*core_, job->plan());
  co_await run(*core_, counted);
  co_return job->take_rows();
}

} // namespace retort
