// The identity maps of one session, one per mapped class.
//
// A session is often short (a get(), an add() and a commit()) and touches one or two classes,
// so this container is made for that: the first maps live inline in the session (no heap block
// per session, and a lookup compares a pointer or two instead of hashing); further ones go to a
// list. A std::unordered_map cost two heap blocks per session and a hash per lookup. Maps never
// move once made, so a reference to one stays valid while others are added.
#pragma once

#include <retort/orm/detail/identity_map.hpp>

#include <array>
#include <cstddef>
#include <list>
#include <memory>
#include <tuple>
#include <utility>

namespace retort {
class MapperBase;
} // namespace retort

namespace retort::detail {

/// Mapper → its IdentityMap, in order of first use; iterates as pairs (mapper, map).
class IdentityMaps {
public:
  /// One mapper's map.
  using value_type = std::pair<const MapperBase* const, IdentityMap>;

  /// Walks the inline maps, then the listed ones.
  template <typename Owner, typename Value, typename ListIterator> class basic_iterator {
  public:
    /// Position `index` among the inline maps, or `listed` once past them.
    basic_iterator(Owner* owner, std::size_t index, ListIterator listed)
        : owner_(owner), index_(index), listed_(listed) {}
    /// The current (mapper, map) pair.
    Value& operator*() const {
      return index_ < owner_->used_ ? owner_->inline_[index_].item : *listed_;
    }
    /// The current pair's members.
    Value* operator->() const { return &**this; }
    /// The next map.
    basic_iterator& operator++() {
      if (index_ < owner_->used_)
        ++index_;
      else
        ++listed_;
      return *this;
    }
    /// Same position.
    bool operator==(const basic_iterator& other) const {
      return index_ == other.index_ && listed_ == other.listed_;
    }

  private:
    Owner* owner_;
    std::size_t index_;
    ListIterator listed_;
  };
  using iterator = basic_iterator<IdentityMaps, value_type, std::list<value_type>::iterator>;
  using const_iterator =
      basic_iterator<const IdentityMaps, const value_type, std::list<value_type>::const_iterator>;

  IdentityMaps() = default;
  IdentityMaps(const IdentityMaps&) = delete;
  IdentityMaps& operator=(const IdentityMaps&) = delete;
  ~IdentityMaps() { clear(); }

  /// The map of `mapper`, made empty on first use.
  IdentityMap& operator[](const MapperBase* mapper) {
    if (IdentityMap* found = find(mapper)) return *found;
    if (used_ < inline_capacity) {
      auto& slot = inline_[used_];
      std::construct_at(&slot.item, std::piecewise_construct, std::forward_as_tuple(mapper),
                        std::tuple<>());
      ++used_;
      return slot.item.second;
    }
    return listed_
        .emplace_back(std::piecewise_construct, std::forward_as_tuple(mapper), std::tuple<>())
        .second;
  }
  /// The map of `mapper`, or nullptr when it has none yet.
  IdentityMap* find(const MapperBase* mapper) noexcept {
    for (std::size_t i = 0; i < used_; ++i)
      if (inline_[i].item.first == mapper) return &inline_[i].item.second;
    for (auto& item : listed_)
      if (item.first == mapper) return &item.second;
    return nullptr;
  }
  /// Number of maps.
  std::size_t size() const noexcept { return used_ + listed_.size(); }
  /// True when no map was made yet.
  bool empty() const noexcept { return used_ == 0; }
  /// Drops every map (and the objects they hold).
  void clear() noexcept {
    for (std::size_t i = 0; i < used_; ++i)
      std::destroy_at(&inline_[i].item);
    used_ = 0;
    listed_.clear();
  }

  /// First map.
  iterator begin() noexcept { return {this, 0, listed_.begin()}; }
  /// Past the last map.
  iterator end() noexcept { return {this, used_, listed_.end()}; }
  /// First map.
  const_iterator begin() const noexcept { return {this, 0, listed_.begin()}; }
  /// Past the last map.
  const_iterator end() const noexcept { return {this, used_, listed_.end()}; }

private:
  // Two covers a class and one related class without making the session object much larger.
  static constexpr std::size_t inline_capacity = 2;

  // Room for one map, built when first used. Not a std::optional: g++ 12 zeroes the whole of
  // an optional's storage when it is made empty, and these are two maps' worth of bytes in
  // every new session.
  union Inline {
    Inline() noexcept {}
    ~Inline() {}
    value_type item;
  };
  std::array<Inline, inline_capacity> inline_;
  std::size_t used_ = 0;
  std::list<value_type> listed_;
};

} // namespace retort::detail
