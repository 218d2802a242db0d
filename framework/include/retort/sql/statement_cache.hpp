// Compiled SQL by statement *shape*: two statements that differ only in their bound values share
// one entry, so compiling a cached statement skips rendering and only collects its values.
#pragma once

#include <retort/core/export.hpp>

#include <cstddef>
#include <cstdint>
#include <list>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace retort {

/// Counters of a StatementCache, for tests and tuning.
struct StatementCacheStats {
  std::uint64_t hits = 0;
  std::uint64_t misses = 0;
  std::size_t size = 0;
  std::size_t capacity = 0;
};

/// A thread-safe, bounded (least recently used first out) map from a statement's shape key to
/// its SQL text. Keys are made by compile(); one cache may serve several dialects.
class RETORT_API StatementCache {
public:
  /// A cache that holds at most `capacity` statements; 0 disables caching.
  explicit StatementCache(std::size_t capacity = 1024);
  ~StatementCache();
  StatementCache(const StatementCache&) = delete;
  StatementCache& operator=(const StatementCache&) = delete;

  /// Copies the SQL cached under `key` into `sql` and returns true; false on a miss.
  bool lookup(std::string_view key, std::string& sql);
  /// Remembers `sql` under `key`, evicting the least recently used entry when full.
  void insert(std::string_view key, std::string sql);
  /// Forgets every entry (counters are kept).
  void clear();
  /// Hits, misses, size and capacity.
  StatementCacheStats stats() const;
  /// The most entries kept.
  std::size_t capacity() const noexcept { return capacity_; }

private:
  struct Entry {
    std::string key;
    std::string sql;
  };
  mutable std::mutex mutex_;
  std::list<Entry> lru_; // most recently used first
  std::unordered_map<std::string_view, std::list<Entry>::iterator> index_;
  std::size_t capacity_;
  std::uint64_t hits_ = 0;
  std::uint64_t misses_ = 0;
};

} // namespace retort
