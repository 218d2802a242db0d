// Open addressing with linear probing and backward-shift deletion (no tombstones, so lookups
// stay short however many objects come and go through a long session).
#include <retort/orm/detail/identity_map.hpp>

#include <algorithm>
#include <bit>
#include <cstring>
#include <functional>
#include <limits>
#include <stdexcept>

namespace retort::detail {
namespace {

// Kept at most half full: linear probing's expected probe length grows quickly beyond that,
// and a slot is only 4 bytes.
constexpr std::size_t min_slots = 16;

} // namespace

std::size_t IdentityMap::slot_of_index(std::size_t index) const noexcept {
  const std::size_t mask = slots_.size() - 1;
  for (std::size_t s = home(at(index).hash);; s = (s + 1) & mask)
    if (slots_[s] != 0 && index_of(slots_[s]) == index) return s;
}

IdentityEntry* IdentityMap::find(std::string_view key, std::uint64_t hash) noexcept {
  if (slots_.empty()) return search(key, hash);
  const Slot slot = slots_[scan(key, hash)];
  return slot == 0 ? nullptr : &at(index_of(slot));
}

IdentityMap::Probe IdentityMap::probe(std::string_view key, std::uint64_t hash) {
  // Without a table while the entry to come still fits the few a search walks.
  if (slots_.empty() && size_ < linear_max) return {search(key, hash), 0};
  if ((size_ + 1) * 2 > slots_.size()) grow();
  const std::size_t s = scan(key, hash);
  return {slots_[s] == 0 ? nullptr : &at(index_of(slots_[s])), s};
}

IdentityEntry& IdentityMap::insert_at(const Probe& probe, IdentityEntry entry, std::uint64_t hash) {
  if (size_ >= std::numeric_limits<Slot>::max() - 1)
    throw std::length_error("identity map: too many objects in one session");
  if (tail_ == tail_end_) {
    // The tail's segment is full: on to the next one, made now unless an earlier, larger
    // size of the map left it.
    if (size_ == capacity_) {
      const std::size_t length = segment_size(more_.size() + 1);
      more_.push_back(std::make_unique<IdentityEntry[]>(length));
      capacity_ += length;
    }
    aim_tail();
  }
  entry.hash = hash;
  IdentityEntry& placed = *tail_++;
  placed = std::move(entry);
  ++size_;
  if (!slots_.empty()) slots_[probe.slot] = slot_for(size_ - 1, hash);
  return placed;
}

std::pair<IdentityEntry*, bool> IdentityMap::try_emplace(IdentityEntry entry) {
  const std::string_view key = entry.state->identity;
  const std::uint64_t h = hash(key);
  const Probe found = probe(key, h);
  if (found.found != nullptr) return {found.found, false};
  return {&insert_at(found, std::move(entry), h), true};
}

void IdentityMap::insert_or_assign(IdentityEntry entry) {
  const std::string_view key = entry.state->identity;
  const std::uint64_t h = hash(key);
  const Probe found = probe(key, h);
  if (found.found == nullptr) {
    insert_at(found, std::move(entry), h);
    return;
  }
  entry.hash = h;
  *found.found = std::move(entry);
}

void IdentityMap::erase(std::string_view key) noexcept {
  IdentityEntry* found = find(key);
  if (found == nullptr) return;
  // The entry's position: its slot's, or (without a table) its place in the first segment.
  if (slots_.empty()) {
    erase_at(static_cast<std::size_t>(found - first_.data()));
    return;
  }
  erase_at(index_of(slots_[scan(key, found->hash)]));
}

void IdentityMap::erase_at(std::size_t index) noexcept {
  const std::size_t last = size_ - 1;
  if (!slots_.empty()) {
    remove_slot(slot_of_index(index));
    // The last entry moves into the hole; its slot follows it.
    if (index != last) {
      Slot& slot = slots_[slot_of_index(last)];
      slot = (slot & ~index_mask_) | static_cast<Slot>(index + 1);
    }
  }
  // The last position is located once: it is both the entry that moves and the new tail.
  const auto [segment, offset] = locate(last);
  IdentityEntry* const start = segment_start(segment);
  IdentityEntry* const moved = start + offset;
  if (index != last) at(index) = std::move(*moved);
  *moved = IdentityEntry(); // lets go of the object now, not when the position is reused
  --size_;
  tail_ = moved;
  tail_end_ = start + segment_size(segment);
}

void IdentityMap::aim_tail() noexcept {
  const auto [segment, offset] = locate(size_);
  IdentityEntry* const start = segment_start(segment);
  tail_ = start + offset;
  tail_end_ = start + segment_size(segment);
}

void IdentityMap::remove_slot(std::size_t hole) noexcept {
  // Backward shift: later members of the probe run move up into the hole when their home
  // position allows it, so a lookup never meets a gap before its key.
  const std::size_t mask = slots_.size() - 1;
  slots_[hole] = 0;
  for (std::size_t s = (hole + 1) & mask; slots_[s] != 0; s = (s + 1) & mask) {
    const std::size_t want = home(at(index_of(slots_[s])).hash);
    // Movable when `want` is not cyclically within (hole, s].
    const bool movable = hole <= s ? (want <= hole || want > s) : (want <= hole && want > s);
    if (!movable) continue;
    slots_[hole] = slots_[s];
    slots_[s] = 0;
    hole = s;
  }
}

void IdentityMap::grow() {
  // The first table comes with the entry after linear_max: room for it at half load.
  std::size_t size = slots_.empty() ? min_slots : slots_.size() * 2;
  while (size < (size_ + 1) * 2)
    size *= 2;
  slots_.assign(size, 0);
  // At most half full, so positions + 1 stay below `size`: log2(size) bits hold them.
  index_bits_ = std::min<unsigned>(static_cast<unsigned>(std::countr_zero(size)),
                                   std::numeric_limits<Slot>::digits);
  index_mask_ = index_bits_ == std::numeric_limits<Slot>::digits
                    ? std::numeric_limits<Slot>::max()
                    : static_cast<Slot>((Slot{1} << index_bits_) - 1);
  const std::size_t mask = slots_.size() - 1;
  for (std::size_t i = 0; i < size_;) {
    // Segment by segment: no position to locate per entry.
    for (const IdentityEntry& entry : run_from(i)) {
      std::size_t s = home(entry.hash);
      while (slots_[s] != 0)
        s = (s + 1) & mask;
      slots_[s] = slot_for(i++, entry.hash);
    }
  }
}

void IdentityMap::clear() noexcept {
  for (std::size_t i = 0; i < std::min(size_, first_segment); ++i)
    first_[i] = IdentityEntry();
  more_.clear();
  size_ = 0;
  capacity_ = first_segment;
  tail_ = first_.data();
  tail_end_ = first_.data() + first_segment;
  slots_.clear();
  index_bits_ = 0;
  index_mask_ = 0;
}

} // namespace retort::detail
