// The tracked block: where an ORM-made object, its InstanceState and its snapshot live, all
// three inside the object's shared_ptr control block, so that an object costs one allocation
// and the state is found from any shared_ptr to it (std::get_deleter). Mapper<T> builds the
// blocks; everything else reaches the state through MapperBase::state_of().
#pragma once

#include <retort/orm/detail/model_fields.hpp>
#include <retort/orm/detail/snapshot_text.hpp>
#include <retort/orm/instance_state.hpp>

#include <cstddef>
#include <memory>
#include <new>
#include <tuple>
#include <type_traits>
#include <utility>

namespace retort::detail {

/// The snapshot of an object: a tuple of its column members' types.
template <typename T, typename Seq> struct SnapshotOf;
template <typename T, std::size_t... K> struct SnapshotOf<T, std::index_sequence<K...>> {
  using type = std::tuple<typename SnapshotMember<column_member_t<T, K>>::type...>;
};
template <typename T>
using snapshot_t = typename SnapshotOf<T, std::make_index_sequence<column_count<T>>>::type;

/// The relationship bits of a class without relationships: nothing.
struct NoRelationships {};

/// The snapshot of `object`'s column members, built in place.
template <typename T, std::size_t... K>
snapshot_t<T> snapshot_from(const T& object, std::index_sequence<K...>) {
  return snapshot_t<T>(object.*(column_field<T, K>.member)...);
}

/// The state of one object of class T: the session's bookkeeping plus the snapshot of its
/// column values taken at load or flush.
template <typename T> struct TrackedState final : InstanceState {
  TrackedState() = default;
  /// A state whose snapshot is taken from `object` as it is now. A loaded object's snapshot is
  /// built straight from its members: no empty snapshot made first and then assigned over.
  explicit TrackedState(const T& object)
      : snapshot(snapshot_from(object, std::make_index_sequence<column_count<T>>{})) {
    has_snapshot = true;
  }

  /// Meaningful while has_snapshot is set. Not a std::optional: its engaged flag repeated
  /// has_snapshot and cost 4-8 bytes per loaded object.
  snapshot_t<T> snapshot;
  /// The relationship bits, for a class that has relationships.
  [[no_unique_address]] std::conditional_t<has_relationships<T>, RelationshipBits, NoRelationships>
      bits;

  RelationshipBits* relationship_bits() noexcept override {
    if constexpr (has_relationships<T>)
      return &bits;
    else
      return nullptr;
  }
};

/// The deleter of every ORM-made object, which is also where the object and its state live:
/// both are built inside the shared_ptr control block (see Mapper::make_tracked), so an object,
/// its state and its snapshot cost one allocation, and get_deleter() finds the state from any
/// shared_ptr to the object. The pointer handed out aliases the block; the deleter destroys the
/// object in place. Both live in raw storage so that the deleter is cheap to move: libstdc++
/// moves a deleter several times while building the control block, always still empty.
template <typename T> struct TrackedDeleter {
  /// Where the state is built.
  alignas(TrackedState<T>) std::byte state_storage[sizeof(TrackedState<T>)];
  /// Where the object is built.
  alignas(T) std::byte object_storage[sizeof(T)];
  /// The state was built (and is destroyed with the control block).
  bool holds_state = false;
  /// The object was built and not yet destroyed.
  bool holds_object = false;

  TrackedDeleter() noexcept {}
  TrackedDeleter(TrackedDeleter&&) noexcept {}
  TrackedDeleter& operator=(TrackedDeleter&&) = delete;
  // The temporaries libstdc++ moves through are empty: only the control block's own copy
  // holds anything, so the common case is a test inlined where the temporary dies.
  ~TrackedDeleter() {
    if (holds_object || holds_state) destroy_all();
  }

  /// The object's state (valid once holds_state is set).
  TrackedState<T>* state() noexcept {
    return std::launder(reinterpret_cast<TrackedState<T>*>(state_storage));
  }
  /// Called by shared_ptr when the last owner goes: destroys the object, keeps the state.
  void operator()(T*) noexcept {
    // `self` is a weak reference to this very control block: released here, when the object
    // dies, or the block would keep its own weak count above zero and never be freed.
    if (holds_state) state()->self.reset();
    destroy_object();
  }
  /// Destroys the object (unless already gone) and the state.
  void destroy_all() noexcept {
    destroy_object();
    if (holds_state) std::destroy_at(state());
  }
  /// Destroys the object in place, once.
  void destroy_object() noexcept {
    if (!holds_object) return;
    holds_object = false;
    std::destroy_at(std::launder(reinterpret_cast<T*>(object_storage)));
  }
};

} // namespace retort::detail
