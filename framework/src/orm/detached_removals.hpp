// Removals from the collections of an object no session watches (detached, or taken out of its
// session). Internal to the ORM.
#pragma once

#include <retort/orm/instance_state.hpp>

#include <cstddef>
#include <memory>
#include <vector>

namespace retort::detail {

/// One object taken out of one of the owner's collections.
struct DetachedRemoval {
  std::size_t relationship = 0;
  std::shared_ptr<void> target;
};

/// Remembers that `target` left relationship `relationship` of `owner` while `owner` belonged
/// to no session: SQLAlchemy keeps it in the attribute's pending history, and the session the
/// owner joins next cascades it (the orphan is deleted, the foreign key cleared).
void remember_detached_removal(InstanceState& owner, std::size_t relationship,
                               const std::shared_ptr<void>& target);
/// Forgets the last removal of `target` from relationship `relationship` of `owner`: it was put
/// back while `owner` still belonged to no session, so nothing changed for it.
void cancel_detached_removal(InstanceState& owner, std::size_t relationship, const void* target);
/// Takes the removals remembered for `owner`, in the order they happened.
std::vector<DetachedRemoval> take_detached_removals(InstanceState& owner);
/// Forgets the removals of a state that goes (its destructor).
void forget_detached_removals(const InstanceState& owner) noexcept;

} // namespace retort::detail
