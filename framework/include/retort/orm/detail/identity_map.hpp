// The identity map of one mapped class: primary key → the session's one object for that row.
//
// Every load of a row looks it up and every flush walks it, so it is laid out for both: the
// entries are a dense vector (a flush scans them in order, with no node to chase), and the
// hash index is an open-addressing table of small slots pointing into it. The key is not
// stored again: it is the entry's InstanceState::identity, which the session keeps unchanged
// while the entry is in the map. A node-based std::unordered_map cost a node allocation and a
// second copy of the key per object, and a third of the time of loading 100k rows.
//
// A map of a few entries has no table at all: it is searched by comparing the entries' hashes.
// Most sessions hold a handful of objects (a get(), an add()), and the table's heap block,
// zeroing and freeing cost more than the search they would save.
#pragma once

#include <retort/core/export.hpp>
#include <retort/orm/instance_state.hpp>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
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
  std::size_t size() const noexcept { return entries_.size(); }
  /// True when empty.
  bool empty() const noexcept { return entries_.empty(); }
  /// The entries in no particular order (dense; erase_at() reorders them).
  std::vector<IdentityEntry>& entries() noexcept { return entries_; }
  /// The entries, read-only.
  const std::vector<IdentityEntry>& entries() const noexcept { return entries_; }
  /// First entry (iteration order is the dense vector's).
  auto begin() noexcept { return entries_.begin(); }
  /// Past the last entry.
  auto end() noexcept { return entries_.end(); }

private:
  // A slot is 0 when empty, else the entry's index + 1; the hash is kept in the entry, so a
  // slot stays at 4 bytes and growth or deletion never rehashes a key.
  using Slot = std::uint32_t;

  // Up to this many entries, lookups compare the entries' hashes and there is no table.
  static constexpr std::size_t linear_max = 8;

  // The entry with `key` found by walking the entries (while there is no table), or nullptr.
  IdentityEntry* search(std::string_view key, std::uint64_t hash) noexcept {
    for (IdentityEntry& entry : entries_)
      if (entry.hash == hash && entry.state->identity == key) return &entry;
    return nullptr;
  }
  // The slot holding `key`, or the empty slot where its probe run ends (slots_ not empty).
  // Defined here so that it inlines into every lookup (an exported member is otherwise
  // called through the PLT, a few percent of loading a row).
  std::size_t scan(std::string_view key, std::uint64_t hash) const noexcept {
    const std::size_t mask = slots_.size() - 1;
    for (std::size_t s = home(hash);; s = (s + 1) & mask) {
      const Slot slot = slots_[s];
      if (slot == 0 || (entries_[slot - 1].hash == hash && key_at(slot - 1) == key)) return s;
    }
  }
  std::size_t slot_of_index(std::size_t index) const noexcept;
  void remove_slot(std::size_t slot) noexcept;
  void grow();
  std::size_t home(std::uint64_t hash) const noexcept { return hash & (slots_.size() - 1); }
  std::string_view key_at(std::size_t index) const noexcept {
    return entries_[index].state->identity;
  }

  std::vector<IdentityEntry> entries_;
  std::vector<Slot> slots_;
};

} // namespace retort::detail
