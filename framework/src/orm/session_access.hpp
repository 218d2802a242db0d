// The unit of work's and the loaders' view of a session: what a FlushPlan, a LoadPlan, a
// relationship loader and the relationship hooks need of SessionCore beyond its public calls
// (its change tracking, identity maps, object states and row-to-object step), as SQLAlchemy's
// UOWTransaction reaches into the session's state. Internal to the ORM; every call is inline
// and forwards straight to the session, so a plan pays nothing for going through it.
#pragma once

#include <retort/orm/detail/change_tracker.hpp>
#include <retort/orm/detail/session_core.hpp>

#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>

namespace retort::detail {

/// A session seen from inside the ORM (see the file comment); copied freely, it is a pointer.
class SessionAccess {
public:
  using Entry = ChangeTracker::Entry;
  using EntryList = ChangeTracker::EntryList;

  /// The view of `session`.
  explicit SessionAccess(SessionCore& session) noexcept : session_(&session) {}

  /// The session, for its public calls.
  SessionCore& core() const noexcept { return *session_; }
  /// True when `state` belongs to this session.
  bool holds(const InstanceState& state) const noexcept { return state.session == session_; }
  /// The engine.
  const Engine& engine() const noexcept { return session_->engine(); }
  /// The options.
  const SessionOptions& options() const noexcept { return session_->options(); }

  /// The session's change tracking.
  ChangeTracker& changes() const noexcept { return session_->changes_; }
  /// Objects added and not yet flushed, in order.
  EntryList& pending() const noexcept { return changes().pending(); }
  /// Objects marked for deletion.
  EntryList& deleted() const noexcept { return changes().deleted(); }
  /// Association rows to write.
  auto& association_changes() const noexcept { return changes().association_changes(); }
  /// Children removed from a collection.
  auto& orphans() const noexcept { return changes().orphans(); }
  /// The objects flagged since the last flush.
  EntryList& flagged() const noexcept { return changes().flagged(); }
  /// Objects that were inserted by a flush of the current transaction.
  EntryList& inserted_in_transaction() const noexcept {
    return changes().inserted_in_transaction();
  }
  /// Objects deleted by a flush of the current transaction.
  EntryList& deleted_in_transaction() const noexcept { return changes().deleted_in_transaction(); }
  /// True while a savepoint is open.
  bool in_savepoint() const noexcept { return changes().in_savepoint(); }
  /// Keeps the values an UPDATE inside a savepoint overwrites (ChangeTracker).
  void note_savepoint_update(InstanceState& state) const { changes().note_savepoint_update(state); }

  /// Every identity map.
  IdentityMaps& maps() const noexcept { return session_->maps_; }
  /// The identity map of one mapper.
  IdentityMap& identity_map(const MapperBase& mapper) const {
    return session_->identity_map(mapper);
  }
  /// Number of objects in the identity maps.
  std::size_t identity_map_size() const noexcept { return session_->identity_map_size(); }
  /// The state of `object`, creating and recording one for an object made outside the ORM.
  static InstanceState& state_for(const MapperBase& mapper, const std::shared_ptr<void>& object) {
    return SessionCore::state_for(mapper, object);
  }
  /// Puts a just-inserted object in the identity map as persistent (the entry is moved in).
  void make_persistent(Entry entry) const { session_->make_persistent(std::move(entry)); }
  /// Finds or loads the object of a row: identity map first, then a new object.
  std::shared_ptr<void> object_from_row(const MapperBase& mapper, const DriverStatement& row,
                                        int first) const {
    return session_->object_from_row(mapper, row, first);
  }
  /// As above, with `map` the mapper's identity map (looked up once by a load, not per row).
  std::shared_ptr<void> object_from_row(const MapperBase& mapper, IdentityMap& map,
                                        const DriverStatement& row, int first) const {
    return session_->object_from_row(mapper, map, row, first);
  }
  /// Removes `object` from the session (SessionCore::expunge()).
  void expunge(const MapperBase& mapper, const std::shared_ptr<void>& object) const {
    session_->expunge(mapper, object);
  }
  /// Marks `object` for deletion (SessionCore::remove()).
  void remove(const MapperBase& mapper, const std::shared_ptr<void>& object) const {
    session_->remove(mapper, object);
  }

  /// Calls `visit` for every changed persistent object (SessionCore::for_each_changed()).
  void for_each_changed(const SessionCore::ChangedVisitor& visit) const {
    session_->for_each_changed(visit);
  }
  /// True when a persistent object's columns changed since its snapshot.
  bool persistent_changed() const { return session_->persistent_changed(); }
  /// Sets a member the session decides (a foreign key) and flags the object.
  void write_column(InstanceState& state, std::size_t column, const Value& value) const {
    session_->write_column(state, column, value);
  }
  /// Sets the foreign keys of `state` from its loaded many-to-one references.
  void sync_references(InstanceState& state) const { session_->sync_references(state); }
  /// True when `child` still has a parent through `parent_mapper`'s `relationship`.
  bool has_parent(const MapperBase& parent_mapper, std::size_t relationship,
                  const InstanceState& child) const {
    return session_->has_parent(parent_mapper, relationship, child);
  }
  /// `child`, pending here, left the collection of an owner no session has seen.
  void orphaned_outside(const MapperBase& child_mapper, const std::shared_ptr<void>& child) const {
    session_->orphaned_outside(child_mapper, child);
  }
  /// `child` joined a collection no session watches: no longer orphaned outside.
  void clear_orphaned_outside(const void* child) const noexcept {
    session_->clear_orphaned_outside(child);
  }
  /// Loads one relationship of `owner` (lazy loading).
  void load_relationship(InstanceState& owner, std::size_t relationship) const {
    session_->load_relationship(owner, relationship);
  }
  /// Records a change of a relationship member and mirrors it on the other side.
  void relationship_changed(InstanceState& owner, std::size_t relationship,
                            const std::shared_ptr<void>& target, bool added) const {
    session_->relationship_changed(owner, relationship, target, added);
  }

  /// Adds `count` to the session's statements_executed().
  void count_statements(std::uint64_t count) const noexcept { session_->statements_ += count; }

private:
  SessionCore* session_;
};

} // namespace retort::detail
