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

Pool::~Pool() = default;

} // namespace retort
