// The states of objects the application made itself (std::make_shared<T>(), then add(ptr) or a
// collection's push_back): their control block has no room for one, so it lives here, beside
// them, for as long as they do. A state must outlive every session the object passes through
// (a detached object is still the row it was), so it cannot belong to one session.
#pragma once

#include <retort/core/export.hpp>
#include <retort/orm/instance_state.hpp>

#include <memory>

namespace retort {
class MapperBase;
} // namespace retort

namespace retort::detail {

/// The recorded state of an application-made `object`, or nullptr when none was made yet.
RETORT_API InstanceState* application_state(const std::shared_ptr<void>& object) noexcept;
/// The state of an application-made `object`, made (transient) on first sight.
RETORT_API InstanceState& application_state_for(const MapperBase& mapper,
                                                const std::shared_ptr<void>& object);

} // namespace retort::detail
