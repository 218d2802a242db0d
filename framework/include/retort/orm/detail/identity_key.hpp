// The encoded primary key an object's state keeps (see encode_identity()). Every loaded object
// has one, so it is 16 bytes instead of std::string's 32: an integer key (a kind byte and 8
// bytes, the common case) and any key up to 15 bytes sit inline; a longer one (text, composite
// keys) goes to a heap block of its own.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string_view>

namespace retort::detail {

/// An identity-map key, inline up to `inline_capacity` bytes; 16 bytes.
class IdentityKey {
public:
  /// The longest key held without a heap block.
  static constexpr std::size_t inline_capacity = 15;

  IdentityKey() noexcept { bytes_[tag_at] = 0; }
  IdentityKey(const IdentityKey& other) : IdentityKey() { assign(other.view()); }
  IdentityKey(IdentityKey&& other) noexcept {
    std::memcpy(bytes_, other.bytes_, sizeof bytes_);
    other.bytes_[tag_at] = 0; // the heap block, if any, is ours now
  }
  IdentityKey& operator=(const IdentityKey& other) {
    if (this != &other) assign(other.view());
    return *this;
  }
  IdentityKey& operator=(IdentityKey&& other) noexcept {
    if (this == &other) return *this;
    release();
    std::memcpy(bytes_, other.bytes_, sizeof bytes_);
    other.bytes_[tag_at] = 0;
    return *this;
  }
  /// Replaces the key with `key`.
  IdentityKey& operator=(std::string_view key) {
    assign(key);
    return *this;
  }
  ~IdentityKey() { release(); }

  /// The key's bytes.
  std::string_view view() const noexcept {
    if (!on_heap()) return {bytes_, static_cast<std::size_t>(bytes_[tag_at])};
    const Heap h = heap();
    return {h.data, h.size};
  }
  /// The key's bytes, for lookups.
  operator std::string_view() const noexcept { return view(); }
  /// True when no key is set (the object has no database identity yet).
  bool empty() const noexcept { return bytes_[tag_at] == 0; }
  /// Forgets the key.
  void clear() noexcept {
    release();
    bytes_[tag_at] = 0;
  }

  /// Compares the key's bytes.
  friend bool operator==(const IdentityKey& key, std::string_view other) noexcept {
    return key.view() == other;
  }

private:
  // The last byte says where the key is: its length when inline (0-15), heap_tag otherwise.
  static constexpr std::size_t tag_at = 15;
  static constexpr char heap_tag = -1;
  struct Heap {
    char* data;
    std::uint32_t size;
  };
  // Stored unpadded: the pointer in bytes 0-7, the size in bytes 8-11 (memcpy'd: the bytes have
  // no pointer alignment, which keeps the key at 16 bytes and its alignment at 1).
  static constexpr std::size_t size_at = sizeof(char*);
  static_assert(size_at + sizeof(std::uint32_t) <= tag_at);

  bool on_heap() const noexcept { return bytes_[tag_at] == heap_tag; }
  Heap heap() const noexcept {
    Heap h;
    std::memcpy(&h.data, bytes_, sizeof h.data);
    std::memcpy(&h.size, bytes_ + size_at, sizeof h.size);
    return h;
  }
  void set_heap(const Heap& h) noexcept {
    std::memcpy(bytes_, &h.data, sizeof h.data);
    std::memcpy(bytes_ + size_at, &h.size, sizeof h.size);
    bytes_[tag_at] = heap_tag;
  }

  void assign(std::string_view key) {
    if (key.size() > std::numeric_limits<std::uint32_t>::max())
      throw std::length_error("an identity key of 4 GiB or more");
    // `key` may view this very key: copy first, free after.
    if (key.size() <= inline_capacity) {
      if (on_heap()) {
        const Heap old = heap();
        std::memcpy(bytes_, key.data(), key.size());
        std::allocator<char>().deallocate(old.data, old.size);
      } else if (!key.empty()) {
        std::memmove(bytes_, key.data(), key.size());
      }
      bytes_[tag_at] = static_cast<char>(key.size());
      return;
    }
    const Heap fresh{std::allocator<char>().allocate(key.size()),
                     static_cast<std::uint32_t>(key.size())};
    std::memcpy(fresh.data, key.data(), key.size());
    release();
    set_heap(fresh);
  }

  void release() noexcept {
    if (!on_heap()) return;
    const Heap h = heap();
    std::allocator<char>().deallocate(h.data, h.size);
    bytes_[tag_at] = 0;
  }

  char bytes_[16];
};

static_assert(sizeof(IdentityKey) == 16);

} // namespace retort::detail
