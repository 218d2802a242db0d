#include "pending_orphans.hpp"
#include "session_access.hpp"

#include <retort/orm/relationship.hpp>

#include <utility>
#include <vector>

namespace retort::detail {

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
