#include <retort/core/error.hpp>
#include <retort/engine/pool.hpp>

#include <utility>

namespace retort {

PooledConnection::PooledConnection(std::shared_ptr<Pool> pool,
                                   std::unique_ptr<DriverConnection> connection,
                                   ConnectionRecord record)
    : pool_(std::move(pool)), connection_(std::move(connection)), record_(record) {}

PooledConnection& PooledConnection::operator=(PooledConnection&& other) noexcept {
  if (this == &other) return *this;
  release();
  pool_ = std::move(other.pool_);
  connection_ = std::move(other.connection_);
  record_ = other.record_;
  invalidated_ = other.invalidated_;
  return *this;
}

PooledConnection::~PooledConnection() { release(); }

void PooledConnection::release() noexcept {
  if (!connection_) return;
  auto pool = std::move(pool_);
  if (pool) pool->checkin(std::move(connection_), record_, invalidated_);
  connection_.reset();
  invalidated_ = false;
}

PoolSlot& PoolSlot::operator=(PoolSlot&& other) noexcept {
  if (this == &other) return *this;
  release();
  pool_ = std::move(other.pool_);
  return *this;
}

PooledConnection PoolSlot::fill(std::unique_ptr<DriverConnection> connection) {
  if (!pool_) throw InvalidStateError("PoolSlot::fill(): no slot is held");
  // The slot is the connection's from here on, even when fill_slot() throws.
  auto pool = std::move(pool_);
  try {
    return pool->fill_slot(std::move(connection));
  } catch (...) {
    pool->release_slot();
    throw;
  }
}

void PoolSlot::release() noexcept {
  if (auto pool = std::move(pool_)) pool->release_slot();
}

PoolWait& PoolWait::operator=(PoolWait&& other) noexcept {
  if (this == &other) return *this;
  cancel();
  pool_ = std::move(other.pool_);
  id_ = other.id_;
  return *this;
}

void PoolWait::cancel() noexcept {
  if (auto pool = std::move(pool_)) pool->cancel_wait(id_);
}

Pool::~Pool() = default;

} // namespace retort
