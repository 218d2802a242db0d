#include <retort/sql/statement_cache.hpp>

namespace retort {

StatementCache::StatementCache(std::size_t capacity) : capacity_(capacity) {
  index_.reserve(capacity);
}

StatementCache::~StatementCache() = default;

bool StatementCache::lookup(std::string_view key, std::string& sql) {
  std::lock_guard lock(mutex_);
  auto it = index_.find(key);
  if (it == index_.end()) {
    ++misses_;
    return false;
  }
  ++hits_;
  if (it->second != lru_.begin()) lru_.splice(lru_.begin(), lru_, it->second);
  sql = it->second->sql;
  return true;
}

void StatementCache::insert(std::string_view key, std::string sql) {
  if (capacity_ == 0) return;
  std::lock_guard lock(mutex_);
  if (auto it = index_.find(key); it != index_.end()) {
    // Another thread compiled the same shape meanwhile; the text is the same.
    lru_.splice(lru_.begin(), lru_, it->second);
    return;
  }
  if (lru_.size() >= capacity_) {
    index_.erase(lru_.back().key);
    lru_.pop_back();
  }
  lru_.push_front(Entry{std::string(key), std::move(sql)});
  index_.emplace(lru_.front().key, lru_.begin());
}

void StatementCache::clear() {
  std::lock_guard lock(mutex_);
  index_.clear();
  lru_.clear();
}

StatementCacheStats StatementCache::stats() const {
  std::lock_guard lock(mutex_);
  return {hits_, misses_, lru_.size(), capacity_};
}

} // namespace retort
