// Pending orphans: new objects that lose their parent before they are inserted, from a collection
// a session watches or from one no session has seen yet (SQLAlchemy's "orphaned outside of
// session" mark, which add() and the object's next collection clear).
#include "pending_orphans.hpp"
#include "session_access.hpp"

#include <retort/orm/relationship.hpp>

#include <algorithm>
#include <atomic>
#include <utility>
#include <vector>

namespace retort::detail {

namespace {

// Set once a child has been taken out of a collection no session watched: until then, putting
// objects into such collections (building a graph before add()) looks nothing up.
std::atomic<bool> any_orphaned_outside{false};

} // namespace

void SessionCore::orphaned_outside(const MapperBase& child_mapper,
                                   const std::shared_ptr<void>& child) {
  any_orphaned_outside.store(true, std::memory_order_relaxed);
  // Every delete-orphan collection of the child's class: the flush's orphan check expunges it
  // if one of them holds it nowhere (a pending child is never given a foreign key it lacks).
  for (const MapperBase* parent : registered_mappers()) {
    const auto& relationships = parent->relationships();
    for (std::size_t i = 0; i < relationships.size(); ++i) {
      const RelationshipInfo& rel = relationships[i];
      if (rel.kind != RelationshipKind::many_to_one && (rel.cascade & cascade_delete_orphan) &&
          &rel.target_mapper() == &child_mapper)
        changes_.orphans().push_back({parent, i, child, Value(), true});
    }
  }
}

void SessionCore::clear_orphaned_outside(const void* child) noexcept {
  std::erase_if(changes_.orphans(), [child](const ChangeTracker::Orphan& orphan) {
    return orphan.outside && orphan.child.get() == child;
  });
}

void removed_unwatched(const MapperBase& mapper, const std::shared_ptr<void>& item) {
  InstanceState* state = mapper.state_of(item);
  // Only a session holding it pending can act on it; one that adds it later starts afresh.
  if (state == nullptr || state->session == nullptr || state->status != ObjectState::pending)
    return;
  SessionAccess(*state->session).orphaned_outside(mapper, item);
}

void added_unwatched(const MapperBase& mapper, const std::shared_ptr<void>& item) {
  if (!any_orphaned_outside.load(std::memory_order_relaxed)) return;
  InstanceState* state = mapper.state_of(item);
  if (state == nullptr || state->session == nullptr || state->status != ObjectState::pending)
    return;
  SessionAccess(*state->session).clear_orphaned_outside(item.get());
}

void expunge_pending_orphan(SessionCore& session, const MapperBase& mapper,
                            const std::shared_ptr<void>& object) {
  std::vector<std::pair<const MapperBase*, std::shared_ptr<void>>> todo{{&mapper, object}};
  while (!todo.empty()) {
    auto [current, item] = std::move(todo.back());
    todo.pop_back();
    InstanceState& state = SessionAccess::state_for(*current, item);
    // Only what is still new: a persistent child is not the orphan's to take along.
    if (state.session != &session || state.status != ObjectState::pending) continue;
    session.expunge(*current, item);
    const auto& relationships = current->relationships();
    for (const RelationshipInfo& rel : relationships) {
      if (rel.kind == RelationshipKind::many_to_one || !(rel.cascade & cascade_delete)) continue;
      for (auto& child : rel.items(state.object))
        todo.emplace_back(&rel.target_mapper(), std::move(child));
    }
  }
}

} // namespace retort::detail
