// Pending objects that leave the session as orphans. Internal to the ORM.
#pragma once

#include <retort/orm/detail/session_core.hpp>

#include <memory>

namespace retort::detail {

/// Takes a pending orphan (a new object dropped from its delete-orphan parent before it was
/// ever inserted) out of the session, and with it the pending objects its delete cascade
/// reaches: they came in through it, and inserting them would point their foreign keys at a
/// row that never comes (SQLAlchemy expunges them too: "all" includes the expunge cascade).
void expunge_pending_orphan(SessionCore& session, const MapperBase& mapper,
                            const std::shared_ptr<void>& object);

} // namespace retort::detail
