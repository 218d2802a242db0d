#include "core/thread_token.hpp"

#include <retort/core/error.hpp>
#include <retort/plugin/basic_pool.hpp>

#include <algorithm>
#include <utility>

namespace retort {

namespace {

using Clock = std::chrono::steady_clock;

std::string describe_limits(const std::string& kind, const PoolOptions& options) {
  const std::string overflow =
      options.max_overflow < 0 ? "unlimited" : std::to_string(options.max_overflow);
  return kind + " pool of size " + std::to_string(options.size) + " overflow " + overflow;
}

void validate(const std::string& kind, const PoolOptions& options) {
  if (options.size < 0) throw ArgumentError(kind + " pool: size must not be negative");
  if (options.size == 0 && options.max_overflow == 0)
    throw ArgumentError(describe_limits(kind, options) + " could never hand out a connection");
  if (options.timeout.count() < 0)
    throw ArgumentError(kind + " pool: timeout must not be negative");
}

using detail::this_thread_token;

} // namespace

BasicPool::BasicPool(std::string kind, PoolOptions options, ConnectionFactory factory)
    : factory_(std::move(factory)), kind_(std::move(kind)), options_(std::move(options)) {
  validate(kind_, options_);
  if (!factory_) throw ArgumentError(kind_ + " pool: no connection factory");
}

BasicPool::~BasicPool() = default;

bool BasicPool::has_room() const noexcept {
  if (unlimited()) return true;
  const auto total = static_cast<int>(idle_.size()) + checked_out_;
  return total < options_.size + options_.max_overflow;
}

bool BasicPool::is_stale(const ConnectionRecord& record) const {
  const auto now = Clock::now();
  if (options_.recycle && now - record.created >= *options_.recycle) return true;
  if (options_.idle_timeout && now - record.returned >= *options_.idle_timeout) return true;
  return false;
}

std::unique_ptr<DriverConnection> BasicPool::open(ConnectionRecord& record) {
  auto connection = factory_();
  if (!connection) throw InterfaceError("connection factory returned no connection", "", 0, "");
  note_opened(record);
  return connection;
}

// Called for a connection just opened in a reserved slot.
void BasicPool::note_opened(ConnectionRecord& record) {
  record.created = record.returned = Clock::now();
  std::lock_guard lock(mutex_);
  ++opened_;
  record.overflow = static_cast<int>(idle_.size()) + checked_out_ > options_.size;
}

void BasicPool::take_idle_locked(Idle& into) {
  auto& slot = options_.lifo ? idle_.back() : idle_.front();
  into = std::move(slot);
  if (options_.lifo)
    idle_.pop_back();
  else
    idle_.pop_front();
}

// A connection taken from the idle set is handed out only when it is still usable; otherwise it
// is closed here and the caller opens a replacement in the same slot. Only here does the pool
// look at the connection's socket (check_alive()): at checkin the driver's own state must do,
// since the answer to a ROLLBACK sent then cannot have arrived yet.
std::unique_ptr<DriverConnection> BasicPool::usable_or_null(Idle& idle, bool ping) {
  auto& connection = idle.connection;
  const bool usable = !(has_age_limit() && is_stale(idle.record)) && connection->check_alive() &&
                      (!ping || connection->ping());
  if (usable) return std::move(connection);
  connection.reset();
  std::lock_guard lock(mutex_);
  ++discarded_;
  return nullptr;
}

// The wake-up of the first non-blocking waiter, removed from the queue (empty when none).
CheckoutWake BasicPool::next_waiter_locked() {
  if (async_waiters_.empty()) return {};
  CheckoutWake wake = std::move(async_waiters_.front().wake);
  async_waiters_.pop_front();
  return wake;
}

// Called outside the lock: a wake-up may run arbitrary (non-blocking) code of the waiter.
void BasicPool::wake(CheckoutWake& waiter, bool notify_blocked) noexcept {
  if (notify_blocked) freed_.notify_one();
  if (!waiter) return;
  try {
    waiter();
  } catch (...) {
    // A wake-up must not throw; one that does has lost its waiter, which then times out.
  }
}

void BasicPool::give_back_slot() noexcept {
  CheckoutWake waiter;
  bool blocked = false;
  {
    std::lock_guard lock(mutex_);
    --checked_out_;
    waiter = next_waiter_locked();
    blocked = waiters_ > 0;
  }
  wake(waiter, blocked);
}

void BasicPool::throw_checkout_timeout() const {
  throw PoolTimeout(describe_limits(kind_, options_) +
                    " reached: no connection became free within " +
                    std::to_string(options_.timeout.count()) + " ms (checkout timeout)");
}

void BasicPool::hold_locked(std::uintptr_t holder, int change) {
  for (auto it = holders_.begin(); it != holders_.end(); ++it) {
    if (it->first != holder) continue;
    it->second += change;
    if (it->second == 0) holders_.erase(it);
    return;
  }
  if (change > 0) holders_.emplace_back(holder, change);
}

void BasicPool::throw_self_deadlock() const {
  throw PoolTimeout(describe_limits(kind_, options_) +
                    " reached, and every connection is held by this thread (another Session or "
                    "Connection of this engine is still open here): waiting could only end in "
                    "the checkout timeout. Commit, roll back or close the other one first (a "
                    "SQLite :memory: engine has exactly one connection)");
}

void BasicPool::wait_for_room(std::unique_lock<std::mutex>& lock) {
  // A thread cannot wait for itself: when it holds every connection that is out, only a hand-over
  // to another thread could bring one back (checkouts by other threads, non-blocking ones
  // included, may be returned).
  if (refuse_self_waits_) {
    const std::uintptr_t self = this_thread_token();
    for (const auto& [holder, count] : holders_)
      if (holder == self && count == checked_out_) throw_self_deadlock();
  }
  // Only a checkout that has to wait reads the clock.
  const auto deadline = Clock::now() + options_.timeout;
  while (idle_.empty() && !has_room()) {
    ++waiters_;
    const auto status = freed_.wait_until(lock, deadline);
    --waiters_;
    if (status == std::cv_status::timeout && idle_.empty() && !has_room()) throw_checkout_timeout();
  }
}

PooledConnection BasicPool::checkout() {
  Idle taken;
  std::shared_ptr<Pool> self;
  const std::uintptr_t holder = this_thread_token();
  {
    std::unique_lock lock(mutex_);
    if (idle_.empty() && !has_room()) wait_for_room(lock);
    self = shared_from_this();
    ++checked_out_;
    hold_locked(holder, 1);
    if (!idle_.empty()) take_idle_locked(taken);
  }
  // Pinging and opening are round trips: done outside the lock, in the slot reserved above.
  try {
    if (taken.connection) {
      if (auto connection = usable_or_null(taken, options_.pre_ping)) {
        taken.record.holder = holder;
        return PooledConnection(std::move(self), std::move(connection), taken.record);
      }
    }
    ConnectionRecord record{};
    auto connection = open(record);
    record.holder = holder;
    return PooledConnection(std::move(self), std::move(connection), record);
  } catch (...) {
    {
      std::lock_guard lock(mutex_);
      hold_locked(holder, -1);
    }
    give_back_slot();
    throw;
  }
}

void BasicPool::checkin(std::unique_ptr<DriverConnection> connection, ConnectionRecord record,
                        bool invalidated) noexcept {
  bool discard = !connection || invalidated || !connection->is_valid();
  if (!discard && options_.reset_on_return && connection->in_transaction()) {
    try {
      connection->rollback();
    } catch (...) {
      discard = true;
    }
    discard = discard || !connection->is_valid();
  }
  // Only the idle timeout needs to know when a connection came back.
  if (options_.idle_timeout) record.returned = Clock::now();
  std::unique_ptr<DriverConnection> to_close;
  CheckoutWake waiter;
  bool blocked = false;
  {
    std::lock_guard lock(mutex_);
    --checked_out_;
    if (record.holder != 0) hold_locked(record.holder, -1);
    record.holder = 0; // idle: nobody's
    const bool disposed_since = record.created <= disposed_at_;
    blocked = waiters_ > 0;
    const bool waiting = blocked || !async_waiters_.empty();
    // Beyond `size`, a returned connection is closed unless a waiter can take it at once.
    const bool room = static_cast<int>(idle_.size()) + checked_out_ < options_.size || waiting;
    if (discard && connection) ++discarded_;
    if (discard || disposed_since || !room)
      to_close = std::move(connection);
    else
      idle_.push_back(Idle{std::move(connection), record});
    if (!waiting) return; // to_close closes outside the lock
    waiter = next_waiter_locked();
  }
  wake(waiter, blocked);
}

PoolStatus BasicPool::status() const {
  std::lock_guard lock(mutex_);
  PoolStatus status;
  status.checked_out = checked_out_;
  status.idle = static_cast<int>(idle_.size());
  status.overflow = std::max(0, status.checked_out + status.idle - options_.size);
  status.opened = opened_;
  status.discarded = discarded_;
  status.waiting = waiters_ + static_cast<int>(async_waiters_.size());
  return status;
}

void BasicPool::dispose() noexcept {
  std::deque<Idle> closing;
  std::deque<Waiter> waiters;
  {
    std::lock_guard lock(mutex_);
    closing.swap(idle_);
    waiters.swap(async_waiters_);
    disposed_at_ = Clock::now();
  }
  freed_.notify_all();
  for (auto& waiter : waiters)
    wake(waiter.wake, false);
}

CheckoutAttempt BasicPool::try_checkout(CheckoutWake wake) {
  CheckoutAttempt attempt;
  Idle taken;
  std::shared_ptr<Pool> self;
  {
    std::lock_guard lock(mutex_);
    self = shared_from_this();
    // Registered under the same lock as the check, so no give-back can slip in between.
    if (idle_.empty() && !has_room()) {
      async_waiters_.push_back(Waiter{++last_waiter_id_, std::move(wake)});
      attempt.wait = PoolWait(std::move(self), last_waiter_id_);
      return attempt;
    }
    ++checked_out_;
    if (!idle_.empty()) take_idle_locked(taken);
  }
  // The slot reserved above becomes the idle connection's, or, when that one is no longer
  // usable (closed here), the caller's for a new connection.
  if (taken.connection) {
    if (auto connection = usable_or_null(taken, false)) {
      attempt.connection = PooledConnection(std::move(self), std::move(connection), taken.record);
      attempt.ping_first = options_.pre_ping;
      return attempt;
    }
  }
  attempt.slot = PoolSlot(std::move(self));
  return attempt;
}

PooledConnection BasicPool::fill_slot(std::unique_ptr<DriverConnection> connection) {
  if (!connection) throw InterfaceError("no connection given for a pool slot", "", 0, "");
  ConnectionRecord record{};
  note_opened(record);
  std::shared_ptr<Pool> self;
  {
    std::lock_guard lock(mutex_);
    self = shared_from_this();
  }
  return PooledConnection(std::move(self), std::move(connection), record);
}

void BasicPool::cancel_wait(std::uint64_t id) noexcept {
  CheckoutWake waiter;
  bool blocked = false;
  {
    std::lock_guard lock(mutex_);
    auto found = std::find_if(async_waiters_.begin(), async_waiters_.end(),
                              [id](const Waiter& w) { return w.id == id; });
    if (found != async_waiters_.end()) {
      async_waiters_.erase(found);
      return;
    }
    // Already woken but giving up: what woke it goes to the next waiter.
    if (idle_.empty() && !has_room()) return;
    waiter = next_waiter_locked();
    blocked = waiters_ > 0;
  }
  wake(waiter, blocked);
}

} // namespace retort
