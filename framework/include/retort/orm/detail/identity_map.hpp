// The identity map of one mapped class: primary key → the session's one object for that row.
//
// Every load of a row looks it up and every flush walks it, so it is laid out for both: the
// entries are dense segments (a flush scans them in order, with no node to chase), and the hash
// index is an open-addressing table of small slots pointing into them. The key is not stored
// again: it is the entry's InstanceState::identity, which the session keeps unchanged while the
// entry is in the map. A node-based std::unordered_map cost a node allocation and a second copy
// of the key per object, and a third of the time of loading 100k rows.
//
// The segments never move: they double from 4 entries up to 2048 (64 KiB), then stay at that
// size. A single vector left a quarter of its capacity unused on average (31 % at 100k entries:
// 10 bytes per loaded object) and copied every entry, into fresh pages, at each doubling.
//
// A map of a few entries has no table at all and no heap block: its entries are in the first
// segment, which lives inside the map, and it is searched by comparing the entries' hashes.
// Most sessions hold a handful of objects (a get(), an add()); a first segment on the heap cost
// two allocations per session (the segment and the list of segments) and their frees, 5 % of
// a get() in a new session, and a table more than the search it would save.
#pragma once

#include <retort/core/export.hpp>
#include <retort/orm/instance_state.hpp>

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <iterator>
#include <memory>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

namespace retort::detail {

/// One object known to a session: the owning pointer and its state.
struct IdentityEntry {
  IdentityEntry() = default;
  /// An entry for `object`, whose state is `state`.
  IdentityEntry(std::shared_ptr<void> object_, InstanceState* state_)
      : object(std::move(object_)), state(state_) {}

  std::shared_ptr<void> object;
  InstanceState* state = nullptr;
  /// The key's hash, set by the map (moving a slot must not rehash the key).
  std::uint64_t hash = 0;
};

/// True when nothing but the identity map can reach the entry's object: the application holds
/// no pointer to it and no reference was assigned on it since the last flush. (Whether a
/// many-to-one Ref elsewhere can still point at it is the caller's question: it depends on
/// the class.)
inline bool only_the_map_holds(const IdentityEntry& entry) noexcept {
  return entry.object.use_count() == 1 && entry.state->assigned_references() == 0;
}

/// Primary key (encoded, see encode_identity()) → entry, for one mapper.
class RETORT_API IdentityMap {
public:
  IdentityMap() noexcept = default;
  // Entries of the first segment live inside the map, and a probe points at them.
  IdentityMap(const IdentityMap&) = delete;
  IdentityMap& operator=(const IdentityMap&) = delete;

  /// The hash of an encoded key, for find()/insert() pairs that should hash once.
  // Encoded keys are short (an integer key is a kind byte and 8 bytes), and every loaded row
  // hashes one: two overlapping 8-byte reads folded by one 128-bit multiply (the mixing step of
  // wyhash) cost a few instructions where std::hash's byte loop and call cost about fifty. The
  // fold spreads every input bit into the low bits that choose a slot. Inline: a call per row.
  static std::uint64_t hash(std::string_view key) noexcept {
    if (key.size() < 8 || key.size() > 16) return std::hash<std::string_view>{}(key);
    std::uint64_t first = 0;
    std::uint64_t last = 0;
    std::memcpy(&first, key.data(), sizeof first);
    std::memcpy(&last, key.data() + key.size() - sizeof last, sizeof last);
    __extension__ using Wide = unsigned __int128;
    const Wide product = Wide(first ^ 0x9e3779b97f4a7c15ull) *
                         Wide(last ^ 0xe7037ed1a0b428dbull ^ std::uint64_t(key.size()));
    return std::uint64_t(product) ^ std::uint64_t(product >> 64);
  }

  /// The entry whose key is `key`, or nullptr.
  IdentityEntry* find(std::string_view key) noexcept { return find(key, hash(key)); }
  /// As find(), with the key's hash already computed.
  IdentityEntry* find(std::string_view key, std::uint64_t hash) noexcept;
  /// Adds `entry` under its state's identity unless that key is present; returns the entry in
  /// the map and whether it was added.
  std::pair<IdentityEntry*, bool> try_emplace(IdentityEntry entry);
  /// Adds `entry` under its state's identity, replacing an entry with the same key.
  void insert_or_assign(IdentityEntry entry);
  /// Where a key is, or where it would go: one probe serves a lookup and the insertion after
  /// it (loading a row). Valid until the map next changes.
  struct Probe {
    /// The entry with the key, or nullptr.
    IdentityEntry* found;
    /// When not found: the free slot the key's entry goes into (unused while there is no
    /// table).
    std::size_t slot;
  };
  /// Looks `key` up, first making room for one more entry (so that the free slot found stays
  /// valid for insert_at()).
  Probe probe(std::string_view key, std::uint64_t hash);
  /// Adds `entry` (hashing to `hash`) at the free slot of a probe that did not find its key.
  IdentityEntry& insert_at(const Probe& probe, IdentityEntry entry, std::uint64_t hash);
  /// Removes the entry with key `key`, if any.
  void erase(std::string_view key) noexcept;
  /// Removes the entry at position `index`; the last entry moves into its place.
  void erase_at(std::size_t index) noexcept;
  /// Removes everything.
  void clear() noexcept;

  /// Number of entries.
  std::size_t size() const noexcept { return size_; }
  /// True when empty.
  bool empty() const noexcept { return size_ == 0; }
  /// The entry at position `index` (< size()); positions are dense, in no particular order
  /// (erase_at() moves the last entry into the hole).
  IdentityEntry& at(std::size_t index) noexcept {
    const auto [segment, offset] = locate(index);
    return segment_start(segment)[offset];
  }
  /// As above, read-only.
  const IdentityEntry& at(std::size_t index) const noexcept {
    const auto [segment, offset] = locate(index);
    return segment_start(segment)[offset];
  }
  /// The entries from position `index` (< size()) to the end of its segment: a run a scan can
  /// walk without locating each entry.
  std::span<IdentityEntry> run_from(std::size_t index) noexcept {
    const auto [segment, offset] = locate(index);
    const std::size_t length = std::min(segment_size(segment) - offset, size_ - index);
    return {segment_start(segment) + offset, length};
  }

  /// Walks the entries by position.
  template <typename Map, typename Entry> class basic_iterator {
  public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = IdentityEntry;
    using difference_type = std::ptrdiff_t;
    using pointer = Entry*;
    using reference = Entry&;
    basic_iterator() = default;
    /// Position `index` of `map`.
    basic_iterator(Map* map, std::size_t index) : map_(map), index_(index) {}
    /// The entry.
    Entry& operator*() const noexcept { return map_->at(index_); }
    /// The entry's members.
    Entry* operator->() const noexcept { return &map_->at(index_); }
    /// The next entry.
    basic_iterator& operator++() noexcept {
      ++index_;
      return *this;
    }
    /// The next entry, returning this one.
    basic_iterator operator++(int) noexcept {
      basic_iterator before = *this;
      ++index_;
      return before;
    }
    /// Same position.
    bool operator==(const basic_iterator& other) const noexcept { return index_ == other.index_; }

  private:
    Map* map_ = nullptr;
    std::size_t index_ = 0;
  };
  using iterator = basic_iterator<IdentityMap, IdentityEntry>;
  using const_iterator = basic_iterator<const IdentityMap, const IdentityEntry>;
  /// First entry.
  iterator begin() noexcept { return {this, 0}; }
  /// Past the last entry.
  iterator end() noexcept { return {this, size_}; }
  /// First entry.
  const_iterator begin() const noexcept { return {this, 0}; }
  /// Past the last entry.
  const_iterator end() const noexcept { return {this, size_}; }

private:
  // A slot is 0 when empty, else the entry's index + 1 in its low index_bits_ bits and, above
  // them, as many high bits of the key's hash as fit (the tag). The hash is kept in the entry,
  // so a slot stays at 4 bytes and growth or deletion never rehashes a key. The tag lets a
  // probe pass a slot of another key without reading its entry: with many objects every entry
  // read is a cache miss, and loading a new row probes past one or two such slots.
  using Slot = std::uint32_t;
  // The tag bits of `hash` (bits 32 and up), in place above the index bits.
  Slot tag_of(std::uint64_t hash) const noexcept {
    return static_cast<Slot>((hash >> 32) << index_bits_) & ~index_mask_;
  }
  // The slot of the entry at `index` whose key hashes to `hash`.
  Slot slot_for(std::size_t index, std::uint64_t hash) const noexcept {
    return tag_of(hash) | static_cast<Slot>(index + 1);
  }
  // The position of the entry in a used slot.
  std::size_t index_of(Slot slot) const noexcept { return (slot & index_mask_) - 1; }

  // Segment k holds first_segment << (k - 1) entries (k >= 1), segment 0 first_segment, up to
  // segment_max (a power of two, so that positions map to segments with shifts). Segment 0 is
  // inside the map: 4 entries keep two maps and the rest of a session in one small heap block.
  static constexpr std::size_t first_segment = 4;
  // Up to this many entries, lookups compare the entries' hashes and there is no table: they
  // are all in the first segment.
  static constexpr std::size_t linear_max = first_segment;
  static constexpr std::size_t segment_max = 2048;
  static constexpr std::size_t doubling_segments = std::bit_width(segment_max / first_segment);
  static constexpr std::size_t segment_size(std::size_t segment) noexcept {
    if (segment == 0) return first_segment;
    return segment < doubling_segments ? first_segment << (segment - 1) : segment_max;
  }
  // (segment, offset) of position `index`: below segment_max, segment k starts at
  // first_segment << (k - 1), a power of two; beyond, every segment_max entries is one.
  static std::pair<std::size_t, std::size_t> locate(std::size_t index) noexcept {
    if (index >= segment_max)
      return {doubling_segments - 1 + index / segment_max, index % segment_max};
    const auto segment = static_cast<std::size_t>(std::bit_width(index / first_segment));
    return {segment, segment == 0 ? index : index - (first_segment << (segment - 1))};
  }

  // Where segment `segment` starts.
  IdentityEntry* segment_start(std::size_t segment) noexcept {
    return segment == 0 ? first_.data() : more_[segment - 1].get();
  }
  const IdentityEntry* segment_start(std::size_t segment) const noexcept {
    return segment == 0 ? first_.data() : more_[segment - 1].get();
  }
  // The entry with `key` found by walking the entries (while there is no table, all in the
  // first segment), or nullptr.
  IdentityEntry* search(std::string_view key, std::uint64_t hash) noexcept {
    for (std::size_t i = 0; i < size_; ++i) {
      IdentityEntry& entry = first_[i];
      if (entry.hash == hash && entry.state->identity == key) return &entry;
    }
    return nullptr;
  }
  // The slot holding `key`, or the empty slot where its probe run ends (slots_ not empty).
  // Defined here so that it inlines into every lookup (an exported member is otherwise
  // called through the PLT, a few percent of loading a row).
  std::size_t scan(std::string_view key, std::uint64_t hash) const noexcept {
    const std::size_t mask = slots_.size() - 1;
    const Slot tag = tag_of(hash);
    for (std::size_t s = home(hash);; s = (s + 1) & mask) {
      const Slot slot = slots_[s];
      if (slot == 0) return s;
      if ((slot & ~index_mask_) != tag) continue;
      const IdentityEntry& entry = at(index_of(slot));
      if (entry.hash == hash && entry.state->identity == key) return s;
    }
  }
  std::size_t slot_of_index(std::size_t index) const noexcept;
  void remove_slot(std::size_t slot) noexcept;
  // Points tail_ at position size_ (< capacity_).
  void aim_tail() noexcept;
  void grow();
  std::size_t home(std::uint64_t hash) const noexcept { return hash & (slots_.size() - 1); }

  // Segment 0; positions from size_ on hold empty entries.
  std::array<IdentityEntry, first_segment> first_{};
  // Segments 1 and on.
  std::vector<std::unique_ptr<IdentityEntry[]>> more_;
  std::size_t size_ = 0;
  std::size_t capacity_ = first_segment;
  // Where the next entry goes (position size_), and the end of that position's segment:
  // equal when the segment is full.
  IdentityEntry* tail_ = first_.data();
  IdentityEntry* tail_end_ = first_.data() + first_segment;
  std::vector<Slot> slots_;
  // A slot's index bits: enough for every position while the table is at most half full.
  unsigned index_bits_ = 0;
  Slot index_mask_ = 0;
};

} // namespace retort::detail
