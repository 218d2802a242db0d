// A per-thread spare heap block for the shared state of Connections. Internal to the engine
// layer.
#pragma once

#include <cstddef>

namespace retort {

/// A block of `size` bytes: this thread's spare one when it has one of that size, else new.
void* take_spare_block(std::size_t size);
/// Keeps `block` (of `size` bytes) as this thread's spare when it has none, else frees it.
void give_spare_block(void* block, std::size_t size) noexcept;

/// Allocates through the per-thread spare block: every session checks a connection out and
/// back in per transaction, and a malloc and free of the state's block cost a third of that.
/// Blocks of other sizes, and a second block at once, go to the heap.
template <typename T> struct SpareBlockAllocator {
  using value_type = T;
  SpareBlockAllocator() = default;
  template <typename U> SpareBlockAllocator(const SpareBlockAllocator<U>&) noexcept {}
  T* allocate(std::size_t n) { return static_cast<T*>(take_spare_block(n * sizeof(T))); }
  void deallocate(T* block, std::size_t n) noexcept { give_spare_block(block, n * sizeof(T)); }
  friend bool operator==(SpareBlockAllocator, SpareBlockAllocator) noexcept { return true; }
};

} // namespace retort
