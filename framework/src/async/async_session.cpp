#include <utility>

#include <retort/async/async_session.hpp>
#include <retort/async/checkout.hpp>

namespace retort {

AsyncSession::AsyncSession(Engine engine, SessionOptions options)
    : core_(std::make_unique<detail::SessionCore>(std::move(engine), options)) {
  core_->forbid_lazy_loading();
  core_->forbid_blocking();
}

AsyncSession::~AsyncSession() = default;
AsyncSession::AsyncSession(AsyncSession&&) noexcept = default;
AsyncSession& AsyncSession::operator=(AsyncSession&&) noexcept = default;

boost::asio::awaitable<void> AsyncSession::flush() {
  auto job = core_->begin_flush();
  if (!job) co_return;
  std::exception_ptr error;
  try {
    co_await acquire_connection();
    detail::CountingPlan counted(*core_, job->plan());
    co_await run_plan_async(counted, core_->connection());
  } catch (...) {
    error = std::current_exception();
  }
  core_->end_flush(*job, error);
}

// As SessionCore::flush_and_commit(): the flush's last statement, when nothing can follow it,
// goes out with the COMMIT (one round trip on PostgreSQL).
boost::asio::awaitable<void> AsyncSession::commit() {
  auto job = core_->begin_flush();
  std::exception_ptr error;
  std::exception_ptr commit_error;
  if (job) {
    job->commit_follows();
    try {
      co_await acquire_connection();
      Connection& connection = core_->connection();
      detail::CountingPlan counted(*core_, job->plan());
      commit_error =
          co_await run_plan_and_commit_async(counted, connection, *core_->open_transaction());
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

void AsyncSession::rollback() { core_->rollback(); }

// The blocking session checks out inside SessionCore::connection(); here the checkout is
// awaited first, so that waiting for a free connection or opening one never blocks the thread.
boost::asio::awaitable<void> AsyncSession::acquire_connection() {
  if (core_->has_connection()) co_return;
  auto connection = co_await connect_async(core_->engine());
  core_->adopt_connection(std::move(connection));
}

boost::asio::awaitable<void> AsyncSession::select_rows(Select select, RowSink& sink) {
  if (core_->options().autoflush && core_->needs_flush()) co_await flush();
  co_await acquire_connection();
  SelectPlan plan(select, core_->engine().dialect(), &core_->engine().statement_cache(), sink);
  detail::CountingPlan counted(*core_, plan);
  co_await run_plan_async(counted, core_->connection());
}

boost::asio::awaitable<detail::EntityRows>
AsyncSession::load(Select select, std::vector<detail::EntitySpec> entities,
                   std::vector<detail::EagerSpec> eager) {
  if (core_->options().autoflush && core_->needs_flush()) co_await flush();
  auto job = core_->begin_load(select, entities, eager);
  co_await acquire_connection();
  detail::CountingPlan counted(*core_, job->plan());
  co_await run_plan_async(counted, core_->connection());
  co_return job->take_rows();
}

} // namespace retort
