// Change tracking: the books of what a session changed, what its transaction did and what its
// savepoints can undo (see change_tracker.hpp). The session decides; this keeps the lists.
#include <retort/orm/detail/change_tracker.hpp>
#include <retort/orm/mapper.hpp>

#include <algorithm>

namespace retort::detail {

namespace {

// Drops `state`'s entry from `list`.
void drop(ChangeTracker::EntryList& list, const InstanceState& state) noexcept {
  list.erase(std::remove_if(list.begin(), list.end(),
                            [&](const ChangeTracker::Entry& e) { return e.state == &state; }),
             list.end());
}

} // namespace

void ChangeTracker::clear_flags() noexcept {
  for (auto& entry : modified_)
    entry.state->flagged_modified = false;
  modified_.clear();
}

void ChangeTracker::forget(InstanceState& state) noexcept {
  drop(pending_, state);
  drop(deleted_, state);
  if (state.flagged_modified) drop(modified_, state);
  state.flagged_modified = false;
}

void ChangeTracker::forget_deleted(const InstanceState& state) noexcept { drop(deleted_, state); }

void ChangeTracker::clear() noexcept {
  pending_.clear();
  deleted_.clear();
  inserted_.clear();
  deleted_in_tx_.clear();
  associations_.clear();
  orphans_.clear();
  clear_flags();
}

void ChangeTracker::detach(const SessionCore* session) noexcept {
  for (auto& entry : pending_) {
    entry.state->session = nullptr;
    entry.state->status = ObjectState::transient;
  }
  // Deleted by a flush of the transaction just rolled back: the row is there again, but the
  // session is going (their states outlive it and must not point at it).
  for (auto& entry : deleted_in_tx_) {
    if (entry.state->session != session) continue;
    entry.state->session = nullptr;
    entry.state->status = ObjectState::detached;
  }
}

void ChangeTracker::committed() noexcept {
  inserted_.clear();
  // Deleted rows are gone for good once committed: their objects leave the session detached.
  for (auto& entry : deleted_in_tx_) {
    entry.state->session = nullptr;
    entry.state->status = ObjectState::detached;
  }
  deleted_in_tx_.clear();
}

void ChangeTracker::undo(SessionCore* session, IdentityMaps& maps, std::size_t inserted_from,
                         std::size_t deleted_from) {
  // Objects inserted since no longer exist in the database: back to transient (SQLAlchemy
  // expunges them), with their generated keys undone.
  for (std::size_t i = inserted_from; i < inserted_.size(); ++i) {
    InstanceState& state = *inserted_[i].state;
    if (state.session != session) continue;
    maps[state.mapper].erase(state.identity);
    if (auto column = state.mapper->autoincrement_column())
      state.mapper->reset_column(state.object, *column);
    state.identity.clear();
    state.session = nullptr;
    state.status = ObjectState::transient;
    state.has_snapshot = false;
  }
  inserted_.erase(inserted_.begin() + std::ptrdiff_t(inserted_from), inserted_.end());
  // Objects deleted since exist again, unless they were inserted since too: then their INSERT
  // is undone as well, and the loop above made them transient (SQLAlchemy: "if those objects
  // were first pending within the transaction, that operation takes precedence").
  for (std::size_t i = deleted_from; i < deleted_in_tx_.size(); ++i) {
    Entry& entry = deleted_in_tx_[i];
    InstanceState& state = *entry.state;
    if (state.session != session) continue;
    maps[state.mapper].try_emplace(entry);
    state.status = ObjectState::persistent;
    state.session = session;
  }
  deleted_in_tx_.erase(deleted_in_tx_.begin() + std::ptrdiff_t(deleted_from), deleted_in_tx_.end());
  for (auto& entry : deleted_)
    entry.state->status = ObjectState::persistent;
  deleted_.clear();
  // Pending objects never reached the database: they leave the session as transient.
  for (auto& entry : pending_) {
    entry.state->session = nullptr;
    entry.state->status = ObjectState::transient;
  }
  pending_.clear();
  associations_.clear();
  orphans_.clear();
  clear_flags();
}

std::uint32_t ChangeTracker::savepoint_begun() {
  savepoints_.push_back(
      {++savepoint_counter_, inserted_.size(), deleted_in_tx_.size(), savepoint_updates_.size()});
  return savepoint_counter_;
}

bool ChangeTracker::savepoint_active(std::uint32_t id) const noexcept {
  return std::any_of(savepoints_.begin(), savepoints_.end(),
                     [id](const SavepointMark& m) { return m.id == id; });
}

void ChangeTracker::savepoint_released(std::uint32_t id) noexcept {
  std::erase_if(savepoints_, [id](const SavepointMark& m) { return m.id >= id; });
  // The enclosing savepoint, if any, may still undo them.
  if (savepoints_.empty()) savepoint_updates_.clear();
}

std::optional<ChangeTracker::SavepointMark>
ChangeTracker::savepoint_ended(std::uint32_t id) noexcept {
  auto mark = std::find_if(savepoints_.begin(), savepoints_.end(),
                           [id](const SavepointMark& m) { return m.id == id; });
  if (mark == savepoints_.end()) return std::nullopt;
  const SavepointMark at = *mark;
  savepoints_.erase(mark, savepoints_.end());
  return at;
}

void ChangeTracker::note_savepoint_update(InstanceState& state) {
  const MapperBase& mapper = *state.mapper;
  const std::size_t n = mapper.columns().size();
  // The snapshot still holds the values before the UPDATE: read them through the object.
  std::vector<Value> now;
  std::vector<Value> before;
  now.reserve(n);
  before.reserve(n);
  for (std::size_t i = 0; i < n; ++i)
    now.push_back(mapper.column_value(state.object, i));
  mapper.restore_snapshot(state);
  for (std::size_t i = 0; i < n; ++i) {
    before.push_back(mapper.column_value(state.object, i));
    mapper.set_column_value(state.object, i, now[i]);
  }
  savepoint_updates_.push_back({Entry{state.self.lock(), &state}, std::move(before)});
}

void ChangeTracker::undo_savepoint_updates(const SessionCore* session, const SavepointMark& mark) {
  for (std::size_t i = savepoint_updates_.size(); i-- > mark.updates;) {
    InstanceState& state = *savepoint_updates_[i].entry.state;
    if (state.session != session) continue; // inserted since: transient now, its key undone
    const auto& before = savepoint_updates_[i].before;
    for (std::size_t c = 0; c < before.size(); ++c)
      state.mapper->set_column_value(state.object, c, before[c]);
    state.mapper->take_snapshot(state);
  }
  savepoint_updates_.erase(savepoint_updates_.begin() + std::ptrdiff_t(mark.updates),
                           savepoint_updates_.end());
}

} // namespace retort::detail
