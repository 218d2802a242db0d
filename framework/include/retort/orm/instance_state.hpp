// The session's bookkeeping for one mapped object. Objects are plain structs, so this state
// cannot live inside them: it lives in the shared_ptr control block of every object the ORM
// hands out (as part of its deleter), where the session, relationship wrappers and
// state_of() can all find it, and where it outlives the session for detached objects. An
// object the application made itself has its state kept beside it (application_states.hpp),
// with the same lifetime.
#pragma once

#include <retort/core/export.hpp>
#include <retort/orm/detail/identity_key.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>

namespace retort {

class MapperBase;

namespace detail {
class SessionCore;
} // namespace detail

/// The lifecycle states of SQLAlchemy.
enum class ObjectState : std::uint8_t {
  /// Not in a session, never persisted.
  transient,
  /// Added to a session, not yet flushed.
  pending,
  /// In a session with a database identity.
  persistent,
  /// Marked for deletion; deleted at the next flush.
  deleted,
  /// Has a database identity but belongs to no session (the session closed, or expunge()).
  detached,
};

/// Name of a state, for messages.
RETORT_API const char* to_string(ObjectState state) noexcept;

/// One bit per relationship of an object's class (bit i: relationship i).
struct RelationshipBits {
  /// Loaded (or assigned) since the last expiry.
  std::uint64_t loaded = 0;
  /// Many-to-one references assigned since the last flush (so that clearing one writes NULL,
  /// while a reference never touched leaves its foreign key member alone).
  std::uint64_t assigned = 0;
  /// Access must raise (a query's raiseload() option).
  std::uint64_t raise = 0;
};

/// What the ORM knows about one object. Internal to the ORM but reachable through inspect().
struct RETORT_API InstanceState {
  InstanceState() = default;
  InstanceState(const InstanceState&) = delete;
  InstanceState& operator=(const InstanceState&) = delete;
  InstanceState(InstanceState&&) noexcept = default;
  InstanceState& operator=(InstanceState&&) noexcept = default;
  virtual ~InstanceState();

  /// The relationship bits, or nullptr when the class has no relationship. They live in the
  /// class's own state (TrackedState<T>): most loaded classes have no relationship, and 24
  /// bytes of bits per object were a tenth of loading 100k of them.
  virtual RelationshipBits* relationship_bits() noexcept { return nullptr; }
  /// As above, read-only.
  const RelationshipBits* relationship_bits() const noexcept {
    return const_cast<InstanceState*>(this)->relationship_bits();
  }
  /// Bit i set when relationship i is loaded (0 for a class without relationships).
  std::uint64_t loaded_relationships() const noexcept {
    const RelationshipBits* bits = relationship_bits();
    return bits == nullptr ? 0 : bits->loaded;
  }
  /// True when relationship `index` is loaded.
  bool relationship_loaded(std::size_t index) const noexcept {
    return (loaded_relationships() >> index) & 1u;
  }
  /// Marks every relationship loaded (`loaded`) or not.
  void set_all_loaded(bool loaded) noexcept {
    if (RelationshipBits* bits = relationship_bits()) bits->loaded = loaded ? ~0ull : 0;
  }
  /// Marks relationship `index` loaded or not (the class has relationships).
  void set_loaded(std::size_t index, bool loaded = true) noexcept {
    RelationshipBits& bits = *relationship_bits();
    bits.loaded = loaded ? bits.loaded | (1ull << index) : bits.loaded & ~(1ull << index);
  }
  /// Bit i set when many-to-one reference i was assigned since the last flush.
  std::uint64_t assigned_references() const noexcept {
    const RelationshipBits* bits = relationship_bits();
    return bits == nullptr ? 0 : bits->assigned;
  }

  /// The mapper of the object's class.
  const MapperBase* mapper = nullptr;
  /// The object itself (a T*).
  void* object = nullptr;
  /// The owning pointer's control block, for handing the object to the other side of a
  /// relationship (empty once the object has died).
  std::weak_ptr<void> self;
  /// The session the object belongs to, or nullptr.
  detail::SessionCore* session = nullptr;
  /// The encoded primary key (identity map key) once known.
  detail::IdentityKey identity;
  // The one-byte members share one word (100k loaded objects are 100k states).
  /// Lifecycle state.
  ObjectState status = ObjectState::transient;
  /// True when the next load of this row overwrites the object's values.
  bool expired = false;
  /// True once a snapshot of the column values has been taken (and until it is invalidated).
  bool has_snapshot = false;
  /// True while the object is on its session's list of objects passed to modified().
  bool flagged_modified = false;
  /// True while objects taken out of its collections when no session watched it wait for the
  /// session it joins next (kept beside the state, see detached_removals.hpp).
  bool detached_removals = false;
};

} // namespace retort
