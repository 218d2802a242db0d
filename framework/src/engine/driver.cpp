#include <retort/engine/driver.hpp>

namespace retort {

DriverStatement::~DriverStatement() = default;
PendingConnection::~PendingConnection() = default;
WouldWaitError::~WouldWaitError() = default;

DriverConnection::DriverConnection() = default;

DriverConnection::~DriverConnection() {
  // Statements must be finalized before the derived class closes the handle; the derived
  // destructor has already run here, so drivers call clear_statement_cache() in theirs.
  clear_statement_cache();
}

DriverStatement& DriverConnection::cached_statement(const std::string& sql) {
  if (auto found = by_sql_.find(sql); found != by_sql_.end()) {
    lru_.splice(lru_.begin(), lru_, found->second);
    DriverStatement& statement = *found->second->second;
    statement.reset();
    return statement;
  }
  auto statement = prepare(sql);
  ++statements_prepared_;
  lru_.emplace_front(sql, std::move(statement));
  by_sql_.emplace(lru_.front().first, lru_.begin());
  if (lru_.size() > statement_cache_capacity) {
    by_sql_.erase(lru_.back().first);
    lru_.pop_back();
  }
  return *lru_.front().second;
}

DriverStatement* DriverConnection::find_cached_statement(const std::string& sql) noexcept {
  auto found = by_sql_.find(sql);
  if (found == by_sql_.end()) return nullptr;
  // Looked up to be used, mostly: it counts as recent (splice never throws or allocates). A
  // statement run again and again is already the most recent one.
  if (found->second != lru_.begin()) lru_.splice(lru_.begin(), lru_, found->second);
  return found->second->second.get();
}

const std::string* DriverConnection::pipelined_statement(const std::string& sql) const noexcept {
  auto found = pipelined_.find(sql);
  return found == pipelined_.end() ? nullptr : &found->second;
}

const std::string* DriverConnection::add_pipelined_statement(const std::string& sql) {
  if (pipelined_.size() >= statement_cache_capacity) return nullptr;
  auto [it, inserted] =
      pipelined_.try_emplace(sql, "rpipe_" + std::to_string(++pipelined_counter_));
  return &it->second;
}

void DriverConnection::clear_statement_cache() noexcept {
  by_sql_.clear();
  lru_.clear();
}

} // namespace retort
