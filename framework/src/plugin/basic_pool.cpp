#include <retort/core/error.hpp>
#include <retort/plugin/basic_pool.hpp>

#include <algorithm>
#include <optional>
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

} // namespace

BasicPool::BasicPool(std::string kind, PoolOptions options, ConnectionFactory factory)
    : factory_(std::move(factory)), kind_(std::move(kind)), options_(std::move(options)) {
  validate(kind_, options_);
  if (!factory_) throw ArgumentError(kind_ + " pool: no connection factory");
}

BasicPool::~BasicPool() = default;

void BasicPool::set_owner(std::weak_ptr<Pool> owner) noexcept {
  std::lock_guard lock(mutex_);
  owner_ = std::move(owner);
}

// Called with mutex_ held (owner_ is guarded by it).
std::shared_ptr<Pool> BasicPool::handle_locked() {
  if (auto owner = owner_.lock()) return owner;
  return shared_from_this();
}

bool BasicPool::has_room() const noexcept {
  if (unlimited()) return true;
  const auto total = static_cast<int>(idle_.size()) + checked_out_;
  return total < options_.size + options_.max_overflow;
}

bool BasicPool::is_stale(const ConnectionRecord& record) const {
  // The clock is read only when an age limit is set: most pools have none.
  if (!options_.recycle && !options_.idle_timeout) return false;
  const auto now = Clock::now();
  if (options_.recycle && now - record.created >= *options_.recycle) return true;
  if (options_.idle_timeout && now - record.returned >= *options_.idle_timeout) return true;
  return false;
}

std::unique_ptr<DriverConnection> BasicPool::open(ConnectionRecord& record) {
  auto connection = factory_();
  if (!connection) throw InterfaceError("connection factory returned no connection", "", 0, "");
  record.created = record.returned = Clock::now();
  std::lock_guard lock(mutex_);
  ++opened_;
  record.overflow = static_cast<int>(idle_.size()) + checked_out_ > options_.size;
  return connection;
}

// A connection taken from the idle set is handed out only when it is still usable; otherwise it
// is closed here and the caller opens a replacement in the same slot.
std::unique_ptr<DriverConnection> BasicPool::usable_or_null(Idle& idle) {
  auto& connection = idle.connection;
  const bool usable = connection->is_valid() && !is_stale(idle.record) &&
                      (!options_.pre_ping || connection->ping());
  if (usable) return std::move(connection);
  connection.reset();
  std::lock_guard lock(mutex_);
  ++discarded_;
  return nullptr;
}

void BasicPool::give_back_slot() noexcept {
  {
    std::lock_guard lock(mutex_);
    --checked_out_;
  }
  freed_.notify_one();
}

void BasicPool::throw_timeout() const {
  throw PoolTimeout(describe_limits(kind_, options_) +
                    " reached: no connection became free within " +
                    std::to_string(options_.timeout.count()) + " ms (checkout timeout)");
}

PooledConnection BasicPool::checkout() {
  std::optional<Idle> taken;
  std::shared_ptr<Pool> self;
  {
    std::unique_lock lock(mutex_);
    if (idle_.empty() && !has_room()) {
      // Only a checkout that has to wait reads the clock.
      const auto deadline = Clock::now() + options_.timeout;
      while (idle_.empty() && !has_room()) {
        ++waiters_;
        const auto status = freed_.wait_until(lock, deadline);
        --waiters_;
        if (status == std::cv_status::timeout && idle_.empty() && !has_room()) throw_timeout();
      }
    }
    self = handle_locked();
    ++checked_out_;
    if (!idle_.empty()) {
      auto& slot = options_.lifo ? idle_.back() : idle_.front();
      taken.emplace(std::move(slot));
      if (options_.lifo)
        idle_.pop_back();
      else
        idle_.pop_front();
    }
  }
  // Pinging and opening are round trips: done outside the lock, in the slot reserved above.
  try {
    std::unique_ptr<DriverConnection> connection;
    ConnectionRecord record{};
    if (taken) {
      record = taken->record;
      connection = usable_or_null(*taken);
    }
    if (!connection) connection = open(record);
    return PooledConnection(std::move(self), std::move(connection), record);
  } catch (...) {
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
  bool wake = false;
  {
    std::lock_guard lock(mutex_);
    --checked_out_;
    const bool disposed_since = record.created <= disposed_at_;
    // Beyond `size`, a returned connection is closed unless a waiter can take it at once.
    const bool room = static_cast<int>(idle_.size()) + checked_out_ < options_.size || waiters_ > 0;
    if (discard && connection) ++discarded_;
    if (discard || disposed_since || !room)
      to_close = std::move(connection);
    else
      idle_.push_back(Idle{std::move(connection), record});
    wake = waiters_ > 0;
  }
  if (wake) freed_.notify_one();
}

PoolStatus BasicPool::status() const {
  std::lock_guard lock(mutex_);
  PoolStatus status;
  status.checked_out = checked_out_;
  status.idle = static_cast<int>(idle_.size());
  status.overflow = std::max(0, status.checked_out + status.idle - options_.size);
  status.opened = opened_;
  status.discarded = discarded_;
  return status;
}

void BasicPool::dispose() noexcept {
  std::deque<Idle> closing;
  {
    std::lock_guard lock(mutex_);
    closing.swap(idle_);
    disposed_at_ = Clock::now();
  }
  freed_.notify_all();
}

} // namespace retort
