// One process-wide table of application-made objects' states, keyed by the object's address and
// checked against its control block (another object may come to live at a dead one's address).
// A state goes when its object has died: the table is swept of those when it has doubled since
// the last sweep (amortised O(1) per object).
#include <retort/orm/detail/application_states.hpp>
#include <retort/orm/mapper.hpp>

#include <algorithm>
#include <mutex>
#include <unordered_map>

namespace retort::detail {

namespace {

struct Store {
  std::mutex mutex;
  std::unordered_map<const void*, std::unique_ptr<InstanceState>> states;
  std::size_t sweep_at = 1024;
};

Store& store() {
  static Store instance;
  return instance;
}

// Whether `state` was made for `object` (and not for an earlier object at its address).
bool belongs_to(const InstanceState& state, const std::shared_ptr<void>& object) noexcept {
  return !state.self.owner_before(object) && !object.owner_before(state.self);
}

void sweep(Store& s) {
  std::erase_if(s.states, [](const auto& item) { return item.second->self.expired(); });
  s.sweep_at = std::max<std::size_t>(1024, 2 * s.states.size());
}

} // namespace

InstanceState* application_state(const std::shared_ptr<void>& object) noexcept {
  Store& s = store();
  std::lock_guard lock(s.mutex);
  auto found = s.states.find(object.get());
  if (found == s.states.end() || !belongs_to(*found->second, object)) return nullptr;
  return found->second.get();
}

InstanceState& application_state_for(const MapperBase& mapper,
                                     const std::shared_ptr<void>& object) {
  Store& s = store();
  std::lock_guard lock(s.mutex);
  if (s.states.size() >= s.sweep_at) sweep(s);
  auto& state = s.states[object.get()];
  if (!state || !belongs_to(*state, object)) {
    state = mapper.make_state();
    state->object = object.get();
    state->self = object;
  }
  return *state;
}

} // namespace retort::detail
