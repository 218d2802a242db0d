// The snapshot of a std::string member. Snapshots live in the object's control block (see
// TrackedDeleter), so text short enough to sit inline there costs no allocation of its own:
// copying two ~25-character strings into std::string snapshots was two heap blocks per loaded
// object, and a third of the ORM's extra allocations. Longer text goes to the heap as before.
// The full text is kept, not a hash: rollback restores it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

namespace retort::detail {

/// A copy of a string, inline up to `inline_capacity` bytes; 28 bytes.
class SnapshotText {
public:
  /// Most names, codes and short descriptions fit. The length sits in the last byte (a 32-bit
  /// length cost 4 bytes more per text column of every loaded object, and 28 bytes keep the
  /// snapshot 4-byte aligned, so that it packs behind the state's flag bytes).
  static constexpr std::size_t inline_capacity = 27;

  SnapshotText() noexcept { bytes_[tag_at] = 0; }
  /// A copy of `text`.
  explicit SnapshotText(std::string_view text) {
    // Every loaded object's text is snapshotted this way: short text into a new snapshot has
    // no heap block and no overlap to handle, so it is copied here, inline.
    if (text.size() > inline_capacity) {
      bytes_[tag_at] = 0;
      assign(text);
      return;
    }
    if (!text.empty()) std::memcpy(bytes_, text.data(), text.size());
    bytes_[tag_at] = static_cast<char>(text.size());
  }
  SnapshotText(const SnapshotText& other) : SnapshotText() { assign(other.view()); }
  SnapshotText& operator=(const SnapshotText& other) {
    if (this != &other) assign(other.view());
    return *this;
  }
  ~SnapshotText() { release(); }

  /// Replaces the copy with `text`, reusing the heap buffer when it is large enough.
  SnapshotText& operator=(std::string_view text) {
    assign(text);
    return *this;
  }
  /// The text.
  std::string_view view() const noexcept {
    if (!on_heap()) return {bytes_, inline_size()};
    const Heap h = heap();
    return {h.data, h.size};
  }
  /// The text, for assigning back to the member.
  operator std::string_view() const noexcept { return view(); }

  /// Compares with the member's current value.
  friend bool operator==(const std::string& member, const SnapshotText& snapshot) noexcept {
    const std::string_view copy = snapshot.view();
    return member.size() == copy.size() && same_bytes(member.data(), copy.data(), copy.size());
  }

private:
  // The last byte: the length of inline text (0-27), or heap_tag when the text is on the heap,
  // whose block is described by the first 16 bytes (memcpy'd: the bytes have no pointer
  // alignment, which keeps the snapshot at 28 bytes).
  static constexpr std::size_t tag_at = inline_capacity;
  static constexpr char heap_tag = -1;
  struct Heap {
    char* data;
    std::uint32_t size;
    std::uint32_t capacity;
  };
  static_assert(sizeof(Heap) <= tag_at);

  // Every flush compares every held object's text, mostly short and unchanged: word
  // compares inline cost a few instructions where a call to memcmp costs about twenty.
  static bool same_bytes(const char* a, const char* b, std::size_t n) noexcept {
    if (n > 64 || n < 4) return n == 0 || std::memcmp(a, b, n) == 0;
    if (n < 8)
      return load<std::uint32_t>(a) == load<std::uint32_t>(b) &&
             load<std::uint32_t>(a + n - 4) == load<std::uint32_t>(b + n - 4);
    // Up to 32 bytes (most names, codes and descriptions): overlapping words, no loop.
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
  // (assign() releases the block when the text shrinks).
  bool on_heap() const noexcept { return bytes_[tag_at] == heap_tag; }
  std::size_t inline_size() const noexcept { return static_cast<unsigned char>(bytes_[tag_at]); }
  Heap heap() const noexcept {
    Heap h;
    std::memcpy(&h, bytes_, sizeof h);
    return h;
  }

  void assign(std::string_view text) {
    // SQLite and PostgreSQL both cap a value at 1 GiB, so a 32-bit length always suffices.
    if (text.size() > std::numeric_limits<std::uint32_t>::max())
      throw std::length_error("a text value of 4 GiB or more cannot be snapshotted");
    // `text` may be a view of this very snapshot: every path copies it before freeing the
    // block it may point into, and copies with memmove (the ranges may overlap).
    const auto size = static_cast<std::uint32_t>(text.size());
    if (size > inline_capacity) {
      if (on_heap() && heap().capacity >= size) {
        Heap h = heap();
        std::memmove(h.data, text.data(), size);
        h.size = size;
        std::memcpy(bytes_, &h, sizeof h);
      } else {
        const Heap fresh{std::allocator<char>().allocate(size), size, size};
        std::memcpy(fresh.data, text.data(), size);
        release();
        std::memcpy(bytes_, &fresh, sizeof fresh);
        bytes_[tag_at] = heap_tag;
      }
      return;
    }
    if (on_heap()) {
      // Short again: back inline, so a clean object holds no second block.
      const Heap old = heap();
      if (size != 0) std::memmove(bytes_, text.data(), size);
      std::allocator<char>().deallocate(old.data, old.capacity);
    } else if (size != 0) {
      std::memmove(bytes_, text.data(), size);
    }
    bytes_[tag_at] = static_cast<char>(size);
  }

  void release() noexcept {
    if (!on_heap()) return;
    const Heap h = heap();
    std::allocator<char>().deallocate(h.data, h.capacity);
    bytes_[tag_at] = 0;
  }

  char bytes_[inline_capacity + 1];
};

static_assert(sizeof(SnapshotText) == 28);

/// What a column member of type M is snapshotted as.
template <typename M> struct SnapshotMember { using type = M; };
template <> struct SnapshotMember<std::string> { using type = SnapshotText; };

} // namespace retort::detail
