// Change tracking: what a session has changed and not yet flushed (new and deleted objects,
// association rows, orphans, objects flagged as modified), what the flushes of its transaction
// did (inserted and deleted objects, for a rollback), and what its savepoints must be able to
// undo. SessionCore holds one by value, so its layout is in an installed header; only the
// session, the unit of work and the loaders (libretort) use it.
#pragma once

#include <retort/core/value.hpp>
#include <retort/orm/detail/identity_map.hpp>
#include <retort/orm/detail/identity_maps.hpp>
#include <retort/orm/instance_state.hpp>

#include <boost/container/small_vector.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

namespace retort {

class MapperBase;

namespace detail {

class SessionCore;

/// The change-tracking books of one session (see the file comment).
class ChangeTracker {
public:
  /// An object of the session and its state.
  using Entry = IdentityEntry;
  /// A list of objects: the lists mostly hold none or one (a get(), an add() and a commit()),
  /// which then cost no heap block.
  using EntryList = boost::container::small_vector<Entry, 1>;
  /// A row of a many-to-many association table to insert (`added`) or delete.
  struct AssociationChange {
    const MapperBase* mapper;
    std::size_t relationship;
    std::shared_ptr<void> owner;
    std::shared_ptr<void> target;
    bool added;
  };
  /// A child taken out of a collection: deleted at the flush (delete-orphan) unless another
  /// parent holds it then, or its foreign key cleared.
  struct Orphan {
    const MapperBase* parent_mapper;
    std::size_t relationship;
    std::shared_ptr<void> child;
    Value parent_key;
    /// Taken out of a collection no session watched (SQLAlchemy's "orphaned outside of
    /// session" mark): add() and the child's next parent clear it.
    bool outside = false;
  };
  /// Where the transaction's lists stood when a savepoint began.
  struct SavepointMark {
    std::uint32_t id;
    std::size_t inserted;
    std::size_t deleted;
    std::size_t updates;
  };

  /// Objects added and not yet flushed, in order.
  EntryList& pending() noexcept { return pending_; }
  /// Objects marked for deletion.
  EntryList& deleted() noexcept { return deleted_; }
  /// Association rows to write.
  std::vector<AssociationChange>& association_changes() noexcept { return associations_; }
  /// Children removed from a collection.
  std::vector<Orphan>& orphans() noexcept { return orphans_; }
  /// The objects flagged since the last flush (see SessionOptions::autodetect_changes).
  EntryList& flagged() noexcept { return modified_; }
  /// Objects that were inserted by a flush of the current transaction.
  EntryList& inserted_in_transaction() noexcept { return inserted_; }
  /// Objects deleted by a flush of the current transaction.
  EntryList& deleted_in_transaction() noexcept { return deleted_in_tx_; }

  /// True when new or deleted objects, association rows or orphans wait for a flush.
  bool has_unflushed() const noexcept {
    return !pending_.empty() || !deleted_.empty() || !associations_.empty() || !orphans_.empty();
  }
  /// Records `state` (of `object`) as flagged modified.
  void flag(std::shared_ptr<void> object, InstanceState& state) {
    modified_.push_back(Entry{std::move(object), &state});
    state.flagged_modified = true;
  }
  /// Forgets every flag.
  void clear_flags() noexcept;
  /// Drops `state` from the pending, deleted and flagged lists (expunge()).
  void forget(InstanceState& state) noexcept;
  /// Drops `state` from the deleted list (a deleted object that stays after all).
  void forget_deleted(const InstanceState& state) noexcept;
  /// Empties every list (the session closes).
  void clear() noexcept;
  /// Leaves the objects of the lists that point at `session`, which is closing: pending ones
  /// become transient, those a flush of the transaction deleted detached.
  void detach(const SessionCore* session) noexcept;

  /// After COMMIT: the transaction's inserts are settled, its deleted objects leave `session`
  /// detached (their rows are gone for good).
  void committed() noexcept;
  /// The transaction is over: its savepoints end with it.
  void transaction_ended() noexcept {
    savepoints_.clear();
    savepoint_updates_.clear();
  }
  /// Undoes the object states of what the transaction did since its lists stood at
  /// `inserted_from` and `deleted_from` (0, 0: the whole transaction), and drops every change
  /// not yet flushed; objects are taken out of `maps`, the identity maps of `session`.
  void undo(SessionCore* session, IdentityMaps& maps, std::size_t inserted_from,
            std::size_t deleted_from);

  /// The id the next savepoint gets.
  std::uint32_t next_savepoint_id() const noexcept { return savepoint_counter_ + 1; }
  /// Records a savepoint begun now; returns its id.
  std::uint32_t savepoint_begun();
  /// True while savepoint `id` is open.
  bool savepoint_active(std::uint32_t id) const noexcept;
  /// Ends `id` and the savepoints inside it; what they did belongs to the enclosing one.
  void savepoint_released(std::uint32_t id) noexcept;
  /// Ends `id` and the savepoints inside it for a rollback to `id`; where the lists stood when
  /// it began, or nothing when `id` is not open.
  std::optional<SavepointMark> savepoint_ended(std::uint32_t id) noexcept;
  /// True while a savepoint is open.
  bool in_savepoint() const noexcept { return !savepoints_.empty(); }
  /// Called by a flush inside a savepoint for each object it UPDATEd, before the snapshot is
  /// retaken: keeps the values the UPDATE overwrote, for a rollback to the savepoint.
  void note_savepoint_update(InstanceState& state);
  /// Puts back the values UPDATEs noted since `mark` overwrote, on the objects still in
  /// `session` (latest first, so that the earliest values win), clean against those values.
  void undo_savepoint_updates(const SessionCore* session, const SavepointMark& mark);

private:
  // An object UPDATEd by a flush inside a savepoint, with every column's value before.
  struct SavepointUpdate {
    Entry entry;
    std::vector<Value> before;
  };

  EntryList pending_;
  EntryList deleted_;
  EntryList inserted_;
  EntryList deleted_in_tx_;
  std::vector<AssociationChange> associations_;
  std::vector<Orphan> orphans_;
  // Objects passed to modified() (or changed through a relationship member, or by the flush
  // itself) since the last flush, when autodetect_changes is off; the flush compares only
  // these with their snapshots.
  EntryList modified_;
  std::vector<SavepointMark> savepoints_;
  std::vector<SavepointUpdate> savepoint_updates_;
  std::uint32_t savepoint_counter_ = 0;
};

} // namespace detail
} // namespace retort
