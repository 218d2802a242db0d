#include <utility>

#include <retort/async/async_session.hpp>

namespace retort {

AsyncSession::AsyncSession(Engine engine, SessionOptions options)
    : core_(std::make_unique<detail::SessionCore>(std::move(engine), options)) {
  core_->forbid_lazy_loading();
}

AsyncSession::~AsyncSession() = default;
AsyncSession::AsyncSession(AsyncSession&&) noexcept = default;
AsyncSession& AsyncSession::operator=(AsyncSession&&) noexcept = default;

boost::asio::awaitable<void> AsyncSession::flush() {
  auto job = core_->begin_flush();
  if (!job) co_return;
  std::exception_ptr error;
  try {
    co_await run_plan_async(job->plan(), core_->connection());
  } catch (...) {
    error = std::current_exception();
  }
  core_->end_flush(*job, error);
}

// The flush and the COMMIT are two round trips here, where the blocking session sends the
// flush's last statement with COMMIT: outside pipeline mode libpq has one query in flight.
boost::asio::awaitable<void> AsyncSession::commit() {
  co_await flush();
  if (Transaction* transaction = core_->open_transaction()) {
    std::exception_ptr error;
    try {
      co_await commit_async(core_->connection(), *transaction);
    } catch (...) {
      error = std::current_exception();
    }
    if (error) {
      core_->commit_failed();
      std::rethrow_exception(error);
    }
  }
  core_->after_commit();
}

void AsyncSession::rollback() { core_->rollback(); }

boost::asio::awaitable<detail::EntityRows>
AsyncSession::load(Select select, std::vector<detail::EntitySpec> entities,
                   std::vector<detail::EagerSpec> eager) {
  if (core_->options().autoflush && core_->needs_flush()) co_await flush();
  auto job = core_->begin_load(select, entities, eager);
  co_await run_plan_async(job->plan(), core_->connection());
  co_return job->take_rows();
}

} // namespace retort
