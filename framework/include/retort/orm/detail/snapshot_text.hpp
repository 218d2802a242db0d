// The snapshot of a std::string member. Snapshots live in the object's control block (see
// TrackedDeleter), so text short enough to sit inline there costs no allocation of its own:
// copying two ~25-character strings into std::string snapshots was two heap blocks per loaded
// object, and a third of the ORM's extra allocations. Longer text goes to the heap as before.
// The full text is kept, not a hash: rollback restores it.
#pragma once

#include <cstddef>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

namespace retort::detail {

/// A copy of a string, inline up to `inline_capacity` bytes.
class SnapshotText {
public:
  /// Most names, codes and short descriptions fit; the object stays one cache-friendly block.
  static constexpr std::size_t inline_capacity = 40;

  SnapshotText() noexcept = default;
  /// A copy of `text`.
  explicit SnapshotText(std::string_view text) { assign(text); }
  SnapshotText(const SnapshotText& other) { assign(other.view()); }
  SnapshotText& operator=(const SnapshotText& other) {
    if (this != &other) assign(other.view());
    return *this;
  }
  ~SnapshotText() = default;

  /// Replaces the copy with `text`, reusing the heap buffer when it is large enough.
  SnapshotText& operator=(std::string_view text) {
    assign(text);
    return *this;
  }
  /// The text.
  std::string_view view() const noexcept {
    return {size_ <= inline_capacity ? inline_ : heap_.get(), size_};
  }
  /// The text, for assigning back to the member.
  operator std::string_view() const noexcept { return view(); }

  /// Compares with the member's current value.
  friend bool operator==(const std::string& member, const SnapshotText& snapshot) noexcept {
    return std::string_view(member) == snapshot.view();
  }

private:
  void assign(std::string_view text) {
    if (text.size() > inline_capacity && text.size() > heap_capacity_) {
      heap_ = std::make_unique_for_overwrite<char[]>(text.size());
      heap_capacity_ = text.size();
    }
    char* target = text.size() <= inline_capacity ? inline_ : heap_.get();
    if (!text.empty()) std::memcpy(target, text.data(), text.size());
    size_ = text.size();
  }

  std::size_t size_ = 0;
  std::size_t heap_capacity_ = 0;
  std::unique_ptr<char[]> heap_;
  char inline_[inline_capacity];
};

/// What a column member of type M is snapshotted as.
template <typename M> struct SnapshotMember { using type = M; };
template <> struct SnapshotMember<std::string> { using type = SnapshotText; };

} // namespace retort::detail
