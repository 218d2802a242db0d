#include "spare_block.hpp"

#include <new>
#include <utility>

namespace retort {

namespace {

// Freed when the thread ends.
struct Spare {
  void* block = nullptr;
  std::size_t size = 0;
  bool ended = false; // destroyed: nothing is kept any more
  Spare() = default;
  Spare(const Spare&) = delete;
  Spare& operator=(const Spare&) = delete;
  // Connections made or destroyed on this thread after this (during static destruction) then
  // neither get the freed block nor leave theirs behind.
  ~Spare() {
    ::operator delete(block, size);
    block = nullptr;
    ended = true;
  }
};

thread_local Spare spare;

} // namespace

void* take_spare_block(std::size_t size) {
  Spare& mine = spare;
  if (mine.block != nullptr && mine.size == size) return std::exchange(mine.block, nullptr);
  return ::operator new(size);
}

void give_spare_block(void* block, std::size_t size) noexcept {
  Spare& mine = spare;
  if (mine.block == nullptr && !mine.ended) {
    mine.block = block;
    mine.size = size;
    return;
  }
  ::operator delete(block, size);
}

} // namespace retort
