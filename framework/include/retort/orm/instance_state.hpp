// The session's bookkeeping for one mapped object. Objects are plain structs, so this state
// cannot live inside them: it lives in the shared_ptr control block of every object the ORM
// hands out (as part of its deleter), where the session, relationship wrappers and
// state_of() can all find it, and where it outlives the session for detached objects.
#pragma once

#include <retort/core/export.hpp>

#include <cstdint>
#include <memory>
#include <string>

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

/// What the ORM knows about one object. Internal to the ORM but reachable through inspect().
struct RETORT_API InstanceState {
  InstanceState() = default;
  InstanceState(const InstanceState&) = delete;
  InstanceState& operator=(const InstanceState&) = delete;
  InstanceState(InstanceState&&) noexcept = default;
  InstanceState& operator=(InstanceState&&) noexcept = default;
  virtual ~InstanceState();

  /// The mapper of the object's class.
  const MapperBase* mapper = nullptr;
  /// The object itself (a T*).
  void* object = nullptr;
  /// The owning pointer's control block, for handing the object to the other side of a
  /// relationship (empty for objects the application made and owns itself).
  std::weak_ptr<void> self;
  /// The session the object belongs to, or nullptr.
  detail::SessionCore* session = nullptr;
  /// The encoded primary key (identity map key) once known.
  std::string identity;
  // The four one-byte members share one word (100k loaded objects are 100k states).
  /// Lifecycle state.
  ObjectState status = ObjectState::transient;
  /// True when the next load of this row overwrites the object's values.
  bool expired = false;
  /// True once a snapshot of the column values has been taken.
  bool has_snapshot = false;
  /// True while the object is on its session's list of objects passed to modified().
  bool flagged_modified = false;
  /// One bit per relationship: loaded (or assigned) since the last expiry.
  std::uint64_t loaded_relationships = 0;
  /// One bit per many-to-one reference assigned since the last flush (so that clearing one
  /// writes NULL, while a reference never touched leaves its foreign key member alone).
  std::uint64_t assigned_references = 0;
  /// One bit per relationship whose access must raise (a query's raiseload() option).
  std::uint64_t raise_relationships = 0;
};

} // namespace retort
