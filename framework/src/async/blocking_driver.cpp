#include "blocking_driver.hpp"

#include "blocking_call.hpp"

namespace retort::detail {

namespace {

// Commits `transaction`, returning the COMMIT's error.
std::exception_ptr commit_now(Transaction& transaction) noexcept {
  try {
    transaction.commit();
  } catch (...) {
    return std::current_exception();
  }
  return nullptr;
}

// How far the plan got on the calling thread.
enum class Reached {
  end,     // the plan ran, and the COMMIT asked for
  commit,  // the plan ran; the COMMIT may wait
  nothing, // waiting cannot be turned off, or a call would have waited
};

// The part of run_on_blocking_driver() on the calling thread.
Reached run_here(BlockingPlanRun& run, BlockingTarget& target, std::exception_ptr& commit_error) {
  NoWaiting no_waiting(target.driver);
  if (!no_waiting.off()) return Reached::nothing;
  try {
    if (run.run_until_final(target.begun(), true) == PlanRunStop::would_wait)
      return Reached::nothing;
  } catch (const WouldWaitError&) {
    return Reached::nothing;
  }
  Transaction* transaction = target.to_commit();
  if (transaction == nullptr) return Reached::end;
  if (!target.driver.commit_cannot_wait()) return Reached::commit;
  commit_error = commit_now(*transaction);
  return Reached::end;
}

} // namespace

boost::asio::awaitable<std::exception_ptr> run_on_blocking_driver(Plan& plan,
                                                                  BlockingTarget target) {
  // No final step is held for the COMMIT: the plan's last statement runs in the transaction
  // like the others, so that a call stopped there can be made again.
  BlockingPlanRun run(plan, false, false);
  std::exception_ptr commit_error;
  const Reached reached = run_here(run, target, commit_error);
  if (reached == Reached::end) co_return commit_error;
  auto rest = [&run, &target, reached]() -> std::exception_ptr {
    if (reached == Reached::nothing) run.run_until_final(target.begun());
    Transaction* transaction = target.to_commit();
    return transaction != nullptr ? commit_now(*transaction) : nullptr;
  };
  co_return co_await call_on_worker(rest);
}

} // namespace retort::detail
