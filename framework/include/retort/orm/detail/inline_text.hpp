// Text held inline up to a fixed size and in a heap block of its own beyond it. Every loaded
// object carries two kinds of such text: its encoded primary key (IdentityKey) and the snapshot
// of each string member (SnapshotText). Both sit in the object's control block, where a
// std::string (32 bytes, plus a heap block past 15 characters) was the largest part of the
// bookkeeping per object. One template serves both; they differ in size and in whether the
// heap block remembers a capacity of its own (see identity_key.hpp, snapshot_text.hpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string_view>

namespace retort::detail {

/// Whether an InlineText's heap block may be larger than its text (and so be reused).
enum class HeapCapacity : std::uint8_t {
  exact, ///< The block is as long as the text: 4 bytes less, but every new text reallocates.
  kept,  ///< The block keeps its size while shorter text is written into it.
};

/// A copy of a text, inline up to `Size - 1` bytes and on the heap beyond; `Size` bytes.
template <std::size_t Size, HeapCapacity Capacity> class InlineText {
public:
  /// The longest text held without a heap block.
  static constexpr std::size_t inline_capacity = Size - 1;

  InlineText() noexcept { bytes_[tag_at] = 0; }
  /// A copy of `text`.
  explicit InlineText(std::string_view text) {
    // Every loaded object's key and text members are copied this way: short text into a new
    // copy has no heap block and no overlap to handle, so it is copied here, inline.
    if (text.size() > inline_capacity) {
      bytes_[tag_at] = 0;
      assign(text);
      return;
    }
    if (!text.empty()) std::memcpy(bytes_, text.data(), text.size());
    bytes_[tag_at] = static_cast<char>(text.size());
  }
  InlineText(const InlineText& other) : InlineText(other.view()) {}
  InlineText(InlineText&& other) noexcept {
    std::memcpy(bytes_, other.bytes_, sizeof bytes_);
    other.bytes_[tag_at] = 0; // the heap block, if any, is ours now
  }
  InlineText& operator=(const InlineText& other) {
    if (this != &other) assign(other.view());
    return *this;
  }
  InlineText& operator=(InlineText&& other) noexcept {
    if (this == &other) return *this;
    release();
    std::memcpy(bytes_, other.bytes_, sizeof bytes_);
    other.bytes_[tag_at] = 0;
    return *this;
  }
  /// Replaces the text with `text` (which may view this very text).
  InlineText& operator=(std::string_view text) {
    assign(text);
    return *this;
  }
  ~InlineText() { release(); }

  /// The text.
  std::string_view view() const noexcept {
    if (!on_heap()) return {bytes_, inline_size()};
    const Heap h = heap();
    return {h.data, h.size};
  }
  /// The text, for lookups and for assigning back to a member.
  operator std::string_view() const noexcept { return view(); }
  /// True when the text is empty.
  bool empty() const noexcept { return bytes_[tag_at] == 0; }
  /// Empties the text and frees its heap block.
  void clear() noexcept { release(); }

  /// Compares the bytes (a std::string member converts to the view).
  friend bool operator==(const InlineText& text, std::string_view other) noexcept {
    const std::string_view mine = text.view();
    return mine.size() == other.size() && same_bytes(mine.data(), other.data(), other.size());
  }

private:
  // The last byte says where the text is: its length when inline (0 to inline_capacity), or
  // heap_tag when the first bytes describe a heap block. They are memcpy'd in and out: the
  // bytes have no pointer alignment, which keeps the type at exactly `Size` bytes, alignment 1.
  static constexpr std::size_t tag_at = Size - 1;
  static constexpr char heap_tag = -1;
  static constexpr bool keeps_capacity = Capacity == HeapCapacity::kept;
  struct Heap {
    char* data;
    std::uint32_t size;
    std::uint32_t capacity; // stored only when keeps_capacity; otherwise equal to size
  };
  static constexpr std::size_t heap_bytes =
      sizeof(char*) + sizeof(std::uint32_t) * (keeps_capacity ? 2 : 1);
  static_assert(inline_capacity < static_cast<unsigned char>(heap_tag),
                "the inline length must not collide with the heap tag");
  static_assert(heap_bytes <= tag_at, "the heap block's description must fit before the tag");

  // Keys are looked up and text members compared at every flush, mostly short and unchanged:
  // word compares inline cost a few instructions where a call to memcmp costs about twenty.
  static bool same_bytes(const char* a, const char* b, std::size_t n) noexcept {
    if (n > 64 || n < 4) return n == 0 || std::memcmp(a, b, n) == 0;
    if (n < 8)
      return load<std::uint32_t>(a) == load<std::uint32_t>(b) &&
             load<std::uint32_t>(a + n - 4) == load<std::uint32_t>(b + n - 4);
    // Up to 32 bytes (most keys, names, codes and descriptions): overlapping words, no loop.
    if (n <= 16) return (word_xor(a, b, 0) | word_xor(a, b, n - 8)) == 0;
    if (n <= 32)
      return (word_xor(a, b, 0) | word_xor(a, b, 8) | word_xor(a, b, n - 16) |
              word_xor(a, b, n - 8)) == 0;
    for (std::size_t i = 0; i + 8 < n; i += 8)
      if (load<std::uint64_t>(a + i) != load<std::uint64_t>(b + i)) return false;
    return load<std::uint64_t>(a + n - 8) == load<std::uint64_t>(b + n - 8); // the tail
  }
  static std::uint64_t word_xor(const char* a, const char* b, std::size_t at) noexcept {
    return load<std::uint64_t>(a + at) ^ load<std::uint64_t>(b + at);
  }
  template <typename Word> static Word load(const char* p) noexcept {
    Word w;
    std::memcpy(&w, p, sizeof w);
    return w;
  }

  // Text longer than the inline bytes always lives on the heap, and shorter text never does
  // (assign() frees the block when the text shrinks), so a short text holds no second block.
  bool on_heap() const noexcept { return bytes_[tag_at] == heap_tag; }
  std::size_t inline_size() const noexcept { return static_cast<unsigned char>(bytes_[tag_at]); }
  Heap heap() const noexcept {
    Heap h;
    std::memcpy(&h, bytes_, heap_bytes);
    if constexpr (!keeps_capacity) h.capacity = h.size;
    return h;
  }
  void set_heap(const Heap& h) noexcept {
    std::memcpy(bytes_, &h, heap_bytes);
    bytes_[tag_at] = heap_tag;
  }
  // An exact block can take only text of its own length: its size is what frees it.
  static bool fits(const Heap& h, std::uint32_t size) noexcept {
    return keeps_capacity ? h.capacity >= size : h.capacity == size;
  }

  void assign(std::string_view text) {
    // SQLite and PostgreSQL both cap a value at 1 GiB, so a 32-bit length always suffices.
    if (text.size() > std::numeric_limits<std::uint32_t>::max())
      throw std::length_error("retort: a text of 4 GiB or more cannot be held as a key or "
                              "snapshot");
    // `text` may be a view of this very text: every path copies it before freeing the block
    // it may point into, and copies with memmove (the ranges may overlap).
    const auto size = static_cast<std::uint32_t>(text.size());
    if (size > inline_capacity) {
      if (on_heap() && fits(heap(), size)) {
        Heap h = heap();
        std::memmove(h.data, text.data(), size);
        h.size = size;
        set_heap(h);
        return;
      }
      const Heap fresh{std::allocator<char>().allocate(size), size, size};
      std::memcpy(fresh.data, text.data(), size);
      release();
      set_heap(fresh);
      return;
    }
    if (on_heap()) {
      const Heap old = heap();
      if (size != 0) std::memmove(bytes_, text.data(), size);
      std::allocator<char>().deallocate(old.data, old.capacity);
    } else if (size != 0) {
      std::memmove(bytes_, text.data(), size);
    }
    bytes_[tag_at] = static_cast<char>(size);
  }

  void release() noexcept {
    if (on_heap()) {
      const Heap h = heap();
      std::allocator<char>().deallocate(h.data, h.capacity);
    }
    bytes_[tag_at] = 0;
  }

  char bytes_[Size];
};

} // namespace retort::detail
